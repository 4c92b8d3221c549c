"""Galactic metallicity gradients (method step 8, paper Table 6).

[Fe/H] = a x^2 + b x + c is fitted for six age groups (< 0.1, 0.1-0.5, 0.5-1,
1-2, 2-4, > 4 Gyr; ages from Cantat-Gaudin et al. 2020 ``AgeNN``) with x the
Galactocentric radius RGC [kpc], the angular momentum LZ / 10^3 [kpc km/s] and
the orbital energy E / 10^5 [km^2/s^2], using only clusters with at least three
FLAG=12 stars; the 16/50/84 percentiles of (a, b, c) are reported.

Likelihood: Gaussian in [Fe/H] with one error per cluster (by default
``e_[Fe/H]med``, the error of the value fitted, floored at ``min_error``,
0.01 dex, so that a cluster whose error is zero cannot dominate); flat priors on
(a, b, c); no intrinsic scatter term (as in the paper, which quotes none).

Two ways to get the posterior:

``method="analytic"`` (default)
    The model is linear in (a, b, c), so with Gaussian errors and flat priors
    the posterior is exactly a multivariate Gaussian: mean the weighted least
    squares solution, covariance (A^T W A)^-1 (A the Vandermonde matrix,
    W = diag(1/sigma^2)). The 16/50/84 percentiles are mean -/+ sigma of the
    marginals. A whole Table 6 takes milliseconds.
``method="emcee"``
    The paper's sampler (300 walkers, 10 000 steps by default), kept as the
    cross-check: it converges on the same Gaussian (to Monte Carlo noise).

Which per-cluster error the paper used is not stated; see `FU2022_UNCERTAINTY`.
"""
import time
import warnings
from dataclasses import dataclass, field

import astropy.units as u
import numpy as np
from astropy.table import QTable

from .. import schema
from ..exceptions import (AstroOCLWarning, InputDataError, MissingColumnError,
                          NoUsableDataError)
from ..logger import log
from ..utils import progress as _progress

__all__ = ["AGE_GROUPS", "X_VARIABLES", "METHODS", "DEFAULT_UNCERTAINTY", "FU2022_UNCERTAINTY",
           "GradientFit", "GradientResult", "ConvergenceWarning", "fit_gradient",
           "gradient_table", "gradients_for_catalogue", "compare_with_table6"]

#: Age groups of paper Table 6: (label, min, max) in Gyr; a cluster is in a group
#: when ``min <= age < max``.
AGE_GROUPS = [("<0.1 Gyr", 0.0, 0.1), ("0.1-0.5 Gyr", 0.1, 0.5), ("0.5-1 Gyr", 0.5, 1.0),
              ("1-2 Gyr", 1.0, 2.0), ("2-4 Gyr", 2.0, 4.0), (">4 Gyr", 4.0, np.inf)]

#: Abscissae of Table 6: (label, column, unit, scale).
X_VARIABLES = [("RGC", "RGC", u.kpc, 1.0), ("LZ/1e3", "LZ", u.kpc * u.km / u.s, 1e3),
               ("E/1e5", "Energy", u.km ** 2 / u.s ** 2, 1e5)]

#: Posterior methods of `fit_gradient` and `gradient_table`.
METHODS = ("analytic", "emcee")

#: Default per-cluster [Fe/H] error of `gradient_table`: the error of the value
#: fitted (``[Fe/H]med``).
DEFAULT_UNCERTAINTY = "e_[Fe/H]med"

