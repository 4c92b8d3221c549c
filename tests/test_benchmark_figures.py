"""Every performance figure quoted in README.md and the docs names the benchmark that made it.

The convention (``benchmarks/run_all.py``): a quoted figure is written
``**<figure>** [bench:<row id>]``, and ``<row id>`` is a row of docs/benchmarks.rst,
which ``run_all.py`` writes from the benchmarks' output with the script of each row;
``run_all.py`` also rewrites the quoted figures from the rows. These tests check:

* docs/benchmarks.rst says on what machine, load, versions and with what command it
  was made, and each row names a benchmark script that ``run_all.py`` runs;
* every quoted figure is a row, and equals the row's figure;
* no performance figure (a time, a memory size, a speed ratio) is left unquoted in
  README.md and docs/*.rst outside code, except the configuration values listed in
  `NOT_MEASUREMENTS`;
* the checks themselves catch an unquoted figure and rewrite a stale one.
"""
import re
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "benchmarks"))
import run_all  # noqa: E402

#: A time, a memory size or a speed ratio written after a number.
PERFORMANCE = re.compile(
    r"(?<![\w.])\d[\d.,]*(?:e[-+]?\d+)?\s?"
    r"(?:ms|s|sec|seconds|min|minutes|h|hours|kB|KB|MB|GB|TB|KiB|MiB|GiB)(?![\w/])"
    r"|(?<![\w.])\d[\d.,]*×|(?<![\w.])\d[\d.,]*x(?!\w)")

#: Numbers with a unit of time or memory that are settings, not measurements
#: (file, text, why).
NOT_MEASUREMENTS = [
    ("docs/archives.rst", "``conf.job_timeout`` (1200 s)", "a configured timeout"),
    ("docs/archives.rst", "(3600 s)", "a configured timeout"),
    ("docs/publish.rst", "30 s by default", "a configured timeout"),
]


def _rows():
    """``{row id: {"quote", "script"}}`` of docs/benchmarks.rst's table."""
    lines = run_all.DOC.read_text().splitlines()
    rows = {}
    for i, line in enumerate(lines):
        m = re.fullmatch(r"   \* - ``([A-Za-z0-9_.-]+)``", line)
        if m and i + 4 < len(lines):
            cells = [lines[i + k].strip() for k in range(1, 5)]
            assert all(c.startswith("- ") for c in cells), lines[i:i + 5]
            rows[m.group(1)] = {"what": run_all.unescape(cells[0][2:]),
                                "quote": run_all.unescape(cells[1][2:]),
                                "script": cells[3][2:].strip("`")}
    return rows


def _without_code(path, text):
    """``text`` with code (fenced Markdown, rst literal blocks, doctests) blanked out."""
    out, lines = [], text.splitlines()
    literal_indent = None
    fenced = False
    for line in lines:
        stripped = line.strip()
        indent = len(line) - len(line.lstrip())
        if path.suffix == ".md":
            if stripped.startswith("```"):
                fenced = not fenced
                out.append("")
                continue
            out.append("" if fenced else line)
            continue
        if literal_indent is not None:
            if not stripped or indent > literal_indent:
                out.append("")
                continue
            literal_indent = None
        if stripped.startswith((">>>", "... ")):
            out.append("")
            continue
        if stripped.endswith("::") or stripped.startswith((".. code-block", ".. code::",
                                                           ".. doctest", ".. testcode")):
            literal_indent = indent
            out.append(line if not stripped.startswith("..") else "")
            continue
        out.append(line)
    return "\n".join(out)


def unquoted_figures(path, text):
    """The performance figures of ``text`` that are not quoted from a row: [(line, text)]."""
    rel = str(path.relative_to(ROOT)) if path.is_absolute() else str(path)
    plain = run_all.QUOTE.sub(lambda m: " " * len(m.group(0)), text)
    for f, snippet, _ in NOT_MEASUREMENTS:
        if f == rel:
            plain = plain.replace(snippet, " " * len(snippet))
    plain = _without_code(path, plain)
    found = []
    for n, line in enumerate(plain.splitlines(), 1):
        found += [(n, m.group(0)) for m in PERFORMANCE.finditer(line)]
    return found


