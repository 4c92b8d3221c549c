"""Fits of [Fe/H] = a x^2 + b x + c: the exact Gaussian posterior, and emcee as the cross-check.

Likelihood: Gaussian in [Fe/H] with one error per point (floored at
``min_error``, 0.01 dex, so that a point whose error is zero cannot dominate);
flat priors on the coefficients; no intrinsic scatter term unless asked.

``method="analytic"`` (default)
    The model is linear in (a, b, c), so with Gaussian errors and flat priors
    the posterior is exactly a multivariate Gaussian: mean the weighted least
    squares solution, covariance (A^T W A)^-1 (A the Vandermonde matrix,
    W = diag(1/sigma^2)). The 16/50/84 percentiles are mean -/+ sigma of the
    marginals. A whole Table 6 takes milliseconds.
``method="emcee"``
    The paper's sampler (300 walkers, 10 000 steps by default), kept as the
    cross-check: it converges on the same Gaussian (to Monte Carlo noise).
"""
import warnings
from dataclasses import dataclass

import astropy.units as u
import numpy as np

from ...exceptions import ConvergenceWarning, InputDataError, NoUsableDataError
from ...logger import log
from ...utils import progress as _progress
from ...utils import sigterm_as_interrupt, worker_initializer

__all__ = ["METHODS", "GradientFit", "fit_gradient", "coefficient_names", "as_floats",
           "intrinsic_scatter", "fit_diagnostics",
           "as_dex", "run_fits"]

#: Posterior methods of `fit_gradient` and `gradient_table`.
METHODS = ("analytic", "emcee")

_NAMES = {2: ("a", "b", "c"), 1: ("b", "c"), 0: ("c",)}


def coefficient_names(degree):
    """Names of the coefficients of a polynomial of ``degree``, highest power first."""
    return _NAMES.get(degree, tuple(f"p{k}" for k in range(degree, -1, -1)))


@dataclass
class GradientFit:
    """Result of `fit_gradient`.

    Attributes
    ----------
    names : tuple of str
        Coefficient names, highest power first (``a, b, c`` for degree 2).
    p16, p50, p84 : `~numpy.ndarray`
        Percentiles of the coefficients (analytic: mean -/+ sigma and the mean).
    tau : `~numpy.ndarray`
        Integrated autocorrelation time of each coefficient (steps); NaN for
        ``method="analytic"``.
    n_points : int
        Clusters used (finite x, [Fe/H] and error).
    nwalkers, nsteps, burn : int
        emcee settings; 0 for ``method="analytic"``.
    acceptance : float
        Mean acceptance fraction; NaN for ``method="analytic"``.
    converged : bool
        ``nsteps - burn >= 50 * max(tau)``; always True for ``method="analytic"``
        (the posterior is exact).
    method : str
        ``"analytic"`` or ``"emcee"``.
    cov : `~numpy.ndarray`
        Posterior covariance of the coefficients (analytic: exact; emcee: of
        the chain after burn-in).
    """

    names: tuple
    p16: np.ndarray
    p50: np.ndarray
    p84: np.ndarray
    tau: np.ndarray
    n_points: int
    nwalkers: int
    nsteps: int
    burn: int
    acceptance: float
    converged: bool
    method: str = "emcee"
    cov: np.ndarray = None

    @property
    def sigma(self):
        """Posterior standard deviation of each coefficient (square root of ``cov``)."""
        return np.sqrt(np.diag(self.cov))

    def percentiles(self, name):
        """(16, 50, 84) percentiles of one coefficient."""
        i = self.names.index(name)
        return self.p16[i], self.p50[i], self.p84[i]

    def __call__(self, x):
        """The median model at ``x``."""
        return np.polyval(self.p50, x)


