"""Benchmark of the main job (``astro-ocl build``) and of the vectorised Monte Carlo.

    python benchmarks/bench_build.py [--repeat 3] [--quick] [--json FILE]

1. The main job, ``astro-ocl build --out DIR --seed 42`` (every embedded survey,
   K = 5000 Monte Carlo realisations, 100 Monte Carlo orbits per cluster,
   literature comparison, gradients, ECSV and VOTable output), as a whole process
   (interpreter start, imports, build, writing): ``--repeat`` rounds interleaved
   with two variants that show where the time goes, ``--orbit-samples 0`` (no
   orbit Monte Carlo) and the default build on one core (``taskset -c 0``, so
   that the orbit Monte Carlo runs in one process); median wall time kept. Peak
   memory: one more run with the proportional set size (PSS) of the process and
   its workers sampled every 0.1 s.
   ``astro-ocl reproduce --out DIR`` (the reproduction of Fu et al. 2022 with its
   figures) is timed in the same rounds.
2. Where the main job's time goes: one run under cProfile (in a fresh process):
   the orbits, the VOTable writing and pyvo's MIVOT validation inside it, and
   whether matplotlib was imported (the build draws no figures).
3. One cluster's Monte Carlo statistics done vectorised, as astro_ocl does it
   (one (K, n) draw, numpy reductions), against the loop a script would write (a
   Python loop over the K realisations), best of 3 each, in one process.
"""
import argparse
import cProfile
import json
import pstats
import shutil
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
import _common as C  # noqa: E402

SCRIPT = "benchmarks/bench_build.py"
BUILD = ["build", "--seed", "42"]


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


def _cumulative(stats, where, name):
    """Cumulative time of the functions ``name`` defined in a file ending with ``where``."""
    total = 0.0
    for (filename, _, func), (_, _, _, ct, _) in stats.stats.items():
        if func == name and filename.replace("\\", "/").endswith(where):
            total = max(total, ct)
    return total


