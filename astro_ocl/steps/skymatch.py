"""The positional match of step 3: every (star, Gaia source) pair within a radius.

:func:`sky_match` queries a k-d tree of the stars with the Gaia sources one chunk
at a time (memory bounded by the chunk), each chunk moved to the stars' epoch
with its proper motions, in worker processes when the Gaia side is large
(:func:`match_jobs`); the pairs and their order do not depend on the chunking or
the number of processes. `astro_ocl.steps.crossmatch` uses it (and re-exports it).
"""
import multiprocessing
import os

import astropy.units as u
import numpy as np
from astropy.coordinates import Angle
from astropy.time import Time
from scipy.spatial import cKDTree

from ..logger import log
from ..utils import sigterm_as_interrupt, worker_initializer

__all__ = ["sky_match", "match_jobs", "MATCH_CHUNK", "MIN_PARALLEL_SOURCES"]


#: Gaia sources handled at a time by :func:`sky_match`: its working memory is one
#: chunk (~100 bytes a source), whatever the size of the Gaia side.
MATCH_CHUNK = 1_000_000


def _unit_vectors(lon, lat):
    """Unit vectors (n, 3) of longitudes and latitudes in radians."""
    cl = np.cos(lat)
    return np.column_stack((cl * np.cos(lon), cl * np.sin(lon), np.sin(lat)))


def _icrs(coords):
    """``coords`` in ICRS (no transformation when they already are)."""
    return coords if coords.frame.name == "icrs" else coords.icrs


def _source_chunk(sources, sl, epoch_jd, obstime_jd):
    """Unit vectors of ``sources[sl]``, moved to ``epoch_jd`` with their proper motions.

    Linear motion on the tangent plane, renormalised: exact to (mu dt)^2, below
    0.1 mas for 1 arcsec/yr over 25 yr (what astropy's ``apply_space_motion``
    computes for sources without distance, in a fraction of the time). A source
    without a proper motion (NaN) stays at its catalogue position. Only numpy here:
    every temporary is freed on return (astropy calls can leave reference cycles
    that keep a frame's arrays alive until the next garbage collection).
    """
    data = sources.data
    lon = data.lon[sl].to_value(u.rad)
    lat = data.lat[sl].to_value(u.rad)
    xyz = _unit_vectors(lon, lat)
    diff = data.differentials.get("s")
    if epoch_jd is None or diff is None or obstime_jd is None:
        return xyz
    o_jd = obstime_jd if np.ndim(obstime_jd) == 0 else obstime_jd[sl]
    scale = u.mas.to(u.rad) * (epoch_jd - o_jd) / 365.25  # Julian years
    mas_yr = u.mas / u.yr
    dra = np.nan_to_num(diff.d_lon_coslat[sl].to_value(mas_yr), nan=0.0) * scale
    ddec = np.nan_to_num(diff.d_lat[sl].to_value(mas_yr), nan=0.0) * scale
    sin_lat = np.sin(lat)
    xyz[:, 0] += -np.sin(lon) * dra - sin_lat * np.cos(lon) * ddec
    xyz[:, 1] += np.cos(lon) * dra - sin_lat * np.sin(lon) * ddec
    xyz[:, 2] += np.cos(lat) * ddec
    xyz /= np.linalg.norm(xyz, axis=1)[:, None]
    return xyz


