"""``astro-ocl build``: build the catalogue and write it."""
import time
from pathlib import Path

import astropy.units as u

from ..exceptions import InputDataError, ParameterError, ScaleError
from ..options import (check_epoch, check_orbit_samples, check_realisations, check_threshold,
                       parse_surveys)
from ..outputs import check_output_folder
from ..pipeline import build_catalogue
from ..sinks.catalogue import catalogue_files
from ..sources.literature import read_zucker2020
from ..steps.quality import QualityCuts
from ..utils import require
from .common import HelpFormatter, float_range, option_type, positive_float
from .gradients import print_gradients

__all__ = ["add_parser", "run"]


def add_parser(sub):
    p = sub.add_parser(
        "build",
        help="build the open-cluster catalogue (offline on the embedded sample by default)",
        description="Cross-match spectroscopic survey stars (every embedded survey by default: "
                    "LAMOST LRS and MRS, APOGEE OCCAM DR16) with Cantat-Gaudin members, flag "
                    "them, measure the surveys' zero points, derive cluster RV and [Fe/H] by "
                    "Monte Carlo, compare with the literature, and "
                    "write clusters/members as ECSV and VOTable into --out (atomically). Unlike "
                    "build_catalogue() in Python, the command also fits the [Fe/H] gradients "
                    "(--no-gradients to skip them).",
        formatter_class=HelpFormatter)
    p.add_argument("--out", default="catalogue", type=Path, help="output directory")
    p.add_argument("--overwrite", action="store_true",
                   help="replace the files of an earlier build in --out (only the files this "
                        "build writes, all together once it succeeded; anything else in --out "
                        "stays)")
    p.add_argument("--seed", type=int, default=None,
                   help="random seed (reproducible output; default: none, a fresh one)")
    p.add_argument("--realisations", type=option_type(check_realisations, "integer"),
                   default=5000,
                   help="Monte Carlo realisations per cluster")
    p.add_argument("--threshold", type=option_type(check_threshold, "number"), default=0.7,
                   help="minimum membership probability")
    p.add_argument("--match-radius", type=positive_float, default=None, metavar="ARCSEC",
                   help="positional match radius of stars without a Gaia id (default: each "
                        "survey's own, 3.5 for LAMOST, 1.5 for APOGEE)")
    p.add_argument("--epoch", default=None, type=option_type(check_epoch, "epoch"),
                   help="epoch of the star positions (default: the survey's, where known) "
                        "(e.g. J2000 or 2011.5): Gaia positions "
                        "are propagated to it for the positional match")
    p.add_argument("--clusters", nargs="+", metavar="NAME", help="only these clusters")
    p.add_argument("--stars", type=Path,
                   help="LAMOST-like star file (FITS/CSV/ECSV/VOTable) instead of the "
                        "embedded sample")
    p.add_argument("--surveys", nargs="+", metavar="NAME[=FILE]",
                   help="surveys to combine (a star in several keeps its best measurement: "
                        "inside its survey's domain, then the smallest RV error): names of "
                        "astro_ocl.sources.SURVEYS, each with its embedded sample or =FILE "
                        "(default: every embedded survey; only --stars when that is given)")
    p.add_argument("--reference-survey", metavar="NAME",
                   help="survey the zero points are measured against, label or name "
                        "(default: the first of APOGEE, GALAH, Gaia-RVS present, else the "
                        "first survey; [Fe/H]: the same if it has [Fe/H] inside its domain, "
                        "else the next that has)")
    p.add_argument("--zero-points", choices=("measure", "apply", "off"), default="apply",
                   help="each survey's RV and [Fe/H] offset from the reference survey, fitted "
                        "jointly over the clusters the surveys share: 'apply' (default) puts "
                        "every value on the reference scale (RV offsets when measured, [Fe/H] "
                        "offsets when significant, with their uncertainty); 'measure' reports "
                        "them only; 'off' neither")
    p.add_argument("--statistics", choices=("likelihood", "fu2022-montecarlo"),
                   default="likelihood",
                   help="cluster values: 'likelihood' (default: intrinsic dispersion and an "
                        "outlier/binary component, flags for unconstrained values) or "
                        "'fu2022-montecarlo' (the Monte Carlo medians of Fu et al. 2022, with "
                        "their FLAG=1 and FLAG=12 selections)")
    p.add_argument("--no-survey-domains", action="store_true",
                   help="use every star, also outside its survey's validity domain (by "
                        "default stars a survey cannot measure leave the statistics, counted "
                        "per survey and reason)")
    p.add_argument("--members", type=Path, help="member file instead of the embedded CG members")
    p.add_argument("--clusters-from", choices=("cg2020", "hr23", "dias2021"), default=None,
                   dest="clusters_from",
                   help="cluster parameters (position, distance, proper motion, age) from "
                        "Cantat-Gaudin et al. 2020 (default), Hunt & Reffert 2023 or Dias et "
                        "al. 2021 (embedded tables)")
    p.add_argument("--rv-nsigma", type=positive_float, default=2.0, help="FLAG=1 band in sigma")
    p.add_argument("--dwarf-logg", type=float_range(-1, 10), default=3.5,
                   help="log g (dex) at and above which a star is a dwarf")
    p.add_argument("--teff-min", type=positive_float, default=4000.0,
                   help="stars cooler than this (K) are not used for [Fe/H]")
    p.add_argument("--teff-max", type=positive_float, default=7500.0,
                   help="stars hotter than this (K) are not used for [Fe/H]")
    p.add_argument("--cool-dwarf-teff", type=positive_float, default=5000.0,
                   help="dwarfs cooler than this (K) are not used for [Fe/H]")
    p.add_argument("--online", action="store_true",
                   help="fetch the inputs from the services (CG2020 and LAMOST on VizieR, Gaia "
                        "archive; URLs and table names from astro_ocl.conf) instead of the "
                        "embedded sample")
    p.add_argument("--lamost", metavar="vizier:TABLE|FILE",
                   help="with --online: LAMOST stars from this VizieR table (default "
                        "conf.lamost_table, V/164/stellar5) or a local LAMOST catalogue "
                        "(FITS or CSV, read in chunks)")
    p.add_argument("--no-literature", action="store_true", help="skip the literature comparison")
    p.add_argument("--orbit-samples", type=option_type(check_orbit_samples, "integer"),
                   default=100,
                   help="Monte Carlo orbits per cluster for the orbit uncertainties (0: none)")
    p.add_argument("--no-gradients", action="store_true",
                   help="skip the [Fe/H] gradient fits (paper Table 6; on the embedded Zhong "
                        "et al. 2020 clusters when the catalogue has too few). The command "
                        "fits them by default; build_catalogue() in Python only with "
                        "gradients=True")
    p.add_argument("--convention", choices=("standard", "fu2022"), default="standard",
                   help="orbits, integrals of motion and gradient errors: 'standard' "
                        "(physically correct) or 'fu2022' (as the published catalogue of Fu "
                        "et al. 2022 computed them; see 'astro-ocl reproduce')")
    p.add_argument("--figures", action="store_true",
                   help="also write the paper's figures (PNG and PDF) into OUT/figures")
    p.add_argument("--engine", choices=("memory", "lsdb"), default="memory",
                   help="'lsdb': the survey-scale engine (needs astro_ocl[scale]): stars, "
                        "members and Gaia as HATS catalogues (--stars/--members and the "
                        "files of --surveys may then be HATS catalogue directories), each "
                        "survey's cross-match, Monte Carlo and orbits on Dask partitions; "
                        "same numbers as 'memory'")
    p.add_argument("--scheduler", metavar="ADDRESS",
                   help="with --engine lsdb: a running Dask scheduler (tcp://host:8786, e.g. "
                        "started by dask-jobqueue on SLURM); default: a local cluster sized "
                        "to the machine")
    return p


