"""Cluster catalogues: Cantat-Gaudin et al. (2020) parameters, the published Fu et al.
(2022) catalogue, and the Zhong et al. (2020) clusters used for orbits and gradients.

Every reader returns a canonical `~astropy.table.QTable` (units, ``coord``
`~astropy.coordinates.SkyCoord`, names of :mod:`astro_ocl.schema`).
"""
from functools import lru_cache
from pathlib import Path

import astropy.units as u
import numpy as np
from astropy.coordinates import SkyCoord
from astropy.table import QTable

from .. import schema
from ..exceptions import InputDataError, MissingColumnError
from ..logger import log
from ..utils import data_path
from .files import (check_errors, check_unique, delimited_floats, read_delimited,
                    read_table_file, to_float)
from .names import NameResolver

__all__ = ["read_cg2020_clusters", "cluster_resolver", "read_fu2022", "read_fu2022_table6",
           "TABLE6_COLUMNS", "TABLE6_GROUPS", "TABLE6_X",
           "read_cluster_dynamics_input", "FU2022_COLUMNS", "FU2022_MEANINGS",
           "CG2020_VIZIER_COLUMNS"]


def _stamp(path):
    """Cache key of a file: its name, size and modification time (an edited file is re-read)."""
    try:
        st = Path(path).stat()
        return (str(path), st.st_size, st.st_mtime_ns)
    except OSError:  # missing: the reader says so
        return (str(path), None, None)


@lru_cache(maxsize=4)
def _read_cg2020_stamped(key):
    return _read_cg2020(key[0])


def _read_cg2020_cached(path):
    return _read_cg2020_stamped(_stamp(path))


#: (our name, VizieR label, unit) of CG2020 table1 columns, in output order.
CG2020_VIZIER_COLUMNS = (
    ("GLON", "GLON", u.deg), ("GLAT", "GLAT", u.deg), ("r50", "r50", u.deg),
    ("nbstars07", "nbstars07", int), ("plx", "plx", u.mas), ("e_plx", "e_plx", u.mas),
    ("pmRA", "pmRA*", schema.MASYR), ("e_pmRA", "e_pmRA*", schema.MASYR),
    ("pmDE", "pmDE", schema.MASYR), ("e_pmDE", "e_pmDE", schema.MASYR),
    ("Dist", "DistPc", u.pc), ("AgeNN", "AgeNN", None), ("AVNN", "AVNN", u.mag),
    ("DMNN", "DMNN", u.mag), ("X", "X", u.pc), ("Y", "Y", u.pc), ("Z", "Z", u.pc),
    ("Rgc", "Rgc", u.pc),
)


def _read_cg2020(path):
    cols = read_delimited(path, "|")
    if "Cluster" not in cols:
        raise MissingColumnError(f"column 'Cluster' not found in {path}", source=str(path),
                                 column="Cluster")
    check_unique(cols["Cluster"], source=str(path), column="Cluster")
    t = QTable()
    t["Cluster"] = cols["Cluster"]
    t["coord"] = SkyCoord(ra=delimited_floats(cols, "RA_ICRS", path) * u.deg,
                          dec=delimited_floats(cols, "DE_ICRS", path) * u.deg, frame="icrs")
    for name, vizier_name, unit in CG2020_VIZIER_COLUMNS:
        values = delimited_floats(cols, vizier_name, path)
        t[name] = values.astype(int) if unit is int else (
            values if unit is None else values * unit)
    schema.apply_schema(t, schema.CG2020)
    t.add_index("Cluster")
    t.meta["reference"] = "Cantat-Gaudin et al. 2020, A&A 640, A1"
    t.meta["source"] = str(path)
    return t


def read_cg2020_clusters(path=None):
    """Read Cantat-Gaudin et al. (2020) table1 (cluster parameters).

    Parameters
    ----------
    path : str or `~pathlib.Path`, optional
        The pipe-separated VizieR export; default the embedded copy (2017 clusters).

    Returns
    -------
    `~astropy.table.QTable`
        ``Cluster``, ``coord`` (ICRS position only), ``GLON, GLAT, r50,
        nbstars07, plx, e_plx, pmRA, e_pmRA, pmDE, e_pmDE, Dist`` (pc), ``AgeNN``
        (log10 age/yr), ``AVNN, DMNN, X, Y, Z, Rgc``; indexed on ``Cluster``.
    """
    path = str(path) if path is not None else str(data_path("cantat_gaudin_2020_table1.tsv.gz"))
    return _read_cg2020_cached(path).copy()