#: Per-cluster [Fe/H] error that matches paper Table 6 best (candidate for a
#: ``convention="fu2022"``). PROVISIONAL, from indirect evidence only: the text
#: of Table 6 could not be read here, so no coefficient was compared with it.
#: Evidence: a colleague's comparison with the paper found that fitting
#: ``[Fe/H]med`` with ``e_[Fe/H]med`` (0.01 dex floor) leaves 12 of the 54
#: coefficients more than 1 sigma from the paper (at most 2.95 sigma) with
#: error bars about 4 times narrower. On the published catalogue (202 clusters
#: with >= 3 FLAG=12 stars and a CG2020 age), if the paper's error was
#: ``s_[Fe/H]`` (the star-to-star dispersion of the FLAG=12 stars), that is
#: what one would find: the e_[Fe/H]med fit lies more than 1 sigma from the
#: s_[Fe/H] fit for 12 of 54 coefficients, at most 2.82 sigma, and the
#: s_[Fe/H] error bars are 3.7 times wider (median). Excluded by the same test:
#: e_[Fe/H]mean (26 of 54 beyond 1 sigma, up to 17.8 sigma, 0.94x as wide),
#: s_[Fe/H]/sqrt(Nflag12) (38, 7.3, 1.3x), e_[Fe/H]med without floor (18,
#: 15.6), floors of 0.05/0.1 dex (32 and 16), equal weights with the scatter
#: fitted per cell (19, 3.3). Not excluded: hypot(e_[Fe/H]med, s_[Fe/H]) (12,
#: 2.63, 3.9x) and ``[Fe/H]mean`` with s_[Fe/H] (12, 3.23, 3.7x), which agree
#: with the s_[Fe/H] fit within 0.5 sigma everywhere, and equal weights of
#: 0.13 dex (12, 3.28, 4.2x), which does not (up to 3.7 sigma apart). Confirm
#: with `compare_with_table6` once ``astro_ocl/data/fu2022_table6.ecsv`` holds
#: the paper's values.
FU2022_UNCERTAINTY = "s_[Fe/H]"

_NAMES = {2: ("a", "b", "c"), 1: ("b", "c"), 0: ("c",)}


def _coef_names(degree):
    return _NAMES.get(degree, tuple(f"p{k}" for k in range(degree, -1, -1)))


class ConvergenceWarning(AstroOCLWarning):
    """An MCMC chain is shorter than 50 autocorrelation times."""


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


def _floats(value):
    """Plain float array of a (possibly masked) column or array; masked entries NaN."""
    mask = getattr(value, "mask", None)
    if mask is None:
        return np.array(getattr(value, "value", value), dtype=float)
    data = getattr(value, "unmasked", None)
    data = np.ma.getdata(value) if data is None else data
    out = np.array(getattr(data, "value", data), dtype=float)
    out[np.broadcast_to(np.asarray(mask, bool), out.shape)] = np.nan
    return out


def _dex(value, name):
    """Plain float array of an [Fe/H] value or error (a Quantity must be in dex)."""
    unit = getattr(value, "unit", None)
    if isinstance(value, u.Quantity) or isinstance(unit, u.UnitBase):
        if unit != u.dex and unit != u.dimensionless_unscaled:
            raise u.UnitsError(f"{name} must be in dex, got {unit}")
    return _floats(value)


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
    y = _dex(feh, "feh").ravel()
    if x.shape != y.shape:
        raise InputDataError(f"x and feh differ in length ({x.size} and {y.size})")
    e = _dex(e_feh, "e_feh")
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
    names = _coef_names(degree)
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


def _run_jobs(jobs, n_jobs, show_progress):
    """Fits in this process (n_jobs=1, or analytic fits) or in a pool of worker processes."""
    analytic = all(j.get("method") == "analytic" for j in jobs)
    if analytic or n_jobs is None or n_jobs <= 1 or len(jobs) <= 1:
        bar = _progress(jobs, total=len(jobs), desc="gradients",
                        enabled=False if analytic else show_progress)
        return [_fit_job(j) for j in bar]
    import multiprocessing

    from ..utils import sigterm_as_interrupt, worker_initializer
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


def _x_values(clusters):
    """RGC, LZ, Energy of the clusters (computed from ``coord`` when missing)."""
    have = all(c in clusters.colnames for c in ("RGC", "LZ", "Energy"))
    if have:
        return {c: u.Quantity(clusters[c]) for c in ("RGC", "LZ", "Energy")}
    if "coord" not in clusters.colnames:
        raise MissingColumnError("the clusters need RGC, LZ and Energy columns or a 'coord' "
                                 "with distance, proper motion and radial velocity",
                                 column="coord")
    from .dynamics import orbital_energy, phase_space
    ps = phase_space(clusters["coord"])
    vsq = ps["U"].value ** 2 + ps["V"].value ** 2 + ps["W"].value ** 2
    energy = orbital_energy(ps["RGC"].value, ps["ZGC"].value, vsq, potential="interpolated")
    return {"RGC": ps["RGC"], "LZ": ps["LZ"], "Energy": energy * u.km ** 2 / u.s ** 2}


