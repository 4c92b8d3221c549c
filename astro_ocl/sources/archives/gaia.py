"""The ESA Gaia archive through TAP (``conf.gaia_tap_url``).

Sources by ``source_id`` (an upload join, chunked), cone searches, and Gaia DR3
radial velocities of Gaia DR2 sources through ``gaiadr3.dr2_neighbourhood``
(for the paper's Fig. 3, ΔRV = RV_GaiaDR3 − RV_LAMOST). Table names come from
``conf`` (``gaia_dr2_table``, ``gaia_dr3_table``, ``gaia_dr2_neighbourhood_table``),
so the same code runs against the local DaCHS server of the tests.
"""
import astropy.units as u
import numpy as np
from astropy.coordinates import SkyCoord
from astropy.table import Table, vstack
from astropy.time import Time

from ...config import conf
from ...logger import log
from ...utils import progress
from .adql import quote_identifier, quote_literal, quote_table
from .tap import TAPClient

__all__ = ["gaia_client", "sources_by_id", "cone_search", "dr3_radial_velocities",
           "GAIA_COLUMNS", "sources_with_motion", "dr2_neighbours"]

#: Columns fetched by default (Gaia DR2/DR3 names).
GAIA_COLUMNS = ("source_id", "ra", "dec", "parallax", "pmra", "pmdec", "phot_g_mean_mag")


def gaia_client(**options):
    """A `~astro_ocl.sources.archives.tap.TAPClient` on ``conf.gaia_tap_url``.

    Parameters
    ----------
    **options
        Passed to `~astro_ocl.sources.archives.tap.TAPClient` (``timeout``, ``retries``,
        ``cache``, ...); ``url`` overrides the configured URL.
    """
    url = options.pop("url", None) or conf.gaia_tap_url
    return TAPClient(url, name=options.pop("name", "Gaia archive"), **options)


def _columns(alias, columns):
    return ", ".join(f"{alias}.{quote_identifier(c)}" for c in columns)


def sources_by_id(source_ids, *, table=None, columns=GAIA_COLUMNS, client=None,
                  chunk_size=50_000, show_progress=None):
    """Gaia sources for a list of ``source_id`` (TAP upload join).

    Parameters
    ----------
    source_ids : array-like of int
        Gaia source identifiers (of the release of ``table``); repeats are fine.
    table : str, optional
        Default ``conf.gaia_dr2_table``.
    columns : sequence of str
        Columns of ``table`` to return (``source_id`` first is customary).
    client : `~astro_ocl.sources.archives.tap.TAPClient`, optional
        Default :func:`gaia_client`.
    chunk_size : int
        Identifiers per upload (large lists are sent in several asynchronous jobs).
    show_progress : bool, optional

    Returns
    -------
    `~astropy.table.QTable`
        One row per identifier found, in the order of the unique identifiers;
        identifiers not in the table are absent (compare lengths).
    """
    client = client or gaia_client()
    table = quote_table(table or conf.gaia_dr2_table)
    ids = np.unique(np.asarray(source_ids, dtype=np.int64))
    query = (f"SELECT {_columns('g', columns)} FROM TAP_UPLOAD.ids AS u "
             f"JOIN {table} AS g ON g.source_id = u.source_id ORDER BY g.source_id")
    parts = []
    chunks = range(0, max(len(ids), 1), chunk_size)
    for start in progress(chunks, desc="Gaia upload joins", enabled=show_progress):
        chunk = Table({"source_id": ids[start:start + chunk_size]})
        # each identifier gives at most one row: maxrec above the chunk size means a
        # result at the limit can only be a server-side cap
        parts.append(client.query(query, uploads={"ids": chunk}, maxrec=len(chunk) + 1,
                                  mode="async" if len(chunk) > 2000 else "sync"))
    out = parts[0] if len(parts) == 1 else vstack(parts, metadata_conflicts="silent")
    return out


