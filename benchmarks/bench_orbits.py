"""Benchmark of the fast orbits against direct galpy McMillan17, in batches of 1 to 1000.

    python benchmarks/bench_orbits.py [--quick] [--samples 100] [--json FILE]

The clusters: every cluster of the published catalogue of Fu et al. (2022,
J/A+A/668/A4, embedded) with a CG2020 distance (372 of 386,
`astro_ocl.reproduce.published_inputs`: CG2020 astrometry and the published RV).
Orbits of 3 Gyr, output every 1 Myr, forward in time.

* **Baseline**: galpy's ``McMillan17`` itself, integrated by galpy's DOP853 in C
  (``method="dop853_c"``, galpy's fastest accurate integrator for it), on the same
  initial conditions and output times (``integrate_orbits(potential="direct")``).
* **astro_ocl**: the interpolated McMillan17 (leapfrog in C, 0.5 Myr step,
  `astro_ocl.steps.dynamics.integrate_orbits`).

1. Speed per orbit at N = 1, 10, 100 and 1000 orbits per call, warm (both
   potentials built and one call of each made first): batches of N clusters, the
   two integrators alternating batch by batch (A B A B ...), the median batch time
   over N. At N = 1000 the direct integrator is timed on 1000 orbits too (the 372
   clusters repeated), except with ``--quick``, where its per-orbit time from the
   372-cluster run stands in (said so). Also `orbit_parameters` end to end
   (frames, energy, table) at N = 1. At N = 1 also each integrator's calls back to
   back on the same clusters: interleaved, every fast call starts with caches that
   the galpy call before it filled with its own arrays (both rates are printed).
2. Accuracy over all 372 clusters: the largest differences of Peri, Apo (relative),
   Zmax (absolute), ecc and Energy between `orbit_parameters` with the fast and the
   direct potential, and both wall times.
3. The Monte Carlo of the main job's kind: 386 clusters (the 372, padded by
   repetition) x ``--samples`` orbits with `orbit_parameters` on every core
   (``n_jobs`` default) and on one (``n_jobs=1``).
"""
import argparse
import statistics
import sys
import time
import warnings
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
import _common as C  # noqa: E402

