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
from astropy.table import MaskedColumn, QTable, Table, vstack
from astropy.time import Time

from . import schema
from .accounting import StageLog
from .exceptions import DroppedRowsWarning, ParameterError
from .logger import log
from .result import CatalogueResult
from .utils import describe_input
from .sources import cluster_resolver, read_cg_members, read_lamost
from .sources.clusters import read_cluster_catalogue
from .sources.gaia_ids import align_gaia_releases, gaia_release
from .steps.crossmatch import deduplicate_stars, match_stars, select_members, survey_id_key
from .steps.multisurvey import combine_matched, survey_composition
from .steps.quality import QualityCuts
from .steps.statistics import (clean_stars, cluster_rng, cluster_statistics, cluster_table,
                               member_table)
from .utils import sigterm_as_interrupt

__all__ = ["build_catalogue", "REFERENCE", "DEFAULT_SURVEYS"]

#: The surveys the offline build combines by default (their embedded real samples).
DEFAULT_SURVEYS = ("lamost_lrs", "lamost_mrs", "apogee")

#: Surveys preferred as the zero-point reference, in order (high resolution first).
REFERENCE_PREFERENCE = ("APOGEE", "GALAH", "Gaia-RVS")

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
def build_catalogue(*, stars=None, surveys=None, reference_survey=None, zero_points="measure",
                    members=None, cluster_params=None, gaia_sources=None,
                    clusters=None, membership_threshold=0.7, n_realisations=5000, seed=None,
                    cuts=None, match_radius=None, epoch=None, literature=True,
                    online=False, show_progress=None, orbits=True, orbit_samples=100,
                    gradients=False, convention="standard", cluster_catalogue=None,
                    engine="memory", client=None,
                    **online_options):
    """Build the open-cluster catalogue (Fu et al. 2022 method steps 1-6).

    With no arguments it runs offline on the real embedded samples of every
    embedded survey (`DEFAULT_SURVEYS`: LAMOST LRS, LAMOST MRS and APOGEE
    OCCAM DR16 stars), their Cantat-Gaudin members and CG2020 table1.

    Parameters
    ----------
    stars : `~astropy.table.Table`, str or `~pathlib.Path`, optional
        Spectroscopic stars of one survey: a canonical `~astropy.table.QTable`
        (`~astro_ocl.sources.read_survey`), any other table
        `~astro_ocl.sources.read_lamost` can read (LAMOST or VizieR column
        names), or a file. Given alone, the catalogue is built from these stars
        only.
    surveys : list or dict, optional
        Several surveys: names of `astro_ocl.sources.SURVEYS` (their embedded
        samples) or ``{name: table or path}``, in priority order (a star
        measured by several surveys keeps the first survey's values). Default:
        `DEFAULT_SURVEYS`, or only ``stars`` when it is given.
    reference_survey : str, optional
        The survey the others' zero points are measured against (default: the
        first high-resolution survey among them, APOGEE, else the first).
    zero_points : {"measure", "apply", "off"}
        With several surveys, each survey's RV and [Fe/H] offset from the
        reference is measured on the clusters they share
        (`astro_ocl.steps.multisurvey.measure_zero_points`) and reported
        (``"measure"``, default), also subtracted from its stars before the
        combined statistics (``"apply"``), or not measured (``"off"``).
    members : `~astropy.table.Table`, str or `~pathlib.Path`, optional
        Cluster members (`~astro_ocl.sources.read_cg_members` layout, a table it
        can read, or a file).
    cluster_params : `~astropy.table.QTable`, optional
        Cluster parameters (`~astro_ocl.sources.read_cg2020_clusters` layout).
    cluster_catalogue : {"cg2020", "hr23", "dias2021"} or `~astropy.table.QTable`, optional
        The cluster parameters (position, distance, proper motion, age) by
        catalogue name (`~astro_ocl.sources.clusters.read_cluster_catalogue`)
        or as a table; default CG2020 (online: fetched). Not with
        ``cluster_params``. Recorded in the provenance (``cluster_catalogue``).
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
    match_radius : `~astropy.units.Quantity`, optional
        Positional match radius for every survey and input path. Default: each
        survey's own (`astro_ocl.sources.SURVEYS`: 3.5 arcsec for LAMOST, whose
        fibre is 3.3 arcsec; 1.5 arcsec for APOGEE's 2MASS positions).
    epoch : `~astropy.time.Time` or str, optional
        Epoch of the star positions: Gaia positions are propagated to it for the
        positional match (every input path). Default: the survey's epoch where
        its adapter knows it (APOGEE: 2MASS, J2000), else no propagation.
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
        (``stars``, ``members``, ``gaia_sources`` and the files of ``surveys``
        may then also be HATS catalogue paths), each survey's cross-match, the
        Monte Carlo and the orbits on Dask partitions; the zero points and the
        combination of the surveys' matched stars (small tables) as in memory.
        Same numbers as ``"memory"`` for the same seed. Recorded in the
        provenance with the workers and the HATS catalogues.
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
    if zero_points not in ("measure", "apply", "off"):
        raise ParameterError("zero_points", zero_points, "one of 'measure', 'apply', 'off'")
    if cluster_params is not None and cluster_catalogue is not None:
        raise ParameterError("cluster_catalogue", cluster_catalogue,
                             "give cluster_params or cluster_catalogue, not both")
    options = {k: v for k, v in dict(locals()).items() if k in _BUILD}
    if engine == "lsdb":  # the survey-scale engine (astro_ocl.scale) runs steps 1-5 and 7
        from .scale import LsdbEngine
        with LsdbEngine(client=client, show_progress=show_progress) as scale:
            return _build(scale=scale, **options)
    if client is not None:
        raise ParameterError("client", client, "only with engine='lsdb'")
    return _build(scale=None, **options)


_BUILD = ("stars", "surveys", "reference_survey", "zero_points", "members", "cluster_params",
          "gaia_sources", "clusters", "membership_threshold", "n_realisations", "seed",
          "seed_given", "cuts", "match_radius", "epoch", "literature", "online",
          "show_progress", "orbits", "orbit_samples", "gradients", "convention",
          "cluster_catalogue", "online_options")


def _build(*, scale, stars, surveys, reference_survey, zero_points, members, cluster_params,
           gaia_sources, clusters, membership_threshold, n_realisations, seed, seed_given, cuts,
           match_radius, epoch, literature, online, show_progress, orbits, orbit_samples,
           gradients, convention, cluster_catalogue, online_options):
    """The build of `build_catalogue` (``scale``: the survey-scale engine or None)."""
    threshold = float(membership_threshold)
    cuts = QualityCuts() if cuts is None else cuts
    radius = None if match_radius is None else u.Quantity(match_radius, u.arcsec)
    epoch = None if epoch is None else Time(epoch)
    stage_log = StageLog()
    started = datetime.datetime.now(datetime.timezone.utc)
    provenance = {"package": "astro_ocl", "version": _package_version(),
                  "date": started.isoformat(timespec="seconds"), "method": REFERENCE}

    # ---- steps 1-2: the inputs (sources) --------------------------------------------------
    if online:
        from .sources.archives.online import fetch_inputs
        fetched = fetch_inputs(clusters=clusters, membership_threshold=threshold,
                               radius=3.5 * u.arcsec if radius is None else radius,
                               show_progress=show_progress, **online_options)
        stars = fetched["stars"] if stars is None else stars
        members = fetched["members"] if members is None else members
        if cluster_params is None and cluster_catalogue is None:
            cluster_params = fetched["cluster_params"]
        gaia_sources = fetched["gaia_sources"] if gaia_sources is None else gaia_sources
        stage_log.records.extend(fetched["stage_log"])
        provenance["queries"] = str(fetched["provenance"])
    elif online_options:
        raise TypeError(f"unexpected options {sorted(online_options)} (only with online=True)")
    cg = cluster_params if cluster_params is not None else \
        read_cluster_catalogue("cg2020" if cluster_catalogue is None else cluster_catalogue)
    resolver = cluster_resolver(cg)
    if scale is not None:  # steps 1-3 on HATS partitions (astro_ocl.scale), same rules
        inputs = _scale_star_inputs(stars, surveys)
        if members is None and not online and "APOGEE" in inputs:
            members = _embedded_members(resolver)
        wanted = None if clusters is None else sorted(
            {resolver.resolve(c) for c in ([clusters] if isinstance(clusters, str) else clusters)})
        radii = {label: radius if radius is not None else _label_radius(label)
                 for label in inputs}
        matched_by = scale.match_surveys(
            {label: dict(stars=value, reader=reader, radius=radii[label], epoch=epoch)
             for label, (value, reader) in inputs.items()},
            members, gaia_sources=gaia_sources, member_reader=read_cg_members,
            member_kwargs={"resolver": resolver}, wanted=wanted, threshold=threshold,
            stage_log=stage_log)
        for label, m in matched_by.items():
            if "survey" not in m.colnames:
                m["survey"] = np.full(len(m), label)
        # the inputs stay in their HATS catalogues: only their sources go to the provenance
        star_sets = {label: QTable(meta={"source": st.source, "gaia_id_translation":
                                         scale.translations.get(label, "none")})
                     for label, st in scale.star_inputs.items()}
        members = QTable(meta={"source": scale.inputs["members"].source,
                               "gaia_release": scale.members_release})
    else:
        star_sets = _star_tables(stars, surveys)
        if members is None and not online and "APOGEE" in star_sets:
            # the CG2018 members near the OCCAM stars join the embedded subset
            members = _embedded_members(resolver)
        members = _table(members, read_cg_members, resolver=resolver)
        for label, table in star_sets.items():
            stage_log.stage(f"input stars ({label})", n_in=len(table), n_out=len(table),
                            note=str(table.meta.get("source", "")))
            # a DR2-id star table joined to DR3-id members: ids translated, drops counted
            star_sets[label] = align_gaia_releases(table, members, online=online,
                                                   client_options=online_options,
                                                   stage_log=stage_log)
        wanted = None
        if clusters is not None:
            wanted = sorted({resolver.resolve(c) for c in
                             ([clusters] if isinstance(clusters, str) else clusters)})
            keep = np.isin(np.asarray(members["Cluster"]).astype(str), wanted)
            stage_log.stage("requested clusters", n_in=len(members), n_out=int(keep.sum()),
                            dropped={"member of another cluster": int((~keep).sum())})
            members = members[keep]

        # ---- step 3: cross-match, survey by survey ----------------------------------------------
        star_sets = {k: clean_stars(t, stage_log=stage_log) for k, t in star_sets.items()}
        selected = select_members(members, threshold=threshold, stage_log=stage_log)
        matched_by = {}
        radii = {}
        for label, table in star_sets.items():
            radii[label] = r = radius if radius is not None else _survey_radius(table)
            e = epoch if epoch is not None else table.meta.get("epoch")
            sources = gaia_sources
            key = survey_id_key(table)
            if key:
                # a survey adapter's stars without Gaia ids (APOGEE): one spectrum per
                # star, then by position (2MASS positions, 1.5 arcsec); without
                # gaia_sources the Gaia sources are the members themselves
                table = deduplicate_stars(table, key=key, stage_log=stage_log)
                if sources is None:
                    sources = selected["source_id", "coord"]
            m = match_stars(table, selected, gaia_sources=sources, radius=r, epoch=e,
                            stage_log=stage_log)
            if "survey" not in m.colnames:
                m["survey"] = np.full(len(m), label)
            matched_by[label] = m

    # ---- zero points between surveys (measured; applied only when asked) -------------------
    statistics = cluster_statistics if scale is None else scale.cluster_statistics
    zp_table, per_survey = None, {}
    if len(matched_by) > 1 and zero_points != "off":
        from .steps.multisurvey import apply_zero_points, measure_zero_points
        for label, m in matched_by.items():
            if len(m):
                st, _ = statistics(m, n_realisations=n_realisations, seed=seed, cuts=cuts,
                                   show_progress=False)
                per_survey[label] = cluster_table(st, cg, cuts=cuts, stage_log=StageLog(),
                                                  warn_unknown=False)
        reference = _reference_survey(reference_survey, per_survey)
        zp_table = measure_zero_points(per_survey, reference=reference, seed=seed)
        if zero_points == "apply":
            matched_by = {k: apply_zero_points(v, zp_table) for k, v in matched_by.items()}
    matched = combine_matched(matched_by, stage_log=stage_log if len(matched_by) > 1 else None)
    if wanted is not None:
        _report_empty(wanted, matched, stage_log)

    # ---- steps 4-5: flags and Monte Carlo statistics ---------------------------------------
    stats, flags = statistics(matched, n_realisations=n_realisations, seed=seed, cuts=cuts,
                              show_progress=show_progress)
    clusters_t = cluster_table(stats, cg, cuts=cuts, stage_log=stage_log)
    composition = survey_composition(matched, flags)
    names = np.asarray(clusters_t["Cluster"]).astype(str)
    clusters_t["RVsurveys"] = [composition[n][0] for n in names]
    clusters_t["FeHsurveys"] = [composition[n][1] for n in names]
    for name in ("RVsurveys", "FeHsurveys"):  # no star used: null, not ""
        clusters_t[name] = MaskedColumn(clusters_t[name], mask=clusters_t[name] == "")
    for name in ("RVsurveys", "FeHsurveys"):
        clusters_t[name].info.description = schema.CLUSTERS[name].description
    members_t = member_table(matched, flags, cuts=cuts)
    # one entry per survey, in the order of provenance["surveys"]
    stars_source = "; ".join(describe_input(t.meta.get("source")) for t in star_sets.values())
    provenance["surveys"] = ",".join(star_sets)
    if zp_table is not None:
        provenance["zero_points"] = zero_points
        provenance["zero_point_reference"] = zp_table.meta["reference"]
        provenance["zero_points_applied"] = "; ".join(
            sorted({v.meta.get("zero_points_applied", "none") for v in matched_by.values()}))
    provenance.update({
        "stars": stars_source,
        "members": "; ".join(describe_input(part)
                             for part in str(members.meta.get("source")).split("; ")),
        "cluster_params": describe_input(cg.meta.get("source")),
        "cluster_catalogue": str(cg.meta.get("catalogue", "given table")),
        "members_gaia_release": gaia_release(members),
        "gaia_id_translation": "; ".join(
            f"{k}: {t.meta.get('gaia_id_translation', 'none')}" for k, t in star_sets.items()),
        "membership_threshold": threshold, "n_realisations": n_realisations,
        "seed": int(seed), "seed_origin": "given" if seed_given else "drawn (no seed given)",
        "match_radius": ", ".join(f"{k}: {v}" for k, v in radii.items()),
        "epoch": "none" if epoch is None else f"J{epoch.jyear:.3f}",
        **({"engine": "memory"} if scale is None else scale.provenance()),
        **{f"qc_{k}": v for k, v in cuts.as_meta().items()}})

    # ---- step 6: literature comparison -------------------------------------------------------
    comparison, matched_lit = None, {}
    if literature is not False:
        from .sources.literature import LITERATURE, read_literature
        from .steps.compare import literature_comparison
        catalogues = list(LITERATURE) if literature is True else literature
        if not isinstance(catalogues, dict):  # read once, compared several times
            catalogues = {name: read_literature(name, resolver=resolver) for name in catalogues}
        comparison, matched_lit = literature_comparison(clusters_t, catalogues)
        # each survey's own cluster values too: APOGEE against OCCAM's published
        # APOGEE cluster table, LAMOST against the others, without the combination
        if per_survey:
            parts = [comparison]
            for label, table in per_survey.items():
                extra, extra_matched = literature_comparison(table, catalogues,
                                                             sample=f"{label} stars only")
                parts.append(extra)
                matched_lit.update(extra_matched)
            comparison = vstack(parts, metadata_conflicts="silent")

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
                           gradient_sample=fallback.get("sample"), zero_points=zp_table,
                           by_survey=per_survey)


def _survey_items(stars, surveys):
    """The ``surveys`` option as checked ``[(registry name, value)]``; None when ``stars``
    (one table read as LAMOST) is given instead. Default: `DEFAULT_SURVEYS`."""
    from .sources import SURVEYS
    if stars is not None:
        if surveys is not None:
            raise ParameterError("stars", "given", "give either stars or surveys, not both")
        return None
    surveys = DEFAULT_SURVEYS if surveys is None else surveys
    if isinstance(surveys, str):
        surveys = [x.strip() for x in surveys.split(",") if x.strip()]
    items = list(surveys.items()) if isinstance(surveys, dict) else [(x, None) for x in surveys]
    if not items:
        raise ParameterError("surveys", surveys, "at least one survey is needed")
    for name, _ in items:
        if name not in SURVEYS:
            raise ParameterError("surveys", name, f"unknown survey; choose from {sorted(SURVEYS)}")
    return items


def _star_tables(stars, surveys):
    """``{survey label: canonical star table}`` from the ``stars`` and ``surveys`` options."""
    items = _survey_items(stars, surveys)
    if items is None:
        table = _table(stars, read_lamost)
        return {str(table.meta.get("survey") or _first_survey(table) or "stars"): table}
    from .sources import read_survey
    out = {}
    for name, value in items:
        if isinstance(value, QTable) and "coord" in value.colnames:
            table = value
        elif isinstance(value, Table):
            table = read_survey(name, table=value, path=value.meta.get("source"))
        else:
            table = read_survey(name, path=value)
        label = str(table.meta.get("survey") or _first_survey(table) or name)
        if label in out:
            raise ParameterError("surveys", name, f"survey {label!r} given twice")
        out[label] = table
    return out


def _scale_star_inputs(stars, surveys):
    """The star inputs of the survey-scale engine: ``{survey label: (input, reader)}``.

    ``stars`` (a file, a HATS catalogue or a table) is read as LAMOST; ``surveys``
    (names, or names to files / HATS catalogues; default `DEFAULT_SURVEYS`) by each
    survey's adapter. The inputs are not read here: the engine imports them.
    """
    from .sources import SURVEYS, read_survey
    items = _survey_items(stars, surveys)
    if items is None:
        label = stars.meta.get("survey") if isinstance(stars, Table) else None
        return {str(label or "LAMOST-LRS"): (stars, read_lamost)}  # read as LAMOST
    out = {}
    for name, value in items:
        def reader(path=None, *, table=None, _name=name, **options):
            return read_survey(_name, path, table=table, **options)
        reader.__qualname__ = f"read_survey[{name}]"  # names the reader in the HATS cache key
        label = SURVEYS[name].label
        if label in out:
            raise ParameterError("surveys", name, f"survey {label!r} given twice")
        out[label] = (value, reader)
    return out


def _label_radius(label):
    """The match radius of the survey labelled ``label`` (3.5 arcsec if unknown)."""
    from .sources import SURVEYS
    for s in SURVEYS.values():
        if s.label == label:
            return s.match_radius
    return 3.5 * u.arcsec


def _survey_radius(table):
    """The match radius of the survey a star table comes from (3.5 arcsec if unknown)."""
    return _label_radius(table.meta.get("survey"))


def _embedded_members(resolver):
    """The embedded members for APOGEE: CG2018 members of the 19 clusters and of the OCCAM
    stars (without APOGEE the 19 clusters' file alone, ``read_cg_members()``)."""
    from astropy.table import unique
    from .sources.surveys import OCCAM_MEMBERS_FILE
    from .utils import data_path
    parts = [read_cg_members(resolver=resolver),
             read_cg_members(data_path(OCCAM_MEMBERS_FILE), resolver=resolver)]
    both = vstack(parts, metadata_conflicts="silent")
    both = unique(both, keys=["Cluster", "source_id"])
    both.meta["source"] = "; ".join(str(p.meta["source"]) for p in parts)
    return both


def _first_survey(table):
    return str(table["survey"][0]) if "survey" in table.colnames and len(table) else None


def _reference_survey(requested, per_survey):
    """The zero-point reference: the one asked for, else a high-resolution survey."""
    if requested is not None:
        if requested not in per_survey:
            raise ParameterError("reference_survey", requested,
                                 f"not among the surveys with matched stars: {sorted(per_survey)}")
        return requested
    for prefix in REFERENCE_PREFERENCE:
        for label in per_survey:
            if label.upper().startswith(prefix.upper()):
                return label
    return next(iter(per_survey))


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
                         "or RV have NaN orbit columns; "
                         f"{orb.meta.get('samples_outside_grid', 0)} Monte Carlo orbits left "
                         "the grid and are left out of the errors")
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
