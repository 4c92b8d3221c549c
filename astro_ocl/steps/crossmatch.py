"""Cross-matching spectroscopic stars with Gaia and with cluster members (step 3).

* :func:`select_members` keeps members above the probability threshold and
  resolves stars listed in two clusters.
* :func:`sky_match` matches positions within a radius (3.5 arcsec by default,
  the LAMOST fibre is 3.3 arcsec), propagating Gaia positions to the epoch of
  the survey with their proper motions, and keeps *every* source inside the
  radius.
* :func:`attach_source_ids` gives stars without a Gaia id the ids of the Gaia
  sources around them.
* :func:`join_members` joins stars and members on Gaia DR2 ``source_id``.

* :func:`match_stars` is method step 3 for every input path (embedded sample,
  file, online): stars with a Gaia id are joined on it, the others are matched
  by position (:func:`attach_source_ids`, then :func:`unique_pairs` so that one
  spectrum is one star).

Every function records what it dropped in a `~astro_ocl.accounting.StageLog`.
"""
import warnings

import astropy.units as u
import numpy as np
from astropy.table import QTable, Table, join, unique, vstack
from astropy.time import Time

from ..accounting import StageLog
from ..exceptions import DroppedRowsWarning, NoUsableDataError
from ..logger import log

__all__ = ["match_stars", "select_members", "deduplicate_stars", "survey_id_key", "sky_match",
           "match_jobs", "attach_source_ids", "join_members", "unique_pairs",
           "without_gaia_sources", "MATCH_CHUNK", "MIN_PARALLEL_SOURCES"]


def select_members(members, *, threshold=0.7, stage_log=None):
    """Members with probability >= ``threshold``, one cluster per star.

    A star listed in two clusters keeps the cluster where its probability is
    highest (ties: the first listed); the others are counted as dropped.

    Parameters
    ----------
    members : `~astropy.table.QTable`
        From `~astro_ocl.sources.read_cg_members` (``Cluster, source_id, proba``).
    threshold : float
        Minimum membership probability (0.7 in Fu et al. 2022).
    stage_log : `~astro_ocl.accounting.StageLog`, optional

    Returns
    -------
    `~astropy.table.QTable`
    """
    if not 0 <= threshold <= 1:
        raise ValueError(f"membership threshold must be in [0, 1], got {threshold!r}")
    stage_log = stage_log if stage_log is not None else StageLog()
    keep = np.asarray(members["proba"]) >= threshold
    sel = members[keep]
    out = sel[_best_per_key(sel["source_id"], -np.asarray(sel["proba"], float))]
    stage_log.stage("members", n_in=len(members), n_out=len(out),
                    dropped={f"probability < {threshold}": int((~keep).sum()),
                             "listed in another cluster with higher probability":
                                 len(sel) - len(out)})
    if len(out) == 0:
        raise NoUsableDataError(f"no cluster member has probability >= {threshold}")
    return out


def deduplicate_stars(stars, *, key="source_id", stage_log=None):
    """Keep one observation per star: the highest S/N (else the smallest RV error).

    Parameters
    ----------
    stars : `~astropy.table.QTable`
        Canonical star table.
    key : str
        Identifier column.
    stage_log : `~astro_ocl.accounting.StageLog`, optional

    Returns
    -------
    `~astropy.table.QTable`
        With a `~astro_ocl.exceptions.DroppedRowsWarning` when rows were removed.
    """
    stage_log = stage_log if stage_log is not None else StageLog()
    if key not in stars.colnames:
        return stars
    if "snrg" in stars.colnames:
        quality = np.nan_to_num(np.asarray(stars["snrg"], float), nan=-np.inf)
    else:
        quality = -np.nan_to_num(np.asarray(stars["e_rv"].value), nan=np.inf)
    keep = _best_per_key(stars[key], -quality)
    n_dup = len(stars) - len(keep)
    out = stars[keep] if n_dup else stars
    if n_dup:
        ids = np.asarray(stars[key])
        dup_ids = np.unique(ids[np.setdiff1d(np.arange(len(stars)), keep)])
        warnings.warn(f"{n_dup} repeated observations of {dup_ids.size} stars with the same "
                      f"{key} (e.g. {dup_ids[0]}) in {stars.meta.get('source', 'the input')}: "
                      "kept the one with the highest S/N", DroppedRowsWarning)
    stage_log.stage("unique stars", n_in=len(stars), n_out=len(out),
                    dropped={f"repeated {key} (kept highest S/N)": n_dup})
    return out


