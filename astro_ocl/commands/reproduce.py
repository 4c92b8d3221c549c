"""``astro-ocl reproduce``: rebuild Fu et al. (2022) and compare with everything it published."""
import os
import time
from pathlib import Path

from ..outputs import check_output_folder
from ..reproduce import reproduce_fu2022
from ..sinks.reproduce import report_files
from .common import HelpFormatter, positive_int

__all__ = ["add_parser", "run"]


def add_parser(sub):
    p = sub.add_parser(
        "reproduce",
        help="rebuild Fu et al. 2022 from its inputs and diff it against the published "
             "catalogue, its Tables 6 and 7 and the numbers of its text",
        description="Rebuild from the published inputs (CG2020 astrometry and ages, the "
                    "published RVmed and [Fe/H], the embedded per-star sample) the dynamics "
                    "of all clusters, the article's Tables 6 and 7 and the numbers its text "
                    "quotes; compare every published column, test hypotheses for every "
                    "difference (GalPot included, from a shipped evaluation), and write "
                    "report.md/.html, columns, clusters, table6, table7, paper_tables, "
                    "claims, energy, hypotheses and notes (ECSV) and figures/ into OUT "
                    "(atomically, file by file).",
        formatter_class=HelpFormatter)
    p.add_argument("--out", type=Path, default=Path("reproduce"), help="output directory")
    p.add_argument("--overwrite", action="store_true",
                   help="replace the files of an earlier report in OUT (only the files this run "
                        "writes, all together; anything else in OUT stays)")
    p.add_argument("--seed", type=int, default=1, help="seed of the per-star Monte Carlo")
    p.add_argument("--realisations", type=positive_int(2), default=5000,
                   help="Monte Carlo realisations of the per-star statistics")
    p.add_argument("--paper-table6", type=Path, default=None, metavar="FILE",
                   help="another transcription of the article's Table 6 (ECSV: age_group, x, "
                        "coefficient, paper, paper_plus, paper_minus[, N]); default the "
                        "shipped one")
    p.add_argument("--paper-table7", type=Path, default=None, metavar="FILE",
                   help="another transcription of the article's Table 7 (ECSV: Cluster, GLON, "
                        "GLAT, Age, X, Y, Z, [Fe/H], e_[Fe/H]); default the shipped one")
    p.add_argument("--no-figures", action="store_true", help="skip the figures")
    return p


def run(args):
    t0 = time.perf_counter()
    check_output_folder(args.out, names=report_files(figures=not args.no_figures),
                        overwrite=args.overwrite, option="--out")  # before the work
    result = reproduce_fu2022(seed=args.seed, n_realisations=args.realisations,
                              paper_table6=args.paper_table6, paper_table7=args.paper_table7)
    files = result.write(args.out, overwrite=args.overwrite, figures=not args.no_figures)
    if getattr(args, "quiet", False):  # -q: errors only
        return 0
    print(f"{'column':<12s} {'n':>4s} {'median diff':>12s} {'max diff':>12s} "
          f"{'within tol.':>11s}  verdict")
    for r in result.columns:
        print(f"{r['column']:<12s} {r['n']:>4d} {r['median_diff']:>+12.4g} "
              f"{r['max_diff']:>+12.4g} {100 * r['frac_ok']:>10.1f}%  {r['verdict']}")
    s = result.table6.meta["summary"]
    print(f"Table 6: sigma = {s['fu2022']['uncertainty']} max abs(z) "
          f"{s['fu2022']['max_abs_z']:.2f}, {s['fu2022']['n_within_0.5']} of "
          f"{s['fu2022']['n']} within 0.5; sigma = {s['default']['uncertainty']} max abs(z) "
          f"{s['default']['max_abs_z']:.2f}, {s['default']['n_over_1']} beyond 1")
    verdicts = {}
    for v in list(result.paper_tables["verdict"]) + list(result.claims["verdict"]):
        verdicts[v] = verdicts.get(v, 0) + 1
    print("Tables 6, 7 and the quoted numbers: "
          + ", ".join(f"{n} {v}" for v, n in sorted(verdicts.items())))
    load = ", ".join(f"{x:.2f}" for x in os.getloadavg()) if hasattr(os, "getloadavg") else "?"
    print(f"wrote {len(files)} files to {args.out} in {time.perf_counter() - t0:.1f} s "
          f"(load average {load} on {os.cpu_count()} CPUs; report: {args.out / 'report.md'})")
    return 0