def cluster_resolver(clusters=None):
    """A `~astro_ocl.sources.names.NameResolver` on the CG2020 cluster names.

    Parameters
    ----------
    clusters : `~astropy.table.Table`, optional
        A table with a ``Cluster`` column; default the embedded CG2020 table1.
    """
    if clusters is None:
        clusters = _read_cg2020_cached(str(data_path("cantat_gaudin_2020_table1.tsv.gz")))
    return NameResolver(clusters["Cluster"])


#: Columns of J/A+A/668/A4 (the cluster table) and their units, in the published order.
FU2022_COLUMNS = (
    ("Nall", int), ("Nflag1", int), ("RVmed", schema.KMS), ("e_RVmed", schema.KMS),
    ("RVmean", schema.KMS), ("e_RVmean", schema.KMS), ("s_RV", schema.KMS), ("Nflag12", int),
    ("[Fe/H]med", u.dex), ("e_[Fe/H]med", u.dex), ("[Fe/H]mean", u.dex),
    ("e_[Fe/H]mean", u.dex), ("s_[Fe/H]", u.dex),
    ("LX", schema.KPC_KMS), ("LY", schema.KPC_KMS), ("LZ", schema.KPC_KMS),
    ("ULSR", schema.KMS), ("VLSR", schema.KMS), ("WLSR", schema.KMS),
    ("ZGC", u.kpc), ("RGC", u.kpc), ("Peri", u.kpc), ("Apo", u.kpc),
    ("Energy", schema.KM2S2), ("ecc", None),
)

#: What the published labels mean where that differs from the same label in our tables.
FU2022_MEANINGS = {
    "VLSR": "Published 'VLSR': the Galactocentric Cartesian velocity v_y (LSR rotation "
            "included, ~ +230 km/s), not the velocity relative to the LSR",
    "ULSR": "Published 'ULSR': Galactocentric v_x (equal to U relative to the LSR)",
    "WLSR": "Published 'WLSR': Galactocentric v_z (equal to W relative to the LSR)",
}


def _read_fu2022_cached(path):
    return _read_fu2022_stamped(_stamp(path))


@lru_cache(maxsize=2)
def _read_fu2022_stamped(key):
    path = key[0]
    cols = read_delimited(path, ",")
    if "Cluster" not in cols:
        raise MissingColumnError(f"column 'Cluster' not found in {path}", source=str(path),
                                 column="Cluster")
    check_unique(cols["Cluster"], source=str(path), column="Cluster")
    t = QTable()
    t["Cluster"] = np.array(cols["Cluster"], dtype=str)
    for name, unit in FU2022_COLUMNS:
        values = delimited_floats(cols, name, path)
        if unit is int:
            t[name] = values.astype(int)
        else:
            t[name] = values if unit is None else values * unit
    t["coord"] = SkyCoord(ra=delimited_floats(cols, "_RA", path) * u.deg,
                          dec=delimited_floats(cols, "_DE", path) * u.deg, frame="icrs")
    spec = schema.CLUSTERS
    for name in t.colnames:
        if name in spec:
            t[name].info.description = spec[name].description + " (Fu et al. 2022, as published)"
    for name, text in FU2022_MEANINGS.items():
        t[name].info.description = text
    t["coord"].info.description = "Cluster centre (ICRS, VizieR _RA/_DE)"
    t.meta.update(reference="Fu et al. 2022, A&A 668, A4", bibcode="2022A&A...668A...4F",
                  vizier="J/A+A/668/A4", source=str(path))
    return t


