"""Benchmark: paper Table 6, exact (analytic) posterior against emcee with the paper's settings.

Run: ``python benchmarks/bench_gradients.py [--steps 10000] [--walkers 300] [--jobs N]
[--repeat-emcee 1] [--uncertainty COLUMN] [--table6 FILE] [--json FILE]``

Fits the published Fu et al. (2022) catalogue (J/A+A/668/A4, embedded; CG2020
ages; clusters with >= 3 FLAG=12 stars) in the six age groups of Table 6
against RGC, LZ/1e3 and E/1e5 (18 fits, 54 coefficients), with the exact
Gaussian posterior (``method="analytic"``, the default) and with emcee
(``method="emcee"``, paper settings 300 walkers x 10 000 steps unless
``--walkers/--steps`` lower them, on ``--jobs`` worker processes), in this
process (both are calls of the same function on tables already in memory;
imports and inputs are not timed): ``--repeat`` analytic runs (median kept) and
``--repeat-emcee`` emcee runs, interleaved. Prints both tables, the
wall time of each and their ratio, the largest analytic-emcee difference in
units of the posterior sigma, and, when a paper Table 6 file exists
(``astro_ocl/data/fu2022_table6.ecsv`` or ``--table6``), the z statistics of
both against the paper.
"""
import argparse
import os
import sys
import time
import warnings
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import _common as C  # noqa: E402

SCRIPT = "benchmarks/bench_gradients.py"


def _max_diff_sigma(analytic, emcee):
    """Largest |emcee - analytic| / sigma over the fitted cells (per percentile and overall)."""
    import numpy as np
    a = analytic[analytic["fitted"]]
    e = emcee[emcee["fitted"]]
    out = {}
    for p in ("16", "50", "84"):
        d = [np.abs(e[f"{k}_{p}"] - a[f"{k}_{p}"]) / a[f"{k}_sigma"] for k in "abc"]
        out[p] = float(np.max(d))
    out["sigma"] = float(np.max([np.abs(e[f"{k}_sigma"] / a[f"{k}_sigma"] - 1) for k in "abc"]))
    return out


