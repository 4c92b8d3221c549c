"""Cluster radial velocity and [Fe/H] as a likelihood: intrinsic dispersion, binaries, outliers.

The paper's statistics (:func:`astro_ocl.steps.statistics.cluster_statistics`, the
method named ``"fu2022-montecarlo"``) take a median of the stars within 2 sigma of
the pooled mean, with an error from the measurement errors alone. Two stars that
disagree by 90 km/s then give a value with a 0.1 km/s error. Here a cluster value is
the parameter of a model of its stars (the method named ``"likelihood"``).

The model
---------
Star *i* of survey *s(i)* measures ``x_i`` with error ``e_i``; on the reference
scale its value is ``y_i = x_i - Delta_s(i)`` (the survey's zero point,
`astro_ocl.steps.zeropoints.fit_zero_points`, when one is applied). With
probability ``1 - f`` the star belongs to the cluster *core*,

    y_i ~ N(v, e_i^2 + sigma^2),

where ``sigma`` is the intrinsic dispersion (the cluster's internal motions,
and whatever part of the stars' errors the survey under-states; Gaia DR3's
validation on clusters finds bright stars 5-10 quoted errors from their cluster's
median, Gaia DR3 documentation, sect. 14.7.3). With probability
``f`` it is an *outlier*: a binary caught away from its centre-of-mass velocity,
a non-member, or a failed measurement,

    y_i ~ Cauchy(v, gamma_i),  gamma_i = sqrt(gamma^2 + e_i^2).

Why a Cauchy of half width ``gamma`` = 20 km/s (RV): the velocities of field stars
seen through a cluster scatter about the cluster's own (both follow the disc's
rotation) with the disc's line-of-sight dispersion of 20-30 km/s, and the orbital
velocities of binaries are sharply peaked with long tails (Cottaar et al. 2012, A&A
547, A35, Fig. 1); the heavy tails of the Cauchy keep a grossly wrong velocity
(APOGEE stars at -473 and +845 km/s in NGC 2243) from pulling ``v``: its pull falls
as 1/distance instead of growing with it. This is the mixture model of Hogg, Bovy &
Lang (2010, arXiv:1008.4686, sect. 3) with the cluster's own dispersion, and the
single-epoch binary model of Cottaar et al. (2012) with the binaries' velocity
distribution replaced by one broad component that also takes non-members. Cluster
catalogues built from Gaia and ground-based RVs (Soubiran et al. 2018, A&A 619,
A155; Tarricq et al. 2021, A&A 647, A19) give weighted means of the members; the
mixture gives the same weighted mean when no star is an outlier, and says when the
stars do not define one value.

[Fe/H] takes the same model without the outlier component (binaries do not change
[Fe/H]; the stars used for it are the RV core, the analogue of the paper's FLAG=1,
that pass the Teff/log g cuts of FLAG=12); a `QuantityModel` with an ``outlier_scale``
turns one on.

Priors: ``v`` flat; ``sigma`` flat on [0, ``sigma_max``] (20 km/s, 0.5 dex: far above
the internal dispersion of a bound cluster and the errors of any survey used here, so
a posterior that piles up at that edge says the stars do not agree, not that the prior
was tight); ``f`` flat on [0, ``outlier_fraction_max``] = [0, 0.5] (the core is the
majority of the stars: the members are astrometric members with probability >= 0.7,
and spectroscopic binary fractions of open clusters are ~30 %, Mermilliod et al. 2009,
A&A 498, 949).

The computation
---------------
The posterior of ``(f, v, sigma)`` on a grid that refines itself: the first grid spans
the stars' values (uniform nodes and the stars' quantiles), ``sigma`` in [0,
sigma_max] (log-spaced) and ``f`` in [0, f_max]; each next grid puts half its nodes
uniformly over the region within e^-15 of the peak (each separate mode of ``v`` keeps
its own interval) and half at quantiles of the current marginals, until the 16/50/84 %
points of ``v`` and ``sigma`` move by less than 5 % of their 16-84 % range (2-6
passes). Marginals by the trapezoid rule. No random numbers: the same stars give the
same numbers. Measured on the stars of the default build against a grid three to four
times finer in each direction: values agree to 0.04 of their error, errors to 3 % for
90 % of the clusters (15 % at worst). Reported:

* ``value``: the median of the marginal posterior of ``v``; ``error``: half its 16-84 %
  interval (which includes the uncertainty of ``sigma`` and of the outliers'
  membership; for a multimodal posterior, flag ``b``, at least the distance from the
  median to the farthest mode's peak, so that it spans the candidate values), in
  quadrature with the zero points' uncertainty, each survey's weighted by that
  survey's share of the core's weight (a zero point moves all the stars of a survey
  together, so it does not average down);
* ``sigma``, ``e_sigma``: median and half 16-84 % interval of the marginal of
  ``sigma``;
* ``n_core``: the sum over stars of ``p_core``, the posterior probability that the
  star belongs to the core;
* ``flag``, ``note``: :data:`FLAGS` (a string of one-letter codes, empty when the value
  is constrained) and the reason in words. ``b``: the posterior of ``v`` has two or
  more modes of at least 10 % of its mass; ``s``: the posterior of ``sigma`` at
  ``sigma_max`` is at least 90 % of its peak (it rises to the prior's edge); ``c``:
  ``n_core`` < 1.5.

One star: its value and error (and the zero point's error), flag ``1``.
"""
from dataclasses import dataclass, field

