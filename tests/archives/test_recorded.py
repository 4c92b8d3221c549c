"""The result parser on recorded real responses of the Gaia archive and VizieR."""
from pathlib import Path

import astropy.units as u
import numpy as np
import pytest
from astropy.coordinates import SkyCoord

from astro_ocl.sources.archives.tap import votable_to_qtable
from astro_ocl.exceptions import ServiceError

DATA = Path(__file__).parent / "data"


def load(name):
    return votable_to_qtable((DATA / name).read_bytes())


def test_gaia_dr3_sources():
    t = load("gaia_dr3_sources.vot")
    assert len(t) == 2
    assert set(np.asarray(t["source_id"])) == {4583627001381815936, 5348723816842275584}
    assert isinstance(t["coord"], SkyCoord)
    assert t["pmra"].unit == u.mas / u.yr
    assert t["radial_velocity"].unit == u.km / u.s
    assert t["logg_gspphot"].unit == u.dex(u.cm / u.s ** 2)   # "log(cm.s**-2)"
    assert t["mh_gspphot"].unit == u.dex                      # "'dex'"
    assert t["phot_g_mean_flux"].unit == u.electron / u.s     # "'electron'.s**-1"
    assert np.allclose(t["coord"].ra.deg, np.asarray(t["ra"].to_value(u.deg)))
    assert t.meta["query_status"] == "OK"


def test_gaia_single_source_rv():
    t = load("gaia_dr3_one_source.vot")
    assert len(t) == 1
    assert int(t["source_id"][0]) == 5929246508730155392
    assert float(t["radial_velocity"][0].to_value(u.km / u.s)) == pytest.approx(-43.57, abs=0.01)


def test_gaia_job_result():
    t = load("gaia_job_result.vot")
    assert len(t) == 3 and "source_id" in t.colnames


def test_vizier_votable():
    t = load("vizier_kang2010.xml")
    assert len(t) == 50 and len(t.colnames) == 23   # 22 columns + coord
    assert t["coord"].frame.name == "galactic"
    assert t["_Glon"].unit == u.deg
    assert any(getattr(t[c], "unit", None) == u.solMass for c in t.colnames)
    assert any(getattr(t[c], "unit", None) == u.solLum for c in t.colnames)


def test_truncated_recording_is_an_error():
    data = (DATA / "gaia_dr3_sources.vot").read_bytes()
    with pytest.raises(ServiceError, match="truncated or invalid VOTable"):
        votable_to_qtable(data[: len(data) // 2])
