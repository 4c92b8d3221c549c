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

Every function records what it dropped in a `~astro_ocl.accounting.StageLog`.
"""
import warnings

import astropy.units as u
import numpy as np
from astropy.coordinates import SkyCoord
from astropy.table import QTable
from astropy.time import Time

from ..accounting import StageLog
from ..exceptions import DroppedRowsWarning, NoUsableDataError

__all__ = ["select_members", "deduplicate_stars", "sky_match", "attach_source_ids",
           "join_members", "unique_pairs"]


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
    order = np.lexsort((np.arange(len(sel)), -np.asarray(sel["proba"]),
                        np.asarray(sel["source_id"])))
    ids = np.asarray(sel["source_id"])[order]
    first = np.ones(len(ids), bool)
    first[1:] = ids[1:] != ids[:-1]
    out = sel[np.sort(order[first])]
    stage_log.stage("members", n_in=len(members), n_out=len(out),
                    dropped={f"probability < {threshold}": int((~keep).sum()),
                             "listed in another cluster with higher probability":
                                 int((~first).sum())})
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
    order = np.lexsort((np.arange(len(stars)), -quality, np.asarray(stars[key])))
    ids = np.asarray(stars[key])[order]
    first = np.ones(len(ids), bool)
    first[1:] = ids[1:] != ids[:-1]
    n_dup = int((~first).sum())
    out = stars[np.sort(order[first])] if n_dup else stars
    if n_dup:
        dup_ids = np.unique(ids[~first])
        warnings.warn(f"{n_dup} repeated observations of {dup_ids.size} stars with the same "
                      f"{key} (e.g. {dup_ids[0]}) in {stars.meta.get('source', 'the input')}: "
                      "kept the one with the highest S/N", DroppedRowsWarning)
    stage_log.stage("unique stars", n_in=len(stars), n_out=len(out),
                    dropped={f"repeated {key} (kept highest S/N)": n_dup})
    return out


def _propagate(coords, epoch):
    """Move ``coords`` (with proper motions and obstime) to ``epoch``."""
    if epoch is None or coords.obstime is None or "s" not in coords.data.differentials:
        return coords
    with warnings.catch_warnings():
        # Sources without a distance: ERFA assumes a very large one, which is
        # exactly right for proper-motion propagation; it says so with a warning.
        warnings.filterwarnings("ignore", message=".*distance overridden.*")
        return coords.apply_space_motion(new_obstime=Time(epoch))


def sky_match(coords, sources, *, radius=3.5 * u.arcsec, epoch=None):
    """All pairs of (star, source) closer than ``radius``.

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

    Returns
    -------
    idx_star, idx_source : ndarray of int
        Indices of each pair (every source inside the radius is kept).
    separation : `~astropy.coordinates.Angle`
    """
    radius = u.Quantity(radius, u.arcsec)
    if radius <= 0:
        raise ValueError(f"match radius must be positive, got {radius}")
    moved = _propagate(sources, epoch)
    moved = SkyCoord(ra=moved.ra, dec=moved.dec, frame="icrs")
    plain = SkyCoord(ra=coords.ra, dec=coords.dec, frame="icrs")
    idx_src, idx_star, sep, _ = plain.search_around_sky(moved, radius) if len(plain) and len(
        moved) else (np.array([], int), np.array([], int), [] * u.deg, None)
    order = np.lexsort((sep.to_value(u.arcsec) if len(sep) else np.array([]), idx_star))
    return np.asarray(idx_star)[order], np.asarray(idx_src)[order], sep[order]


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
    out["star_row"] = i_star
    out["star_row"].info.description = "Row of the star in the input table"
    n_unmatched = int((counts == 0).sum())
    n_extra = int(np.clip(counts - 1, 0, None).sum())
    stage_log.stage("sky match", n_in=len(stars), n_out=len(out),
                    dropped={f"no Gaia source within {radius}": n_unmatched}, added=n_extra,
                    note=f"{n_extra} extra rows for stars with several Gaia sources "
                         f"inside {radius}")
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


def join_members(stars, members, *, stage_log=None):
    """Join spectroscopic stars with cluster members on Gaia DR2 ``source_id``.

    Parameters
    ----------
    stars : `~astropy.table.QTable`
        Canonical star table with ``source_id``.
    members : `~astropy.table.QTable`
        Selected members (`select_members`).
    stage_log : `~astro_ocl.accounting.StageLog`, optional

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
    mids = np.asarray(members["source_id"])
    order = np.argsort(mids, kind="stable")
    sids = np.asarray(stars["source_id"])
    pos = np.searchsorted(mids[order], sids)
    pos = np.clip(pos, 0, max(len(mids) - 1, 0))
    hit = (mids[order][pos] == sids) if len(mids) else np.zeros(len(sids), bool)
    mrow = order[pos[hit]]
    out = QTable(stars[hit], copy=True)
    if "Cluster" in out.colnames:
        out.rename_column("Cluster", "input_cluster")
    out["Cluster"] = members["Cluster"][mrow]
    out["proba"] = members["proba"][mrow]
    out["member_coord"] = members["coord"][mrow]
    for src, dst in (("parallax", "member_parallax"), ("gmag", "member_gmag")):
        if src in members.colnames:
            out[dst] = members[src][mrow]
    stage_log.stage("join members", n_in=len(stars), n_out=len(out),
                    dropped={"not a selected cluster member": int((~hit).sum())})
    if len(out) == 0:
        raise NoUsableDataError("no spectroscopic star is a selected cluster member")
    return out
