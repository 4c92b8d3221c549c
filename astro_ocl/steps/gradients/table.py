"""Galactic metallicity gradients (method step 8, paper Table 6).

[Fe/H] = a x^2 + b x + c is fitted for six age groups (< 0.1, 0.1-0.5, 0.5-1,
1-2, 2-4, > 4 Gyr; ages from Cantat-Gaudin et al. 2020 ``AgeNN``) with x the
Galactocentric radius RGC [kpc], the angular momentum LZ / 10^3 [kpc km/s] and
the orbital energy E / 10^5 [km^2/s^2], using only clusters with at least three
FLAG=12 stars; the 16/50/84 percentiles of (a, b, c) are reported.

The clusters' [Fe/H], its error and the number of stars behind it are those of
either statistics method (`astro_ocl.schema.value_columns`: ``[Fe/H]``,
``e_[Fe/H]``, ``NFeH`` of the likelihood; ``[Fe/H]med``, ``e_[Fe/H]med``,
``Nflag12`` of the paper's Monte Carlo). The per-cluster error is by default the
error of the value fitted; the fits themselves are in `astro_ocl.steps.gradients.fit` (exact
Gaussian posterior, emcee as the cross-check). Which per-cluster error the
paper used is not stated; see `FU2022_UNCERTAINTY`.
"""
import os
import time
import warnings
from dataclasses import dataclass, field

import astropy.units as u
import numpy as np
from astropy.table import QTable

from ... import schema
from ...exceptions import AstroOCLWarning, InputDataError, MissingColumnError, NoUsableDataError
from ...logger import log
from ..dynamics import orbital_energy, phase_space
from .fit import (METHODS, as_dex, as_floats, coefficient_names, fit_diagnostics,
                  intrinsic_scatter, run_fits)

__all__ = ["AGE_GROUPS", "X_VARIABLES", "DEFAULT_UNCERTAINTY", "FU2022_UNCERTAINTY",
           "GradientResult", "gradient_table", "gradients_for_catalogue", "compare_with_table6"]

#: Age groups of paper Table 6: (label, min, max) in Gyr; a cluster is in a group
#: when ``min <= age < max``.
AGE_GROUPS = [("<0.1 Gyr", 0.0, 0.1), ("0.1-0.5 Gyr", 0.1, 0.5), ("0.5-1 Gyr", 0.5, 1.0),
              ("1-2 Gyr", 1.0, 2.0), ("2-4 Gyr", 2.0, 4.0), (">4 Gyr", 4.0, np.inf)]

#: Abscissae of Table 6: (label, column, unit, scale).
X_VARIABLES = [("RGC", "RGC", u.kpc, 1.0), ("LZ/1e3", "LZ", u.kpc * u.km / u.s, 1e3),
               ("E/1e5", "Energy", u.km ** 2 / u.s ** 2, 1e5)]

#: Default per-cluster [Fe/H] error of `gradient_table`: None, the error of the value
#: fitted (``e_[Fe/H]`` of the likelihood, ``e_[Fe/H]med`` of the Monte Carlo).
DEFAULT_UNCERTAINTY = None

#: Per-cluster [Fe/H] error of the ``fu2022`` convention of the gradients: the
#: star-to-star dispersion of the FLAG=12 stars, which the article (section 2.2)
#: takes as the cluster [Fe/H] uncertainty. Direct evidence: fitted with it, all 54
#: coefficients of the article's Table 6 (shipped, `read_fu2022_table6`) are
#: reproduced within half the paper's error; ``astro-ocl reproduce`` recomputes and
#: reports this (docs page "Reproducing Fu et al. 2022").
FU2022_UNCERTAINTY = "s_[Fe/H]"


def _x_values(clusters):
    """RGC, LZ, Energy of the clusters (computed from ``coord`` when missing)."""
    have = all(c in clusters.colnames for c in ("RGC", "LZ", "Energy"))
    if have:
        return {c: u.Quantity(clusters[c]) for c in ("RGC", "LZ", "Energy")}
    if "coord" not in clusters.colnames:
        raise MissingColumnError("the clusters need RGC, LZ and Energy columns or a 'coord' "
                                 "with distance, proper motion and radial velocity",
                                 column="coord")
    ps = phase_space(clusters["coord"])
    vsq = ps["U"].value ** 2 + ps["V"].value ** 2 + ps["W"].value ** 2
    energy = orbital_energy(ps["RGC"].value, ps["ZGC"].value, vsq, potential="interpolated")
    return {"RGC": ps["RGC"], "LZ": ps["LZ"], "Energy": energy * u.km ** 2 / u.s ** 2}


