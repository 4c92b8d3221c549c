"""Helpers the test modules share (test modules never import each other)."""
import ast
import multiprocessing
import os
import warnings
from pathlib import Path

import astropy.units as u
import numpy as np
from astropy.coordinates import SkyCoord
from astropy.table import QTable, Table, unique, vstack
from astropy.time import Time

import astro_ocl
from astro_ocl.accounting import StageLog
from astro_ocl.exceptions import DroppedRowsWarning
from astro_ocl.sources import (SURVEYS, cluster_resolver, read_cg2020_clusters, read_cg_members,
                               read_survey)
from astro_ocl.sources.surveys import OCCAM_MEMBERS_FILE
from astro_ocl.steps.crossmatch import (deduplicate_stars, match_stars, select_members,
                                        survey_id_key)
from astro_ocl.steps.statistics import clean_stars
from astro_ocl.utils import data_path

#: The installed package's folder.
PACKAGE_ROOT = Path(astro_ocl.__file__).parent

#: A place near NGC 2682 (a CG2020 cluster: its parameters are known).
RA0, DE0 = 132.85, 11.81


def members_near_ngc2682(offsets_arcsec, *, pm_dec=0.0):
    """Members of NGC_2682 at RA0 + offsets (arcsec) with a proper motion in Dec."""
    t = QTable()
    n = len(offsets_arcsec)
    t["Cluster"] = ["NGC_2682"] * n
    t["source_id"] = np.arange(101, 101 + n, dtype=np.int64)
    t["coord"] = SkyCoord(ra=(RA0 + np.asarray(offsets_arcsec) / 3600) * u.deg,
                          dec=np.full(n, DE0) * u.deg, pm_ra_cosdec=np.zeros(n) * u.mas / u.yr,
                          pm_dec=np.full(n, pm_dec) * u.mas / u.yr,
                          obstime=Time(2015.5, format="jyear"))
    t["proba"] = np.ones(n)
    return t


def lamost_csv(path, ra, dec, *, source_id=None):
    """A LAMOST-like CSV (no units, LAMOST site column names)."""
    n = len(ra)
    t = Table({"ra": ra, "dec": dec, "rv": 30.0 + np.arange(n), "rv_err": np.full(n, 1.0),
               "teff": np.full(n, 5600.0), "logg": np.full(n, 4.2), "feh": np.zeros(n),
               "feh_err": np.full(n, 0.05), "snrg": np.full(n, 50.0)})
    if source_id is not None:
        t["gaia_source_id"] = source_id
    t.write(path, format="ascii.csv")
    return path


def package_imports(path):
    """The astro_ocl modules a file of the package imports (relative imports resolved)."""
    tree = ast.parse(path.read_text())
    parts = list(path.with_suffix("").relative_to(PACKAGE_ROOT.parent).parts)
    package = parts if parts[-1] == "__init__" else parts[:-1]
    package = [p for p in package if p != "__init__"]
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom):
            base = package[:len(package) - node.level + 1] if node.level else []
            mod = ".".join(base + ([node.module] if node.module else []))
            found |= {mod} | {f"{mod}.{a.name}" for a in node.names}
        elif isinstance(node, ast.Import):
            found |= {a.name for a in node.names}
    return {m for m in found if m.startswith("astro_ocl")}


#: The embedded surveys of the default build, in its priority order.
EMBEDDED_SURVEYS = ("lamost_lrs", "lamost_mrs", "apogee")


def match_embedded_surveys():
    """The matched stars of every embedded survey, as the default build matches them.

    The embedded CG2020 and OCCAM members (one row per cluster and source) with
    probability >= 0.7; each survey's stars cleaned, those without a Gaia id
    de-duplicated and matched by position to the members' Gaia sources, each within
    its survey's match radius. The rows dropped on the way are not checked here
    (their `~astro_ocl.exceptions.DroppedRowsWarning` is silenced).

    Returns
    -------
    matched : dict
        Survey label -> matched stars (with a ``survey`` column), in priority order.
    stars : dict
        Survey label -> the cleaned stars that were matched (members or not).
    """
    log = StageLog()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DroppedRowsWarning)
        resolver = cluster_resolver(read_cg2020_clusters())
        members = unique(vstack([read_cg_members(resolver=resolver),
                                 read_cg_members(data_path(OCCAM_MEMBERS_FILE),
                                                 resolver=resolver)],
                                metadata_conflicts="silent"), keys=["Cluster", "source_id"])
        selected = select_members(members, threshold=0.7, stage_log=log)
        matched, used = {}, {}
        for name in EMBEDDED_SURVEYS:
            survey = SURVEYS[name]
            stars = clean_stars(read_survey(name), stage_log=log)
            sources = None
            key = survey_id_key(stars)
            if key:
                stars = deduplicate_stars(stars, key=key, stage_log=log)
                sources = selected["source_id", "coord"]
            m = match_stars(stars, selected, gaia_sources=sources, radius=survey.match_radius,
                            epoch=stars.meta.get("epoch"), stage_log=log)
            if "survey" not in m.colnames:
                m["survey"] = np.full(len(m), survey.label)
            matched[survey.label], used[survey.label] = m, stars
    return matched, used


def one_line_error(capsys, rc, expected_rc=None):
    """The one line a command printed on standard error (no traceback); checks ``rc``."""
    err = capsys.readouterr().err
    assert rc != 0 if expected_rc is None else rc == expected_rc
    lines = [x for x in err.splitlines() if x.strip()]
    assert len(lines) == 1, err
    assert "Traceback" not in err
    return lines[0]


def session_pids(sid):
    """Pids of the live (non-zombie) processes of session ``sid`` (read from /proc)."""
    pids = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            stat = Path(f"/proc/{entry}/stat").read_text()
        except OSError:
            continue
        fields = stat[stat.rindex(")") + 2:].split()
        # fields[0] state, [1] ppid, [2] pgrp, [3] session
        if int(fields[3]) == sid and fields[0] != "Z":
            pids.append(int(entry))
    return pids


def _put_value(queue, func, args):
    queue.put(func(*args))


def value_in_daemon(func, *args, timeout=60):
    """``func(*args)`` computed in a daemonic forked process (as in a pool or Dask worker)."""
    ctx = multiprocessing.get_context("fork")
    queue = ctx.Queue()
    p = ctx.Process(target=_put_value, args=(queue, func, args), daemon=True)
    p.start()
    try:
        return queue.get(timeout=timeout)
    finally:
        p.join(timeout)
