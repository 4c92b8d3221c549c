"""The protocol every build engine follows, and the plain data engines return.

A build engine runs the parts of the method whose cost grows with the surveys:
steps 1-3 (read, clean and cross-match each survey's stars with the selected
members), the per-cluster statistics (steps 4-5, either method) and the orbits
(step 7). The
rest of the build (zero points, the combination of the surveys, the
literature, the gradients) is small and runs in the build itself
(`astro_ocl.pipeline`). Two engines follow the protocol:
`~astro_ocl.engines.memory.MemoryEngine` (every table in this process) and
`~astro_ocl.scale.LsdbEngine` (HATS catalogues with LSDB and Dask). Both give
the same numbers for the same options and seed.

An engine returns plain data (`Matched`, tables); it keeps no state of a
build that the build would read afterwards. It records its stages in the
`~astro_ocl.accounting.StageLog` it is given, in the order of
`~astro_ocl.accounting.Stages`.
"""
from dataclasses import dataclass, field
from typing import Protocol, runtime_checkable

from astropy.table import QTable

__all__ = ["Engine", "Matched", "BuildInputs"]


@dataclass(frozen=True, eq=False)
class BuildInputs:
    """The inputs of a build once the options are resolved (what every engine reads).

    Attributes
    ----------
    surveys : tuple of `~astro_ocl.options.SurveyInput`
        The surveys in the order given (their values possibly fetched online).
    members : object
        The membership: a table, a path, a HATS catalogue, or None (the embedded one).
    member_reader : callable
        The membership adapter (``reader(path=None, *, table=None, resolver=...)``).
    gaia_sources : object
        Gaia sources for the positional match (or None).
    cluster_params : `~astropy.table.QTable`
        The cluster catalogue (positions, distances, proper motions, ages).
    resolver : `~astro_ocl.sources.names.NameResolver`
        Cluster names of ``cluster_params`` in any spelling.
    wanted : list of str or None
        The requested clusters (resolved names), or None for all.
    """

    surveys: tuple
    members: object
    member_reader: object
    gaia_sources: object
    cluster_params: QTable
    resolver: object
    wanted: object = None


@dataclass(frozen=True, eq=False)
class Matched:
    """What steps 1-3 give: each survey's stars matched to the selected members.

    Attributes
    ----------
    by_survey : dict of str to `~astropy.table.QTable`
        The matched stars of each survey (label -> table with a ``survey``
        column), in the order of the surveys.
    star_sources : dict of str to str
        Where each survey's stars came from (a file, a query, a HATS catalogue).
    translations : dict of str to str
        How each survey's Gaia DR2 ids were translated to the members' DR3 ids
        (``"none"`` when no translation was needed).
    members_source : str
        Where the members came from.
    members_release : str
        The Gaia release of the members' ids (``"DR2"``, ``"DR3"``).
    provenance : dict
        What the engine adds to the build's provenance for this match (e.g. the
        HATS catalogues read).
    """

    by_survey: dict
    star_sources: dict
    translations: dict
    members_source: str
    members_release: str
    provenance: dict = field(default_factory=dict)


@runtime_checkable
class Engine(Protocol):
    """The methods of a build engine (used as a context manager around the build)."""

    #: The engine's name (``"memory"``, ``"lsdb"``), as ``engine=`` selects it.
    name: str

    def __enter__(self):
        ...

    def __exit__(self, *exc):
        ...

    def match(self, inputs, *, options, stage_log):
        """Steps 1-3 for every survey of ``inputs`` (`BuildInputs`): a `Matched`."""

    def cluster_statistics(self, matched, *, n_realisations, seed, cuts, show_progress=None):
        """Steps 4-5: ``(statistics, flags)`` as
        `astro_ocl.steps.statistics.cluster_statistics` gives them."""

    def likelihood_statistics(self, matched, *, zero_points, cuts, show_progress=None,
                              correlated_zero_points=False):
        """Steps 4-5 with the likelihood method: ``(cluster rows, per-star table)`` as
        `astro_ocl.steps.likelihood.likelihood_statistics` gives them."""

    def orbit_parameters(self, clusters, *, n_samples, seed, convention, show_progress=None):
        """Step 7: the orbit table of `astro_ocl.steps.dynamics.orbit_parameters`, each
        cluster drawing from its own stream (``cluster_rng(seed, "orbit:" + name)``)."""

    def provenance(self):
        """The engine's entries of the build provenance (``engine`` and its resources)."""
