"""Benchmark of the archive query path on the local DaCHS TAP server.

    bash tools/tap-server.sh start
    .venv/bin/python benchmarks/bench_tap.py [--url URL] [--sizes 10000 100000]
                                             [--quick] [--json FILE]

For each size N: N Gaia DR2 source_ids (the 13 504 embedded members, padded with
identifiers that are not in the table) are uploaded and joined to
``gaiadr2.gaia_source`` in one asynchronous TAP job through
`astro_ocl.sources.archives.gaia.sources_by_id` (the online build's code path), cache off:
prints uploaded ids/s and result rows/s. Then the same query with the cache: a
miss (query + store) and a hit (read + parse), and the hit/miss time ratio.
``--quick``: 10 000 ids only, one run.
"""
import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from astro_ocl import conf
from astro_ocl.sources import read_cg_members
from astro_ocl.sources.archives import gaia
from astro_ocl.sources.archives.cache import QueryCache

sys.path.insert(0, str(Path(__file__).resolve().parent))
import _common as C  # noqa: E402


def ids_of_size(n, members):
    real = np.unique(np.asarray(members["source_id"], np.int64))
    if n <= len(real):
        return real[:n]
    pad = np.arange(1, n - len(real) + 1, dtype=np.int64) * 7919  # not Gaia DR2 ids
    return np.concatenate([real, pad])


def timed(fn, repeat=1):
    best, out = np.inf, None
    for _ in range(repeat):
        t0 = time.perf_counter()
        out = fn()
        best = min(best, time.perf_counter() - t0)
    return best, out


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--url", default=os.environ.get("ASTRO_OCL_TAP_URL",
                                                    "http://127.0.0.1:8080/tap"))
    ap.add_argument("--sizes", type=int, nargs="+", default=[10_000, 100_000])
    ap.add_argument("--repeat", type=int, default=2)
    ap.add_argument("--quick", action="store_true", help="10 000 ids, one run")
    ap.add_argument("--json", help="write the figures for run_all.py here")
    args = ap.parse_args(argv)
    if args.quick:
        args.sizes, args.repeat = [10_000], 1
    info = C.print_machine()
    script = "benchmarks/bench_tap.py"
    common = dict(script=script, command=f"python {script} --sizes "
                  f"{' '.join(map(str, args.sizes))} --repeat {args.repeat}")
    figs = []
    members = read_cg_members()
    print(f"local TAP server: {args.url}")
    print(f"{'ids':>8s} {'rows':>7s} {'time/s':>8s} {'ids/s':>10s} {'rows/s':>10s}")
    with conf.set_temp("gaia_tap_url", args.url), \
            conf.set_temp("gaia_dr2_table", "gaiadr2.gaia_source"):
        for n in args.sizes:
            ids = ids_of_size(n, members)
            client = gaia.gaia_client(cache=False, timeout=600, job_timeout=3600)
            try:
                dt, res = timed(lambda: gaia.sources_by_id(ids, client=client, chunk_size=n),
                                args.repeat)
            except Exception as exc:  # report what happened instead of a traceback
                print(f"{n:>8d} failed: {type(exc).__name__}: {exc}")
                continue
            print(f"{n:>8d} {len(res):>7d} {dt:>8.2f} {n / dt:>10.0f} {len(res) / dt:>10.0f}")
            figs.append(C.Figure(f"tap-upload-{n}", f"upload join of {n} source_ids on the "
                                 f"local DaCHS TAP server (best of {args.repeat})",
                                 C.fmt_seconds(dt), dt, "s", **common))
        n = min(args.sizes)
        ids = ids_of_size(n, members)
        with tempfile.TemporaryDirectory() as tmp:
            client = gaia.gaia_client(cache=QueryCache(tmp), timeout=600)
            miss, res = timed(lambda: gaia.sources_by_id(ids, client=client, chunk_size=n))
            hits = []
            for _ in range(5):
                hit, res2 = timed(lambda: gaia.sources_by_id(ids, client=client, chunk_size=n))
                hits.append(hit)
            hit = min(hits)
            assert len(res2) == len(res)
        print(f"cache, {n} ids ({len(res)} rows): miss {miss:.3f} s (query + store), "
              f"hit {hit * 1e3:.1f} ms (best of 5), hit/miss = {hit / miss:.3f} "
              f"({miss / hit:.0f}x faster)")
    figs.append(C.Figure("tap-cache-speedup", f"query cache, {n} ids: miss time / hit time",
                         C.fmt_ratio(miss / hit), miss / hit, "x",
                         "the same query, cache miss (query + store)", **common))
    C.print_figures(figs)
    C.write_json(args.json, figs, info)


if __name__ == "__main__":
    main()
