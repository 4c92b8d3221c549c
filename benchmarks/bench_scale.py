"""Benchmark of the survey-scale engine (issue 12): in-memory vs lsdb with 1 and 2 workers.

    python benchmarks/bench_scale.py [--sizes 1e6 4e6 11e6] [--gaia 1e7]
                                     [--workers 1 2] [--no-memory] [--cache DIR]
                                     [--quick] [--json FILE]

``--quick``: 100 000 and 400 000 survey rows against 1 000 000 Gaia-like sources,
2 workers. The figures for docs/benchmarks.rst (``--json``) are those of the largest
size, and the growth of the peak memory from the smallest size to the largest.

Synthetic *labelled* tables (the truth is known, so the benchmark also checks the
engines agree): a Gaia-like positional side of ``--gaia`` sources spread over a
sky patch (proper motions N(0, 5 mas/yr), J2015.5); members are 10 % of those
sources, labelled with ~300-member clusters, probabilities U(0.5, 1); a survey of
N rows: 30 % are members' spectra (some repeated), the rest field stars, and
``--no-id-fraction`` (10 %) of the rows have no Gaia id and go through the
positional match against the Gaia side. RVs and [Fe/H] are drawn around per-cluster
values.

For each size and engine it prints the wall time and the peak memory (RSS) of each
stage: for the in-memory engine the process's; for lsdb each worker's, sampled
every 0.2 s (``client.run``), the maximum over workers shown. ``import`` is the
one-time hats-import of the three tables into one cache shared by the engines and
sizes (the first lsdb run imports; the others find the catalogues there), and
``build (cached)`` is the whole build from the cached catalogues. The in-memory
engine's ``build (stages)`` starts from the tables in memory, ``build (read +
stages)`` from the same Parquet files. Stages:
``members`` (probability cut per partition), ``stars`` (usable RV, member semi-join),
``match`` (positional match per pixel pair), ``clusters`` (Monte Carlo, K=1000).

The machine the numbers in docs/scale.rst come from was shared (see there).
"""
import argparse
import json
import sys
import tempfile
import threading
import time
import warnings
from pathlib import Path

import astropy.units as u
import numpy as np
from astropy.coordinates import SkyCoord
from astropy.table import QTable
from astropy.time import Time

sys.path.insert(0, str(Path(__file__).resolve().parent))
import _common as C  # noqa: E402

K = 1000  # Monte Carlo realisations
SCRIPT = "benchmarks/bench_scale.py"


