"""Galactic metallicity gradients fitted with emcee (method step 8, paper Table 6).

[Fe/H] = a x^2 + b x + c is fitted for six age groups (< 0.1, 0.1-0.5, 0.5-1,
1-2, 2-4, > 4 Gyr; ages from Cantat-Gaudin et al. 2020 ``AgeNN``) with x the
Galactocentric radius RGC [kpc], the angular momentum LZ / 10^3 [kpc km/s] and
the orbital energy E / 10^5 [km^2/s^2], using only clusters with at least three
FLAG=12 stars. Paper settings: 300 walkers, 10 000 steps; the 16/50/84
percentiles of (a, b, c) are reported.

Likelihood: Gaussian in [Fe/H] with the cluster errors (``e_[Fe/H]med``,
floored at ``min_error``, 0.01 dex, so that a cluster whose error is zero cannot
dominate), flat priors on (a, b, c). No intrinsic scatter term (as in the paper,
which quotes none).
"""
import time
import warnings
from dataclasses import dataclass, field

import astropy.units as u
import numpy as np
from astropy.table import QTable

from ..exceptions import AstroOCLWarning, MissingColumnError, NoUsableDataError
from ..logger import log
from ..utils import progress as _progress

__all__ = ["AGE_GROUPS", "X_VARIABLES", "GradientFit", "GradientResult", "ConvergenceWarning",
           "fit_gradient", "gradient_table", "gradients_for_catalogue"]

#: Age groups of paper Table 6: (label, min, max) in Gyr.
AGE_GROUPS = [("<0.1 Gyr", 0.0, 0.1), ("0.1-0.5 Gyr", 0.1, 0.5), ("0.5-1 Gyr", 0.5, 1.0),
              ("1-2 Gyr", 1.0, 2.0), ("2-4 Gyr", 2.0, 4.0), (">4 Gyr", 4.0, np.inf)]

#: Abscissae of Table 6: (label, column, unit, scale).
X_VARIABLES = [("RGC", "RGC", u.kpc, 1.0), ("LZ/1e3", "LZ", u.kpc * u.km / u.s, 1e3),
               ("E/1e5", "Energy", u.km ** 2 / u.s ** 2, 1e5)]

_NAMES = {2: ("a", "b", "c"), 1: ("b", "c"), 0: ("c",)}


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
        Percentiles of the coefficients.
    tau : `~numpy.ndarray`
        Integrated autocorrelation time of each coefficient (steps).
    n_points, nwalkers, nsteps, burn : int
    acceptance : float
        Mean acceptance fraction.
    converged : bool
        ``nsteps >= 50 * max(tau)``.
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


def fit_gradient(x, feh, e_feh, *, degree=2, nwalkers=300, nsteps=10000, burn=None,
                 min_error=0.01, seed=None, progress=None):
    """Fit [Fe/H] = a x^2 + b x + c (or a lower degree) with emcee.

    Parameters
    ----------
    x, feh, e_feh : array-like or `~astropy.units.Quantity`
        Abscissa, [Fe/H] and its error (dex). Rows with a non-finite value are
        left out.
    degree : int
        Polynomial degree (2 in the paper).
    nwalkers, nsteps : int
        emcee walkers and steps (paper: 300 and 10 000).
    burn : int, optional
        Steps discarded before the percentiles (default ``nsteps // 5``).
    min_error : float
        Floor of the [Fe/H] errors (dex).
    seed : int, optional
        Seed of the walkers' start and moves.
    progress : bool, optional
        emcee's progress bar.

    Returns
    -------
    GradientFit
        The autocorrelation time is computed with ``tol=0``; a chain shorter
        than 50 times it gives a `ConvergenceWarning`.
    """
    import emcee
    x = np.asarray(getattr(x, "value", x), float)
    y = np.asarray(getattr(feh, "value", feh), float)
    e = np.asarray(getattr(e_feh, "value", e_feh), float) * np.ones_like(y)
    ok = np.isfinite(x) & np.isfinite(y) & np.isfinite(e)
    x, y, e = x[ok], y[ok], np.maximum(e[ok], min_error)
    ndim = degree + 1
    if x.size < ndim:
        raise NoUsableDataError(f"{x.size} points cannot constrain a degree-{degree} "
                                "polynomial")
    if nwalkers < 2 * ndim:
        raise ValueError(f"nwalkers must be at least {2 * ndim}")
    burn = nsteps // 5 if burn is None else int(burn)
    if not 0 <= burn < nsteps:
        raise ValueError("burn must be in [0, nsteps)")
    rng = np.random.default_rng(seed)
    # start: weighted least squares and its covariance
    coef, cov = np.polyfit(x, y, degree, w=1.0 / e, cov="unscaled")
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
    return GradientFit(names=_NAMES.get(degree, tuple(f"p{k}" for k in range(degree, -1, -1))),
                       p16=p16, p50=p50, p84=p84, tau=tau, n_points=int(x.size),
                       nwalkers=nwalkers, nsteps=nsteps, burn=burn,
                       acceptance=float(np.mean(sampler.acceptance_fraction)),
                       converged=converged)


