"""Benchmark: the likelihood cluster statistics against the paper's Monte Carlo statistics.

Run: ``python benchmarks/bench_likelihood.py [--repeat 5] [--realisations 5000]``

On the stars of the default build (the embedded LAMOST LRS, LAMOST MRS and APOGEE
members, matched as the build matches them; 2494 stars in 95 clusters), times the best
of ``--repeat`` runs of:

* ``cluster_statistics`` (method ``"fu2022-montecarlo"``, the paper's K = 5000
  realisations: the baseline at its documented setting) on the combined stars;
* ``likelihood_statistics`` (method ``"likelihood"``) on the combined stars;
* ``survey_statistics`` + ``fit_zero_points`` (each survey's own clusters, then the
  joint zero-point fit with 1000 bootstrap resamplings),

and prints their ratios, with the machine's cores and load average beside them (the
machine is shared: the load average says how much).
"""
import argparse
import os
import platform
import sys
import time
from pathlib import Path

# the matched stars of the tests (tests/helpers.py): the same helper, not a copy
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))


def _best(func, repeat):
    times = []
    for _ in range(repeat):
        t = time.perf_counter()
        result = func()
        times.append(time.perf_counter() - t)
    return min(times), result


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeat", type=int, default=5, help="runs of each (best time kept)")
    ap.add_argument("--realisations", type=int, default=5000,
                    help="Monte Carlo realisations of the baseline (paper: 5000)")
    args = ap.parse_args()
    from astro_ocl.steps.likelihood import likelihood_statistics
    from astro_ocl.steps.multisurvey import combine_matched
    from astro_ocl.steps.zeropoints import fit_zero_points, survey_statistics
    from astro_ocl.steps.statistics import cluster_statistics
    from helpers import match_embedded_surveys
    by_survey, _ = match_embedded_surveys()
    combined = combine_matched(by_survey)
    n_clusters = len(set(combined["Cluster"]))
    print(f"{platform.processor() or platform.machine()}, {os.cpu_count()} cores, "
          f"load average {os.getloadavg()[0]:.1f} at start")
    print(f"stars: {len(combined)} in {n_clusters} clusters (combined); "
          + ", ".join(f"{k} {len(v)}" for k, v in by_survey.items()))
    t_mc, _ = _best(lambda: cluster_statistics(combined, n_realisations=args.realisations,
                                               seed=1), args.repeat)
    t_lik, _ = _best(lambda: likelihood_statistics(combined), args.repeat)

    def zero_points():
        return fit_zero_points(survey_statistics(by_survey), reference="APOGEE", seed=1)

    t_zp, _ = _best(zero_points, args.repeat)
    print(f"cluster_statistics (fu2022-montecarlo, K={args.realisations}): {t_mc:.3f} s")
    print(f"likelihood_statistics (likelihood):             {t_lik:.3f} s  "
          f"(ratio to the baseline {t_lik / t_mc:.2f})")
    print(f"survey_statistics + fit_zero_points:             {t_zp:.3f} s  "
          f"(ratio to the baseline {t_zp / t_mc:.2f})")
    print(f"load average at end {os.getloadavg()[0]:.1f}")


if __name__ == "__main__":
    main()
