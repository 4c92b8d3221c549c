"""The catalogue build: a short composition of sources and method steps, with provenance.

:func:`build_catalogue` reads (or is given, or fetches) the inputs, runs the
method steps of :mod:`astro_ocl.steps` in order and returns a
`~astro_ocl.result.CatalogueResult`. It writes nothing.

========  ==========================================  ===========================
step      what                                        where
========  ==========================================  ===========================
1, 2      stars, members, cluster parameters          :mod:`astro_ocl.sources`
3         cross-match (every input path)              `.steps.crossmatch`
4, 5      flags and Monte Carlo statistics            `.steps.statistics`
6         literature comparison                       `.steps.compare`
7         orbits and integrals of motion              `.steps.dynamics`
8         [Fe/H] gradients                            `.steps.gradients`
========  ==========================================  ===========================
"""
import datetime
import functools
import warnings

import astropy.units as u
import numpy as np
from astropy.table import QTable, Table
from astropy.time import Time

from . import schema
from .accounting import StageLog
from .exceptions import DroppedRowsWarning, ParameterError
from .logger import log
from .result import CatalogueResult
from .utils import describe_input
from .sources import cluster_resolver, read_cg2020_clusters, read_cg_members, read_lamost
from .steps.crossmatch import match_stars, select_members
from .steps.quality import QualityCuts
from .steps.statistics import (clean_stars, cluster_rng, cluster_statistics, cluster_table,
                               member_table)
from .utils import sigterm_as_interrupt

__all__ = ["build_catalogue", "REFERENCE"]

REFERENCE = ("Fu X. et al. 2022, A&A 668, A4, 'LAMOST meets Gaia: the Galactic open "
             "clusters' (2022A&A...668A...4F)")


def _table(value, reader, **kwargs):
    """A canonical table from a canonical QTable, any other table, a path or None."""
    if isinstance(value, QTable) and (value.meta.get("schema") in ("stars", "membership")
                                      or "coord" in value.colnames):
        return value  # already canonical
    if isinstance(value, Table):
        return reader(table=value, path=value.meta.get("source"), **kwargs)
    return reader(value, **kwargs)


def _interruptible(func):
    """Run ``func`` with SIGTERM turned into a `KeyboardInterrupt` (as Ctrl-C).

    An interrupted build unwinds: worker processes are ended, nothing is written
    (the pipeline writes nothing anyway) and the caller sees
    `~astro_ocl.utils.Terminated` or `KeyboardInterrupt`.
    """
    @functools.wraps(func)
    def wrapper(*args, **kwargs):
        with sigterm_as_interrupt():
            log.debug("build started (SIGTERM and SIGINT interrupt it)")
            return func(*args, **kwargs)
    return wrapper


