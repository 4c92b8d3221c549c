"""The options of a catalogue build: one parser per option, one frozen value for them all.

`BuildOptions` is what `astro_ocl.build_catalogue` makes of its keywords,
checked once: every engine and every step of the build reads it, and
:meth:`BuildOptions.as_provenance` is what the outputs record. The parsers of
the single options (`parse_surveys`, `check_threshold`, ...) raise the
package's own `~astro_ocl.exceptions.ParameterError`; the command line uses
the same parsers for its ``--surveys``, ``--threshold`` ... so that an option
means the same thing, and is refused the same way, from Python and from the shell.
"""
import difflib
from dataclasses import dataclass, field
from types import MappingProxyType

import astropy.units as u
import numpy as np
from astropy.table import Table
from astropy.time import Time

from .exceptions import ParameterError
from .sources import read_lamost, read_survey
from .sources.surveys import SURVEYS, get_survey
from .steps.quality import QualityCuts

__all__ = ["BuildOptions", "SurveyInput", "DEFAULT_SURVEYS", "ONLINE_OPTIONS", "STATISTICS",
           "parse_surveys", "parse_reference", "parse_clusters", "check_threshold",
           "check_realisations", "check_orbit_samples", "check_choice", "check_epoch",
           "unknown_keyword"]

#: The surveys the offline build combines by default (their embedded real samples).
DEFAULT_SURVEYS = ("lamost_lrs", "lamost_mrs", "apogee")

#: Keywords of `build_catalogue` that go to the online fetch
#: (`astro_ocl.sources.archives.online.fetch_inputs`), only with ``online=True``.
ONLINE_OPTIONS = ("lamost", "gaia_url", "vizier_url", "timeout", "retries", "cache",
                  "memberships")

CONVENTIONS = ("standard", "fu2022")
#: The cluster statistics (`astro_ocl.steps.likelihood.METHODS`): the likelihood with
#: intrinsic dispersion and outliers (default), the Monte Carlo medians of Fu et al. 2022.
STATISTICS = ("likelihood", "fu2022-montecarlo")
ENGINES = ("memory", "lsdb")
ZERO_POINTS = ("measure", "apply", "off")


@dataclass(frozen=True, eq=False)
class SurveyInput:
    """One survey of a build: which adapter reads it, from what, matched how far.

    Attributes
    ----------
    label : str
        The survey's label (``survey`` column, e.g. ``"LAMOST-LRS"``).
    name : str or None
        Its key in `astro_ocl.sources.SURVEYS`; None for ``stars`` (read as LAMOST,
        `astro_ocl.sources.read_lamost`).
    value : object
        None (the survey's embedded sample), a path, a table or (``engine="lsdb"``)
        a HATS catalogue.
    radius : `~astropy.units.Quantity`
        Positional match radius: the ``match_radius`` option, else the survey's own.
    """

    label: str
    name: object
    value: object
    radius: u.Quantity

    def reader(self):
        """The adapter: ``reader(path=None, *, table=None, **options)`` -> canonical stars."""
        if self.name is None:
            return read_lamost

        def read(path=None, *, table=None, _name=self.name, **options):
            return read_survey(_name, path, table=table, **options)
        read.__qualname__ = f"read_survey[{self.name}]"  # names the reader in the HATS cache
        return read


def _radius_of_label(label):
    for s in SURVEYS.values():
        if s.label == label:
            return s.match_radius
    return 3.5 * u.arcsec


def parse_surveys(*, stars=None, surveys=None, match_radius=None):
    """The surveys of a build, in the order given, from the ``stars`` or ``surveys`` option.

    Parameters
    ----------
    stars : table, path or None
        One survey's stars, read as LAMOST (its label from ``meta["survey"]``).
    surveys : str, sequence, dict or None
        Names of `astro_ocl.sources.SURVEYS` (any case, ``-`` or ``_``; a
        comma-separated string too) or ``{name: table, path or None}``; default
        `DEFAULT_SURVEYS` (when ``stars`` is not given).
    match_radius : `~astropy.units.Quantity`, optional
        One radius for every survey (default: each survey's own).

    Returns
    -------
    tuple of `SurveyInput`

    Raises
    ------
    ParameterError
        Both ``stars`` and ``surveys``, no survey, an unknown name, a survey twice.
    """
    radius = None if match_radius is None else check_radius(match_radius)
    if stars is not None:
        if surveys is not None:
            raise ParameterError("stars", "given", "give either stars or surveys, not both")
        label = str(stars.meta.get("survey") or "LAMOST-LRS") if isinstance(stars, Table) \
            else "LAMOST-LRS"
        return (SurveyInput(label, None, stars,
                            radius if radius is not None else _radius_of_label(label)),)
    surveys = DEFAULT_SURVEYS if surveys is None else surveys
    if isinstance(surveys, str):
        surveys = [x.strip() for x in surveys.split(",") if x.strip()]
    items = list(surveys.items()) if isinstance(surveys, dict) else [(x, None) for x in surveys]
    if not items:
        raise ParameterError("surveys", surveys, "at least one survey is needed")
    out, seen = [], set()
    for name, value in items:
        try:
            s = get_survey(name)
        except ParameterError:
            raise ParameterError("surveys", name,
                                 f"unknown survey; choose from {', '.join(sorted(SURVEYS))}") \
                from None
        if s.label in seen:
            raise ParameterError("surveys", name, f"survey {s.label!r} given twice")
        seen.add(s.label)
        out.append(SurveyInput(s.label, s.name, value,
                               radius if radius is not None else s.match_radius))
    return tuple(out)


