"""What a catalogue build returns: pure data (tables, stage log, provenance).

Writing is in :mod:`astro_ocl.sinks` (`~astro_ocl.sinks.catalogue.write_catalogue`;
`CatalogueResult.write` only delegates to it).
"""
from dataclasses import dataclass, field

import numpy as np
from astropy.table import QTable

from .accounting import StageLog

#: The registry format of a result written as a catalogue folder.
CATALOGUE_FORMAT = "astro_ocl.catalogue"

__all__ = ["CatalogueResult", "CATALOGUE_FORMAT", "survey_counts", "describe_surveys",
           "zero_point_status"]


def _ordered(counts, order):
    """``counts`` in the order of ``order`` (comma-separated or a sequence), others after."""
    if isinstance(order, str):
        order = [s.strip() for s in order.split(",")]
    first = [s for s in (order or ()) if s in counts]
    return {s: counts[s] for s in first + sorted(set(counts) - set(first))}


def survey_counts(table, *, order=None):
    """How many stars of each survey a member or cluster table holds.

    Parameters
    ----------
    table : `~astropy.table.Table`
        A member table (its ``Survey`` column: every star counted) or a cluster
        table (its ``RVsurveys`` column, ``"APOGEE:5,LAMOST-LRS:12"``: the FLAG=1
        stars that made the radial velocities, summed over the clusters).
    order : str or sequence of str, optional
        Surveys in this order first (``provenance["surveys"]``), any other after.

    Returns
    -------
    dict
        ``{survey: number of stars}``; empty when the table says nothing about
        its surveys.
    """
    counts = {}
    if "Survey" in table.colnames:
        names, n = np.unique(np.asarray(table["Survey"]).astype(str), return_counts=True)
        counts = {str(a): int(b) for a, b in zip(names, n) if a}
    elif "RVsurveys" in table.colnames:
        for cell in np.ma.filled(np.ma.asarray(table["RVsurveys"]).astype(str), ""):
            for part in str(cell).split(","):
                name, _, n = part.rpartition(":")
                if name and n.isdigit():
                    counts[name] = counts.get(name, 0) + int(n)
    return _ordered(counts, order)


def describe_surveys(counts, *, noun="stars"):
    """The surveys and their numbers of stars as a phrase.

    ``{"LAMOST-LRS": 537, "APOGEE": 1637}`` gives ``LAMOST-LRS (537 stars) and
    APOGEE (1637 stars)``; no survey gives an empty string.

    Parameters
    ----------
    counts : dict
        From :func:`survey_counts`.
    noun : str
        What is counted.
    """
    parts = [f"{name} ({n} {noun})" for name, n in counts.items()]
    if len(parts) < 2:
        return "".join(parts)
    return ", ".join(parts[:-1]) + " and " + parts[-1]


def zero_point_status(row, provenance=None):
    """Whether one zero point (a row of ``result.zero_points``) was applied, and why not.

    The truth is the table's own ``applied`` column, as
    `astro_ocl.steps.zeropoints.fit_zero_points` and the build set it (the build
    clears it with ``zero_points="measure"``), not the option asked for.

    Parameters
    ----------
    row : `~astropy.table.Row`
        ``applied``, ``status`` (why).
    provenance : dict, optional
        Not needed (kept for callers that pass the build's provenance).

    Returns
    -------
    str
        ``"applied"`` or ``"not applied: <reason>"``.
    """
    if bool(row["applied"]):
        return "applied"
    reason = str(row["status"])
    return reason if reason.startswith("not applied") else f"not applied: {reason}"


