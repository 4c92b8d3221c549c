"""Per-cluster statistics and the catalogue tables (method steps 4 and 5).

From the stars matched to members: usable radial velocities (:func:`clean_stars`),
the quality flags and the Monte Carlo statistics of each cluster
(:func:`cluster_statistics`, named `ClusterStatistics`), and the cluster and
member tables in the labels of Fu et al. (2022) (:func:`cluster_table`,
:func:`member_table`).
"""
import warnings
import zlib
from dataclasses import dataclass

import astropy.units as u
import numpy as np
from astropy.coordinates import SkyCoord
from astropy.table import MaskedColumn, QTable

from .. import schema
from ..exceptions import DroppedRowsWarning
from ..utils import progress
from .montecarlo import MCStats, draw, summarise
from .quality import QualityCuts, parameter_flag, rv_flag

__all__ = ["ClusterStatistics", "STATISTICS_COLUMNS", "cluster_rng", "clean_stars",
           "cluster_statistics", "cluster_context", "cluster_table", "likelihood_cluster_table",
           "member_table"]


def cluster_rng(seed, cluster):
    """The random generator of one cluster: depends on the seed and the cluster name only.

    So a cluster gets the same draws whatever other clusters are built with it
    (the online build of a few clusters equals the offline build of all).

    Parameters
    ----------
    seed : int or None
        Global seed; None gives fresh entropy.
    cluster : str
        Cluster name.
    """
    if seed is None:
        return np.random.default_rng()
    return np.random.default_rng([int(seed), zlib.crc32(str(cluster).encode())])


def clean_stars(stars, *, stage_log):
    """Drop stars whose RV or RV error is missing or zero, with a counted warning.

    Parameters
    ----------
    stars : `~astropy.table.QTable`
        Canonical star table.
    stage_log : `~astro_ocl.accounting.StageLog`
    """
    rv = stars["rv"].to_value(u.km / u.s)
    erv = stars["e_rv"].to_value(u.km / u.s)
    no_rv = ~np.isfinite(rv)
    no_err = np.isfinite(rv) & ~np.isfinite(erv)
    zero_err = np.isfinite(rv) & np.isfinite(erv) & (erv == 0)
    bad = no_rv | no_err | zero_err
    dropped = {"missing rv": int(no_rv.sum()), "missing rv error": int(no_err.sum()),
               "zero rv error": int(zero_err.sum())}
    if bad.any():
        first = int(np.flatnonzero(bad)[0])
        warnings.warn(
            f"{int(bad.sum())} stars of {stars.meta.get('source', 'the input')} have no usable "
            f"radial velocity and are dropped "
            f"({', '.join(f'{v} {k}' for k, v in dropped.items() if v)}; first at row {first})",
            DroppedRowsWarning)
    stage_log.stage("usable RV", n_in=len(stars), n_out=int((~bad).sum()), dropped=dropped)
    return stars[~bad]


def _as_float(col):
    return np.asarray(getattr(col, "value", col), float)


@dataclass(frozen=True)
class ClusterStatistics:
    """Monte Carlo statistics of one cluster (method steps 4 and 5).

    Attributes
    ----------
    cluster : str
        Cluster name.
    n_all : int
        Matched spectroscopic members with a radial velocity.
    rv : `~astro_ocl.steps.montecarlo.MCStats`
        Radial velocity from the FLAG=1 stars (km/s).
    feh : `~astro_ocl.steps.montecarlo.MCStats`
        [Fe/H] from the FLAG=12 stars (dex).
    """

    cluster: str
    n_all: int
    rv: MCStats
    feh: MCStats


#: The columns of the matched table that `cluster_statistics` reads (``feh_ok``: only
#: when present). A caller that ships the stars elsewhere (the survey-scale engine's
#: workers) sends these.
STATISTICS_COLUMNS = ("Cluster", "rv", "e_rv", "teff", "logg", "feh", "e_feh", "feh_ok")


