"""The written report: files, wording, and every cited number found in the outputs."""
import collections
import re

import numpy as np
import pytest

from astro_ocl.exceptions import OutputExistsError
from astro_ocl.sinks.reproduce import REPORT_TABLES

# labels and references that look like numbers but are not claims
_NOT_NUMBERS = [r"FLAG\s*=\s*\d+", r"\bsection \d+(\.\d+)*", r"\b(Table|Fig\.) \d+",
                r"\b(19|20)\d\d\b", r"v\^2/2", r"10\*\*", r"\bx\^2", r"\(-R0, 0,"]
_TOKEN = re.compile(r"(?<![A-Za-z_\d.])(\d+(?:\.\d+)?(?:e[-+]?\d+)?)(?![A-Za-z_\d])")


def _numbers(value):
    """Every number in a table's cells and (recursively) its meta."""
    if isinstance(value, dict):
        for v in value.values():
            yield from _numbers(v)
    elif isinstance(value, (list, tuple)):
        for v in value:
            yield from _numbers(v)
    elif isinstance(value, (int, float, np.integer, np.floating)) and not isinstance(value, bool):
        yield float(value)


def _pool(tables):
    out = []
    for name, t in tables.items():
        if name == "clusters":       # per-cluster values: not a place a sentence may cite
            continue
        for col in t.colnames:
            v = np.asarray(getattr(t[col], "value", t[col]))
            if v.dtype.kind in "fiu":
                out += [float(x) for x in v.ravel() if np.isfinite(x)]
        out += [x for x in _numbers(dict(t.meta)) if np.isfinite(x)]
    return np.unique(np.abs(np.array(out)))


def _matches(token, pool):
    mant, _, exp = token.partition("e")
    decimals = len(mant.split(".")[1]) if "." in mant else 0
    t = float(token)
    half = 0.5 * 10.0 ** (int(exp or 0) - decimals)
    for scale in (1.0, 100.0):          # a fraction may be cited as a percentage
        if np.any(np.abs(pool * scale - t) <= half * (1 + 1e-9)):
            return True
    return False


def _cited(text):
    for pattern in _NOT_NUMBERS:
        text = re.sub(pattern, " ", text)
    return _TOKEN.findall(text)


def test_every_cited_number_is_in_the_outputs(result, written):
    """A sentence may cite only numbers that the output tables hold (at its precision)."""
    _, _, tables = written
    pool = _pool(tables)
    texts = (list(tables["columns"]["finding"]) + list(tables["notes"]["text"])
             + list(tables["claims"]["explanation"]) + list(tables["paper_tables"]["finding"])
             + list(result.defects))
    missing = collections.defaultdict(list)
    for text in texts:
        for tok in _cited(text):
            if not _matches(tok, pool):
                missing[tok].append(text[:80])
    assert not missing, dict(missing)


def test_the_check_catches_a_number_not_in_the_outputs(written):
    _, _, tables = written
    pool = _pool(tables)
    # a second-hand figure that no output holds is caught
    assert not all(_matches(t, pool) for t in _cited("up to 2.95 sigma, 17.3 of them"))
    assert _matches("0.18", pool)         # max abs(z) of Table 6 in the paper convention


def test_each_explanation_once(written):
    out, _, _ = written
    md = (out / "report.md").read_text()
    seen = collections.Counter()
    for line in md.splitlines():
        for cell in line.split("|"):
            for sentence in re.split(r"(?<=[.;])\s+", cell.strip()):
                if len(sentence) > 100:
                    seen[sentence] += 1
    assert {s: n for s, n in seen.items() if n > 1} == {}


def test_wording(result, written):
    out, _, _ = written
    md = (out / "report.md").read_text()
    assert "exactly" not in md
    assert "12 of 54" not in md and "2.95" not in md and "galpy version" not in md
    # the Table 6 comparison is shown for both uncertainty choices
    assert "`s_[Fe/H]` (fu2022) | 54 | 0.18 | 54 | 0 |" in md
    assert "`e_[Fe/H]med` (default) | 54 |" in md
    assert "figures/table6_z.png" in md
    # every tolerance is stated
    for t in (result.columns, result.paper_tables):
        assert all(t["tolerance"])


def test_write_report(result, written):
    out, files, tables = written
    names = {p.name for p in files}
    assert {"report.md", "report.html"} | {f"{k}.ecsv" for k in REPORT_TABLES} <= names
    assert {"table6_z.png", "energy_residuals.png", "Peri.png"} <= names
    cl = tables["clusters"]
    assert cl["LZ_pub"].unit == cl["LZ_ours"].unit == cl["LZ_fu2022"].unit
    assert {"Energy_galpot", "Peri_galpot"} <= set(cl.colnames)
    md = (out / "report.md").read_text()
    for key in result.notes["key"]:
        assert f"- **{key}**" in md
    assert "<table>" in (out / "report.html").read_text()
    # refuses to overwrite, leaves the report in place
    with pytest.raises(OutputExistsError):
        result.write(out)
    assert (out / "report.md").read_text() == md


def test_cli_reproduce(tmp_path, capsys):
    from astro_ocl.cli import main
    out = tmp_path / "rep"
    assert main(["reproduce", "--out", str(out), "--realisations", "200", "--no-figures"]) == 0
    text = capsys.readouterr().out
    assert "published error" in text and "convention" in text
    assert "Table 6: sigma = s_[Fe/H] max abs(z) 0.18, 54 of 54 within 0.5" in text
    assert "load average" in text
    assert (out / "report.html").exists() and not (out / "figures").exists()
    assert main(["reproduce", "--out", str(out)]) == 1
    assert "exists" in capsys.readouterr().err
    # another transcription of Table 6 is read with --paper-table6
    from astro_ocl.sources.clusters import read_fu2022_table6
    t6 = read_fu2022_table6()
    t6["paper"] = t6["paper"] + 3 * t6["paper_plus"]
    path = tmp_path / "t6.ecsv"
    t6.write(path, format="ascii.ecsv")
    assert main(["reproduce", "--out", str(tmp_path / "rep2"), "--realisations", "200",
                 "--no-figures", "--paper-table6", str(path)]) == 0
    assert "Table 6: sigma = s_[Fe/H] max abs(z)" in capsys.readouterr().out
    assert str(path) in (tmp_path / "rep2" / "report.md").read_text()
