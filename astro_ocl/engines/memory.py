"""The in-memory build engine: every table in this process (the default).

Follows `astro_ocl.engines.base.Engine`; `~astro_ocl.scale.LsdbEngine` runs the
same steps on HATS partitions with Dask and gives the same numbers.
"""
import numpy as np
from astropy.table import QTable, Table

from ..accounting import Stages
from ..logger import log
from ..sources.gaia_ids import dr2_dr3_pairs, gaia_release
from ..steps.crossmatch import deduplicate_stars, match_stars, select_members, survey_id_key
from ..steps.dynamics import orbit_parameters
from ..steps.gaia_ids import needs_translation, translate_to_dr3
from ..steps.likelihood import likelihood_statistics
from ..steps.statistics import clean_stars, cluster_rng, cluster_statistics
from .base import Matched

__all__ = ["MemoryEngine", "read_input"]


def read_input(value, reader, **options):
    """A canonical table from a canonical QTable (as is), any other table, a path or None.

    Parameters
    ----------
    value : table, path or None
        None reads the reader's default (an embedded sample).
    reader : callable
        ``reader(path=None, *, table=None, **options)`` -> canonical table.
    """
    if isinstance(value, QTable) and (value.meta.get("schema") in ("stars", "membership")
                                      or "coord" in value.colnames):
        return value  # already canonical
    if isinstance(value, Table):
        return reader(table=value, path=value.meta.get("source"), **options)
    return reader(value, **options)


class MemoryEngine:
    """Steps 1-3, the statistics and the orbits with every table in this process.

    Parameters
    ----------
    show_progress : bool, optional
        Progress bars.
    """

    name = "memory"

    def __init__(self, *, show_progress=None):
        self.show_progress = show_progress

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False

    def provenance(self):
        """``{"engine": "memory"}``."""
        return {"engine": "memory"}

    def match(self, inputs, *, options, stage_log):
        """Steps 1-3 for every survey: read, translate Gaia ids, clean, cross-match.

        Parameters
        ----------
        inputs : `~astro_ocl.engines.base.BuildInputs`
        options : `~astro_ocl.options.BuildOptions`
        stage_log : `~astro_ocl.accounting.StageLog`

        Returns
        -------
        `~astro_ocl.engines.base.Matched`
        """
        members = read_input(inputs.members, inputs.member_reader, resolver=inputs.resolver)
        star_sets = {}
        for survey in inputs.surveys:
            table = read_input(survey.value, survey.reader())
            stage_log.stage(Stages.INPUT.format(survey.label), n_in=len(table),
                            n_out=len(table), note=str(table.meta.get("source", "")))
            star_sets[survey.label] = self._align_releases(table, members, options, stage_log)
        if inputs.wanted is not None:
            keep = np.isin(np.asarray(members["Cluster"]).astype(str), inputs.wanted)
            stage_log.stage(Stages.REQUESTED, n_in=len(members), n_out=int(keep.sum()),
                            dropped={"member of another cluster": int((~keep).sum())})
            members = members[keep]
        star_sets = {k: clean_stars(t, stage_log=stage_log) for k, t in star_sets.items()}
        selected = select_members(members, threshold=options.membership_threshold,
                                  stage_log=stage_log)
        by_survey = {}
        for survey in inputs.surveys:
            table = star_sets[survey.label]
            epoch = options.epoch if options.epoch is not None else table.meta.get("epoch")
            sources = inputs.gaia_sources
            key = survey_id_key(table)
            if key:
                # a survey adapter's stars without Gaia ids (APOGEE): one spectrum per
                # star, then by position (2MASS positions, 1.5 arcsec); without
                # gaia_sources the Gaia sources are the members themselves
                table = deduplicate_stars(table, key=key, stage_log=stage_log)
                if sources is None:
                    sources = selected["source_id", "coord"]
            m = match_stars(table, selected, gaia_sources=sources, radius=survey.radius,
                            epoch=epoch, stage_log=stage_log)
            if "survey" not in m.colnames:
                m["survey"] = np.full(len(m), survey.label)
            by_survey[survey.label] = m
        return Matched(
            by_survey=by_survey,
            star_sources={k: t.meta.get("source") for k, t in star_sets.items()},
            translations={k: str(t.meta.get("gaia_id_translation", "none"))
                          for k, t in star_sets.items()},
            members_source=str(members.meta.get("source")),
            members_release=gaia_release(members))

    @staticmethod
    def _align_releases(stars, members, options, stage_log):
        """A DR2-id star table joined to DR3-id members: ids translated, drops counted."""
        s_rel, m_rel = gaia_release(stars), gaia_release(members)
        if not needs_translation(s_rel, m_rel, source=members.meta.get("source", "<members>")):
            return stars
        log.info("members are Gaia %s, stars %s: translating the stars' ids", m_rel, s_rel)
        pairs = dr2_dr3_pairs(stars, online=options.online,
                              client_options=dict(options.online_options))
        return translate_to_dr3(stars, pairs, stage_log=stage_log)

    def cluster_statistics(self, matched, *, n_realisations, seed, cuts, show_progress=None):
        """As `astro_ocl.steps.statistics.cluster_statistics`."""
        return cluster_statistics(matched, n_realisations=n_realisations, seed=seed, cuts=cuts,
                                  show_progress=show_progress)

    def likelihood_statistics(self, matched, *, zero_points, cuts, show_progress=None,
                              correlated_zero_points=False):
        """As `astro_ocl.steps.likelihood.likelihood_statistics`."""
        return likelihood_statistics(matched, zero_points=zero_points, cuts=cuts,
                                     show_progress=show_progress,
                                     correlated_zero_points=correlated_zero_points)

    def orbit_parameters(self, clusters, *, n_samples, seed, convention, show_progress=None):
        """As `astro_ocl.steps.dynamics.orbit_parameters` with per-cluster streams."""
        names = np.asarray(clusters["Cluster"]).astype(str)
        return orbit_parameters(clusters, n_samples=n_samples,
                                rngs=[cluster_rng(seed, f"orbit:{n}") for n in names],
                                progress=show_progress, convention=convention)
