"""Benchmark of the fast orbit integration against direct galpy McMillan17.

Run: ``python benchmarks/bench_orbits.py [--n-direct 40] [--clusters 386] [--samples 100]``

Prints, in one run:

1. per-orbit time of direct galpy (McMillan17, DOP853 in C, 3 Gyr, output every
   1 Myr) and of `astro_ocl.steps.dynamics` (interpolated McMillan17, leapfrog in C,
   dt = 0.5 Myr, same output times) on the same clusters, and their ratio
   (target >= 100), and the peak memory after the fast path;
2. the largest differences of Peri, Apo (relative), ecc (absolute), Energy and
   LZ (relative) between the two, against the targets (0.5 %, 0.5 %, 0.005,
   0.1 %, 0.1 %), and of Zmax (target: each within 1 pc or 0.5 %);
3. the wall time of ``orbit_parameters`` for 386 clusters x 100 Monte Carlo
   samples (the 295 Zhong et al. 2020 LAMOST clusters, padded to 386 by
   repeating the first 91 of them).
"""
import argparse
import os
import time
import warnings

import astropy.units as u
import numpy as np


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n-direct", type=int, default=40, help="clusters integrated directly")
    ap.add_argument("--clusters", type=int, default=386)
    ap.add_argument("--samples", type=int, default=100)
    args = ap.parse_args()

    import resource

    def peak_mb():
        return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024

    print(f"cores: {os.cpu_count()}, load average {os.getloadavg()[0]:.1f}")
    t0 = time.perf_counter()
    from astro_ocl.sources.clusters import read_cluster_dynamics_input
    from astro_ocl.steps import dynamics as d
    z = read_cluster_dynamics_input()
    ok = np.isfinite(z["coord"].radial_velocity.value) & np.isfinite(z["coord"].distance.value)
    z = z[ok]
    sub = z[np.linspace(0, len(z) - 1, args.n_direct).astype(int)]
    print(f"imports and input: {time.perf_counter() - t0:.1f} s")
    t0 = time.perf_counter()
    d.interpolated_mcmillan17("plane"), d.interpolated_mcmillan17("full")
    print(f"interpolated McMillan17 (both grids) from the shipped grid: "
          f"{time.perf_counter() - t0:.2f} s")
    # fast path first, so that its peak memory is not the direct McMillan17's
    d.orbit_parameters(sub[:1], n_samples=0)  # warm-up (first astropy transform, C set-up)
    t0 = time.perf_counter()
    fast = d.orbit_parameters(sub, n_samples=0)
    t_fast = time.perf_counter() - t0
    print(f"peak memory after the fast path ({len(sub)} orbits): {peak_mb():.0f} MB")

    from galpy.orbit import Orbit
    from galpy.potential import evaluatePotentials
    from galpy.util.conversion import get_physical
    t0 = time.perf_counter()
    mc17 = d.mcmillan17()
    print(f"import/build of galpy McMillan17: {time.perf_counter() - t0:.1f} s "
          f"(natural units {get_physical(mc17)}; shipped grid {d.natural_units()})")
    d.orbit_parameters(sub[:1], n_samples=0, potential="direct")  # warm-up
    # direct: galpy McMillan17 itself on the same initial conditions and output times
    t0 = time.perf_counter()
    ref = d.orbit_parameters(sub, n_samples=0, potential="direct")
    t_direct = time.perf_counter() - t0
    n = len(sub)
    print(f"\n{n} clusters, 3 Gyr orbits:")
    print(f"  direct galpy McMillan17 : {t_direct / n * 1e3:8.2f} ms per orbit")
    print(f"  astro_ocl interpolated  : {t_fast / n * 1e3:8.2f} ms per orbit")
    print(f"  speed ratio             : {t_direct / t_fast:8.1f} x   (target >= 100)")

    # independent check of E and LZ with galpy's own Orbit methods (direct potential)
    ro, vo = d.natural_units()
    ps = d.phase_space(sub["coord"])
    vxvv = np.column_stack([ps["RGC"].value / ro, ps["vR"].value / vo, ps["vphi"].value / vo,
                            ps["ZGC"].value / ro, ps["vz"].value / vo, ps["phi"].value])
    o = Orbit(vxvv, ro=ro, vo=vo)
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message="'where' used without 'out'")
        e_galpy = np.asarray(evaluatePotentials(mc17, vxvv[:, 0], vxvv[:, 3],
                                                use_physical=False)) * vo ** 2 \
            + 0.5 * (ps["U"].value ** 2 + ps["V"].value ** 2 + ps["W"].value ** 2)
    lz_galpy = o.Lz(use_physical=False) * ro * vo

    def worst(a, b, rel=True):
        a, b = np.asarray(a), np.asarray(b)
        dd = np.abs(a / b - 1) if rel else np.abs(a - b)
        return np.nanmax(dd)

    print("  largest differences fast vs direct:")
    rows = [("Peri", worst(fast["Peri"], ref["Peri"]), 0.005, True),
            ("Apo", worst(fast["Apo"], ref["Apo"]), 0.005, True),
            ("ecc", worst(fast["ecc"], ref["ecc"], rel=False), 0.005, False),
            ("Zmax", worst(fast["Zmax"], ref["Zmax"]), None, True),
            ("Energy", worst(fast["Energy"], e_galpy), 0.001, True),
            ("LZ", worst(fast["LZ"].value, lz_galpy), 0.001, True)]
    dz = np.abs(fast["Zmax"] - ref["Zmax"]).to_value(u.pc)
    zr = ref["Zmax"].to_value(u.pc)
    zok = np.all((dz < 1.0) | (dz < 5e-3 * zr))
    print(f"    (Zmax: largest absolute difference {np.nanmax(dz):.2f} pc; target: each "
          f"within 1 pc or 0.5 %: {'OK' if zok else 'FAIL'})")
    for name, val, target, rel in rows:
        shown = f"{val * 100:.2e} %" if rel else f"{val:.2e}"
        tgt = "" if target is None else (f"(target {target * 100:g} %)" if rel
                                         else f"(target {target:g})")
        flag = "" if target is None else ("OK" if val <= target else "FAIL")
        print(f"    {name:<7s} {shown:>12s} {tgt:<18s} {flag}")

    # Monte Carlo throughput
    idx = np.arange(args.clusters) % len(z)
    big = z[idx]
    t0 = time.perf_counter()
    res = d.orbit_parameters(big, n_samples=args.samples, seed=1)
    t_mc = time.perf_counter() - t0
    print(f"\n{args.clusters} clusters x {args.samples} MC samples "
          f"({args.clusters * (args.samples + 1)} orbits): {t_mc:.1f} s (target < 120 s)")
    print(f"  peak memory of the run: {peak_mb():.0f} MB")
    print(f"  median e_RGC {np.nanmedian(res['e_RGC']):.3f}, "
          f"e_Apo {np.nanmedian(res['e_Apo']):.3f}, e_ecc {np.nanmedian(res['e_ecc']):.4f}")


if __name__ == "__main__":
    main()