@_interruptible
def build_catalogue(*, stars=None, members=None, cluster_params=None, gaia_sources=None,
                    clusters=None, membership_threshold=0.7, n_realisations=5000, seed=None,
                    cuts=None, match_radius=3.5 * u.arcsec, epoch=None, literature=True,
                    online=False, show_progress=None, orbits=True, orbit_samples=100,
                    gradients=False, convention="standard", engine="memory", client=None,
                    **online_options):
    """Build the open-cluster catalogue (Fu et al. 2022 method steps 1-6).

    With no arguments it runs offline on the real embedded sample: 691 LAMOST
    LRS stars, Cantat-Gaudin members of 19 clusters and CG2020 table1.

    Parameters
    ----------
    stars : `~astropy.table.Table`, str or `~pathlib.Path`, optional
        Spectroscopic stars: a canonical `~astropy.table.QTable` from
        `~astro_ocl.sources.read_lamost`, any other table it can read (a plain
        `~astropy.table.Table` with LAMOST or VizieR column names), or a file.
    members : `~astropy.table.Table`, str or `~pathlib.Path`, optional
        Cluster members (`~astro_ocl.sources.read_cg_members` layout, a table it
        can read, or a file).
    cluster_params : `~astropy.table.QTable`, optional
        Cluster parameters (`~astro_ocl.sources.read_cg2020_clusters` layout).
    gaia_sources : `~astropy.table.QTable`, optional
        Gaia sources (``source_id``, ``coord`` with proper motions) used to give
        stars without a ``source_id`` one by position.
    clusters : list of str, optional
        Restrict to these clusters (any spelling; unknown names raise
        `~astro_ocl.exceptions.UnknownClusterError`).
    membership_threshold : float
        Minimum membership probability (0.7, Fu et al. 2022; recorded in the provenance).
    n_realisations : int
        Monte Carlo realisations K (5000, Fu et al. 2022; recorded in the provenance).
    seed : int, optional
        Random seed; with the same seed the result is identical. Without one a
        fresh seed is drawn and recorded in the provenance (``seed``, with
        ``seed_origin``), so that every build can be repeated.
    cuts : `~astro_ocl.steps.quality.QualityCuts`, optional
        Quality-control thresholds.
    match_radius : `~astropy.units.Quantity`
        Positional match radius (3.5 arcsec; the LAMOST fibre is 3.3 arcsec), for
        every input path (table, file, online).
    epoch : `~astropy.time.Time` or str, optional
        Epoch of the star positions: Gaia positions are propagated to it for the
        positional match (every input path). Default: no propagation.
    literature : bool or list or dict
        Compare with the embedded literature catalogues (True), some of them
        (names), given tables, or not at all (False).
    online : bool
        Fetch the inputs from the live services instead (see
        `astro_ocl.sources.archives.online`); ``online_options`` go there.
    show_progress : bool, optional
        Progress bars (default: on a terminal).
    orbits : bool
        Add Galactocentric positions, velocities, integrals of motion and orbits
        (`astro_ocl.steps.dynamics.orbit_parameters`, method step 7) to the cluster table.
    orbit_samples : int
        Monte Carlo orbits per cluster for their ``e_`` uncertainties (0: none).
    gradients : bool
        Fit the metallicity gradients (paper Table 6, method step 8) on the
        clusters, or, with an `~astro_ocl.exceptions.AstroOCLWarning` and a
        provenance entry ``gradients_fitted_on``, on the embedded Zhong et al.
        (2020) clusters when the catalogue has too few
        (`astro_ocl.steps.gradients.gradients_for_catalogue`). Off by default here
        (some seconds of MCMC); ``astro-ocl build`` fits them.
    convention : {"standard", "fu2022"}
        ``"standard"`` (default): the physically correct orbits and integrals of
        motion, gradients weighted by ``e_[Fe/H]med``. ``"fu2022"``: as the
        published catalogue of Fu et al. (2022) computed them
        (`astro_ocl.steps.dynamics.CONVENTIONS`, and
        `astro_ocl.steps.gradients.FU2022_UNCERTAINTY` for the gradients). Recorded in
        the provenance and the column descriptions.
    engine : {"memory", "lsdb"}
        ``"memory"`` (default): every table in this process. ``"lsdb"``: the
        survey-scale engine (`astro_ocl.scale.LsdbEngine`, needs the extra
        ``astro_ocl[scale]``): stars, members and Gaia sources as HATS catalogues
        (``stars``, ``members`` and ``gaia_sources`` may then also be HATS
        catalogue paths), the cross-match, the Monte Carlo and the orbits on Dask
        partitions; same numbers as ``"memory"`` for the same seed. Recorded in
        the provenance with the workers and the HATS catalogues.
    client : `distributed.Client`, optional
        With ``engine="lsdb"``: the Dask cluster to run on. Default: a
        `distributed.LocalCluster` sized to the machine, closed at the end.

    Returns
    -------
    `~astro_ocl.result.CatalogueResult`
    """
    if seed is None:  # a fresh seed, recorded: every build can be repeated exactly
        seed = int(np.random.SeedSequence().generate_state(1, np.uint32)[0])
        seed_given = False
    else:
        seed_given = True
    threshold = float(membership_threshold)
    if not 0 <= threshold <= 1:
        raise ParameterError("membership_threshold", membership_threshold,
                             "a probability must be in [0, 1]")
    n_realisations = int(n_realisations)
    if n_realisations < 2:
        raise ParameterError("n_realisations", n_realisations, "must be at least 2")
    if int(orbit_samples) < 0:
        raise ParameterError("orbit_samples", orbit_samples, "must be >= 0")
    if convention not in ("standard", "fu2022"):
        raise ParameterError("convention", convention, "one of 'standard', 'fu2022'")
    if engine not in ("memory", "lsdb"):
        raise ParameterError("engine", engine, "one of 'memory', 'lsdb'")
    options = {k: v for k, v in dict(locals()).items() if k in _BUILD}
    if engine == "lsdb":  # the survey-scale engine (astro_ocl.scale) runs steps 1-5 and 7
        from .scale import LsdbEngine
        with LsdbEngine(client=client, show_progress=show_progress) as scale:
            return _build(scale=scale, **options)
    if client is not None:
        raise ParameterError("client", client, "only with engine='lsdb'")
    return _build(scale=None, **options)


_BUILD = ("stars", "members", "cluster_params", "gaia_sources", "clusters", "membership_threshold",
          "n_realisations", "seed", "seed_given", "cuts", "match_radius", "epoch", "literature",
          "online", "show_progress", "orbits", "orbit_samples", "gradients", "convention",
          "online_options")


