"""Build engines: the same method steps in this process or on a Dask cluster.

`make_engine` gives the engine a `~astro_ocl.options.BuildOptions` asks for:
`~astro_ocl.engines.memory.MemoryEngine` (``engine="memory"``, default) or
`~astro_ocl.scale.LsdbEngine` (``engine="lsdb"``, the ``scale`` extra). Both
follow `~astro_ocl.engines.base.Engine`.
"""
from .base import BuildInputs, Engine, Matched
from .memory import MemoryEngine, read_input

__all__ = ["Engine", "Matched", "BuildInputs", "MemoryEngine", "make_engine", "read_input"]


def make_engine(options):
    """The engine of ``options.engine`` (not entered yet: use it in a ``with`` block).

    Parameters
    ----------
    options : `~astro_ocl.options.BuildOptions`
    """
    if options.engine == "lsdb":
        from ..scale import LsdbEngine  # the scale extra: imported only when asked for
        return LsdbEngine(client=options.client, show_progress=options.show_progress)
    return MemoryEngine(show_progress=options.show_progress)