def synthetic(n_stars, n_gaia, *, no_id_fraction=0.1, seed=0):
    """Labelled synthetic stars, members and Gaia sources (canonical QTables)."""
    rng = np.random.default_rng(seed)
    # a patch of sky sized for ~1e5 sources per square degree (dense Galactic field)
    side = np.sqrt(n_gaia / 1e5)
    ra = 100 + rng.uniform(0, side, n_gaia)
    dec = rng.uniform(-side / 2, side / 2, n_gaia)
    sid = 10**15 + rng.choice(50 * n_gaia, n_gaia, replace=False)  # unique ids
    gaia = QTable()
    gaia["source_id"] = sid.astype(np.int64)
    gaia["coord"] = SkyCoord(ra=ra * u.deg, dec=dec * u.deg,
                             pm_ra_cosdec=rng.normal(0, 5, n_gaia) * u.mas / u.yr,
                             pm_dec=rng.normal(0, 5, n_gaia) * u.mas / u.yr,
                             obstime=Time(2015.5, format="jyear"), frame="icrs")
    n_mem = n_gaia // 10
    im = rng.choice(n_gaia, n_mem, replace=False)
    n_cl = max(1, n_mem // 300)
    label = rng.integers(0, n_cl, n_mem)
    members = QTable()
    members["Cluster"] = np.array([f"SYN_{i:05d}" for i in label])
    members["source_id"] = gaia["source_id"][im]
    members["coord"] = gaia["coord"][im]
    members["parallax"] = rng.uniform(0.2, 2, n_mem) * u.mas
    members["gmag"] = rng.uniform(10, 18, n_mem) * u.mag
    members["proba"] = rng.uniform(0.5, 1, n_mem)
    # survey rows: 30 % spectra of members (with repeats), 70 % field stars
    is_mem = rng.random(n_stars) < 0.3
    pick = np.where(is_mem, rng.choice(im, n_stars), rng.choice(n_gaia, n_stars))
    cl_rv = rng.normal(0, 30, n_cl)
    cl_feh = rng.normal(-0.1, 0.2, n_cl)
    where = np.full(n_gaia, -1)
    where[im] = label
    lab = where[pick]
    stars = QTable()
    ids = gaia["source_id"][pick].astype(np.int64)
    no_id = rng.random(n_stars) < no_id_fraction
    stars["source_id"] = np.ma.MaskedArray(ids, mask=no_id)
    jitter = rng.normal(0, 0.5, (2, n_stars)) / 3600
    g = gaia["coord"][pick]
    stars["coord"] = SkyCoord(ra=(g.ra.deg + jitter[0]) * u.deg,
                              dec=(g.dec.deg + jitter[1]) * u.deg, frame="icrs")
    e_rv = rng.uniform(2, 10, n_stars)
    stars["rv"] = (np.where(lab >= 0, cl_rv[lab], rng.normal(0, 50, n_stars))
                   + rng.normal(0, e_rv)) * u.km / u.s
    stars["e_rv"] = e_rv * u.km / u.s
    stars["teff"] = rng.uniform(3800, 7800, n_stars) * u.K
    stars["logg"] = u.Dex(rng.uniform(1, 5, n_stars), u.dex(u.cm / u.s**2))
    stars["feh"] = (np.where(lab >= 0, cl_feh[lab], rng.normal(-0.2, 0.3, n_stars))
                    + rng.normal(0, 0.1, n_stars)) * u.dex
    stars["e_feh"] = rng.uniform(0.05, 0.2, n_stars) * u.dex
    stars["snrg"] = rng.uniform(5, 200, n_stars)
    stars.meta["schema"] = "stars"
    return stars, members, gaia


def _save(table, path):
    """A canonical table as a flattened Parquet file plus its spec (what read_flat reads)."""
    from astro_ocl.scale.tables import flatten
    frame, spec = flatten(table, row=False)
    frame.to_parquet(path, index=False)
    Path(f"{path}.json").write_text(json.dumps(spec, default=str))
    return path


def read_flat(path=None, *, table=None, **kwargs):
    """Reader (source adapter) of the files written by ``_save``."""
    import pandas as pd
    from astro_ocl.scale.tables import unflatten
    t = unflatten(pd.read_parquet(path), json.loads(Path(f"{path}.json").read_text()))
    t.meta["source"] = str(path)
    return t


class Sampler:
    """Peak RSS per stage: of the workers (``client``) or of this process."""

    def __init__(self, client=None):
        self.client, self.samples, self._stop = client, [], threading.Event()
        self._thread = threading.Thread(target=self._loop, daemon=True)

    def _rss(self):
        import psutil
        if self.client is None:
            return {"main": psutil.Process().memory_info().rss}
        return self.client.run(lambda: __import__("psutil").Process().memory_info().rss)

    def _loop(self):
        while not self._stop.is_set():
            try:
                self.samples.append((time.perf_counter(), self._rss()))
            except Exception:  # a worker restarting
                pass
            time.sleep(0.2)

    def __enter__(self):
        self._thread.start()
        return self

    def __exit__(self, *exc):
        self._stop.set()
        self._thread.join()

    def peak(self, t0, t1):
        """Max over workers of each worker's peak RSS (MB) in [t0, t1]."""
        inside = [s for t, s in self.samples if t0 <= t <= t1]
        after = [s for t, s in self.samples if t > t1][:1]  # a stage shorter than a sample
        inside = inside or after
        if not inside:
            return float("nan")
        return max(max(s.values()) for s in inside) / 2**20


def run_memory(paths):
    from astro_ocl.accounting import StageLog
    from astro_ocl.steps.crossmatch import match_stars, select_members
    from astro_ocl.steps.statistics import clean_stars, cluster_statistics
    rows = []
    with Sampler() as s:
        log = StageLog()
        r0 = time.perf_counter()
        stars, members, gaia = (read_flat(paths[k]) for k in ("stars", "members", "gaia"))
        t0 = time.perf_counter()
        rows.append(("read the files", t0 - r0, s.peak(r0, t0)))
        sel = select_members(members, threshold=0.7, stage_log=log)
        t1 = time.perf_counter()
        clean = clean_stars(stars, stage_log=log)
        matched = match_stars(clean, sel, gaia_sources=gaia, epoch="J2015.5", stage_log=log)
        t2 = time.perf_counter()
        stats, _ = cluster_statistics(matched, n_realisations=K, seed=1)
        t3 = time.perf_counter()
    for name, a, b in (("members", t0, t1), ("stars + match", t1, t2), ("clusters", t2, t3)):
        rows.append((name, b - a, s.peak(a, b)))
    rows.append(("build (stages)", t3 - t0, s.peak(t0, t3)))
    rows.append(("build (read + stages)", t3 - r0, s.peak(r0, t3)))
    return rows, stats


def run_lsdb(paths, n_workers, cache, partition_rows=None):
    from distributed import Client, LocalCluster

    from astro_ocl.accounting import StageLog
    from astro_ocl.scale import LsdbEngine, hats_input
    rows = []
    with LocalCluster(n_workers=n_workers, threads_per_worker=1, processes=True,
                      dashboard_address="127.0.0.1:0") as lc, Client(lc) as c, Sampler(c) as s:
        t0 = time.perf_counter()
        for name, p in paths.items():
            hats_input(str(p), name=name, reader=read_flat, cache_dir=cache, client=c,
                       margin_arcsec=13.5 if name == "gaia" else None,
                       partition_rows=partition_rows)
        t1 = time.perf_counter()
        rows.append(("import (once)", t1 - t0, s.peak(t0, t1)))
        with LsdbEngine(client=c, cache_dir=cache, show_progress=False,
                        partition_rows=partition_rows) as eng:
            b0 = time.perf_counter()
            matched = eng.match_stars(str(paths["stars"]), str(paths["members"]),
                                      gaia_sources=str(paths["gaia"]), star_reader=read_flat,
                                      member_reader=read_flat, gaia_reader=read_flat,
                                      threshold=0.7,
                                      radius=3.5 * u.arcsec, epoch=Time("J2015.5"),
                                      stage_log=StageLog())
            stats, _ = eng.cluster_statistics(matched, n_realisations=K, seed=1, cuts=None)
            b1 = time.perf_counter()
            t = b0
            for desc, nparts, secs in eng.timings:
                rows.append((f"{desc.split(' (')[0]} [{nparts} part.]", secs,
                             s.peak(t, t + secs)))
                t += secs
            rows.append(("build (cached)", b1 - b0, s.peak(b0, b1)))
    return rows, stats


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--sizes", type=float, nargs="+", default=[1e6, 4e6, 11e6])
    ap.add_argument("--gaia", type=float, default=1e7)
    ap.add_argument("--workers", type=int, nargs="+", default=[1, 2])
    ap.add_argument("--no-memory", action="store_true")
    ap.add_argument("--cache", type=Path, default=None)
    ap.add_argument("--partition-rows", type=float, default=None,
                    help="rows per HATS partition (default hats-import's 1 000 000)")
    ap.add_argument("--quick", action="store_true",
                    help="1e5 and 4e5 survey rows, 1 000 000 Gaia-like sources, 2 workers")
    ap.add_argument("--json", help="write the figures (largest size) for run_all.py here")
    args = ap.parse_args(argv)
    if args.quick:
        args.sizes, args.gaia, args.workers = [1e5, 4e5], 1e6, [2]
    warnings.simplefilter("ignore")
    import os
    info = C.print_machine()
    print(f"load average at start: {os.getloadavg()}")
    per_size = []
    for n in args.sizes:
        n = int(n)
        stars, members, gaia = synthetic(n, int(args.gaia))
        work = Path(tempfile.mkdtemp(prefix="bench_scale_"))
        # one cache for every engine and size: each file is imported once (the Gaia
        # side and the members are the same files at every size)
        cache = args.cache or work / "cache"
        paths = {k: _save(t, work / f"{k}.parquet")
                 for k, t in (("stars", stars), ("members", members), ("gaia", gaia))}
        print(f"\n== {n:,} survey rows, {len(members):,} members, {len(gaia):,} Gaia sources")
        del stars, members, gaia
        results, totals, peaks = {}, {}, {}
        if not args.no_memory:
            rows, results["memory"] = run_memory(paths)
            totals["memory"] = {r[0]: r[1] for r in rows}
            peaks["memory"] = {r[0]: r[2] for r in rows}
            _print("memory", rows)
        for w in args.workers:
            rows, results[f"lsdb-{w}"] = run_lsdb(
                paths, w, cache,
                None if args.partition_rows is None else int(args.partition_rows))
            totals[f"lsdb-{w}"] = {r[0]: r[1] for r in rows}
            peaks[f"lsdb-{w}"] = {r[0]: r[2] for r in rows}
            _print(f"lsdb, {w} worker(s)", rows)
        if "memory" in totals:
            mem = totals["memory"]
            for k, v in totals.items():
                if k != "memory":
                    b = v["build (cached)"]
                    print(f"  {k} build / memory: {b / mem['build (stages)']:.2f}x the stages, "
                          f"{b / mem['build (read + stages)']:.2f}x read + stages")
        ref = next(iter(results.values()))
        for k, st in results.items():
            same = all(a.cluster == b.cluster and np.isclose(a.rv.med, b.rv.med, rtol=1e-9,
                                                             equal_nan=True)
                       for a, b in zip(ref, st)) and len(ref) == len(st)
            print(f"  {k}: {len(st)} clusters, same RVmed as the first engine: {same}")
        print(f"  load average now: {os.getloadavg()}")
        per_size.append((n, totals, peaks))
    figs = _figures(int(args.gaia), per_size, args)
    C.print_figures(figs)
    C.write_json(args.json, figs, info)


def _size(n):
    return f"{n / 1e6:g} M" if n >= 1e6 else f"{n / 1e3:g} k"


def _figures(n_gaia, per_size, args):
    """docs/benchmarks.rst rows of the largest size, and growths from the smallest.

    The quotes name the sizes.
    """
    n, totals, peaks = per_size[-1]
    n0, _, peaks0 = per_size[0]
    size = f"{_size(n)} survey rows, {_size(n_gaia)} Gaia-like sources"
    cmd = (f"python {SCRIPT} --sizes {' '.join(f'{x:g}' for x in args.sizes)} --gaia "
           f"{args.gaia:g} --workers {' '.join(map(str, args.workers))}")
    common = dict(script=SCRIPT, command=cmd)
    figs = []
    if "memory" in totals:
        t = totals["memory"]["build (read + stages)"]
        figs.append(C.Figure("scale-memory-build", "in-memory engine: read the files and build",
                             f"{C.fmt_seconds(t)} for {size}", t, "s", **common))
        m = peaks["memory"]["build (read + stages)"]
        figs.append(C.Figure("scale-memory-peak", "in-memory engine: peak RSS of the build",
                             f"{C.fmt_mb(m)} for {size}", m, "MB", **common))
        if n0 != n:
            g = m / peaks0["memory"]["build (read + stages)"]
            figs.append(C.Figure("scale-memory-peak-growth", "in-memory engine: peak RSS at "
                                 "the largest size / at the smallest",
                                 f"{g:.2f} from {_size(n0)} to {_size(n)} survey rows", g, "",
                                 **common))
    lsdb = [k for k in totals if k.startswith("lsdb-")]
    if lsdb:
        best = max(lsdb, key=lambda k: int(k.split("-")[1]))
        w = best.split("-")[1]
        t = totals[best]["build (cached)"]
        figs.append(C.Figure("scale-lsdb-build", f"lsdb engine, {w} workers: build from the "
                             "cached HATS catalogues", f"{C.fmt_seconds(t)} for {size}", t, "s",
                             **common))
        m = peaks[best]["build (cached)"]
        figs.append(C.Figure("scale-lsdb-worker-peak", f"lsdb engine, {w} workers: largest "
                             "worker's peak RSS over the build", f"{C.fmt_mb(m)} for {size}", m,
                             "MB", **common))
        if n0 != n:
            g = m / peaks0[best]["build (cached)"]
            figs.append(C.Figure("scale-lsdb-worker-peak-growth", f"lsdb engine, {w} workers: "
                                 "largest worker's peak at the largest size / at the smallest",
                                 f"{g:.2f} from {_size(n0)} to {_size(n)} survey rows", g, "",
                                 **common))
        t = totals[best]["import (once)"]
        figs.append(C.Figure("scale-import", f"hats-import of the three tables, {w} workers "
                             "(once)", f"{C.fmt_seconds(t)} for {size}", t, "s", **common))
        if "memory" in totals:
            t_mem = totals["memory"]["build (read + stages)"]
            r = totals[best]["build (cached)"] / t_mem
            figs.append(C.Figure("scale-lsdb-vs-memory", f"lsdb ({w} workers) build time / "
                                 "in-memory build time", f"{r:.2f} for {size}", r, "",
                                 **common))
    return figs


def _print(title, rows):
    print(f"  {title}")
    for name, secs, mb in rows:
        print(f"    {name:<34s} {secs:8.1f} s  peak {mb:8.0f} MB")


if __name__ == "__main__":
    main()
