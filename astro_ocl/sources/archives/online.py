"""Inputs of the online build: the live services (or any TAP server with the same tables).

:func:`fetch_inputs` is what ``build_catalogue(online=True)`` and
``astro-ocl build --online`` call. It returns exactly the canonical tables the
offline readers produce, so the pipeline downstream is the same code:

1. CG2020 table1 (``conf.cg2020_clusters_table``), whole (2017 rows, cached),
   so cluster names resolve exactly as offline;
2. CG2020 members with probability >= the threshold, of the requested clusters
   (``conf.cg2020_members_table``);
3. LAMOST stellar parameters of those members: a VizieR (TAP) table through an
   upload join (by Gaia ``source_id`` when the table has one, else the rows near
   the members), or a local LAMOST catalogue file read in chunks
   (:func:`astro_ocl.sources.surveys.read_lamost_members`);
4. when the stars have no Gaia id: every Gaia DR2 source near them, with proper
   motions, for the positional cross-match.

It never cross-matches: `astro_ocl.steps.crossmatch.match_stars` does, for the
online build exactly as offline.
"""
import astropy.units as u
import numpy as np
from astropy.table import Table, unique

from ...accounting import StageLog
from ...config import conf
from ...exceptions import InputDataError, ParameterError
from ...logger import log
from ..clusters import cluster_resolver, read_cluster_catalogue
from ..surveys import NEAR_MARGIN, read_lamost, read_lamost_members
from .adql import quote_literal, quote_table
from .gaia import gaia_client, sources_with_motion
from .vizier import (cg2020_clusters, cg2020_members, hr23_members, lamost_for_members,
                     plain_table, vizier_client)

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


def gaia_near(stars, radius, client):
    """Gaia DR2 sources within ``radius`` of the stars (upload join by position).

    Parameters
    ----------
    stars : `~astropy.table.QTable`
        With a ``coord`` column.
    radius : `~astropy.units.Quantity`
    client : `~astro_ocl.sources.archives.tap.TAPClient`

    Returns
    -------
    `~astropy.table.QTable`
        ``source_id`` and ``coord`` (proper motions, epoch J2015.5), one row per source.
    """
    up = Table({"star_row": np.arange(len(stars)), "ra": stars["coord"].ra.deg,
                "dec": stars["coord"].dec.deg})
    r = quote_literal(float(u.Quantity(radius, u.deg).value))
    query = ("SELECT u.star_row, g.source_id, g.ra, g.dec, g.pmra, g.pmdec "
             f"FROM TAP_UPLOAD.stars AS u JOIN {quote_table(conf.gaia_dr2_table)} AS g "
             f"ON 1 = CONTAINS(POINT('ICRS', g.ra, g.dec), CIRCLE('ICRS', u.ra, u.dec, {r})) "
             "ORDER BY g.source_id")
    res = client.query(query, uploads={"stars": up})
    return sources_with_motion(unique(res, keys="source_id", keep="first"))


