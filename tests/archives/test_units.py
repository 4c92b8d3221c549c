"""One test per entry of the unit map, and the table-level normalisation."""
import astropy.units as u
import pytest
from astropy.table import Table

from astro_ocl.sources.archives.units import UNIT_MAP, normalise_unit, normalise_units


@pytest.mark.parametrize("text", sorted(UNIT_MAP))
def test_each_mapping(text):
    expected = UNIT_MAP[text]
    got = normalise_unit(text)
    assert got == expected
    # and the same through an UnrecognizedUnit (what astropy makes of it)
    got2 = normalise_unit(u.Unit(text, parse_strict="silent")) if text else None
    if expected is None:
        assert got2 is None or got2 == u.dimensionless_unscaled or text == ""
    else:
        assert got2 == expected or u.Unit(got2).is_equivalent(expected)


@pytest.mark.parametrize("text, expected", [("deg", u.deg), ("km/s", u.km / u.s),
                                            ("mas", u.mas), ("pc", u.pc)])
def test_plain_units_pass(text, expected):
    assert normalise_unit(text) == expected


def test_unknown_unit_reported():
    assert normalise_unit("furlongs-per-fortnight!") is None


def test_table_normalisation():
    t = Table({"a": [1.0], "b": [2.0], "c": [3.0]})
    t["a"].unit = u.Unit("[-]", parse_strict="silent")
    t["b"].unit = u.Unit("km.s**-1", format="vounit")
    t["c"].unit = u.Unit("zzz", parse_strict="silent")
    unknown = normalise_units(t)
    assert t["a"].unit == u.dex
    assert t["b"].unit == u.km / u.s
    assert t["c"].unit is None
    assert unknown == [("c", "zzz")]
