"""Zero points: every survey's RV and [Fe/H] offset from one named reference scale.

Surveys measure radial velocities and [Fe/H] on their own scales: LAMOST LRS
velocities sit a few km/s below Gaia's and APOGEE's, and low-resolution [Fe/H]
differs from high-resolution [Fe/H] by some hundredths of a dex.

:func:`survey_statistics`
    Every survey's own cluster values (the likelihood method of
    `astro_ocl.steps.likelihood`, raw values): the input of the zero-point fit.
:func:`fit_zero_points`
    Every survey's offset from one named reference scale, fitted jointly over all
    the clusters that two or more surveys (or an external cluster table) share:
    offsets and cluster means at once, weighted by each survey-cluster value's
    uncertainty (which includes the cluster's intrinsic dispersion), with
    bootstrap-over-clusters uncertainties. RV offsets are applied whenever
    measured; [Fe/H] offsets only when significant.
:func:`apply_zero_points`
    Subtracts the applied offsets from the stars of each survey, and says so in
    the table's metadata.
"""
import warnings

import astropy.units as u
import numpy as np
from astropy.table import QTable

from ..exceptions import DroppedRowsWarning, ParameterError
from ..logger import log
from .likelihood import UNCONSTRAINED_FLAGS, likelihood_statistics

__all__ = ["survey_statistics", "fit_zero_points", "apply_zero_points",
           "ZERO_POINT_SIGNIFICANCE", "STAR_COLUMNS"]

#: The star column of each quantity with a zero point, and its unit.
STAR_COLUMNS = {"RV": ("rv", u.km / u.s), "[Fe/H]": ("feh", u.dex)}


def _value(col, unit):
    return np.asarray(u.Quantity(col, unit).value, float) if hasattr(col, "unit") \
        and col.unit is not None else np.asarray(col, float)


#: |offset| / e_offset above which a [Fe/H] zero point is applied (RV: always, when measured).
ZERO_POINT_SIGNIFICANCE = 2.0

# per quantity: cluster value, error, stars fitted, flag, literature value and error, unit
# (a survey's cluster value with a flag of UNCONSTRAINED_FLAGS stays out of the fit)
_ZP = {"RV": ("RV", "e_RV", "NRV", "f_RV", "RV", "e_RV", u.km / u.s),
       "[Fe/H]": ("[Fe/H]", "e_[Fe/H]", "NFeH", "f_[Fe/H]", "[Fe/H]", "e_[Fe/H]", u.dex)}


def _by_survey(stars):
    """``{survey: matched stars}`` from a dict or from one table with a ``survey`` column."""
    if isinstance(stars, dict):
        return {str(k): v for k, v in stars.items()}
    surveys = np.asarray(stars["survey"]).astype(str)
    return {name: stars[surveys == name] for name in np.unique(surveys)}


def survey_statistics(stars, *, cuts=None, show_progress=False, **model):
    """Each survey's own cluster values, on its own scale (the input of `fit_zero_points`).

    Parameters
    ----------
    stars : dict of str to `~astropy.table.QTable`, or `~astropy.table.QTable`
        The matched stars of each survey (before the combination keeps a star of
        several surveys once), or one table with a ``survey`` column.
    cuts : `~astro_ocl.steps.quality.QualityCuts`, optional
    show_progress : bool
    **model
        ``rv_model``, ``feh_model``, ``core_threshold`` of
        `astro_ocl.steps.likelihood.likelihood_statistics`.

    Returns
    -------
    dict of str to `~astropy.table.QTable`
        Per survey, the cluster rows of `~astro_ocl.steps.likelihood.likelihood_statistics`
        from that survey's stars alone, without zero points.
    """
    out = {}
    for survey, table in _by_survey(stars).items():
        if len(table):
            out[survey], _ = likelihood_statistics(
                table, cuts=cuts, show_progress=show_progress,
                label=f"{survey} alone, for the zero points", **model)
    return out