def run(args):
    t0 = time.perf_counter()
    # every precondition before the work: the output, the options, the input files
    check_output_folder(args.out, names=catalogue_files(figures=args.figures),
                        overwrite=args.overwrite, option="--out")
    if getattr(args, "lamost", None) and not getattr(args, "online", False):
        raise ParameterError("--lamost", args.lamost, "only with --online")
    for option in ("stars", "members"):
        path = getattr(args, option)
        if path is not None and not path.is_file() and not (
                getattr(args, "engine", "memory") == "lsdb" and path.is_dir()):  # HATS
            raise InputDataError(f"--{option}: " + ("a directory, not a table file"
                                                    if path.is_dir() else "no such file"),
                                 source=str(path))
    surveys = _surveys(getattr(args, "surveys", None),
                       hats=getattr(args, "engine", "memory") == "lsdb")
    if surveys is not None and args.stars is not None:
        raise ParameterError("--surveys", " ".join(args.surveys), "give --stars or --surveys")
    epoch = args.epoch
    if getattr(args, "scheduler", None) and getattr(args, "engine", "memory") != "lsdb":
        raise ParameterError("--scheduler", args.scheduler, "only with --engine lsdb")
    cuts = QualityCuts(rv_nsigma=args.rv_nsigma, dwarf_logg=args.dwarf_logg,
                       teff_min=args.teff_min * u.K, teff_max=args.teff_max * u.K,
                       cool_dwarf_teff=args.cool_dwarf_teff * u.K)
    options = {}
    for name in ("online", "lamost"):
        if getattr(args, name, None):
            options[name] = getattr(args, name)
    if getattr(args, "clusters_from", None):
        options["cluster_catalogue"] = args.clusters_from
    if getattr(args, "engine", "memory") == "lsdb":
        options.update(_scale_options(args.scheduler))
    result = build_catalogue(stars=args.stars, surveys=surveys,
                             reference_survey=args.reference_survey,
                             zero_points=args.zero_points,
                             members=args.members, clusters=args.clusters,
                             membership_threshold=args.threshold,
                             n_realisations=args.realisations, seed=args.seed, cuts=cuts,
                             match_radius=None if args.match_radius is None
                             else args.match_radius * u.arcsec,
                             epoch=epoch, literature=not args.no_literature,
                             orbit_samples=args.orbit_samples,
                             gradients=not args.no_gradients, convention=args.convention,
                             statistics=args.statistics,
                             survey_domains=not args.no_survey_domains,
                             **options)
    if options.get("client") is not None:  # our connection to --scheduler (not the cluster)
        options["client"].close()
    clouds = None
    if args.figures:
        clouds = read_zucker2020()
    files = result.write(args.out, overwrite=args.overwrite, figures=args.figures, clouds=clouds)
    if getattr(args, "quiet", False):  # -q: errors only; the manifest lists the files
        return 0
    print(result.summary())
    print("stages:")
    width = max([len(r["stage"]) for r in result.stage_log] + [22])
    for r in result.stage_log:
        reasons = "; ".join(f"{v} {k}" for k, v in r["dropped"].items())
        print(f"  {r['stage']:<{width}s} {r['n_in']:>6d} -> {r['n_out']:<6d} {reasons}".rstrip())
    if result.validation is not None:
        print(result.validation.text())
    if result.gradients is not None:
        print_gradients(result.gradients)
    print(f"wrote {len(files)} files to {args.out} in {time.perf_counter() - t0:.1f} s")
    return 0


