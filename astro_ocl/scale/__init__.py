"""Survey scale: the catalogue build on HATS catalogues with LSDB, run by Dask.

Needs the optional extra ``astro_ocl[scale]`` (lsdb, hats-import,
dask[distributed]); the rest of the package never imports this sub-package.
``build_catalogue(engine="lsdb")`` and ``astro-ocl build --engine lsdb`` use it.
See the docs page "Running at survey scale".

This sub-package may import :mod:`astro_ocl.sources`, :mod:`astro_ocl.steps` and the
engine protocol (:mod:`astro_ocl.engines.base`), never the pipeline, the sinks or the
command line.
"""
from .catalogues import HatsInput, default_hats_cache, gaia_sources_from_archive_columns, hats_input
from ..exceptions import ScaleError
from .engine import LsdbEngine
from .tables import flatten, unflatten

__all__ = ["LsdbEngine", "ScaleError", "HatsInput", "hats_input", "default_hats_cache",
           "gaia_sources_from_archive_columns", "flatten", "unflatten"]
