"""Reproduce Fu et al. (2022) from its inputs and compare with everything it published.

:func:`reproduce_fu2022` rebuilds what the published inputs allow and holds it
against the article's numbers:

* every column of the published cluster table (CDS J/A+A/668/A4,
  `~astro_ocl.sources.clusters.read_fu2022`): the dynamics of all 386 clusters
  (Cantat-Gaudin et al. 2020 position, distance and proper motion, the published
  ``RVmed``), computed in the package's default, physically correct convention and
  in the convention of the published numbers (``convention="fu2022"``); the per-star
  statistics of the clusters the embedded LAMOST sample covers; names and positions
  (`~astro_ocl.reproduce.columns`);
* the article's Tables 6 (gradient fits, for each per-cluster [Fe/H] uncertainty) and
  7 (the young clusters along the Radcliffe wave), shipped as package data
  (`~astro_ocl.reproduce.tables`);
* the numbers its text quotes (`~astro_ocl.reproduce.claims`);
* the energies and orbits against GalPot, the code the article used, from a shipped
  evaluation (`~astro_ocl.reproduce.energy`).

Every systematic difference is diagnosed by explicit hypotheses, computed each time and
kept as evidence; each explanation is written once (`~astro_ocl.reproduce.notes`) and
cited by key. The default output stays the physically correct computation; the
paper's conventions are named switches.
"""
from .claims import CLAIM_VERDICTS, article_claims, literature_matches
from .columns import (COMPARED, GROUPS, VERDICTS, Hypothesis, compare_columns,
                      evaluate_hypotheses, star_statistics)
from .common import Citations, Tolerance
from .core import ReproductionResult, published_defects, reproduce_fu2022
from .energy import energy_residuals, galpot_hypotheses, read_galpot_evaluation
from .inputs import published_inputs
from .notes import Notes, paper_table_rows
from .tables import (TABLE6_CHOICES, TABLE6_TOLERANCE, TABLE7_COLUMNS, table6_comparison,
                     table6_summary, table7_comparison)

__all__ = ["reproduce_fu2022", "ReproductionResult", "published_inputs", "COMPARED", "GROUPS",
           "VERDICTS", "CLAIM_VERDICTS", "Tolerance", "Hypothesis", "Citations", "Notes",
           "compare_columns", "evaluate_hypotheses", "star_statistics", "table6_comparison",
           "table6_summary", "table7_comparison", "TABLE6_CHOICES", "TABLE6_TOLERANCE",
           "TABLE7_COLUMNS", "paper_table_rows", "article_claims", "literature_matches",
           "energy_residuals", "galpot_hypotheses", "read_galpot_evaluation",
           "published_defects"]
