"""What a catalogue build returns: pure data (tables, stage log, provenance).

Writing is in :mod:`astro_ocl.sinks` (`~astro_ocl.sinks.catalogue.write_catalogue`;
`CatalogueResult.write` only delegates to it).
"""
from dataclasses import dataclass, field

import numpy as np
from astropy.table import QTable

from .accounting import StageLog

__all__ = ["CatalogueResult"]


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

    def summary(self):
        """A short human-readable summary (what the CLI prints)."""
        c, m = self.clusters, self.members
        flags = np.asarray(m["Flag"])
        lines = [f"clusters: {len(c)}  member stars: {len(m)}  "
                 f"FLAG=1: {int(np.isin(flags, (1, 12)).sum())}  "
                 f"FLAG=12: {int((flags == 12).sum())}  FLAG=0: {int((flags == 0).sum())}"]
        if self.zero_points is not None and len(self.zero_points):
            applied = "applied" if self.provenance.get("zero_points") == "apply" \
                else "measured, not applied"
            lines.append(f"survey zero points, survey minus {self.zero_points.meta['reference']} "
                         f"(median over shared clusters, bootstrap error, N clusters; {applied}):")
            for r in self.zero_points:
                value = (f"{r['offset']:+8.3f} +- {r['e_offset']:.3f} {r['unit']:<6s} N={r['N']}"
                         if r["status"] == "measured" else r["status"])
                lines.append(f"  {r['survey']:<13s} {r['quantity']:<7s} {value}")
        if self.comparison is not None and len(self.comparison):
            lines.append("offsets, this catalogue minus literature (median, robust scatter, N):")
            for r in self.comparison:
                own = "sample" not in r.colnames or r["sample"] == "this catalogue"
                # one survey alone: only against the catalogue of that survey's team
                survey_alone = not own and r["catalogue"] == "OCCAM2020" \
                    and str(r["sample"]).upper().startswith("APOGEE")
                if survey_alone and r["N"]:
                    lines.append(f"  {r['catalogue']:<13s} {r['quantity']:<7s} "
                                 f"{r['median']:+8.3f} {r['robust_std']:7.3f} {r['unit']:<6s} "
                                 f"N={r['N']} ({r['sample']})")
                if own and r["N"]:
                    lines.append(f"  {r['catalogue']:<13s} {r['quantity']:<7s} "
                                 f"{r['median']:+8.3f} {r['robust_std']:7.3f} {r['unit']:<6s} "
                                 f"N={r['N']}")
        return "\n".join(lines)

    def write(self, outdir, **options):
        """Write the catalogue into ``outdir`` (`astro_ocl.sinks.catalogue.write_catalogue`)."""
        from .sinks.catalogue import write_catalogue
        return write_catalogue(self, outdir, **options)
