"""Every documentation page with examples runs under pytest-doctestplus (issue 13 item 13)."""
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