def _column_dex(clusters, name):
    if name not in clusters.colnames:
        raise MissingColumnError(f"the clusters need a {name!r} column", column=name)
    return _dex(clusters[name], name).astype(float)


def _uncertainty(clusters, uncertainty):
    """(label, per-cluster error array) of the ``uncertainty`` option of `gradient_table`."""
    n = len(clusters)
    if isinstance(uncertainty, str):
        return uncertainty, _column_dex(clusters, uncertainty)
    if (isinstance(uncertainty, (list, tuple)) and uncertainty
            and all(isinstance(c, str) for c in uncertainty)):
        parts = [_column_dex(clusters, c) for c in uncertainty]
        return "hypot(" + ", ".join(uncertainty) + ")", np.sqrt(sum(p ** 2 for p in parts))
    if uncertainty is None:
        raise InputDataError("uncertainty must be a column name, a tuple of column names "
                             "(added in quadrature) or per-cluster errors, not None")
    values = _dex(uncertainty, "uncertainty")
    if values.ndim == 0:
        return f"{float(values):g} dex (all clusters)", np.full(n, float(values))
    if values.shape != (n,):
        raise InputDataError(f"per-cluster uncertainty must have one value per cluster ({n}), "
                             f"got shape {values.shape}")
    return "<per-cluster array>", values


@dataclass
class GradientResult:
    """Paper Table 6 and what it was fitted on.

    Attributes
    ----------
    table : `~astropy.table.QTable`
        One row per (age group, abscissa).
    clusters : `~astropy.table.QTable`
        The clusters used (with ``RGC, LZ, Energy``, ``e_[Fe/H]fit`` and ``age_group``).
    source : str
        Where the clusters come from.
    fits : dict
        ``{(age group, x label): GradientFit}``.
    """

    table: QTable
    clusters: QTable
    source: str = ""
    fits: dict = field(default_factory=dict)