def _source_values(table, quantity, *, external):
    """Cluster, value, variance and stars of one source for one quantity (usable rows)."""
    col, ecol, ncol, fcol, lcol, lecol, unit = _ZP[quantity]
    names = np.asarray(table["Cluster"]).astype(str)
    if external:
        if lcol not in table.colnames:
            return names[:0], np.empty(0), np.empty(0), np.empty(0, int)
        x, ex = _value(table[lcol], unit), _value(table[lecol], unit)
        nst = np.asarray(np.ma.filled(np.ma.asarray(table["NRV"]), 0), float) \
            if "NRV" in table.colnames else np.ones(len(table))
        ok = np.isfinite(x) & np.isfinite(ex) & (ex > 0)
        return names[ok], x[ok], ex[ok] ** 2, nst[ok].astype(int)
    # the error of a single-star value already includes the survey's typical intrinsic
    # dispersion (likelihood_statistics, survey by survey: `survey_statistics`)
    x, ex = _value(table[col], unit), _value(table[ecol], unit)
    nst = np.asarray(table[ncol], int)
    flag = np.ma.filled(np.ma.asarray(table[fcol]).astype(str), "")
    ok = np.isfinite(x) & np.isfinite(ex) & (ex > 0) \
        & np.array([not (set(f) & UNCONSTRAINED_FLAGS) for f in flag], bool)
    return names[ok], x[ok], ex[ok] ** 2, nst[ok]


def _solve(n_mats, b_vecs, free):
    """Solve the reduced normal equations (offsets of the ``free`` sources)."""
    nm = n_mats[..., free[:, None], free[None, :]]
    bv = b_vecs[..., free]
    return np.linalg.solve(nm, bv[..., None])[..., 0], nm


def _connected(sources, pairs, reference):
    """The sources linked to the reference through shared clusters."""
    linked = {reference}
    grew = True
    while grew:
        grew = False
        for members in pairs:
            if linked & members and not members <= linked:
                linked |= members
                grew = True
    return [s for s in sources if s in linked]


def _normal_equations(w, m):
    """Per cluster, the normal equations of the offsets with the cluster mean eliminated.

    ``N_c = diag(w_c) - w_c w_c^T / W_c`` and ``b_c = w_c m_c - w_c (w_c . m_c) / W_c``
    (``W_c = sum(w_c)``), for weights ``w`` and values ``m`` of shape (clusters, sources).
    """
    wsum = w.sum(axis=1)
    safe = np.where(wsum > 0, wsum, 1.0)
    n_c = w[:, :, None] * np.eye(w.shape[1])[None] - w[:, :, None] * w[:, None, :] \
        / safe[:, None, None]
    b_c = w * m - w * ((w * m).sum(axis=1) / safe)[:, None]
    return n_c, b_c


