"""Benchmark of the positional match against astropy and STILTS, each at its documented best.

    python benchmarks/bench_crossmatch.py [--stars 1000000] [--sources 10000000]
        [--repeat 3] [--tools astro_ocl astropy stilts] [--tuning auto | K ...]
        [--quick] [--json FILE]

The inputs: a synthetic sky at Gaia's density (the sources spread uniformly over a
patch sized so that ~3 sources lie within 3.5 arcsec of a star), the stars a
random subset jittered by 1 arcsec, both written to FITS files (``ra, dec`` in
degrees, at one epoch: nothing to propagate, so that every tool does the same
work). Every tool then runs as a whole process that reads the two files and finds
*every* (star, source) pair within 3.5 arcsec:

* ``astro_ocl``: `astro_ocl.steps.crossmatch.sky_match` (k-d tree of the stars,
  the sources a chunk at a time, the chunks shared between worker processes,
  every core by default);
* ``astropy``: ``SkyCoord.search_around_sky`` the way its documentation shows
  it, the large catalogue searched around the small one
  (``gaia.search_around_sky(stars, 3.5 * u.arcsec)``: the loop over k-d tree
  results runs over the stars, not over the sources), nothing traced;
* ``stilts``: ``stilts tmatch2 matcher=sky find=all join=1and2 omode=count``
  (count the pairs, write nothing) with its default parallel runner (every core,
  at most 6), the faster of the two table orders (tried with the default tuning)
  and the HEALPix ``tuning`` value that was fastest in a search over ``--tuning``
  values on these very files (TOPCAT/STILTS document the tuning parameter as the
  knob to try when a match is slow, SUN/253 A.8.1.3).

Timings: whole processes (interpreter or JVM start, imports, reading the files,
the match), ``--repeat`` rounds run interleaved (A B C A B C ...), median kept;
the CPU seconds of each run beside. Memory: one more run of each tool with the
proportional set size (PSS) of the process and all its children sampled every
0.1 s, peak kept (PSS counts the pages that forked workers share with their
parent once, and works for the JVM too). The number of pairs (and for the two
Python tools a checksum of the pairs) must agree.
"""
import argparse
import json
import shutil
import sys
import tempfile
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
import _common as C  # noqa: E402

RADIUS_ARCSEC = 3.5
SCRIPT = "benchmarks/bench_crossmatch.py"


def make_data(n_stars, n_sources, seed=1):
    """Sources and stars (degrees) on one patch of sky; see the module docstring."""
    rng = np.random.default_rng(seed)
    # ~3 sources within 3.5 arcsec of a point: density 3 / (pi 3.5^2) per arcsec^2
    area_deg2 = n_sources / (3 / (np.pi * RADIUS_ARCSEC ** 2)) / 3600 ** 2
    side = np.sqrt(area_deg2)
    ra = 100 + rng.uniform(0, side, n_sources)
    dec = rng.uniform(-side / 2, side / 2, n_sources)
    pick = rng.choice(n_sources, n_stars, replace=False)
    jit = rng.normal(0, 1.0, (2, n_stars)) / 3600
    sra = ra[pick] + jit[0] / np.cos(np.radians(dec[pick]))
    sdec = dec[pick] + jit[1]
    return (ra, dec), (sra, sdec)


def write_inputs(workdir, n_stars, n_sources):
    from astropy.table import Table
    (ra, dec), (sra, sdec) = make_data(n_stars, n_sources)
    stars, gaia = Path(workdir) / "stars.fits", Path(workdir) / "gaia.fits"
    Table({"ra": sra, "dec": sdec}).write(stars, overwrite=True)
    Table({"ra": ra, "dec": dec}).write(gaia, overwrite=True)
    return stars, gaia


def _read(path):
    """A FITS file of ra, dec as an ICRS SkyCoord (the same reader for both Python tools)."""
    import astropy.units as u
    from astropy.coordinates import SkyCoord
    from astropy.table import Table
    t = Table.read(path)
    return SkyCoord(ra=u.Quantity(t["ra"], u.deg, copy=False),
                    dec=u.Quantity(t["dec"], u.deg, copy=False), frame="icrs", copy=False)


def _checksum(i, j, n_src):
    key = np.asarray(i, np.uint64) * np.uint64(n_src) + np.asarray(j, np.uint64)
    return int(np.bitwise_xor.reduce(key * np.uint64(0x9E3779B97F4A7C15))) if key.size else 0


