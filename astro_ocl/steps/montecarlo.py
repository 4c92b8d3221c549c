"""Vectorised Monte Carlo statistics of one cluster (DESIGN.md steps 4 and 5).

Star *i* with value ``x_i`` and error ``s_i`` is drawn ``K`` times,
``x_ik ~ N(x_i, s_i)``, in one ``(K, n)`` numpy array (no Python loop over
realisations). From the draws:

* ``med``   = median over k of the per-realisation median over stars;
  ``e_med`` = standard deviation over k of those medians;
* ``mean``  = mean over k of the per-realisation mean; ``e_mean`` its standard
  deviation over k;
* ``std``   = standard deviation of all ``K * n`` pooled samples (the dispersion
  of the cluster, intrinsic spread plus measurement errors).

Choices where Fu et al. (2022) are silent: standard deviations use ``ddof=0``;
the centre of the first (flagging) pass is the pooled mean; a cluster with one
star takes that star's value and error exactly (``med = mean = x``,
``e_med = e_mean = std = s``), as the published catalogue does.
"""
from dataclasses import dataclass

import numpy as np

__all__ = ["MCStats", "draw", "summarise", "mc_statistics"]


@dataclass(frozen=True)
class MCStats:
    """Monte Carlo summary of one cluster quantity (plain floats, in input units)."""

    n: int
    med: float
    e_med: float
    mean: float
    e_mean: float
    std: float


def draw(values, errors, n_realisations, rng):
    """Draw ``n_realisations`` Gaussian realisations of every star.

    Parameters
    ----------
    values, errors : ndarray, shape (n,)
        Measurements and their 1-sigma errors (finite, errors >= 0).
    n_realisations : int
        K, the number of realisations.
    rng : `numpy.random.Generator`
        Random generator.

    Returns
    -------
    ndarray, shape (K, n)
    """
    values = np.asarray(values, float)
    errors = np.asarray(errors, float)
    return values + errors * rng.standard_normal((int(n_realisations), values.size))


def summarise(draws, values=None, errors=None):
    """Summarise realisations ``draws`` (K, n) into an `MCStats`.

    Parameters
    ----------
    draws : ndarray, shape (K, n)
        Realisations of the n stars.
    values, errors : ndarray, optional
        The measurements themselves; with a single star its value and error are
        returned exactly instead of Monte Carlo estimates.
    """
    n = draws.shape[1]
    if n == 0:
        nan = float("nan")
        return MCStats(0, nan, nan, nan, nan, nan)
    if n == 1 and values is not None:
        x, s = float(np.asarray(values)[0]), float(np.asarray(errors)[0])
        return MCStats(1, x, s, x, s, s)
    medians = np.median(draws, axis=1)
    means = draws.mean(axis=1)
    return MCStats(n, float(np.median(medians)), float(medians.std()),
                   float(means.mean()), float(means.std()), float(draws.std()))


def mc_statistics(values, errors, *, n_realisations=5000, rng=None):
    """Monte Carlo median, mean and dispersion of a set of measurements.

    Parameters
    ----------
    values, errors : array-like, shape (n,)
        Measurements and their 1-sigma errors.
    n_realisations : int
        Number of realisations K.
    rng : `numpy.random.Generator` or int, optional
        Generator or seed.

    Returns
    -------
    MCStats

    Examples
    --------
    >>> import numpy as np
    >>> s = mc_statistics([10.0], [2.0], rng=1)
    >>> s.med, s.e_med, s.std
    (10.0, 2.0, 2.0)
    """
    rng = np.random.default_rng(rng)
    values = np.asarray(values, float)
    errors = np.asarray(errors, float)
    return summarise(draw(values, errors, n_realisations, rng), values, errors)
