"""Benchmark: paper Table 6 with the paper's emcee settings (300 walkers, 10 000 steps).

Run: ``python benchmarks/bench_gradients.py [--walkers 300] [--steps 10000] [--jobs N]``

Fits the embedded Zhong et al. (2020) LAMOST clusters (CG2020 ages, >= 3 stars
behind [Fe/H]) in the six age groups plus "all", against RGC, LZ/1e3 and
E/1e5, prints the table, the autocorrelation times and the wall time.
"""
import argparse
import os
import time


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--walkers", type=int, default=300)
    ap.add_argument("--steps", type=int, default=10000)
    ap.add_argument("--jobs", type=int, default=os.cpu_count() or 1)
    ap.add_argument("--seed", type=int, default=1)
    args = ap.parse_args()

    from astro_ocl.commands.gradients import _print_table
    from astro_ocl.sources.clusters import read_cluster_dynamics_input
    from astro_ocl.steps.gradients import gradient_table

    clusters = read_cluster_dynamics_input()
    t0 = time.perf_counter()
    res = gradient_table(clusters, nwalkers=args.walkers, nsteps=args.steps, seed=args.seed,
                         n_jobs=args.jobs, source="Zhong et al. 2020 with CG2020 ages")
    elapsed = time.perf_counter() - t0
    _print_table(res.table)
    t = res.table[res.table["fitted"]]
    print(f"\n{len(res.clusters)} clusters; {len(t)} fits of {args.walkers} walkers x "
          f"{args.steps} steps on {args.jobs} processes: {elapsed:.1f} s "
          f"({elapsed / max(len(t), 1):.1f} s per fit wall time)")
    print(f"autocorrelation time: max {t['tau_max'].max():.1f} steps; chain after burn-in = "
          f"{t['n_tau'].min():.0f} to {t['n_tau'].max():.0f} tau (>= 50 required); "
          f"acceptance {t['acceptance'].min():.2f}-{t['acceptance'].max():.2f}")


if __name__ == "__main__":
    main()