def _build(*, scale, stars, members, cluster_params, gaia_sources, clusters,
           membership_threshold, n_realisations, seed, seed_given, cuts, match_radius, epoch,
           literature, online, show_progress, orbits, orbit_samples, gradients, convention,
           online_options):
    """The build of `build_catalogue` (``scale``: the survey-scale engine or None)."""
    threshold = float(membership_threshold)
    cuts = QualityCuts() if cuts is None else cuts
    radius = u.Quantity(match_radius, u.arcsec)
    epoch = None if epoch is None else Time(epoch)
    stage_log = StageLog()
    started = datetime.datetime.now(datetime.timezone.utc)
    provenance = {"package": "astro_ocl", "version": _package_version(),
                  "date": started.isoformat(timespec="seconds"), "method": REFERENCE}

    # ---- steps 1-2: the inputs (sources) --------------------------------------------------
    if online:
        from .sources.archives.online import fetch_inputs
        fetched = fetch_inputs(clusters=clusters, membership_threshold=threshold, radius=radius,
                               show_progress=show_progress, **online_options)
        stars = fetched["stars"] if stars is None else stars
        members = fetched["members"] if members is None else members
        cluster_params = fetched["cluster_params"] if cluster_params is None else cluster_params
        gaia_sources = fetched["gaia_sources"] if gaia_sources is None else gaia_sources
        stage_log.records.extend(fetched["stage_log"])
        provenance["queries"] = str(fetched["provenance"])
    elif online_options:
        raise TypeError(f"unexpected options {sorted(online_options)} (only with online=True)")
    cg = cluster_params if cluster_params is not None else read_cg2020_clusters()
    resolver = cluster_resolver(cg)
    if scale is not None:  # steps 1-3 on HATS partitions (astro_ocl.scale), same rules
        wanted = None if clusters is None else sorted(
            {resolver.resolve(c) for c in ([clusters] if isinstance(clusters, str) else clusters)})
        matched = scale.match_stars(stars, members, gaia_sources=gaia_sources,
                                    star_reader=read_lamost, member_reader=read_cg_members,
                                    member_kwargs={"resolver": resolver}, wanted=wanted,
                                    threshold=threshold, radius=radius, epoch=epoch,
                                    stage_log=stage_log)
        # the inputs stay in their HATS catalogues: only their sources go to the provenance
        stars, members = (QTable(meta={"source": scale.inputs[k].source})
                          for k in ("stars", "members"))
    else:
        stars = _table(stars, read_lamost)
        members = _table(members, read_cg_members, resolver=resolver)
        stage_log.stage("input stars", n_in=len(stars), n_out=len(stars),
                        note=str(stars.meta.get("source", "")))
        wanted = None
        if clusters is not None:
            wanted = sorted({resolver.resolve(c) for c in
                             ([clusters] if isinstance(clusters, str) else clusters)})
            keep = np.isin(np.asarray(members["Cluster"]).astype(str), wanted)
            stage_log.stage("requested clusters", n_in=len(members), n_out=int(keep.sum()),
                            dropped={"member of another cluster": int((~keep).sum())})
            members = members[keep]

    # ---- step 3: cross-match ----------------------------------------------------------------
        stars = clean_stars(stars, stage_log=stage_log)
        selected = select_members(members, threshold=threshold, stage_log=stage_log)
        matched = match_stars(stars, selected, gaia_sources=gaia_sources, radius=radius,
                              epoch=epoch, stage_log=stage_log)
    if wanted is not None:
        _report_empty(wanted, matched, stage_log)

    # ---- steps 4-5: flags and Monte Carlo statistics ---------------------------------------
    stats, flags = (cluster_statistics if scale is None else scale.cluster_statistics)(
        matched, n_realisations=n_realisations, seed=seed, cuts=cuts,
        show_progress=show_progress)
    clusters_t = cluster_table(stats, cg, cuts=cuts, stage_log=stage_log)
    members_t = member_table(matched, flags, cuts=cuts)
    provenance.update({
        "stars": describe_input(stars.meta.get("source")),
        "members": describe_input(members.meta.get("source")),
        "cluster_params": describe_input(cg.meta.get("source")),
        "membership_threshold": threshold, "n_realisations": n_realisations,
        "seed": int(seed), "seed_origin": "given" if seed_given else "drawn (no seed given)",
        "match_radius": str(radius),
        "epoch": "none" if epoch is None else f"J{epoch.jyear:.3f}",
        **({"engine": "memory"} if scale is None else scale.provenance()),
        **{f"qc_{k}": v for k, v in cuts.as_meta().items()}})

    # ---- step 6: literature comparison -------------------------------------------------------
    comparison, matched_lit = None, {}
    if literature is not False:
        from .steps.compare import literature_comparison
        comparison, matched_lit = literature_comparison(
            clusters_t, None if literature is True else literature)

    # ---- steps 7-8: orbits and gradients ----------------------------------------------------
    orbit_history = gradient_result = None
    fallback = {}
    if orbits:
        orbit_history = _add_orbits(clusters_t, seed=seed, samples=orbit_samples,
                                    show_progress=show_progress, stage_log=stage_log,
                                    convention=convention, scale=scale)
        provenance["orbit_samples"] = int(orbit_samples)
    provenance["convention"] = convention
    if gradients:
        from .steps.gradients import (DEFAULT_UNCERTAINTY, FU2022_UNCERTAINTY,
                                      gradients_for_catalogue)
        gradient_result = gradients_for_catalogue(
            clusters_t if orbits else None,
            fallback=lambda: fallback.setdefault("sample", _zhong2020_with_orbits(convention)),
            seed=seed, progress=show_progress,
            uncertainty=FU2022_UNCERTAINTY if convention == "fu2022" else DEFAULT_UNCERTAINTY)
        provenance["gradients_fitted_on"] = gradient_result.source

    # provenance is complete: only now copied into the tables
    for t, tdef in ((clusters_t, schema.CLUSTERS), (members_t, schema.MEMBERS)):
        t.meta.update(provenance)
        t.meta["description"] = tdef.description
    log.info("built %d clusters from %d member stars", len(clusters_t), len(members_t))
    return CatalogueResult(clusters=clusters_t, members=members_t, comparison=comparison,
                           matched=matched_lit, stage_log=stage_log, provenance=provenance,
                           gradients=gradient_result, orbit_history=orbit_history,
                           gradient_sample=fallback.get("sample"))


