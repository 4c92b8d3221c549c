"""Readers: raw published tables -> canonical `~astropy.table.QTable` objects.

Every reader takes an optional path (default: the table embedded in
``astro_ocl/data``), returns a `~astropy.table.QTable` with units and a
`~astropy.coordinates.SkyCoord` column ``coord`` where positions exist, names
columns as in :mod:`astro_ocl.schema`, and raises
`~astro_ocl.exceptions.InputDataError` naming file, column, row and value for
bad input.
"""
import csv
import gzip

import warnings
from functools import lru_cache
from pathlib import Path

import astropy.units as u
import numpy as np
from astropy.coordinates import SkyCoord
from astropy.table import QTable, Table

from ..exceptions import InputDataError, MissingColumnError
from ..utils import data_path
from .. import schema
from .names import NameResolver

__all__ = ["read_lamost", "read_cg_members", "read_cg2020_clusters", "read_literature",
           "LITERATURE", "cluster_resolver", "read_table_file", "to_float", "read_fu2022",
           "FU2022_COLUMNS", "FU2022_MEANINGS"]

# Known spellings of each canonical per-star column (LAMOST site FITS/CSV, VizieR
# V/164 and V/156, our embedded sample, Gaia/CG member tables).
STAR_ALIASES = {
    "source_id": ["source_id", "dr2_source_id", "gaia_source_id", "GaiaDR2", "Gaia",
                  "gaia_dr2_source_id", "Source", "SOURCE_ID"],
    "dr3_source_id": ["dr3_source_id", "GaiaDR3", "gaia_dr3_source_id"],
    "obsid": ["obsid", "ObsID", "OBSID"],
    "Cluster": ["Cluster", "cluster"],
    "ra": ["ra", "ra2000", "RAJ2000", "RA_ICRS", "RAdeg", "ra_obs", "RA"],
    "dec": ["dec", "dec2000", "DEJ2000", "DE_ICRS", "DEdeg", "dec_obs", "DEC", "Dec"],
    "parallax": ["parallax", "plx", "Plx"],
    "e_parallax": ["parallax_error", "e_parallax", "e_plx", "e_Plx"],
    "gmag": ["gmag", "phot_g_mean_mag", "Gmag"],
    "bpmag": ["bpmag", "phot_bp_mean_mag", "BPmag"],
    "rpmag": ["rpmag", "phot_rp_mean_mag", "RPmag"],
    "rv": ["rv", "RV", "HRV", "rv_lasp"],
    "e_rv": ["rv_err", "e_rv", "e_RV", "e_HRV", "rv_lasp_err"],
    "teff": ["teff", "Teff", "teff_lasp"],
    "e_teff": ["teff_err", "e_teff", "e_Teff", "teff_lasp_err"],
    "logg": ["logg", "log(g)", "logg_lasp"],
    "e_logg": ["logg_err", "e_logg", "e_log(g)", "logg_lasp_err"],
    "feh": ["feh", "[Fe/H]", "FeH", "feh_lasp"],
    "e_feh": ["feh_err", "e_feh", "e_[Fe/H]", "e_FeH", "feh_lasp_err"],
    "snrg": ["snrg", "SNRg", "snr_g"],
    "nobs": ["nobs"],
}
REQUIRED_STAR = ["rv", "e_rv", "teff", "logg", "feh"]
ERROR_COLUMNS = {"e_rv", "e_teff", "e_logg", "e_feh", "e_parallax"}


def read_table_file(path, *, format=None):
    """Read any table file astropy can read (FITS, ECSV, CSV, VOTable), errors named.

    Parameters
    ----------
    path : str or `~pathlib.Path`
        The file.
    format : str, optional
        astropy format name; guessed from the extension by default.
    """
    path = Path(path)
    if not path.exists():
        raise InputDataError("input file does not exist", source=str(path))
    if format is None:
        name = path.name.lower().removesuffix(".gz")
        format = {".ecsv": "ascii.ecsv", ".csv": "ascii.csv", ".fits": "fits",
                  ".fit": "fits", ".vot": "votable", ".xml": "votable"}.get(
                      Path(name).suffix, None)
    try:
        with warnings.catch_warnings():
            # unit strings astropy does not know are handled column by column below
            warnings.simplefilter("ignore", u.UnitsWarning)
            return Table.read(path, format=format) if format else Table.read(path)
    except Exception as exc:
        raise InputDataError(f"cannot read table: {type(exc).__name__}: {exc}",
                             source=str(path)) from exc