def _log_prob_factory(x, y, e):
    x, y, iv = np.asarray(x, float), np.asarray(y, float), 1.0 / np.asarray(e, float) ** 2

    def log_prob(theta):
        # vectorised: theta has shape (nwalkers, ndim); flat priors |coeff| < 1e4
        theta = np.atleast_2d(theta)
        model = np.zeros((theta.shape[0], x.size))
        for k in range(theta.shape[1]):
            model = model * x + theta[:, k:k + 1]
        lp = -0.5 * np.sum((y - model) ** 2 * iv, axis=1)
        return np.where(np.all(np.abs(theta) < 1e4, axis=1), lp, -np.inf)
    return log_prob


def as_floats(value):
    """Plain float array of a (possibly masked) column or array; masked entries NaN."""
    mask = getattr(value, "mask", None)
    if mask is None:
        return np.array(getattr(value, "value", value), dtype=float)
    data = getattr(value, "unmasked", None)
    data = np.ma.getdata(value) if data is None else data
    out = np.array(getattr(data, "value", data), dtype=float)
    out[np.broadcast_to(np.asarray(mask, bool), out.shape)] = np.nan
    return out


def as_dex(value, name):
    """Plain float array of an [Fe/H] value or error (a Quantity must be in dex)."""
    unit = getattr(value, "unit", None)
    if isinstance(value, u.Quantity) or isinstance(unit, u.UnitBase):
        if unit != u.dex and unit != u.dimensionless_unscaled:
            raise u.UnitsError(f"{name} must be in dex, got {unit}")
    return as_floats(value)


def _abscissa(x, x_unit):
    """Plain float array of the abscissa (a Quantity converted to ``x_unit`` if given)."""
    if isinstance(x, u.Quantity):
        return np.asarray(x.to_value(x_unit) if x_unit is not None else x.value, dtype=float)
    if x_unit is not None:
        raise TypeError("x_unit needs x as a Quantity")
    return np.asarray(x, dtype=float)


def _wls(x, y, e, degree):
    """Exact posterior of polynomial coefficients: weighted least squares mean, covariance.

    QR on the column-scaled, error-weighted Vandermonde matrix (highest power
    first, as `numpy.polyval`), so that a badly scaled abscissa stays accurate.
    """
    a = np.vander(x, degree + 1) / e[:, None]
    scale = np.sqrt(np.sum(a ** 2, axis=0))
    scale[scale == 0] = 1.0
    q, r = np.linalg.qr(a / scale)
    d = np.abs(np.diag(r))
    if d.min() <= 1e-12 * max(d.max(), 1e-300):
        raise NoUsableDataError(f"the {x.size} x values cannot constrain a degree-{degree} "
                                f"polynomial ({np.unique(x).size} distinct)")
    rinv = np.linalg.inv(r)
    mean = (rinv @ (q.T @ (y / e))) / scale
    cov = (rinv @ rinv.T) / np.outer(scale, scale)
    return mean, cov


def _usable(x, y, e, min_error):
    x, y, e = (np.asarray(a, float) for a in (x, y, e))
    e = np.broadcast_to(e, y.shape)
    ok = np.isfinite(x) & np.isfinite(y) & np.isfinite(e)
    return x[ok], y[ok], np.maximum(e[ok], min_error), ok


