"""The catalogue build: a short composition of sources and method steps, with provenance.

:func:`build_catalogue` checks its options once (`~astro_ocl.options.BuildOptions`),
reads (or is given, or fetches) the inputs, runs the method steps of
:mod:`astro_ocl.steps` in order on a build engine (`astro_ocl.engines`: in
memory, or LSDB/Dask for survey-scale inputs) and returns a
`~astro_ocl.result.CatalogueResult`. It writes nothing.

========  ==========================================  ===========================
step      what                                        where
========  ==========================================  ===========================
1, 2      stars, members, cluster parameters          :mod:`astro_ocl.sources`
3         cross-match (every input path)              `.steps.crossmatch` (engine)
-         several surveys on one scale                `.steps.zeropoints`
4, 5      flags and cluster statistics                `.steps.statistics` (engine)
6         literature comparison                       `.steps.compare`
7         orbits and integrals of motion              `.steps.dynamics` (engine)
8         [Fe/H] gradients                            `.steps.gradients`
========  ==========================================  ===========================
"""
import datetime
import functools
import warnings

import astropy.units as u
import numpy as np
from astropy.table import MaskedColumn, unique, vstack

from . import schema
from .accounting import StageLog, Stages
from .engines import BuildInputs, MemoryEngine
from .exceptions import DroppedRowsWarning, ParameterError
from .logger import log
from .options import DEFAULT_SURVEYS, BuildOptions, parse_surveys
from .result import CatalogueResult
from .sources import cluster_resolver, read_cg_members
from .sources.archives import online as archives_online
from .sources.clusters import read_cluster_catalogue, read_cluster_dynamics_input
from .sources.literature import LITERATURE, read_literature
from .steps.compare import literature_comparison
from .steps.dynamics import orbit_parameters, positions_back_in_time
from .steps.gradients import DEFAULT_UNCERTAINTY, FU2022_UNCERTAINTY, gradients_for_catalogue
from .steps.multisurvey import cluster_provenance, combine_matched
from .steps.statistics import cluster_table, likelihood_cluster_table, member_table
from .steps.validation import REFERENCES, validate_catalogue
from .steps.zeropoints import apply_zero_points, fit_zero_points, survey_statistics
from .steps.validity import log_validity, statistics_input, survey_validity
from .sources.surveys import OCCAM_MEMBERS_FILE
from .utils import data_path, describe_input, sigterm_as_interrupt
from .version import __version__

__all__ = ["build_catalogue", "make_engine", "REFERENCE", "DEFAULT_SURVEYS"]

#: Surveys preferred as the zero-point reference, in order (high resolution first).
REFERENCE_PREFERENCE = ("APOGEE", "GALAH", "Gaia-RVS")

REFERENCE = ("Fu X. et al. 2022, A&A 668, A4, 'LAMOST meets Gaia: the Galactic open "
             "clusters' (2022A&A...668A...4F)")