def survey_id_key(stars):
    """``"survey_id"`` for stars a survey identifies without Gaia ids (APOGEE), else None.

    Such stars keep one spectrum per survey id (:func:`deduplicate_stars` with this
    key) and are then matched by position; without Gaia sources, to the selected
    members' own Gaia positions.
    """
    return "survey_id" if "source_id" not in stars.colnames \
        and "survey_id" in stars.colnames else None


def _best_per_key(keys, rank):
    """Indices (in input order) of the best row per key: lowest ``rank``, then first listed."""
    t = Table({"key": np.asarray(keys), "rank": np.asarray(rank, float),
               "row": np.arange(len(keys))})
    t.sort(["key", "rank", "row"])
    return np.sort(np.asarray(unique(t, keys="key", keep="first")["row"]))


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
    from astropy.coordinates import Angle
    from scipy.spatial import cKDTree
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
    # half the time and queried as fast (issue 11 item 10: one tree per chunk)
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
    import multiprocessing
    import os
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
    from scipy.spatial import cKDTree
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
    from ..utils import worker_initializer
    worker_initializer()
    global _WORKER_STATE
    _WORKER_STATE = state


def _pairs_job(bounds):
    return _pairs_in(_WORKER_STATE, *bounds)


def _pairs_in_workers(state, ranges, jobs):
    """`_pairs_in` of every range in ``jobs`` forked processes, in the order of ``ranges``."""
    import multiprocessing

    from ..utils import sigterm_as_interrupt
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


def attach_source_ids(stars, sources, *, radius=3.5 * u.arcsec, epoch=None, stage_log=None):
    """Give stars the Gaia ``source_id`` of every Gaia source within ``radius``.

    A star with k sources inside the radius appears k times (column ``n_match``
    says how many); a star with none is dropped and counted.

    Parameters
    ----------
    stars : `~astropy.table.QTable`
        Canonical star table (``coord``), without or with partial ``source_id``.
    sources : `~astropy.table.QTable`
        Gaia sources with ``source_id`` and ``coord`` (proper motions, obstime).
    radius : `~astropy.units.Quantity`
        Match radius.
    epoch : `~astropy.time.Time` or str, optional
        Epoch of the star positions.
    stage_log : `~astro_ocl.accounting.StageLog`, optional

    Returns
    -------
    `~astropy.table.QTable`
        Stars with ``source_id``, ``match_sep`` and ``n_match`` columns.
    """
    stage_log = stage_log if stage_log is not None else StageLog()
    i_star, i_src, sep = sky_match(stars["coord"], sources["coord"], radius=radius, epoch=epoch)
    out = QTable(stars[i_star], copy=True)
    if "source_id" in out.colnames:
        out.remove_column("source_id")
    out["source_id"] = np.asarray(sources["source_id"])[i_src]
    out["match_sep"] = sep.to(u.arcsec)
    out["match_sep"].info.description = "Separation of the LAMOST and (propagated) Gaia positions"
    counts = np.bincount(i_star, minlength=len(stars))
    out["n_match"] = counts[i_star]
    out["n_match"].info.description = "Number of Gaia sources within the match radius"
    out["star_row"] = np.asarray(stars["star_row"])[i_star] if "star_row" in stars.colnames \
        else i_star
    out["star_row"].info.description = "Row of the star in the input table"
    n_unmatched = int((counts == 0).sum())
    n_extra = int(np.clip(counts - 1, 0, None).sum())
    pm = sources["coord"].data.differentials.get("s")
    n_still = 0
    if epoch is not None and pm is not None:
        n_still = int((~np.isfinite(sources["coord"].pm_dec.value)).sum())
    note = (f"{n_extra} extra rows for stars with several Gaia sources inside {radius}; "
            + (f"Gaia positions propagated to {Time(epoch).jyear:.2f}"
               + (f" ({n_still} sources without proper motion not moved)" if n_still else "")
               if epoch is not None else "no epoch propagation"))
    stage_log.stage("sky match", n_in=len(stars), n_out=len(out),
                    dropped={f"no Gaia source within {radius}": n_unmatched}, added=n_extra,
                    note=note)
    return out


