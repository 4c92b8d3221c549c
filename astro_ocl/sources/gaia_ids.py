"""Which Gaia release a ``source_id`` belongs to, and Gaia DR2 -> DR3 id translation.

Gaia DR2 and DR3 number their sources differently for a few per cent of the
stars (sources split, merged or re-identified between the releases). A star
table with DR2 ids (LAMOST LRS, the embedded sample) can only be joined on
``source_id`` with a DR3 member table (Hunt & Reffert 2023) after its ids are
translated to DR3:

* offline, through the DR2/DR3 pairs a table carries itself (the embedded
  LAMOST sample has ``dr2_source_id`` and ``dr3_source_id``: :func:`id_pairs`);
* online, through the Gaia archive's ``gaiadr3.dr2_neighbourhood``
  (`astro_ocl.sources.archives.gaia.dr2_neighbours`), which lists for each DR2
  source every DR3 source near it with their ``angular_distance`` and
  ``magnitude_difference``.

Every table says which release its ids are from in ``meta["gaia_release"]``
(``"DR2"`` or ``"DR3"``; a table without it is taken as DR2, the release of the
LAMOST and Cantat-Gaudin tables). :func:`translate_to_dr3` counts every star
it drops in the `~astro_ocl.accounting.StageLog`.

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

from ..accounting import StageLog
from ..exceptions import InputDataError, MissingColumnError, ParameterError
from ..logger import log

__all__ = ["GAIA_RELEASES", "gaia_release", "id_pairs", "choose_neighbours",
           "translate_to_dr3", "neighbour_choice", "apply_neighbour_choice",
           "translation_counts", "translation_note", "needs_translation",
           "align_gaia_releases", "MULTIPLE_CHOICES"]

#: The Gaia releases a ``source_id`` may come from.
GAIA_RELEASES = ("DR2", "DR3")
#: How a DR2 source with several DR3 neighbours is treated (module docstring).
MULTIPLE_CHOICES = ("consistent", "closest", "drop")


def gaia_release(table, default="DR2"):
    """The Gaia release of the ``source_id`` of ``table`` (``meta["gaia_release"]``).

    Parameters
    ----------
    table : `~astropy.table.Table`
    default : str
        Release assumed when the table does not say (DR2: LAMOST, Cantat-Gaudin).

    Returns
    -------
    str
        ``"DR2"`` or ``"DR3"``.
    """
    release = str(table.meta.get("gaia_release", default)).upper().replace("GAIA", "").strip()
    release = "DR3" if release == "EDR3" else release
    if release not in GAIA_RELEASES:
        raise InputDataError(f"unknown Gaia release {release!r} (one of {GAIA_RELEASES})",
                             source=str(table.meta.get("source", "<table>")))
    return release


def _ids(col):
    """int64 ids with a mask of the missing ones."""
    missing = np.ma.getmaskarray(col)
    return np.asarray(np.ma.getdata(col), dtype=np.int64), missing


def id_pairs(table, *, dr2="source_id", dr3="dr3_source_id"):
    """The DR2 -> DR3 pairs a table carries itself (e.g. the embedded LAMOST sample).

    Parameters
    ----------
    table : `~astropy.table.Table`
        With a DR2 id column and a DR3 id column.
    dr2, dr3 : str
        Their names (canonical star tables: ``source_id`` and ``dr3_source_id``).

    Returns
    -------
    `~astropy.table.QTable`
        ``dr2_source_id, dr3_source_id``, one row per distinct pair with both ids.

    Examples
    --------
    >>> from astro_ocl.sources import read_lamost
    >>> pairs = id_pairs(read_lamost())
    >>> len(pairs), int((pairs["dr2_source_id"] != pairs["dr3_source_id"]).sum())
    (691, 16)
    """
    for name in (dr2, dr3):
        if name not in table.colnames:
            raise MissingColumnError(f"no {name!r} column for Gaia DR2/DR3 id pairs",
                                     source=str(table.meta.get("source", "<table>")),
                                     column=name)
    a, ma = _ids(table[dr2])
    b, mb = _ids(table[dr3])
    ok = ~(ma | mb)
    pairs = np.unique(np.column_stack((a[ok], b[ok])), axis=0) if ok.any() \
        else np.zeros((0, 2), np.int64)
    out = QTable({"dr2_source_id": pairs[:, 0], "dr3_source_id": pairs[:, 1]})
    out.meta["source"] = f"DR2/DR3 id pairs of {table.meta.get('source', 'the table')}"
    return out


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
        DR2 -> DR3 candidates (:func:`id_pairs`, or
        `astro_ocl.sources.archives.gaia.dr2_neighbours`).
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
    ids, missing = _ids(stars["source_id"])
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
    stage_log.stage("Gaia DR2 -> DR3 ids", n_in=len(stars), n_out=len(out),
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


def align_gaia_releases(stars, members, *, pairs=None, online=False, multiple="consistent",
                        client=None, client_options=None, stage_log=None):
    """Stars whose ``source_id`` is of the members' Gaia release.

    Parameters
    ----------
    stars, members : `~astropy.table.QTable`
        Canonical star and member tables (``meta["gaia_release"]``, default DR2).
    pairs : `~astropy.table.Table`, optional
        DR2 -> DR3 candidates. Default: the stars' own ``dr3_source_id`` when they
        have one, else (``online=True``) the Gaia archive's ``dr2_neighbourhood``.
    online : bool
        Query ``gaiadr3.dr2_neighbourhood`` when no pairs are at hand.
    multiple : {"consistent", "closest", "drop"}
        Choice among several DR3 neighbours (module docstring).
    client : `~astro_ocl.sources.archives.tap.TAPClient`, optional
        Gaia archive client of the online query.
    client_options : dict, optional
        Without ``client``: options of the online build (``gaia_url``,
        ``timeout``, ``retries``, ``cache``) for the Gaia archive client.
    stage_log : `~astro_ocl.accounting.StageLog`, optional

    Returns
    -------
    `~astropy.table.QTable`
        ``stars`` unchanged when both are of one release, else
        :func:`translate_to_dr3` of them.

    Raises
    ------
    InputDataError
        DR3 stars with DR2 members (translate the members' side yourself), or DR2
        stars with DR3 members and no pairs (no ``dr3_source_id``, offline).
    """
    s_rel, m_rel = gaia_release(stars), gaia_release(members)
    if not needs_translation(s_rel, m_rel, source=members.meta.get("source", "<members>")):
        return stars
    if pairs is None and "dr3_source_id" in stars.colnames \
            and not np.ma.getmaskarray(stars["dr3_source_id"]).all():
        pairs = id_pairs(stars)
        pairs.meta["source"] = "the stars' own dr2/dr3_source_id pairs"
    if pairs is None:
        if not online:
            raise InputDataError(
                "the members carry Gaia DR3 ids and the stars DR2 ids without a "
                "dr3_source_id column: give DR2/DR3 pairs or build online "
                "(gaiadr3.dr2_neighbourhood)",
                source=str(stars.meta.get("source", "<stars>")))
        from .archives.gaia import dr2_neighbours, gaia_client
        if client is None:
            opts = dict(client_options or {})
            client = gaia_client(url=opts.get("gaia_url"),
                                 **{k: opts[k] for k in ("timeout", "retries", "cache")
                                    if opts.get(k) is not None})
        ids, missing = _ids(stars["source_id"])
        pairs = dr2_neighbours(ids[~missing], client=client)
    log.info("members are Gaia %s, stars %s: translating the stars' ids", m_rel, s_rel)
    return translate_to_dr3(stars, pairs, multiple=multiple, stage_log=stage_log)