def worker(tool, stars_path, gaia_path):
    """One tool in this (fresh) process: read, match, print the pairs as JSON."""
    import astropy.units as u
    stars, gaia = _read(stars_path), _read(gaia_path)
    if tool == "astro_ocl":
        from astro_ocl.steps.crossmatch import sky_match
        i_star, i_src, _ = sky_match(stars, gaia, radius=RADIUS_ARCSEC * u.arcsec)
    elif tool == "astropy":
        i_star, i_src, _, _ = gaia.search_around_sky(stars, RADIUS_ARCSEC * u.arcsec)
    else:
        raise SystemExit(f"unknown tool {tool}")
    pairs = {"pairs": int(len(i_star)), "checksum": _checksum(i_star, i_src, len(gaia))}
    print(json.dumps(pairs))


def _short(n):
    return f"{n / 1e6:g} M" if n >= 1e6 else f"{n / 1e3:g} k"


def stilts_cmd(stars, gaia, tuning=None, stars_first=True):
    one, two = (stars, gaia) if stars_first else (gaia, stars)
    cmd = ["stilts", "tmatch2", f"in1={one}", f"in2={two}", "matcher=sky",
           "values1=ra dec", "values2=ra dec", f"params={RADIUS_ARCSEC}", "find=all",
           "join=1and2", "omode=count"]
    return cmd + ([f"tuning={tuning}"] if tuning is not None else [])


def stilts_pairs(run):
    # omode=count prints "columns: N   rows: M"
    for part in run.stdout.replace("\n", " ").split("rows:")[1:2]:
        return int(part.split()[0])
    raise SystemExit(f"no row count in STILTS' output: {run.stdout[:500]}")


def python_cmd(tool, stars, gaia):
    return [sys.executable, __file__, "--worker", tool, str(stars), str(gaia)]