def _fit_quantity(per_source, external, quantity, reference, *, n_bootstrap, rng,
                  significance, clip, min_clusters):
    """The joint fit of one quantity: the rows of the zero-point table, and the offsets'
    correlation matrix (``{"surveys": [...], "matrix": [[...]]}``, the fitted sources)."""
    unit = _ZP[quantity][-1]
    # external tables without the quantity (Gaia cluster RVs have no [Fe/H]) stay out
    sources = [s for s in per_source
               if s not in external or _ZP[quantity][4] in per_source[s].colnames]
    values = {s: _source_values(per_source[s], quantity, external=s in external)
              for s in sources}
    by_cluster = {}
    for si, s in enumerate(sources):
        for name, x, var, nst in zip(*values[s]):
            by_cluster.setdefault(str(name), []).append((si, x, var, nst))
    shared = {c: v for c, v in by_cluster.items() if len({si for si, *_ in v}) >= 2}
    clusters = sorted(shared)
    S, C = len(sources), len(clusters)
    w = np.zeros((C, S))
    m = np.zeros((C, S))
    nstars = np.zeros((C, S), int)
    for ci, c in enumerate(clusters):
        for si, x, var, nst in shared[c]:
            w[ci, si], m[ci, si], nstars[ci, si] = 1 / var, x, nst
    clipped = [[] for _ in sources]
    correlation = {"surveys": [], "matrix": []}
    offsets = {reference: 0.0}
    e_formal, e_boot, chi2r = {}, {}, np.nan
    while True:
        linked = _connected(sources, [{sources[si] for si in np.flatnonzero(w[ci])}
                                      for ci in range(C)], reference)
        free = np.array([sources.index(x) for x in linked if x != reference], int)
        if not free.size:
            break
        n_c, b_c = _normal_equations(w, m)
        delta, nm = _solve(n_c.sum(axis=0), b_c.sum(axis=0), free)
        full = np.zeros(S)
        full[free] = delta
        used = w > 0
        wsum = w.sum(axis=1)
        mu = ((m - full[None, :]) * w).sum(axis=1) / np.where(wsum > 0, wsum, 1)
        resid = np.where(used, m - mu[:, None] - full[None, :], 0.0)
        # one value at a time, the worst beyond `clip` standard deviations leaves the fit
        # (a binary or non-member taken for a one- or two-star cluster value)
        z = np.abs(resid) * np.sqrt(w)
        worst = np.unravel_index(np.argmax(z), z.shape)
        if z[worst] > clip:
            w[worst] = 0.0
            clipped[worst[1]].append(f"{clusters[worst[0]]} ({z[worst]:.1f} sigma)")
            continue
        chi2 = float((w * resid ** 2).sum())
        n_clusters = int((used.sum(axis=1) >= 2).sum())
        dof = int(used[used.sum(axis=1) >= 2].sum() - n_clusters - free.size)
        chi2r = chi2 / dof if dof > 0 else np.nan
        birge = np.sqrt(max(chi2r, 1.0)) if np.isfinite(chi2r) else 1.0
        cov = np.linalg.inv(nm)
        for k, si in enumerate(free):
            offsets[sources[si]] = float(delta[k])
            e_formal[sources[si]] = float(np.sqrt(cov[k, k]) * birge)
        # the offsets' correlation (the Birge factor scales it out): sources tied to the
        # reference through the same clusters move together
        sd = np.sqrt(np.diag(cov))
        rho = np.clip(cov / np.outer(sd, sd), -1, 1)
        np.fill_diagonal(rho, 1.0)
        correlation = {"surveys": [sources[si] for si in free],
                       "matrix": [[float(x) for x in row] for row in rho]}
        # bootstrap over clusters: resampled clusters enter with their multiplicity
        counts = rng.multinomial(C, np.full(C, 1 / C), size=int(n_bootstrap)).astype(float)
        nb = np.einsum("bc,cij->bij", counts, n_c)
        bb = counts @ b_c
        sub = nb[:, free[:, None], free[None, :]]
        ok = np.abs(np.linalg.det(sub)) > 1e-12 * np.abs(np.linalg.det(nm))
        if ok.sum() >= 0.5 * n_bootstrap:
            draws = np.linalg.solve(sub[ok], bb[ok][:, free][..., None])[..., 0]
            for k, si in enumerate(free):
                e_boot[sources[si]] = float(draws[:, k].std(ddof=1))
        break
    # a cluster left with one value constrains nothing
    w[(w > 0).sum(axis=1) < 2] = 0.0
    rows = []
    for si, s in enumerate(sources):
        in_fit = w[:, si] > 0
        ncl = int(in_fit.sum())
        row = dict(survey=s, quantity=quantity, reference=reference, unit=unit.to_string(),
                   offset=np.nan, e_offset=np.nan, e_formal=np.nan, e_boot=np.nan, N=ncl,
                   Nstars=int(nstars[in_fit, si].sum()), applied=False, chi2r=chi2r,
                   clusters=",".join(np.asarray(clusters)[in_fit]),
                   clipped=", ".join(clipped[si]),
                   kind="external table" if s in external else "survey")
        if s == reference:
            row.update(offset=0.0, e_offset=0.0, status="reference: the scale of the catalogue")
        elif s not in offsets:
            row["status"] = (f"not measured: no cluster links {s} to {reference} "
                             f"({ncl} clusters shared with other sources)")
        elif ncl < min_clusters:  # the cluster-to-cluster scatter cannot be estimated
            row["status"] = (f"not measured: {ncl} shared clusters (< {min_clusters}); the "
                             f"fit would give {offsets[s]:+.3g} +- {e_formal[s]:.2g} {unit}, "
                             "without a cluster-to-cluster scatter")
        else:
            eb = e_boot.get(s, np.nan)
            ef = e_formal[s]
            err = max(ef, eb) if np.isfinite(eb) else ef
            row.update(offset=offsets[s], e_offset=err, e_formal=ef, e_boot=eb)
            z = abs(offsets[s]) / err if err > 0 else np.inf
            if s in external:
                row["status"] = "external table: fitted, not applied (no stars)"
            elif quantity == "RV":
                row.update(applied=True, status=f"applied (RV zero points are applied when "
                                                f"measured; {z:.1f} sigma)")
            elif z > significance:
                row.update(applied=True, status=f"applied: {z:.1f} sigma > {significance:g}")
            else:
                row["status"] = f"not applied: {z:.1f} sigma <= {significance:g}"
        rows.append(row)
    return rows, correlation