def make_engine(options):
    """The build engine that ``options.engine`` names (not entered yet: use it in ``with``).

    The engines sit below the build: `astro_ocl.engines` holds the protocol and the
    in-memory engine, `astro_ocl.scale` the LSDB/Dask one built on that protocol; the
    choice between them is made here, above both.

    Parameters
    ----------
    options : `~astro_ocl.options.BuildOptions`

    Returns
    -------
    `~astro_ocl.engines.base.Engine`
        `~astro_ocl.engines.memory.MemoryEngine` for ``"memory"``,
        `~astro_ocl.scale.LsdbEngine` for ``"lsdb"`` (the ``scale`` extra, imported
        only when asked for).
    """
    if options.engine == "lsdb":
        from .scale import LsdbEngine
        return LsdbEngine(client=options.client, show_progress=options.show_progress)
    return MemoryEngine(show_progress=options.show_progress)


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
def build_catalogue(*, stars=None, surveys=None, reference_survey=None, zero_points="apply",
                    members=None, cluster_params=None, gaia_sources=None,
                    clusters=None, membership_threshold=0.7, n_realisations=5000, seed=None,
                    cuts=None, match_radius=None, epoch=None, literature=True,
                    online=False, show_progress=None, orbits=True, orbit_samples=100,
                    gradients=False, convention="standard", statistics="likelihood",
                    survey_domains=True, cluster_catalogue=None, engine="memory",
                    client=None, **online_options):
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
        samples) or ``{name: table or path}``. A star measured by several
        surveys keeps its best measurement (inside its survey's domain, then the
        smallest RV error; `~astro_ocl.steps.multisurvey.combine_matched`). Default:
        `DEFAULT_SURVEYS`, or only ``stars`` when it is given.
    reference_survey : str, optional
        The survey the others' zero points are measured against, by label or
        name (``"APOGEE"``, ``"apogee"``). Default: the first of APOGEE, GALAH
        and Gaia RVS present, else the first survey. The [Fe/H] scale is set by
        the same survey when it has [Fe/H] inside its validity domain, else by
        the next that has (the zero-point table names the reference of each
        quantity).
    zero_points : {"apply", "measure", "off"}
        With several surveys, every survey's RV and [Fe/H] offset from the
        reference is fitted jointly over the clusters two or more surveys share
        (`astro_ocl.steps.zeropoints.fit_zero_points`) and, by default
        (``"apply"``), removed: RV offsets when measured, [Fe/H] offsets when
        significant (> 2 sigma); with the likelihood statistics their
        uncertainty is propagated into every cluster value (the paper's Monte
        Carlo statistics subtract the offsets only). ``RVzp``/``FeHzp`` say
        which made each value. ``"measure"``
        reports them only (raw values); ``"off"`` does not fit them.
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
    statistics : {"likelihood", "fu2022-montecarlo"}
        The cluster values. ``"likelihood"`` (default,
        `astro_ocl.steps.likelihood.likelihood_statistics`): a model of the stars
        with an intrinsic dispersion and an outlier/binary component, whose
        errors cover the stars' dispersion, and a flag when the stars do not
        constrain a value (``RV, e_RV, sRVint, f_RV`` ...). ``"fu2022-montecarlo"``:
        the Monte Carlo medians of Fu et al. (2022) with their FLAG=1 and FLAG=12
        selections (``RVmed, e_RVmed, s_RV`` ...; `astro_ocl.reproduce` uses it).
    survey_domains : bool
        Leave the stars a survey cannot measure out of the statistics
        (`astro_ocl.steps.validity.survey_validity`: the survey's flags, S/N,
        pipeline grid limits, stars too hot for its templates by their Gaia
        colour). They stay in the member table with the reason
        (``RVdomain``/``FeHdomain``), counted in the stage log per survey and reason.
    convention : {"standard", "fu2022"}
        ``"standard"`` (default): the physically correct orbits and integrals of
        motion, gradients weighted by the error of the fitted [Fe/H] with the
        clusters' intrinsic [Fe/H] scatter about the gradient fitted per age group.
        ``"fu2022"``: as the
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
    options = BuildOptions(
        stars=stars, surveys=surveys, reference_survey=reference_survey,
        zero_points=zero_points, members=members, cluster_params=cluster_params,
        gaia_sources=gaia_sources, clusters=clusters,
        membership_threshold=membership_threshold, n_realisations=n_realisations, seed=seed,
        cuts=cuts, match_radius=match_radius, epoch=epoch, literature=literature,
        online=online, show_progress=show_progress, orbits=orbits,
        orbit_samples=orbit_samples, gradients=gradients, convention=convention,
        statistics=statistics, survey_domains=survey_domains,
        cluster_catalogue=cluster_catalogue, engine=engine, client=client,
        online_options=online_options)
    with make_engine(options) as build_engine:
        return compose(options, build_engine)