import astropy.units as u
import numpy as np
from astropy.table import QTable

from .. import schema
from ..exceptions import ParameterError
from ..utils import progress
from .quality import QualityCuts, parameter_flag
from .statistics import STATISTICS_COLUMNS

__all__ = ["METHODS", "DEFAULT_METHOD", "FLAGS", "LIKELIHOOD_COLUMNS", "ClusterFit",
           "QuantityModel", "RV_MODEL", "FEH_MODEL", "fit_cluster", "likelihood_statistics",
           "zero_point_lookup"]

#: The cluster statistics the package computes: the model of this module (default of a
#: multi-survey build) and the Monte Carlo medians of Fu et al. (2022)
#: (`astro_ocl.steps.statistics.cluster_statistics`).
METHODS = ("likelihood", "fu2022-montecarlo")
DEFAULT_METHOD = "likelihood"

#: The flag codes of a cluster value (``f_RV``, ``f_[Fe/H]``).
FLAGS = {
    "0": "no usable star",
    "1": "single star: its value and error",
    "b": "multimodal posterior: groups of stars are equally good candidates for the core",
    "s": "intrinsic dispersion at the prior edge: the stars disagree beyond any plausible "
         "internal dispersion",
    "c": "core of fewer than 1.5 stars: the value rests on about one star",
    "z": "a survey's zero point was not measured: its stars are not on the reference scale",
}

#: The columns of the matched table that `likelihood_statistics` reads (the last three
#: only when present).
LIKELIHOOD_COLUMNS = STATISTICS_COLUMNS + ("survey", "rv_valid", "feh_valid")

_LOG_2PI = np.log(2 * np.pi)
_THRESHOLD = 15.0       # log-posterior below the peak where a grid stops
_NV, _NS, _NF = 40, 24, 8  # grid nodes in v, sigma and f per pass (about)
_MAX_PASSES = 7
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


def _refine(nodes, density, keep, n, *, intervals=False, anchors=None):
    """New nodes: ``n`` uniform over the kept region and ``n`` at quantiles of the density.

    The uniform part follows the posterior's tails (and every mode when ``intervals``),
    the quantile part resolves where the mass is; ``anchors`` (the stars' values, for
    few stars) inside the kept region are nodes too, so that a core of one star peaks
    on a node.
    """
    if intervals:
        parts = _kept_intervals(nodes, keep)
        lengths = np.array([b - a for a, b in parts])
        total = lengths.sum()
        uniform = [_spread(a, b, max(6, int(round(n * ln / total))) if total > 0 else 1)
                   for (a, b), ln in zip(parts, lengths)]
        if anchors is not None:
            uniform += [anchors[(anchors >= a) & (anchors <= b)] for a, b in parts]
    else:
        uniform = [_spread(*_kept_range(nodes, keep), n)]
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