def unique_pairs(matched, *, stage_log=None):
    """Resolve positional-match ambiguities after the member join.

    A star may have several member sources inside the radius, and a source may be
    near several stars: pairs are taken in order of separation, each star and
    each source used once (the closest pair wins).

    Parameters
    ----------
    matched : `~astropy.table.QTable`
        Output of `join_members` on stars from `attach_source_ids` (columns
        ``star_row``, ``source_id``, ``match_sep``).
    stage_log : `~astro_ocl.accounting.StageLog`, optional

    Returns
    -------
    `~astropy.table.QTable`
    """
    stage_log = stage_log if stage_log is not None else StageLog()
    order = np.argsort(matched["match_sep"].to_value(u.arcsec), kind="stable")
    used_star, used_src, keep = set(), set(), []
    for i in order:
        s, g = int(matched["star_row"][i]), int(matched["source_id"][i])
        if s in used_star or g in used_src:
            continue
        used_star.add(s)
        used_src.add(g)
        keep.append(i)
    out = matched[np.sort(np.asarray(keep, int))]
    stage_log.stage("one match per star", n_in=len(matched), n_out=len(out),
                    dropped={"farther member source or star of an ambiguous match":
                             len(matched) - len(out)})
    return out


def join_members(stars, members, *, stage_log=None, name="join members", require=True):
    """Join spectroscopic stars with cluster members on Gaia DR2 ``source_id``.

    Parameters
    ----------
    stars : `~astropy.table.QTable`
        Canonical star table with ``source_id``.
    members : `~astropy.table.QTable`
        Selected members (`select_members`).
    stage_log : `~astro_ocl.accounting.StageLog`, optional
    name : str
        Stage name in the log.
    require : bool
        Raise `~astro_ocl.exceptions.NoUsableDataError` when no star is a member.

    Returns
    -------
    `~astropy.table.QTable`
        One row per matched star: the star's columns, plus ``Cluster``,
        ``proba``, ``member_coord`` (Gaia position and proper motion),
        ``member_parallax`` and ``member_gmag`` from the member table.
    """
    stage_log = stage_log if stage_log is not None else StageLog()
    if "source_id" not in stars.colnames:
        raise NoUsableDataError("stars have no Gaia source_id: cross-match them by "
                                "position first (attach_source_ids)")
    right = QTable()
    right["source_id"] = np.asarray(members["source_id"])
    right["Cluster"] = members["Cluster"]
    right["proba"] = members["proba"]
    right["member_coord"] = members["coord"]
    for src, dst in (("parallax", "member_parallax"), ("gmag", "member_gmag")):
        if src in members.colnames:
            right[dst] = members[src]
    # one member row per source_id (select_members guarantees it): the first
    right = unique(right, keys="source_id", keep="first")
    left = QTable(stars, copy=False)
    if "Cluster" in left.colnames:
        left = left.copy(copy_data=False)
        left.rename_column("Cluster", "input_cluster")
    left["_star_order"] = np.arange(len(left))
    if len(left) and len(right):
        out = join(left, right, keys="source_id", join_type="inner")
    else:
        out = left[:0].copy()
        for c in right.colnames:
            if c != "source_id":
                out[c] = right[c][:0]
    out.sort("_star_order")  # the stars' order, not join's key order
    out.remove_column("_star_order")
    hit = np.isin(np.asarray(stars["source_id"]), np.asarray(right["source_id"]))
    stage_log.stage(name, n_in=len(stars), n_out=len(out),
                    dropped={"not a selected cluster member": int((~hit).sum())})
    if require and len(out) == 0:
        raise NoUsableDataError("no spectroscopic star is a selected cluster member")
    return out


