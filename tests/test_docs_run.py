"""Every documentation page with examples runs under pytest-doctestplus."""
from pathlib import Path

DOCS = Path(__file__).resolve().parents[1] / "docs"


def test_docs_pages_are_doctested_with_the_plugin(request):
    config = request.config
    # the plugin that honours the pages' doctest-skip markers is active ...
    assert config.pluginmanager.hasplugin("pytest_doctestplus")
    assert config.getoption("doctest_rst")
    # ... and the docs folder is collected by the command CI runs (tools/test.sh)
    assert "docs" in config.getini("testpaths")
    pages = [p.name for p in DOCS.glob("*.rst") if ">>>" in p.read_text()]
    assert {"getting_started.rst", "tutorial.rst", "publish.rst", "reproduce.rst"} <= set(pages)


def test_sphinx_builds_the_docs_without_warnings(tmp_path):
    """``sphinx-build -W`` (``tox -e build_docs``): every page, autodoc of the API and the
    tables of the docs parse (a malformed RST table or a broken cross-reference fails)."""
    import os
    import subprocess
    import sys

    import pytest
    try:
        import sphinx  # noqa: F401
    except ImportError as exc:
        if os.environ.get("CI"):
            pytest.fail(f"the docs extra is not installed under CI: {exc}")
        pytest.skip("sphinx not installed (pip install '.[docs]')")
    import shutil
    shutil.rmtree(DOCS / "api", ignore_errors=True)  # automodapi's generated pages (.gitignore):
    # stale ones from an earlier build would name functions that moved
    proc = subprocess.run([sys.executable, "-m", "sphinx", "-W", "--keep-going", "-q", "-b",
                           "html", str(DOCS), str(tmp_path / "html")],
                          capture_output=True, text=True, timeout=600,
                          env={**os.environ, "MPLBACKEND": "Agg"})
    assert proc.returncode == 0, proc.stderr[-4000:]
    assert (tmp_path / "html" / "scale.html").exists()