def _grid_posterior(stars, sigma_max, f_max):
    """The posterior on a (f, v, sigma) grid refined until its quantiles settle.

    The first grid spans the stars' values (uniform nodes and the stars' quantiles),
    sigma in [0, sigma_max] (log-spaced) and f in [0, f_max]. Each next grid puts half
    its nodes uniformly over the region within e^-15 of the peak (every separate
    mode of v keeps its own interval) and half at quantiles of the current marginals;
    it stops when the 16/50/84 % points of v and sigma move by less than 5 % of their
    16-84 % range.
    """
    y, e = stars.y, stars.e
    pad = 3 * float(np.median(e))
    lo, hi = float(y.min()) - pad, float(y.max()) + pad
    q = y if y.size <= _NV else np.quantile(y, np.linspace(0, 1, _NV))
    v = np.unique(np.concatenate([np.linspace(lo, hi, _NV), q]))
    s0 = max(min(0.1 * float(e.min()), sigma_max / 100), sigma_max * 1e-4)
    s = np.concatenate([[0.0], np.geomspace(s0, sigma_max, _NS - 1)])
    f = np.zeros(1) if stars.gamma is None else np.linspace(0, f_max, _NF)
    previous = None
    for _ in range(_MAX_PASSES):
        logpost, r = stars.log_posterior(f, v, s)
        joint, pf, pv, ps = _marginals(f, v, s, logpost)
        now = np.concatenate([_quantiles(v, pv, [0.16, 0.5, 0.84]),
                              _quantiles(s, ps, [0.16, 0.5, 0.84])])
        if previous is not None:
            scale = np.repeat([max(now[2] - now[0], 1e-12), max(now[5] - now[3], 1e-12)], 3)
            if np.all(np.abs(now - previous) < _TOL * scale):
                break
        previous = now
        keep = logpost >= logpost.max() - _THRESHOLD
        v = _refine(v, pv, keep.any(axis=(0, 2)), _NV // 2, intervals=True,
                    anchors=y if y.size <= _NV else None)
        s = _refine(s, ps, keep.any(axis=(0, 1)), _NS // 2)
        if f.size > 1:
            f = _refine(f, pf, keep.any(axis=(1, 2)), _NF // 2)
    return f, v, s, logpost, r, joint, pv, ps


def fit_cluster(values, errors, *, model=RV_MODEL, offsets_error=None, surveys=None):
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

    Returns
    -------
    `ClusterFit`

    Raises
    ------
    ParameterError
        A value or error is not finite, or an error is not positive.

    Examples
    --------
    >>> import astropy.units as u
    >>> fit = fit_cluster([-42.48, -135.45] * u.km / u.s, [0.11, 0.11] * u.km / u.s)
    >>> fit.flag, round(fit.error)    # two stars 93 km/s apart: either could be the core
    ('bc', 46)
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
    f, v, s, _, r, joint, pv, ps = _grid_posterior(stars, sigma_max,
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
        w = p_core / (e ** 2 + s50 ** 2)
        for lab in np.unique(labels):
            sel = labels == lab
            share = w[sel].sum() / w.sum()
            ezp = np.hypot(ezp, share * zp[sel].max())
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
                      n_core, p_core, flag, note)


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


def _with_flag(fit, extra):
    """``fit`` with the codes ``extra`` added to its flag."""
    if not extra:
        return fit
    flag = "".join(sorted(set(fit.flag) | set(extra)))
    return ClusterFit(fit.n, fit.value, fit.error, fit.error_zp, fit.sigma, fit.e_sigma,
                      fit.n_core, fit.p_core, flag, "; ".join(FLAGS[c] for c in flag))


def _with_note(fit, text):
    note = f"{fit.note}; {text}" if fit.note else text
    return ClusterFit(fit.n, fit.value, fit.error, fit.error_zp, fit.sigma, fit.e_sigma,
                      fit.n_core, fit.p_core, fit.flag, note)


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
        fit_rv = _with_flag(fit_rv, "z" if rv_missing[i_rv].any() else "")
        p_core[i_rv] = fit_rv.p_core
        # the core; when the RV posterior cannot tell the core (b, c), every star made it
        undefined = "b" in fit_rv.flag or "c" in fit_rv.flag
        core = i_rv if undefined else i_rv[fit_rv.p_core >= core_threshold]
        flags[core] = 1
        i_feh = core[feh_use[core]]
        fit_feh = fit_cluster(feh[i_feh] - feh_off[i_feh], efeh[i_feh], model=feh_model,
                              offsets_error=feh_zp[i_feh], surveys=surveys[i_feh])
        fit_feh = _with_flag(fit_feh, "z" if feh_missing[i_feh].any() else "")
        if undefined and i_feh.size:
            fit_feh = _with_note(fit_feh, "RV core undefined: every star with a valid RV "
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