def _column_dex(clusters, name):
    if name not in clusters.colnames:
        raise MissingColumnError(f"the clusters need a {name!r} column", column=name)
    return as_dex(clusters[name], name).astype(float)


def _uncertainty(clusters, uncertainty):
    """(label, per-cluster error array) of the ``uncertainty`` option of `gradient_table`."""
    n = len(clusters)
    if isinstance(uncertainty, str):
        return uncertainty, _column_dex(clusters, uncertainty)
    if (isinstance(uncertainty, (list, tuple)) and uncertainty
            and all(isinstance(c, str) for c in uncertainty)):
        parts = [_column_dex(clusters, c) for c in uncertainty]
        return "hypot(" + ", ".join(uncertainty) + ")", np.sqrt(sum(p ** 2 for p in parts))
    if uncertainty is None:  # the error of the value fitted
        column = schema.value_columns(clusters, "[Fe/H]")[1]
        return column, _column_dex(clusters, column)
    values = as_dex(uncertainty, "uncertainty")
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
        The clusters used (``RGC, LZ, Energy``, ``[Fe/H]``, ``e_[Fe/H]``,
        ``e_[Fe/H]fit`` and ``age_group``).
    source : str
        Where the clusters come from.
    fits : dict
        ``{(age group, x label): GradientFit}``.
    """

    table: QTable
    clusters: QTable
    source: str = ""
    fits: dict = field(default_factory=dict)


#: The diagnostics of each fitted row of `gradient_table`.
_DIAGNOSTICS = {
    "chi2_dof": "Chi-square per degree of freedom of the weighted least-squares fit",
    "scatter": "Intrinsic [Fe/H] scatter added to every cluster's error (0: none fitted)",
    "loo_cluster": "The cluster whose removal moves a coefficient most (leave one out)",
    "loo_shift": "That shift, in posterior sigma of the coefficient (all clusters)",
    "loo_coefficient": "The coefficient it moves most",
}


def _influence(x, feh, e_feh, names, degree, min_error):
    """chi2/dof and the most influential cluster of one row (`fit_diagnostics`)."""
    d = fit_diagnostics(x, feh, e_feh, degree=degree, min_error=min_error)
    out = {"chi2_dof": d["chi2"] / d["dof"] if d["dof"] > 0 else np.nan,
           "loo_shift": d["max_shift"], "loo_coefficient": d["coefficient"], "loo_cluster": ""}
    if d["influential"] >= 0:
        out["loo_cluster"] = str(np.asarray(names)[d["influential"]])
    return out


def _warn_influential(rows, limit):
    """A warning naming the rows that one cluster carries (a note in each row too)."""
    carried = [r for r in rows if np.isfinite(r["loo_shift"]) and r["loo_shift"] > limit]
    for r in carried:
        r["note"] = (f"{r['loo_cluster']} alone moves {r['loo_coefficient']} by "
                     f"{r['loo_shift']:.1f} sigma")
    if carried:
        warnings.warn(f"gradients: in {len(carried)} of {len(rows)} fits one cluster moves a "
                      f"coefficient by more than {limit:g} sigma: " + "; ".join(
                          f"{r['age_group']} vs {r['x']}: {r['note']}" for r in carried[:6])
                      + (" ..." if len(carried) > 6 else ""), AstroOCLWarning)


def gradient_table(clusters, *, method="analytic", uncertainty=DEFAULT_UNCERTAINTY,
                   age_groups=None, min_flag12=3, min_clusters=5, degree=2, nwalkers=300,
                   nsteps=10000, burn=None, min_error=0.01, include_all=True, seed=None,
                   progress=None, source=None, n_jobs=1, scatter=False,
                   influence_limit=1.0):
    """Paper Table 6: [Fe/H] gradients per age group against RGC, LZ/10^3 and E/10^5.

    Each fitted row also says how well the polynomial fits (``chi2_dof``) and how
    much one cluster carries it: the cluster whose removal moves a coefficient
    most (``loo_cluster``), by how many posterior sigma (``loo_shift``) and which
    coefficient (``loo_coefficient``); a row where one cluster moves a
    coefficient by more than ``influence_limit`` sigma gets an
    `~astro_ocl.exceptions.AstroOCLWarning` and a note.

    Parameters
    ----------
    clusters : `~astropy.table.QTable`
        Cluster table with [Fe/H], its error and its number of stars (either
        statistics method, `astro_ocl.schema.value_columns`), ``AgeNN`` (log age,
        ``dex(yr)``; plain numbers are read as log10(age/yr), see
        `astro_ocl.schema.log_age`), the ``uncertainty`` column(s) and either
        ``RGC, LZ, Energy`` or a full ``coord``.
    method : {"analytic", "emcee"}
        Exact Gaussian posterior (default; milliseconds) or emcee sampling
        (the paper's method, the cross-check; see `fit_gradient`).
    uncertainty : None, str, tuple of str, float or array-like
        Per-cluster [Fe/H] error of the likelihood: None (default), the error of
        the value fitted; a column name, several column names added in
        quadrature, one value for all clusters (dex), or one value per cluster.
        `FU2022_UNCERTAINTY` (``"s_[Fe/H]"``, the star-to-star dispersion) is the
        paper's choice (see its note). Floored at ``min_error``.
    age_groups : list of (label, min_Gyr, max_Gyr), optional
        Default `AGE_GROUPS`; a cluster is in a group when ``min <= age < max``.
    min_flag12 : int
        Minimum number of stars behind a cluster's [Fe/H] (FLAG=12 stars; 3 in the
        paper).
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
    scatter : bool
        Add an intrinsic [Fe/H] scatter about the polynomial, fitted per row
        (`~astro_ocl.steps.gradients.fit.intrinsic_scatter`), to every cluster's
        error in quadrature (recorded in ``scatter``); default False, as the
        paper (its fits have none).
    influence_limit : float
        Leave-one-out shift (posterior sigma) above which a row is warned about.

    Returns
    -------
    GradientResult
        ``table`` columns ``{a,b,c}_{16,50,84}``, ``{a,b,c}_sigma`` (posterior
        standard deviation), ``chi2_dof``, ``scatter``, ``loo_cluster``,
        ``loo_shift``, ``loo_coefficient``, ``tau_max, n_tau, acceptance`` (NaN for the
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
    value_c, error_c, n_c, _ = schema.value_columns(clusters, "[Fe/H]")
    for col in (n_c, "AgeNN"):
        if col not in clusters.colnames:
            raise MissingColumnError(f"the clusters need a {col!r} column", column=col)
    unc_label, efit = _uncertainty(clusters, uncertainty)
    xs = _x_values(clusters)
    feh = _column_dex(clusters, value_c)
    efeh = (_column_dex(clusters, error_c) if error_c in clusters.colnames
            else np.full(len(clusters), np.nan))
    log_age = schema.log_age(clusters["AgeNN"])  # dex(yr); plain numbers: log10(age/yr)
    age = 10 ** (log_age.value - 9.0)  # Gyr, in log space: no rounding at the group edges
    nflag12 = np.nan_to_num(as_floats(clusters[n_c]))
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
    used["[Fe/H]"] = feh[usable] * u.dex
    used["[Fe/H]"].info.description = f"Cluster [Fe/H] fitted (column {value_c})"
    used["e_[Fe/H]"] = efeh[usable] * u.dex
    used["e_[Fe/H]"].info.description = f"Error of [Fe/H] (column {error_c})"
    used["e_[Fe/H]fit"] = efit[usable] * u.dex
    used["e_[Fe/H]fit"].info.description = (f"[Fe/H] error of the fit: {unc_label} "
                                            f"(before the {min_error} dex floor)")
    used["AgeNN"] = log_age[usable]
    labels = np.full(int(usable.sum()), "", dtype="U16")
    for label, lo, hi in age_groups:
        labels[(age[usable] >= lo) & (age[usable] < hi)] = label
    used["age_group"] = labels
    groups = list(age_groups) + ([("all", 0.0, np.inf)] if include_all else [])
    names = coefficient_names(degree)
    rows, fits, jobs, where = [], {}, [], []
    rng = np.random.default_rng(seed)
    for label, lo, hi in groups:
        for xlabel, col, unit, scale in X_VARIABLES:
            fit_seed = int(rng.integers(2 ** 31))  # drawn for every cell: stable seeds
            sel = np.ones(len(used), bool) if label == "all" else (used["age_group"] == label)
            n = int(sel.sum())
            row = {"age_group": label, "age_min": lo, "age_max": hi, "x": xlabel, "N": n,
                   "fitted": False, "chi2_dof": np.nan, "scatter": np.nan, "loo_cluster": "",
                   "loo_shift": np.nan, "loo_coefficient": "", "tau_max": np.nan,
                   "n_tau": np.nan, "acceptance": np.nan, "note": ""}
            for nm in names:
                row.update({f"{nm}_16": np.nan, f"{nm}_50": np.nan, f"{nm}_84": np.nan,
                            f"{nm}_sigma": np.nan})
            rows.append(row)
            if n < max(min_clusters, degree + 1):
                row["note"] = f"too few clusters ({n} < {max(min_clusters, degree + 1)})"
                log.info("gradient %s vs %s: %s, not fitted", label, xlabel, row["note"])
                continue
            xv = used[col][sel].to_value(unit) / scale
            feh_sel, e_sel = used["[Fe/H]"][sel].value, used["e_[Fe/H]fit"][sel].value
            row["scatter"] = intrinsic_scatter(xv, feh_sel, e_sel, degree=degree,
                                               min_error=min_error) if scatter else 0.0
            e_sel = np.hypot(np.maximum(e_sel, min_error), row["scatter"])
            row.update(_influence(xv, feh_sel, e_sel, used["Cluster"][sel] if "Cluster" in
                                  used.colnames else np.flatnonzero(sel), degree, min_error))
            jobs.append(dict(x=xv, feh=feh_sel, e_feh=e_sel, degree=degree,
                             method=method, nwalkers=nwalkers, nsteps=nsteps, burn=burn,
                             min_error=min_error, seed=fit_seed))
            where.append(row)
    _warn_influential(where, influence_limit)
    for row, (fit, caught) in zip(where, run_fits(jobs, n_jobs, progress)):
        fits[(row["age_group"], row["x"])] = fit
        for nm, a, b, c, s in zip(fit.names, fit.p16, fit.p50, fit.p84, fit.sigma):
            row.update({f"{nm}_16": a, f"{nm}_50": b, f"{nm}_84": c, f"{nm}_sigma": s})
        row["fitted"] = True
        if fit.method == "emcee":
            row.update(tau_max=float(np.max(fit.tau)),
                       n_tau=(fit.nsteps - fit.burn) / float(np.max(fit.tau)),
                       acceptance=fit.acceptance)
        if caught:
            row["note"] = "; ".join(n for n in (row["note"], "chain < 50 autocorrelation times")
                                    if n)
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
    for name, text in _DIAGNOSTICS.items():
        table[name].info.description = text
    table["scatter"].unit = u.dex
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
                       "source": source or "<table>", "elapsed_s": round(elapsed, 4),
                       "scatter": "fitted per row" if scatter else "none (as the paper)",
                       "influence_limit": influence_limit})
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
        value_c, _, n_c, _ = schema.value_columns(clusters, "[Fe/H]")
        nf = np.nan_to_num(np.asarray(clusters[n_c], float))
        feh = np.asarray(getattr(clusters[value_c], "value", clusters[value_c]), float)
        n_ok = int(((nf >= kwargs.get("min_flag12", 3)) & np.isfinite(feh)
                    & np.isfinite(schema.log_age(clusters["AgeNN"]).value)).sum())
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
        for name in own.table.colnames:  # room for the fallback's texts
            if own.table[name].dtype.kind == "U":
                own.table[name] = own.table[name].astype("U300")
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
                      "the errors of the values fitted instead", AstroOCLWarning)
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
        (its default is the shipped transcription of the article's table).

    Returns
    -------
    `~astropy.table.QTable`
        One row per paper coefficient: ``age_group, x, coefficient, N, N_paper,
        ours, ours_sigma, paper, paper_plus, paper_minus, z, width_ratio``
        (our 16-84 half width over the paper's mean half width); rows we did not
        fit have NaN; ``N_paper`` is -1 where the reference gives none (the
        article prints no N).
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
