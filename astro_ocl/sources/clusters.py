"""Cluster catalogues: cluster parameters (Cantat-Gaudin et al. 2020, Hunt & Reffert 2023,
Dias et al. 2021), the published Fu et al. (2022) catalogue, and the Zhong et al. (2020)
clusters used for orbits and gradients.

Every reader returns a canonical `~astropy.table.QTable` (units, ``coord``
`~astropy.coordinates.SkyCoord`, names of :mod:`astro_ocl.schema`).

**Cluster parameters.** :func:`read_cluster_catalogue` (``"cg2020"``, ``"hr23"``,
``"dias2021"``) gives one layout whatever the catalogue: the columns of :func:`read_cg2020_clusters`
(``Cluster, coord, GLON, GLAT, r50, plx, e_plx, pmRA, e_pmRA, pmDE, e_pmDE,
Dist, AgeNN, AVNN, DMNN``; NaN where a catalogue has no such value) plus
``Nmemb`` (members in the catalogue's own membership), ``e_Dist``, ``Dist16``,
``Dist84``, ``e_AgeNN``, ``logAge16``, ``logAge84`` and ``Aliases`` (the
other names of the cluster). ``Cluster`` is the canonical name: the CG2020
spelling when the cluster is in CG2020 (under its name or an alias), else
the catalogue's own name with underscores (``"NGC 2682"`` -> ``NGC_2682``).
:func:`cluster_resolver` maps every spelling and alias onto it, and
:func:`join_cluster_parameters` joins the parameters to another table by name.
"""
from functools import lru_cache
from pathlib import Path

import astropy.units as u
import numpy as np
from astropy.coordinates import SkyCoord
from astropy.table import QTable, Table

from .. import schema
from ..exceptions import InputDataError, MissingColumnError, UnknownNameError
from ..logger import log
from ..utils import data_path
from .files import (check_errors, check_unique, delimited_floats, quantity_column,
                    read_delimited, read_table_file, to_float, unique_rows)
from .names import NameResolver, normalise_name