def _fit_job(kwargs):
    """Run one fit, recording (not raising) its ConvergenceWarning; usable in a worker."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", ConvergenceWarning)
        fit = fit_gradient(**kwargs)
    return fit, [str(w.message) for w in caught if issubclass(w.category, ConvergenceWarning)]


def _run_jobs(jobs, n_jobs, show_progress):
    """Fits in this process (n_jobs=1) or in a pool of worker processes."""
    if n_jobs is None or n_jobs <= 1 or len(jobs) <= 1:
        bar = _progress(jobs, total=len(jobs), desc="gradients", enabled=show_progress)
        return [_fit_job(j) for j in bar]
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor
    # fork: the workers inherit the imported package (spawn would re-import it)
    methods = multiprocessing.get_all_start_methods()
    ctx = multiprocessing.get_context("fork" if "fork" in methods else None)
    with ProcessPoolExecutor(max_workers=int(n_jobs), mp_context=ctx) as pool:
        return list(_progress(pool.map(_fit_job, jobs), total=len(jobs), desc="gradients",
                              enabled=show_progress))


def _x_values(clusters):
    """RGC, LZ, Energy of the clusters (computed from ``coord`` when missing)."""
    have = all(c in clusters.colnames for c in ("RGC", "LZ", "Energy"))
    if have:
        return {c: u.Quantity(clusters[c]) for c in ("RGC", "LZ", "Energy")}
    if "coord" not in clusters.colnames:
        raise MissingColumnError("the clusters need RGC, LZ and Energy columns or a 'coord' "
                                 "with distance, proper motion and radial velocity",
                                 column="coord")
    from .dynamics import _energy, phase_space
    ps = phase_space(clusters["coord"])
    vsq = ps["U"].value ** 2 + ps["V"].value ** 2 + ps["W"].value ** 2
    energy = _energy(ps["RGC"].value, ps["ZGC"].value, vsq, potential="interpolated")
    return {"RGC": ps["RGC"], "LZ": ps["LZ"], "Energy": energy * u.km ** 2 / u.s ** 2}


@dataclass
class GradientResult:
    """Paper Table 6 and what it was fitted on.

    Attributes
    ----------
    table : `~astropy.table.QTable`
        One row per (age group, abscissa).
    clusters : `~astropy.table.QTable`
        The clusters used (with ``RGC, LZ, Energy`` and ``age_group``).
    source : str
        Where the clusters come from.
    fits : dict
        ``{(age group, x label): GradientFit}``.
    """

    table: QTable
    clusters: QTable
    source: str = ""
    fits: dict = field(default_factory=dict)


def gradient_table(clusters, *, age_groups=None, min_flag12=3, min_clusters=5, degree=2,
                   nwalkers=300, nsteps=10000, burn=None, include_all=True, seed=None,
                   progress=None, source=None, n_jobs=1):
    """Paper Table 6: [Fe/H] gradients per age group against RGC, LZ/10^3 and E/10^5.

    Parameters
    ----------
    clusters : `~astropy.table.QTable`
        Cluster table with ``[Fe/H]med, e_[Fe/H]med, Nflag12, AgeNN`` (log10
        age/yr) and either ``RGC, LZ, Energy`` or a full ``coord``.
    age_groups : list of (label, min_Gyr, max_Gyr), optional
        Default `AGE_GROUPS`.
    min_flag12 : int
        Minimum number of FLAG=12 stars of a cluster (3 in the paper).
    min_clusters : int
        Groups with fewer clusters are reported (N, ``fitted=False``) but not fitted.
    degree, nwalkers, nsteps, burn, seed, progress
        See `fit_gradient`.
    include_all : bool
        Add a group ``all`` with every usable cluster.
    source : str, optional
        Description of the input (stored in the table's meta).
    n_jobs : int
        Worker processes for the fits (each fit is independent and seeded, so
        the result does not depend on ``n_jobs``).

    Returns
    -------
    GradientResult
    """
    t_start = time.perf_counter()
    age_groups = AGE_GROUPS if age_groups is None else age_groups
    for col in ("[Fe/H]med", "e_[Fe/H]med", "Nflag12", "AgeNN"):
        if col not in clusters.colnames:
            raise MissingColumnError(f"the clusters need a {col!r} column", column=col)
    xs = _x_values(clusters)
    feh = np.asarray(getattr(clusters["[Fe/H]med"], "value", clusters["[Fe/H]med"]), float)
    efeh = np.asarray(getattr(clusters["e_[Fe/H]med"], "value", clusters["e_[Fe/H]med"]),
                      float)
    age = 10 ** (np.asarray(clusters["AgeNN"], float) - 9.0)  # Gyr
    nflag12 = np.nan_to_num(np.asarray(clusters["Nflag12"], float))
    usable = (nflag12 >= min_flag12) & np.isfinite(feh) & np.isfinite(age)
    for v in xs.values():
        usable &= np.isfinite(v.value)
    log.info("gradients: %d of %d clusters usable (>= %d FLAG=12 stars, [Fe/H], age, "
             "orbit)", int(usable.sum()), len(clusters), min_flag12)
    used = QTable()
    if "Cluster" in clusters.colnames:
        used["Cluster"] = clusters["Cluster"][usable]
    for k, v in xs.items():
        used[k] = v[usable]
    used["[Fe/H]med"] = feh[usable] * u.dex
    used["e_[Fe/H]med"] = efeh[usable] * u.dex
    used["AgeNN"] = np.asarray(clusters["AgeNN"], float)[usable]
    labels = np.full(int(usable.sum()), "", dtype="U16")
    for label, lo, hi in age_groups:
        labels[(age[usable] >= lo) & (age[usable] < hi)] = label
    used["age_group"] = labels
    groups = list(age_groups) + ([("all", 0.0, np.inf)] if include_all else [])
    names = _NAMES.get(degree, tuple(f"p{k}" for k in range(degree, -1, -1)))
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
                row.update({f"{nm}_16": np.nan, f"{nm}_50": np.nan, f"{nm}_84": np.nan})
            rows.append(row)
            if n < max(min_clusters, degree + 1):
                row["note"] = f"too few clusters ({n} < {max(min_clusters, degree + 1)})"
                log.info("gradient %s vs %s: %s, not fitted", label, xlabel, row["note"])
                continue
            xv = used[col][sel].to_value(unit) / scale
            jobs.append(dict(x=xv, feh=used["[Fe/H]med"][sel].value,
                             e_feh=used["e_[Fe/H]med"][sel].value, degree=degree,
                             nwalkers=nwalkers, nsteps=nsteps, burn=burn, seed=fit_seed))
            where.append(row)
    for row, (fit, caught) in zip(where, _run_jobs(jobs, n_jobs, progress)):
        fits[(row["age_group"], row["x"])] = fit
        for nm, a, b, c in zip(fit.names, fit.p16, fit.p50, fit.p84):
            row.update({f"{nm}_16": a, f"{nm}_50": b, f"{nm}_84": c})
        row.update(fitted=True, tau_max=float(np.max(fit.tau)),
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
    table["tau_max"].info.description = "Largest emcee autocorrelation time (steps)"
    table["n_tau"].info.description = "Chain length after burn-in in autocorrelation times"
    elapsed = time.perf_counter() - t_start
    table.meta.update({"method": "emcee, flat priors, Gaussian likelihood on e_[Fe/H]med",
                       "degree": degree, "nwalkers": nwalkers, "nsteps": nsteps,
                       "burn": nsteps // 5 if burn is None else burn,
                       "min_flag12": min_flag12, "min_clusters": min_clusters,
                       "seed": "none" if seed is None else int(seed), "n_jobs": n_jobs,
                       "source": source or "<table>", "elapsed_s": round(elapsed, 2)})
    log.info("gradient table: %d fits in %.1f s", len(fits), elapsed)
    return GradientResult(table=table, clusters=used, source=source or "<table>", fits=fits)


def gradients_for_catalogue(clusters=None, *, fallback=None, min_usable=50, nwalkers=16,
                            nsteps=3500, seed=None, progress=None, n_jobs=None, **kwargs):
    """Table 6 for a catalogue build: its own clusters when enough, else ``fallback``.

    The embedded per-star sample has only 15 clusters, too few for six age
    groups; then the caller's ``fallback`` sample (the build passes the embedded
    Zhong et al. 2020 clusters, `~astro_ocl.sources.clusters.read_cluster_dynamics_input`)
    is fitted instead, with a `~astro_ocl.exceptions.AstroOCLWarning` saying so
    (and ``GradientResult.source`` naming it); without a fallback, too few
    clusters raise.

    Parameters
    ----------
    clusters : `~astropy.table.QTable`, optional
        The catalogue's cluster table.
    fallback : `~astropy.table.QTable` or callable, optional
        The sample to fit when ``clusters`` has too few usable clusters, or a
        function returning it (called only then); its ``meta["reference"]`` names it.
    min_usable : int
        Clusters with >= 3 FLAG=12 stars, [Fe/H], age and orbit needed to fit the
        catalogue's own clusters.
    nwalkers, nsteps : int
        Defaults lighter than the paper's (300, 10 000) so that a build stays
        fast (2800 steps after burn-in, > 50 autocorrelation times);
        ``astro-ocl gradients`` uses the paper's.
    n_jobs : int, optional
        Worker processes (default: the number of CPUs).
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
                    & np.isfinite(np.asarray(clusters["AgeNN"], float))).sum())
    if n_ok >= min_usable:
        src = "this catalogue"
        table = clusters
    elif fallback is None:
        raise NoUsableDataError(f"gradients: the catalogue has {n_ok} usable clusters "
                                f"(< {min_usable}) and no fallback sample was given")
    else:
        table = fallback() if callable(fallback) else fallback
        src = str(table.meta.get("reference", "the fallback sample"))
        warnings.warn(f"gradients: the catalogue has {n_ok} usable clusters (< {min_usable}); "
                      f"fitted on {src} instead", AstroOCLWarning)
    import os
    n_jobs = os.cpu_count() or 1 if n_jobs is None else n_jobs
    return gradient_table(table, nwalkers=nwalkers, nsteps=nsteps, seed=seed,
                          progress=progress, source=src, n_jobs=n_jobs, **kwargs)