def tune_stilts(stars, gaia, values):
    """The fastest STILTS set-up on these files: (tuning, stars_first, {label: wall}).

    First the two table orders with the default tuning, then the other tuning
    values with the faster order (one run each).
    """
    tried = {}

    def run(k, stars_first):
        r = C.run_process(stilts_cmd(stars, gaia, k, stars_first))
        if r.returncode:
            raise SystemExit(f"stilts failed: {r.stderr[-2000:]}")
        label = (f"tuning={'default' if k is None else k}, "
                 f"in1={'stars' if stars_first else 'gaia'}")
        tried[label] = r.wall
        print(f"  stilts {label:<28s} {r.wall:8.2f} s  ({stilts_pairs(r)} pairs)")
        sys.stdout.flush()
        return r.wall

    first = values[0] if values else None
    by_order = {o: run(first, o) for o in (True, False)}
    stars_first = min(by_order, key=by_order.get)
    best = (by_order[stars_first], first)
    for k in values[1:]:
        t = run(k, stars_first)
        if t < best[0]:
            best = (t, k)
    return best[1], stars_first, tried


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--stars", type=int, default=1_000_000)
    ap.add_argument("--sources", type=int, default=10_000_000)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--tools", nargs="+", default=["astro_ocl", "astropy", "stilts"])
    ap.add_argument("--tuning", nargs="+", default=["auto"],
                    help="STILTS HEALPix k: 'auto' searches default and 11-16, or the "
                         "values to search")
    ap.add_argument("--quick", action="store_true",
                    help="100 000 stars x 1 000 000 sources, one round, a short tuning search")
    ap.add_argument("--json", help="write the figures for run_all.py here")
    ap.add_argument("--worker", nargs=3, metavar=("TOOL", "STARS", "GAIA"),
                    help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    if args.worker:
        return worker(*args.worker)
    if args.quick:
        args.stars, args.sources, args.repeat = 100_000, 1_000_000, 1
        if args.tuning == ["auto"]:
            args.tuning = ["default", "13", "14", "15"]
    tuning = ([None] + list(range(11, 17)) if args.tuning == ["auto"]
              else [None if k == "default" else int(k) for k in args.tuning])
    tools = list(args.tools)
    if "stilts" in tools and not shutil.which("stilts"):
        print("stilts is not on the PATH: left out")
        tools.remove("stilts")
    info = C.print_machine(tools="stilts" in tools)
    size = f"{args.stars:,} stars x {args.sources:,} sources".replace(",", " ")
    short = f"{_short(args.stars)} × {_short(args.sources)}"
    print(f"{size}, radius {RADIUS_ARCSEC} arcsec, every pair")
    figures = []
    with tempfile.TemporaryDirectory(prefix="bench_crossmatch_") as tmp:
        stars, gaia = write_inputs(tmp, args.stars, args.sources)
        cmds = {t: python_cmd(t, stars, gaia) for t in tools if t != "stilts"}
        best_k, stars_first, tried = None, True, {}
        if "stilts" in tools:
            print("STILTS set-up search (one run each):")
            best_k, stars_first, tried = tune_stilts(stars, gaia, tuning)
            cmds["stilts"] = stilts_cmd(stars, gaia, best_k, stars_first)
            print(f"  fastest: tuning={'default' if best_k is None else best_k}, in1="
                  f"{'stars' if stars_first else 'gaia'}")
        print(f"timed runs, interleaved, {args.repeat} round(s):")
        runs = C.interleaved(cmds, args.repeat)
        print("memory runs (PSS of the process tree sampled every 0.1 s):")
        peak = {}
        for name, cmd in cmds.items():
            r = C.run_process(cmd, peak_memory=True)
            peak[name] = r.peak_mb
            print(f"  {name:<12s} peak {r.peak_mb:8.0f} MB")
    pairs = {}
    for name, rs in runs.items():
        pairs[name] = (stilts_pairs(rs[0]) if name == "stilts"
                       else json.loads(rs[0].stdout.strip().splitlines()[-1])["pairs"])
    sums = {n: json.loads(rs[0].stdout.strip().splitlines()[-1])["checksum"]
            for n, rs in runs.items() if n != "stilts"}
    same = len(set(pairs.values())) == 1 and len(set(sums.values())) <= 1
    t = {n: C.median([r.wall for r in rs]) for n, rs in runs.items()}
    cpu = {n: C.median([r.cpu for r in rs]) for n, rs in runs.items()}
    print(f"\n{size}: median wall time of {args.repeat} interleaved run(s), whole process")
    for n in runs:
        print(f"  {n:<12s} {t[n]:8.2f} s  CPU {cpu[n]:7.1f} s  peak PSS {peak[n]:7.0f} MB  "
              f"{pairs[n]} pairs" + (f"  ({t[n] / t['astro_ocl']:.2f}x astro_ocl's time)"
                                     if n != "astro_ocl" and "astro_ocl" in t else ""))
    print(f"  same pairs everywhere: {same}")
    if not same:
        raise SystemExit(f"the tools disagree: pairs {pairs}, checksums {sums}")
    cmd = f"python {SCRIPT} --stars {args.stars} --sources {args.sources} --repeat {args.repeat}"
    common = dict(script=SCRIPT, command=cmd)
    if "astro_ocl" in t:
        figures.append(C.Figure("match-time", f"astro_ocl sky_match, {size}, whole process",
                                C.fmt_seconds(t["astro_ocl"]), t["astro_ocl"], "s", **common))
        figures.append(C.Figure("match-memory", f"astro_ocl sky_match, {size}, peak PSS",
                                C.fmt_mb(peak["astro_ocl"]), peak["astro_ocl"], "MB", **common))
    if "astropy" in t:
        figures.append(C.Figure("match-astropy-time", f"astropy search_around_sky, {size}",
                                C.fmt_seconds(t["astropy"]), t["astropy"], "s", **common))
        figures.append(C.Figure("match-astropy-memory", f"astropy search_around_sky, {size}, "
                                "peak PSS", C.fmt_mb(peak["astropy"]), peak["astropy"], "MB",
                                **common))
    if "astro_ocl" in t and "astropy" in t:
        r = t["astropy"] / t["astro_ocl"]
        figures.append(C.Figure("match-vs-astropy", f"astro_ocl's speed-up over astropy, "
                                f"{size}", f"{C.fmt_ratio(r)} ({short})", r, "x",
                                "astropy gaia.search_around_sky(stars, r)", **common))
        m = peak["astro_ocl"] / peak["astropy"]
        figures.append(C.Figure("match-memory-vs-astropy", f"astro_ocl's peak memory / "
                                f"astropy's, {size}", f"{m:.2f} ({short})", m, "",
                                "astropy gaia.search_around_sky(stars, r)", **common))
    if "stilts" in t:
        k = "default" if best_k is None else best_k
        how = f"tuning={k}, in1={'stars' if stars_first else 'gaia'}"
        figures.append(C.Figure("match-stilts-time", f"STILTS tmatch2 ({how}), {size}",
                                C.fmt_seconds(t["stilts"]), t["stilts"], "s",
                                "; ".join(f"{a}: {b:.1f} s" for a, b in tried.items()),
                                **common))
        if "astro_ocl" in t:
            r = t["stilts"] / t["astro_ocl"]
            figures.append(C.Figure("match-vs-stilts", f"astro_ocl's speed-up over tuned "
                                    f"STILTS, {size}", f"{C.fmt_ratio(r)} ({short})", r, "x",
                                    f"stilts tmatch2 {how}", **common))
    C.print_figures(figures)
    C.write_json(args.json, figures, info,
                 notes=[f"STILTS set-up search: {tried}"] if tried else [])


if __name__ == "__main__":
    main()