def read_fu2022(path=None):
    """Read the published cluster catalogue of Fu et al. (2022), CDS J/A+A/668/A4.

    Parameters
    ----------
    path : str or `~pathlib.Path`, optional
        A CSV copy of the VizieR table (columns ``Cluster, Nall, ..., ecc, _RA,
        _DE``); default the embedded copy (386 clusters).

    Returns
    -------
    `~astropy.table.QTable`
        ``Cluster`` (the published name, unchanged), the published columns with
        units (km/s, dex, kpc, kpc km/s, km2/s2; blank values as NaN: the 78
        single-star clusters have no ``s_RV``), and ``coord`` (ICRS centre).
        Column descriptions say where a published label means something else
        than the same label in this package (``VLSR`` is the Galactocentric
        v_y). Cite Fu et al. 2022 (2022A&A...668A...4F) when you use it.

    Examples
    --------
    >>> from astro_ocl.sources import read_fu2022
    >>> fu = read_fu2022()
    >>> len(fu), fu["RVmed"].unit
    (386, Unit("km / s"))
    """
    path = str(path) if path is not None else str(data_path("fu2022_clusters.csv.gz"))
    return _read_fu2022_cached(path).copy()


def read_cluster_dynamics_input(*, path=None, cg=None):
    """Zhong et al. (2020) LAMOST clusters as input of the orbits and gradients.

    The embedded Zhong et al. (2020, A&A 640, A127) table has, per cluster, the
    LAMOST DR5 radial velocity and [Fe/H] (with the number of stars behind
    each), Gaia DR2 proper motions and a distance (``DMode``). Ages and
    parallax errors come from Cantat-Gaudin et al. (2020) table1, joined by name.

    Parameters
    ----------
    path : str, optional
        Another copy of the Zhong et al. CSV (default the embedded one).
    cg : `~astropy.table.QTable`, optional
        CG2020 table1 (default `~astro_ocl.sources.read_cg2020_clusters`).

    Returns
    -------
    `~astropy.table.QTable`
        In the layout of the catalogue's cluster table: ``Cluster, coord`` (ICRS,
        distance DMode, proper motions, radial velocity), ``e_pmRA, e_pmDE,
        e_plx`` (CG2020), ``RVmed, e_RVmed, Nflag1, [Fe/H]med, e_[Fe/H]med,
        Nflag12`` (numbers of stars behind RV and [Fe/H]), ``AgeNN`` (CG2020),
        and Zhong's own orbit values ``Rap_Z20, Rperi_Z20, EC_Z20, Zmax_Z20``.
    """
    path = str(path) if path is not None else str(data_path("zhong2020.csv.gz"))
    cols = read_delimited(path, ",")
    if "Cluster" not in cols:
        raise MissingColumnError(f"column 'Cluster' not found in {path}", source=str(path),
                                 column="Cluster")
    check_unique(cols["Cluster"], source=path, column="Cluster")
    f = lambda n: delimited_floats(cols, n, path)  # noqa: E731
    cg = read_cg2020_clusters() if cg is None else cg
    names, _ = cluster_resolver(cg).resolve_many(cols["Cluster"])
    t = QTable()
    t["Cluster"] = names
    dist = f("DMode") * u.pc
    t["coord"] = SkyCoord(ra=f("RA_ICRS") * u.deg, dec=f("DE_ICRS") * u.deg, distance=dist,
                          pm_ra_cosdec=f("pmRA*") * u.mas / u.yr, pm_dec=f("pmDE") * u.mas / u.yr,
                          radial_velocity=f("RV") * schema.KMS, frame="icrs")
    t["e_pmRA"] = f("e_pmRA*") * u.mas / u.yr
    t["e_pmDE"] = f("e_pmDE") * u.mas / u.yr
    cg_names = np.asarray(cg["Cluster"]).astype(str)
    pos = {nm: i for i, nm in enumerate(cg_names)}
    idx = np.array([pos.get(str(nm), -1) for nm in names])
    known = idx >= 0
    safe = np.where(known, idx, 0)
    e_plx = np.where(known, u.Quantity(cg["e_plx"]).to_value(u.mas)[safe], np.nan)
    t["e_plx"] = e_plx * u.mas
    t["Dist"] = dist
    t["RVmed"] = f("RV") * schema.KMS
    t["e_RVmed"] = f("e_RV") * schema.KMS
    t["Nflag1"] = f("o_RV")
    t["[Fe/H]med"] = f("[Fe/H]") * u.dex
    t["e_[Fe/H]med"] = f("e_[Fe/H]") * u.dex
    t["Nflag12"] = np.nan_to_num(f("o_[Fe/H]")).astype(int)
    t["AgeNN"] = np.where(known, np.asarray(cg["AgeNN"], float)[safe], np.nan)
    for src, dst in (("Rap", "Rap_Z20"), ("Rperi", "Rperi_Z20"), ("Zmax", "Zmax_Z20")):
        t[dst] = f(src) * u.kpc
    t["EC_Z20"] = f("EC")
    if (~known).any():
        log.info("%d Zhong et al. (2020) clusters have no CG2020 match (no age)",
                 int((~known).sum()))
    t.meta.update(source=path, reference="Zhong et al. 2020, A&A 640, A127 (LAMOST DR5); "
                  "ages and parallax errors from Cantat-Gaudin et al. 2020")
    return t