def gradient_table(clusters, *, method="analytic", uncertainty=DEFAULT_UNCERTAINTY,
                   age_groups=None, min_flag12=3, min_clusters=5, degree=2, nwalkers=300,
                   nsteps=10000, burn=None, min_error=0.01, include_all=True, seed=None,
                   progress=None, source=None, n_jobs=1):
    """Paper Table 6: [Fe/H] gradients per age group against RGC, LZ/10^3 and E/10^5.

    Parameters
    ----------
    clusters : `~astropy.table.QTable`
        Cluster table with ``[Fe/H]med``, ``Nflag12``, ``AgeNN`` (log age,
        ``dex(yr)``; plain numbers are read as log10(age/yr), see
        `astro_ocl.schema.log_age`), the ``uncertainty`` column(s) and either
        ``RGC, LZ, Energy`` or a full ``coord``.
    method : {"analytic", "emcee"}
        Exact Gaussian posterior (default; milliseconds) or emcee sampling
        (the paper's method, the cross-check; see `fit_gradient`).
    uncertainty : str, tuple of str, float or array-like
        Per-cluster [Fe/H] error of the likelihood: a column name (default
        ``"e_[Fe/H]med"``, the error of the fitted ``[Fe/H]med``), several
        column names added in quadrature, one value for all clusters (dex), or
        one value per cluster. `FU2022_UNCERTAINTY` (``"s_[Fe/H]"``, the
        star-to-star dispersion) is the choice that matches paper Table 6
        best so far (provisional, see its note). Floored at ``min_error``.
    age_groups : list of (label, min_Gyr, max_Gyr), optional
        Default `AGE_GROUPS`; a cluster is in a group when ``min <= age < max``.
    min_flag12 : int
        Minimum number of FLAG=12 stars of a cluster (3 in the paper).
    min_clusters : int
        Groups with fewer clusters are reported (N, ``fitted=False``) but not fitted.
    degree, nwalkers, nsteps, burn, min_error, seed, progress
        See `fit_gradient` (``nwalkers, nsteps, burn, seed, progress`` only
        matter for ``method="emcee"``).
    include_all : bool
        Add a group ``all`` with every usable cluster.
    source : str, optional
        Description of the input (stored in the table's meta).
    n_jobs : int
        Worker processes for emcee fits (each fit is independent and seeded, so
        the result does not depend on ``n_jobs``); analytic fits run in this
        process.

    Returns
    -------
    GradientResult
        ``table`` columns ``{a,b,c}_{16,50,84}``, ``{a,b,c}_sigma`` (posterior
        standard deviation), ``tau_max, n_tau, acceptance`` (NaN for the
        analytic method); ``table.meta`` records ``method``, ``uncertainty`` and
        the emcee settings (``nwalkers, nsteps, burn``: the values passed, used
        only by ``method="emcee"``).

    Raises
    ------
    MissingColumnError
        A required column (or an ``uncertainty`` column) is absent.
    ValueError
        Unknown method, a bad ``uncertainty`` value.
    """
    t_start = time.perf_counter()
    if method not in METHODS:
        raise InputDataError(f"method must be one of {METHODS}, got {method!r}")
    age_groups = AGE_GROUPS if age_groups is None else age_groups
    for col in ("[Fe/H]med", "Nflag12", "AgeNN"):
        if col not in clusters.colnames:
            raise MissingColumnError(f"the clusters need a {col!r} column", column=col)
    unc_label, efit = _uncertainty(clusters, uncertainty)
    xs = _x_values(clusters)
    feh = _column_dex(clusters, "[Fe/H]med")
    efeh = (_column_dex(clusters, "e_[Fe/H]med") if "e_[Fe/H]med" in clusters.colnames
            else np.full(len(clusters), np.nan))
    log_age = schema.log_age(clusters["AgeNN"])  # dex(yr); plain numbers: log10(age/yr)
    age = 10 ** (log_age.value - 9.0)  # Gyr, in log space: no rounding at the group edges
    nflag12 = np.nan_to_num(_floats(clusters["Nflag12"]))
    usable = (nflag12 >= min_flag12) & np.isfinite(feh) & np.isfinite(age) & np.isfinite(efit)
    for v in xs.values():
        usable &= np.isfinite(v.value)
    log.info("gradients: %d of %d clusters usable (>= %d FLAG=12 stars, [Fe/H], %s, age, "
             "orbit)", int(usable.sum()), len(clusters), min_flag12, unc_label)
    used = QTable()
    if "Cluster" in clusters.colnames:
        used["Cluster"] = clusters["Cluster"][usable]
    for k, v in xs.items():
        used[k] = v[usable]
    used["[Fe/H]med"] = feh[usable] * u.dex
    used["e_[Fe/H]med"] = efeh[usable] * u.dex
    used["e_[Fe/H]fit"] = efit[usable] * u.dex
    used["e_[Fe/H]fit"].info.description = (f"[Fe/H] error of the fit: {unc_label} "
                                            f"(before the {min_error} dex floor)")
    used["AgeNN"] = log_age[usable]
    labels = np.full(int(usable.sum()), "", dtype="U16")
    for label, lo, hi in age_groups:
        labels[(age[usable] >= lo) & (age[usable] < hi)] = label
    used["age_group"] = labels
    groups = list(age_groups) + ([("all", 0.0, np.inf)] if include_all else [])
    names = _coef_names(degree)
    rows, fits, jobs, where = [], {}, [], []
    rng = np.random.default_rng(seed)
    for label, lo, hi in groups:
        for xlabel, col, unit, scale in X_VARIABLES:
            fit_seed = int(rng.integers(2 ** 31))  # drawn for every cell: stable seeds
            sel = np.ones(len(used), bool) if label == "all" else (used["age_group"] == label)
            n = int(sel.sum())
            row = {"age_group": label, "age_min": lo, "age_max": hi, "x": xlabel, "N": n,
                   "fitted": False, "tau_max": np.nan, "n_tau": np.nan, "acceptance": np.nan,
                   "note": ""}
            for nm in names:
                row.update({f"{nm}_16": np.nan, f"{nm}_50": np.nan, f"{nm}_84": np.nan,
                            f"{nm}_sigma": np.nan})
            rows.append(row)
            if n < max(min_clusters, degree + 1):
                row["note"] = f"too few clusters ({n} < {max(min_clusters, degree + 1)})"
                log.info("gradient %s vs %s: %s, not fitted", label, xlabel, row["note"])
                continue
            xv = used[col][sel].to_value(unit) / scale
            jobs.append(dict(x=xv, feh=used["[Fe/H]med"][sel].value,
                             e_feh=used["e_[Fe/H]fit"][sel].value, degree=degree,
                             method=method, nwalkers=nwalkers, nsteps=nsteps, burn=burn,
                             min_error=min_error, seed=fit_seed))
            where.append(row)
    for row, (fit, caught) in zip(where, _run_jobs(jobs, n_jobs, progress)):
        fits[(row["age_group"], row["x"])] = fit
        for nm, a, b, c, s in zip(fit.names, fit.p16, fit.p50, fit.p84, fit.sigma):
            row.update({f"{nm}_16": a, f"{nm}_50": b, f"{nm}_84": c, f"{nm}_sigma": s})
        row["fitted"] = True
        if fit.method == "emcee":
            row.update(tau_max=float(np.max(fit.tau)),
                       n_tau=(fit.nsteps - fit.burn) / float(np.max(fit.tau)),
                       acceptance=fit.acceptance)
        if caught:
            row["note"] = "chain < 50 autocorrelation times"
            log.warning("gradient %s vs %s: chain shorter than 50 autocorrelation times "
                        "(tau = %.1f steps)", row["age_group"], row["x"], row["tau_max"])
    table = QTable(rows=rows)
    table["age_min"].unit = u.Gyr
    table["age_max"].unit = u.Gyr
    table["age_group"].info.description = "Age group (CG2020 AgeNN)"
    table["x"].info.description = ("Abscissa: RGC [kpc], LZ/1e3 [kpc km/s], Energy/1e5 "
                                   "[km2/s2]")
    table["N"].info.description = "Number of clusters in the group"
    for nm in names:
        for p in ("16", "50", "84"):
            table[f"{nm}_{p}"].info.description = (
                f"{p}th percentile of {nm} in [Fe/H] = a x^2 + b x + c (dex per x^power)")
        table[f"{nm}_sigma"].info.description = f"Posterior standard deviation of {nm}"
    table["tau_max"].info.description = ("Largest emcee autocorrelation time (steps); NaN "
                                         "for the analytic posterior")
    table["n_tau"].info.description = "Chain length after burn-in in autocorrelation times"
    elapsed = time.perf_counter() - t_start
    how = ("analytic: exact Gaussian posterior (weighted least squares)" if method == "analytic"
           else "emcee")
    table.meta.update({"method": method,
                       "posterior": f"{how}, flat priors, Gaussian likelihood on {unc_label}",
                       "uncertainty": unc_label, "min_error": min_error, "degree": degree,
                       "nwalkers": nwalkers, "nsteps": nsteps,
                       "burn": nsteps // 5 if burn is None else burn,
                       "min_flag12": min_flag12, "min_clusters": min_clusters,
                       "seed": "none" if seed is None else int(seed), "n_jobs": n_jobs,
                       "source": source or "<table>", "elapsed_s": round(elapsed, 4)})
    log.info("gradient table (%s): %d fits in %.3f s", method, len(fits), elapsed)
    return GradientResult(table=table, clusters=used, source=source or "<table>", fits=fits)