def compose(opts, engine):
    """The method, step by step, on ``engine`` (see `build_catalogue`).

    Parameters
    ----------
    opts : `~astro_ocl.options.BuildOptions`
    engine : `~astro_ocl.engines.base.Engine`
        Entered (used inside its ``with`` block).

    Returns
    -------
    `~astro_ocl.result.CatalogueResult`
    """
    stage_log = StageLog()
    provenance = {"package": "astro_ocl", "version": __version__,
                  "date": datetime.datetime.now(datetime.timezone.utc).isoformat(
                      timespec="seconds"), "method": REFERENCE}
    # steps 1-2: inputs; step 3: each survey's stars matched to the selected members
    inputs = _inputs(opts, stage_log, provenance)
    matched = engine.match(inputs, options=opts, stage_log=stage_log)
    by_survey = matched.by_survey
    if opts.survey_domains:  # where each survey's RV and [Fe/H] can be trusted
        by_survey = {k: survey_validity(v, cluster_params=inputs.cluster_params)
                     for k, v in by_survey.items()}
    # several surveys on one scale: each one's own clusters, the zero points
    per_survey, zp_table = _zero_points(by_survey, opts)
    stars = combine_matched(by_survey, stage_log=stage_log if len(by_survey) > 1 else None)
    if opts.survey_domains:
        log_validity(stars, stage_log)
    if inputs.wanted is not None:
        _report_empty(inputs.wanted, stars, stage_log)
    # steps 4-5: flags and statistics per cluster
    clusters_t, members_t = _cluster_values(stars, zp_table, opts, engine, inputs, stage_log)
    provenance.update(_input_provenance(opts, matched, inputs, by_survey, zp_table))
    provenance.update(engine.provenance())
    provenance.update(matched.provenance)
    # step 6: literature comparison (the catalogue's values and each survey's own)
    comparison, matched_lit = _literature(clusters_t, per_survey, opts, inputs.resolver)
    # every build checks itself against independent data
    validation = _validation(clusters_t, inputs.resolver)
    # step 7: orbits and integrals of motion; step 8: gradients
    orbit_history = gradient_result = None
    fallback = {}
    if opts.orbits:
        orbit_history = _add_orbits(clusters_t, opts, engine, stage_log)
        provenance["orbit_samples"] = opts.orbit_samples
    provenance["convention"] = opts.convention
    if opts.gradients:
        gradient_result = gradients_for_catalogue(
            clusters_t if opts.orbits else None,
            fallback=lambda: fallback.setdefault("sample",
                                                 _zhong2020_with_orbits(opts.convention)),
            seed=opts.seed, progress=opts.show_progress,
            # the physically correct fit has the clusters' own [Fe/H] scatter about the
            # gradient; the paper's has none and weights by s_[Fe/H]
            scatter=opts.convention == "standard",
            uncertainty=FU2022_UNCERTAINTY if opts.convention == "fu2022"
            else DEFAULT_UNCERTAINTY)
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
                           by_survey=per_survey, validation=validation)


def _inputs(opts, stage_log, provenance):
    """Steps 1-2: the surveys, members, Gaia sources and cluster parameters of a build
    (fetched from the services with ``online``), and the requested clusters resolved."""
    surveys, members, gaia_sources = opts.surveys, opts.members, opts.gaia_sources
    cluster_params = opts.cluster_params
    if opts.online:
        fetched = archives_online.fetch_inputs(
            clusters=opts.clusters, membership_threshold=opts.membership_threshold,
            radius=3.5 * u.arcsec if opts.match_radius is None else opts.match_radius,
            show_progress=opts.show_progress, **opts.online_options)
        if not surveys:  # neither stars nor surveys given: the fetched LAMOST stars
            surveys = parse_surveys(stars=fetched["stars"], match_radius=opts.match_radius)
        members = fetched["members"] if members is None else members
        if cluster_params is None and opts.cluster_catalogue is None:
            cluster_params = fetched["cluster_params"]
        gaia_sources = fetched["gaia_sources"] if gaia_sources is None else gaia_sources
        stage_log.extend(fetched["stage_log"])
        provenance["queries"] = str(fetched["provenance"])
    if cluster_params is None:
        cluster_params = read_cluster_catalogue(opts.cluster_catalogue or "cg2020")
    resolver = cluster_resolver(cluster_params)
    if members is None and not opts.online and "APOGEE" in [s.label for s in surveys]:
        members = _embedded_members(resolver)  # CG2018 members near the OCCAM stars too
    wanted = None if opts.clusters is None else \
        sorted({resolver.resolve(c) for c in opts.clusters})
    return BuildInputs(surveys=surveys, members=members, member_reader=read_cg_members,
                       gaia_sources=gaia_sources, cluster_params=cluster_params,
                       resolver=resolver, wanted=wanted)


def _zero_points(by_survey, opts):
    """Each survey's own cluster values (likelihood, own scale) and the surveys' zero points
    against the reference, fitted jointly (`~astro_ocl.steps.zeropoints.fit_zero_points`);
    with ``zero_points="measure"`` reported but not applied."""
    if len(by_survey) < 2 or opts.zero_points == "off":
        return {}, None
    per_survey = survey_statistics(by_survey, cuts=opts.cuts)
    reference = _reference_survey(opts.reference_survey, per_survey)
    zp_table = fit_zero_points(per_survey, reference=reference, seed=opts.seed)
    if opts.zero_points == "measure":
        zp_table["status"] = [f"measured, not applied (zero_points='measure'); the fit: {s}"
                              if a else s for s, a in zip(zp_table["status"], zp_table["applied"])]
        zp_table["applied"] = False
        zp_table.meta["applied"] = "none (zero_points='measure')"
    return per_survey, zp_table