def _report_empty(wanted, matched, stage_log):
    """Warn about and count requested clusters without a usable spectroscopic member."""
    empty = sorted(set(wanted) - set(np.asarray(matched["Cluster"]).astype(str)))
    if empty:
        warnings.warn(f"{len(empty)} requested clusters have no usable spectroscopic "
                      f"member and are left out: {', '.join(empty)}", DroppedRowsWarning)
        stage_log.stage("requested clusters with members", n_in=len(wanted),
                        n_out=len(wanted) - len(empty),
                        dropped={"no usable spectroscopic member": len(empty)})


def _add_orbits(clusters_t, *, seed, samples, show_progress, stage_log, convention, scale=None):
    """Step 7: orbit columns added to ``clusters_t`` in place; returns the orbit history."""
    from .steps.dynamics import orbit_parameters, positions_back_in_time
    names = np.asarray(clusters_t["Cluster"]).astype(str)
    if scale is not None:  # the same per-cluster streams, clusters spread over Dask workers
        orb = scale.orbit_parameters(clusters_t, n_samples=samples, seed=seed,
                                     convention=convention)
    else:
        orb = orbit_parameters(clusters_t, n_samples=samples,
                               rngs=[cluster_rng(seed, f"orbit:{n}") for n in names],
                               progress=show_progress, convention=convention)
    for name in orb.colnames:
        if name != "Cluster":
            clusters_t[name] = orb[name]
    have = np.isfinite(np.asarray(orb["Energy"], float))
    # clusters without an orbit stay in the table (orbit columns NaN): a note, no drop
    stage_log.stage("orbits", n_in=len(clusters_t), n_out=len(clusters_t),
                    note=f"McMillan17, {samples} Monte Carlo orbits per cluster; "
                         f"{int((~have).sum())} clusters without distance, proper motion "
                         "or RV have NaN orbit columns")
    clusters_t.meta.update({f"orbit_{k}": v for k, v in orb.meta.items()})
    # the orbits were drawn from per-cluster streams of the build seed
    clusters_t.meta["orbit_seed"] = int(seed)
    clusters_t.meta["orbit_rng"] = "numpy default_rng([seed, crc32('orbit:' + Cluster)])"
    return positions_back_in_time(clusters_t[have])


def _zhong2020_with_orbits(convention):
    """The gradient fallback sample: Zhong et al. (2020) clusters with their orbit columns."""
    from .sources.clusters import read_cluster_dynamics_input
    from .steps.dynamics import orbit_parameters
    z = read_cluster_dynamics_input()
    orb = orbit_parameters(z, n_samples=0, outside="nan", convention=convention)
    for c in orb.colnames:
        if c != "Cluster":
            z[c] = orb[c]
    return z


def _package_version():
    from . import __version__
    return __version__