def _find(table, aliases):
    for a in aliases:
        if a in table.colnames:
            return a
    lower = {c.lower(): c for c in table.colnames}
    for a in aliases:
        if a.lower() in lower:
            return lower[a.lower()]
    return None


def to_float(col, *, source=None, column=None):
    """Convert a column to a float ndarray (masked -> NaN), naming any bad value.

    Parameters
    ----------
    col : array-like
        Column values (numbers, strings, masked).
    source, column : str, optional
        File and column name for the error message.
    """
    data = getattr(col, "value", col) if isinstance(col, u.Quantity) else col
    if isinstance(data, np.ma.MaskedArray) or hasattr(data, "mask"):
        mask = np.ma.getmaskarray(data)
        data = np.ma.getdata(data)
    else:
        mask = np.zeros(len(data), bool)
    try:
        out = np.asarray(data, dtype=float)
    except (TypeError, ValueError):
        out = np.empty(len(data))
        for i, v in enumerate(data):
            if mask[i]:
                out[i] = np.nan
                continue
            s = v.decode() if isinstance(v, bytes) else str(v)
            s = s.strip()
            if s in ("", "--", "nan", "NaN", "null", "NULL"):
                out[i] = np.nan
                continue
            try:
                out[i] = float(s)
            except ValueError:
                raise InputDataError("non-numeric value", source=source, column=column,
                                     row=i, value=s) from None
    out = out.copy()
    out[mask] = np.nan
    return out


def _to_int(col, *, source, column):
    data = np.ma.getdata(col)
    mask = np.ma.getmaskarray(col)
    if mask.any():
        raise InputDataError("missing identifier", source=source, column=column,
                             row=int(np.flatnonzero(mask)[0]))
    try:
        return np.asarray(data, dtype=np.int64)
    except (TypeError, ValueError):
        for i, v in enumerate(data):
            try:
                int(v)
            except (TypeError, ValueError):
                raise InputDataError("non-integer identifier", source=source, column=column,
                                     row=i, value=v) from None
        raise


def _quantity(table, name, colname, unit, *, source):
    """Column as a Quantity in ``unit``; a column unit is converted, none assumed."""
    col = table[colname]
    values = to_float(col, source=source, column=colname)
    col_unit = getattr(col, "unit", None)
    if unit is None:
        return values
    if col_unit is not None and not isinstance(col_unit, u.UnrecognizedUnit) \
            and str(col_unit) not in ("", "-"):
        try:
            return (values * col_unit).to(unit)
        except u.UnitConversionError:
            if isinstance(unit, u.FunctionUnitBase) or unit == u.dex:
                return values * unit  # log quantities: VizieR writes [-], [cm/s2]
            raise InputDataError(f"unit {col_unit} cannot be converted to {unit}",
                                 source=source, column=colname) from None
    return values * unit


def _check_errors(values, *, source, column):
    bad = np.flatnonzero(values < 0)
    if bad.size:
        i = int(bad[0])
        raise InputDataError(f"negative uncertainty ({bad.size} rows)", source=source,
                             column=column, row=i, value=float(values[i]))