def profile_worker(out):
    """The main job under cProfile in this fresh process: JSON of where the time went."""
    t0 = time.perf_counter()
    prof = cProfile.Profile()
    prof.enable()
    from astro_ocl import cli
    t_import = time.perf_counter() - t0
    rc = cli.main([*BUILD, "--out", out])
    prof.disable()
    total = time.perf_counter() - t0
    st = pstats.Stats(prof)
    print(json.dumps({
        "rc": rc, "total": total, "import_cli": t_import,
        "orbits": _cumulative(st, "steps/dynamics/orbits.py", "orbit_parameters"),
        "votable": _cumulative(st, "sinks/votable_cds.py", "write_votable_cds"),
        "mivot_check": _cumulative(st, "mivot/writer/annotations.py", "check_xml"),
        "galpy_import": _cumulative(st, "galpy/potential/__init__.py", "<module>"),
        "matplotlib_imported": "matplotlib" in sys.modules,
        "matplotlib_pyplot_imported": "matplotlib.pyplot" in sys.modules,
    }))


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--quick", action="store_true", help="one round")
    ap.add_argument("--json", help="write the figures for run_all.py here")
    ap.add_argument("--profile-worker", metavar="OUT", help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    if args.profile_worker:
        return profile_worker(args.profile_worker)
    if args.quick:
        args.repeat = 1
    info = C.print_machine()
    figs = []
    common = dict(script=SCRIPT, command=f"python {SCRIPT} --repeat {args.repeat}")
    cli = [sys.executable, "-m", "astro_ocl.cli"]
    env = {"MPLBACKEND": "Agg"}
    with tempfile.TemporaryDirectory(prefix="bench_build_") as tmp:
        outs = iter(range(10 ** 6))

        def out():
            return str(Path(tmp) / f"catalogue{next(outs)}")
        variants = {"build": None, "no orbit MC": ["--orbit-samples", "0"]}
        if shutil.which("taskset"):
            variants["one core"] = None
        print(f"timed runs of `astro-ocl {' '.join(BUILD)} --out DIR`, interleaved, "
              f"{args.repeat} round(s):")
        runs = {k: [] for k in variants}
        reproduce = []
        for i in range(args.repeat):
            for name, extra in variants.items():
                cmd = cli + BUILD + ["--out", out()] + (extra or [])
                if name == "one core":
                    cmd = ["taskset", "-c", "0"] + cmd
                r = C.run_process(cmd, env=env)
                if r.returncode:
                    raise SystemExit(f"{name} failed:\n{r.stderr[-3000:]}")
                runs[name].append(r)
                print(f"  run {i + 1}/{args.repeat} {name:<12s} {r.wall:7.2f} s  CPU "
                      f"{r.cpu:6.1f} s  (load {C.load_now()[0]})")
                sys.stdout.flush()
            r = C.run_process(cli + ["reproduce", "--out", out()], env=env)
            if r.returncode:
                raise SystemExit(f"reproduce failed:\n{r.stderr[-3000:]}")
            reproduce.append(r.wall)
            print(f"  run {i + 1}/{args.repeat} {'reproduce':<12s} {r.wall:7.2f} s  CPU "
                  f"{r.cpu:6.1f} s  (load {C.load_now()[0]})")
        mem = C.run_process(cli + BUILD + ["--out", out()], env=env, peak_memory=True)
        print(f"memory run: peak PSS of the process and its workers {mem.peak_mb:.0f} MB")
        prof = C.run_process([sys.executable, __file__, "--profile-worker", out()], env=env)
        if prof.returncode:
            raise SystemExit(f"profile run failed:\n{prof.stderr[-3000:]}")
        p = json.loads(prof.stdout.strip().splitlines()[-1])
    t = {k: C.median([r.wall for r in v]) for k, v in runs.items()}
    shown = ", ".join(f"{k} {v:.1f} s" for k, v in t.items())
    print(f"\nmain job, median of {args.repeat}: {shown}")
    print(f"profile (one run under cProfile, {p['total']:.1f} s): import of the CLI "
          f"{p['import_cli']:.2f} s, orbits {p['orbits']:.1f} s, VOTable writing "
          f"{p['votable']:.2f} s of which pyvo MIVOT check_xml {p['mivot_check']:.2f} s, "
          f"galpy import {p['galpy_import']:.2f} s, matplotlib imported: "
          f"{p['matplotlib_imported']} (pyplot: {p['matplotlib_pyplot_imported']})")
    figs.append(C.Figure("build-time", "main job `astro-ocl build --seed 42`, whole process, "
                         "every core", C.fmt_seconds(t["build"]), t["build"], "s", **common))
    figs.append(C.Figure("build-memory", "main job, peak PSS of the process and its workers",
                         C.fmt_mb(mem.peak_mb), mem.peak_mb, "MB", **common))
    figs.append(C.Figure("build-time-no-orbit-mc", "main job with --orbit-samples 0",
                         C.fmt_seconds(t["no orbit MC"]), t["no orbit MC"], "s", **common))
    if "one core" in t:
        figs.append(C.Figure("build-time-one-core", "main job on one core (taskset -c 0)",
                             C.fmt_seconds(t["one core"]), t["one core"], "s", **common))
    t_rep = C.median(reproduce)
    figs.append(C.Figure("reproduce-time", "`astro-ocl reproduce --out DIR` (with figures), "
                         "whole process", C.fmt_seconds(t_rep), t_rep, "s", **common))
    figs.append(C.Figure("build-votable-write", "main job: writing the VOTables (cProfile)",
                         C.fmt_seconds(p["votable"]), p["votable"], "s", **common))
    figs.append(C.Figure("build-mivot-check", "main job: pyvo's MIVOT check_xml inside the "
                         "VOTable writing (cProfile)", C.fmt_seconds(p["mivot_check"]),
                         p["mivot_check"], "s", **common))

    k = 5000
    rng = np.random.default_rng(0)
    from astro_ocl.steps.montecarlo import draw, summarise
    for n in (86, 1000):  # NGC_2682's LAMOST members in the sample; a rich cluster
        values = rng.normal(30, 5, n)
        errors = rng.uniform(2, 8, n)
        t_vec, s = best_of(lambda: summarise(draw(values, errors, k, np.random.default_rng(1)),
                                             values, errors))
        t_loop, base = best_of(lambda: loop_baseline(values, errors, k,
                                                     np.random.default_rng(1)))
        same = np.allclose([s.med, s.mean, s.std], [base[0], base[2], base[4]],
                           atol=3 * max(s.e_med, 0.01))
        print(f"n={n:5d} K={k}: vectorised {t_vec * 1e3:8.1f} ms   loop over K "
              f"{t_loop * 1e3:8.1f} ms   ratio {t_loop / t_vec:6.1f}x   "
              f"same result within MC noise: {same}")
        figs.append(C.Figure(f"montecarlo-speedup-n{n}", f"one cluster's Monte Carlo, n = {n} "
                             f"stars, K = {k}: loop / vectorised", C.fmt_ratio(t_loop / t_vec),
                             t_loop / t_vec, "x", "a Python loop over the K realisations",
                             **common))
    C.print_figures(figs)
    C.write_json(args.json, figs, info, notes=[f"profile: {p}"])


if __name__ == "__main__":
    main()
