"""``astro-ocl reproduce``: rebuild Fu et al. (2022) and compare with the published catalogue."""
import time
from pathlib import Path

from .common import HelpFormatter, positive_int

__all__ = ["add_parser", "run"]


def add_parser(sub):
    p = sub.add_parser(
        "reproduce",
        help="rebuild Fu et al. 2022 from its inputs and diff it against the published "
             "catalogue",
        description="Rebuild from the published inputs (CG2020 astrometry and ages, the "
                    "published RVmed and [Fe/H], the embedded per-star sample) the dynamics "
                    "of all clusters, Table 6 and the per-star statistics; compare every "
                    "published column, test hypotheses for every difference, and write "
                    "report.md/.html, columns.ecsv, clusters.ecsv, table6.ecsv, "
                    "hypotheses.ecsv and figures/ into OUT (atomically, file by file).",
        formatter_class=HelpFormatter)
    p.add_argument("--out", type=Path, default=Path("reproduce"), help="output directory")
    p.add_argument("--overwrite", action="store_true",
                   help="replace the files of an earlier report in OUT (only the files this run "
                        "writes, all together; anything else in OUT stays)")
    p.add_argument("--seed", type=int, default=1, help="seed of the per-star Monte Carlo")
    p.add_argument("--realisations", type=positive_int(2), default=5000,
                   help="Monte Carlo realisations of the per-star statistics")
    p.add_argument("--no-figures", action="store_true", help="skip the figures")
    return p


def run(args):
    from ..reproduce import reproduce_fu2022
    from ..outputs import check_output_folder
    from ..sinks.reproduce import REPORT_FILES

    t0 = time.perf_counter()
    check_output_folder(args.out, names=REPORT_FILES, overwrite=args.overwrite,
                        option="--out")  # before the work
    result = reproduce_fu2022(seed=args.seed, n_realisations=args.realisations)
    files = result.write(args.out, overwrite=args.overwrite, figures=not args.no_figures)
    if getattr(args, "quiet", False):  # -q: errors only
        return 0
    print(f"{'column':<12s} {'n':>4s} {'median diff':>12s} {'max diff':>12s} "
          f"{'within tol.':>11s}  verdict")
    for r in result.columns:
        print(f"{r['column']:<12s} {r['n']:>4d} {r['median_diff']:>+12.4g} "
              f"{r['max_diff']:>+12.4g} {100 * r['frac_ok']:>10.1f}%  {r['verdict']}")
    print(f"wrote {len(files)} files to {args.out} in {time.perf_counter() - t0:.1f} s "
          f"(report: {args.out / 'report.md'})")
    return 0