def read_lamost(path=None, *, format=None, table=None):
    """Read LAMOST-like per-star parameters into the canonical star table.

    Accepts the embedded sample, a LAMOST catalogue file as the LAMOST site
    distributes it (FITS or CSV with ``rv, rv_err, teff, ..., gaia_source_id``),
    or a VizieR LAMOST table (``HRV, e_HRV, Teff, ...``): columns are found
    through :data:`STAR_ALIASES`.

    Parameters
    ----------
    path : str or `~pathlib.Path`, optional
        Input file; default the embedded sample (691 LAMOST LRS stars of 15
        clusters, see ``astro_ocl/data/manifest.json``).
    format : str, optional
        astropy format of ``path``.
    table : `~astropy.table.Table`, optional
        An in-memory table instead of a file (``path`` is then only a label).

    Returns
    -------
    `~astropy.table.QTable`
        Columns ``source_id`` (Gaia DR2, int64; absent when the input has no Gaia
        id), ``coord`` (`~astropy.coordinates.SkyCoord`, ICRS), ``rv, e_rv``
        [km/s], ``teff, e_teff`` [K], ``logg`` [dex(cm/s2)], ``e_logg``,
        ``feh, e_feh`` [dex] and whatever optional columns are present.
        Missing values are NaN.

    Raises
    ------
    InputDataError
        Unreadable file, non-numeric value, negative uncertainty.
    MissingColumnError
        A required column (rv, e_rv, teff, logg, feh or a position) is absent.
    """
    if table is None:
        path = Path(path) if path is not None else data_path("lamost_lrs_oc_members.ecsv")
        table = read_table_file(path, format=format)
    source = str(path) if path is not None else "<table>"
    out = QTable()
    found = {name: _find(table, aliases) for name, aliases in STAR_ALIASES.items()}
    missing = [n for n in REQUIRED_STAR if found[n] is None]
    if found["ra"] is None or found["dec"] is None:
        missing += ["ra", "dec"]
    if missing:
        raise MissingColumnError(
            f"required column(s) {missing} not found in {source}; known spellings: "
            + "; ".join(f"{m}: {STAR_ALIASES[m]}" for m in missing)
            + f"; columns present: {table.colnames}", source=source)
    for name in ("source_id", "dr3_source_id", "obsid"):
        if found[name] is not None:
            out[name] = _to_int(table[found[name]], source=source, column=found[name])
    if found["Cluster"] is not None:
        out["Cluster"] = [str(c).strip() for c in table[found["Cluster"]]]
    ra = _quantity(table, "ra", found["ra"], u.deg, source=source)
    dec = _quantity(table, "dec", found["dec"], u.deg, source=source)
    for name, val in (("ra", ra), ("dec", dec)):
        bad = np.flatnonzero(~np.isfinite(val))
        if bad.size:
            raise InputDataError("missing position", source=source, column=found[name],
                                 row=int(bad[0]))
    if np.any(np.abs(dec.value) > 90):
        i = int(np.flatnonzero(np.abs(dec.value) > 90)[0])
        raise InputDataError("declination outside [-90, 90] deg", source=source,
                             column=found["dec"], row=i, value=float(dec.value[i]))
    out["coord"] = SkyCoord(ra=ra, dec=dec, frame="icrs")
    for name in ("parallax", "e_parallax", "gmag", "bpmag", "rpmag", "rv", "e_rv", "teff",
                 "e_teff", "logg", "e_logg", "feh", "e_feh", "snrg", "nobs"):
        if found[name] is None:
            continue
        spec = schema.STAR_COLUMNS[name]
        q = _quantity(table, name, found[name], spec.unit, source=source)
        if name in ERROR_COLUMNS:
            _check_errors(np.asarray(getattr(q, "value", q)), source=source, column=found[name])
        out[name] = q
    schema.apply_schema(out, schema.STAR_COLUMNS)
    out.meta["source"] = source
    return out


@lru_cache(maxsize=4)
def _read_cg2020_cached(path):
    return _read_cg2020(path)


def _read_delimited(path, delimiter):
    opener = gzip.open if str(path).endswith(".gz") else open
    try:
        with opener(path, "rt", encoding="utf-8", newline="") as f:
            rows = list(csv.reader(f, delimiter=delimiter))
    except OSError as exc:
        raise InputDataError(f"cannot read file: {exc}", source=str(path)) from exc
    if not rows:
        raise InputDataError("empty file", source=str(path))
    header = [h.strip() for h in rows[0]]
    body = [r for r in rows[1:] if any(c.strip() for c in r)]
    for i, r in enumerate(body):
        if len(r) != len(header):
            raise InputDataError(f"row has {len(r)} fields, header has {len(header)}",
                                 source=str(path), row=i)
    cols = {h: [r[j].strip() for r in body] for j, h in enumerate(header)}
    return cols


def _floats(cols, name, path):
    if name not in cols:
        raise MissingColumnError(f"column {name!r} not found in {path}", source=str(path),
                                 column=name)
    return to_float(np.array(cols[name], dtype=object), source=str(path), column=name)


