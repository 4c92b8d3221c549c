"""Build engines: the same method steps in this process or on a Dask cluster.

Both engines follow `~astro_ocl.engines.base.Engine`:
`~astro_ocl.engines.memory.MemoryEngine` (``engine="memory"``, default) and
`~astro_ocl.scale.LsdbEngine` (``engine="lsdb"``, the ``scale`` extra), which
implements the protocol on top of this package;
:func:`astro_ocl.pipeline.make_engine` chooses one from the build options.
"""
from .base import BuildInputs, Engine, Matched
from .memory import MemoryEngine, read_input

__all__ = ["Engine", "Matched", "BuildInputs", "MemoryEngine", "read_input"]
