"""Which Gaia release a ``source_id`` belongs to, and where Gaia DR2 -> DR3 pairs come from.

Gaia DR2 and DR3 number their sources differently for a few per cent of the
stars (sources split, merged or re-identified between the releases). A star
table with DR2 ids (LAMOST LRS, the embedded sample) can only be joined on
``source_id`` with a DR3 member table (Hunt & Reffert 2023) after its ids are
translated to DR3 (`astro_ocl.steps.gaia_ids`: which neighbour, counted drops).
The candidate pairs come from here (:func:`dr2_dr3_pairs`):

* offline, the DR2/DR3 pairs a table carries itself (the embedded LAMOST sample
  has ``dr2_source_id`` and ``dr3_source_id``: :func:`id_pairs`);
* online, the Gaia archive's ``gaiadr3.dr2_neighbourhood``
  (`astro_ocl.sources.archives.gaia.dr2_neighbours`), which lists for each DR2
  source every DR3 source near it with their ``angular_distance`` and
  ``magnitude_difference``.

Every table says which release its ids are from in ``meta["gaia_release"]``
(``"DR2"`` or ``"DR3"``; a table without it is taken as DR2, the release of the
LAMOST and Cantat-Gaudin tables).
"""
import numpy as np
from astropy.table import QTable

from ..exceptions import InputDataError, MissingColumnError
from .archives.gaia import dr2_neighbours, gaia_client

__all__ = ["GAIA_RELEASES", "gaia_release", "gaia_ids", "id_pairs", "dr2_dr3_pairs"]

#: The Gaia releases a ``source_id`` may come from.
GAIA_RELEASES = ("DR2", "DR3")


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


def gaia_ids(col):
    """A Gaia id column as int64 ids and a mask of the missing ones."""
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
    a, ma = gaia_ids(table[dr2])
    b, mb = gaia_ids(table[dr3])
    ok = ~(ma | mb)
    pairs = np.unique(np.column_stack((a[ok], b[ok])), axis=0) if ok.any() \
        else np.zeros((0, 2), np.int64)
    out = QTable({"dr2_source_id": pairs[:, 0], "dr3_source_id": pairs[:, 1]})
    out.meta["source"] = f"DR2/DR3 id pairs of {table.meta.get('source', 'the table')}"
    return out


def dr2_dr3_pairs(stars, *, online=False, client=None, client_options=None):
    """The DR2 -> DR3 candidates of a DR2 star table.

    Parameters
    ----------
    stars : `~astropy.table.QTable`
        Canonical star table with a DR2 ``source_id``.
    online : bool
        Query ``gaiadr3.dr2_neighbourhood`` when the stars carry no DR3 ids.
    client : `~astro_ocl.sources.archives.tap.TAPClient`, optional
        Gaia archive client of the online query.
    client_options : dict, optional
        Without ``client``: options of the online build (``gaia_url``,
        ``timeout``, ``retries``, ``cache``) for the Gaia archive client.

    Returns
    -------
    `~astropy.table.QTable`
        ``dr2_source_id, dr3_source_id`` (and ``angular_distance,
        magnitude_difference`` from the archive); ``meta["source"]`` says where
        they come from.

    Raises
    ------
    InputDataError
        Offline, and the stars carry no ``dr3_source_id``.
    """
    if "dr3_source_id" in stars.colnames and not np.ma.getmaskarray(
            stars["dr3_source_id"]).all():
        pairs = id_pairs(stars)
        pairs.meta["source"] = "the stars' own dr2/dr3_source_id pairs"
        return pairs
    if not online:
        raise InputDataError(
            "the members carry Gaia DR3 ids and the stars DR2 ids without a "
            "dr3_source_id column: give DR2/DR3 pairs or build online "
            "(gaiadr3.dr2_neighbourhood)", source=str(stars.meta.get("source", "<stars>")))
    if client is None:
        opts = dict(client_options or {})
        client = gaia_client(url=opts.get("gaia_url"),
                             **{k: opts[k] for k in ("timeout", "retries", "cache")
                                if opts.get(k) is not None})
    ids, missing = gaia_ids(stars["source_id"])
    return dr2_neighbours(ids[~missing], client=client)
