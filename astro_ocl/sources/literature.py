"""Literature cluster catalogues (comparison, paper Tables 1 and 3) and other context tables."""
import astropy.units as u
import numpy as np
from astropy.coordinates import SkyCoord
from astropy.table import QTable, Table

from .. import schema
from ..exceptions import InputDataError, UnknownNameError
from ..utils import data_path
from .clusters import cluster_resolver
from .files import READ_ERRORS, check_errors, check_input_file, delimited_floats, unique_rows

__all__ = ["LITERATURE", "read_literature", "read_zucker2020", "read_tidal_radii",
           "read_dwarf_colours", "DWARF_COLOURS_FILE"]

#: Pecaut & Mamajek (2013) dwarf sequence, Gaia colours (see :func:`read_dwarf_colours`).
DWARF_COLOURS_FILE = "pecaut_mamajek2013_dwarf_bprp.ecsv"


class _Lit:
    """One embedded literature catalogue.

    ``rv_data``/``feh_data`` say which spectroscopic surveys (of the package's: LAMOST,
    APOGEE, GALAH, Gaia-RVS) each value rests on, so that a validation never calls a
    comparison with the data's own source independent: a comma-separated string for
    the whole catalogue, or ``(column, {value of column: surveys}, default)`` per row.
    """

    def __init__(self, file, *, name, rv=None, e_rv=None, nrv=None, feh=None, e_feh=None,
                 nfeh=None, ra=None, dec=None, frame="icrs", reference, bibcode, vizier, kind,
                 rv_data="", feh_data="", text=()):
        self.file, self.name, self.rv, self.e_rv, self.nrv = file, name, rv, e_rv, nrv
        self.feh, self.e_feh, self.ra, self.dec, self.frame = feh, e_feh, ra, dec, frame
        self.reference, self.bibcode, self.vizier, self.kind = reference, bibcode, vizier, kind
        self.nfeh, self.rv_data, self.feh_data, self.text = nfeh, rv_data, feh_data, text