def intrinsic_scatter(x, feh, e_feh, *, degree=2, min_error=0.01, max_scatter=1.0):
    """The intrinsic [Fe/H] scatter about the polynomial that maximises the marginal likelihood.

    The model ``[Fe/H]_i ~ N(poly(x_i), e_i^2 + s^2)`` with flat priors on the
    coefficients: ``s`` maximises the likelihood with the coefficients integrated
    out (restricted maximum likelihood, which does not shrink ``s`` by the
    coefficients fitted), ``-1/2 [sum r_i^2 / v_i + sum ln v_i + ln det(A^T V^-1 A)]``
    with ``v_i = e_i^2 + s^2`` and ``r`` the weighted least-squares residuals.

    Parameters
    ----------
    x, feh, e_feh : array-like
        Abscissa, [Fe/H] and its error (dex); non-finite rows are left out.
    degree : int
    min_error : float
        Floor of the errors (dex).
    max_scatter : float
        Upper limit of the search (dex).

    Returns
    -------
    float
        ``s`` in dex (0 when the errors alone explain the scatter).
    """
    from scipy.optimize import minimize_scalar
    x, y, e, _ = _usable(x, feh, e_feh, min_error)
    if x.size <= degree + 1:
        return 0.0

    def minus_log_like(s):
        v = e ** 2 + s ** 2
        mean, cov = _wls(x, y, np.sqrt(v), degree)
        r = y - np.polyval(mean, x)
        _, logdet = np.linalg.slogdet(np.linalg.inv(cov))
        return 0.5 * (np.sum(r ** 2 / v) + np.sum(np.log(v)) + logdet)

    best = minimize_scalar(minus_log_like, bounds=(0.0, float(max_scatter)), method="bounded",
                           options={"xatol": 1e-4})
    s = float(best.x)
    return 0.0 if minus_log_like(0.0) <= best.fun else s


def fit_diagnostics(x, feh, e_feh, *, degree=2, min_error=0.01):
    """How well a polynomial fits, and how much one point carries it.

    Parameters
    ----------
    x, feh, e_feh : array-like
        As for `fit_gradient` (non-finite rows are left out, errors floored).
    degree : int
    min_error : float

    Returns
    -------
    dict
        ``chi2`` and ``dof`` of the weighted least-squares fit; ``shifts``: for
        each point (rows of the input, NaN for a row left out) and coefficient,
        the change of the coefficient when that point is left out, in units of
        the coefficient's posterior sigma with every point; ``influential``: the
        row whose removal moves a coefficient most, ``max_shift`` (sigma) and
        ``coefficient``, the one it moves.
    """
    x, y, e, ok = _usable(x, feh, e_feh, min_error)
    names = coefficient_names(degree)
    n = x.size
    shifts = np.full((ok.size, degree + 1), np.nan)
    out = dict(chi2=np.nan, dof=n - degree - 1, shifts=shifts, influential=-1,
               max_shift=np.nan, coefficient="")
    if n <= degree + 1:
        return out
    mean, cov = _wls(x, y, e, degree)
    sigma = np.sqrt(np.diag(cov))
    out["chi2"] = float(np.sum(((y - np.polyval(mean, x)) / e) ** 2))
    rows = np.flatnonzero(ok)
    for k in range(n):
        keep = np.arange(n) != k
        try:
            m_k, _ = _wls(x[keep], y[keep], e[keep], degree)
        except NoUsableDataError:  # this point alone fixes a coefficient
            m_k = np.full(degree + 1, np.inf)
        shifts[rows[k]] = (m_k - mean) / sigma
    absolute = np.abs(shifts[rows])
    k, j = np.unravel_index(np.nanargmax(absolute), absolute.shape)
    out.update(influential=int(rows[k]), max_shift=float(absolute[k, j]),
               coefficient=names[j])
    return out