def cluster_statistics(matched, *, n_realisations=5000, seed=None, cuts=None,
                       show_progress=None):
    """Per-cluster FLAG=1/FLAG=12 flags and Monte Carlo statistics.

    Parameters
    ----------
    matched : `~astropy.table.QTable`
        Stars matched to members (`astro_ocl.steps.crossmatch.match_stars`).
    n_realisations : int
        Monte Carlo realisations K per cluster.
    seed : int, optional
        Global seed (see :func:`cluster_rng`).
    cuts : `~astro_ocl.steps.quality.QualityCuts`, optional
        Default ``QualityCuts()``.
    show_progress : bool, optional

    Returns
    -------
    stats : list of `ClusterStatistics`
        One per cluster, sorted by name.
    flags : ndarray of int
        ``Flag`` (0, 1, 12) of every matched star.
    """
    cuts = QualityCuts() if cuts is None else cuts
    names = np.asarray(matched["Cluster"]).astype(str)
    rv = matched["rv"].to_value(u.km / u.s)
    erv = matched["e_rv"].to_value(u.km / u.s)
    feh, efeh = _as_float(matched["feh"]), _as_float(matched["e_feh"])
    # the Teff/log g cuts; stars of a survey without Teff/log g that validates its own
    # [Fe/H] (APOGEE-OCCAM: feh_ok, masked for the other surveys' rows) use that instead
    param_ok = parameter_flag(matched["teff"], matched["logg"], matched["feh"],
                              matched["e_feh"], cuts=cuts,
                              survey_ok=matched["feh_ok"] if "feh_ok" in matched.colnames
                              else None)
    flags = np.zeros(len(matched), int)
    rows = []
    unique = np.unique(names)
    for name in progress(unique, desc="clusters", enabled=show_progress):
        idx = np.flatnonzero(names == name)
        rng = cluster_rng(seed, name)
        rv_draws = draw(rv[idx], erv[idx], n_realisations, rng)
        if idx.size == 1:
            f1 = np.array([True])
        else:
            f1, _, _ = rv_flag(rv_draws, nsigma=cuts.rv_nsigma, values=rv[idx])
        rv_stats = summarise(rv_draws[:, f1], rv[idx][f1], erv[idx][f1])
        f12 = f1 & param_ok[idx]
        feh_draws = draw(feh[idx][f12], efeh[idx][f12], n_realisations, rng)
        feh_stats = summarise(feh_draws, feh[idx][f12], efeh[idx][f12])
        flags[idx[f1]] = 1
        flags[idx[f12]] = 12
        rows.append(ClusterStatistics(str(name), int(idx.size), rv_stats, feh_stats))
    return rows, flags


def _null_if_empty(column):
    """A text column with its empty strings masked (a blank in a CDS table, null in a
    VOTable: "no flag", "no reason")."""
    values = np.asarray(np.ma.filled(np.ma.asarray(column), "")).astype(str)
    return MaskedColumn(values, mask=values == "",
                        description=getattr(getattr(column, "info", None), "description", None))


def cluster_context(names, cg, radial_velocity, *, warn_unknown=True):
    """The cluster-catalogue columns of cluster rows: ``Cluster``, ``coord`` and CG2020 context.

    Parameters
    ----------
    names : sequence of str
        The clusters.
    cg : `~astropy.table.QTable`
        The cluster catalogue (`~astro_ocl.sources.read_cg2020_clusters` layout).
    radial_velocity : `~astropy.units.Quantity`
        The clusters' radial velocities (the ``coord``'s).
    warn_unknown : bool
        Warn about clusters without parameters in ``cg`` (their columns are NaN).

    Returns
    -------
    `~astropy.table.QTable`
        ``Cluster, coord, GLON, GLAT, r50, plx, e_plx, pmRA, e_pmRA, pmDE, e_pmDE,
        Dist, AgeNN``.
    """
    t = QTable()
    t["Cluster"] = list(names)
    cg_names = np.asarray(cg["Cluster"]).astype(str)
    pos = {n: i for i, n in enumerate(cg_names)}
    idx = np.array([pos.get(n, -1) for n in t["Cluster"]], dtype=int)
    known = idx >= 0
    if not known.all() and warn_unknown:
        missing = list(np.asarray(t["Cluster"])[~known])
        label = cg.meta.get("reference", "Cantat-Gaudin et al. 2020").split(",")[0]
        warnings.warn(f"{len(missing)} clusters have no {label} parameters "
                      f"(e.g. {missing[0]}): their position, distance and age are NaN",
                      DroppedRowsWarning)
    safe = np.where(known, idx, 0)

    def cgcol(name):
        col = cg[name][safe]
        if name == "AgeNN":
            val = schema.log_age(col)
        else:
            val = u.Quantity(col) if hasattr(col, "unit") and col.unit is not None else \
                np.asarray(col, float)
        val = val.copy()
        val[~known] = np.nan
        return val

    ra = u.Quantity(cg["coord"].ra[safe])
    dec = u.Quantity(cg["coord"].dec[safe])
    ra[~known] = np.nan
    dec[~known] = np.nan
    dist = cgcol("Dist").to(u.pc)
    t["coord"] = SkyCoord(ra=ra, dec=dec, distance=np.where(np.isfinite(dist), dist, np.nan * u.pc),
                          pm_ra_cosdec=cgcol("pmRA"), pm_dec=cgcol("pmDE"),
                          radial_velocity=radial_velocity, frame="icrs")
    for name in ("GLON", "GLAT", "r50", "plx", "e_plx", "pmRA", "e_pmRA", "pmDE", "e_pmDE",
                 "Dist", "AgeNN"):
        t[name] = cgcol(name)
    return t


