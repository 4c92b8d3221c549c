"""The cluster model of the likelihood method: one quantity, one cluster (see the package notes).

`fit_cluster` computes the posterior of ``(f, v, sigma)`` of one cluster's stars on a
self-refining grid; `QuantityModel` holds a quantity's priors; `FLAGS` the codes of
a value the stars do not constrain.
"""
from dataclasses import dataclass, field, replace

import astropy.units as u
import numpy as np

from ...exceptions import ParameterError

__all__ = ["METHODS", "DEFAULT_METHOD", "FLAGS", "ClusterFit", "QuantityModel", "RV_MODEL",
           "FEH_MODEL", "fit_cluster", "with_flag", "with_note"]

#: The cluster statistics the package computes: the model of this module (default of a
#: multi-survey build) and the Monte Carlo medians of Fu et al. (2022)
#: (`astro_ocl.steps.statistics.cluster_statistics`).
METHODS = ("likelihood", "fu2022-montecarlo")
DEFAULT_METHOD = "likelihood"

#: The flag codes of a cluster value (``f_RV``, ``f_[Fe/H]``).
FLAGS = {
    "0": "no usable star",
    "1": "single star: its value; its error and the typical intrinsic dispersion in "
         "quadrature",
    "b": "multimodal posterior: groups of stars are equally good candidates for the core",
    "s": "intrinsic dispersion at the prior edge: the stars disagree beyond any plausible "
         "internal dispersion",
    "c": "core of fewer than 1.5 stars: the value rests on about one star",
    "z": "a survey's zero point was not measured: its stars are not on the reference scale",
}

_LOG_2PI = np.log(2 * np.pi)
_THRESHOLD = 15.0       # log-posterior below the peak where a grid stops
_EDGE = 12.0            # an end of the v grid within e^-12 of the peak: the grid grows
_NV, _NS, _NF = 40, 24, 8  # grid nodes in v, sigma and f per pass (about)
_THIN = 8               # fewer stars: up to 4 times the nodes (see _grid_posterior)
_MAX_PASSES = 7         # refinements
_MAX_EXTENSIONS = 30    # growths of the v grid (each at least doubles its width)
_TOL = 0.05             # quantiles settled: moved by less than 5 % of the 16-84 % range
_MODE_MASS = 0.1        # a secondary mode holding >= 10 % of the posterior: multimodal
_EDGE_DENSITY = 0.9     # posterior of sigma at sigma_max >= 0.9 of its peak: at the edge


@dataclass(frozen=True)
class QuantityModel:
    """The model of one cluster quantity (see the module notes).

    Parameters
    ----------
    sigma_max : `~astropy.units.Quantity`
        Upper edge of the flat prior of the intrinsic dispersion.
    outlier_scale : `~astropy.units.Quantity` or None
        Half width ``gamma`` of the Cauchy outlier component; None: no outliers.
    outlier_fraction_max : float
        Upper edge of the flat prior of the outlier fraction ``f`` (in (0, 1)).
    """

    sigma_max: u.Quantity
    outlier_scale: u.Quantity = None
    outlier_fraction_max: float = 0.5

    def __post_init__(self):
        if not self.sigma_max.value > 0:
            raise ParameterError("sigma_max", self.sigma_max, "must be positive")
        if self.outlier_scale is not None:
            if not self.outlier_scale.unit.is_equivalent(self.sigma_max.unit) \
                    or not self.outlier_scale.value > 0:
                raise ParameterError("outlier_scale", self.outlier_scale,
                                     f"must be a positive quantity in {self.sigma_max.unit}")
        if not 0 < self.outlier_fraction_max < 1:
            raise ParameterError("outlier_fraction_max", self.outlier_fraction_max,
                                 "must be in (0, 1)")

    def as_meta(self, prefix):
        """The model as plain strings, for table metadata and provenance."""
        return {f"{prefix}_sigma_max": str(self.sigma_max),
                f"{prefix}_outlier": "none" if self.outlier_scale is None else
                f"Cauchy, half width {self.outlier_scale}, fraction flat on "
                f"[0, {self.outlier_fraction_max:g}]"}