_ZP_COLUMNS = {
    "survey": (str, "Survey (or external cluster table) whose zero point is fitted"),
    "quantity": (str, "Quantity (RV or [Fe/H])"),
    "reference": (str, "The reference scale (offset 0)"),
    "unit": (str, "Unit of offset, e_offset, e_formal, e_boot"),
    "offset": (float, "Zero point, survey minus reference: subtracted from the survey's "
                      "values when applied"),
    "e_offset": (float, "Uncertainty of offset: the larger of e_formal and e_boot"),
    "e_formal": (float, "Formal error of the weighted least-squares fit, times "
                        "sqrt(chi2r) when chi2r > 1"),
    "e_boot": (float, "Standard deviation of offset over bootstrap resamplings of the shared "
                      "clusters"),
    "N": (int, "Clusters in the fit where this source has a value (shared with at least one "
               "other source)"),
    "Nstars": (int, "Stars of this source behind its values in those clusters"),
    "applied": (bool, "Whether the offset is subtracted from the survey's stars"),
    "status": (str, "Why (not) applied"),
    "chi2r": (float, "Reduced chi-square of the joint fit of this quantity"),
    "kind": (str, "survey, or external table"),
    "clipped": (str, "This source's cluster values left out of the fit (more than `clip` "
                     "standard deviations from the fit)"),
    "clusters": (str, "The clusters where this source enters the fit"),
}