def fit_gradient(x, feh, e_feh, *, degree=2, method="analytic", nwalkers=300, nsteps=10000,
                 burn=None, min_error=0.01, seed=None, progress=None, x_unit=None):
    """Fit [Fe/H] = a x^2 + b x + c (or another degree): flat priors, Gaussian errors.

    Parameters
    ----------
    x : array-like or `~astropy.units.Quantity`
        Abscissa. A Quantity is used in its own unit, or in ``x_unit``; the
        coefficients are per power of that unit.
    feh, e_feh : array-like or `~astropy.units.Quantity`
        [Fe/H] and its error (dex; a Quantity must be in dex). ``e_feh`` may be
        a scalar. Rows with a non-finite value are left out.
    degree : int
        Polynomial degree (2 in the paper).
    method : {"analytic", "emcee"}
        ``"analytic"``: the exact Gaussian posterior (weighted least squares);
        ``"emcee"``: sample it with emcee (the paper's method; the cross-check).
    nwalkers, nsteps : int
        emcee walkers and steps (paper: 300 and 10 000); ``method="emcee"`` only.
    burn : int, optional
        Steps discarded before the percentiles (default ``nsteps // 5``);
        ``method="emcee"`` only.
    min_error : float
        Floor of the [Fe/H] errors (dex).
    seed : int, optional
        Seed of the walkers' start and moves (``method="emcee"``).
    progress : bool, optional
        emcee's progress bar.
    x_unit : `~astropy.units.Unit`, optional
        Unit to express a Quantity ``x`` in.

    Returns
    -------
    GradientFit
        For ``method="analytic"``: ``p50`` the mean, ``p16, p84`` mean -/+
        sigma (strictly the 15.9 and 84.1 percentiles; the 16th and 84th lie
        0.0055 sigma closer to the mean), ``cov`` exact, ``tau`` and
        ``acceptance`` NaN. For emcee the
        autocorrelation time is computed with ``tol=0``; a chain shorter than
        50 times it gives a `ConvergenceWarning`.

    Raises
    ------
    ValueError
        Unknown method, negative degree, arrays of different lengths, negative
        or zero errors (after the floor), bad emcee settings.
    NoUsableDataError
        Fewer usable points than coefficients, or x values that cannot
        constrain the polynomial.

    Examples
    --------
    >>> import numpy as np
    >>> x = np.array([6.0, 8.0, 10.0, 12.0, 14.0])
    >>> fit = fit_gradient(x, -0.07 * x + 0.6, 0.05, degree=1)
    >>> fit.method, np.round(fit.p50, 3).tolist()
    ('analytic', [-0.07, 0.6])
    """
    if method not in METHODS:
        raise InputDataError(f"method must be one of {METHODS}, got {method!r}")
    if int(degree) != degree or degree < 0:
        raise InputDataError(f"degree must be a non-negative integer, got {degree!r}")
    degree = int(degree)
    x = _abscissa(x, x_unit).ravel()
    y = as_dex(feh, "feh").ravel()
    if x.shape != y.shape:
        raise InputDataError(f"x and feh differ in length ({x.size} and {y.size})")
    e = as_dex(e_feh, "e_feh")
    if e.ndim and e.size != y.size:
        raise InputDataError(f"e_feh must be a scalar or have the length of feh ({y.size}), "
                             f"got {e.size}")
    e = np.broadcast_to(e.ravel() if e.ndim else e, y.shape).astype(float)
    ok = np.isfinite(x) & np.isfinite(y) & np.isfinite(e)
    if np.any(e[ok] < 0):
        raise InputDataError("the [Fe/H] errors must be positive, got negative ones")
    x, y, e = x[ok], y[ok], np.maximum(e[ok], min_error)
    if np.any(e <= 0):
        raise InputDataError("the [Fe/H] errors must be positive (use min_error > 0 to floor "
                             "zero errors)")
    ndim = degree + 1
    names = coefficient_names(degree)
    if x.size < ndim:
        raise NoUsableDataError(f"{x.size} points cannot constrain a degree-{degree} "
                                "polynomial")
    if method == "analytic":
        mean, cov = _wls(x, y, e, degree)
        sd = np.sqrt(np.diag(cov))
        nan = np.full(ndim, np.nan)
        return GradientFit(names=names, p16=mean - sd, p50=mean, p84=mean + sd, tau=nan,
                           n_points=int(x.size), nwalkers=0, nsteps=0, burn=0,
                           acceptance=np.nan, converged=True, method="analytic", cov=cov)

    import emcee
    if nwalkers < 2 * ndim:
        raise InputDataError(f"nwalkers must be at least {2 * ndim}")
    burn = nsteps // 5 if burn is None else int(burn)
    if not 0 <= burn < nsteps:
        raise InputDataError("burn must be in [0, nsteps)")
    rng = np.random.default_rng(seed)
    # start: a small ball around the exact posterior mean
    coef, cov = _wls(x, y, e, degree)
    scale = np.sqrt(np.clip(np.diag(cov), 1e-12, None))
    p0 = coef + 1e-2 * scale * rng.standard_normal((nwalkers, ndim))
    sampler = emcee.EnsembleSampler(nwalkers, ndim, _log_prob_factory(x, y, e),
                                    vectorize=True)
    # emcee draws its moves from a legacy numpy RandomState: seed it for reproducible runs
    sampler.random_state = np.random.RandomState(int(rng.integers(2 ** 31))).get_state()
    sampler.run_mcmc(p0, nsteps, progress=bool(progress))
    with np.errstate(invalid="ignore", divide="ignore"):
        # a very short chain can have a zero autocorrelation at lag 0 (0/0): tau is
        # then NaN and the chain is reported as not converged below
        tau = np.asarray(sampler.get_autocorr_time(tol=0, discard=burn))
    converged = bool(np.all(np.isfinite(tau)) and nsteps - burn >= 50 * np.max(tau))
    if not converged:
        warnings.warn(f"emcee chain of {nsteps - burn} steps (after burn-in) is shorter than "
                      f"50 autocorrelation times (tau = {np.max(tau):.1f} steps)",
                      ConvergenceWarning)
    flat = sampler.get_chain(discard=burn, flat=True)
    p16, p50, p84 = np.percentile(flat, [16, 50, 84], axis=0)
    return GradientFit(names=names, p16=p16, p50=p50, p84=p84, tau=tau, n_points=int(x.size),
                       nwalkers=nwalkers, nsteps=nsteps, burn=burn,
                       acceptance=float(np.mean(sampler.acceptance_fraction)),
                       converged=converged, method="emcee",
                       cov=np.atleast_2d(np.cov(flat, rowvar=False)))