#: Literature cluster catalogues embedded for the comparison (paper Tables 1 and 3).
LITERATURE = {
    "Dias2021": _Lit("dias2021.csv.gz", name="Cluster", rv="RV", e_rv="e_RV", nrv="NRV",
                     feh="[Fe/H]", e_feh="e_[Fe/H]", ra="RA_ICRS", dec="DE_ICRS",
                     reference="Dias et al. 2021, MNRAS 504, 356", bibcode="2021MNRAS.504..356D",
                     vizier="J/MNRAS/504/356", kind="Gaia DR2 + literature RVs, isochrone [Fe/H]",
                     rv_data="Gaia-RVS"),
    "Zhong2020": _Lit("zhong2020.csv.gz", name="Cluster", rv="RV", e_rv="e_RV", nrv="o_RV",
                      feh="[Fe/H]", e_feh="e_[Fe/H]", ra="RA_ICRS", dec="DE_ICRS",
                      reference="Zhong et al. 2020, A&A 640, A127", bibcode="2020A&A...640A.127Z",
                      vizier="J/A+A/640/A127", kind="LAMOST DR5 low resolution",
                      rv_data="LAMOST", feh_data="LAMOST"),
    "Soubiran2018": _Lit("soubiran2018.csv.gz", name="ID", rv="RV", e_rv="e_RV", nrv="Nsele",
                         ra="RA_ICRS", dec="DE_ICRS",
                         reference="Soubiran et al. 2018, A&A 619, A155",
                         bibcode="2018A&A...619A.155S", vizier="J/A+A/619/A155",
                         kind="Gaia DR2 RVS", rv_data="Gaia-RVS"),
    "Hunt2023": _Lit("hunt2023.csv.gz", name="Name", rv="RV", e_rv="e_RV", nrv="n_RV",
                     ra="RA_ICRS", dec="DE_ICRS", reference="Hunt & Reffert 2023, A&A 673, A114",
                     bibcode="2023A&A...673A.114H", vizier="J/A+A/673/A114",
                     kind="Gaia DR3 RVS", rv_data="Gaia-RVS"),
    "Netopil2022": _Lit("netopil2022.csv.gz", name="Name", rv="RV", e_rv="e_RV", feh="[Fe/H]",
                        e_feh="e_[Fe/H]", ra="RA", dec="DEC",
                        reference="Netopil et al. 2022, MNRAS 509, 421",
                        bibcode="2022MNRAS.509..421N", vizier="J/MNRAS/509/421",
                        kind="high-resolution spectroscopy compilation",
                        # r_[Fe/H]: HQ/LQ (high-resolution literature, Netopil's quality
                        # classes) or "Apogee" (APOGEE DR16); r_RV: the RV's bibcode
                        # (Tarricq et al. 2021: Gaia DR2 RVS and ground-based spectra;
                        # Donor et al. 2020: OCCAM, APOGEE)
                        text=("r_[Fe/H]", "r_RV"),
                        rv_data=("r_RV", {"2021A&A...647A..19T": "Gaia-RVS",
                                          "2020AJ....159..199D": "APOGEE"}, ""),
                        feh_data=("r_[Fe/H]", {"Apogee": "APOGEE"}, "")),
    "Spina2021": _Lit("spina2021.csv.gz", name="Cluster", feh="[Fe/H]", e_feh="e_[Fe/H]",
                      nfeh="o_[Fe/H]", ra="RAJ2000", dec="DEJ2000",
                      reference="Spina et al. 2021, MNRAS 503, 3279",
                      bibcode="2021MNRAS.503.3279S", vizier="J/MNRAS/503/3279",
                      kind="GALAH DR3 and APOGEE DR16 high resolution",
                      feh_data="APOGEE,GALAH"),
    # OCCAM gives Galactic positions only; RV_ERR and FE_H_ERR are as published
    # (the scatter of the member stars, the star's own error for one-star clusters)
    "OCCAM2020": _Lit("occam_cluster_dr16.csv.gz", name="NAME", rv="RV", e_rv="RV_ERR",
                      nrv="NUM_STARS", feh="FE_H", e_feh="FE_H_ERR", ra="GLON", dec="GLAT",
                      frame="galactic", reference="Donor et al. 2020, AJ 159, 199 (OCCAM DR16)",
                      bibcode="2020AJ....159..199D", vizier="SDSS DR16 VAC occam_cluster",
                      kind="APOGEE DR16 high resolution (H band)", rv_data="APOGEE",
                      feh_data="APOGEE"),
}


