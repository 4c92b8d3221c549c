"""VizieR through TAP (``conf.vizier_tap_url``).

Cantat-Gaudin et al. (2020) members and cluster parameters, Hunt & Reffert (2023)
members (Gaia DR3 ids), LAMOST stellar
parameters of member stars (upload join, by Gaia ``source_id`` where the table
has it, else by position), and any VizieR table (the literature catalogues).
Table names come from ``conf`` and are quoted as ADQL delimited identifiers
(``"J/A+A/640/A1/nodup"``); ``astroquery.vizier`` is only needed for catalogue
discovery (:func:`find_catalogs`).
"""
import tempfile
from pathlib import Path

import astropy.units as u
import numpy as np
from astropy.table import Table

from ... import schema
from ...config import conf
from ...exceptions import MissingColumnError, ServiceError
from ...logger import log
from ...utils import require
from ..clusters import CG2020_VIZIER_COLUMNS, read_cg2020_clusters, read_cluster_catalogue
from ..members import read_cg_members, read_hr23_members
from .adql import in_list, quote_identifier, quote_literal, quote_table
from .tap import TAPClient

__all__ = ["vizier_client", "cg2020_clusters", "cg2020_members", "hr23_members",
           "table_columns",
           "lamost_for_members", "query_table", "find_catalogs", "plain_table"]

#: Columns of the CG2020 member table used in the WHERE clause.
MEMBER_CLUSTER_COLUMN = "Cluster"
MEMBER_PROBA_COLUMN = "proba"
#: Columns of the Hunt & Reffert (2023) member table used in the WHERE clause.
HR23_MEMBER_CLUSTER_COLUMN = "Name"
HR23_MEMBER_PROBA_COLUMN = "Prob"


def vizier_client(**options):
    """A `~astro_ocl.sources.archives.tap.TAPClient` on ``conf.vizier_tap_url``.

    Parameters
    ----------
    **options
        Passed to `~astro_ocl.sources.archives.tap.TAPClient`; ``url`` overrides the URL.
    """
    url = options.pop("url", None) or conf.vizier_tap_url
    return TAPClient(url, name=options.pop("name", "VizieR"), **options)


def plain_table(qtable):
    """A `~astropy.table.Table` of a query result without its ``coord`` column.

    The readers of :mod:`astro_ocl.sources.files` take raw tables: they find
    columns by their known spellings and convert units themselves.
    """
    t = Table(qtable, copy=False)
    if "coord" in t.colnames:
        t.remove_column("coord")
    return t


def query_table(table, *, columns=None, where=None, client=None, maxrec=None, capped=False):
    """All rows (or ``where``) of one VizieR table.

    Parameters
    ----------
    table : str
        VizieR table name, e.g. ``"J/MNRAS/504/356/table12"``.
    columns : list of str, optional
        Column names (quoted here); default all.
    where : str, optional
        An ADQL condition built with :mod:`astro_ocl.sources.archives.adql`.
    client : `~astro_ocl.sources.archives.tap.TAPClient`, optional
    maxrec : int, optional
    capped : bool

    Returns
    -------
    `~astropy.table.QTable`
    """
    client = client or vizier_client()
    cols = ", ".join(quote_identifier(c) for c in columns) if columns else "*"
    query = f"SELECT {cols} FROM {quote_table(table)}"
    if where:
        query += f" WHERE {where}"
    return client.query(query, maxrec=maxrec, capped=capped)


def _fmt(v):
    if v is np.ma.masked or v is None:
        return ""
    if isinstance(v, (float, np.floating)):
        return "" if not np.isfinite(v) else repr(float(v))
    if isinstance(v, (int, np.integer)):
        return str(int(v))
    return str(v).strip()


def cg2020_clusters(*, table=None, client=None):
    """Cantat-Gaudin et al. (2020) table1 as `~astro_ocl.sources.read_cg2020_clusters` gives it.

    The whole table is fetched (2017 clusters; cached) so that any spelling of
    a cluster name resolves as offline.

    Parameters
    ----------
    table : str, optional
        Default ``conf.cg2020_clusters_table``.
    client : `~astro_ocl.sources.archives.tap.TAPClient`, optional

    Returns
    -------
    `~astropy.table.QTable`
    """
    name = table or conf.cg2020_clusters_table
    client = client or vizier_client()
    result = client.query(f"SELECT * FROM {quote_table(name)} ORDER BY Cluster")
    raw = plain_table(result)
    lower = {c.lower().rstrip("*"): c for c in raw.colnames}
    labels = ["Cluster", "RA_ICRS", "DE_ICRS"] + [v for _, v, _ in CG2020_VIZIER_COLUMNS]
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "cg2020_table1.tsv"
        cols = []
        for label in labels:
            src = lower.get(label.lower().rstrip("*"))
            if src is None:
                raise MissingColumnError(f"column {label!r} not in {name} "
                                         f"(columns: {raw.colnames})", source=name,
                                         column=label)
            cols.append(raw[src])
        with open(path, "w", encoding="utf-8") as f:
            f.write("|".join(labels) + "\n")
            for row in zip(*[c.tolist() if not hasattr(c, "mask") else
                             [None if m else v for v, m in zip(np.ma.getdata(c).tolist(),
                                                               np.ma.getmaskarray(c))]
                             for c in cols]):
                f.write("|".join(_fmt(v) for v in row) + "\n")
        out = read_cg2020_clusters(path)
    out.meta["source"] = f"{client.url if client else conf.vizier_tap_url} {name}"
    out.meta["provenance"] = result.meta.get("provenance", {})
    return out


