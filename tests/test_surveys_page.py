"""The numbers docs/surveys.rst gives for the default build are those of that build
(``astro-ocl build --seed 1``: the session fixture ``multi_survey_result``)."""
import re
from pathlib import Path

import numpy as np
import pytest

PAGE = Path(__file__).resolve().parents[1] / "docs" / "surveys.rst"


@pytest.fixture(scope="module")
def paragraph():
    text = PAGE.read_text()
    start = text.index("``astro-ocl build --seed 1``, the default offline build")
    return " ".join(text[start:].split("\n\n")[0].split())


def _number(pattern, text):
    m = re.search(pattern, text)
    assert m, pattern
    return [float(g) for g in m.groups()]


def _decimals(text):
    return len(text.split(".")[1]) if "." in text else 0


def _close(value, stated):
    """``value`` printed like ``stated`` (same decimals) is ``stated`` (-0.000 is 0.000)."""
    return float(f"{value:.{_decimals(stated)}f}") == float(stated)


def test_counts(multi_survey_result, paragraph):
    n_rv, n_feh, n_orbit = _number(r"(\d+) clusters get an RV, (\d+) an \[Fe/H\] .*? and "
                                   r"(\d+) an orbit", paragraph)
    c = multi_survey_result.clusters
    assert n_rv == np.isfinite(c["RV"].value).sum()
    assert n_feh == np.isfinite(c["[Fe/H]"].value).sum()
    assert n_orbit == np.isfinite(c["Peri"].value).sum()
    no_feh = sorted(str(n).replace("_", " ") for n in c["Cluster"][~np.isfinite(c["[Fe/H]"])])
    no_orbit = sorted(str(n).replace("_", " ") for n in c["Cluster"][~np.isfinite(c["Peri"])])
    listed = re.search(r"\(([^)]*) have no star usable for \[Fe/H\]\)", paragraph).group(1)
    assert sorted(re.split(r", | and ", listed)) == no_feh
    assert np.all(c["NFeH"][~np.isfinite(c["[Fe/H]"])] == 0)
    assert f"({' and '.join(no_orbit)} have no CG2020 distance)" in paragraph
    # ... because they have no distance
    assert np.all(~np.isfinite(c["Dist"][~np.isfinite(c["Peri"])].value))


def test_zero_points(multi_survey_result, paragraph):
    zp = multi_survey_result.zero_points

    def row(survey, quantity):
        return zp[(zp["survey"] == survey) & (zp["quantity"] == quantity)][0]

    m = re.search(r"Fitted jointly against APOGEE over the clusters the surveys share, LAMOST "
                  r"LRS sits ([\d.]+) \+- ([\d.]+) km/s below APOGEE \((\d+) clusters\), "
                  r"LAMOST MRS ([\d.]+) \+- ([\d.]+) km/s below; both are applied", paragraph)
    assert m, paragraph
    lrs, mrs = row("LAMOST-LRS", "RV"), row("LAMOST-MRS", "RV")
    assert zp.meta["reference"] == "APOGEE" and lrs["applied"] and mrs["applied"]
    assert _close(-lrs["offset"], m.group(1)) and _close(lrs["e_offset"], m.group(2))
    assert int(m.group(3)) == lrs["N"]
    assert _close(-mrs["offset"], m.group(4)) and _close(mrs["e_offset"], m.group(5))
    (limit,) = _number(r"\[Fe/H\] zero points are smaller than ([\d.]+) dex", paragraph)
    feh = zp[(zp["quantity"] == "[Fe/H]") & (zp["survey"] != "APOGEE")]
    assert np.all(np.abs(feh["offset"]) < limit) and not np.any(feh["applied"])


def test_apogee_against_occam(multi_survey_result, paragraph):
    m = re.search(r"APOGEE alone against OCCAM: RV (-?[\d.]+) km/s, \[Fe/H\] (-?[\d.]+) dex "
                  r"\(robust scatter ([\d.]+) km/s and ([\d.]+) dex, over (\d+) and (\d+) "
                  r"clusters\)", paragraph)
    assert m, paragraph
    comp = multi_survey_result.comparison
    occam = comp[(comp["catalogue"] == "OCCAM2020") & (comp["sample"] == "APOGEE stars only")]
    rv = occam[occam["quantity"] == "RV"][0]
    feh = occam[occam["quantity"] == "[Fe/H]"][0]
    assert _close(rv["median"], m.group(1)) and _close(feh["median"], m.group(2))
    assert _close(rv["robust_std"], m.group(3)) and _close(feh["robust_std"], m.group(4))
    assert (int(m.group(5)), int(m.group(6))) == (rv["N"], feh["N"])