def sky_match(coords, sources, *, radius=3.5 * u.arcsec, epoch=None, chunk_size=None,
              n_jobs=None):
    """All pairs of (star, source) closer than ``radius``.

    A k-d tree of the stars' unit vectors is queried with the Gaia sources one
    chunk at a time (``chunk_size``), each chunk moved to ``epoch`` with its proper
    motions in numpy: memory does not grow with the Gaia side beyond one chunk.
    With several processes (``n_jobs``) each chunk is split between them (each
    takes ``chunk_size / n_jobs`` sources at a time, so that the chunks in work
    together still hold ``chunk_size`` sources); the pairs are the same.

    Parameters
    ----------
    coords : `~astropy.coordinates.SkyCoord`
        Positions of the spectroscopic stars.
    sources : `~astropy.coordinates.SkyCoord`
        Gaia positions, with ``pm_ra_cosdec``, ``pm_dec`` and ``obstime``
        (J2015.5 for DR2/DR3) so that they can be moved to ``epoch``.
    radius : `~astropy.units.Quantity`
        Match radius (angle).
    epoch : `~astropy.time.Time` or str, optional
        Epoch of ``coords`` (e.g. ``"J2000"`` or the observation date). Default:
        no propagation.
    chunk_size : int, optional
        Gaia sources per chunk (default :data:`MATCH_CHUNK`).
    n_jobs : int, optional
        Worker processes (default: every core this process may use when there are
        at least :data:`MIN_PARALLEL_SOURCES` sources, see `match_jobs`; 1: in
        this process). The workers end with the call, on an error, Ctrl-C or
        SIGTERM, and die with this process
        (`~astro_ocl.utils.worker_initializer`).

    Returns
    -------
    idx_star, idx_source : ndarray of int
        Indices of each pair (every source inside the radius is kept), sorted by
        star, then separation (then source).
    separation : `~astropy.coordinates.Angle`
    """
    radius = u.Quantity(radius, u.arcsec)
    if radius <= 0:
        raise ValueError(f"match radius must be positive, got {radius}")
    chunk = int(MATCH_CHUNK if chunk_size is None else chunk_size)
    if chunk < 1:
        raise ValueError(f"chunk_size must be a positive number of sources, got {chunk_size!r}")
    empty = (np.array([], int), np.array([], int), Angle([], u.deg))
    if not len(coords) or not len(sources):
        return empty
    stars = _icrs(coords)
    xyz_stars = _unit_vectors(stars.data.lon.to_value(u.rad), stars.data.lat.to_value(u.rad))
    # Unbalanced trees without node compaction (sliding midpoint): built in about
    # half the time and queried as fast (one tree per chunk)
    tree = cKDTree(xyz_stars, **_TREE)
    chord = 2 * np.sin(radius.to_value(u.rad) / 2)
    sources = _icrs(sources)
    epoch_jd = obstime_jd = None
    if epoch is not None and sources.obstime is not None:
        epoch_jd, obstime_jd = Time(epoch).tdb.jd, sources.obstime.tdb.jd
    jobs = match_jobs(len(sources), n_jobs)
    step = max(1, chunk // jobs)
    ranges = [(a, min(a + step, len(sources))) for a in range(0, len(sources), step)]
    order = _spatial_order(sources, step) if len(ranges) > 1 else None
    state = (sources, tree, chord, radius.to_value(u.rad), epoch_jd, obstime_jd, order)
    if jobs == 1 or len(ranges) == 1:
        parts = [_pairs_in(state, a, b) for a, b in ranges]
    else:
        parts = _pairs_in_workers(state, ranges, min(jobs, len(ranges)))
    idx_star, idx_src, sep = (np.concatenate([p[k] for p in parts]) for k in range(3))
    del parts
    if len(ranges) > 1:
        # each part is in order already (_pairs_in): merge them
        order = _merge_order(idx_star, sep, idx_src)
        idx_star, idx_src, sep = idx_star[order], idx_src[order], sep[order]
    return idx_star.astype(np.intp), idx_src, Angle(sep, u.rad).to(u.deg)


def _merge_order(star, sep, src):
    """The canonical order (`_canonical_order`) of parts that are each in it already.

    A stable sort by star (timsort: fast on sorted runs) leaves each star's pairs
    in part order; the few stars with pairs from two parts (near a chunk's edge)
    whose pairs are then out of (separation, source) order are sorted again.
    """
    order = np.argsort(star, kind="stable")
    s_star, s_sep, s_src = star[order], sep[order], src[order]
    same = s_star[1:] == s_star[:-1]
    bad = same & ((s_sep[1:] < s_sep[:-1]) | ((s_sep[1:] == s_sep[:-1])
                                              & (s_src[1:] < s_src[:-1])))
    if bad.any():
        group = np.concatenate(([0], np.cumsum(~same)))
        pos = np.flatnonzero(np.isin(group, group[np.flatnonzero(bad)]))
        sub = order[pos]
        order[pos] = sub[np.lexsort((src[sub], sep[sub], star[sub]))]
    return order


def _canonical_order(star, sep, src):
    """``numpy.lexsort((src, sep, star))``, in a quarter of its time.

    By separation, then stably by star; equal separations of one star (duplicated
    sources) are rare and are put in source order afterwards.
    """
    order = np.argsort(sep)
    order = order[np.argsort(star[order], kind="stable")]
    s_star, s_sep = star[order], sep[order]
    tie = np.flatnonzero((s_star[1:] == s_star[:-1]) & (s_sep[1:] == s_sep[:-1]))
    if tie.size:
        pos = np.union1d(tie, tie + 1)
        sub = order[pos]
        order[pos] = sub[np.lexsort((src[sub], sep[sub], star[sub]))]
    return order


#: k-d tree options of :func:`sky_match` (see there).
_TREE = dict(balanced_tree=False, compact_nodes=False)

#: Fewest Gaia sources for which :func:`sky_match` starts worker processes by default.
MIN_PARALLEL_SOURCES = 500_000


def match_jobs(n_sources, n_jobs=None):
    """Worker processes :func:`sky_match` uses for ``n_sources`` Gaia sources.

    Parameters
    ----------
    n_sources : int
    n_jobs : int, optional
        Requested number; None: every core this process may use
        (``os.sched_getaffinity``) from :data:`MIN_PARALLEL_SOURCES` sources on.

    Returns
    -------
    int
        1 also when this process is a daemonic worker (a pool or Dask worker,
        which may not start processes and whose parent spreads the work).
    """
    if n_jobs is not None and int(n_jobs) < 1:
        raise ValueError(f"n_jobs must be a positive number of processes, got {n_jobs!r}")
    if multiprocessing.current_process().daemon:
        return 1
    if n_jobs is not None:
        return int(n_jobs)
    if n_sources < MIN_PARALLEL_SOURCES:
        return 1
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1


def _spatial_order(sources, step):
    """An order of ``sources`` in which every ``step`` of them is a compact patch of sky.

    The dual k-d tree query of a chunk costs about half as much when the chunk
    covers a small part of the stars' sky instead of all of it. Gaia tables come
    sorted by ``source_id`` (HEALPix order): their chunks already are compact, and
    None is returned. Otherwise (the median chunk's bounding box covers more than
    a quarter of the whole one) the sources are split into chunks along a Z-order
    (Morton) curve of (lon, lat) in the bounding box, 16 bits each, computed a
    chunk at a time (`numpy.argpartition` at the chunk boundaries): the cost is
    one uint32 key and one index per source.
    """
    n = len(sources)
    data = sources.data
    bounds, boxes = [], []
    for a in range(0, n, step):
        lon = data.lon[a:a + step].to_value(u.rad)
        lat = data.lat[a:a + step].to_value(u.rad)
        box = (np.nanmin(lon), np.nanmax(lon), np.nanmin(lat), np.nanmax(lat))
        bounds.append(box)
        boxes.append((box[1] - box[0]) * (box[3] - box[2]))
    b = np.array(bounds)
    lon0, lon1, lat0, lat1 = b[:, 0].min(), b[:, 1].max(), b[:, 2].min(), b[:, 3].max()
    whole = (lon1 - lon0) * (lat1 - lat0)
    if not whole > 0 or np.median(boxes) <= 0.25 * whole:
        return None
    key = np.empty(n, np.uint32)
    for a in range(0, n, step):
        qx = _quantise(data.lon[a:a + step].to_value(u.rad), lon0, lon1)
        qy = _quantise(data.lat[a:a + step].to_value(u.rad), lat0, lat1)
        key[a:a + step] = _spread_bits(qx) | (_spread_bits(qy) << np.uint32(1))
    # only the chunks matter, not the order inside them (_pairs_in sorts their rows)
    order = np.argpartition(key, np.arange(step, n, step)) if n > step else np.arange(n)
    del key
    return order.astype(np.int32) if n < 2 ** 31 else order


def _quantise(x, lo, hi):
    """``x`` in [lo, hi] as 16-bit integers (NaN: 0)."""
    q = np.nan_to_num((x - lo) * (65535.0 / (hi - lo)), nan=0.0)
    return np.clip(q, 0, 65535).astype(np.uint32)


def _spread_bits(x):
    """The 16 bits of ``x`` (uint32) moved to the even bit positions (Morton code)."""
    x = (x | (x << np.uint32(8))) & np.uint32(0x00FF00FF)
    x = (x | (x << np.uint32(4))) & np.uint32(0x0F0F0F0F)
    x = (x | (x << np.uint32(2))) & np.uint32(0x33333333)
    return (x | (x << np.uint32(1))) & np.uint32(0x55555555)


def _pairs_in(state, start, stop):
    """Pairs (star, source, separation) of the sources ``start:stop``, in canonical order.

    ``start:stop`` are positions in the spatial order when there is one (then the
    chunk is gathered from the sources), else rows of the sources.
    """
    sources, tree, chord, radius, epoch_jd, obstime_jd, order = state
    rows = slice(start, stop) if order is None else np.sort(order[start:stop])
    xyz = _source_chunk(sources, rows, epoch_jd, obstime_jd)
    pairs = cKDTree(xyz, **_TREE).sparse_distance_matrix(tree, chord, output_type="ndarray")
    del xyz
    sep = 2 * np.arcsin(np.clip(pairs["v"] / 2, 0, 1))
    keep = sep <= radius
    star = pairs["j"][keep].astype(np.int32 if len(tree.data) < 2 ** 31 else np.int64)
    src = (pairs["i"][keep].astype(np.int64) + start if order is None
           else rows[pairs["i"][keep]].astype(np.int64))
    sep = sep[keep]
    del pairs
    by = _canonical_order(star, sep, src)
    return star[by], src[by], sep[by]


_WORKER_STATE = None


def _match_worker(state):
    """Initializer of the match workers: the shared inputs (inherited, not copied)."""
    worker_initializer()
    global _WORKER_STATE
    _WORKER_STATE = state


def _pairs_job(bounds):
    return _pairs_in(_WORKER_STATE, *bounds)


def _pairs_in_workers(state, ranges, jobs):
    """`_pairs_in` of every range in ``jobs`` forked processes, in the order of ``ranges``."""
    methods = multiprocessing.get_all_start_methods()
    # fork: the workers inherit the sources and the stars' tree instead of a pickled copy
    ctx = multiprocessing.get_context("fork" if "fork" in methods else None)
    # as astro_ocl.steps.gradients.run_fits: the workers end with the block whatever
    # happens (error, Ctrl-C, SIGTERM) and die with this process (worker_initializer)
    with sigterm_as_interrupt():
        pool = ctx.Pool(jobs, initializer=_match_worker, initargs=(state,))
        try:
            log.debug("positional match: %d chunks in %d worker processes", len(ranges), jobs)
            parts = list(pool.imap(_pairs_job, ranges))
            pool.close()
            return parts
        finally:
            pool.terminate()
            pool.join()