def read_literature(name, *, path=None, resolver=None):
    """Read one embedded literature catalogue into the canonical literature table.

    Parameters
    ----------
    name : str
        A key of :data:`LITERATURE` (``Dias2021``, ``Zhong2020``, ``Soubiran2018``,
        ``Hunt2023``, ``Netopil2022``, ``Spina2021``, ``OCCAM2020``).
    path : str, optional
        Another copy of the same table.
    resolver : `~astro_ocl.sources.names.NameResolver`, optional
        Default: CG2020 names.

    Returns
    -------
    `~astropy.table.QTable`
        ``Cluster`` (CG2020 spelling where known), ``coord``, ``RV, e_RV`` [km/s],
        ``NRV``, ``[Fe/H], e_[Fe/H]`` [dex], ``NFeH`` (the columns the catalogue has),
        the catalogue's source columns (Netopil et al. 2022: ``r_[Fe/H]``, ``r_RV``),
        and ``RVdata``/``FeHdata``: the spectroscopic surveys each value rests on
        (comma-separated: LAMOST, APOGEE, GALAH, Gaia-RVS; empty: none of them).
    """
    try:
        spec = LITERATURE[name]
    except KeyError:
        raise UnknownNameError(f"unknown literature catalogue {name!r}; "
                               f"choose from {sorted(LITERATURE)}") from None
    path = str(path) if path is not None else str(data_path(spec.file))
    cols = unique_rows(path, spec.name)
    resolver = resolver or cluster_resolver()
    t = QTable()
    t["Cluster"], _ = resolver.resolve_many(cols[spec.name])
    if spec.ra:
        lon, lat = delimited_floats(cols, spec.ra, path), delimited_floats(cols, spec.dec, path)
        t["coord"] = SkyCoord(lon * u.deg, lat * u.deg, frame=spec.frame).icrs
    if spec.rv:
        t["RV"] = delimited_floats(cols, spec.rv, path) * schema.KMS
        t["e_RV"] = delimited_floats(cols, spec.e_rv, path) * schema.KMS
        check_errors(t["e_RV"].value, source=path, column=spec.e_rv)  # also RV_ERR
    if spec.nrv:
        t["NRV"] = delimited_floats(cols, spec.nrv, path)
    if spec.feh:
        t["[Fe/H]"] = delimited_floats(cols, spec.feh, path) * u.dex
        t["e_[Fe/H]"] = delimited_floats(cols, spec.e_feh, path) * u.dex
        check_errors(t["e_[Fe/H]"].value, source=path, column=spec.e_feh)
    if spec.nfeh:
        t["NFeH"] = delimited_floats(cols, spec.nfeh, path)
    for col in spec.text:
        if col not in cols:
            raise InputDataError(f"column {col!r} not found", source=path, column=col)
        t[col] = [_text(v) for v in cols[col]]
    for quantity, data in (("RV", spec.rv_data), ("[Fe/H]", spec.feh_data)):
        if quantity in t.colnames:
            t[f"{quantity.strip('[]').replace('/', '')}data"] = _data_sources(data, cols, path)
    schema.apply_schema(t, schema.LITERATURE)
    t.meta.update(name=name, reference=spec.reference, bibcode=spec.bibcode,
                  vizier=spec.vizier, kind=spec.kind, source=path)
    return t


def _text(value):
    """A text cell of a delimited file: stripped, "nan" (UCC's missing value) as empty."""
    value = str(value).strip()
    return "" if value.lower() == "nan" else value


def _data_sources(data, cols, path):
    """The ``RVdata``/``FeHdata`` column: the surveys each row's value rests on."""
    n = len(next(iter(cols.values())))
    if isinstance(data, str):
        return [data] * n
    column, mapping, default = data
    if column not in cols:
        raise InputDataError(f"column {column!r} not found", source=path, column=column)
    return [mapping.get(_text(v), default) for v in cols[column]]


def read_dwarf_colours(path=None):
    """The main-sequence colour-temperature sequence of Pecaut & Mamajek (2013), Gaia colours.

    Parameters
    ----------
    path : str, optional
        Another copy; default the embedded one (`DWARF_COLOURS_FILE`: spectral types
        B9V to M0V of E. Mamajek's table "A Modern Mean Dwarf Stellar Color and
        Effective Temperature Sequence", version 2019.3.22, whose A/F/G/K part is
        Table 5 of Pecaut & Mamajek 2013, ApJS 208, 9; Gaia DR2 BP-RP).

    Returns
    -------
    `~astropy.table.QTable`
        ``SpT``, ``Teff`` [K], ``bp_rp0`` [mag] (the dwarf's intrinsic colour),
        sorted by decreasing Teff.
    """
    path = str(path or data_path(DWARF_COLOURS_FILE))
    check_input_file(path)
    try:
        raw = Table.read(path, format="ascii.ecsv")
        out = QTable()
        out["SpT"] = [str(s) for s in raw["SpT"]]
        out["Teff"] = u.Quantity(raw["Teff"], u.K)
        out["bp_rp0"] = u.Quantity(raw["Bp-Rp"], u.mag)
    except (KeyError, ValueError, u.UnitsError, *READ_ERRORS) as exc:
        raise InputDataError(f"cannot read the dwarf colour sequence: {type(exc).__name__}: "
                             f"{exc}", source=path) from exc
    if not np.all(np.diff(out["Teff"].value) < 0) or not np.all(np.diff(out["bp_rp0"].value) > 0):
        raise InputDataError("the dwarf colour sequence must be monotonic (Teff decreasing, "
                             "colour increasing)", source=path)
    out.meta.update(reference="Pecaut & Mamajek 2013, ApJS 208, 9 (2013ApJS..208....9P); "
                              "E. Mamajek's dwarf sequence v2019.3.22", source=path)
    return out