def _cluster_values(stars, zp_table, opts, engine, inputs, stage_log):
    """Steps 4-5: the cluster table (either statistics method) and the member table."""
    cg = inputs.cluster_params
    core = None
    if opts.statistics == "likelihood":
        # the surveys' offsets are fitted together: their errors are correlated
        fits, per_star = engine.likelihood_statistics(stars, zero_points=zp_table,
                                                      cuts=opts.cuts,
                                                      correlated_zero_points=True,
                                                      show_progress=opts.show_progress)
        clusters_t = likelihood_cluster_table(fits, cg, stage_log=stage_log)
        flags, core = np.asarray(per_star["Flag"]), np.asarray(per_star["Pcore"], float)
    else:  # the Monte Carlo medians of Fu et al. (2022), on the stars the domains allow
        used, rows = (statistics_input(stars) if "rv_valid" in stars.colnames
                      else (stars, np.arange(len(stars))))
        if zp_table is not None:
            used = apply_zero_points(used, zp_table)
        stats, used_flags = engine.cluster_statistics(used, n_realisations=opts.n_realisations,
                                                      seed=opts.seed, cuts=opts.cuts,
                                                      show_progress=opts.show_progress)
        clusters_t = cluster_table(stats, cg, cuts=opts.cuts, stage_log=stage_log)
        flags = np.zeros(len(stars), int)
        flags[rows] = used_flags
    _add_composition(clusters_t, stars, flags, zp_table)
    members_t = member_table(stars, flags, cuts=opts.cuts, core=core)
    return clusters_t, members_t


def _add_composition(clusters_t, stars, flags, zp_table):
    """``RVsurveys``/``FeHsurveys`` (which surveys and how many stars made each value) and
    ``RVzp``/``FeHzp`` (which zero points), null where no star was used."""
    applied = zp_table if zp_table is not None and np.any(zp_table["applied"]) else None
    comp = cluster_provenance(stars, flags, applied)
    rows = {str(n): i for i, n in enumerate(comp["Cluster"])}
    index = [rows.get(str(n), -1) for n in clusters_t["Cluster"]]
    for name in ("RVsurveys", "FeHsurveys", "RVzp", "FeHzp"):
        values = [str(comp[name][i]) if i >= 0 else "" for i in index]
        clusters_t[name] = MaskedColumn(values, mask=[v == "" for v in values])
        clusters_t[name].info.description = schema.CLUSTERS[name].description


def _input_provenance(opts, matched, inputs, by_survey, zp_table):
    """What the provenance says of the inputs, the surveys and the options."""
    prov = {"surveys": ",".join(matched.by_survey)}
    if zp_table is not None:
        prov["zero_points"] = opts.zero_points
        refs = dict(zip(zp_table["quantity"], zp_table["reference"]))
        prov["zero_point_reference"] = (
            ", ".join(f"{r} ({q})" for q, r in refs.items()) if len(set(refs.values())) > 1
            else str(zp_table.meta["reference"]))
        prov["zero_points_applied"] = str(zp_table.meta.get("applied", "none"))
    cg = inputs.cluster_params
    prov.update({
        "stars": "; ".join(describe_input(s) for s in matched.star_sources.values()),
        "members": "; ".join(describe_input(part)
                             for part in str(matched.members_source).split("; ")),
        "cluster_params": describe_input(cg.meta.get("source")),
        "cluster_catalogue": str(cg.meta.get("catalogue", "given table")),
        "members_gaia_release": matched.members_release,
        "gaia_id_translation": "; ".join(f"{k}: {v}" for k, v in matched.translations.items()),
        **opts.as_provenance(inputs.surveys)})
    return prov


def _literature(clusters_t, per_survey, opts, resolver):
    """Step 6: offsets against the literature, of the catalogue and of each survey alone."""
    if opts.literature is False:
        return None, {}
    catalogues = list(LITERATURE) if opts.literature is True else opts.literature
    if not isinstance(catalogues, dict):  # read once, compared several times
        catalogues = {name: read_literature(name, resolver=resolver) for name in catalogues}
    comparison, matched_lit = literature_comparison(clusters_t, catalogues)
    # each survey's own cluster values too: APOGEE against OCCAM's published APOGEE
    # cluster table, LAMOST against the others, without the combination
    parts = [comparison]
    for label, table in per_survey.items():
        extra, extra_matched = literature_comparison(table, catalogues,
                                                     sample=f"{label} stars only")
        parts.append(extra)
        matched_lit.update(extra_matched)
    if len(parts) > 1:
        comparison = vstack(parts, metadata_conflicts="silent")
    return comparison, matched_lit


