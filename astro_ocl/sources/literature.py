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

__all__ = ["LITERATURE", "read_literature", "read_zucker2020", "read_tidal_radii"]


class _Lit:
    def __init__(self, file, *, name, rv=None, e_rv=None, nrv=None, feh=None, e_feh=None,
                 ra=None, dec=None, frame="icrs", reference, bibcode, vizier, kind):
        self.file, self.name, self.rv, self.e_rv, self.nrv = file, name, rv, e_rv, nrv
        self.feh, self.e_feh, self.ra, self.dec, self.frame = feh, e_feh, ra, dec, frame
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
    # OCCAM gives Galactic positions only; RV_ERR and FE_H_ERR are as published
    # (the scatter of the member stars, the star's own error for one-star clusters)
    "OCCAM2020": _Lit("occam_cluster_dr16.csv.gz", name="NAME", rv="RV", e_rv="RV_ERR",
                      nrv="NUM_STARS", feh="FE_H", e_feh="FE_H_ERR", ra="GLON", dec="GLAT",
                      frame="galactic", reference="Donor et al. 2020, AJ 159, 199 (OCCAM DR16)",
                      bibcode="2020AJ....159..199D", vizier="SDSS DR16 VAC occam_cluster",
                      kind="APOGEE DR16 high resolution (H band)"),
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
        ``NRV``, ``[Fe/H], e_[Fe/H]`` [dex] (the columns the catalogue has).
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
    schema.apply_schema(t, schema.LITERATURE)
    t.meta.update(name=name, reference=spec.reference, bibcode=spec.bibcode,
                  vizier=spec.vizier, kind=spec.kind, source=path)
    return t


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
