"""Benchmark of the offline build: vectorised Monte Carlo vs the obvious loop, and the CLI job.

Run:  .venv/bin/python benchmarks/bench_build.py

Prints, in one run, the time of one cluster's Monte Carlo statistics done
(a) vectorised, as astro_ocl does it (one (K, n) draw, numpy reductions), and
(b) the baseline a script would write: a Python loop over the K realisations,
each drawing n values and taking median and mean; their ratio; that both give the
same numbers within Monte Carlo noise; peak memory of (a); and the wall time of
the full offline ``build_catalogue`` with K = 5000.
"""
import time
import tracemalloc

import numpy as np

import astro_ocl
from astro_ocl.steps.montecarlo import draw, summarise


def loop_baseline(values, errors, k, rng):
    medians, means, pooled = np.empty(k), np.empty(k), []
    for i in range(k):
        v = rng.normal(values, errors)
        medians[i] = np.median(v)
        means[i] = v.mean()
        pooled.append(v)
    pooled = np.concatenate(pooled)
    return np.median(medians), medians.std(), means.mean(), means.std(), pooled.std()


def best_of(fn, repeat=3):
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        out = fn()
        times.append(time.perf_counter() - t0)
    return min(times), out


def main():
    k = 5000
    rng = np.random.default_rng(0)
    for n in (86, 1000):  # NGC_2682's LAMOST members in the sample; a rich cluster
        values = rng.normal(30, 5, n)
        errors = rng.uniform(2, 8, n)
        t_vec, s = best_of(lambda: summarise(draw(values, errors, k, np.random.default_rng(1)),
                                             values, errors))
        t_loop, base = best_of(lambda: loop_baseline(values, errors, k,
                                                     np.random.default_rng(1)), repeat=1)
        tracemalloc.start()
        summarise(draw(values, errors, k, np.random.default_rng(1)), values, errors)
        peak = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
        same = np.allclose([s.med, s.mean, s.std], [base[0], base[2], base[4]],
                           atol=3 * max(s.e_med, 0.01))
        print(f"n={n:5d} K={k}: vectorised {t_vec * 1e3:8.1f} ms   loop over K "
              f"{t_loop * 1e3:8.1f} ms   ratio {t_loop / t_vec:6.1f}x   "
              f"same result within MC noise: {same}   peak memory {peak / 2**20:.1f} MiB")
    t0 = time.perf_counter()
    r = astro_ocl.build_catalogue(seed=1)
    t_build = time.perf_counter() - t0
    print(f"full offline build_catalogue (K=5000, {len(r.clusters)} clusters, "
          f"{len(r.members)} stars, literature comparison): {t_build:.2f} s")


if __name__ == "__main__":
    main()
