"""Spectroscopic surveys: one adapter per survey into the canonical star table.

Every adapter is a pure function ``adapter(table, *, source="<table>", **options)``
of a raw table (or a chunk of one) returning the canonical star table of
`astro_ocl.schema.STARS`, one row per input row: ``rv, e_rv`` [km/s], ``teff,
e_teff`` [K], ``logg, e_logg``, ``feh, e_feh`` [dex], a signal-to-noise
(``snrg`` or ``snr``), a Gaia id (``source_id`` = DR2, ``dr3_source_id``) and/or
a position (``coord``, `~astropy.coordinates.SkyCoord` with ``obstime`` where the
survey's epoch is known), a ``survey`` column, and ``meta`` ``survey``,
``data_release``, ``epoch``, ``sentinels`` and ``flagged`` (values set to NaN,
counted). No adapter drops a row or cross-matches; the pipeline's steps do.
A Dask/LSDB engine can map ``SURVEYS[name].adapter`` over partitions.

==================  =================  ====================================================
name                ``survey`` column  reader / adapter
==================  =================  ====================================================
``lamost_lrs``      LAMOST-LRS         :func:`read_lamost` / :func:`lamost_lrs`
``lamost_mrs``      LAMOST-MRS         :func:`read_lamost_mrs` / :func:`lamost_mrs`
``apogee``          APOGEE             :func:`read_occam` / :func:`occam_dr16`
``apogee_allstar``  APOGEE             :func:`read_apogee_allstar` / :func:`apogee_allstar`
``galah``           GALAH              :func:`read_galah` / :func:`galah`
``gaia_rvs``        Gaia-RVS           :func:`read_gaia_rvs` / :func:`gaia_rvs`
==================  =================  ====================================================

:func:`read_survey` reads any of them by name (the embedded sample by default
where there is one); files of any size stream through :func:`read_survey_members`;
:func:`stack_surveys` puts several surveys' tables into one.
"""
from ...exceptions import InputDataError
from ...utils import data_path
from ..files import read_table_file
from .combine import stack_surveys  # noqa: F401
from .apogee import (APOGEE_DOMAIN, APOGEE_EPOCH, E_RV_FLOOR, apogee_allstar,  # noqa: F401
                     designation_coord, occam_dr16, read_apogee_allstar, read_occam)
from .domains import GridEdge, HotStarLimit, Rule, ValidityDomain  # noqa: F401
from .gaia_rvs import GAIA_RVS_DOMAIN, gaia_rvs, read_gaia_rvs  # noqa: F401
from .galah import GALAH_DOMAIN, galah, read_galah  # noqa: F401
from .lamost import (LRS_DOMAIN, MRS_DOMAIN, lamost_lrs, lamost_mrs, read_lamost,  # noqa: F401
                     read_lamost_mrs)
from .registry import (DOMAINS, SURVEYS, Survey, get_domain, get_survey,  # noqa: F401
                       survey_family)
from .stream import (NEAR_MARGIN, iter_chunks, iter_survey, read_lamost_members,  # noqa: F401
                     read_survey_members)

__all__ = ["Survey", "SURVEYS", "get_survey", "read_survey", "read_lamost",
           "read_lamost_mrs", "read_occam", "read_apogee_allstar", "read_galah",
           "read_gaia_rvs", "lamost_lrs", "lamost_mrs", "occam_dr16", "apogee_allstar", "galah",
           "gaia_rvs", "designation_coord", "iter_chunks", "iter_survey", "read_survey_members",
           "read_lamost_members", "NEAR_MARGIN", "APOGEE_EPOCH", "E_RV_FLOOR",
           "OCCAM_MEMBERS_FILE", "stack_surveys", "ValidityDomain", "Rule", "GridEdge",
           "HotStarLimit", "DOMAINS", "get_domain", "survey_family"]

#: Embedded CG2018 members near the OCCAM stars (read with
#: `astro_ocl.sources.read_cg_members(data_path(OCCAM_MEMBERS_FILE))`).
OCCAM_MEMBERS_FILE = "cg2018_members_occam.ecsv.gz"


def read_survey(name, path=None, *, format=None, table=None, **options):
    """Read a survey by name into the canonical star table.

    Parameters
    ----------
    name : str
        A key of `SURVEYS` (``"lamost_lrs"``, ``"lamost_mrs"``, ``"apogee"``,
        ``"apogee_allstar"``, ``"galah"``, ``"gaia_rvs"``).
    path : str or `~pathlib.Path`, optional
        Input file (read whole; stream big files with :func:`read_survey_members`);
        default the survey's embedded sample.
    format : str, optional
        astropy format of ``path``.
    table : `~astropy.table.Table`, optional
        An in-memory table instead of a file.
    **options
        Passed to the survey's adapter (e.g. ``e_rv_floor`` for ``"apogee"``).

    Returns
    -------
    `~astropy.table.QTable`

    Raises
    ------
    ParameterError
        Unknown survey.
    InputDataError
        No path for a survey without an embedded sample, or unreadable input.
    """
    s = get_survey(name)
    if table is None:
        if path is None:
            if s.embedded is None:
                raise InputDataError(f"survey {s.name!r} has no embedded sample: pass a path")
            path = data_path(s.embedded)
            if s.name.startswith("lamost") and "data_release" not in options:
                options["data_release"] = "not stated (KeyiDing/ISO_Open_Clusters sample)"
        table = read_table_file(path, format=format)
        if len(table) == 0:
            raise InputDataError("no data rows (only a header)", source=str(path))
    return s.adapter(table, source=str(path) if path is not None else "<table>", **options)