def read_zucker2020(path=None):
    """Zucker et al. (2020) cloud sightlines (A&A 633, A51, table A1) as a QTable.

    Returns ``Name, GLON, GLAT, d16, d50, d84`` (distances in pc) and ``X, Y, Z``
    (heliocentric Galactic Cartesian, pc; X towards the Galactic centre).

    Parameters
    ----------
    path : str, optional
        The VizieR TSV export; default the embedded copy.
    """
    path = str(path or data_path("zucker2020_tablea1.tsv.gz"))
    check_input_file(path)
    try:
        raw = Table.read(path, format="ascii.basic", delimiter="\t", comment="#",
                         data_start=3, header_start=0, guess=False, fast_reader=False)
        columns = {k: np.asarray(raw[k], float) for k in ("GLON", "GLAT", "d16", "d50", "d84")}
    except (KeyError, ValueError, *READ_ERRORS) as exc:
        raise InputDataError(f"cannot read the Zucker et al. table: {type(exc).__name__}: "
                             f"{exc}", source=path) from exc
    out = QTable()
    out["Name"] = [str(s).strip() for s in raw["Name"]]
    out["GLON"] = columns["GLON"] * u.deg
    out["GLAT"] = columns["GLAT"] * u.deg
    for k in ("d16", "d50", "d84"):
        out[k] = columns[k] * u.pc
    lon, lat, d = out["GLON"], out["GLAT"], out["d50"]
    out["X"] = d * np.cos(lat) * np.cos(lon)
    out["Y"] = d * np.cos(lat) * np.sin(lon)
    out["Z"] = d * np.sin(lat)
    out.meta["reference"] = "Zucker C. et al. 2020, A&A 633, A51 (2020A&A...633A..51Z)"
    return out


def read_tidal_radii(path=None):
    """Tidal radii of Hunt & Reffert (2023, A&A 673, A114) with every name of each cluster.

    Parameters
    ----------
    path : str, optional
        Another copy of their table (CSV with ``Name``, ``AllNames``, ``rt`` in
        degrees); default the embedded one.

    Returns
    -------
    `~astropy.table.QTable`
        ``Name``, ``AllNames`` (comma-separated other names), ``r_t`` (deg).
    """
    import gzip
    path = str(path or data_path("hunt2023.csv.gz"))
    check_input_file(path)
    opener = gzip.open if path.endswith(".gz") else open
    try:
        with opener(path, "rt", encoding="utf-8") as fd:
            hunt = Table.read(fd.read(), format="ascii.csv",
                              include_names=["Name", "AllNames", "rt"], guess=False)
        hunt["Name"], hunt["AllNames"], hunt["rt"]
    except (KeyError, ValueError, *READ_ERRORS) as exc:
        raise InputDataError(f"cannot read the Hunt & Reffert table: {type(exc).__name__}: "
                             f"{exc}", source=path) from exc
    out = QTable()
    out["Name"] = [str(n) for n in hunt["Name"]]
    out["AllNames"] = [str(n) for n in hunt["AllNames"]]
    out["r_t"] = np.asarray(hunt["rt"], float) * u.deg
    out["r_t"].info.description = "Tidal radius (Hunt & Reffert 2023, A&A 673, A114)"
    out.meta.update(reference="Hunt & Reffert 2023, A&A 673, A114", source=path)
    return out