def cone_search(coord, radius, *, table=None, columns=GAIA_COLUMNS, client=None,
                maxrec=None, capped=False):
    """Gaia sources within ``radius`` of ``coord``, nearest first.

    Parameters
    ----------
    coord : `~astropy.coordinates.SkyCoord`
        Centre (converted to ICRS).
    radius : `~astropy.units.Quantity`
        Angular radius.
    table : str, optional
        Default ``conf.gaia_dr2_table``.
    columns : sequence of str
    client : `~astro_ocl.sources.archives.tap.TAPClient`, optional
    maxrec : int, optional
        Row limit (default ``conf.row_limit``).
    capped : bool
        Accept a result cut at ``maxrec`` (with a warning).

    Returns
    -------
    `~astropy.table.QTable`
        With ``dist`` (deg) from the centre and ``coord``.
    """
    client = client or gaia_client()
    c = coord.icrs
    ra, dec = quote_literal(float(c.ra.deg)), quote_literal(float(c.dec.deg))
    r = quote_literal(float(u.Quantity(radius, u.deg).value))
    query = (f"SELECT {_columns('g', columns)}, "
             f"DISTANCE(POINT('ICRS', g.ra, g.dec), POINT('ICRS', {ra}, {dec})) AS dist "
             f"FROM {quote_table(table or conf.gaia_dr2_table)} AS g "
             f"WHERE 1 = CONTAINS(POINT('ICRS', g.ra, g.dec), CIRCLE('ICRS', {ra}, {dec}, {r})) "
             "ORDER BY dist")
    out = client.query(query, maxrec=maxrec, capped=capped)
    if "dist" in out.colnames and getattr(out["dist"], "unit", None) is None:
        out["dist"] = np.asarray(out["dist"], float) * u.deg
    return out


def sources_with_motion(table):
    """Gaia sources as `~astro_ocl.steps.crossmatch.attach_source_ids` wants them.

    Parameters
    ----------
    table : `~astropy.table.QTable`
        With ``source_id, ra, dec, pmra, pmdec`` (Gaia DR2, epoch J2015.5).

    Returns
    -------
    `~astropy.table.QTable`
        ``source_id`` and ``coord`` with proper motions and obstime J2015.5.
    """
    from astropy.table import QTable

    def val(name, unit):
        col = table[name]
        v = col.to_value(unit) if isinstance(col, u.Quantity) else col
        return np.ma.filled(np.ma.asarray(v, dtype=float), np.nan)

    ra, dec = val("ra", u.deg), val("dec", u.deg)
    has_pos = np.isfinite(ra) & np.isfinite(dec)
    if not has_pos.all():  # no position, nothing to match: never a fake (0, 0)
        log.info("%d Gaia sources without a position left out", int((~has_pos).sum()))
    out = QTable()
    out["source_id"] = np.asarray(table["source_id"], dtype=np.int64)[has_pos]
    # a missing proper motion stays NaN: the cross-match does not move that source
    out["coord"] = SkyCoord(ra=ra[has_pos] * u.deg, dec=dec[has_pos] * u.deg,
                            pm_ra_cosdec=val("pmra", u.mas / u.yr)[has_pos] * u.mas / u.yr,
                            pm_dec=val("pmdec", u.mas / u.yr)[has_pos] * u.mas / u.yr,
                            obstime=Time(2015.5, format="jyear"), frame="icrs")
    return out