def fit_zero_points(per_survey, *, reference="APOGEE", external=None, external_min_stars=3,
                    quantities=("RV", "[Fe/H]"), significance=ZERO_POINT_SIGNIFICANCE,
                    clip=4.0, n_bootstrap=1000, seed=None, min_clusters=3):
    """Every survey's zero point against one named reference, fitted jointly.

    For each quantity, the model of the value ``m_sc`` of survey (or external table)
    ``s`` in cluster ``c`` is ``m_sc = mu_c + Delta_s`` with ``Delta_reference = 0``,
    fitted at once over all the clusters where two or more sources have a value
    (weighted least squares, weights 1 / e_sc^2; the cluster means ``mu_c`` are
    eliminated exactly, so the system has one unknown per source). ``e_sc`` is the
    posterior uncertainty of the likelihood method, which includes the cluster's
    intrinsic dispersion; that of a value from one star includes the survey's typical
    intrinsic dispersion (`astro_ocl.steps.likelihood.widen_single_stars`: median
    ``sRVint``/``sFeHint`` of its clusters with >= 5 stars).
    Values the likelihood flags as unconstrained (``0``, ``b``, ``c``, ``s``) stay
    out. A source that no chain of shared clusters links to the reference has no zero
    point. Robustness: one value at a time, the value farthest from the fit, if more
    than ``clip`` (4) standard deviations, leaves the fit and the fit is redone (a
    one-star value can be a binary: King 2's two APOGEE stars differ by 93 km/s); the
    ``clipped`` column lists them.

    Uncertainty: the larger of (a) the formal error times sqrt(chi2/dof) when that
    exceeds 1 (the Birge ratio: scatter beyond the errors, e.g. from membership,
    widens the error), and (b) the standard deviation over ``n_bootstrap`` resamplings
    of the shared clusters (a seeded generator). Both are in the table. The offsets
    are correlated (two surveys tied to the reference through the same clusters move
    together when the reference's values there do): their correlation matrix, from the
    formal covariance of the fit, is in the metadata; with the quoted errors ``e`` it
    makes the covariance ``C_ij = rho_ij e_i e_j`` that
    `astro_ocl.steps.likelihood.likelihood_statistics` propagates
    (``correlated_zero_points=True``).

    RV zero points are applied whenever measured; [Fe/H] zero points only when
    ``|offset| > significance * e_offset`` (the status says which and why). This is
    the approach of the surveys' own cluster work: OCCAM puts APOGEE and literature
    clusters on one scale by the offsets of common clusters (Donor et al. 2020, AJ 159,
    199; Myers et al. 2022, AJ 164, 85), and Zhang et al. (2024, A&A 692, A212) bring
    LAMOST [Fe/H] to a high-resolution scale (GALAH) from common stars; here the
    offsets of all surveys are fitted at once, so a survey pair with few common
    clusters borrows strength from the others.

    Parameters
    ----------
    per_survey : dict of str to `~astropy.table.QTable`
        Per survey, its cluster values from its own stars (:func:`survey_statistics`).
    reference : str or dict
        The scale: a survey of ``per_survey`` or a key of ``external``; a dict
        ``{"RV": ..., "[Fe/H]": ...}`` names one per quantity.
    external : dict of str to `~astropy.table.QTable`, optional
        External cluster tables in the canonical literature form
        (`astro_ocl.sources.literature.read_literature`: ``Cluster, RV, e_RV, NRV``,
        ``[Fe/H], e_[Fe/H]``): they enter the fit as sources with their own offsets
        (or as the reference). Rows with fewer than ``external_min_stars`` stars
        (``NRV``) are not used.
    external_min_stars : int
    quantities : sequence of {"RV", "[Fe/H]"}
    significance : float
        ``|offset| / e_offset`` above which a [Fe/H] zero point is applied.
    clip : float
        Values farther than this many standard deviations from the fit leave it.
    n_bootstrap : int
    seed : int, optional
        Seed of the bootstrap.
    min_clusters : int
        A source whose values enter the fit in fewer clusters gets no zero point
        (status "not measured": its offset would rest on fewer clusters than it
        takes to see their scatter; its clusters are flagged ``z``).

    Returns
    -------
    `~astropy.table.QTable`
        One row per (source, quantity): ``survey, quantity, reference, unit, offset,
        e_offset, e_formal, e_boot, N, Nstars, applied, status, chi2r, kind, clipped,
        clusters``. ``meta['reference']`` is the RV reference, ``meta['references']``
        both, ``meta['applied']`` a one-line summary, ``meta['correlation']`` per
        quantity the correlation matrix of the fitted offsets, ``{"surveys": [...],
        "matrix": [[...]]}`` (plain lists: an ECSV file keeps it).

    Raises
    ------
    ParameterError
        The reference is not one of the sources, or a quantity is unknown.
    """
    external = {} if external is None else dict(external)
    refs = dict(reference) if isinstance(reference, dict) else {q: reference for q in quantities}
    sources = {**per_survey}
    for name, table in external.items():
        if name in sources:
            raise ParameterError("external", name, "has the name of a survey")
        t = table
        if "NRV" in t.colnames:
            nrv = np.asarray(np.ma.filled(np.ma.asarray(t["NRV"]), 0), float)
            t = t[nrv >= int(external_min_stars)]
        sources[name] = t
    rng = np.random.default_rng(None if seed is None else [int(seed), 18])
    rows, correlations = [], {}
    for quantity in quantities:
        if quantity not in _ZP:
            raise ParameterError("quantities", quantity, f"one of {sorted(_ZP)}")
        ref = refs.get(quantity)
        if ref not in sources:
            raise ParameterError("reference", ref,
                                 f"not one of the surveys or external tables: {sorted(sources)}")
        part, correlations[quantity] = _fit_quantity(
            sources, set(external), quantity, ref, n_bootstrap=n_bootstrap, rng=rng,
            significance=significance, clip=clip, min_clusters=min_clusters)
        rows.extend(part)
    names = list(_ZP_COLUMNS)
    out = QTable(rows=[[r[n] for n in names] for r in rows], names=names,
                 dtype=[_ZP_COLUMNS[n][0] for n in names])
    for name, (_, text) in _ZP_COLUMNS.items():
        out[name].info.description = text
    applied = [f"{r['survey']} {r['quantity']} {-r['offset']:+.3g} {r['unit']} "
               f"(+-{r['e_offset']:.2g}, {r['N']} clusters, vs {r['reference']})"
               for r in rows if r["applied"]]
    out.meta.update(reference=refs.get("RV", next(iter(refs.values()))),
                    references="; ".join(f"{q}: {r}" for q, r in refs.items()),
                    method="joint weighted least squares over shared clusters (offsets and "
                           "cluster means)",
                    significance=float(significance), n_bootstrap=int(n_bootstrap),
                    min_clusters=int(min_clusters),
                    external_min_stars=int(external_min_stars), clip=float(clip),
                    seed="none" if seed is None else int(seed),
                    applied="; ".join(applied) if applied else "none",
                    correlation=correlations)
    return out


