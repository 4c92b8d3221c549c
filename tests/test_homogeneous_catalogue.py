"""The default multi-survey catalogue held against what a referee would check.

The real default build (LAMOST LRS, LAMOST MRS and APOGEE stars of the embedded
samples): every value on one scale, no value from stars outside their survey's
domain, error bars that cover the stars, and independent references that agree.
"""
import numpy as np
import pytest
from astropy.table import Table

from astro_ocl.utils import data_path


def _row(table, name):
    return table[list(np.asarray(table["Cluster"]).astype(str)).index(name)]


def test_most_clusters_have_rv_and_feh(multi_survey_result):
    c = multi_survey_result.clusters
    both = np.isfinite(c["RV"].value) & np.isfinite(c["[Fe/H]"].value)
    assert both.sum() >= 80
    assert c.meta["statistics"] == "likelihood"


def test_h_and_chi_persei_get_no_feh_from_hot_stars(multi_survey_result):
    """h and chi Per (NGC 869, 884): their B stars at the MRS grid edge leave the [Fe/H]
    statistics, with the reason in the member table; what is left is credible or none."""
    res = multi_survey_result
    lit = Table.read(data_path("dias2021.csv.gz"), format="ascii.csv")
    for name in ("NGC_869", "NGC_884"):
        m = res.members[np.asarray(res.members["Cluster"]) == name]
        mrs = m[np.asarray(m["Survey"]) == "LAMOST-MRS"]
        reasons = mrs["FeHdomain"]                                   # every MRS star out
        assert len(mrs) and not np.any(np.ma.getmaskarray(reasons)) and all(
            str(r) for r in reasons)
        assert not np.any(np.asarray(mrs["Flag"]) == 12)
        feh = _row(res.clusters, name)["[Fe/H]"].value
        dias = float(lit["[Fe/H]"][list(lit["Cluster"]).index(name)])
        assert np.isnan(feh) or abs(feh - dias) < 0.3


def test_two_stars_that_disagree_are_flagged_and_covered(multi_survey_result):
    """King 2: two APOGEE stars 93 km/s apart. The value is flagged and its error bar
    reaches both stars (the paper's method gave 0.08 km/s)."""
    res = multi_survey_result
    row = _row(res.clusters, "King_2")
    stars = res.members[np.asarray(res.members["Cluster"]) == "King_2"]["RV"].value
    assert len(stars) == 2 and np.ptp(stars) > 50
    assert row["f_RV"] and row["RVnote"]
    rv, err = row["RV"].value, row["e_RV"].value
    assert rv - 1.01 * err <= stars.min() and stars.max() <= rv + 1.01 * err


def test_one_scale_against_gaia_dr3(multi_survey_result):
    """Against Gaia DR3 cluster RVs (Hunt & Reffert 2023, n_RV >= 3, e_RV < 2 km/s): the
    LAMOST-only and APOGEE-only clusters agree within their uncertainty, and at most 5 %
    of the comparisons are outliers (each with its reason)."""
    v = multi_survey_result.validation
    t = v.table
    sel = (t["reference"] == "Hunt2023") & (t["quantity"] == "RV")
    lamost = t[sel & (t["mix"] == "LAMOST only")][0]
    apogee = t[sel & (t["mix"] == "APOGEE only")][0]
    gap = lamost["median"] - apogee["median"]
    assert abs(gap) < 2 * np.hypot(lamost["e_median"], apogee["e_median"])
    assert abs(gap) < 1.5
    rows = t[t["mix"] == "all"]
    assert rows["n_outliers"].sum() <= 0.05 * rows["N"].sum()
    assert all(str(r) for r in v.outliers["reason"])


def test_every_value_says_which_surveys_and_offsets_made_it(multi_survey_result):
    c = multi_survey_result.clusters
    zp = multi_survey_result.zero_points
    lrs = zp[(zp["survey"] == "LAMOST-LRS") & (zp["quantity"] == "RV")][0]
    assert lrs["applied"]
    row = _row(c, "NGC_752")                                   # three surveys
    assert set(s.split(":")[0] for s in str(row["RVsurveys"]).split(",")) == {
        "APOGEE", "LAMOST-LRS", "LAMOST-MRS"}
    assert f"LAMOST-LRS:{lrs['offset']:+.2f}" in str(row["RVzp"]) and "APOGEE:ref" in str(
        row["RVzp"])


@pytest.mark.parametrize("quantity", ["RV", "[Fe/H]"])
def test_validation_in_every_build(multi_survey_result, quantity):
    t = multi_survey_result.validation.table
    assert np.any((t["quantity"] == quantity) & (t["N"] > 0))


def test_stage_log_counts_only_real_flags(multi_survey_result):
    c = multi_survey_result.clusters
    note = multi_survey_result.stage_log["clusters"]["note"]
    for quantity, col in (("RV", "f_RV"), ("[Fe/H]", "f_[Fe/H]")):
        n = int((np.ma.filled(np.ma.asarray(c[col]).astype(str), "") != "").sum())
        assert n < len(c)
        assert f"{n} {quantity}" in note
