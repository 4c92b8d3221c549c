"""Benchmark of the positional match (issue 11 item 10) against astropy and STILTS.

    python benchmarks/bench_crossmatch.py [--stars 100000] [--sources 1000000]
                                          [--chunk 1000000] [--no-astropy]
                                          [--no-stilts]

Synthetic sky at Gaia's density around the Galactic plane (~2e5 sources per square
degree is too dense for the defaults; the sources are spread uniformly over a patch
sized to hold ~3 sources inside 3.5 arcsec of a star on average), proper motions
N(0, 10 mas/yr), positions at J2015.5; the stars are a random subset jittered by
1 arcsec, at epoch J2011.5 (LAMOST). Each method finds every (star, source) pair
within 3.5 arcsec after moving the sources to the stars' epoch:

* ``astro_ocl``: `astro_ocl.steps.crossmatch.sky_match` (chunked numpy propagation,
  k-d tree of the stars, one chunk of sources at a time);
* ``astropy``: ``SkyCoord.apply_space_motion`` then ``search_around_sky`` with
  the stars as the searched catalogue (the faster way round);
* ``stilts``: ``stilts tmatch2 matcher=sky find=all`` with the sources moved by
  STILTS' own ``epochProp`` (only when ``stilts`` is on the PATH), reading FITS
  files written beforehand (the write is not timed).

Prints wall time, peak traced Python memory (tracemalloc: numpy arrays included;
the input SkyCoords are built before and not counted) and the number of pairs of
each; ratios against astro_ocl. Keep runs short on a
shared machine: the defaults take ~1 minute.
"""
import argparse
import shutil
import subprocess
import tempfile
import time
import tracemalloc
import warnings
from pathlib import Path

import astropy.units as u
import numpy as np
from astropy.coordinates import SkyCoord
from astropy.table import Table
from astropy.time import Time

from astro_ocl.steps.crossmatch import sky_match

RADIUS = 3.5 * u.arcsec
EPOCH = Time("J2011.5")


def make_data(n_stars, n_sources, seed=1):
    rng = np.random.default_rng(seed)
    # ~3 sources within 3.5 arcsec of a point: density 3 / (pi 3.5^2) per arcsec^2
    area_deg2 = n_sources / (3 / (np.pi * 3.5 ** 2)) / 3600 ** 2
    side = np.sqrt(area_deg2)
    ra = 100 + rng.uniform(0, side, n_sources)
    dec = rng.uniform(-side / 2, side / 2, n_sources)
    pmra, pmdec = rng.normal(0, 10, (2, n_sources))
    pick = rng.choice(n_sources, n_stars, replace=False)
    jit = rng.normal(0, 1.0, (2, n_stars)) / 3600
    sra = ra[pick] + jit[0] / np.cos(np.radians(dec[pick]))
    sdec = dec[pick] + jit[1]
    return (ra, dec, pmra, pmdec), (sra, sdec)


def timed(func):
    tracemalloc.start()
    t0 = time.perf_counter()
    try:
        out = func()
        return out, time.perf_counter() - t0, tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def make_coords(src, stars):
    """The inputs as SkyCoords (built before timing: the caller holds them anyway)."""
    sources = SkyCoord(ra=src[0] * u.deg, dec=src[1] * u.deg,
                       pm_ra_cosdec=src[2] * u.mas / u.yr, pm_dec=src[3] * u.mas / u.yr,
                       obstime=Time("J2015.5"))
    return sources, SkyCoord(ra=stars[0] * u.deg, dec=stars[1] * u.deg)


def run_astro_ocl(sources, coords, chunk):
    return len(sky_match(coords, sources, radius=RADIUS, epoch=EPOCH, chunk_size=chunk)[0])


def run_astropy(sources, coords):
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message=".*distance overridden.*")
        moved = sources.apply_space_motion(new_obstime=EPOCH)
    moved = SkyCoord(ra=moved.ra, dec=moved.dec)
    return len(coords.search_around_sky(moved, RADIUS)[0])


def run_stilts(src, stars, workdir):
    f1, f2, out = (Path(workdir) / n for n in ("stars.fits", "gaia.fits", "out.fits"))
    Table({"ra": stars[0], "dec": stars[1]}).write(f1, overwrite=True)
    Table({"ra": src[0], "dec": src[1], "pmra": src[2], "pmdec": src[3]}).write(
        f2, overwrite=True)
    dt = EPOCH.jyear - 2015.5
    prop = f"epochProp({dt},array(ra,dec,0.,pmra,pmdec,0.))"  # no spaces: one token
    cmd = ["stilts", "tmatch2", f"in1={f1}", f"in2={f2}", "matcher=sky",
           "values1=ra dec", f"values2={prop}[0] {prop}[1]",
           f"params={RADIUS.to_value(u.arcsec)}", "find=all", "join=1and2",
           f"out={out}", "ofmt=fits"]
    t0 = time.perf_counter()
    done = subprocess.run(cmd, capture_output=True, text=True)
    if done.returncode:
        raise SystemExit(f"stilts failed: {done.stderr.strip()}")
    elapsed = time.perf_counter() - t0
    return len(Table.read(out, memmap=True)), elapsed


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--stars", type=int, default=100_000)
    ap.add_argument("--sources", type=int, default=1_000_000)
    ap.add_argument("--chunk", type=int, default=1_000_000)
    ap.add_argument("--no-astropy", action="store_true")
    ap.add_argument("--no-stilts", action="store_true")
    args = ap.parse_args()
    src, stars = make_data(args.stars, args.sources)
    print(f"{args.stars} stars x {args.sources} sources, radius {RADIUS}, "
          f"J2015.5 -> J{EPOCH.jyear:.1f}")
    sources, coords = make_coords(src, stars)
    n, t_ours, m_ours = timed(lambda: run_astro_ocl(sources, coords, args.chunk))
    print(f"astro_ocl  {t_ours:7.2f} s  peak {m_ours / 2**20:7.0f} MiB  {n} pairs")
    if not args.no_astropy:
        n, t, m = timed(lambda: run_astropy(sources, coords))
        print(f"astropy    {t:7.2f} s  peak {m / 2**20:7.0f} MiB  {n} pairs  "
              f"({t / t_ours:.1f}x astro_ocl's time)")
    if args.no_stilts:
        pass
    elif shutil.which("stilts"):
        with tempfile.TemporaryDirectory() as tmp:
            n, t = run_stilts(src, stars, tmp)
        print(f"stilts     {t:7.2f} s  (JVM, memory not traced)  {n} pairs  "
              f"({t / t_ours:.1f}x astro_ocl's time)")
    else:
        print("stilts not installed: skipped")


if __name__ == "__main__":
    main()
