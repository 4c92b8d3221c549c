"""Per-cluster RV and [Fe/H] of the likelihood method for a table of matched stars."""
import astropy.units as u
import numpy as np
from astropy.table import QTable

from ... import schema
from ...exceptions import ParameterError
from ...utils import progress
from ..quality import QualityCuts, parameter_flag
from ..statistics import STATISTICS_COLUMNS
from .model import FEH_MODEL, RV_MODEL, fit_cluster, with_flag, with_note

__all__ = ["LIKELIHOOD_COLUMNS", "likelihood_statistics", "zero_point_lookup"]

#: The columns of the matched table that `likelihood_statistics` reads (the last three
#: only when present).
LIKELIHOOD_COLUMNS = STATISTICS_COLUMNS + ("survey", "rv_valid", "feh_valid")


def _floats(col, unit=None):
    """A column as float numbers (masked entries NaN), in ``unit`` when it has one."""
    if hasattr(col, "unit") and col.unit is not None and unit is not None:
        col = u.Quantity(col).to(unit)
    data = np.ma.filled(np.ma.asarray(getattr(col, "value", col), dtype=float), np.nan)
    return np.asarray(data, float)


def _validity(matched, name):
    """A validity column as booleans (absent: all valid; masked entries: no verdict, valid)."""
    if name not in matched.colnames:
        return np.ones(len(matched), bool)
    return np.asarray(np.ma.filled(np.ma.asarray(matched[name]), True), bool)


def zero_point_lookup(zero_points, surveys, quantity):
    """The zero point applied to each star: offset, its error, and whether it is missing.

    Parameters
    ----------
    zero_points : `~astropy.table.Table` or None
        From `astro_ocl.steps.zeropoints.fit_zero_points` (``survey, quantity, offset,
        e_offset, applied``, ``meta['reference']``).
    surveys : ndarray of str
        The stars' surveys.
    quantity : {"RV", "[Fe/H]"}

    Returns
    -------
    offset, error : ndarray
        Subtracted from / the uncertainty of each star's value (0 where none is applied).
    missing : ndarray of bool
        Stars of a survey that is neither the reference nor has a measured zero point.
    """
    n = len(surveys)
    offset, error, missing = np.zeros(n), np.zeros(n), np.zeros(n, bool)
    if zero_points is None:
        return offset, error, missing
    rows = zero_points[np.asarray(zero_points["quantity"]).astype(str) == quantity]
    table = {str(r["survey"]): r for r in rows}
    for name in np.unique(surveys):
        sel = surveys == name
        row = table.get(str(name))
        if row is None:
            missing[sel] = True
        elif bool(row["applied"]):
            offset[sel], error[sel] = float(row["offset"]), float(row["e_offset"])
        elif not np.isfinite(row["offset"]):
            missing[sel] = True
    return offset, error, missing