# (our name, VizieR label, unit) of CG2020 table1 columns, in output order
_CG2020_COLUMNS = (
    ("GLON", "GLON", u.deg), ("GLAT", "GLAT", u.deg), ("r50", "r50", u.deg),
    ("nbstars07", "nbstars07", int), ("plx", "plx", u.mas), ("e_plx", "e_plx", u.mas),
    ("pmRA", "pmRA*", schema.MASYR), ("e_pmRA", "e_pmRA*", schema.MASYR),
    ("pmDE", "pmDE", schema.MASYR), ("e_pmDE", "e_pmDE", schema.MASYR),
    ("Dist", "DistPc", u.pc), ("AgeNN", "AgeNN", None), ("AVNN", "AVNN", u.mag),
    ("DMNN", "DMNN", u.mag), ("X", "X", u.pc), ("Y", "Y", u.pc), ("Z", "Z", u.pc),
    ("Rgc", "Rgc", u.pc),
)


def _read_cg2020(path):
    cols = _read_delimited(path, "|")
    t = QTable()
    t["Cluster"] = cols["Cluster"]
    t["coord"] = SkyCoord(ra=_floats(cols, "RA_ICRS", path) * u.deg,
                          dec=_floats(cols, "DE_ICRS", path) * u.deg, frame="icrs")
    for name, vizier_name, unit in _CG2020_COLUMNS:
        values = _floats(cols, vizier_name, path)
        t[name] = values.astype(int) if unit is int else (
            values if unit is None else values * unit)
    t["nbstars07"].info.description = "Number of members with probability >= 0.7, CG2020"
    t["AVNN"].info.description = "Extinction A_V (neural network), CG2020"
    t["DMNN"].info.description = "Distance modulus (neural network), CG2020"
    for c in ("X", "Y", "Z"):
        t[c].info.description = f"Heliocentric Galactic {c}, CG2020"
    t["Rgc"].info.description = "Galactocentric radius (R0 = 8340 pc), CG2020"
    schema.apply_schema(t, schema.CLUSTER_COLUMNS)
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


MEMBER_ALIASES = {
    "Cluster": ["Cluster", "cluster"],
    "source_id": ["Source", "source_id", "GaiaDR2", "dr2_source_id"],
    "ra": ["ra", "RA_ICRS", "RAdeg"],
    "dec": ["dec", "DE_ICRS", "DEdeg"],
    "pmra": ["pmra", "pmRA", "pmRA*"],
    "pmdec": ["pmdec", "pmDE"],
    "parallax": ["parallax", "plx", "Plx"],
    "gmag": ["phot_g_mean_mag", "Gmag", "gmag"],
    "proba": ["PMemb", "proba", "Proba", "PMem"],
}