__all__ = ["read_cg2020_clusters", "read_hr23_clusters", "read_dias2021_clusters",
           "read_cluster_catalogue", "CLUSTER_CATALOGUES", "join_cluster_parameters",
           "cluster_resolver", "read_fu2022", "read_fu2022_table6", "read_fu2022_table7",
           "TABLE6_COLUMNS", "TABLE6_GROUPS", "TABLE6_X", "TABLE6_FILE", "TABLE7_FILE",
           "TABLE7_COLUMNS",
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
    ("Dist", "DistPc", u.pc), ("AgeNN", "AgeNN", schema.DEX_YR), ("AVNN", "AVNN", u.mag),
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
    t["AgeNN"] = _age(t["AgeNN"])
    t["Nmemb"] = t["nbstars07"]
    t["Nmemb"].info.description = "Number of members with probability >= 0.7 (nbstars07)"
    schema.apply_schema(t, schema.CG2020)
    t.add_index("Cluster")
    t.meta.update(_CATALOGUE_META["cg2020"])
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
    """A `~astro_ocl.sources.names.NameResolver` on the names of a cluster catalogue.

    Parameters
    ----------
    clusters : `~astropy.table.Table`, optional
        A table with a ``Cluster`` column (and optionally ``Aliases``,
        comma-separated other names, and ``Name``, the catalogue's own
        spelling, as :func:`read_cluster_catalogue` gives them); default the
        embedded CG2020 table1.

    Examples
    --------
    >>> from astro_ocl.sources.clusters import cluster_resolver, read_cluster_catalogue
    >>> r = cluster_resolver(read_cluster_catalogue("hr23"))
    >>> r.resolve("NGC 2682"), r.resolve("NGC2682"), r.resolve("M67")
    ('NGC_2682', 'NGC_2682', 'NGC_2682')
    """
    if clusters is None:
        clusters = _cg2020_embedded()
    return NameResolver(clusters["Cluster"], aliases=_aliases(clusters))


def _cg2020_embedded():
    return _read_cg2020_cached(str(data_path("cantat_gaudin_2020_table1.tsv.gz")))


def _aliases(clusters):
    """``(alias, Cluster)`` pairs of a catalogue table (its own names and ``Aliases``)."""
    pairs = []
    names = [str(n) for n in clusters["Cluster"]]
    if "Name" in clusters.colnames:
        pairs += list(zip((str(n) for n in clusters["Name"]), names))
    if "Aliases" in clusters.colnames:
        pairs += [(a, n) for n, al in zip(names, clusters["Aliases"])
                  for a in str(al).split(",") if a.strip()]
    return pairs


def _age(values):
    """log10(age/yr) values with the unit the schema gives ``AgeNN`` (none or dex(yr))."""
    unit = schema.CG2020["AgeNN"].unit
    values = np.asarray(getattr(values, "value", values), float)
    return values if unit is None else values * unit


def _age_error(values):
    """An error of ``AgeNN`` (dex when ``AgeNN`` has a logarithmic unit)."""
    values = np.asarray(values, float)
    return values if schema.CG2020["AgeNN"].unit is None else values * u.dex


_CATALOGUE_META = {
    "cg2020": dict(catalogue="cg2020", reference="Cantat-Gaudin et al. 2020, A&A 640, A1",
                   bibcode="2020A&A...640A...1C", vizier="J/A+A/640/A1/table1",
                   gaia_release="DR2",
                   point_estimates="Dist: mode of the parallax likelihood (DistPc); AgeNN: "
                                   "neural-network age (Cantat-Gaudin et al. 2020)"),
    "hr23": dict(catalogue="hr23", reference="Hunt & Reffert 2023, A&A 673, A114",
                 bibcode="2023A&A...673A.114H", vizier="J/A+A/673/A114/clusters",
                 gaia_release="DR3",
                 point_estimates="Dist = dist50 and AgeNN = logAge50, the medians (50th "
                                 "percentiles) of the posteriors; Dist16/Dist84 and "
                                 "logAge16/logAge84 are the 16th/84th percentiles; e_Dist and "
                                 "e_AgeNN are half the 16-84 range"),
    "dias2021": dict(catalogue="dias2021", reference="Dias et al. 2021, MNRAS 504, 356",
                     bibcode="2021MNRAS.504..356D", vizier="J/MNRAS/504/356",
                     gaia_release="DR2",
                     point_estimates="Dist, e_Dist and AgeNN = logage, e_AgeNN = e_logage of "
                                     "the isochrone fits of Dias et al. 2021"),
}

#: Columns every cluster-parameter table has (NaN where a catalogue has no value).
PARAMETER_COLUMNS = ("Cluster", "coord", "GLON", "GLAT", "r50", "Nmemb", "plx", "e_plx",
                     "pmRA", "e_pmRA", "pmDE", "e_pmDE", "Dist", "e_Dist", "Dist16", "Dist84",
                     "AgeNN", "e_AgeNN", "logAge16", "logAge84", "AVNN", "DMNN", "Aliases")

_EXTRA_DESCRIPTIONS = {
    "Nmemb": "Number of members in the catalogue's membership",
    "e_Dist": "Uncertainty of Dist",
    "Dist16": "16th percentile of the distance posterior",
    "Dist84": "84th percentile of the distance posterior",
    "e_AgeNN": "Uncertainty of AgeNN (dex)",
    "logAge16": "16th percentile of the log10(age/yr) posterior",
    "logAge84": "84th percentile of the log10(age/yr) posterior",
    "Aliases": "Other names of the cluster (comma-separated)",
    "Name": "Name of the cluster as the catalogue writes it",
}


def _canonical_names(own, aliases, cg):
    """Canonical names: the CG2020 spelling when known (name first, then an unused alias)."""
    resolver = cluster_resolver(cg)
    out = [resolver.resolve(n, strict=False) for n in own]
    taken = {n for n in out if n is not None}
    for i, name in enumerate(out):
        if name is not None:
            continue
        for alias in aliases[i]:
            hit = resolver.resolve(alias, strict=False)
            if hit is not None and hit not in taken:
                out[i] = hit
                taken.add(hit)
                break
    return [n if n is not None else normalise_name(o) for n, o in zip(out, own)]


def _parameter_table(cols, path, *, own, aliases, key, spec, n_rows):
    """The canonical parameter table from the columns of a delimited file."""
    f = lambda n: delimited_floats(cols, n, path)  # noqa: E731
    nan = np.full(n_rows, np.nan)
    t = QTable()
    t["Cluster"] = np.array(_canonical_names(own, aliases, _cg2020_embedded()), dtype=str)
    t["Name"] = np.array(own, dtype=str)
    t["coord"] = SkyCoord(ra=f(spec["ra"]) * u.deg, dec=f(spec["dec"]) * u.deg, frame="icrs")
    gal = t["coord"].galactic
    t["GLON"] = f(spec["glon"]) * u.deg if spec.get("glon") else gal.l.to(u.deg)
    t["GLAT"] = f(spec["glat"]) * u.deg if spec.get("glat") else gal.b.to(u.deg)
    t["r50"] = f(spec["r50"]) * u.deg
    t["Nmemb"] = np.nan_to_num(f(spec["n"]), nan=-1).astype(int)
    for name, label, unit in (("plx", "plx", u.mas), ("e_plx", "e_plx", u.mas),
                              ("pmRA", "pmra", schema.MASYR), ("e_pmRA", "e_pmra", schema.MASYR),
                              ("pmDE", "pmde", schema.MASYR), ("e_pmDE", "e_pmde", schema.MASYR)):
        t[name] = f(spec[label]) * unit
    dist = f(spec["dist"])
    t["Dist"] = dist * u.pc
    if spec.get("dist16"):
        lo, hi = f(spec["dist16"]), f(spec["dist84"])
        t["e_Dist"] = (hi - lo) / 2 * u.pc
        t["Dist16"], t["Dist84"] = lo * u.pc, hi * u.pc
    else:
        t["e_Dist"] = f(spec["e_dist"]) * u.pc
        t["Dist16"], t["Dist84"] = nan * u.pc, nan * u.pc
    t["AgeNN"] = _age(f(spec["age"]))
    if spec.get("age16"):
        lo, hi = f(spec["age16"]), f(spec["age84"])
        t["e_AgeNN"] = _age_error((hi - lo) / 2)
        t["logAge16"], t["logAge84"] = _age(lo), _age(hi)
    else:
        t["e_AgeNN"] = _age_error(f(spec["e_age"]))
        t["logAge16"], t["logAge84"] = _age(nan), _age(nan)
    t["AVNN"] = f(spec["av"]) * u.mag
    t["DMNN"] = (f(spec["dm"]) if spec.get("dm") else nan) * u.mag
    t["Aliases"] = np.array([",".join(a) for a in aliases], dtype=str)
    schema.apply_schema(t, schema.CG2020)
    meta = _CATALOGUE_META[key]
    label = meta["reference"].split(",")[0]
    for name in t.colnames:
        spec_ = schema.CG2020.get(name)
        text = spec_.description if spec_ is not None else _EXTRA_DESCRIPTIONS.get(name)
        if text and hasattr(t[name], "info"):
            t[name].info.description = text.replace("CG2020", label).replace(
                "Cantat-Gaudin et al. 2020", label).replace(
                "mode of the parallax likelihood", "point estimate")
    t["Cluster"].info.description = (f"Cluster name (CG2020 spelling when the cluster is in "
                                     f"Cantat-Gaudin et al. 2020, else that of {label})")
    t["AgeNN"].info.description = f"log10 of the age in years, {label} (point estimate)"
    t.add_index("Cluster")
    t.meta.update(meta)
    t.meta["source"] = str(path)
    return t


@lru_cache(maxsize=2)
def _read_hr23_stamped(key):
    path = key[0]
    cols = unique_rows(path, "Name")
    if "AllNames" not in cols:
        raise MissingColumnError(f"column 'AllNames' not found in {path}", source=str(path),
                                 column="AllNames")
    own = [n.strip() for n in cols["Name"]]
    aliases = [[a.strip() for a in al.split(",") if a.strip() and a.strip() != "nan"]
               for al in cols["AllNames"]]
    spec = dict(ra="RA_ICRS", dec="DE_ICRS", glon="GLON", glat="GLAT", r50="r50", n="N",
                plx="Plx", e_plx="e_Plx", pmra="pmRA", e_pmra="e_pmRA", pmde="pmDE",
                e_pmde="e_pmDE", dist="dist50", dist16="dist16", dist84="dist84",
                age="logAge50", age16="logAge16", age84="logAge84", av="AV50", dm="MOD50")
    return _parameter_table(cols, path, own=own, aliases=aliases, key="hr23", spec=spec,
                            n_rows=len(own))


def read_hr23_clusters(path=None):
    """Read the Hunt & Reffert (2023) cluster table (VizieR J/A+A/673/A114 clusters).

    Parameters
    ----------
    path : str or `~pathlib.Path`, optional
        A CSV copy of the VizieR table (``Name, AllNames, RA_ICRS, ..., dist16,
        dist50, dist84, logAge16, logAge50, logAge84, ...``); default the
        embedded copy (6806 clusters of type ``o``).

    Returns
    -------
    `~astropy.table.QTable`
        The cluster-parameter layout (module docstring). Point estimates are the
        medians: ``Dist`` = ``dist50`` (pc) and ``AgeNN`` = ``logAge50``;
        the 16th and 84th percentiles are kept as ``Dist16, Dist84, logAge16,
        logAge84``, and ``e_Dist``, ``e_AgeNN`` are half their ranges. ``Name``
        is HR23's own spelling (``"NGC 2682"``), ``Aliases`` its ``AllNames``,
        ``Nmemb`` its ``N``, ``AVNN`` its ``AV50`` and ``DMNN`` its ``MOD50``.

    Examples
    --------
    >>> from astro_ocl.sources.clusters import read_hr23_clusters
    >>> hr = read_hr23_clusters()
    >>> row = hr.loc["NGC_2682"]
    >>> str(row["Name"]), row["Dist16"] < row["Dist"] < row["Dist84"]
    ('NGC 2682', np.True_)
    """
    path = str(path) if path is not None else str(data_path("hunt2023.csv.gz"))
    return _read_hr23_stamped(_stamp(path)).copy()


@lru_cache(maxsize=2)
def _read_dias2021_stamped(key):
    path = key[0]
    cols = unique_rows(path, "Cluster")
    own = [n.strip() for n in cols["Cluster"]]
    spec = dict(ra="RA_ICRS", dec="DE_ICRS", r50="r50", n="N", plx="Plx", e_plx="e_Plx",
                pmra="pmRA", e_pmra="e_pmRA", pmde="pmDE", e_pmde="e_pmDE", dist="Dist",
                e_dist="e_Dist", age="logage", e_age="e_logage", av="Av")
    return _parameter_table(cols, path, own=own, aliases=[[] for _ in own], key="dias2021",
                            spec=spec, n_rows=len(own))


def read_dias2021_clusters(path=None):
    """Read the Dias et al. (2021) cluster parameters (VizieR J/MNRAS/504/356).

    Parameters
    ----------
    path : str or `~pathlib.Path`, optional
        A CSV copy of the VizieR table (``Cluster, RA_ICRS, DE_ICRS, r50, N,
        pmRA, ..., Dist, e_Dist, logage, e_logage, ..., Av``); default the
        embedded copy (1741 clusters).

    Returns
    -------
    `~astropy.table.QTable`
        The cluster-parameter layout (module docstring): ``Dist, e_Dist`` (pc),
        ``AgeNN`` = ``logage`` with ``e_AgeNN`` = ``e_logage``, ``AVNN`` = ``Av``;
        no percentiles (``Dist16`` ... NaN) and no distance modulus.
    """
    path = str(path) if path is not None else str(data_path("dias2021.csv.gz"))
    return _read_dias2021_stamped(_stamp(path)).copy()


def _read_cg2020_parameters(path=None):
    t = read_cg2020_clusters(path)
    n = len(t)
    t["Name"] = t["Cluster"]
    t["e_Dist"] = np.full(n, np.nan) * u.pc
    t["Dist16"] = np.full(n, np.nan) * u.pc
    t["Dist84"] = np.full(n, np.nan) * u.pc
    t["e_AgeNN"] = _age_error(np.full(n, np.nan))
    t["logAge16"] = _age(np.full(n, np.nan))
    t["logAge84"] = _age(np.full(n, np.nan))
    t["Aliases"] = np.full(n, "", dtype=str)
    for name in ("e_Dist", "Dist16", "Dist84", "e_AgeNN", "logAge16", "logAge84", "Aliases",
                 "Name"):
        text = _EXTRA_DESCRIPTIONS[name]
        t[name].info.description = text if name in ("Aliases", "Name") \
            else text + " (none in CG2020)"
    return t


#: The cluster-parameter catalogues: name -> (reader, one-line description).
CLUSTER_CATALOGUES = {
    "cg2020": (_read_cg2020_parameters, "Cantat-Gaudin et al. 2020 (A&A 640, A1), 2017 "
               "clusters, Gaia DR2"),
    "hr23": (read_hr23_clusters, "Hunt & Reffert 2023 (A&A 673, A114), 6806 open clusters, "
             "Gaia DR3; distances and ages as 16/50/84 percentiles"),
    "dias2021": (read_dias2021_clusters, "Dias et al. 2021 (MNRAS 504, 356), 1741 clusters, "
                 "Gaia DR2"),
}


def read_cluster_catalogue(name, path=None):
    """Cluster parameters of one catalogue in the common layout.

    Parameters
    ----------
    name : {"cg2020", "hr23", "dias2021"} or `~astropy.table.QTable`
        The catalogue (:data:`CLUSTER_CATALOGUES`), case-insensitive; a table
        already in the layout is returned as it is.
    path : str or `~pathlib.Path`, optional
        Another copy of the catalogue's table (default the embedded one).

    Returns
    -------
    `~astropy.table.QTable`
        :data:`PARAMETER_COLUMNS` (module docstring), indexed on ``Cluster``;
        ``meta`` names the ``catalogue``, its ``reference``, ``gaia_release`` and
        which values are the ``point_estimates``.

    Raises
    ------
    UnknownNameError
        Not a known catalogue.

    Examples
    --------
    >>> from astro_ocl.sources.clusters import read_cluster_catalogue
    >>> [len(read_cluster_catalogue(n)) for n in ("cg2020", "hr23", "dias2021")]
    [2017, 6806, 1741]
    """
    if isinstance(name, Table):
        if "Cluster" not in name.colnames or "coord" not in name.colnames:
            raise MissingColumnError("a cluster-parameter table needs 'Cluster' and 'coord' "
                                     "columns", source=str(name.meta.get("source", "<table>")))
        return name
    key = str(name).strip().lower()
    if key not in CLUSTER_CATALOGUES:
        raise UnknownNameError(f"unknown cluster catalogue {name!r}; choose from "
                               f"{sorted(CLUSTER_CATALOGUES)}")
    return CLUSTER_CATALOGUES[key][0](path)


def join_cluster_parameters(names, columns=(), *, catalogue="cg2020", split_pasted=False):
    """Cluster parameters for the clusters of another table, joined by name.

    Parameters
    ----------
    names : iterable of str
        Cluster names in any spelling the catalogue's resolver knows.
    columns : sequence of str
        Parameter columns to return (e.g. ``("Dist", "pmRA", "AgeNN")``).
    catalogue : str or `~astropy.table.QTable`
        A :data:`CLUSTER_CATALOGUES` name or a parameter table (e.g. CG2020 table1).
    split_pasted : bool
        A name not found that holds a comma (``"VDB_85, vdBergh_85"``: two names
        pasted into one field) is tried part by part; such names are listed in
        ``meta["malformed_names"]``.

    Returns
    -------
    `~astropy.table.QTable`
        One row per name, in order: ``Cluster`` (the catalogue's canonical name,
        ``""`` when unknown), ``known`` (bool), ``coord`` (ICRS position, NaN
        when unknown) and ``columns`` (NaN when unknown; integers become float).
        ``meta["unknown"]`` lists the names not found, ``meta["catalogue"]`` the
        catalogue.
    """
    params = read_cluster_catalogue(catalogue)
    resolver = cluster_resolver(params)
    names = [str(n) for n in names]
    resolved, malformed = [], []
    for name in names:
        hit = resolver.resolve(name, strict=False)
        if hit is None and split_pasted and "," in name:
            malformed.append(name)
            for part in name.split(","):
                hit = resolver.resolve(part.strip(), strict=False)
                if hit is not None:
                    break
        resolved.append(hit)
    pos = {str(n): i for i, n in enumerate(params["Cluster"])}
    idx = np.array([pos.get(n, -1) if n else -1 for n in resolved], dtype=int)
    known = idx >= 0
    safe = np.where(known, idx, 0)
    out = QTable()
    out["Cluster"] = np.array([n or "" for n in resolved], dtype=str)
    out["known"] = known
    coord = params["coord"]
    nan = np.full(len(names), np.nan)
    ra = np.where(known, coord.ra.deg[safe], np.nan) if len(params) else nan
    dec = np.where(known, coord.dec.deg[safe], np.nan) if len(params) else nan
    out["coord"] = SkyCoord(ra=ra * u.deg, dec=dec * u.deg, frame="icrs")
    for name in columns:
        col = params[name][safe]
        if isinstance(col, u.Quantity):
            values = col.copy()
            if values.dtype.kind != "f":
                values = values.astype(float)
        else:
            values = np.asarray(col, float).copy()
        values[~known] = np.nan
        out[name] = values
        if hasattr(params[name], "info") and params[name].info.description:
            out[name].info.description = params[name].info.description
    out.meta.update(catalogue=params.meta.get("catalogue", "<table>"),
                    unknown=[n for n, k in zip(names, known) if not k],
                    malformed_names=malformed)
    return out


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
    cols = unique_rows(path, "Cluster")
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
    cols = unique_rows(path, "Cluster")
    f = lambda n: delimited_floats(cols, n, path)  # noqa: E731
    cg = read_cg2020_clusters() if cg is None else cg
    joined = join_cluster_parameters(cols["Cluster"], ("e_plx", "AgeNN"), catalogue=cg)
    known = np.asarray(joined["known"], bool)
    # a cluster CG2020 does not know keeps its own name, in CG2020 style
    names = [n if k else normalise_name(o)
             for n, k, o in zip(joined["Cluster"], known, cols["Cluster"])]
    t = QTable()
    t["Cluster"] = names
    dist = f("DMode") * u.pc
    t["coord"] = SkyCoord(ra=f("RA_ICRS") * u.deg, dec=f("DE_ICRS") * u.deg, distance=dist,
                          pm_ra_cosdec=f("pmRA*") * u.mas / u.yr, pm_dec=f("pmDE") * u.mas / u.yr,
                          radial_velocity=f("RV") * schema.KMS, frame="icrs")
    t["e_pmRA"] = f("e_pmRA*") * u.mas / u.yr
    t["e_pmDE"] = f("e_pmDE") * u.mas / u.yr
    t["e_plx"] = joined["e_plx"].to(u.mas)
    t["Dist"] = dist
    t["RVmed"] = f("RV") * schema.KMS
    t["e_RVmed"] = f("e_RV") * schema.KMS
    t["Nflag1"] = f("o_RV")
    t["[Fe/H]med"] = f("[Fe/H]") * u.dex
    t["e_[Fe/H]med"] = f("e_[Fe/H]") * u.dex
    t["Nflag12"] = np.nan_to_num(f("o_[Fe/H]")).astype(int)
    t["AgeNN"] = joined["AgeNN"]
    for src, dst in (("Rap", "Rap_Z20"), ("Rperi", "Rperi_Z20"), ("Zmax", "Zmax_Z20")):
        t[dst] = f(src) * u.kpc
    t["EC_Z20"] = f("EC")
    if (~known).any():
        log.info("%d Zhong et al. (2020) clusters have no CG2020 match (no age)",
                 int((~known).sum()))
    t.meta.update(source=path, reference="Zhong et al. 2020, A&A 640, A127 (LAMOST DR5); "
                  "ages and parallax errors from Cantat-Gaudin et al. 2020")
    return t


# --- paper Tables 6 and 7 of Fu et al. (2022) ----------------------------------------

#: Columns of a transcription of paper Table 6 (`read_fu2022_table6`); ``N`` (clusters
#: per fit) is optional: the article does not print it.
TABLE6_COLUMNS = ("age_group", "x", "coefficient", "N", "paper", "paper_plus", "paper_minus")
#: Age-group labels of paper Table 6 (as `astro_ocl.steps.gradients.AGE_GROUPS`).
TABLE6_GROUPS = ("<0.1 Gyr", "0.1-0.5 Gyr", "0.5-1 Gyr", "1-2 Gyr", "2-4 Gyr", ">4 Gyr")
#: Abscissa labels of paper Table 6 (as `astro_ocl.steps.gradients.X_VARIABLES`).
TABLE6_X = ("RGC", "LZ/1e3", "E/1e5")
#: The shipped transcriptions of the article's Tables 6 and 7 (``astro_ocl/data``).
TABLE6_FILE = "fu2022_table6.ecsv"
TABLE7_FILE = "fu2022_table7.ecsv"
#: Columns of paper Table 7 (`read_fu2022_table7`) and their units.
TABLE7_COLUMNS = (("Cluster", None), ("GLON", u.deg), ("GLAT", u.deg), ("Age", u.Myr),
                  ("X", u.pc), ("Y", u.pc), ("Z", u.pc), ("[Fe/H]", u.dex),
                  ("e_[Fe/H]", u.dex))


def _paper_table(path, default, number):
    """The ECSV file of a paper table (the shipped one by default), checked to exist.

    Read as a `~astropy.table.Table` (a unit column with a bad value stays readable, so
    that the bad value is named, not the whole file refused).
    """
    path = Path(path) if path is not None else data_path(default)
    if not path.exists():
        raise InputDataError(f"no paper Table {number} file: the input file does not exist (a "
                             "transcription of the article's table in the layout of the "
                             f"shipped astro_ocl/data/{default})", source=str(path))
    t = read_table_file(path, format="ascii.ecsv")
    if len(t) == 0:
        raise InputDataError("no data rows (only a header)", source=str(path))
    return path, t


def read_fu2022_table6(path=None):
    """Paper Table 6 (Fu et al. 2022): the published gradient coefficients and their errors.

    Parameters
    ----------
    path : str or `~pathlib.Path`, optional
        ECSV with columns ``age_group, x, coefficient, paper, paper_plus,
        paper_minus`` and optionally ``N`` (one row per coefficient; labels as
        in `TABLE6_GROUPS` and `TABLE6_X`, coefficient ``a, b`` or ``c``);
        default the shipped transcription of the article's table
        (``astro_ocl/data/fu2022_table6.ecsv``, 54 rows; see the data manifest).

    Returns
    -------
    `~astropy.table.QTable`
        The columns above; ``N`` is -1 (unknown) where the file has none (the
        article does not print the number of clusters per fit).
        ``meta['source']`` names the file.

    Raises
    ------
    InputDataError
        No such file, no rows, a bad number or a negative error (naming file,
        column and row), an unknown label, a repeated coefficient.
    MissingColumnError
        A required column is missing.

    Examples
    --------
    >>> from astro_ocl.sources.clusters import read_fu2022_table6
    >>> t6 = read_fu2022_table6()
    >>> len(t6), float(t6["paper"][0])
    (54, 0.066)
    """
    path, t = _paper_table(path, TABLE6_FILE, 6)
    for col in TABLE6_COLUMNS:
        if col not in t.colnames and col != "N":
            raise MissingColumnError(f"paper Table 6 needs a {col!r} column", source=str(path),
                                     column=col)
    if "N" not in t.colnames:
        t["N"] = np.full(len(t), -1)
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
    t = QTable(t)
    t.meta["source"] = str(path)
    return t


def read_fu2022_table7(path=None):
    """Paper Table 7 (Fu et al. 2022): the 24 young clusters along the Radcliffe wave.

    Parameters
    ----------
    path : str or `~pathlib.Path`, optional
        ECSV with columns ``Cluster, GLON, GLAT, Age, X, Y, Z, [Fe/H], e_[Fe/H]``
        (the printed values; ``e_[Fe/H]`` is the +/- printed with ``[Fe/H]``);
        default the shipped transcription (``astro_ocl/data/fu2022_table7.ecsv``).

    Returns
    -------
    `~astropy.table.QTable`
        The columns with units: deg, Myr, pc (heliocentric Galactic Cartesian
        X, Y, Z), dex. ``meta['source']`` names the file.

    Raises
    ------
    InputDataError
        No such file, no rows, a bad number (naming file, column, row and
        value), a negative ``e_[Fe/H]``, a repeated cluster.
    MissingColumnError
        A column is missing.

    Examples
    --------
    >>> from astro_ocl.sources.clusters import read_fu2022_table7
    >>> t7 = read_fu2022_table7()
    >>> len(t7), t7["X"].unit
    (24, Unit("pc"))
    """
    path, raw = _paper_table(path, TABLE7_FILE, 7)
    t = QTable()
    for col, unit in TABLE7_COLUMNS:
        if col not in raw.colnames:
            raise MissingColumnError(f"paper Table 7 needs a {col!r} column", source=str(path),
                                     column=col)
        if unit is None:
            t[col] = np.array([str(v).strip() for v in raw[col]])
            continue
        # a unit in the file is converted (a wrong one refused); none: the table's unit
        values = quantity_column(raw, col, col, unit, source=str(path))
        if col == "e_[Fe/H]":
            check_errors(values.value, source=str(path), column=col)
        t[col] = values
    check_unique(t["Cluster"], source=str(path), column="Cluster")
    descriptions = {"GLON": "Galactic longitude", "GLAT": "Galactic latitude",
                    "Age": "Cluster age (as printed)",
                    "X": "Heliocentric Galactic Cartesian X (towards the Galactic centre)",
                    "Y": "Heliocentric Galactic Cartesian Y (towards l = 90 deg)",
                    "Z": "Heliocentric Galactic Cartesian Z (towards b = 90 deg)",
                    "[Fe/H]": "Cluster [Fe/H] (as printed)",
                    "e_[Fe/H]": "The +/- value printed with [Fe/H]"}
    for col, text in descriptions.items():
        t[col].info.description = text + " (Fu et al. 2022, Table 7)"
    t.meta.update(reference="Fu et al. 2022, A&A 668, A4, Table 7", source=str(path))
    return t