def parse_reference(reference, surveys):
    """The label of the zero-point reference among a build's surveys.

    Parameters
    ----------
    reference : str
        A survey's label (``"APOGEE"``, ``"LAMOST-LRS"``) or its name in
        `astro_ocl.sources.SURVEYS` (``"apogee"``, ``"lamost_lrs"``); any case,
        ``-`` or ``_``.
    surveys : tuple of `SurveyInput`
        The build's surveys (empty: an online build whose stars are fetched; the
        name is then only normalised).

    Returns
    -------
    str

    Raises
    ------
    ParameterError
        ``reference`` is not one of ``surveys``.
    """
    def norm(text):
        return str(text).strip().lower().replace("-", "_")
    labels = {norm(s.label): s.label for s in surveys}
    labels.update({norm(s.name): s.label for s in surveys if s.name is not None})
    if norm(reference) in labels:
        return labels[norm(reference)]
    if not surveys:
        try:
            return get_survey(reference).label
        except ParameterError:
            return str(reference)
    raise ParameterError("reference_survey", reference,
                         "not one of the surveys of this build: "
                         + ", ".join(s.label for s in surveys))


def parse_clusters(clusters):
    """The ``clusters`` option as a tuple of names (None: every cluster).

    Names are resolved later against the cluster catalogue of the build (any
    spelling it knows); here only the shape is checked.
    """
    if clusters is None:
        return None
    names = [clusters] if isinstance(clusters, str) else list(clusters)
    names = [str(c).strip() for c in names]
    if not names or not all(names):
        raise ParameterError("clusters", clusters, "one or more cluster names")
    return tuple(names)


def check_threshold(value):
    """A membership probability threshold in [0, 1]."""
    try:
        v = float(value)
    except (TypeError, ValueError):
        raise ParameterError("membership_threshold", value, "a number in [0, 1]") from None
    if not 0 <= v <= 1:
        raise ParameterError("membership_threshold", value, "a probability must be in [0, 1]")
    return v


def _whole_number(name, value, minimum):
    """``value`` as an int of at least ``minimum`` (a float must be whole), or a
    `ParameterError` naming the option."""
    expected = f"an integer >= {minimum}"
    try:
        v = int(value)
    except (TypeError, ValueError):
        raise ParameterError(name, value, expected) from None
    if (not isinstance(value, str) and v != value) or v < minimum:
        raise ParameterError(name, value, expected)
    return v


def check_realisations(value):
    """The number of Monte Carlo realisations (an integer >= 2)."""
    return _whole_number("n_realisations", value, 2)


def check_orbit_samples(value):
    """Monte Carlo orbits per cluster (an integer >= 0)."""
    return _whole_number("orbit_samples", value, 0)


def check_radius(value):
    """A positive match radius (a Quantity, or arcsec)."""
    try:
        r = u.Quantity(value, u.arcsec)
    except (TypeError, ValueError, u.UnitsError):
        raise ParameterError("match_radius", value, "an angle (e.g. 3.5 * u.arcsec)") from None
    if not (np.isfinite(r.value) and r.value > 0):
        raise ParameterError("match_radius", value, "a positive angle")
    return r


def check_choice(name, value, choices):
    """``value`` if it is one of ``choices``, else a `ParameterError` listing them."""
    if value not in choices:
        raise ParameterError(name, value, "one of " + ", ".join(repr(c) for c in choices))
    return value


def check_epoch(value):
    """An epoch: a `~astropy.time.Time`, ``J2000``, ``2011.5`` or an ISO date (None stays)."""
    if value is None or isinstance(value, Time):
        return value
    try:
        return Time(float(value), format="jyear")
    except (TypeError, ValueError):
        pass
    try:
        return Time(value)
    except ValueError:
        raise ParameterError("epoch", value, "an epoch (e.g. J2000, 2011.5, 2012-01-01)") \
            from None


def unknown_keyword(function, name, valid):
    """A `TypeError` for an unknown keyword that names the closest valid one."""
    close = difflib.get_close_matches(name, list(valid), n=3, cutoff=0.6)
    hint = f"; did you mean {' or '.join(repr(c) for c in close)}?" if close else ""
    return TypeError(f"{function}() got an unexpected keyword argument {name!r}{hint}")