#: Default models: RV with a 20 km/s Cauchy outlier component; [Fe/H] without one.
RV_MODEL = QuantityModel(sigma_max=20 * u.km / u.s, outlier_scale=20 * u.km / u.s)
FEH_MODEL = QuantityModel(sigma_max=0.5 * u.dex)


@dataclass(frozen=True)
class ClusterFit:
    """The fit of one cluster quantity (plain floats in the quantity's unit).

    Attributes
    ----------
    n : int
        Stars fitted.
    value, error : float
        Posterior median of the cluster value and half its 16-84 % interval, with the
        zero points' uncertainty (``error_zp``) added in quadrature.
    error_zp : float
        The zero points' part of ``error`` (0 without zero points).
    sigma, e_sigma : float
        Intrinsic dispersion: posterior median and half its 16-84 % interval (NaN for
        fewer than two stars).
    n_core : float
        Sum of ``p_core``.
    p_core : ndarray
        Per star, the posterior probability of belonging to the core.
    flag : str
        Codes of :data:`FLAGS`, sorted; empty when the value is constrained.
    note : str
        The flags in words.
    converged : bool
        False when the posterior grid did not settle (its last grid is used).
    """

    n: int
    value: float
    error: float
    error_zp: float
    sigma: float
    e_sigma: float
    n_core: float
    p_core: np.ndarray = field(repr=False)
    flag: str = ""
    note: str = ""
    converged: bool = True


def _nan_fit(n=0, flag="0", note=None):
    return ClusterFit(n, np.nan, np.nan, np.nan, np.nan, np.nan, 0.0, np.full(n, np.nan),
                      flag, FLAGS[flag] if note is None else note)


def _trapezoid_weights(x):
    """Weights w with sum(w * f(x)) the trapezoid integral of f over sorted nodes x."""
    w = np.zeros_like(x)
    if x.size > 1:
        d = np.diff(x)
        w[:-1] += d / 2
        w[1:] += d / 2
    else:
        w[:] = 1.0
    return w


def _quantiles(x, density, probs):
    """Quantiles of a density given on sorted nodes (trapezoid CDF, linear inside)."""
    if x.size == 1:
        return np.full(len(probs), x[0])
    mass = np.diff(x) * (density[1:] + density[:-1]) / 2
    cdf = np.concatenate([[0.0], np.cumsum(mass)])
    cdf /= cdf[-1]
    return np.interp(probs, cdf, x)


def _modes(x, density):
    """The modes of a density on sorted nodes: their masses and peak positions.

    Neighbouring peaks are one mode unless the valley between them falls below half
    the lower peak.
    """
    if x.size < 3:
        return np.array([1.0]), x[np.argmax(density)][None]
    mass = np.diff(x) * (density[1:] + density[:-1]) / 2
    cell = np.concatenate([[mass[0] / 2], (mass[1:] + mass[:-1]) / 2, [mass[-1] / 2]])
    peaks = np.flatnonzero((density >= np.concatenate([[-1], density[:-1]]))
                           & (density > np.concatenate([density[1:], [-1]])))
    cuts = []
    for p, q in zip(peaks[:-1], peaks[1:]):
        j = p + int(np.argmin(density[p:q + 1]))
        if density[j] < 0.5 * min(density[p], density[q]):
            cuts.append(j)
    bounds = list(zip([0] + cuts, cuts + [x.size]))
    masses = np.array([cell[a:b].sum() for a, b in bounds])
    tops = np.array([x[a + int(np.argmax(density[a:b]))] for a, b in bounds])
    return masses / masses.sum(), tops