def without_gaia_sources(n_pos, *, any_id, stage_log):
    """Stars without a Gaia id and no Gaia sources to match them by position.

    None of the stars has an id: `~astro_ocl.exceptions.NoUsableDataError`; some
    have: the ``n_pos`` others are dropped and counted (stage ``stars without Gaia id``).
    """
    if not any_id:
        raise NoUsableDataError(
            "the stars have no Gaia source_id; pass gaia_sources= (Gaia sources with "
            "proper motions) to cross-match them by position")
    stage_log.stage("stars without Gaia id", n_in=n_pos, n_out=0,
                    dropped={"no Gaia id and no Gaia sources to match by position": n_pos})


def match_stars(stars, members, *, gaia_sources=None, radius=3.5 * u.arcsec, epoch=None,
                stage_log=None):
    """Method step 3 for every input path: spectroscopic stars -> cluster members.

    Stars with a Gaia DR2 ``source_id`` keep one observation per source
    (:func:`deduplicate_stars`) and are joined with the members on it. Stars
    without one (a file or table without Gaia ids, or rows missing it) are matched
    by position to every Gaia source within ``radius`` (:func:`attach_source_ids`,
    Gaia positions propagated to ``epoch``), joined with the members, and each
    spectrum and each source is used once (:func:`unique_pairs`): one spectrum is
    never two stars.

    Parameters
    ----------
    stars : `~astropy.table.QTable`
        Canonical star table (`~astro_ocl.sources.read_lamost`).
    members : `~astropy.table.QTable`
        Selected members (:func:`select_members`).
    gaia_sources : `~astropy.table.QTable`, optional
        Gaia sources (``source_id``, ``coord`` with proper motions and obstime) for
        the positional match; needed when some star has no ``source_id``.
    radius : `~astropy.units.Quantity`
        Positional match radius (3.5 arcsec; the LAMOST fibre is 3.3 arcsec).
    epoch : `~astropy.time.Time` or str, optional
        Epoch of the star positions; None: no propagation.
    stage_log : `~astro_ocl.accounting.StageLog`, optional

    Returns
    -------
    `~astropy.table.QTable`
        As :func:`join_members`.

    Raises
    ------
    NoUsableDataError
        No star is a member, or no star has a Gaia id and no ``gaia_sources`` were given.
    """
    stage_log = stage_log if stage_log is not None else StageLog()
    if "source_id" in stars.colnames:
        has_id = ~np.ma.getmaskarray(stars["source_id"])
    else:
        has_id = np.zeros(len(stars), bool)
    parts = []
    if has_id.any():
        by_id = stars[has_id] if not has_id.all() else stars
        if np.ma.isMaskedArray(by_id["source_id"]) or hasattr(by_id["source_id"], "mask"):
            by_id = QTable(by_id, copy=True)
            by_id["source_id"] = np.asarray(np.ma.getdata(by_id["source_id"]), np.int64)
        by_id = deduplicate_stars(by_id, stage_log=stage_log)
        parts.append(join_members(by_id, members, stage_log=stage_log, require=False))
    n_pos = int((~has_id).sum())
    if n_pos:
        by_pos = QTable(stars[~has_id], copy=True)
        by_pos["star_row"] = np.flatnonzero(~has_id)
        if "source_id" in by_pos.colnames:
            by_pos.remove_column("source_id")
        if gaia_sources is None:
            without_gaia_sources(n_pos, any_id=bool(has_id.any()), stage_log=stage_log)
        else:
            matched = attach_source_ids(by_pos, gaia_sources, radius=radius, epoch=epoch,
                                        stage_log=stage_log)
            joined = join_members(matched, members, stage_log=stage_log, require=False,
                                  name="join members" if not has_id.any()
                                  else "join members (by position)")
            parts.append(unique_pairs(joined, stage_log=stage_log))
    out = parts[0] if len(parts) == 1 else vstack(parts, metadata_conflicts="silent") \
        if parts else QTable()
    if len(out) == 0:
        raise NoUsableDataError("no spectroscopic star is a selected cluster member")
    return out
