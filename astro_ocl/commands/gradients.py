"""``astro-ocl gradients``: metallicity gradients (paper Table 6) and the orbits behind them.

``print_gradients`` is what ``astro-ocl build`` prints after its own fits.
"""
import os
import time
from pathlib import Path

import numpy as np

from ..exceptions import InputDataError
from ..outputs import atomic_path, check_output_file, check_output_folder, output_folder
from ..sources.clusters import read_cluster_dynamics_input
from ..sources.files import read_table_file
from ..steps.gradients import DEFAULT_UNCERTAINTY, FU2022_UNCERTAINTY, gradient_table
from .common import HelpFormatter, non_negative_int, positive_int, say

__all__ = ["add_parser", "run", "print_gradients"]


def add_parser(sub):
    p = sub.add_parser(
        "gradients", help="fit the [Fe/H] gradients of paper Table 6",
        description="Fit [Fe/H] = a x^2 + b x + c against RGC [kpc], LZ/1e3 [kpc km/s] and "
                    "E/1e5 [km2/s2] for six age groups (Fu et al. 2022 Table 6): the exact "
                    "Gaussian posterior (weighted least squares; default) or emcee (the "
                    "paper's 300 walkers x 10000 steps). Input: a cluster table written by "
                    "'astro-ocl build' (clusters.ecsv) or, by default, the embedded Zhong et "
                    "al. (2020) LAMOST clusters with CG2020 ages.",
        formatter_class=HelpFormatter)
    p.add_argument("--clusters", type=Path, default=None,
                   help="cluster table (ECSV/VOTable with RGC, LZ, Energy or a coord, "
                        "[Fe/H], e_[Fe/H], NFeH (or the paper's [Fe/H]med, e_[Fe/H]med, "
                        "Nflag12), AgeNN); default Zhong et al. 2020")
    p.add_argument("--out", type=Path, default=Path("gradients.ecsv"), help="output table")
    p.add_argument("--overwrite", action="store_true", help="replace an existing --out")
    p.add_argument("--method", choices=("analytic", "emcee"), default="analytic",
                   help="exact Gaussian posterior, or emcee as a cross-check")
    p.add_argument("--uncertainty", default=None, metavar="COLUMN",
                   help="per-cluster [Fe/H] error column (default: the error of the value "
                        "fitted, e_[Fe/H] or e_[Fe/H]med; --convention fu2022: s_[Fe/H], the "
                        "star-to-star dispersion)")
    p.add_argument("--convention", choices=("standard", "fu2022"), default="standard",
                   help="'standard': the clusters' intrinsic [Fe/H] scatter about the gradient "
                        "fitted per row, as 'astro-ocl build' does; 'fu2022': none, and the "
                        "[Fe/H] errors that reproduce the paper's Table 6")
    p.add_argument("--no-scatter", action="store_true",
                   help="with --convention standard: no intrinsic scatter term")
    p.add_argument("--walkers", type=positive_int(2), default=300,
                   help="emcee walkers (paper: 300; --method emcee only)")
    p.add_argument("--steps", type=positive_int(2), default=10000,
                   help="emcee steps (paper: 10000; --method emcee only)")
    p.add_argument("--min-flag12", type=non_negative_int, default=3,
                   help="minimum FLAG=12 stars of a cluster")
    p.add_argument("--min-clusters", type=positive_int(1), default=5,
                   help="groups with fewer clusters are reported, not fitted")
    p.add_argument("--jobs", type=positive_int(1), default=None,
                   help="worker processes (default: CPUs)")
    p.add_argument("--seed", type=int, default=None, help="random seed")
    p.add_argument("--figures", type=Path, default=None, metavar="DIR",
                   help="also draw the gradient and orbit figures (Figs. 8-12) into DIR")
    return p