class _Stars:
    """The stars of one fit, with the per-star pieces of the likelihood."""

    def __init__(self, y, e, gamma):
        self.y, self.e = y, e
        self.var_e = e ** 2
        self.gamma = None if gamma is None else np.sqrt(gamma ** 2 + self.var_e)

    def log_posterior(self, f, v, s):
        """The log posterior on the grid (nf, nv, ns) and the ratios core/outlier density.

        With ``r_i = N(y_i | v, e_i^2 + s^2) / Cauchy(y_i | v, gamma_i)`` the likelihood of
        star i is ``Cauchy_i * ((1 - f) r_i + f)``. The (stars, v, sigma) arrays are single
        precision (three times faster; the sums over stars are pairwise, their rounding
        ~1e-7 relative, far below what moves a quantile); the sums are returned in double.
        """
        var = (self.var_e[:, None, None] + (s ** 2)[None, None, :]).astype(np.float32)
        d2 = ((self.y[:, None, None] - v[None, :, None]) ** 2).astype(np.float32)
        core = d2 / var
        core += np.log(var)
        core *= np.float32(-0.5)
        core -= np.float32(0.5 * _LOG_2PI)
        if self.gamma is None:
            return core.sum(axis=0, dtype=np.float64)[None], None
        g2 = (self.gamma ** 2)[:, None, None]
        out = (-np.log(np.pi * np.sqrt(g2)) - np.log1p(d2 / g2)).astype(np.float32)
        core -= out
        r = np.exp(np.minimum(core, np.float32(80.0)), out=core)
        out_sum = out.sum(axis=0, dtype=np.float64)
        logpost = np.empty((f.size, v.size, s.size))
        work = np.empty_like(r)
        with np.errstate(divide="ignore"):  # f = 0 and a star with r = 0: probability 0
            for k, fk in enumerate(f):
                np.multiply(r, np.float32(1 - fk), out=work)
                work += np.float32(fk)
                np.log(work, out=work)
                logpost[k] = work.sum(axis=0, dtype=np.float64) + out_sum
        return logpost, r


def _spread(lo, hi, n):
    return np.linspace(lo, hi, n) if hi > lo else np.array([lo])


def _kept_range(nodes, keep):
    """[lo, hi] over the kept nodes, padded by one neighbour."""
    idx = np.flatnonzero(keep)
    return nodes[max(idx[0] - 1, 0)], nodes[min(idx[-1] + 1, nodes.size - 1)]


def _kept_intervals(nodes, keep):
    """Merged [lo, hi] intervals around the kept nodes, padded by one neighbour."""
    idx = np.flatnonzero(keep)
    out = []
    for i in idx:
        a, b = nodes[max(i - 1, 0)], nodes[min(i + 1, nodes.size - 1)]
        if out and a <= out[-1][1]:
            out[-1][1] = max(out[-1][1], b)
        else:
            out.append([a, b])
    return out


