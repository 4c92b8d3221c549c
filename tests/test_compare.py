import astropy.units as u
import numpy as np
import pytest
from astropy.table import QTable

from astro_ocl.steps.compare import compare, literature_comparison, offset_statistics


def _ours():
    t = QTable()
    t["Cluster"] = ["A", "B", "C", "D"]
    t["RVmed"] = [10.0, 20.0, 30.0, np.nan] * u.km / u.s
    t["e_RVmed"] = [1.0, 1.0, 1.0, 1.0] * u.km / u.s
    t["[Fe/H]med"] = [0.0, -0.1, 0.1, 0.2] * u.dex
    t["e_[Fe/H]med"] = [0.01] * 4 * u.dex
    return t


def _lit():
    t = QTable()
    t["Cluster"] = ["A", "B", "C", "D", "E", "A"]
    t["RV"] = [15.0, 25.0, 36.0, 1.0, 3.0, 99.0] * u.km / u.s
    t["e_RV"] = [0.5] * 6 * u.km / u.s
    t.meta["name"] = "Test2000"
    return t


def test_compare_matches_by_name_and_differences():
    m = compare(_ours(), _lit(), quantity="RV")
    assert list(m["Cluster"]) == ["A", "B", "C"]  # D has no RV of ours; A's duplicate ignored
    assert m["diff"].to_value(u.km / u.s).tolist() == [-5.0, -5.0, -6.0]
    s = m.meta["statistics"]
    assert s["N"] == 3
    assert s["median"] == -5 * u.km / u.s
    assert s["mean"].value == pytest.approx(-16 / 3)
    assert s["robust_std"] == 0 * u.km / u.s


def test_offset_statistics_empty():
    s = offset_statistics([np.nan] * u.km / u.s)
    assert s["N"] == 0 and np.isnan(s["median"])


def test_literature_comparison_summary():
    summary, matched = literature_comparison(_ours(), {"Test2000": _lit()})
    assert list(summary["catalogue"]) == ["Test2000"]
    assert summary["median"][0] == -5.0 and summary["N"][0] == 3
    assert ("Test2000", "RV") in matched


def test_compare_unknown_quantity():
    with pytest.raises(ValueError, match="quantity"):
        compare(_ours(), _lit(), quantity="Teff")
    with pytest.raises(KeyError, match=r"\[Fe/H\]"):
        compare(_ours(), _lit(), quantity="[Fe/H]")