# --- paper Table 6 of Fu et al. (2022) -------------------------------------------------

#: Columns of a transcription of paper Table 6 (`read_fu2022_table6`).
TABLE6_COLUMNS = ("age_group", "x", "coefficient", "N", "paper", "paper_plus", "paper_minus")
#: Age-group labels of paper Table 6 (as `astro_ocl.steps.gradients.AGE_GROUPS`).
TABLE6_GROUPS = ("<0.1 Gyr", "0.1-0.5 Gyr", "0.5-1 Gyr", "1-2 Gyr", "2-4 Gyr", ">4 Gyr")
#: Abscissa labels of paper Table 6 (as `astro_ocl.steps.gradients.X_VARIABLES`).
TABLE6_X = ("RGC", "LZ/1e3", "E/1e5")


def read_fu2022_table6(path=None):
    """Paper Table 6 (Fu et al. 2022): the published coefficients and their errors.

    Parameters
    ----------
    path : str or `~pathlib.Path`, optional
        ECSV with columns ``age_group, x, coefficient, N, paper, paper_plus,
        paper_minus`` (one row per coefficient; labels as in
        `TABLE6_GROUPS` and `TABLE6_X`, coefficient ``a, b`` or ``c``); default
        ``astro_ocl/data/fu2022_table6.ecsv``.

    Returns
    -------
    `~astropy.table.QTable`

    Raises
    ------
    InputDataError
        No such file (the package ships none: the values of the paper's Table 6 are
        not available in machine-readable form; see the reproducibility report).
    MissingColumnError, InputDataError
        A column is missing, or a label is unknown.
    """
    path = Path(path) if path is not None else data_path("fu2022_table6.ecsv")
    if not path.exists():
        raise InputDataError("no paper Table 6 file: the input file does not exist "
                             "(transcribe the paper's Table 6 into this ECSV layout)",
                             source=str(path))
    t = read_table_file(path, format="ascii.ecsv", qtable=True)
    for col in TABLE6_COLUMNS:
        if col not in t.colnames:
            raise MissingColumnError(f"paper Table 6 needs a {col!r} column", source=str(path),
                                     column=col)
    if len(t) == 0:
        raise InputDataError("no data rows (only a header)", source=str(path))
    for col in ("N", "paper", "paper_plus", "paper_minus"):
        values = to_float(t[col], source=str(path), column=col)
        if col in ("paper_plus", "paper_minus"):
            check_errors(values, source=str(path), column=col)
        t[col] = values.astype(int) if col == "N" and np.isfinite(values).all() else values
    groups = set(TABLE6_GROUPS) | {"all"}
    xlabels = set(TABLE6_X)
    for i, r in enumerate(t):
        if (r["age_group"] not in groups or r["x"] not in xlabels
                or r["coefficient"] not in ("a", "b", "c")):
            raise InputDataError("unknown age group, abscissa or coefficient label",
                                 source=str(path), row=i,
                                 value=(r["age_group"], r["x"], r["coefficient"]))
    check_unique([f"{r['age_group']} {r['x']} {r['coefficient']}" for r in t],
                 source=str(path), column="age_group, x, coefficient")
    return t
