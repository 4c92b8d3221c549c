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
from .skymatch import MATCH_CHUNK, MIN_PARALLEL_SOURCES, match_jobs, sky_match

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