def _surveys(values, *, hats=False):
    """``--surveys a b=FILE`` as ``{"a": None, "b": Path(FILE)}``, checked before the work
    by the library's own parser (`astro_ocl.options.parse_surveys`); ``hats``: FILE
    may also be a HATS catalogue directory (``--engine lsdb``)."""
    if not values:
        return None
    out = {}
    for value in values:
        name, _, path = value.partition("=")
        if name in out:
            raise ParameterError("--surveys", name, "given twice")
        if path:
            path = Path(path)
            if not path.is_file() and not (hats and path.is_dir()):
                raise InputDataError("--surveys: " + ("a directory, not a table file"
                                                      if path.is_dir() else "no such file"),
                                     source=str(path))
        out[name] = path or None
    parse_surveys(surveys=out)  # unknown names, one survey twice: refused as in Python
    return out


def _scale_options(scheduler):
    """``engine`` and ``client`` of build_catalogue for ``--engine lsdb [--scheduler]``."""
    if scheduler is None:
        return {"engine": "lsdb"}  # build_catalogue starts and closes a LocalCluster
    distributed = require("distributed", feature="--engine lsdb")
    try:
        client = distributed.Client(scheduler, timeout=30)
    except (OSError, TimeoutError) as exc:
        raise ScaleError(f"--scheduler {scheduler}: cannot connect ({exc})") from None
    return {"engine": "lsdb", "client": client}
