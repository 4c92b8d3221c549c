"""Helpers the test modules share (test modules never import each other)."""
import ast
from pathlib import Path

import astropy.units as u
import numpy as np
from astropy.coordinates import SkyCoord
from astropy.table import QTable, Table
from astropy.time import Time

import astro_ocl

#: The installed package's folder.
PACKAGE_ROOT = Path(astro_ocl.__file__).parent

#: A place near NGC 2682 (a CG2020 cluster: its parameters are known).
RA0, DE0 = 132.85, 11.81


def members_near_ngc2682(offsets_arcsec, *, pm_dec=0.0):
    """Members of NGC_2682 at RA0 + offsets (arcsec) with a proper motion in Dec."""
    t = QTable()
    n = len(offsets_arcsec)
    t["Cluster"] = ["NGC_2682"] * n
    t["source_id"] = np.arange(101, 101 + n, dtype=np.int64)
    t["coord"] = SkyCoord(ra=(RA0 + np.asarray(offsets_arcsec) / 3600) * u.deg,
                          dec=np.full(n, DE0) * u.deg, pm_ra_cosdec=np.zeros(n) * u.mas / u.yr,
                          pm_dec=np.full(n, pm_dec) * u.mas / u.yr,
                          obstime=Time(2015.5, format="jyear"))
    t["proba"] = np.ones(n)
    return t


def lamost_csv(path, ra, dec, *, source_id=None):
    """A LAMOST-like CSV (no units, LAMOST site column names)."""
    n = len(ra)
    t = Table({"ra": ra, "dec": dec, "rv": 30.0 + np.arange(n), "rv_err": np.full(n, 1.0),
               "teff": np.full(n, 5600.0), "logg": np.full(n, 4.2), "feh": np.zeros(n),
               "feh_err": np.full(n, 0.05), "snrg": np.full(n, 50.0)})
    if source_id is not None:
        t["gaia_source_id"] = source_id
    t.write(path, format="ascii.csv")
    return path


def package_imports(path):
    """The astro_ocl modules a file of the package imports (relative imports resolved)."""
    tree = ast.parse(path.read_text())
    parts = list(path.with_suffix("").relative_to(PACKAGE_ROOT.parent).parts)
    package = parts if parts[-1] == "__init__" else parts[:-1]
    package = [p for p in package if p != "__init__"]
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom):
            base = package[:len(package) - node.level + 1] if node.level else []
            mod = ".".join(base + ([node.module] if node.module else []))
            found |= {mod} | {f"{mod}.{a.name}" for a in node.names}
        elif isinstance(node, ast.Import):
            found |= {a.name for a in node.names}
    return {m for m in found if m.startswith("astro_ocl")}


def one_line_error(capsys, rc, expected_rc=None):
    """The one line a command printed on standard error (no traceback); checks ``rc``."""
    err = capsys.readouterr().err
    assert rc != 0 if expected_rc is None else rc == expected_rc
    lines = [x for x in err.splitlines() if x.strip()]
    assert len(lines) == 1, err
    assert "Traceback" not in err
    return lines[0]