def apply_zero_points(stars, zero_points):
    """Put the stars of every survey on the reference survey's scale.

    Subtracts each applied ``offset`` from the ``rv`` or ``feh`` of the stars of
    that survey (column ``survey``), for the statistics that take no zero points
    themselves (the paper's Monte Carlo;
    `astro_ocl.steps.likelihood.likelihood_statistics` takes the table). Offsets
    that were not measured are not applied (a
    `~astro_ocl.exceptions.DroppedRowsWarning` names them). The
    uncertainty of an offset is not added to the stars' errors (it is common
    to all the stars of a survey, not a per-star error); it is reported in the
    zero-point table.

    Parameters
    ----------
    stars : `~astropy.table.QTable`
        Stars with a ``survey`` column.
    zero_points : `~astropy.table.QTable`
        From :func:`fit_zero_points` (only the rows with ``applied`` True are
        subtracted).

    Returns
    -------
    `~astropy.table.QTable`
        A copy; ``meta['zero_points_applied']`` lists what was subtracted.
    """
    out = stars.copy()
    surveys = np.asarray(out["survey"]).astype(str)
    applied, skipped = [], []
    for row in zero_points:
        col, unit = STAR_COLUMNS[str(row["quantity"])]
        if col not in out.colnames:
            continue
        rows = surveys == str(row["survey"])
        if not rows.any():
            continue
        if not np.isfinite(row["offset"]):
            skipped.append(f"{row['survey']} {row['quantity']}")
            continue
        if "applied" in zero_points.colnames and not row["applied"]:
            continue  # the reference, or a zero point fit_zero_points does not apply
        out[col][rows] = out[col][rows] - row["offset"] * unit
        applied.append(f"{row['survey']} {row['quantity']} {-row['offset']:+.4g} {unit} "
                       f"(+-{row['e_offset']:.2g}, {row['N']} clusters, vs {row['reference']})")
    if skipped:
        warnings.warn(f"zero points not applied (not measured): {', '.join(skipped)}",
                      DroppedRowsWarning)
    out.meta["zero_points_applied"] = "; ".join(applied) if applied else "none"
    log.info("zero points applied: %s", out.meta["zero_points_applied"])
    return out