def _print_comparison(name, cmp):
    import numpy as np
    m = cmp.meta
    print(f"{name} vs paper Table 6: {m['n_compared']} coefficients, |z| > 1: {m['n_over_1']}, "
          f"|z| > 0.5: {m['n_over_0.5']}, max |z| = {m['max_abs_z']:.2f}, median error-bar "
          f"ratio ours/paper = {m['median_width_ratio']:.2f}")
    worst = np.argsort(-np.nan_to_num(np.abs(np.asarray(cmp["z"], float))))[:5]
    for i in worst:
        r = cmp[i]
        print(f"    {r['age_group']:<12s} {r['x']:<7s} {r['coefficient']}  ours {r['ours']:+.4g}"
              f"  paper {r['paper']:+.4g} +{r['paper_plus']:.3g} -{r['paper_minus']:.3g}"
              f"  z = {r['z']:+.2f}")


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--walkers", type=int, default=300, help="emcee walkers (paper: 300)")
    ap.add_argument("--steps", type=int, default=10000, help="emcee steps (paper: 10000)")
    ap.add_argument("--jobs", type=int, default=os.cpu_count() or 1,
                    help="worker processes of the emcee fits")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--repeat", type=int, default=21, help="analytic runs (median kept)")
    ap.add_argument("--repeat-emcee", type=int, default=1, help="emcee runs (median kept)")
    ap.add_argument("--quick", action="store_true", help="(the same: one emcee run)")
    ap.add_argument("--uncertainty", default=None,
                    help="per-cluster [Fe/H] error column (default: FU2022_UNCERTAINTY)")
    ap.add_argument("--table6", default=None, help="paper Table 6 ECSV (default: the shipped "
                                                   "astro_ocl/data/fu2022_table6.ecsv if any)")
    ap.add_argument("--no-emcee", action="store_true", help="analytic only")
    ap.add_argument("--json", help="write the figures for run_all.py here")
    args = ap.parse_args(argv)
    info = C.print_machine()

    from astro_ocl.commands.gradients import _print_table
    from astro_ocl.exceptions import InputDataError
    from astro_ocl.reproduce import published_inputs
    from astro_ocl.sources.clusters import read_fu2022_table6
    from astro_ocl.steps.gradients import (FU2022_UNCERTAINTY, compare_with_table6,
                                           gradient_table)

    unc = args.uncertainty or FU2022_UNCERTAINTY
    clusters = published_inputs()
    common = dict(uncertainty=unc, include_all=False,
                  source="Fu et al. 2022 (J/A+A/668/A4) with CG2020 ages")
    rounds = 0 if args.no_emcee else max(args.repeat_emcee, 1)
    per_round = max(args.repeat // max(rounds, 1), 1)
    times, t_mcs, exact, mc = [], [], None, None

    def analytic():
        for _ in range(per_round):
            t0 = time.perf_counter()
            out = gradient_table(clusters, **common)
            times.append(time.perf_counter() - t0)
        return out

    # interleaved: analytic runs, an emcee run, analytic runs, ...
    for r in range(max(rounds, 1)):
        exact = analytic()
        if rounds:
            t0 = time.perf_counter()
            with warnings.catch_warnings(record=True):
                warnings.simplefilter("always")
                mc = gradient_table(clusters, method="emcee", nwalkers=args.walkers,
                                    nsteps=args.steps, seed=args.seed, n_jobs=args.jobs,
                                    **common)
            t_mcs.append(time.perf_counter() - t0)
            print(f"  emcee run {r + 1}/{rounds}: {t_mcs[-1]:.1f} s (load {C.load_now()[0]})")
    t_exact = C.median(times)
    n_fit = int(exact.table["fitted"].sum())
    print(f"== analytic (exact Gaussian posterior), uncertainty = {unc}")
    _print_table(exact.table)
    print(f"{len(exact.clusters)} clusters, {n_fit} fits: {t_exact * 1e3:.1f} ms "
          f"(median of {len(times)}; best {min(times) * 1e3:.1f} ms) -> "
          f"Table 6 in < 1 s: {'yes' if t_exact < 1 else 'NO'}")
    figs = []
    cmd = f"python {SCRIPT} --jobs {args.jobs}"
    figs.append(C.Figure("gradients-analytic-time", f"paper Table 6, {n_fit} fits, exact "
                         f"posterior (median of {len(times)})", C.fmt_seconds(t_exact),
                         t_exact, "s", script=SCRIPT, command=cmd))
    if mc is not None:
        t_mc = C.median(t_mcs)
        t = mc.table[mc.table["fitted"]]
        print(f"\n== emcee {args.walkers} walkers x {args.steps} steps, {args.jobs} processes")
        _print_table(mc.table)
        print(f"emcee: {t_mc:.1f} s ({t_mc / max(n_fit, 1):.2f} s per fit wall time); "
              f"autocorrelation time max {t['tau_max'].max():.1f} steps, chain after burn-in "
              f"{t['n_tau'].min():.0f}-{t['n_tau'].max():.0f} tau (>= 50 required), "
              f"acceptance {t['acceptance'].min():.2f}-{t['acceptance'].max():.2f}")
        d = _max_diff_sigma(exact.table, mc.table)
        print(f"\nemcee / analytic time: {t_mc / t_exact:,.0f}x")
        print(f"largest |emcee - analytic| / sigma: p16 {d['16']:.3f}, p50 {d['50']:.3f}, "
              f"p84 {d['84']:.3f}; largest |sigma_emcee / sigma_analytic - 1| = "
              f"{d['sigma']:.3f}")
        how = f"{args.walkers} walkers x {args.steps} steps, {args.jobs} processes"
        figs.append(C.Figure("gradients-emcee-time", f"paper Table 6 with emcee ({how}, "
                             f"median of {len(t_mcs)})", C.fmt_seconds(t_mc), t_mc, "s",
                             script=SCRIPT, command=cmd))
        figs.append(C.Figure("gradients-speedup", "emcee time / exact posterior time",
                             C.fmt_ratio(t_mc / t_exact), t_mc / t_exact, "x",
                             f"emcee, {how}", script=SCRIPT, command=cmd))
        worst = max(d["16"], d["50"], d["84"])
        figs.append(C.Figure("gradients-emcee-difference", "largest |emcee - exact| "
                             "percentile, in posterior sigmas", f"{worst:.3f} sigma", worst,
                             "sigma", script=SCRIPT, command=cmd))

    try:
        ref = read_fu2022_table6(args.table6)
    except InputDataError as exc:
        print(f"\npaper Table 6: {exc}; no comparison with the paper")
        ref = None
    if ref is not None:
        print()
        _print_comparison("analytic", compare_with_table6(exact.table, ref))
        if mc is not None:
            _print_comparison("emcee", compare_with_table6(mc.table, ref))
    C.print_figures(figs)
    C.write_json(args.json, figs, info)


if __name__ == "__main__":
    main()