def gradients_for_catalogue(clusters=None, *, fallback=None, method="analytic", min_usable=20,
                            nwalkers=16, nsteps=3500, seed=None, progress=None, n_jobs=None,
                            **kwargs):
    """Table 6 for a catalogue build: its own clusters where they suffice, else ``fallback``.

    With at least ``min_usable`` usable clusters the catalogue's own clusters
    are fitted, and every age group with too few of them (``min_clusters`` of
    `gradient_table`) is fitted on the caller's ``fallback`` sample instead
    (the build passes the embedded Zhong et al. 2020 clusters,
    `~astro_ocl.sources.clusters.read_cluster_dynamics_input`): the row's
    ``fitted_on`` names the sample and its ``note`` says why, and an
    `~astro_ocl.exceptions.AstroOCLWarning` lists those groups. With fewer
    usable clusters the whole table is fitted on ``fallback`` (a warning says
    so); without a fallback that raises.

    Parameters
    ----------
    clusters : `~astropy.table.QTable`, optional
        The catalogue's cluster table.
    fallback : `~astropy.table.QTable` or callable, optional
        The sample to fit when ``clusters`` has too few usable clusters, or a
        function returning it (called only then); its ``meta["reference"]`` names it.
    method : {"analytic", "emcee"}
        See `gradient_table`.
    min_usable : int
        Clusters with >= 3 FLAG=12 stars, [Fe/H] and age needed to fit the
        catalogue's own clusters at all.
    nwalkers, nsteps : int
        emcee settings (``method="emcee"``), lighter than the paper's (300,
        10 000) so that a build stays fast (2800 steps after burn-in, > 50
        autocorrelation times).
    n_jobs : int, optional
        Worker processes of emcee fits (default: the number of CPUs).
    **kwargs
        Passed to `gradient_table`.

    Returns
    -------
    GradientResult
    """
    n_ok = 0
    if clusters is not None and len(clusters):
        nf = np.nan_to_num(np.asarray(clusters["Nflag12"], float))
        feh = np.asarray(getattr(clusters["[Fe/H]med"], "value", clusters["[Fe/H]med"]),
                         float)
        n_ok = int(((nf >= kwargs.get("min_flag12", 3)) & np.isfinite(feh)
                    & np.isfinite(schema.log_age(clusters["AgeNN"]).value)).sum())
    import os
    n_jobs = os.cpu_count() or 1 if n_jobs is None else n_jobs
    options = dict(method=method, nwalkers=nwalkers, nsteps=nsteps, seed=seed, progress=progress,
                   n_jobs=n_jobs)
    if n_ok >= min_usable:
        own = gradient_table(clusters, source="this catalogue",
                             **options, **_checked_uncertainty(clusters, "this catalogue",
                                                               kwargs))
        missing = ~np.asarray(own.table["fitted"], bool)
        if not missing.any() or fallback is None:
            own.table["fitted_on"] = np.where(missing, "", "this catalogue")
            _describe_fitted_on(own.table)
            return own
        # the age groups this catalogue cannot fit come from the fallback sample
        table = fallback() if callable(fallback) else fallback
        src = str(table.meta.get("reference", "the fallback sample"))
        other = gradient_table(table, source=src, **options,
                               **_checked_uncertainty(table, src, kwargs))
        fitted_on = np.where(missing, "", "this catalogue").astype("U200")
        own.table["note"] = own.table["note"].astype("U300")
        fell_back = []
        for i in np.flatnonzero(missing):
            j = np.flatnonzero((other.table["age_group"] == own.table["age_group"][i])
                               & (other.table["x"] == own.table["x"][i]))
            if not j.size or not other.table["fitted"][j[0]]:
                continue
            reason = own.table["note"][i]
            row = other.table[j[0]]
            for name in own.table.colnames:
                if name not in ("note",):
                    own.table[name][i] = row[name]
            own.table["note"][i] = f"this catalogue: {reason}; fitted on {src}"
            fitted_on[i] = src
            key = (str(row["age_group"]), str(row["x"]))
            own.fits[key] = other.fits[key]
            fell_back.append(f"{row['age_group']} ({reason})")
        own.table["fitted_on"] = fitted_on
        _describe_fitted_on(own.table)
        groups = sorted(set(fell_back))
        if groups:
            warnings.warn(f"gradients: age groups fitted on {src} because this catalogue has "
                          f"too few clusters in them: {', '.join(groups)}", AstroOCLWarning)
            labels = ", ".join(sorted({g.split(" (")[0] for g in groups}))
            own.source = f"this catalogue; groups {labels} on {src}"
        own.table.meta["fallback"] = src
        return own
    if fallback is None:
        raise NoUsableDataError(f"gradients: the catalogue has {n_ok} usable clusters "
                                f"(< {min_usable}) and no fallback sample was given")
    table = fallback() if callable(fallback) else fallback
    src = str(table.meta.get("reference", "the fallback sample"))
    warnings.warn(f"gradients: the catalogue has {n_ok} usable clusters (< {min_usable}); "
                  f"fitted on {src} instead", AstroOCLWarning)
    result = gradient_table(table, source=src, **options, **_checked_uncertainty(table, src,
                                                                                 kwargs))
    result.table["fitted_on"] = np.where(result.table["fitted"], src, "")
    _describe_fitted_on(result.table)
    return result