def _refine(nodes, density, keep, n, *, intervals=False, anchors=None, log_from=None):
    """New nodes: ``n`` uniform over the kept region and ``n`` at quantiles of the density.

    The uniform part follows the posterior's tails (and every mode when ``intervals``):
    half of it over the kept region, half over the central 99.8 % of the mass (a kept
    region much wider than the mass, the far tails of a thin sample, must not leave the
    core to the quantile nodes alone); the quantile part resolves where the mass is;
    ``anchors`` (the stars' values, for few stars) inside the kept region are nodes too,
    so that a core of one star peaks on a node. With ``log_from``, the part over the
    kept region is geometric from that value when the region spans more than a decade
    (a dispersion the stars do not constrain).
    """
    m = n - n // 2
    if intervals:
        parts = _kept_intervals(nodes, keep)
        lengths = np.array([b - a for a, b in parts])
        total = lengths.sum()
        uniform = [_spread(a, b, max(6, int(round(m * ln / total))) if total > 0 else 1)
                   for (a, b), ln in zip(parts, lengths)]
        if anchors is not None:
            uniform += [anchors[(anchors >= a) & (anchors <= b)] for a, b in parts]
    else:
        lo, hi = _kept_range(nodes, keep)
        if log_from is not None and hi > max(lo, log_from) * 10:
            uniform = [np.array([lo]), np.geomspace(max(lo, log_from), hi, m)]
        else:
            uniform = [_spread(lo, hi, m)]
    uniform.append(_spread(*_quantiles(nodes, density, [1e-3, 1 - 1e-3]), n // 2))
    mid = _quantiles(nodes, density, (np.arange(n) + 0.5) / n)
    return np.unique(np.concatenate(uniform + [mid]))


def _marginals(f, v, s, logpost):
    """The normalised joint posterior mass per node and the marginal densities."""
    wf, wv, ws = _trapezoid_weights(f), _trapezoid_weights(v), _trapezoid_weights(s)
    joint = np.exp(logpost - logpost.max()) * (wf[:, None, None] * wv[None, :, None]
                                               * ws[None, None, :])
    joint /= joint.sum()
    # distinct nodes: every trapezoid weight is positive
    return joint, joint.sum(axis=(1, 2)) / wf, joint.sum(axis=(0, 2)) / wv, \
        joint.sum(axis=(0, 1)) / ws


def _extend(v, low, high, n):
    """``v`` with ``n`` uniform nodes over its own width added below (``low``) and/or
    above (``high``) it."""
    width = max(v[-1] - v[0], 1e-12)
    parts = [v]
    if low:
        parts.append(np.linspace(v[0] - width, v[0], n + 1)[:-1])
    if high:
        parts.append(np.linspace(v[-1], v[-1] + width, n + 1)[1:])
    return np.unique(np.concatenate(parts))


def _grid_posterior(stars, sigma_max, f_max):
    """The posterior on a (f, v, sigma) grid refined until its quantiles settle.

    The first grid spans the stars' values (uniform nodes and the stars' quantiles),
    sigma in [0, sigma_max] (log-spaced) and f in [0, f_max]. v has a flat prior, so
    the posterior of a few stars reaches far beyond them (a dispersion up to
    sigma_max, and the outlier component's tails, ~|v|^-2n for n stars and f > 0):
    while the posterior at an end of the v grid (joint, or marginal of v) is within
    e^-12 of its peak, the grid grows on that side by its own width (``_NV / 2`` new
    uniform nodes) and the posterior is computed again, a pass that is not a
    refinement and ends no convergence test. The polynomial tails end the growth: for
    two stars with 0.1 km/s errors the v grid reaches about +-200 km/s. Each next grid
    puts half its nodes uniformly (half of them over the region within e^-15 of the
    peak of the joint posterior or of a marginal, where every separate mode of v keeps
    its own interval, half over the central 99.8 % of the mass) and half at quantiles
    of the current marginals; it stops when the 16/50/84 % points of v and sigma move
    by less than 5 % of their 16-84 % range. A thin sample (fewer than 6 stars: sigma
    unconstrained, the marginal of v a cusp on broad tails) gets up to 4 times the v
    nodes and twice the sigma nodes, geometric in sigma; its nodes are cheap (the cost
    is stars x nodes).

    Returns
    -------
    f, v, s, logpost, r, joint, pv, ps
        The last grid and the posterior computed on it.
    converged : bool
        False when ``_MAX_PASSES`` refinements did not settle the quantiles, or
        ``_MAX_EXTENSIONS`` growths did not reach the tails: the arrays are still
        those of the returned grid.
    """
    y, e = stars.y, stars.e
    thin = int(np.clip(round(_THIN / y.size), 1, 4))
    nv, ns = _NV * thin, _NS * min(thin, 2)
    pad = 3 * float(np.median(e))
    lo, hi = float(y.min()) - pad, float(y.max()) + pad
    q = y if y.size <= nv else np.quantile(y, np.linspace(0, 1, nv))
    v = np.unique(np.concatenate([np.linspace(lo, hi, nv), q]))
    s0 = max(min(0.1 * float(e.min()), sigma_max / 100), sigma_max * 1e-4)
    s = np.concatenate([[0.0], np.geomspace(s0, sigma_max, ns - 1)])
    f = np.zeros(1) if stars.gamma is None else np.linspace(0, f_max, _NF)
    previous, passes, extensions, converged = None, 0, 0, False
    while True:
        logpost, r = stars.log_posterior(f, v, s)
        joint, pf, pv, ps = _marginals(f, v, s, logpost)
        # the region within e^-15 of the peak, of the joint posterior or of a marginal
        # (a thin sample's joint peak is a narrow cusp at small sigma; the broad
        # region at large sigma below it holds much of the marginal mass of v)
        keep = logpost >= logpost.max() - _THRESHOLD
        keep_f, keep_v, keep_s = (keep.any(axis=axes) | (p >= np.exp(-_THRESHOLD) * p.max())
                                  for axes, p in (((1, 2), pf), ((0, 2), pv), ((0, 1), ps)))
        edge = [bool((logpost[:, i] >= logpost.max() - _EDGE).any()
                     or pv[i] >= np.exp(-_EDGE) * pv.max()) for i in (0, -1)]
        if any(edge) and extensions < _MAX_EXTENSIONS:
            v = _extend(v, *edge, _NV // 2)
            extensions += 1
            previous = None  # the grid did not hold the posterior: no convergence test
            continue
        now = np.concatenate([_quantiles(v, pv, [0.16, 0.5, 0.84]),
                              _quantiles(s, ps, [0.16, 0.5, 0.84])])
        if previous is not None:
            scale = np.repeat([max(now[2] - now[0], 1e-12), max(now[5] - now[3], 1e-12)], 3)
            if np.all(np.abs(now - previous) < _TOL * scale):
                converged = not any(edge)
                break
        passes += 1
        if passes >= _MAX_PASSES:
            break
        previous = now
        v = _refine(v, pv, keep_v, nv // 2, intervals=True,
                    anchors=y if y.size <= _NV else None)
        s = _refine(s, ps, keep_s, ns // 2, log_from=s0 if thin > 1 else None)
        if f.size > 1:
            f = _refine(f, pf, keep_f, _NF // 2)
    return f, v, s, logpost, r, joint, pv, ps, converged


def _zero_point_error(weights, offsets_error, surveys, correlation):
    """The zero points' uncertainty of a weighted mean: ``sqrt(s^T C s)``.

    ``s`` holds each survey's share of the weights, ``C_ij = rho_ij e_i e_j`` the
    covariance of the surveys' zero points (errors ``e``, correlations ``rho`` from the
    nested mapping ``correlation``; None or a missing pair: 0, independent).
    """
    labels = np.unique(surveys)
    share = np.array([weights[surveys == lab].sum() for lab in labels]) / weights.sum()
    error = np.array([offsets_error[surveys == lab].max() for lab in labels])
    rho = np.eye(labels.size)
    if correlation:
        for i, a in enumerate(labels):
            for j, b in enumerate(labels):
                if i != j:
                    rho[i, j] = correlation.get(str(a), {}).get(str(b), 0.0)
    x = share * error
    return float(np.sqrt(max(x @ rho @ x, 0.0)))


def fit_cluster(values, errors, *, model=RV_MODEL, offsets_error=None, surveys=None,
                offsets_correlation=None):
    """Fit the cluster value of one set of stars (see the module notes).

    Parameters
    ----------
    values, errors : `~astropy.units.Quantity` or array-like, shape (n,)
        The stars' values on the reference scale and their errors (in the unit of
        ``model.sigma_max`` when plain numbers). Non-finite values, and errors that
        are not finite and positive, are not allowed (select the stars first).
    model : `QuantityModel`
        The model; default `RV_MODEL`.
    offsets_error : array-like, shape (n,), optional
        Uncertainty of the zero point applied to each star (0 for the reference
        survey); stars of one survey share one zero point.
    surveys : array-like, shape (n,), optional
        Labels of the stars' surveys (for ``offsets_error``); default: one survey.
    offsets_correlation : dict, optional
        ``{survey: {survey: rho}}``: the correlations of the surveys' zero points (the
        metadata of `astro_ocl.steps.zeropoints.fit_zero_points`; see
        `~astro_ocl.steps.likelihood.zero_point_lookup`). None: independent.

    Returns
    -------
    `ClusterFit`
        One star: its value and its own error (with the zero point's), flag ``1``
        (`~astro_ocl.steps.likelihood.likelihood_statistics` adds the typical intrinsic
        dispersion of its clusters).

    Raises
    ------
    ParameterError
        A value or error is not finite, or an error is not positive.

    Examples
    --------
    >>> import astropy.units as u
    >>> fit = fit_cluster([-42.48, -135.45] * u.km / u.s, [0.11, 0.11] * u.km / u.s)
    >>> fit.flag, round(fit.error)    # two stars 93 km/s apart: either could be the core
    ('bcs', 48)
    """
    unit = model.sigma_max.unit
    y = np.atleast_1d(u.Quantity(values, unit).value).astype(float)
    e = np.atleast_1d(u.Quantity(errors, unit).value).astype(float)
    if y.shape != e.shape:
        raise ParameterError("errors", e.shape, f"must have the shape of values {y.shape}")
    bad = ~np.isfinite(y) | ~np.isfinite(e) | ~(e > 0)
    if bad.any():
        i = int(np.flatnonzero(bad)[0])
        raise ParameterError("values", f"row {i}: {y[i]} +- {e[i]}",
                             "values must be finite and errors finite and positive")
    n = y.size
    zp = np.zeros(n) if offsets_error is None else np.asarray(offsets_error, float)
    labels = np.zeros(n, int) if surveys is None else np.asarray(surveys)
    if n == 0:
        return _nan_fit()
    if n == 1:
        ezp = float(zp[0])
        return ClusterFit(1, float(y[0]), float(np.hypot(e[0], ezp)), ezp, np.nan, np.nan,
                          1.0, np.ones(1), "1", FLAGS["1"])
    sigma_max = float(model.sigma_max.value)
    gamma = None if model.outlier_scale is None else float(model.outlier_scale.to_value(unit))
    stars = _Stars(y, e, gamma)
    f, v, s, _, r, joint, pv, ps, converged = _grid_posterior(stars, sigma_max,
                                                              model.outlier_fraction_max)
    v16, v50, v84 = _quantiles(v, pv, [0.16, 0.5, 0.84])
    s16, s50, s84 = _quantiles(s, ps, [0.16, 0.5, 0.84])
    # core probabilities: the posterior average of each star's core responsibility
    if r is None:
        p_core = np.ones(n)
    else:
        # over the (v, sigma) nodes that hold the mass (the rest: < 1e-7 of the peak)
        cells = joint.sum(axis=0)
        sel = cells > 1e-7 * cells.max()
        rs = r[:, sel]
        p_core = np.zeros(n)
        for k, fk in enumerate(f):
            w = joint[k][sel]
            if w.sum() <= 0:
                continue
            rc = rs * np.float32(1 - fk)
            denom = rc + np.float32(fk)
            resp = np.divide(rc, denom, out=np.zeros_like(rc), where=denom > 0)
            p_core += resp @ w.astype(np.float32)
        p_core /= joint[:, sel].sum()
    # the zero points' uncertainty: each survey's share of the core's weight
    ezp = 0.0
    if np.any(zp > 0):
        ezp = _zero_point_error(p_core / (e ** 2 + s50 ** 2), zp, labels, offsets_correlation)
    n_core = float(p_core.sum())
    codes = []
    stat = (v84 - v16) / 2
    masses, tops = _modes(v, pv)
    if (masses >= _MODE_MASS).sum() >= 2:
        codes.append("b")
        # several modes: the error reaches every mode's peak (the 16-84 % interval of
        # two equal modes ends inside each)
        stat = max(stat, float(np.abs(tops[masses >= _MODE_MASS] - v50).max()))
    err = float(np.hypot(stat, ezp))
    if n_core < 1.5:
        codes.append("c")
    if s[-1] >= sigma_max and ps[-1] >= _EDGE_DENSITY * ps.max():
        codes.append("s")
    flag = "".join(sorted(codes))
    note = "; ".join(FLAGS[c] for c in flag)
    return ClusterFit(n, float(v50), err, float(ezp), float(s50), float((s84 - s16) / 2),
                      n_core, p_core, flag, note, converged)


def with_flag(fit, extra):
    """``fit`` with the codes ``extra`` added to its flag."""
    if not extra:
        return fit
    flag = "".join(sorted(set(fit.flag) | set(extra)))
    return replace(fit, flag=flag, note="; ".join(FLAGS[c] for c in flag))


def with_note(fit, text):
    """``fit`` with ``text`` added to its note."""
    return replace(fit, note=f"{fit.note}; {text}" if fit.note else text)
