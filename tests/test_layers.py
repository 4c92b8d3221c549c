"""The package's structure: writers registered, one-way layers, no private helpers shared."""
import pytest
from astropy.table import Table

import astro_ocl
from helpers import PACKAGE_ROOT as ROOT
from helpers import package_imports as _imports


def test_writers_registered_without_clobbering():
    from astropy.io import registry

    import astro_ocl.sinks as sinks
    assert registry.get_writer("votable.cds", Table).__module__ == "astro_ocl.sinks"
    assert registry.get_writer("votable", Table).__module__.startswith("astropy")
    sinks.register_formats()  # idempotent

    def foreign(table, path):
        pass

    registry.unregister_writer("cds.submission", Table)
    registry.register_writer("cds.submission", Table, foreign)
    try:
        with pytest.raises(registry.IORegistryError, match="does not replace"):
            sinks.register_formats()
    finally:
        registry.unregister_writer("cds.submission", Table)
        sinks.register_formats()


def test_build_catalogue_keeps_its_signature():
    import inspect

    from astro_ocl import pipeline
    assert astro_ocl.build_catalogue is pipeline.build_catalogue
    assert "match_radius" in inspect.signature(astro_ocl.build_catalogue).parameters


@pytest.mark.parametrize("layer, forbidden", [
    ("schema", ("astro_ocl.sources", "astro_ocl.steps", "astro_ocl.pipeline", "astro_ocl.sinks",
                "astro_ocl.result")),
    ("sources", ("astro_ocl.steps", "astro_ocl.pipeline", "astro_ocl.sinks", "astro_ocl.result")),
    ("steps", ("astro_ocl.pipeline", "astro_ocl.sinks", "astro_ocl.result",
               "astro_ocl.engines", "astro_ocl.options")),
    # the protocol and the in-memory engine sit below the LSDB engine that implements it
    ("engines", ("astro_ocl.pipeline", "astro_ocl.sinks", "astro_ocl.result",
                 "astro_ocl.commands", "astro_ocl.cli", "astro_ocl.reproduce",
                 "astro_ocl.scale")),
    ("scale", ("astro_ocl.pipeline", "astro_ocl.sinks", "astro_ocl.result",
               "astro_ocl.commands", "astro_ocl.cli", "astro_ocl.reproduce")),
    ("sinks", ("astro_ocl.steps", "astro_ocl.pipeline", "astro_ocl.sources",
               "astro_ocl.reproduce")),
])
def test_layers_import_only_downwards(layer, forbidden):
    bad = {str(f.relative_to(ROOT)): sorted(m for m in _imports(f) if m.startswith(forbidden))
           for f in (ROOT / layer).rglob("*.py")}
    assert not {k: v for k, v in bad.items() if v}


def test_no_private_helpers_across_modules():
    import re
    offenders = []
    for f in ROOT.rglob("*.py"):
        for m in re.finditer(r"from \.[\w.]* import \(?([^)\n]*)", f.read_text()):
            imported = m.group(1).split("#")[0]  # not the line's comment
            names = [n.strip().split(" as ")[0] for n in imported.split(",")]
            offenders += [(f.name, n) for n in names if n.startswith("_") and n != "__version__"]
    assert offenders == []


def test_modules_do_not_import_the_package_face():
    """``astro_ocl/__init__.py`` imports the build and the sinks; a module that took a
    name from it (``from .. import __version__``) would import upwards into a loop.
    The version is `astro_ocl.version`."""
    face = {f"astro_ocl.{name}" for name in astro_ocl.__all__}
    bad = {str(f.relative_to(ROOT)): sorted(m for m in _imports(f) if m in face)
           for f in ROOT.rglob("*.py") if f.name != "__init__.py" or f.parent != ROOT}
    assert not {k: v for k, v in bad.items() if v}
    assert astro_ocl.__version__ == astro_ocl.version.__version__