def _name_catalogue(t, cg):
    """Descriptions that say "CG2020" name the catalogue the parameters came from."""
    if cg.meta.get("catalogue", "cg2020") != "cg2020" and cg.meta.get("reference"):
        label = cg.meta["reference"].split(",")[0]
        for name in t.colnames:
            info = getattr(t[name], "info", None)
            if info is not None and info.description and "CG2020" in info.description \
                    and name != "Cluster":
                info.description = info.description.replace("CG2020", label)


def cluster_table(stats, cg, *, cuts, stage_log, warn_unknown=True):
    """The cluster table of the Monte Carlo medians (Fu et al. 2022) with the CG2020 context.

    Parameters
    ----------
    stats : list of `ClusterStatistics`
    cg : `~astropy.table.QTable`
        CG2020 table1 (`~astro_ocl.sources.read_cg2020_clusters`).
    cuts : `~astro_ocl.steps.quality.QualityCuts`
        The cuts behind the flags (for the flag columns' descriptions).
    stage_log : `~astro_ocl.accounting.StageLog`
    warn_unknown : bool
        Warn about clusters without CG2020 parameters (off for the per-survey
        tables of a multi-survey build: the combined table warns once).

    Returns
    -------
    `~astropy.table.QTable`
        Labels of `astro_ocl.schema.CLUSTERS`.
    """
    rows = stats
    kms = u.km / u.s
    rvmed = np.array([r.rv.med for r in rows]) * kms
    t = cluster_context([r.cluster for r in rows], cg, rvmed, warn_unknown=warn_unknown)
    t["Nall"] = np.array([r.n_all for r in rows])
    t["Nflag1"] = np.array([r.rv.n for r in rows])
    t["RVmed"] = rvmed
    t["e_RVmed"] = np.array([r.rv.e_med for r in rows]) * kms
    t["RVmean"] = np.array([r.rv.mean for r in rows]) * kms
    t["e_RVmean"] = np.array([r.rv.e_mean for r in rows]) * kms
    t["s_RV"] = np.array([r.rv.std for r in rows]) * kms
    t["Nflag12"] = np.array([r.feh.n for r in rows])
    t["[Fe/H]med"] = np.array([r.feh.med for r in rows]) * u.dex
    t["e_[Fe/H]med"] = np.array([r.feh.e_med for r in rows]) * u.dex
    t["[Fe/H]mean"] = np.array([r.feh.mean for r in rows]) * u.dex
    t["e_[Fe/H]mean"] = np.array([r.feh.e_mean for r in rows]) * u.dex
    t["s_[Fe/H]"] = np.array([r.feh.std for r in rows]) * u.dex
    schema.apply_schema(t, schema.CLUSTERS, cuts=cuts)
    t["coord"].info.description = ("ICRS position, distance, proper motion (CG2020) and "
                                   "radial velocity RVmed")
    t.meta["statistics"] = "fu2022-montecarlo"
    _name_catalogue(t, cg)
    stage_log.stage("clusters", n_in=len(t), n_out=len(t),
                    note=f"{int((t['Nflag12'] == 0).sum())} clusters without [Fe/H] "
                         "(no FLAG=12 star)")
    return t


