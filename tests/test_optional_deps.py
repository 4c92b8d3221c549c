"""Dependency floors and optional extras."""
import re
import subprocess
import sys
from pathlib import Path

import pytest

from astro_ocl.exceptions import AstroOCLError
from astro_ocl.exceptions import OptionalDependencyError
from astro_ocl.utils import EXTRAS, require

ROOT = Path(__file__).resolve().parents[1]


def _pyproject():
    try:
        import tomllib
    except ImportError:  # Python 3.10
        tomllib = pytest.importorskip("tomli")
    return tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]


def test_floors():
    deps = {re.split(r"[<>=\[ ]", d)[0]: d for d in _pyproject()["dependencies"]}
    assert deps["numpy"].startswith("numpy>=1.25")  # Generator.spawn
    assert deps["pyvo"].startswith("pyvo>=1.9")     # pyvo.samp
    # astropy < 7.1 drops the VOTABLE-level COOSYS of VOTable >= 1.2 output (dangling
    # FIELD ref="icrs": the CDS VOTables fail votlint); astropy 7.1 needs Python 3.11
    assert deps["astropy"].startswith("astropy>=7.1")
    assert _pyproject()["requires-python"] == ">=3.11"


def test_optional_packages_are_extras_not_core():
    project = _pyproject()
    core = {re.split(r"[<>=\[ ]", d)[0] for d in project["dependencies"]}
    for module, (dist, extra) in EXTRAS.items():
        assert dist not in core
        assert any(r.startswith(dist) for r in project["optional-dependencies"][extra])


def test_core_imports_without_the_extras():
    """Importing the package needs no extra; a build needs neither astroquery nor tqdm.

    (galpy itself imports matplotlib for its orbit integration, so a build cannot run
    without matplotlib whatever this package declares; importing astro_ocl does not
    import it.)
    """
    code = ("import sys\n"
            "for m in ('astroquery', 'tqdm'):\n"
            "    sys.modules[m] = None\n"
            "import astro_ocl, astro_ocl.cli, astro_ocl.pipeline, astro_ocl.sources.archives\n"
            "assert 'matplotlib' not in sys.modules\n"
            "r = astro_ocl.build_catalogue(clusters=['NGC 2682'], n_realisations=50, seed=1,\n"
            "                              orbit_samples=2, literature=False,\n"
            "                              surveys=['lamost_lrs'])\n"
            "print(len(r.clusters))\n")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         cwd=ROOT, timeout=300)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "1"


@pytest.mark.parametrize("module, extra", [("matplotlib", "plots"),
                                           ("astroquery.vizier", "vizier"),
                                           ("tqdm", "progress")])
def test_missing_extra_names_it(monkeypatch, module, extra):
    monkeypatch.setitem(sys.modules, module.split(".")[0], None)
    monkeypatch.setitem(sys.modules, module, None)
    with pytest.raises(OptionalDependencyError, match=rf"astro_ocl\[{extra}\]") as exc:
        require(module, feature="this feature")
    assert isinstance(exc.value, AstroOCLError) and isinstance(exc.value, ImportError)
    assert "\n" not in str(exc.value)


def test_find_catalogs_without_astroquery(monkeypatch):
    from astro_ocl.sources.archives.vizier import find_catalogs
    monkeypatch.setitem(sys.modules, "astroquery", None)
    monkeypatch.setitem(sys.modules, "astroquery.vizier", None)
    with pytest.raises(OptionalDependencyError, match=r"astro_ocl\[vizier\]"):
        find_catalogs("LAMOST")


def test_progress_without_tqdm_is_a_no_op(monkeypatch):
    from astro_ocl.utils import progress
    monkeypatch.setitem(sys.modules, "tqdm", None)
    monkeypatch.setitem(sys.modules, "tqdm.auto", None)
    items = [1, 2]
    assert progress(items, enabled=True) is items


def test_oldest_deps_pins_every_floor():
    out = subprocess.run([sys.executable, str(ROOT / "tools" / "oldest_deps.py")],
                         capture_output=True, text=True, check=True).stdout.split()
    assert "numpy==1.25" in out and "pyvo==1.9" in out and "matplotlib==3.7" in out
    assert not any(p.startswith("pytest") for p in out)
