"""Gaia DR2 -> DR3 id translation: which DR3 neighbour a DR2 star takes (a method step).

The candidate pairs come from `astro_ocl.sources.gaia_ids.dr2_dr3_pairs` (the
stars' own pairs, or the Gaia archive's ``dr2_neighbourhood``). :func:`translate_to_dr3`
replaces the stars' DR2 ids by their chosen DR3 counterparts and counts every
star it drops in the `~astro_ocl.accounting.StageLog`.

**The best neighbour.** A DR2 source with one DR3 neighbour takes it. With several (``multiple``):

``"consistent"`` (default)
    The nearest neighbour (smallest ``angular_distance``) is taken when it is
    also the one with the smallest ``|magnitude_difference|``; otherwise the
    star is ambiguous and dropped (counted). This is the choice the Gaia
    documentation of ``dr2_neighbourhood`` suggests: position first, the
    magnitude as a check.
``"closest"``
    Always the nearest neighbour.
``"drop"``
    Every DR2 source with several neighbours is dropped (counted).

Pairs without ``angular_distance`` (a table's own pairs) cannot choose: a DR2
id listed with several DR3 ids is dropped as ambiguous whatever ``multiple`` is.
"""
import numpy as np
from astropy.table import QTable

from ..accounting import StageLog, Stages
from ..exceptions import InputDataError, MissingColumnError, ParameterError
from ..sources.gaia_ids import gaia_ids

__all__ = ["MULTIPLE_CHOICES", "choose_neighbours", "translate_to_dr3", "neighbour_choice",
           "apply_neighbour_choice", "translation_counts", "translation_note",
           "needs_translation"]

#: How a DR2 source with several DR3 neighbours is treated (module docstring).
MULTIPLE_CHOICES = ("consistent", "closest", "drop")


def choose_neighbours(pairs, *, multiple="consistent"):
    """One DR3 id per DR2 id, or none when the choice is ambiguous.

    Parameters
    ----------
    pairs : `~astropy.table.Table`
        ``dr2_source_id, dr3_source_id`` and optionally ``angular_distance``
        and ``magnitude_difference`` (the columns of ``gaiadr3.dr2_neighbourhood``).
    multiple : {"consistent", "closest", "drop"}
        How a DR2 source with several DR3 neighbours is treated (module docstring).

    Returns
    -------
    chosen : dict
        ``{dr2 id: dr3 id}`` of the DR2 sources with one usable counterpart.
    ambiguous : set
        DR2 ids with several DR3 neighbours and no choice.
    n_chosen_among_several : int
        DR2 ids with several neighbours for which one was chosen.
    """
    if multiple not in MULTIPLE_CHOICES:
        raise ParameterError("multiple", multiple, f"one of {MULTIPLE_CHOICES}")
    dr2 = np.asarray(pairs["dr2_source_id"], np.int64)
    dr3 = np.asarray(pairs["dr3_source_id"], np.int64)
    has_dist = "angular_distance" in pairs.colnames
    dist = np.ma.filled(np.ma.asarray(getattr(pairs["angular_distance"], "value",
                                              pairs["angular_distance"]), float), np.inf) \
        if has_dist else np.zeros(len(dr2))
    if "magnitude_difference" in pairs.colnames:
        dmag = np.abs(np.ma.filled(np.ma.asarray(getattr(
            pairs["magnitude_difference"], "value", pairs["magnitude_difference"]), float),
            np.nan))
    else:
        dmag = np.full(len(dr2), np.nan)
    order = np.lexsort((np.nan_to_num(dmag, nan=np.inf), dist, dr2))
    chosen, ambiguous, n_several = {}, set(), 0
    start = 0
    while start < len(order):
        stop = start
        key = dr2[order[start]]
        while stop < len(order) and dr2[order[stop]] == key:
            stop += 1
        rows = order[start:stop]
        start = stop
        if np.unique(dr3[rows]).size == 1:
            chosen[int(key)] = int(dr3[rows[0]])
            continue
        if not has_dist or multiple == "drop":
            ambiguous.add(int(key))
            continue
        if multiple == "consistent":
            mags = dmag[rows]
            if np.isfinite(mags).all() and np.argmin(mags) != 0:
                ambiguous.add(int(key))  # the nearest is not the best in magnitude
                continue
        chosen[int(key)] = int(dr3[rows[0]])
        n_several += 1
    return chosen, ambiguous, n_several


