"""Per-cluster RV and [Fe/H] of the likelihood method for a table of matched stars."""
import astropy.units as u
import numpy as np
from astropy.table import QTable

from ... import schema
from ...exceptions import ParameterError
from ...logger import log
from ...utils import progress
from ..quality import QualityCuts, parameter_flag
from ..statistics import STATISTICS_COLUMNS
from .model import FEH_MODEL, FLAGS, RV_MODEL, fit_cluster, with_flag, with_note

__all__ = ["LIKELIHOOD_COLUMNS", "TYPICAL_MIN_STARS", "UNCONSTRAINED_FLAGS",
           "likelihood_statistics", "typical_dispersion", "widen_single_stars",
           "zero_point_lookup"]

#: The columns of the matched table that `likelihood_statistics` reads (the last three
#: only when present).
LIKELIHOOD_COLUMNS = STATISTICS_COLUMNS + ("survey", "rv_valid", "feh_valid")

#: The clusters whose intrinsic dispersion makes the typical one: at least this many
#: stars in the fit, and a value the stars constrain (no flag of `UNCONSTRAINED_FLAGS`).
TYPICAL_MIN_STARS = 5

#: Flag codes of a value the stars do not constrain.
UNCONSTRAINED_FLAGS = frozenset("0bcs")

# per quantity: stars in the fit, value error, intrinsic dispersion, flag, note, meta prefix
_COLUMNS = {"RV": ("NRV", "e_RV", "sRVint", "f_RV", "RVnote", "rv"),
            "[Fe/H]": ("NFeH", "e_[Fe/H]", "sFeHint", "f_[Fe/H]", "FeHnote", "feh")}


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


def zero_point_lookup(zero_points, surveys, quantity, *, correlated=False):
    """The zero point applied to each star: offset, its error, and whether it is missing.

    Parameters
    ----------
    zero_points : `~astropy.table.Table` or None
        From `astro_ocl.steps.zeropoints.fit_zero_points` (``survey, quantity, offset,
        e_offset, applied``, ``meta['reference']``, ``meta['correlation']``).
    surveys : ndarray of str
        The stars' surveys.
    quantity : {"RV", "[Fe/H]"}
    correlated : bool
        Also return the correlations of the applied zero points.

    Returns
    -------
    offset, error : ndarray
        Subtracted from / the uncertainty of each star's value (0 where none is applied).
    missing : ndarray of bool
        Stars of a survey that is neither the reference nor has a measured zero point.
    correlation : dict
        Only with ``correlated``: ``{survey: {survey: rho}}`` between the applied zero
        points of this quantity, from ``meta['correlation']`` (empty when the table has
        none: independent).
    """
    n = len(surveys)
    offset, error, missing = np.zeros(n), np.zeros(n), np.zeros(n, bool)
    correlation = {}
    if zero_points is None:
        return (offset, error, missing, correlation) if correlated else (offset, error, missing)
    rows = zero_points[np.asarray(zero_points["quantity"]).astype(str) == quantity]
    table = {str(r["survey"]): r for r in rows}
    applied = set()
    for name in np.unique(surveys):
        sel = surveys == name
        row = table.get(str(name))
        if row is None:
            missing[sel] = True
        elif bool(row["applied"]):
            offset[sel], error[sel] = float(row["offset"]), float(row["e_offset"])
            applied.add(str(name))
        elif not np.isfinite(row["offset"]):
            missing[sel] = True
    if not correlated:
        return offset, error, missing
    stored = zero_points.meta.get("correlation", {}).get(quantity, {})
    names = [str(x) for x in stored.get("surveys", [])]
    for i, a in enumerate(names):
        for j, b in enumerate(names):
            if i != j and a in applied and b in applied:
                correlation.setdefault(a, {})[b] = float(stored["matrix"][i][j])
    return offset, error, missing, correlation


def typical_dispersion(clusters, quantity, *, min_stars=TYPICAL_MIN_STARS):
    """The typical intrinsic dispersion of a table's clusters, and how many made it.

    Parameters
    ----------
    clusters : `~astropy.table.QTable`
        Cluster rows of `likelihood_statistics`.
    quantity : {"RV", "[Fe/H]"}
    min_stars : int
        Only clusters with at least this many stars in the fit (and a value without a
        flag of `UNCONSTRAINED_FLAGS`) count.

    Returns
    -------
    sigma : `~astropy.units.Quantity`
        The median of their ``sRVint`` (``sFeHint``); 0 when no cluster counts.
    n : int
        The clusters it is the median of.
    """
    ncol, _, scol, fcol, _, _ = _COLUMNS[quantity]
    sigma = u.Quantity(clusters[scol])
    flags = np.ma.filled(np.ma.asarray(clusters[fcol]).astype(str), "")
    use = ((np.asarray(clusters[ncol]) >= min_stars) & np.isfinite(sigma.value)
           & np.array([not set(f) & UNCONSTRAINED_FLAGS for f in flags], bool))
    return (np.median(sigma[use]) if use.any() else 0 * sigma.unit), int(use.sum())