def _print_table(table):
    """The fits, one row per age group and abscissa; the emcee autocorrelation time
    ``tau`` only for emcee fits (the exact posterior has none)."""
    tau = table.meta.get("method") == "emcee" or (
        "tau_max" in table.colnames and bool(np.isfinite(np.asarray(table["tau_max"],
                                                                    float)).any()))
    diag = "chi2_dof" in table.colnames
    head = " ".join(f"{k + ' (16/50/84)':<29s}" for k in "abc") + ("   tau" if tau else "")
    head += "  chi2/dof  carried most by (shift)" if diag else ""
    print(f"{'age group':<12s} {'x':<7s} {'N':>4s}  {head.rstrip()}")
    for r in table:
        if not r["fitted"]:
            print(f"{r['age_group']:<12s} {r['x']:<7s} {r['N']:>4d}  {r['note']}")
            continue
        cells = " ".join(f"{r[f'{k}_16']:+9.4f} {r[f'{k}_50']:+9.4f} {r[f'{k}_84']:+9.4f}"
                         for k in ("a", "b", "c"))
        cells += f" {r['tau_max']:5.1f}" if tau else ""
        if diag:  # the cluster whose removal moves a coefficient most, in sigma
            cells += (f"  {r['chi2_dof']:8.2f}  {r['loo_cluster']} ({r['loo_coefficient']} "
                      f"{r['loo_shift']:.1f} sigma)")
        print(f"{r['age_group']:<12s} {r['x']:<7s} {r['N']:>4d}  {cells}")


def run(args):
    t0 = time.perf_counter()
    # preconditions first: the outputs, then the input file
    check_output_file(args.out, overwrite=args.overwrite, option="--out")
    if args.figures is not None:
        from ..sinks.figures.dynamics import gradient_figure_files
        check_output_folder(args.figures, names=gradient_figure_files(),
                            overwrite=args.overwrite, option="--figures")
    if args.clusters is None:
        clusters = read_cluster_dynamics_input()
        source = "Zhong et al. 2020 (A&A 640, A127) with CG2020 ages"
    else:
        clusters = read_table_file(args.clusters, qtable=True)
        source = str(args.clusters)
    jobs = args.jobs if args.jobs is not None else (os.cpu_count() or 1)
    unc = args.uncertainty or (FU2022_UNCERTAINTY if args.convention == "fu2022"
                               else DEFAULT_UNCERTAINTY)
    try:
        res = gradient_table(clusters, method=args.method, uncertainty=unc,
                             nwalkers=args.walkers, nsteps=args.steps,
                             min_flag12=args.min_flag12, min_clusters=args.min_clusters,
                             seed=args.seed, source=source, n_jobs=jobs,
                             scatter=args.convention == "standard" and not args.no_scatter)
    except InputDataError as exc:
        if exc.source is not None or args.clusters is None:
            raise
        # the table is the --clusters file: name it
        raise type(exc)(exc.message, source=source, column=exc.column, row=exc.row,
                        value=exc.value) from None
    with atomic_path(args.out, overwrite=args.overwrite) as tmp:
        res.table.write(tmp, format="ascii.ecsv")
    if not getattr(args, "quiet", False):
        _print_table(res.table)
    files = [args.out]
    if args.figures is not None:
        # plots are an optional extra (matplotlib), slow to import: only when asked
        from ..sinks.figures.dynamics import gradient_figures
        with output_folder(args.figures, overwrite=args.overwrite,
                           writer="astro_ocl gradients") as tmp:
            files += [args.figures / f.relative_to(tmp) for f in gradient_figures(res, tmp)]
    say(args, f"{len(res.clusters)} clusters from {source}; wrote "
        f"{', '.join(map(str, files))} in {time.perf_counter() - t0:.1f} s")
    return 0


def print_gradients(result):
    """Print a `~astro_ocl.steps.gradients.GradientResult` (what ``astro-ocl build`` shows)."""
    meta = result.table.meta
    how = (f"emcee {meta['nwalkers']} walkers x {meta['nsteps']} steps"
           if meta.get("method") == "emcee" else "exact Gaussian posterior")
    print(f"[Fe/H] gradients (paper Table 6): [Fe/H] = a x^2 + b x + c with x = RGC [kpc], "
          f"LZ/1e3 [kpc km/s] or E/1e5 [km2/s2]; fitted on {result.source}, "
          f"{len(result.clusters)} clusters, {how}, [Fe/H] errors "
          f"{meta.get('uncertainty', 'of the values fitted')}, intrinsic scatter "
          f"{meta.get('scatter', 'none')}:")
    _print_table(result.table)
