"""Inputs of the online build: the live services (or any TAP server with the same tables).

:func:`fetch_inputs` is what ``build_catalogue(online=True)`` and
``astro-ocl build --online`` call. It returns exactly the canonical tables the
offline readers produce, so the pipeline downstream is the same code:

1. CG2020 table1 (``conf.cg2020_clusters_table``), whole (2017 rows, cached),
   so cluster names resolve exactly as offline;
2. CG2020 members with probability >= the threshold, of the requested clusters
   (``conf.cg2020_members_table``);
3. LAMOST stellar parameters of those members: a VizieR (TAP) table through an
   upload join (by Gaia ``source_id`` when the table has one, else by position
   followed by the epoch-aware match of `~astro_ocl.steps.crossmatch.attach_source_ids`
   against the Gaia DR2 sources there), or a local LAMOST catalogue file read
   in chunks (:mod:`astro_ocl.sources.surveys`).
"""
import numpy as np
import astropy.units as u
from astropy.table import Table

from .. import files as readers
from ...config import conf
from ...logger import log
from .adql import quote_literal, quote_table
from .gaia import gaia_client, sources_with_motion
from .vizier import (cg2020_clusters, cg2020_members, lamost_for_members, plain_table,
                     vizier_client)

__all__ = ["fetch_inputs", "parse_lamost_option"]


def parse_lamost_option(lamost):
    """Interpret ``--lamost``: ``("vizier", table)`` or ``("file", path)``.

    Parameters
    ----------
    lamost : str or None
        None or ``"vizier"``: ``conf.lamost_table``; ``"vizier:TABLE"``: that
        VizieR table (a catalogue such as ``V/164`` means ``conf.lamost_table``
        when it belongs to it, else ``<catalogue>/stellar5``... give the full table
        name to be sure); anything else: a local FITS/CSV file.
    """
    if lamost is None or str(lamost) == "vizier":
        return "vizier", conf.lamost_table
    text = str(lamost)
    if text.startswith("vizier:"):
        name = text[len("vizier:"):].strip()
        if not name:
            return "vizier", conf.lamost_table
        if conf.lamost_table.startswith(name.rstrip("/") + "/"):
            return "vizier", conf.lamost_table
        if name.count("/") == 1:  # a catalogue, e.g. V/156: its stellar table
            raise ValueError(f"--lamost vizier:{name} names a catalogue; give the table, "
                             f"e.g. vizier:{name}/<table> (conf.lamost_table is "
                             f"{conf.lamost_table!r})")
        return "vizier", name
    return "file", text


def _gaia_near(stars, radius, client):
    """Gaia DR2 sources within ``radius`` of the stars (upload join by position)."""
    up = Table({"star_row": np.arange(len(stars)), "ra": stars["coord"].ra.deg,
                "dec": stars["coord"].dec.deg})
    r = quote_literal(float(u.Quantity(radius, u.deg).value))
    query = ("SELECT u.star_row, g.source_id, g.ra, g.dec, g.pmra, g.pmdec "
             f"FROM TAP_UPLOAD.stars AS u JOIN {quote_table(conf.gaia_dr2_table)} AS g "
             f"ON 1 = CONTAINS(POINT('ICRS', g.ra, g.dec), CIRCLE('ICRS', u.ra, u.dec, {r})) "
             "ORDER BY g.source_id")
    res = client.query(query, uploads={"stars": up})
    first = np.unique(np.asarray(res["source_id"], np.int64), return_index=True)[1]
    return sources_with_motion(res[np.sort(first)])


def fetch_inputs(*, clusters=None, membership_threshold=None, lamost=None, gaia_url=None,
                 vizier_url=None, timeout=None, retries=None, cache=None, show_progress=None,
                 radius=None):
    """Fetch stars, members and cluster parameters from the services.

    Parameters
    ----------
    clusters : list of str, optional
        Cluster names in any spelling CG2020 knows; default every cluster.
    membership_threshold : float, optional
        Default ``conf.membership_threshold`` (applied on the server).
    lamost : str, optional
        Source of the LAMOST stars, see :func:`parse_lamost_option`.
    gaia_url, vizier_url : str, optional
        TAP URLs (default ``conf.gaia_tap_url``, ``conf.vizier_tap_url``).
    timeout, retries : optional
        Per-request timeout and retries (default ``conf``).
    cache : `~astro_ocl.sources.archives.cache.QueryCache` or False, optional
        Result cache (default the configured one).
    show_progress : bool, optional
    radius : `~astropy.units.Quantity`, optional
        Positional match radius (default ``conf.match_radius_arcsec``).

    Returns
    -------
    dict
        ``stars`` (as `~astro_ocl.sources.read_lamost`), ``members`` (as
        `~astro_ocl.sources.read_cg_members`), ``cluster_params`` (as
        `~astro_ocl.sources.read_cg2020_clusters`) and ``provenance`` (the
        queries).
    """
    options = dict(timeout=timeout, retries=retries, cache=cache)
    viz = vizier_client(url=vizier_url, **options)
    gaia = gaia_client(url=gaia_url, **options)
    threshold = conf.membership_threshold if membership_threshold is None \
        else float(membership_threshold)
    kind, where = parse_lamost_option(lamost)

    cg = cg2020_clusters(client=viz)
    resolver = readers.cluster_resolver(cg)
    wanted = None
    if clusters is not None:
        if isinstance(clusters, str):
            clusters = [clusters]
        wanted = sorted({resolver.resolve(c) for c in clusters})
    members = cg2020_members(clusters=wanted, threshold=threshold, resolver=resolver,
                             client=viz)
    log.info("online: %d clusters, %d members with probability >= %s", len(cg), len(members),
             threshold)
    r = u.Quantity(conf.match_radius_arcsec if radius is None else radius, u.arcsec)
    if kind == "file":
        from ..surveys import read_lamost_members
        stars = read_lamost_members(where, members, radius=r, show_progress=show_progress)
    else:
        raw = lamost_for_members(members, table=where, client=viz, radius=r)
        label = f"{viz.url} {where}"
        if "member_source_id" in raw.colnames:
            # positional: LAMOST rows near members; match them to every Gaia source
            # inside the radius, as offline
            first = np.unique(np.asarray(raw[_obs_key(raw)]), return_index=True)[1]
            raw = raw[np.sort(first)]
            t = plain_table(raw)
            t.remove_columns(["member_source_id", "member_sep"])
            stars = readers.read_lamost(table=t, path=label)
            from ...steps.crossmatch import attach_source_ids
            stars = attach_source_ids(stars, _gaia_near(stars, r, gaia), radius=r)
        else:
            stars = readers.read_lamost(table=plain_table(raw), path=label)
        stars.meta["provenance"] = raw.meta.get("provenance", {})
    return {"stars": stars, "members": members, "cluster_params": cg,
            "provenance": {"cluster_params": cg.meta.get("provenance"),
                           "members": members.meta.get("provenance"),
                           "stars": stars.meta.get("provenance")}}


def _obs_key(raw):
    for name in ("obsid", "ObsID", "OBSID"):
        if name in raw.colnames:
            return name
    ra = next(n for n in ("RAJ2000", "ra", "RA_ICRS", "ra2000", "RAdeg") if n in raw.colnames)
    return ra