def cg2020_members(*, clusters=None, threshold=0.7, resolver=None, table=None, client=None):
    """Cantat-Gaudin members with probability >= ``threshold``.

    Parameters
    ----------
    clusters : list of str, optional
        CG2020 spellings (resolve user input first); default all clusters.
    threshold : float
        Minimum membership probability (0.7, as Fu et al. 2022).
    resolver : `~astro_ocl.sources.names.NameResolver`, optional
    table : str, optional
        Default ``conf.cg2020_members_table``.
    client : `~astro_ocl.sources.archives.tap.TAPClient`, optional

    Returns
    -------
    `~astropy.table.QTable`
        As `~astro_ocl.sources.read_cg_members` returns.
    """
    name = table or conf.cg2020_members_table
    threshold = float(threshold)
    where = f"{quote_identifier(MEMBER_PROBA_COLUMN)} >= {quote_literal(threshold)}"
    if clusters:
        where += f" AND {in_list(MEMBER_CLUSTER_COLUMN, clusters)}"
    result = query_table(name, where=where, client=client)
    out = read_cg_members(table=plain_table(result), path=name, resolver=resolver)
    out.meta["source"] = f"{client.url if client else conf.vizier_tap_url} {name}"
    out.meta["provenance"] = result.meta.get("provenance", {})
    return out


def hr23_members(*, clusters=None, threshold=0.7, resolver=None, table=None, client=None,
                 catalogue=None):
    """Hunt & Reffert (2023) members with probability >= ``threshold`` (Gaia DR3 ids).

    The same query as :func:`cg2020_members` on ``conf.hr23_members_table``
    (``J/A+A/673/A114/members``): the clusters are selected by HR23's own
    spelling of their names (``"NGC 2682"``), looked up in the embedded HR23
    cluster table.

    Parameters
    ----------
    clusters : list of str, optional
        Canonical names (`~astro_ocl.sources.clusters.read_hr23_clusters`
        ``Cluster``); default every cluster (~1.3 million rows: give clusters).
    threshold : float
        Minimum membership probability (column ``Prob``).
    resolver : `~astro_ocl.sources.names.NameResolver`, optional
        Default: the HR23 cluster names and aliases.
    table : str, optional
        Default ``conf.hr23_members_table``.
    client : `~astro_ocl.sources.archives.tap.TAPClient`, optional
    catalogue : `~astropy.table.QTable`, optional
        The HR23 cluster table (default the embedded one).

    Returns
    -------
    `~astropy.table.QTable`
        As `~astro_ocl.sources.members.read_hr23_members` returns
        (``meta["gaia_release"] = "DR3"``).
    """
    name = table or conf.hr23_members_table
    threshold = float(threshold)
    where = f"{quote_identifier(HR23_MEMBER_PROBA_COLUMN)} >= {quote_literal(threshold)}"
    if clusters:
        cat = catalogue if catalogue is not None else read_cluster_catalogue("hr23")
        own = dict(zip((str(c) for c in cat["Cluster"]), (str(n) for n in cat["Name"])))
        where += " AND " + in_list(HR23_MEMBER_CLUSTER_COLUMN,
                                   [own.get(str(c), str(c)) for c in clusters])
    result = query_table(name, where=where, client=client)
    out = read_hr23_members(table=plain_table(result), path=name, resolver=resolver)
    out.meta["source"] = f"{client.url if client else conf.vizier_tap_url} {name}"
    out.meta["provenance"] = result.meta.get("provenance", {})
    return out