def _checked_uncertainty(table, src, kwargs):
    """``kwargs`` with an ``uncertainty`` column the table lacks replaced by the default."""
    kwargs = dict(kwargs)
    unc = kwargs.get("uncertainty")
    if isinstance(unc, str) and unc not in table.colnames:
        warnings.warn(f"gradients: {src} has no {unc!r} column; the [Fe/H] errors are "
                      f"{DEFAULT_UNCERTAINTY!r} instead", AstroOCLWarning)
        kwargs["uncertainty"] = DEFAULT_UNCERTAINTY
    return kwargs


def _describe_fitted_on(table):
    table["fitted_on"].info.description = ("The clusters this row was fitted on (the note "
                                           "says why a group fell back to another sample)")


def compare_with_table6(table, reference):
    """z statistics of fitted coefficients against paper Table 6.

    ``z = (ours_p50 - paper) / paper_sigma``, with the paper's upper error when
    our value lies above the paper's and its lower error otherwise.

    Parameters
    ----------
    table : `~astropy.table.QTable`
        ``GradientResult.table`` (columns ``age_group, x, N, {a,b,c}_16/50/84``).
    reference : `~astropy.table.QTable`
        Paper Table 6 as `~astro_ocl.sources.clusters.read_fu2022_table6` returns it
        (default: that reader's shipped file).

    Returns
    -------
    `~astropy.table.QTable`
        One row per paper coefficient: ``age_group, x, coefficient, N, N_paper,
        ours, ours_sigma, paper, paper_plus, paper_minus, z, width_ratio``
        (our 16-84 half width over the paper's); rows we did not fit have NaN.
        ``meta`` holds ``n_compared, max_abs_z, n_over_1, n_over_0.5`` and
        ``median_width_ratio``.
    """
    if not isinstance(reference, QTable):
        raise TypeError("reference must be the paper Table 6 as a QTable "
                        "(astro_ocl.sources.clusters.read_fu2022_table6)")
    ref = reference
    index = {(str(r["age_group"]), str(r["x"])): r for r in table}
    rows = []
    for r in ref:
        g, x, k = str(r["age_group"]), str(r["x"]), str(r["coefficient"])
        ours = index.get((g, x))
        p = float(r["paper"])
        hi, lo = float(r["paper_plus"]), float(r["paper_minus"])
        row = {"age_group": g, "x": x, "coefficient": k, "N": -1, "N_paper": int(r["N"]),
               "ours": np.nan, "ours_sigma": np.nan, "paper": p, "paper_plus": hi,
               "paper_minus": lo, "z": np.nan, "width_ratio": np.nan}
        if ours is not None and f"{k}_50" in ours.colnames and np.isfinite(ours[f"{k}_50"]):
            v = float(ours[f"{k}_50"])
            half = 0.5 * float(ours[f"{k}_84"] - ours[f"{k}_16"])
            row.update(N=int(ours["N"]), ours=v, ours_sigma=half,
                       z=(v - p) / (hi if v > p else lo), width_ratio=half / (0.5 * (hi + lo)))
        rows.append(row)
    out = QTable(rows=rows)
    z = np.asarray(out["z"], float)
    z = np.abs(z[np.isfinite(z)])
    w = np.asarray(out["width_ratio"], float)
    out.meta.update({"n_compared": int(z.size),
                     "max_abs_z": float(z.max()) if z.size else np.nan,
                     "n_over_1": int(np.sum(z > 1)), "n_over_0.5": int(np.sum(z > 0.5)),
                     "median_width_ratio": float(np.nanmedian(w)) if np.isfinite(w).any()
                     else np.nan})
    return out