def dr3_radial_velocities(dr2_source_ids, *, client=None, show_progress=None):
    """Gaia DR3 radial velocities of Gaia DR2 sources.

    Through ``conf.gaia_dr2_neighbourhood_table`` (DR3 <-> DR2) joined to
    ``conf.gaia_dr3_table``. A DR2 source may have several DR3 neighbours:
    all are returned, with ``angular_distance`` and ``magnitude_difference``
    to choose from (the closest is usually right).

    Parameters
    ----------
    dr2_source_ids : array-like of int
    client : `~astro_ocl.sources.archives.tap.TAPClient`, optional
    show_progress : bool, optional

    Returns
    -------
    `~astropy.table.QTable`
        ``dr2_source_id, dr3_source_id, angular_distance, magnitude_difference,
        radial_velocity, radial_velocity_error``.
    """
    client = client or gaia_client()
    ids = np.unique(np.asarray(dr2_source_ids, dtype=np.int64))
    nb = quote_table(conf.gaia_dr2_neighbourhood_table)
    dr3 = quote_table(conf.gaia_dr3_table)
    query = ("SELECT n.dr2_source_id, n.dr3_source_id, n.angular_distance, "
             "n.magnitude_difference, g.radial_velocity, g.radial_velocity_error "
             f"FROM TAP_UPLOAD.ids AS u JOIN {nb} AS n ON n.dr2_source_id = u.source_id "
             f"JOIN {dr3} AS g ON g.source_id = n.dr3_source_id "
             "ORDER BY n.dr2_source_id, n.angular_distance")
    parts = []
    for start in progress(range(0, max(len(ids), 1), 50_000), desc="Gaia DR3 RVs",
                          enabled=show_progress):
        chunk = Table({"source_id": ids[start:start + 50_000]})
        # up to a few neighbours per source: 10 per id is far above any real case
        parts.append(client.query(query, uploads={"ids": chunk}, maxrec=10 * len(chunk) + 1))
    return parts[0] if len(parts) == 1 else vstack(parts, metadata_conflicts="silent")


def dr2_neighbours(dr2_source_ids, *, client=None, chunk_size=50_000, show_progress=None):
    """Every Gaia DR3 neighbour of Gaia DR2 sources (``gaiadr3.dr2_neighbourhood``).

    The table (``conf.gaia_dr2_neighbourhood_table``) lists, for each DR2 source,
    the DR3 sources near it, with ``angular_distance`` (mas, after propagating
    the DR2 position to the DR3 epoch) and ``magnitude_difference`` (G mag, DR3
    minus DR2). Which neighbour is the same star is chosen by
    `astro_ocl.steps.gaia_ids.choose_neighbours`.

    Parameters
    ----------
    dr2_source_ids : array-like of int
        Gaia DR2 identifiers; repeats are fine.
    client : `~astro_ocl.sources.archives.tap.TAPClient`, optional
        Default :func:`gaia_client`.
    chunk_size : int
        Identifiers per upload.
    show_progress : bool, optional

    Returns
    -------
    `~astropy.table.QTable`
        ``dr2_source_id, dr3_source_id, angular_distance, magnitude_difference``
        ordered by DR2 id, then distance; DR2 ids without a neighbour are absent.
        ``meta["source"]`` names the table.
    """
    client = client or gaia_client()
    ids = np.unique(np.asarray(dr2_source_ids, dtype=np.int64))
    nb = quote_table(conf.gaia_dr2_neighbourhood_table)
    query = ("SELECT n.dr2_source_id, n.dr3_source_id, n.angular_distance, "
             f"n.magnitude_difference FROM TAP_UPLOAD.ids AS u JOIN {nb} AS n "
             "ON n.dr2_source_id = u.source_id ORDER BY n.dr2_source_id, n.angular_distance")
    parts = []
    for start in progress(range(0, max(len(ids), 1), chunk_size), desc="Gaia DR2 -> DR3",
                          enabled=show_progress):
        chunk = Table({"source_id": ids[start:start + chunk_size]})
        # a few neighbours per source: 10 per id is far above any real case
        parts.append(client.query(query, uploads={"ids": chunk}, maxrec=10 * len(chunk) + 1))
    out = parts[0] if len(parts) == 1 else vstack(parts, metadata_conflicts="silent")
    if "angular_distance" in out.colnames and getattr(out["angular_distance"], "unit",
                                                      None) is None:
        out["angular_distance"] = np.asarray(out["angular_distance"], float) * u.mas
    out.meta["source"] = f"{client.url} {conf.gaia_dr2_neighbourhood_table}"
    log.info("%d DR3 neighbours of %d Gaia DR2 sources", len(out), len(ids))
    return out