@dataclass(frozen=True, eq=False)
class BuildOptions:
    """Every option of a catalogue build, checked once (see `astro_ocl.build_catalogue`).

    Make one with the keywords of `astro_ocl.build_catalogue`; the values are
    checked and normalised on creation (a bad one raises
    `~astro_ocl.exceptions.ParameterError`), so a `BuildOptions` is always
    valid. ``surveys`` holds the parsed `SurveyInput` of ``stars`` or
    ``surveys``; ``seed`` is drawn (and ``seed_given`` false) when none was given.
    """

    stars: object = None
    surveys: object = None
    reference_survey: str = None
    zero_points: str = "apply"
    members: object = None
    cluster_params: object = None
    gaia_sources: object = None
    clusters: object = None
    membership_threshold: float = 0.7
    n_realisations: int = 5000
    seed: int = None
    cuts: QualityCuts = None
    match_radius: object = None
    epoch: object = None
    literature: object = True
    online: bool = False
    show_progress: bool = None
    orbits: bool = True
    orbit_samples: int = 100
    gradients: bool = False
    convention: str = "standard"
    statistics: str = "likelihood"
    survey_domains: bool = True
    cluster_catalogue: object = None
    engine: str = "memory"
    client: object = None
    online_options: dict = field(default_factory=dict)
    seed_given: bool = field(default=None, repr=False)

    def __post_init__(self):
        def put(name, value):
            object.__setattr__(self, name, value)
        if self.seed_given is None:  # a fresh seed, recorded: every build can be repeated
            put("seed_given", self.seed is not None)
            if self.seed is None:
                put("seed", int(np.random.SeedSequence().generate_state(1, np.uint32)[0]))
        put("seed", int(self.seed))
        put("membership_threshold", check_threshold(self.membership_threshold))
        put("n_realisations", check_realisations(self.n_realisations))
        put("orbit_samples", check_orbit_samples(self.orbit_samples))
        check_choice("convention", self.convention, CONVENTIONS)
        check_choice("engine", self.engine, ENGINES)
        check_choice("zero_points", self.zero_points, ZERO_POINTS)
        check_choice("statistics", self.statistics, STATISTICS)
        put("survey_domains", bool(self.survey_domains))
        if self.cluster_params is not None and self.cluster_catalogue is not None:
            raise ParameterError("cluster_catalogue", self.cluster_catalogue,
                                 "give cluster_params or cluster_catalogue, not both")
        if self.client is not None and self.engine != "lsdb":
            raise ParameterError("client", self.client, "only with engine='lsdb'")
        if self.match_radius is not None:
            put("match_radius", check_radius(self.match_radius))
        put("epoch", check_epoch(self.epoch))
        put("cuts", QualityCuts() if self.cuts is None else self.cuts)
        put("clusters", parse_clusters(self.clusters))
        if self.online and self.stars is None and self.surveys is None:
            put("surveys", ())  # the stars the online fetch gives
        elif not isinstance(self.surveys, tuple) or not all(isinstance(s, SurveyInput)
                                                            for s in self.surveys):
            put("surveys", parse_surveys(stars=self.stars, surveys=self.surveys,
                                         match_radius=self.match_radius))
        put("stars", None)
        if self.reference_survey is not None:
            put("reference_survey", parse_reference(self.reference_survey, self.surveys))
        extra = dict(self.online_options)
        for name in extra:
            if name not in ONLINE_OPTIONS:
                raise unknown_keyword("build_catalogue", name,
                                      [*self.keywords(), *ONLINE_OPTIONS])
        if extra and not self.online:
            raise ParameterError(next(iter(extra)), extra[next(iter(extra))],
                                 "an option of the online build: only with online=True")
        put("online_options", MappingProxyType(extra))

    @staticmethod
    def keywords():
        """The keywords of `astro_ocl.build_catalogue` (the online options aside)."""
        return [f for f in BuildOptions.__dataclass_fields__
                if f not in ("online_options", "seed_given")]

    @property
    def labels(self):
        """The surveys' labels, in the order given."""
        return [s.label for s in self.surveys]

    def as_provenance(self, surveys=None):
        """The science options as the outputs record them (provenance keys and values).

        Parameters
        ----------
        surveys : tuple of `SurveyInput`, optional
            The surveys the build read (default ``self.surveys``; an online build
            without ``stars`` or ``surveys`` reads the fetched stars).
        """
        radii = ", ".join(f"{s.label}: {s.radius}"
                          for s in (self.surveys if surveys is None else surveys))
        prov = {"membership_threshold": self.membership_threshold,
                "n_realisations": self.n_realisations, "seed": self.seed,
                "seed_origin": "given" if self.seed_given else "drawn (no seed given)",
                "match_radius": radii,
                "epoch": "none" if self.epoch is None else f"J{self.epoch.jyear:.3f}"}
        prov.update({f"qc_{k}": v for k, v in self.cuts.as_meta().items()})
        prov["statistics"] = self.statistics
        prov["survey_domains"] = "applied" if self.survey_domains else "not applied"
        return prov