SCRIPT = "benchmarks/bench_orbits.py"


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--quick", action="store_true",
                    help="fewer batches, no 1000-orbit direct run, 20 Monte Carlo samples")
    ap.add_argument("--samples", type=int, default=100, help="Monte Carlo samples per cluster")
    ap.add_argument("--json", help="write the figures for run_all.py here")
    args = ap.parse_args(argv)
    if args.quick and args.samples == 100:
        args.samples = 20
    batches = ({1: 8, 10: 3, 100: 1, 1000: 1} if args.quick
               else {1: 30, 10: 8, 100: 3, 1000: 1})
    info = C.print_machine()

    import astropy.units as u

    from astro_ocl.reproduce import published_inputs
    from astro_ocl.steps import dynamics as d
    t0 = time.perf_counter()
    pub = published_inputs()
    coords = pub["coord"][pub["has_distance"]]
    n_all = len(coords)
    ps = d.phase_space(coords)
    ic = [ps[k].value for k in ("RGC", "vR", "vphi", "ZGC", "vz", "phi")]
    times = np.linspace(0, 3000, 3001) * u.Myr
    print(f"{n_all} published clusters with a distance; inputs in "
          f"{time.perf_counter() - t0:.1f} s")

    def integrate(idx, potential):
        t = time.perf_counter()
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            d.integrate_orbits(*(a[idx] for a in ic), times=times, potential=potential,
                               dt=0.5 * u.Myr)
        return time.perf_counter() - t

    t0 = time.perf_counter()
    d.interpolated_mcmillan17("plane"), d.interpolated_mcmillan17("full")
    t_grid = time.perf_counter() - t0
    t0 = time.perf_counter()
    d.mcmillan17()
    t_mc17 = time.perf_counter() - t0
    print(f"interpolated McMillan17 (both grids): {t_grid:.2f} s; galpy McMillan17: "
          f"{t_mc17:.1f} s")
    integrate(np.array([0]), "interpolated"), integrate(np.array([0]), "direct")  # warm

    # 2. accuracy (and the direct per-orbit time at N = 372) first: --quick needs it
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", d.OrbitWarning)
        t0 = time.perf_counter()
        fast = d.orbit_parameters(coords, n_samples=0)
        t_fast_all = time.perf_counter() - t0
        t0 = time.perf_counter()
        ref = d.orbit_parameters(coords, n_samples=0, potential="direct")
        t_direct_all = time.perf_counter() - t0
    bound = np.isfinite(np.asarray(ref["Peri"], float))

    def rel(k):
        a, b = np.asarray(fast[k], float)[bound], np.asarray(ref[k], float)[bound]
        return float(np.nanmax(np.abs(a / b - 1)))

    acc = {"Peri": rel("Peri") * 100, "Apo": rel("Apo") * 100,
           "Zmax": float(np.nanmax(np.abs(fast["Zmax"] - ref["Zmax"]).to_value(u.pc)[bound])),
           "ecc": float(np.nanmax(np.abs(np.asarray(fast["ecc"]) - np.asarray(ref["ecc"]))
                                  [bound])),
           "Energy": float(np.nanmax(np.abs(np.asarray(fast["Energy"])
                                            / np.asarray(ref["Energy"]) - 1)))}
    worst_z = int(np.nanargmax(np.where(bound, np.abs(fast["Zmax"] - ref["Zmax"]).value,
                                        -1)))
    print(f"\naccuracy over {int(bound.sum())} bound orbits of {n_all} (3 Gyr), fast vs direct:")
    print(f"  Peri {acc['Peri']:.2e} %, Apo {acc['Apo']:.2e} %, Zmax {acc['Zmax']:.3f} pc "
          f"(largest at {pub['Cluster'][pub['has_distance']][worst_z]}), ecc "
          f"{acc['ecc']:.1e}, Energy {acc['Energy']:.1e} (relative)")
    print(f"  wall time for the {n_all} orbits (orbit_parameters): fast {t_fast_all:.2f} s, "
          f"direct {t_direct_all:.1f} s ({t_direct_all / t_fast_all:.0f}x)")

    # 1. speed per orbit by batch size, interleaved
    rng = np.random.default_rng(0)
    per = {}
    for n, nb in batches.items():
        tf, td = [], []
        for b in range(nb):
            idx = rng.choice(n_all, n, replace=n > n_all)
            tf.append(integrate(idx, "interpolated") / n)
            if n < 1000 or not args.quick:
                td.append(integrate(idx, "direct") / n)
        if not td:
            td = [t_direct_all / n_all]
        per[n] = (statistics.median(tf), statistics.median(td), len(tf))
        note = "" if (n < 1000 or not args.quick) else \
            f"  (direct: per orbit of the {n_all}-orbit run)"
        print(f"N = {n:4d}: astro_ocl {per[n][0] * 1e3:8.2f} ms per orbit, direct "
              f"{per[n][1] * 1e3:8.1f} ms, ratio {per[n][1] / per[n][0]:7.0f}x "
              f"(median of {len(tf)} batch(es)){note}")
    # N = 1 again, each integrator run back to back on the same clusters: the interleaved
    # runs above give each fast call caches that the galpy call before it has filled with
    # McMillan17's own arrays (the spline coefficients of the grid are read from memory
    # again); this is the rate of a loop of single-orbit calls
    ones = [rng.choice(n_all, 1) for _ in range(batches[1])]
    b2b = (statistics.median(integrate(i, "interpolated") for i in ones),
           statistics.median(integrate(i, "direct") for i in ones))
    print(f"N =    1, back to back: astro_ocl {b2b[0] * 1e3:8.2f} ms per orbit, direct "
          f"{b2b[1] * 1e3:8.1f} ms, ratio {b2b[1] / b2b[0]:7.0f}x "
          f"(median of {len(ones)} calls of each)")
    # orbit_parameters end to end, one cluster a call
    op_f, op_d = [], []
    for b in range(batches[1]):
        i = int(rng.integers(n_all))
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", d.OrbitWarning)
            t = time.perf_counter()
            d.orbit_parameters(coords[i:i + 1], n_samples=0)
            op_f.append(time.perf_counter() - t)
            t = time.perf_counter()
            d.orbit_parameters(coords[i:i + 1], n_samples=0, potential="direct")
            op_d.append(time.perf_counter() - t)
    op = (statistics.median(op_f), statistics.median(op_d))
    print(f"orbit_parameters, one cluster a call: {op[0] * 1e3:.1f} ms vs direct "
          f"{op[1] * 1e3:.0f} ms ({op[1] / op[0]:.0f}x)")

    # 3. Monte Carlo
    # a table: orbit_parameters takes the Monte Carlo errors from its columns
    # (e_pmRA, e_pmDE, e_plx of CG2020, e_RVmed of the paper)
    big = pub[pub["has_distance"]][np.arange(386) % n_all]
    mc = {}
    for jobs in (None, 1):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", d.OrbitWarning)
            t = time.perf_counter()
            d.orbit_parameters(big, n_samples=args.samples, seed=1, n_jobs=jobs)
            mc[jobs] = time.perf_counter() - t
    n_mc = 386 * args.samples
    print(f"386 clusters x {args.samples} Monte Carlo orbits ({n_mc}): every core "
          f"{mc[None]:.1f} s, one process {mc[1]:.1f} s ({mc[1] / mc[None]:.2f}x)")

    common = dict(script=SCRIPT, command=f"python {SCRIPT}" + (" --quick" if args.quick else ""))
    base = "galpy McMillan17, dop853_c, same initial conditions and output times"
    figs = []
    for n, (tf, td, nb) in per.items():
        stand_in = n == 1000 and args.quick
        figs.append(C.Figure(f"orbits-speedup-n{n}", f"orbits per call N = {n}: direct galpy "
                             f"time / astro_ocl time per orbit, 3 Gyr, warm (median of {nb})",
                             C.fmt_ratio(td / tf), td / tf, "x",
                             base + (f" (direct per orbit from the {n_all}-orbit run)"
                                     if stand_in else ""), **common))
    figs.append(C.Figure("orbits-speedup-n1-b2b", "orbits per call N = 1, each integrator's "
                         f"calls back to back (median of {len(ones)}): direct galpy time / "
                         "astro_ocl time per orbit, 3 Gyr", C.fmt_ratio(b2b[1] / b2b[0]),
                         b2b[1] / b2b[0], "x", base, **common))
    figs.append(C.Figure("orbits-time-n1", "astro_ocl, one orbit a call, 3 Gyr, warm",
                         C.fmt_seconds(per[1][0]), per[1][0], "s", **common))
    figs.append(C.Figure("orbits-direct-time", f"direct galpy McMillan17 per orbit "
                         f"({n_all} in one call)", C.fmt_seconds(t_direct_all / n_all),
                         t_direct_all / n_all, "s", **common))
    figs.append(C.Figure("orbits-mcmillan17-build", "building galpy's McMillan17 (once per "
                         "process, only for orbits that leave the grid)", C.fmt_seconds(t_mc17),
                         t_mc17, "s", **common))
    figs.append(C.Figure("orbits-op-speedup-n1", "orbit_parameters end to end, one cluster "
                         "a call: direct / fast", C.fmt_ratio(op[1] / op[0]), op[1] / op[0],
                         "x", "orbit_parameters(potential='direct')", **common))
    what = f"over all {int(bound.sum())} bound published clusters with a distance, 3 Gyr"
    figs += [
        C.Figure("orbits-peri", f"largest relative Peri difference to direct galpy, {what}",
                 C.fmt_sig(acc["Peri"], "%"), acc["Peri"], "%", base, **common),
        C.Figure("orbits-apo", f"largest relative Apo difference to direct galpy, {what}",
                 C.fmt_sig(acc["Apo"], "%"), acc["Apo"], "%", base, **common),
        C.Figure("orbits-zmax", f"largest Zmax difference to direct galpy, {what}",
                 C.fmt_sig(acc["Zmax"], "pc"), acc["Zmax"], "pc", base, **common),
        C.Figure("orbits-ecc", f"largest ecc difference to direct galpy, {what}",
                 f"{acc['ecc']:.1e}", acc["ecc"], "", base, **common),
        C.Figure("orbits-all-time", f"all {n_all} clusters, orbit_parameters, fast potential",
                 C.fmt_seconds(t_fast_all), t_fast_all, "s", **common),
        C.Figure("orbits-all-speedup", f"all {n_all} clusters: direct / fast wall time",
                 C.fmt_ratio(t_direct_all / t_fast_all), t_direct_all / t_fast_all, "x",
                 base, **common),
        C.Figure("orbits-mc-time", f"386 clusters x {args.samples} Monte Carlo orbits, "
                 "every core", f"{C.fmt_seconds(mc[None])} for 386 × {args.samples}", mc[None],
                 "s", **common),
        C.Figure("orbits-mc-speedup", f"386 x {args.samples} Monte Carlo orbits: one process "
                 "/ every core", C.fmt_ratio(mc[1] / mc[None]), mc[1] / mc[None], "x",
                 "orbit_parameters(n_jobs=1)", **common),
    ]
    C.print_figures(figs)
    C.write_json(args.json, figs, info)


if __name__ == "__main__":
    main()