@dataclass
class CatalogueResult:
    """What :func:`build_catalogue` returns.

    Attributes
    ----------
    clusters : `~astropy.table.QTable`
        One row per cluster (labels of J/A+A/668/A4, see
        `astro_ocl.schema.CLUSTERS`) with a ``coord``
        `~astropy.coordinates.SkyCoord` (position, distance, proper motion and
        radial velocity ``RVmed``).
    members : `~astropy.table.QTable`
        One row per spectroscopic member star with its ``Flag`` (0, 1, 12).
    comparison : `~astropy.table.QTable`
        Offsets against each literature catalogue (paper Tables 1 and 3).
    matched : dict
        ``{(catalogue, quantity): matched table}`` behind ``comparison``.
    stage_log : `~astro_ocl.accounting.StageLog`
        Row counts of every stage and why rows were dropped.
    provenance : dict
        Package version, inputs, options, seed, date.
    """

    clusters: QTable
    members: QTable
    comparison: QTable = None
    matched: dict = field(default_factory=dict)
    stage_log: StageLog = field(default_factory=StageLog)
    provenance: dict = field(default_factory=dict)
    #: Paper Table 6 (`astro_ocl.steps.gradients.GradientResult`) and the clusters'
    #: Galactocentric positions 0-500 Myr ago (`astro_ocl.steps.dynamics.positions_back_in_time`);
    #: None when the build ran without orbits/gradients.
    gradients: object = None
    orbit_history: QTable = None
    #: The other sample the gradients were fitted on (with its orbit columns) when the
    #: catalogue had too few clusters; None otherwise.
    gradient_sample: QTable = None
    #: Zero points of the surveys against the reference survey
    #: (`astro_ocl.steps.zeropoints.fit_zero_points`); None with one survey.
    zero_points: QTable = None
    #: ``{survey: cluster table built from that survey's stars alone}`` (several surveys).
    by_survey: dict = field(default_factory=dict)
    #: The build against independent references
    #: (`astro_ocl.steps.validation.ValidationResult`); None when not validated.
    validation: object = None

    def survey_counts(self):
        """``{survey: member stars}`` of the member table, in the order of the build's
        surveys (:func:`survey_counts`)."""
        return survey_counts(self.members, order=self.provenance.get("surveys"))

    def summary(self):
        """A short human-readable summary (what the CLI prints).

        The first line counts clusters, member stars and flags; the second the
        member stars of each survey; then the survey zero points (each saying
        whether it was applied, and why not), the offsets against the literature.
        """
        c, m = self.clusters, self.members
        flags = np.asarray(m["Flag"])
        lines = [f"clusters: {len(c)}  member stars: {len(m)}  "
                 f"FLAG=1: {int(np.isin(flags, (1, 12)).sum())}  "
                 f"FLAG=12: {int((flags == 12).sum())}  FLAG=0: {int((flags == 0).sum())}"]
        counts = self.survey_counts()
        if counts:
            lines.append("member stars by survey: "
                         + ", ".join(f"{name} {n}" for name, n in counts.items()))
        if self.zero_points is not None and len(self.zero_points):
            lines.append(f"survey zero points, survey minus {self.zero_points.meta['reference']} "
                         "(fitted jointly over the shared clusters; error; N clusters):")
            for r in self.zero_points:
                status = zero_point_status(r)
                if r["survey"] == r["reference"]:
                    value = "reference scale"
                elif np.isfinite(r["offset"]):
                    value = (f"{r['offset']:+8.3f} +- {r['e_offset']:.3f} {r['unit']:<6s} "
                             f"N={r['N']:<3d} {status}")
                else:  # the reason it was not measured is the reason it was not applied
                    value = status
                lines.append(f"  {r['survey']:<13s} {r['quantity']:<7s} {value}")
        if self.comparison is not None and len(self.comparison):
            lines.append("offsets, this catalogue minus literature (median, robust scatter, N):")
            for r in self.comparison:
                own = "sample" not in r.colnames or r["sample"] == "this catalogue"
                # one survey alone: only against the catalogue of that survey's team
                survey_alone = not own and r["catalogue"] == "OCCAM2020" \
                    and str(r["sample"]).upper().startswith("APOGEE")
                if survey_alone and r["N"]:  # the same stars: a check of the aggregation
                    lines.append(f"  {r['catalogue']:<13s} {r['quantity']:<7s} "
                                 f"{r['median']:+8.3f} {r['robust_std']:7.3f} {r['unit']:<6s} "
                                 f"N={r['N']} ({r['sample']}: OCCAM's clusters are made of "
                                 "the same stars, this checks the aggregation, not the "
                                 "accuracy)")
                if own and r["N"]:
                    lines.append(f"  {r['catalogue']:<13s} {r['quantity']:<7s} "
                                 f"{r['median']:+8.3f} {r['robust_std']:7.3f} {r['unit']:<6s} "
                                 f"N={r['N']}")
        return "\n".join(lines)

    def write(self, outdir, **options):
        """Write the catalogue into ``outdir``.

        Through the writer registered for results with `astropy.io.registry`
        (format ``"astro_ocl.catalogue"``: `astro_ocl.sinks.catalogue.write_catalogue`,
        registered when `astro_ocl.sinks` is imported, as ``import astro_ocl`` does).
        """
        from astropy.io import registry
        return registry.write(self, outdir, format=CATALOGUE_FORMAT, **options)