def table_columns(table, *, client=None):
    """Column names of a table, from the service's TAP_SCHEMA (cached).

    Parameters
    ----------
    table : str
    client : `~astro_ocl.sources.archives.tap.TAPClient`, optional

    Returns
    -------
    list of str
    """
    client = client or vizier_client()
    res = client.query("SELECT column_name FROM TAP_SCHEMA.columns WHERE table_name = "
                       + quote_literal(table), maxrec=100_000)
    names = [str(c).strip().strip('"') for c in res["column_name"]]
    if not names:
        raise ServiceError(f"table {table!r} is unknown to the service", url=client.url)
    return names


def _find(names, column):
    return schema.STARS.find(Table(names=names), column)


def lamost_for_members(members, *, table=None, client=None, by="auto",
                       radius=3.5 * u.arcsec):
    """LAMOST stellar parameters of cluster members (TAP upload join).

    Parameters
    ----------
    members : `~astropy.table.QTable`
        Canonical members (``source_id``, ``coord``).
    table : str, optional
        LAMOST table, default ``conf.lamost_table``.
    client : `~astro_ocl.sources.archives.tap.TAPClient`, optional
    by : {"auto", "source_id", "position"}
        ``auto``: by Gaia source_id when the table has such a column, else by
        position within ``radius``.
    radius : `~astropy.units.Quantity`
        Rows within this angle of a member are returned (3.5 arcsec).

    Returns
    -------
    `~astropy.table.QTable`
        The raw LAMOST rows (ordered by ``obsid`` when the table has one); in
        the positional case with ``member_source_id``, the member matched on
        the server, and ``member_sep`` (arcsec).
    """
    client = client or vizier_client()
    name = table or conf.lamost_table
    cols = table_columns(name, client=client)
    id_col = _find(cols, "source_id")
    obsid = _find(cols, "obsid")
    order = f" ORDER BY l.{quote_identifier(obsid)}" if obsid else ""
    if by == "source_id" and id_col is None:
        raise ValueError(f"{name} has no Gaia source_id column (columns: {cols})")
    ids = np.unique(np.asarray(members["source_id"], dtype=np.int64))
    if id_col is not None and by != "position":
        query = (f"SELECT l.* FROM TAP_UPLOAD.members AS u JOIN {quote_table(name)} AS l "
                 f"ON l.{quote_identifier(id_col)} = u.source_id{order}")
        up = Table({"source_id": ids})
        maxrec = None  # repeated observations: no a-priori bound; default limit applies
        return client.query(query, uploads={"members": up}, maxrec=maxrec)
    ra_col = _find(cols, "ra")
    dec_col = _find(cols, "dec")
    if ra_col is None or dec_col is None:
        raise ValueError(f"{name} has neither a Gaia source_id nor a position column")
    r = u.Quantity(radius, u.arcsec)
    first = np.unique(np.asarray(members["source_id"], dtype=np.int64), return_index=True)[1]
    m = members[np.sort(first)]
    up = Table({"source_id": np.asarray(m["source_id"], np.int64),
                "ra": m["coord"].ra.deg, "dec": m["coord"].dec.deg})
    lra, ldec = f"l.{quote_identifier(ra_col)}", f"l.{quote_identifier(dec_col)}"
    rdeg = quote_literal(float(r.to_value(u.deg)))
    query = (f"SELECT u.source_id AS member_source_id, "
             f"DISTANCE(POINT('ICRS', {lra}, {ldec}), POINT('ICRS', u.ra, u.dec)) AS member_sep, "
             f"l.* FROM TAP_UPLOAD.members AS u JOIN {quote_table(name)} AS l "
             f"ON 1 = CONTAINS(POINT('ICRS', {lra}, {ldec}), CIRCLE('ICRS', u.ra, u.dec, {rdeg}))"
             f"{order}")
    out = client.query(query, uploads={"members": up})
    out["member_sep"] = u.Quantity(np.asarray(out["member_sep"], float), u.deg).to(u.arcsec)
    log.info("%d LAMOST rows within %s of %d members", len(out), r, len(up))
    return out


def find_catalogs(keywords, *, max_catalogs=20):
    """Discover VizieR catalogues with ``astroquery.vizier`` (metadata only).

    Parameters
    ----------
    keywords : str
        E.g. ``"LAMOST DR5"``.
    max_catalogs : int

    Returns
    -------
    dict
        ``{catalogue name: description}``.

    Raises
    ------
    `~astro_ocl.exceptions.OptionalDependencyError`
        astroquery (extra ``vizier``) is not installed.
    """
    Vizier = require("astroquery.vizier", feature="VizieR catalogue discovery").Vizier
    v = Vizier(catalog=None, row_limit=1, timeout=conf.timeout)
    found = v.find_catalogs(keywords, max_catalogs=max_catalogs)
    return {k: getattr(found[k], "description", "") for k in found}
