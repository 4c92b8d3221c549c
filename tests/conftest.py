"""Shared test helpers for astro_ocl (offline by default)."""
import astropy.units as u
import numpy as np
import pytest
from astropy.table import QTable


def make_stars(n=0, *, rv=(), e_rv=(), teff=None, logg=None, feh=None, e_feh=None,
               source_id=None, ra=None, dec=None):
    """A canonical star table as `read_lamost` would return it, from plain numbers."""
    from astropy.coordinates import SkyCoord
    n = len(rv)
    t = QTable()
    t["source_id"] = np.arange(1, n + 1, dtype=np.int64) if source_id is None \
        else np.asarray(source_id, np.int64)
    t["coord"] = SkyCoord(ra=(np.full(n, 10.0) if ra is None else ra) * u.deg,
                          dec=(np.full(n, 20.0) if dec is None else dec) * u.deg)
    t["rv"] = np.asarray(rv, float) * u.km / u.s
    t["e_rv"] = np.asarray(e_rv, float) * u.km / u.s
    t["teff"] = (np.full(n, 5500.0) if teff is None else np.asarray(teff, float)) * u.K
    t["e_teff"] = np.full(n, 50.0) * u.K
    t["logg"] = (np.full(n, 2.5) if logg is None else np.asarray(logg, float)) \
        * u.dex(u.cm / u.s ** 2)
    t["e_logg"] = np.full(n, 0.1) * u.dex
    t["feh"] = (np.zeros(n) if feh is None else np.asarray(feh, float)) * u.dex
    t["e_feh"] = (np.full(n, 0.05) if e_feh is None else np.asarray(e_feh, float)) * u.dex
    t["snrg"] = np.full(n, 50.0)
    t.meta["source"] = "<test stars>"
    return t


def make_members(source_ids, clusters, proba=None):
    """A member table as `read_cg_members` would return it."""
    from astropy.coordinates import SkyCoord
    n = len(source_ids)
    t = QTable()
    t["Cluster"] = list(clusters)
    t["source_id"] = np.asarray(source_ids, np.int64)
    t["coord"] = SkyCoord(ra=np.full(n, 10.0) * u.deg, dec=np.full(n, 20.0) * u.deg)
    t["proba"] = np.ones(n) if proba is None else np.asarray(proba, float)
    t.meta["source"] = "<test members>"
    return t


@pytest.fixture
def stars_factory():
    return make_stars


@pytest.fixture
def members_factory():
    return make_members


@pytest.fixture(scope="session")
def embedded_result():
    """The offline build on the embedded LAMOST LRS sample with the paper's method (its
    survey, its Monte Carlo statistics and FLAG=1/12 selection, no survey validity
    domains beyond its own cuts), seed 1 (shared: it is read-only)."""
    import astro_ocl
    return astro_ocl.build_catalogue(surveys=["lamost_lrs"], seed=1,
                                     statistics="fu2022-montecarlo", survey_domains=False)


@pytest.fixture(scope="session")
def multi_survey_result():
    """The default offline build: every embedded survey, seed 1, with gradients.

    Its counted drops (MRS rows with the rv_err sentinel, APOGEE stars observed in two
    fields) come as DroppedRowsWarning; the tests check them in the stage log. Its
    gradient fits that one cluster carries are warned about; the tests read them in the
    gradient table (``loo_cluster``, ``loo_shift``, ``note``).
    """
    import warnings
    import astro_ocl
    from astro_ocl.exceptions import AstroOCLWarning, DroppedRowsWarning
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DroppedRowsWarning)
        warnings.filterwarnings("ignore", message="gradients: in .* one cluster moves",
                                category=AstroOCLWarning)
        return astro_ocl.build_catalogue(seed=1, gradients=True)


@pytest.fixture(scope="session")
def by_survey():
    """The matched stars of every embedded survey, as the default build matches them."""
    from helpers import match_embedded_surveys
    return match_embedded_surveys()[0]


@pytest.fixture(scope="session")
def per_survey(by_survey):
    """Each embedded survey's own likelihood cluster values (`survey_statistics`)."""
    from astro_ocl.steps.zeropoints import survey_statistics
    return survey_statistics(by_survey)