def read_cg_members(path=None, *, format=None, table=None, resolver=None):
    """Read Cantat-Gaudin cluster members (CG2018 members / CG2020 nodup layout).

    Parameters
    ----------
    path : str or `~pathlib.Path`, optional
        Member file; default the embedded CG2018 subset (19 clusters, 13 504 stars
        with PMemb >= 0.5).
    format : str, optional
        astropy format of ``path``.
    table : `~astropy.table.Table`, optional
        In-memory table instead of a file.
    resolver : `~astro_ocl.sources.names.NameResolver`, optional
        Name resolver (default: CG2020 names).

    Returns
    -------
    `~astropy.table.QTable`
        ``Cluster`` (CG2020 spelling), ``source_id`` (Gaia DR2), ``coord``
        (ICRS with proper motions, Gaia epoch J2015.5), ``parallax, gmag,
        proba``.
    """
    if table is None:
        path = Path(path) if path is not None else data_path("cg2018_members_subset.ecsv.gz")
        table = read_table_file(path, format=format)
    source = str(path) if path is not None else "<table>"
    found = {k: _find(table, v) for k, v in MEMBER_ALIASES.items()}
    missing = [k for k in ("Cluster", "source_id", "ra", "dec", "proba") if found[k] is None]
    if missing:
        raise MissingColumnError(
            f"required member column(s) {missing} not found in {source}; known spellings: "
            + "; ".join(f"{m}: {MEMBER_ALIASES[m]}" for m in missing), source=source)
    resolver = resolver or cluster_resolver()
    t = QTable()
    names, n_unknown = resolver.resolve_many([str(c).strip() for c in table[found["Cluster"]]])
    t["Cluster"] = names
    t["source_id"] = _to_int(table[found["source_id"]], source=source, column=found["source_id"])
    ra = _quantity(table, "ra", found["ra"], u.deg, source=source)
    dec = _quantity(table, "dec", found["dec"], u.deg, source=source)
    kw = {}
    if found["pmra"] is not None and found["pmdec"] is not None:
        pmra = _quantity(table, "pmra", found["pmra"], schema.MASYR, source=source)
        pmdec = _quantity(table, "pmdec", found["pmdec"], schema.MASYR, source=source)
        kw = dict(pm_ra_cosdec=np.nan_to_num(pmra), pm_dec=np.nan_to_num(pmdec))
    from astropy.time import Time
    t["coord"] = SkyCoord(ra=ra, dec=dec, frame="icrs", obstime=Time(2015.5, format="jyear"),
                          **kw)
    if found["parallax"] is not None:
        t["parallax"] = _quantity(table, "parallax", found["parallax"], u.mas, source=source)
    if found["gmag"] is not None:
        t["gmag"] = _quantity(table, "gmag", found["gmag"], u.mag, source=source)
    proba = to_float(table[found["proba"]], source=source, column=found["proba"])
    bad = np.flatnonzero((proba < 0) | (proba > 1))
    if bad.size:
        raise InputDataError("membership probability outside [0, 1]", source=source,
                             column=found["proba"], row=int(bad[0]), value=float(proba[bad[0]]))
    t["proba"] = proba
    t["proba"].info.description = "Membership probability"
    t.meta["source"] = source
    t.meta["n_unknown_clusters"] = n_unknown
    return t


# --- literature ---------------------------------------------------------------------

class _Lit:
    def __init__(self, file, *, name, rv=None, e_rv=None, nrv=None, feh=None, e_feh=None,
                 ra=None, dec=None, reference, bibcode, vizier, kind):
        self.file, self.name, self.rv, self.e_rv, self.nrv = file, name, rv, e_rv, nrv
        self.feh, self.e_feh, self.ra, self.dec = feh, e_feh, ra, dec
        self.reference, self.bibcode, self.vizier, self.kind = reference, bibcode, vizier, kind


#: Literature cluster catalogues embedded for the comparison (paper Tables 1 and 3).
LITERATURE = {
    "Dias2021": _Lit("dias2021.csv.gz", name="Cluster", rv="RV", e_rv="e_RV", nrv="NRV",
                     feh="[Fe/H]", e_feh="e_[Fe/H]", ra="RA_ICRS", dec="DE_ICRS",
                     reference="Dias et al. 2021, MNRAS 504, 356", bibcode="2021MNRAS.504..356D",
                     vizier="J/MNRAS/504/356", kind="Gaia DR2 + literature RVs, isochrone [Fe/H]"),
    "Zhong2020": _Lit("zhong2020.csv.gz", name="Cluster", rv="RV", e_rv="e_RV", nrv="o_RV",
                      feh="[Fe/H]", e_feh="e_[Fe/H]", ra="RA_ICRS", dec="DE_ICRS",
                      reference="Zhong et al. 2020, A&A 640, A127", bibcode="2020A&A...640A.127Z",
                      vizier="J/A+A/640/A127", kind="LAMOST DR5 low resolution"),
    "Soubiran2018": _Lit("soubiran2018.csv.gz", name="ID", rv="RV", e_rv="e_RV", nrv="Nsele",
                         ra="RA_ICRS", dec="DE_ICRS",
                         reference="Soubiran et al. 2018, A&A 619, A155",
                         bibcode="2018A&A...619A.155S", vizier="J/A+A/619/A155",
                         kind="Gaia DR2 RVS"),
    "Hunt2023": _Lit("hunt2023.csv.gz", name="Name", rv="RV", e_rv="e_RV", nrv="n_RV",
                     ra="RA_ICRS", dec="DE_ICRS", reference="Hunt & Reffert 2023, A&A 673, A114",
                     bibcode="2023A&A...673A.114H", vizier="J/A+A/673/A114",
                     kind="Gaia DR3 RVS"),
    "Netopil2022": _Lit("netopil2022.csv.gz", name="Name", rv="RV", e_rv="e_RV", feh="[Fe/H]",
                        e_feh="e_[Fe/H]", ra="RA", dec="DEC",
                        reference="Netopil et al. 2022, MNRAS 509, 421",
                        bibcode="2022MNRAS.509..421N", vizier="J/MNRAS/509/421",
                        kind="high-resolution spectroscopy compilation"),
    "Spina2021": _Lit("spina2021.csv.gz", name="Cluster", feh="[Fe/H]", e_feh="e_[Fe/H]",
                      ra="RAJ2000", dec="DEJ2000", reference="Spina et al. 2021, MNRAS 503, 3279",
                      bibcode="2021MNRAS.503.3279S", vizier="J/MNRAS/503/3279",
                      kind="GALAH DR3 high resolution"),
}