def likelihood_cluster_table(fits, cg, *, stage_log, warn_unknown=True):
    """The cluster table of the likelihood method with the CG2020 context.

    Parameters
    ----------
    fits : `~astropy.table.QTable`
        The cluster rows of `astro_ocl.steps.likelihood.likelihood_statistics`.
    cg : `~astropy.table.QTable`
        The cluster catalogue.
    stage_log : `~astro_ocl.accounting.StageLog`
    warn_unknown : bool
        Warn about clusters without parameters in ``cg``.

    Returns
    -------
    `~astropy.table.QTable`
        ``coord`` (radial velocity ``RV``) and the CG2020 context, then the columns of
        ``fits``; ``meta`` of ``fits``.
    """
    rv = u.Quantity(fits["RV"]).to(u.km / u.s)
    t = cluster_context(np.asarray(fits["Cluster"]).astype(str), cg, rv,
                        warn_unknown=warn_unknown)
    for name in fits.colnames:
        if name != "Cluster":
            t[name] = fits[name]
    for name in ("f_RV", "RVnote", "f_[Fe/H]", "FeHnote"):  # no flag: null, not ""
        if name in t.colnames:
            t[name] = _null_if_empty(t[name])
    schema.apply_schema(t, schema.CLUSTERS)
    t["coord"].info.description = ("ICRS position, distance, proper motion (CG2020) and "
                                   "radial velocity RV")
    t.meta.update(fits.meta)
    _name_catalogue(t, cg)
    no_rv = int((~np.isfinite(rv.value)).sum())
    no_feh = int((~np.isfinite(u.Quantity(t["[Fe/H]"]).value)).sum())
    flagged = {q: int((np.ma.filled(np.ma.asarray(t[c]).astype(str), "") != "").sum())
               for q, c in (("RV", "f_RV"), ("[Fe/H]", "f_[Fe/H]"))}
    stage_log.stage("clusters", n_in=len(t), n_out=len(t),
                    note=f"{no_rv} clusters without RV and {no_feh} without [Fe/H] (no usable "
                         f"star); flagged values: {flagged['RV']} RV, {flagged['[Fe/H]']} [Fe/H]")
    return t


def member_table(matched, flags, *, cuts, core=None):
    """The member table: one row per matched star with its ``Flag``.

    Parameters
    ----------
    matched : `~astropy.table.QTable`
        Stars matched to members.
    flags : ndarray of int
        From :func:`cluster_statistics`.
    cuts : `~astro_ocl.steps.quality.QualityCuts`
        The cuts behind the flags (the ``Flag`` description says what they were).
    core : array-like, optional
        Each star's core probability (``Pcore``, the likelihood method).

    Returns
    -------
    `~astropy.table.QTable`
        Labels of `astro_ocl.schema.MEMBERS`; ``RVdomain``/``FeHdomain`` when the
        stars went through the survey validity domains.
    """
    m = QTable()
    m["Cluster"] = matched["Cluster"]
    # stars translated to Gaia DR3 ids for a DR3 membership keep their DR2 id
    dr2 = "dr2_source_id" if "dr2_source_id" in matched.colnames else "source_id"
    m["GaiaDR2"] = np.asarray(matched[dr2], dtype=np.int64)
    m["coord"] = matched["member_coord"] if "member_coord" in matched.colnames \
        else matched["coord"]
    if "member_parallax" in matched.colnames:
        m["plx"] = matched["member_parallax"]
    elif "parallax" in matched.colnames:
        m["plx"] = matched["parallax"]
    for src, dst in (("gmag", "Gmag"), ("bpmag", "BPmag"), ("rpmag", "RPmag")):
        if src in matched.colnames:
            m[dst] = matched[src]
        elif src == "gmag" and "member_gmag" in matched.colnames:
            m[dst] = matched["member_gmag"]
    m["PMemb"] = matched["proba"]
    for src, dst in (("rv", "RV"), ("e_rv", "e_RV"), ("teff", "Teff"), ("e_teff", "e_Teff"),
                     ("logg", "logg"), ("e_logg", "e_logg"), ("feh", "[Fe/H]"),
                     ("e_feh", "e_[Fe/H]"), ("snrg", "SNRg")):
        if src in matched.colnames:
            m[dst] = matched[src]
    if "survey" in matched.colnames:
        m["Survey"] = matched["survey"]
    m["Flag"] = flags
    # outside their survey's validity domain: why (astro_ocl.steps.validity; empty: inside)
    for src, dst in (("rv_reason", "RVdomain"), ("feh_reason", "FeHdomain")):
        if src in matched.colnames:  # inside the domain: null
            m[dst] = _null_if_empty(matched[src])
    if core is not None:  # the likelihood method: each star's core probability
        m["Pcore"] = core
    schema.apply_schema(m, schema.MEMBERS, cuts=cuts)
    m["coord"].info.description = "ICRS position and proper motion (Gaia DR2, epoch J2015.5)"
    return m
