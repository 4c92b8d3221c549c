"""ADQL quoting: identifiers, literals, and injection attempts that must not change a query."""
import numpy as np
import pytest

from astro_ocl.sources.archives.adql import in_list, quote_identifier, quote_literal, quote_table

INJECTIONS = [
    "NGC_2682' OR '1'='1",
    "NGC_2682'; DROP TABLE gaiadr2.gaia_source; --",
    "NGC_2682 -- comment",
    "x'||'y",
    "a\\' OR 1=1 --",
    "';",
]


@pytest.mark.parametrize("name, expected", [
    ("gaiadr2.gaia_source", "gaiadr2.gaia_source"),
    ("J/A+A/640/A1/nodup", '"J/A+A/640/A1/nodup"'),
    ("J/A+A/640/A1/table1", '"J/A+A/640/A1/table1"'),
    ("V/164/stellar5", '"V/164/stellar5"'),
    ('weird"name', '"weird""name"'),
    ("TAP_UPLOAD.ids", "TAP_UPLOAD.ids"),
    ("select.from", '"select"."from"'),
])
def test_quote_table(name, expected):
    assert quote_table(name) == expected


@pytest.mark.parametrize("name, expected", [
    ("ra", "ra"), ("[Fe/H]", '"[Fe/H]"'), ("pmRA*", '"pmRA*"'), ("size", '"size"'),
    ("Source", "Source"), ('a"b', '"a""b"'), ("1abc", '"1abc"'),
])
def test_quote_identifier(name, expected):
    assert quote_identifier(name) == expected


@pytest.mark.parametrize("bad", ["", "a\nb", "x\x00"])
def test_identifier_rejects_control_characters(bad):
    with pytest.raises(ValueError):
        quote_identifier(bad)


@pytest.mark.parametrize("value, expected", [
    ("NGC_2682", "'NGC_2682'"), (3, "3"), (np.int64(4377208708472475520), "4377208708472475520"),
    (0.7, "0.7"), (np.float32(0.5), "0.5"), ("O'Brien", "'O''Brien'"),
])
def test_quote_literal(value, expected):
    assert quote_literal(value) == expected


@pytest.mark.parametrize("bad", [float("nan"), float("inf"), True, None, object(), [1]])
def test_quote_literal_rejects(bad):
    with pytest.raises((TypeError, ValueError)):
        quote_literal(bad)


def _literal_spans(sql):
    """Split ADQL into (outside-literal text, literal contents) the way a parser does."""
    outside, literals, i, cur = [], [], 0, None
    while i < len(sql):
        ch = sql[i]
        if cur is None:
            if ch == "'":
                cur = ""
            else:
                outside.append(ch)
        else:
            if ch == "'" and i + 1 < len(sql) and sql[i + 1] == "'":
                cur += "'"
                i += 1
            elif ch == "'":
                literals.append(cur)
                cur = None
            else:
                cur += ch
        i += 1
    assert cur is None, "unterminated literal"
    return "".join(outside), literals


@pytest.mark.parametrize("evil", INJECTIONS)
def test_injection_stays_one_literal(evil):
    where = in_list("Cluster", ["NGC_2682", evil])
    outside, literals = _literal_spans(where)
    # the structure of the query is unchanged: only the IN list, two literals
    assert outside == "Cluster IN (, )"
    assert literals == ["NGC_2682", evil]


@pytest.mark.parametrize("evil", INJECTIONS)
def test_injection_in_table_name_is_one_identifier(evil):
    q = quote_table(evil)
    assert q.startswith('"') and q.endswith('"')
    assert q[1:-1].replace('""', "") .count('"') == 0