def _validation(clusters_t, resolver):
    """The build against independent references (`~astro_ocl.steps.validation`)."""
    references = {name: read_literature(name, resolver=resolver) for name in REFERENCES}
    return validate_catalogue(clusters_t, references)


def _embedded_members(resolver):
    """The embedded members for APOGEE: CG2018 members of the 19 clusters and of the OCCAM
    stars (without APOGEE the 19 clusters' file alone, ``read_cg_members()``)."""
    parts = [read_cg_members(resolver=resolver),
             read_cg_members(data_path(OCCAM_MEMBERS_FILE), resolver=resolver)]
    both = vstack(parts, metadata_conflicts="silent")
    both = unique(both, keys=["Cluster", "source_id"])
    both.meta["source"] = "; ".join(str(p.meta["source"]) for p in parts)
    return both


def _reference_survey(requested, per_survey):
    """The zero-point reference of each quantity: ``{"RV": label, "[Fe/H]": label}``.

    RV: the survey asked for, else the first of `REFERENCE_PREFERENCE` present, else
    the first survey. [Fe/H]: the same survey when it has [Fe/H] values inside its
    domain, else the first (in that order) that has; a survey whose [Fe/H] is
    outside its domain by design (Gaia RVS) cannot set that scale.
    """
    if requested is not None and requested not in per_survey:
        raise ParameterError("reference_survey", requested,
                             f"no matched stars of this survey: {sorted(per_survey)}")
    order = [requested] if requested is not None else []
    for prefix in REFERENCE_PREFERENCE:
        order += [label for label in per_survey if label.upper().startswith(prefix.upper())]
    order += list(per_survey)
    with_feh = [label for label in order if "[Fe/H]" in per_survey[label].colnames
                and np.isfinite(u.Quantity(per_survey[label]["[Fe/H]"]).value).any()]
    reference = {"RV": order[0], "[Fe/H]": with_feh[0] if with_feh else order[0]}
    if reference["[Fe/H]"] != reference["RV"]:
        log.info("%s has no [Fe/H] inside its domain: the [Fe/H] zero points are measured "
                 "against %s", reference["RV"], reference["[Fe/H]"])
    return reference


def _report_empty(wanted, matched, stage_log):
    """Warn about and count requested clusters without a usable spectroscopic member."""
    empty = sorted(set(wanted) - set(np.asarray(matched["Cluster"]).astype(str)))
    if empty:
        warnings.warn(f"{len(empty)} requested clusters have no usable spectroscopic "
                      f"member and are left out: {', '.join(empty)}", DroppedRowsWarning)
        stage_log.stage(Stages.REQUESTED_WITH_MEMBERS, n_in=len(wanted),
                        n_out=len(wanted) - len(empty),
                        dropped={"no usable spectroscopic member": len(empty)})


def _add_orbits(clusters_t, opts, engine, stage_log):
    """Step 7: orbit columns added to ``clusters_t`` in place; returns the orbit history."""
    samples = opts.orbit_samples
    orb = engine.orbit_parameters(clusters_t, n_samples=samples, seed=opts.seed,
                                  convention=opts.convention, show_progress=opts.show_progress)
    for name in orb.colnames:
        if name != "Cluster":
            clusters_t[name] = orb[name]
    have = np.isfinite(np.asarray(orb["Energy"], float))
    # clusters without an orbit stay in the table (orbit columns NaN): counted here
    stage_log.stage(Stages.ORBITS, n_in=len(clusters_t), n_out=int(have.sum()),
                    dropped={"no distance, proper motion or RV (kept, orbit columns NaN)":
                             int((~have).sum())},
                    note=f"McMillan17, {samples} Monte Carlo orbits per cluster; "
                         f"{orb.meta.get('samples_outside_grid', 0)} Monte Carlo orbits left "
                         "the grid and are left out of the errors")
    clusters_t.meta.update({f"orbit_{k}": v for k, v in orb.meta.items()})
    # the orbits were drawn from per-cluster streams of the build seed
    clusters_t.meta["orbit_seed"] = int(opts.seed)
    clusters_t.meta["orbit_rng"] = "numpy default_rng([seed, crc32('orbit:' + Cluster)])"
    return positions_back_in_time(clusters_t[have])


def _zhong2020_with_orbits(convention):
    """The gradient fallback sample: Zhong et al. (2020) clusters with their orbit columns."""
    z = read_cluster_dynamics_input()
    orb = orbit_parameters(z, n_samples=0, outside="nan", convention=convention)
    for c in orb.colnames:
        if c != "Cluster":
            z[c] = orb[c]
    return z