def likelihood_statistics(matched, *, zero_points=None, cuts=None, rv_model=RV_MODEL,
                          feh_model=FEH_MODEL, core_threshold=0.5, show_progress=None,
                          n_realisations=None, seed=None):
    """Per-cluster RV and [Fe/H] of the likelihood method, and the stars' core probabilities.

    The method named ``"likelihood"`` (see the module notes); it takes the input of
    `astro_ocl.steps.statistics.cluster_statistics` (the ``"fu2022-montecarlo"``
    method) and is deterministic.

    Parameters
    ----------
    matched : `~astropy.table.QTable`
        Stars matched to members: `LIKELIHOOD_COLUMNS` (``Cluster, rv, e_rv, teff,
        logg, feh, e_feh``; ``feh_ok``, ``survey``, ``rv_valid``, ``feh_valid`` when
        present). A star with ``rv_valid`` False stays out of the RV fit, one with
        ``feh_valid`` False out of the [Fe/H] fit (masked entries: no verdict, used).
    zero_points : `~astropy.table.Table`, optional
        From `astro_ocl.steps.zeropoints.fit_zero_points`: the ``applied`` offsets are
        subtracted from the stars of their survey and their uncertainty propagated.
        None: raw values.
    cuts : `~astro_ocl.steps.quality.QualityCuts`, optional
        The Teff/log g cuts of the stars used for [Fe/H] (default ``QualityCuts()``;
        its ``rv_nsigma`` is not used: the RV core replaces the 2-sigma selection).
    rv_model, feh_model : `QuantityModel`
        Default `RV_MODEL`, `FEH_MODEL`.
    core_threshold : float
        Stars with a core probability at least this are the RV core (``Flag`` 1) and
        may enter the [Fe/H] fit.
    show_progress : bool, optional
    n_realisations, seed : optional
        Accepted for the call signature of ``cluster_statistics``; not used (no
        random numbers).

    Returns
    -------
    clusters : `~astropy.table.QTable`
        One row per cluster, sorted by name: ``Cluster, Nall``, and the columns of the
        likelihood block of `astro_ocl.schema.CLUSTERS` (``NRV, RV, e_RV, sRVint,
        e_sRVint, NRVcore, f_RV, RVnote, NFeH, [Fe/H], e_[Fe/H], sFeHint, e_sFeHint,
        f_[Fe/H], FeHnote``).
    stars : `~astropy.table.QTable`
        Row by row with ``matched``: ``Pcore`` (NaN for a star outside the RV fit) and
        ``Flag`` (0: not in the RV core; 1: RV core; 12: RV core and used for [Fe/H]).
        When the RV posterior cannot tell its core (flags ``b`` or ``c``), every star
        with a valid RV counts as the core (they all made the value) and the [Fe/H]
        note says so.

    Raises
    ------
    ParameterError
        ``core_threshold`` outside (0, 1].
    """
    del n_realisations, seed
    if not 0 < core_threshold <= 1:
        raise ParameterError("core_threshold", core_threshold, "must be in (0, 1]")
    cuts = QualityCuts() if cuts is None else cuts
    kms, dex = rv_model.sigma_max.unit, feh_model.sigma_max.unit
    names = np.asarray(matched["Cluster"]).astype(str)
    surveys = np.asarray(matched["survey"]).astype(str) if "survey" in matched.colnames \
        else np.full(len(matched), "stars")
    rv, erv = _floats(matched["rv"], kms), _floats(matched["e_rv"], kms)
    feh, efeh = _floats(matched["feh"], dex), _floats(matched["e_feh"], dex)
    param_ok = parameter_flag(matched["teff"], matched["logg"], matched["feh"], matched["e_feh"],
                              cuts=cuts, survey_ok=matched["feh_ok"] if "feh_ok" in
                              matched.colnames else None)
    rv_use = _validity(matched, "rv_valid") & np.isfinite(rv) & np.isfinite(erv) & (erv > 0)
    feh_use = (_validity(matched, "feh_valid") & param_ok & np.isfinite(feh)
               & np.isfinite(efeh) & (efeh > 0))
    rv_off, rv_zp, rv_missing = zero_point_lookup(zero_points, surveys, "RV")
    feh_off, feh_zp, feh_missing = zero_point_lookup(zero_points, surveys, "[Fe/H]")
    p_core = np.full(len(matched), np.nan)
    flags = np.zeros(len(matched), int)
    order = np.argsort(names, kind="stable")
    unique, starts = np.unique(names[order], return_index=True)
    groups = np.split(order, starts[1:])
    rows = []
    for name, idx in progress(list(zip(unique, groups)), desc="clusters",
                              enabled=show_progress):
        i_rv = idx[rv_use[idx]]
        fit_rv = fit_cluster(rv[i_rv] - rv_off[i_rv], erv[i_rv], model=rv_model,
                             offsets_error=rv_zp[i_rv], surveys=surveys[i_rv])
        fit_rv = with_flag(fit_rv, "z" if rv_missing[i_rv].any() else "")
        p_core[i_rv] = fit_rv.p_core
        # the core; when the RV posterior cannot tell the core (b, c), every star made it
        undefined = "b" in fit_rv.flag or "c" in fit_rv.flag
        core = i_rv if undefined else i_rv[fit_rv.p_core >= core_threshold]
        flags[core] = 1
        i_feh = core[feh_use[core]]
        fit_feh = fit_cluster(feh[i_feh] - feh_off[i_feh], efeh[i_feh], model=feh_model,
                              offsets_error=feh_zp[i_feh], surveys=surveys[i_feh])
        fit_feh = with_flag(fit_feh, "z" if feh_missing[i_feh].any() else "")
        if undefined and i_feh.size:
            fit_feh = with_note(fit_feh, "RV core undefined: every star with a valid RV "
                                         "and [Fe/H] used")
        flags[i_feh[fit_feh.p_core >= core_threshold]] = 12
        rows.append((name, idx.size, fit_rv, fit_feh))
    clusters = QTable()
    clusters["Cluster"] = np.array([r[0] for r in rows], dtype=str)
    clusters["Nall"] = np.array([r[1] for r in rows], int)
    for prefix, unit, k, (n, value, error, sig, esig, ncore, flag, note) in (
            ("RV", kms, 2, ("NRV", "RV", "e_RV", "sRVint", "e_sRVint", "NRVcore", "f_RV",
                            "RVnote")),
            ("FeH", dex, 3, ("NFeH", "[Fe/H]", "e_[Fe/H]", "sFeHint", "e_sFeHint",
                             "NFeHcore", "f_[Fe/H]", "FeHnote"))):
        fits = [r[k] for r in rows]
        clusters[n] = np.array([x.n for x in fits], int)
        clusters[value] = np.array([x.value for x in fits]) * unit
        clusters[error] = np.array([x.error for x in fits]) * unit
        clusters[sig] = np.array([x.sigma for x in fits]) * unit
        clusters[esig] = np.array([x.e_sigma for x in fits]) * unit
        clusters[ncore] = np.array([x.n_core for x in fits])
        clusters[flag] = np.array([x.flag for x in fits], dtype="U8")
        clusters[note] = np.array([x.note for x in fits], dtype=str)
    schema.apply_schema(clusters, schema.CLUSTERS)
    clusters.meta.update({"statistics": "likelihood", **rv_model.as_meta("rv"),
                          **feh_model.as_meta("feh"), "core_threshold": core_threshold,
                          "zero_points_applied": "none" if zero_points is None else
                          zero_points.meta.get("applied", "see the zero-point table")})
    stars = QTable()
    stars["Pcore"] = p_core
    stars["Flag"] = flags
    schema.apply_schema(stars, schema.MEMBERS)
    stars["Flag"].info.description = (
        f"Quality flag (likelihood method): 0 = not in the RV core (core probability < "
        f"{core_threshold:g}, or not valid for RV), 1 = RV core, 12 = RV core and used "
        f"for [Fe/H] ({cuts.teff_min:g} <= Teff <= {cuts.teff_max:g}, not a dwarf (logg >= "
        f"{cuts.dwarf_logg:g}) cooler than {cuts.cool_dwarf_teff:g}, valid for [Fe/H])")
    clusters.meta["stars_outside_rv_fit"] = int((~rv_use).sum())
    clusters.meta["stars_outside_feh_fit"] = int((~feh_use).sum())
    return clusters, stars