def widen_single_stars(clusters, *, min_stars=TYPICAL_MIN_STARS):
    """Single-star cluster values with the typical intrinsic dispersion in their error.

    A cluster value from one star (flag ``1``) is that star's value; as an estimate of
    the cluster's value its uncertainty includes the scatter of a member about its
    cluster's value: the error becomes ``hypot(error, sigma_typ)``, with ``sigma_typ``
    the `typical_dispersion` of the table's clusters (per quantity). The note of those
    rows gives ``sigma_typ``; ``meta['rv_single_star_sigma']`` and
    ``meta['feh_single_star_sigma']`` record it. `likelihood_statistics` applies it to
    its table; call it once on a table assembled from parts computed without it
    (``single_star_dispersion=False``).

    Parameters
    ----------
    clusters : `~astropy.table.QTable`
        Cluster rows of `likelihood_statistics`, with the stars' own errors.
    min_stars : int
        As in `typical_dispersion`.

    Returns
    -------
    `~astropy.table.QTable`
        A copy.

    Raises
    ------
    ParameterError
        The table's single-star errors already include a typical dispersion.
    """
    out = clusters.copy()
    for quantity, (_, ecol, scol, fcol, notecol, prefix) in _COLUMNS.items():
        key = f"{prefix}_single_star_sigma"
        if key in out.meta:
            raise ParameterError("clusters", f"meta['{key}'] = {out.meta[key]}",
                                 "single-star errors already include the typical dispersion")
        sigma, n = typical_dispersion(out, quantity, min_stars=min_stars)
        flags = np.ma.filled(np.ma.asarray(out[fcol]).astype(str), "")
        single = np.array(["1" in f for f in flags], bool)
        error = u.Quantity(out[ecol])
        out[ecol][single] = np.hypot(error[single], sigma.to(error.unit))
        text = (f"single star: its value; its error and the typical intrinsic dispersion "
                f"({sigma:.3g}, median {scol} of {n} clusters) in quadrature")
        notes = np.array([str(x).replace(FLAGS["1"], text) for x in out[notecol]], dtype=str)
        out[notecol] = notes
        out[notecol].info.description = clusters[notecol].info.description
        out.meta[key] = str(sigma)
        out.meta[f"{key}_from"] = (f"median {scol} of the {n} clusters of this table with >= "
                                   f"{min_stars} stars in the fit and no flag of "
                                   f"{''.join(sorted(UNCONSTRAINED_FLAGS))}; added in "
                                   "quadrature to the error of single-star values (flag 1)")
    return out


def likelihood_statistics(matched, *, zero_points=None, cuts=None, rv_model=RV_MODEL,
                          feh_model=FEH_MODEL, core_threshold=0.5, show_progress=None,
                          single_star_dispersion=True, correlated_zero_points=False,
                          n_realisations=None, seed=None, label=None):
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
    single_star_dispersion : bool
        Whether a single-star value's error includes the typical intrinsic dispersion
        of the table's clusters (`widen_single_stars`); False: the star's own error
        (for parts of a table that `widen_single_stars` completes).
    correlated_zero_points : bool
        Propagate the zero points' uncertainty with their correlations
        (``zero_points.meta['correlation']``: ``sqrt(s^T C s)``, ``s`` the surveys'
        shares of a cluster's weight, ``C_ij = rho_ij e_i e_j``); False: as
        independent.
    n_realisations, seed : optional
        Accepted for the call signature of ``cluster_statistics``; not used (no
        random numbers).
    label : str, optional
        What these stars are, named in the log lines of this call (e.g. ``"APOGEE
        alone, for the zero points"``), so that a warning about one survey's own
        values is not read as one about the combined catalogue.

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
    rv_off, rv_zp, rv_missing, rv_rho = zero_point_lookup(zero_points, surveys, "RV",
                                                          correlated=True)
    feh_off, feh_zp, feh_missing, feh_rho = zero_point_lookup(zero_points, surveys, "[Fe/H]",
                                                              correlated=True)
    if not correlated_zero_points:
        rv_rho = feh_rho = None
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
                             offsets_error=rv_zp[i_rv], surveys=surveys[i_rv],
                             offsets_correlation=rv_rho)
        fit_rv = with_flag(fit_rv, "z" if rv_missing[i_rv].any() else "")
        p_core[i_rv] = fit_rv.p_core
        # the core; when the RV posterior cannot tell the core (b, c), every star made it
        undefined = "b" in fit_rv.flag or "c" in fit_rv.flag
        core = i_rv if undefined else i_rv[fit_rv.p_core >= core_threshold]
        flags[core] = 1
        i_feh = core[feh_use[core]]
        fit_feh = fit_cluster(feh[i_feh] - feh_off[i_feh], efeh[i_feh], model=feh_model,
                              offsets_error=feh_zp[i_feh], surveys=surveys[i_feh],
                              offsets_correlation=feh_rho)
        fit_feh = with_flag(fit_feh, "z" if feh_missing[i_feh].any() else "")
        if undefined and i_feh.size:
            fit_feh = with_note(fit_feh, "RV core undefined: every star with a valid RV "
                                         "and [Fe/H] used")
        flags[i_feh[fit_feh.p_core >= core_threshold]] = 12
        for quantity, fit, used in (("RV", fit_rv, i_rv), ("[Fe/H]", fit_feh, i_feh)):
            if not fit.converged:
                log.warning("likelihood%s: %s %s (%d stars of %s): the posterior grid did "
                            "not settle; its last grid is used",
                            f" ({label})" if label else "", name, quantity, fit.n,
                            ", ".join(np.unique(surveys[used])))
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
                          zero_points.meta.get("applied", "see the zero-point table"),
                          "zero_point_errors": "none" if zero_points is None else
                          "correlated (the zero-point table's correlation matrix)"
                          if correlated_zero_points else "independent"})
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
    if single_star_dispersion:
        clusters = widen_single_stars(clusters)
    return clusters, stars
