import subprocess
import sys

import astropy.units as u
import pytest

import astro_ocl
from astro_ocl import conf, galactic_parameters


def test_conf_items_and_set_temp():
    assert conf.gaia_tap_url.startswith("https://")
    # science defaults are keyword defaults recorded in provenance, not config
    for name in ("membership_threshold", "n_realisations", "match_radius_arcsec"):
        assert not hasattr(conf, name)
    with conf.set_temp("timeout", 5.0):
        assert conf.timeout == 5.0
    assert conf.timeout == 60.0


def test_galactic_parameters_science_state():
    p = galactic_parameters.get()
    assert p["R0"] == 8.2 * u.kpc and p["v_circ"] == 232.8 * u.km / u.s
    assert list(p["solar_motion"].value) == [11.1, 12.24, 7.25]
    with galactic_parameters.set(dict(p, R0=8.0)):
        assert galactic_parameters.get()["R0"] == 8.0 * u.kpc
    assert galactic_parameters.get()["R0"] == 8.2 * u.kpc
    with pytest.raises(ValueError, match="keys"):
        galactic_parameters.set({"R0": 8})


def test_import_makes_no_network_connection():
    code = (
        "import socket\n"
        "def refuse(*a, **k):\n"
        "    raise AssertionError('network used at import')\n"
        "socket.socket.connect = refuse\n"
        "socket.create_connection = refuse\n"
        "socket.getaddrinfo = refuse\n"
        "import astro_ocl, astro_ocl.cli, astro_ocl.pipeline\n"
        "print('ok', astro_ocl.__version__)\n")
    res = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         timeout=120)
    assert res.returncode == 0, res.stderr
    assert res.stdout.startswith("ok")


def test_version():
    assert astro_ocl.__version__ != "0.0.0+unknown"