def read_literature(name, *, path=None, resolver=None):
    """Read one embedded literature catalogue into the canonical literature table.

    Parameters
    ----------
    name : str
        A key of :data:`LITERATURE` (``Dias2021``, ``Zhong2020``, ``Soubiran2018``,
        ``Hunt2023``, ``Netopil2022``, ``Spina2021``).
    path : str, optional
        Another copy of the same table.
    resolver : `~astro_ocl.sources.names.NameResolver`, optional
        Default: CG2020 names.

    Returns
    -------
    `~astropy.table.QTable`
        ``Cluster`` (CG2020 spelling where known), ``coord``, ``RV, e_RV`` [km/s],
        ``NRV``, ``[Fe/H], e_[Fe/H]`` [dex] (the columns the catalogue has).
    """
    try:
        spec = LITERATURE[name]
    except KeyError:
        raise KeyError(f"unknown literature catalogue {name!r}; "
                       f"choose from {sorted(LITERATURE)}") from None
    path = str(path) if path is not None else str(data_path(spec.file))
    cols = _read_delimited(path, ",")
    resolver = resolver or cluster_resolver()
    t = QTable()
    t["Cluster"], _ = resolver.resolve_many(cols[spec.name])
    if spec.ra:
        ra, dec = _floats(cols, spec.ra, path), _floats(cols, spec.dec, path)
        t["coord"] = SkyCoord(ra=ra * u.deg, dec=dec * u.deg, frame="icrs")
    if spec.rv:
        t["RV"] = _floats(cols, spec.rv, path) * schema.KMS
        t["e_RV"] = _floats(cols, spec.e_rv, path) * schema.KMS
    if spec.nrv:
        t["NRV"] = _floats(cols, spec.nrv, path)
    if spec.feh:
        t["[Fe/H]"] = _floats(cols, spec.feh, path) * u.dex
        t["e_[Fe/H]"] = _floats(cols, spec.e_feh, path) * u.dex
    schema.apply_schema(t, schema.LITERATURE_COLUMNS)
    t.meta.update(name=name, reference=spec.reference, bibcode=spec.bibcode,
                  vizier=spec.vizier, kind=spec.kind, source=path)
    return t


# --- the published catalogue of Fu et al. (2022) -------------------------------------

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


@lru_cache(maxsize=2)
def _read_fu2022_cached(path):
    cols = _read_delimited(path, ",")
    if "Cluster" not in cols:
        raise MissingColumnError(f"column 'Cluster' not found in {path}", source=str(path),
                                 column="Cluster")
    t = QTable()
    t["Cluster"] = np.array(cols["Cluster"], dtype=str)
    for name, unit in FU2022_COLUMNS:
        values = _floats(cols, name, path)
        if unit is int:
            t[name] = values.astype(int)
        else:
            t[name] = values if unit is None else values * unit
    t["coord"] = SkyCoord(ra=_floats(cols, "_RA", path) * u.deg,
                          dec=_floats(cols, "_DE", path) * u.deg, frame="icrs")
    spec = {**schema.CLUSTER_COLUMNS}
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