def test_benchmarks_page_says_how_it_was_made():
    text = run_all.DOC.read_text()
    assert text.startswith(".. This file is written by benchmarks/run_all.py")
    for field in ("* Command: ``python benchmarks/run_all.py", "* Date: ", "* Machine: ",
                  " cores (", "* Load average (1, 5, 15 min) at the start: ", "* Versions: ",
                  "numpy ", "astropy ", "galpy "):
        assert field in text, field
    index = (ROOT / "docs" / "index.rst").read_text()
    assert re.search(r"^   benchmarks$", index, re.M), "docs/benchmarks.rst not in the toctree"


def test_every_row_names_a_benchmark_that_run_all_runs():
    rows = _rows()
    assert len(rows) >= 20
    scripts = {s for s, _, _ in run_all.BENCHMARKS.values()}
    for rid, row in rows.items():
        assert row["script"] in scripts, (rid, row)
        assert (ROOT / "benchmarks" / row["script"]).is_file()
        assert row["quote"] and row["quote"] != "--", rid


def test_quoted_figures_are_rows_of_the_benchmarks_page():
    rows = _rows()
    n = 0
    for path in run_all.quoting_files():
        for m in run_all.QUOTE.finditer(path.read_text()):
            n += 1
            rid = m.group("id")
            assert rid in rows, f"{path.name}: [bench:{rid}] is no row of docs/benchmarks.rst"
            assert run_all.same_quote(m.group("quote"), rows[rid]["quote"]), (
                f"{path.name}: **{m.group('quote')}** [bench:{rid}] but the row says "
                f"{rows[rid]['quote']!r}: run benchmarks/run_all.py")
    assert n >= 20


def test_no_performance_figure_without_its_benchmark():
    left = []
    for path in run_all.quoting_files():
        left += [f"{path.relative_to(ROOT)}:{n}: {t}"
                 for n, t in unquoted_figures(path, path.read_text())]
    assert not left, ("performance figures not quoted from docs/benchmarks.rst "
                      "(write them **<figure>** [bench:<row id>]):\n" + "\n".join(left))


@pytest.mark.parametrize("text, n", [
    ("The match takes 12 s on two cores.", 1),
    ("astropy 21.2 s, 3.8x slower", 2),
    ("STILTS used 1.9 GB; astro_ocl is 4.1× faster", 2),
    ("emcee took **322 s** [bench:gradients-emcee-time] here", 0),
    ("3 Gyr orbits every 0.5 Myr, 386 clusters x 100 samples, 0x00FF", 0),
])
def test_the_check_sees_unquoted_figures(text, n):
    assert len(unquoted_figures(Path("README.md"), text)) == n


def test_code_is_not_checked():
    rst = "Run::\n\n    $ astro-ocl build   # 20 s\n\nThen 5 s.\n"
    assert unquoted_figures(Path("docs/x.rst"), rst) == [(5, "5 s")]
    md = "```\ntime: 3 s\n```\nand 4 MB\n"
    assert unquoted_figures(Path("README.md"), md) == [(4, "4 MB")]


def test_run_all_rewrites_stale_quotes():
    rows = {"a": {"quote": "1.7× (1 M × 10 M)"}, "b": {"quote": "12 s"}}
    text = ("faster by **1.2× (1 M ×\n10 M)** [bench:a], job **12\ns** [bench:b], "
            "**3 s** [bench:c]")
    unknown = []
    out = run_all.rewrite_text(text, rows, unknown)
    assert "**1.7× (1 M × 10 M)** [bench:a]" in out
    assert "**12\ns** [bench:b]" in out  # equal up to whitespace: left as written
    assert unknown == ["c"] and "**3 s** [bench:c]" in out