def _fit_job(kwargs):
    """Run one fit, recording (not raising) its ConvergenceWarning; usable in a worker."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", ConvergenceWarning)
        fit = fit_gradient(**kwargs)
    return fit, [str(w.message) for w in caught if issubclass(w.category, ConvergenceWarning)]


def run_fits(jobs, n_jobs, show_progress):
    """Run `fit_gradient` for each keyword dict of ``jobs``: ``[(fit, warnings)]``.

    In this process (``n_jobs`` 1, or analytic fits) or in a pool of worker
    processes; each fit's `ConvergenceWarning` messages are returned, not raised.
    """
    analytic = all(j.get("method") == "analytic" for j in jobs)
    if analytic or n_jobs is None or n_jobs <= 1 or len(jobs) <= 1:
        bar = _progress(jobs, total=len(jobs), desc="gradients",
                        enabled=False if analytic else show_progress)
        return [_fit_job(j) for j in bar]
    import multiprocessing

    # fork: the workers inherit the imported package (spawn would re-import it)
    methods = multiprocessing.get_all_start_methods()
    ctx = multiprocessing.get_context("fork" if "fork" in methods else None)
    # The workers die with this process: on any exit of the block other than
    # success (an error, Ctrl-C, SIGTERM turned into an interrupt) they are
    # terminated and joined; if this process is killed outright the kernel ends them
    # (worker_initializer). A ProcessPoolExecutor would leave them blocked on a pipe.
    with sigterm_as_interrupt():
        pool = ctx.Pool(int(n_jobs), initializer=worker_initializer)
        try:
            log.debug("gradients: %d worker processes started", int(n_jobs))
            out = list(_progress(pool.imap(_fit_job, jobs), total=len(jobs),
                                 desc="gradients", enabled=show_progress))
            pool.close()
            return out
        finally:
            pool.terminate()
            pool.join()