def translate_to_dr3(stars, pairs, *, multiple="consistent", stage_log=None):
    """Replace the Gaia DR2 ``source_id`` of a star table with DR3 ids.

    Parameters
    ----------
    stars : `~astropy.table.QTable`
        Canonical star table with a DR2 ``source_id``.
    pairs : `~astropy.table.Table`
        DR2 -> DR3 candidates (`astro_ocl.sources.gaia_ids.dr2_dr3_pairs`).
    multiple : {"consistent", "closest", "drop"}
        Choice among several DR3 neighbours (module docstring).
    stage_log : `~astro_ocl.accounting.StageLog`, optional

    Returns
    -------
    `~astropy.table.QTable`
        The stars with a DR3 counterpart: ``source_id`` (DR3), ``dr3_source_id``
        (the same) and ``dr2_source_id`` (the DR2 id they came with);
        ``meta["gaia_release"] = "DR3"`` and ``meta["gaia_id_translation"]``.
        Dropped and counted: stars without a DR2 id, without a DR3 counterpart,
        and with several counterparts and no choice.
    """
    if "source_id" not in stars.colnames:
        raise MissingColumnError("the stars have no Gaia source_id to translate",
                                 source=str(stars.meta.get("source", "<table>")),
                                 column="source_id")
    return apply_neighbour_choice(stars, neighbour_choice(pairs, multiple=multiple),
                                  stage_log=stage_log)


def neighbour_choice(pairs, *, multiple="consistent"):
    """The DR2 -> DR3 choice of :func:`choose_neighbours` as sorted arrays.

    What :func:`apply_neighbour_choice` needs, small enough to send once to every
    worker of the survey-scale engine, which translates partition by partition.

    Returns
    -------
    dict
        ``dr2`` (sorted) and ``dr3`` (int64 arrays: the chosen counterparts),
        ``ambiguous`` (sorted DR2 ids without a choice), ``n_several``,
        ``multiple`` and ``how`` (where the pairs came from).
    """
    chosen, ambiguous, n_several = choose_neighbours(pairs, multiple=multiple)
    keys = np.fromiter(chosen.keys(), np.int64, len(chosen))
    values = np.fromiter(chosen.values(), np.int64, len(chosen))
    order = np.argsort(keys)
    return dict(dr2=keys[order], dr3=values[order],
                ambiguous=np.sort(np.fromiter(ambiguous, np.int64, len(ambiguous))),
                n_several=n_several, multiple=multiple,
                how=pairs.meta.get("source", "given DR2/DR3 pairs"))


def apply_neighbour_choice(stars, choice, *, stage_log=None):
    """:func:`translate_to_dr3` with the choice made (:func:`neighbour_choice`)."""
    stage_log = stage_log if stage_log is not None else StageLog()
    ids, missing = gaia_ids(stars["source_id"])
    keys = choice["dr2"]
    at = np.clip(np.searchsorted(keys, ids), 0, max(len(keys) - 1, 0))
    found = (keys[at] == ids) if len(keys) else np.zeros(len(ids), bool)
    dr3 = np.where(found, choice["dr3"][at] if len(keys) else -1, -1).astype(np.int64)
    amb = np.isin(ids, choice["ambiguous"]) & ~missing
    none = (dr3 < 0) & ~amb & ~missing
    keep = (dr3 >= 0) & ~missing
    out = QTable(stars[keep], copy=True)
    for name in ("source_id", "dr3_source_id", "dr2_source_id"):
        if name in out.colnames:
            out.remove_column(name)
    out["source_id"] = dr3[keep]
    out["source_id"].info.description = "Gaia DR3 source_id"
    out["dr2_source_id"] = ids[keep]
    out["dr2_source_id"].info.description = "Gaia DR2 source_id (as the input gave it)"
    out["dr3_source_id"] = dr3[keep]
    out["dr3_source_id"].info.description = "Gaia DR3 source_id"
    text = translation_note(choice, **translation_counts(out))
    stage_log.stage(Stages.GAIA_IDS, n_in=len(stars), n_out=len(out),
                    dropped={"no Gaia DR2 id": int(missing.sum()),
                             "no Gaia DR3 counterpart": int(none.sum()),
                             "several Gaia DR3 counterparts (ambiguous)": int(amb.sum())},
                    note=text)
    out.meta["gaia_release"] = "DR3"
    out.meta["gaia_id_translation"] = text
    return out


def translation_counts(translated):
    """``n_changed`` (ids that differ between the releases) and ``shared`` (stars sharing a
    DR3 source with another) of a table :func:`apply_neighbour_choice` returned."""
    dr3 = np.asarray(translated["source_id"], np.int64)
    return dict(n_changed=int((np.asarray(translated["dr2_source_id"]) != dr3).sum()),
                shared=len(dr3) - int(np.unique(dr3).size))


def translation_note(choice, *, n_changed, shared):
    """What the provenance says of a translation (:func:`apply_neighbour_choice`)."""
    return (f"Gaia DR2 -> DR3 through {choice['how']} (several neighbours: "
            f"{choice['multiple']!r}); {n_changed} ids changed, {choice['n_several']} chosen "
            "among several neighbours"
            + (f", {shared} stars share a DR3 source with another" if shared else ""))


def needs_translation(stars_release, members_release, *, source):
    """Whether DR2 stars must be translated to DR3 members (False: one release).

    Raises
    ------
    InputDataError
        DR3 stars with DR2 members (``source`` names the input in the message).
    """
    if stars_release == members_release:
        return False
    if stars_release == "DR3":
        raise InputDataError("the stars carry Gaia DR3 ids and the members DR2 ids: use a "
                             "DR3 membership (e.g. Hunt & Reffert 2023)", source=str(source))
    return True