def fetch_inputs(*, clusters=None, membership_threshold=0.7, lamost=None, gaia_url=None,
                 vizier_url=None, timeout=None, retries=None, cache=None, show_progress=None,
                 radius=3.5 * u.arcsec, memberships="cg2020"):
    """Fetch stars, members, cluster parameters (and Gaia sources) from the services.

    Parameters
    ----------
    clusters : list of str, optional
        Cluster names in any spelling CG2020 knows; default every cluster.
    membership_threshold : float
        Minimum membership probability (applied on the server; 0.7).
    lamost : str, optional
        Source of the LAMOST stars, see :func:`parse_lamost_option`.
    gaia_url, vizier_url : str, optional
        TAP URLs (default ``conf.gaia_tap_url``, ``conf.vizier_tap_url``).
    timeout, retries : optional
        Per-request timeout and retries (default ``conf``).
    cache : `~astro_ocl.sources.archives.cache.QueryCache` or False, optional
        Result cache (default the configured one).
    show_progress : bool, optional
    radius : `~astropy.units.Quantity`
        The positional match radius the cross-match will use: stars and Gaia
        sources within it (plus `~astro_ocl.sources.surveys.NEAR_MARGIN` for the
        proper motion between epochs) are fetched.
    memberships : {"cg2020", "hr23"}
        Cantat-Gaudin et al. 2020 members (Gaia DR2 ids) or Hunt & Reffert 2023
        members (Gaia DR3 ids, ``conf.hr23_members_table``; the LAMOST rows are
        then those near the members, and the stars' Gaia DR2 ids are translated
        to DR3 by the build, `astro_ocl.steps.gaia_ids.translate_to_dr3`).

    Returns
    -------
    dict
        ``stars`` (as `~astro_ocl.sources.read_lamost`; without ``source_id``
        when the LAMOST table has no Gaia id), ``gaia_sources`` (the Gaia DR2
        sources near those stars, or None), ``members`` (as
        `~astro_ocl.sources.read_cg_members`), ``cluster_params`` (as
        `~astro_ocl.sources.read_cg2020_clusters`), ``stage_log`` (rows of a
        local file left out) and ``provenance`` (the queries).
    """
    options = dict(timeout=timeout, retries=retries, cache=cache)
    viz = vizier_client(url=vizier_url, **options)
    gaia = gaia_client(url=gaia_url, **options)
    threshold = float(membership_threshold)
    r = u.Quantity(radius, u.arcsec)
    kind, where = parse_lamost_option(lamost)
    stage_log = StageLog()

    cg = cg2020_clusters(client=viz)
    resolver = cluster_resolver(cg)
    wanted = None
    if clusters is not None:
        if isinstance(clusters, str):
            clusters = [clusters]
        wanted = sorted({resolver.resolve(c) for c in clusters})
    if memberships == "hr23":
        hr = read_cluster_catalogue("hr23")
        members = hr23_members(clusters=wanted, threshold=threshold, client=viz,
                               resolver=cluster_resolver(hr), catalogue=hr)
    elif memberships == "cg2020":
        members = cg2020_members(clusters=wanted, threshold=threshold, resolver=resolver,
                                 client=viz)
    else:
        raise ParameterError("memberships", memberships, "one of 'cg2020', 'hr23'")
    log.info("online: %d clusters, %d members with probability >= %s", len(cg), len(members),
             threshold)
    if kind == "file":
        stars = read_lamost_members(where, members, near=r, show_progress=show_progress,
                                    stage_log=stage_log)
    else:
        # DR3 members: the survey's Gaia ids are DR2, so its rows are found by position
        raw = lamost_for_members(members, table=where, client=viz, radius=r + NEAR_MARGIN,
                                 by="position" if memberships == "hr23" else "auto")
        label = f"{viz.url} {where}"
        provenance = raw.meta.get("provenance", {})
        if "member_source_id" in raw.colnames:
            # rows near members: one row per spectrum (the server join repeats a
            # spectrum near two members); the cross-match step matches them
            n_rows = len(raw)
            raw = unique(raw, keys=_obs_key(raw), keep="first")
            raw.remove_columns(["member_source_id", "member_sep"])
            stage_log.stage("survey rows near members", n_in=n_rows, n_out=len(raw),
                            dropped={"same spectrum near another member": n_rows - len(raw)})
        stars = read_lamost(table=plain_table(raw), path=label)
        stars.meta["provenance"] = provenance
    gaia_sources = None
    if "source_id" not in stars.colnames or np.ma.is_masked(stars["source_id"]):
        if memberships == "hr23":
            raise InputDataError("Hunt & Reffert 2023 members need survey stars with Gaia "
                                 "ids (the positional match runs on Gaia DR2 sources)",
                                 source=str(stars.meta.get("source", where)))
        gaia_sources = gaia_near(stars, r + NEAR_MARGIN, gaia)
    return {"stars": stars, "members": members, "cluster_params": cg,
            "gaia_sources": gaia_sources, "stage_log": stage_log,
            "provenance": {"cluster_params": cg.meta.get("provenance"),
                           "members": members.meta.get("provenance"),
                           "stars": stars.meta.get("provenance")}}


def _obs_key(raw):
    for name in ("obsid", "ObsID", "OBSID"):
        if name in raw.colnames:
            return name
    return [next(n for n in ("RAJ2000", "ra", "RA_ICRS", "ra2000", "RAdeg") if n in raw.colnames),
            next(n for n in ("DEJ2000", "dec", "DE_ICRS", "dec2000", "DEdeg") if n in raw.colnames)]
