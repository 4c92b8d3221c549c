"""Fixtures of the orbit and gradient tests."""
import warnings

import astropy.units as u
import pytest
from astropy.coordinates import SkyCoord


@pytest.fixture(scope="session")
def mcmillan17():
    """galpy's McMillan17 (about 10 s to build, so once per session)."""
    from astro_ocl.steps.dynamics import mcmillan17
    return mcmillan17()


@pytest.fixture(scope="session")
def cg2020():
    from astro_ocl.sources.clusters import read_cg2020_clusters
    return read_cg2020_clusters()


@pytest.fixture(scope="session")
def berkeley29(cg2020):
    """Berkeley 29 with the paper's inputs: CG2020 astrometry and RV = 20.14 km/s."""
    r = cg2020.loc["Berkeley_29"]
    return SkyCoord(ra=[r["coord"].ra.deg] * u.deg, dec=[r["coord"].dec.deg] * u.deg,
                    distance=[r["Dist"].to_value(u.pc)] * u.pc,
                    pm_ra_cosdec=[r["pmRA"].value] * u.mas / u.yr,
                    pm_dec=[r["pmDE"].value] * u.mas / u.yr,
                    radial_velocity=[20.14] * u.km / u.s)


@pytest.fixture
def scf_quiet():
    """Silence only numpy's "'where' used without 'out'" from galpy's SCFPotential.

    galpy's McMillan17 (an SCF + DiskSCF potential) calls numpy.divide(where=...)
    without out=; numpy >= 2.3 warns, the values are right (galpy fills the rest).
    """
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message="'where' used without 'out'",
                                category=UserWarning)
        yield
