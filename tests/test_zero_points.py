"""Zero points between surveys: their correlations, and the errors they give cluster values.

Every test runs on the real embedded stars of the default build (LAMOST LRS, LAMOST MRS
and APOGEE members of the Cantat-Gaudin and OCCAM clusters), matched as the build
matches them.
"""
import warnings

import astropy.units as u
import numpy as np
import pytest
from astropy.table import QTable

from astro_ocl.exceptions import DroppedRowsWarning
from astro_ocl.steps.likelihood import fit_cluster, likelihood_statistics, typical_dispersion
from astro_ocl.steps.multisurvey import combine_matched
from astro_ocl.steps.zeropoints import fit_zero_points

KMS = u.km / u.s


@pytest.fixture(scope="module")
def combined(by_survey):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DroppedRowsWarning)
        return combine_matched(by_survey)


def test_one_star_values_of_a_survey_carry_its_own_typical_dispersion(by_survey, per_survey):
    """The input of the zero-point fit: a survey's one-star cluster value weighs with the
    star's error and that survey's typical intrinsic dispersion in quadrature (the
    median over its own clusters with >= 5 stars and a constrained value)."""
    sigmas = set()
    for survey, table in per_survey.items():
        typical, n = typical_dispersion(table, "RV")
        assert n >= 3 and typical.value > 0
        sigmas.add(round(typical.value, 6))
        stars = by_survey[survey]
        names = np.asarray(stars["Cluster"]).astype(str)
        single = np.flatnonzero(np.asarray(table["NRV"]) == 1)
        assert single.size
        for i in single:
            cluster = stars[names == table["Cluster"][i]]
            star = cluster[cluster["rv"] == table["RV"][i]]      # the star is the value
            assert len(star) == 1
            assert table["e_RV"][i].to_value(KMS) == pytest.approx(
                np.hypot(star["e_rv"][0], typical).to_value(KMS), rel=1e-12)
    assert len(sigmas) == len(per_survey)          # each survey its own


def test_offset_correlations_are_recorded_and_kept_in_ecsv(per_survey, tmp_path):
    zp = fit_zero_points(per_survey, reference="APOGEE", seed=1)
    correlation = zp.meta["correlation"]
    for quantity in ("RV", "[Fe/H]"):
        entry = correlation[quantity]
        assert entry["surveys"] == ["LAMOST-LRS", "LAMOST-MRS"]
        rho = np.array(entry["matrix"])
        np.testing.assert_array_equal(rho, rho.T)
        np.testing.assert_array_equal(np.diag(rho), 1.0)
        assert np.all(np.abs(rho) <= 1)
    # both LAMOST surveys are tied to APOGEE through shared clusters: they move together
    assert correlation["RV"]["matrix"][0][1] > 0.2
    zp.write(tmp_path / "zero_points.ecsv")
    assert QTable.read(tmp_path / "zero_points.ecsv").meta["correlation"] == correlation


def test_offset_correlation_is_that_of_refits_to_redrawn_values(per_survey):
    """The surveys' cluster values redrawn within their errors and fitted again (no
    clipping, so that every fit takes the same values): the correlation of the fitted
    LRS and MRS offsets is the one the fit records."""
    zp = fit_zero_points(per_survey, reference="APOGEE", seed=1, clip=np.inf,
                         quantities=("RV",), n_bootstrap=10)
    rho = zp.meta["correlation"]["RV"]["matrix"][0][1]
    rng = np.random.default_rng(5)
    draws = []
    for _ in range(300):
        redrawn = {}
        for survey, table in per_survey.items():
            t = table.copy()
            t["RV"] = t["RV"] + rng.normal(0, 1, len(t)) * np.nan_to_num(t["e_RV"])
            redrawn[survey] = t
        fit = fit_zero_points(redrawn, reference="APOGEE", seed=1, clip=np.inf,
                              quantities=("RV",), n_bootstrap=10)
        draws.append([fit["offset"][list(fit["survey"]).index(s)]
                      for s in ("LAMOST-LRS", "LAMOST-MRS")])
    empirical = np.corrcoef(np.array(draws).T)[0, 1]
    # the standard error of a correlation coefficient over 300 draws: (1 - rho^2) / sqrt(300)
    assert empirical == pytest.approx(rho, abs=3 * (1 - rho ** 2) / np.sqrt(300))


def _stars(combined, cluster):
    sel = np.asarray(combined["Cluster"]).astype(str) == cluster
    t = combined[sel]
    return (t["rv"].to_value(KMS), t["e_rv"].to_value(KMS),
            np.asarray(t["survey"]).astype(str))


ZP_ERRORS = {"LAMOST-LRS": 0.6, "LAMOST-MRS": 0.4, "APOGEE": 0.0}


def test_correlated_zero_points_propagate_as_s_c_s(combined):
    """NGC 752 (stars of LRS, MRS and APOGEE): the zero points' part of the error is
    sqrt(s^T C s), s the surveys' shares of the core's weight and C_ij = rho_ij e_i e_j;
    with rho = 0 it is the quadrature sum of the independent case."""
    rv, erv, surveys = _stars(combined, "NGC_752")
    assert set(surveys) == set(ZP_ERRORS)
    zp = np.array([ZP_ERRORS[s] for s in surveys])
    rho = 0.9
    corr = {"LAMOST-LRS": {"LAMOST-MRS": rho}, "LAMOST-MRS": {"LAMOST-LRS": rho}}
    fit = fit_cluster(rv * KMS, erv * KMS, offsets_error=zp, surveys=surveys,
                      offsets_correlation=corr)
    w = fit.p_core / (erv ** 2 + fit.sigma ** 2)
    share = {s: w[surveys == s].sum() / w.sum() for s in ZP_ERRORS}
    x_lrs = share["LAMOST-LRS"] * ZP_ERRORS["LAMOST-LRS"]
    x_mrs = share["LAMOST-MRS"] * ZP_ERRORS["LAMOST-MRS"]
    assert x_lrs > 0.05 and x_mrs > 0.05
    assert fit.error_zp == pytest.approx(np.sqrt(x_lrs ** 2 + x_mrs ** 2
                                                 + 2 * rho * x_lrs * x_mrs), rel=1e-12)
    independent = fit_cluster(rv * KMS, erv * KMS, offsets_error=zp, surveys=surveys)
    assert independent.error_zp == pytest.approx(np.hypot(x_lrs, x_mrs), rel=1e-12)
    zero = {"LAMOST-LRS": {"LAMOST-MRS": 0.0}, "LAMOST-MRS": {"LAMOST-LRS": 0.0}}
    uncorrelated = fit_cluster(rv * KMS, erv * KMS, offsets_error=zp, surveys=surveys,
                               offsets_correlation=zero)
    assert uncorrelated.error_zp == pytest.approx(independent.error_zp, rel=1e-12)
    assert fit.error > independent.error
    # the statistical part is the same posterior
    assert np.sqrt(fit.error ** 2 - fit.error_zp ** 2) == pytest.approx(
        np.sqrt(independent.error ** 2 - independent.error_zp ** 2), rel=1e-9)


def _zero_point_table(rho):
    zp = QTable(rows=[(s, "RV", o, ZP_ERRORS[s], s != "APOGEE")
                      for s, o in (("LAMOST-LRS", -4.7), ("LAMOST-MRS", -0.4), ("APOGEE", 0.0))],
                names=["survey", "quantity", "offset", "e_offset", "applied"])
    zp.meta["correlation"] = {"RV": {"surveys": ["LAMOST-LRS", "LAMOST-MRS"],
                                     "matrix": [[1.0, rho], [rho, 1.0]]}}
    return zp


def test_likelihood_statistics_takes_the_correlations_when_asked(combined):
    """From the zero-point table's metadata: clusters with stars of both LAMOST surveys
    get the larger error of correlated offsets; one-survey clusters do not change;
    a correlation of 0 is the independent case."""
    keep = np.isin(np.asarray(combined["Cluster"]).astype(str),
                   ["NGC_752", "NGC_2682", "NGC_1039", "Berkeley_20", "King_2"])
    stars = combined[keep]
    independent, _ = likelihood_statistics(stars, zero_points=_zero_point_table(0.9))
    correlated, _ = likelihood_statistics(stars, zero_points=_zero_point_table(0.9),
                                          correlated_zero_points=True)
    zero, _ = likelihood_statistics(stars, zero_points=_zero_point_table(0.0),
                                    correlated_zero_points=True)
    assert correlated.meta["zero_point_errors"].startswith("correlated")
    assert independent.meta["zero_point_errors"] == "independent"
    names = np.asarray(stars["Cluster"]).astype(str)
    surveys = np.asarray(stars["survey"]).astype(str)
    both = np.array([{"LAMOST-LRS", "LAMOST-MRS"} <= set(surveys[names == c])
                     for c in correlated["Cluster"]])
    assert both.sum() >= 2 and (~both).sum() >= 2
    assert np.all(correlated["e_RV"][both] > independent["e_RV"][both])
    np.testing.assert_array_equal(correlated["e_RV"][~both], independent["e_RV"][~both])
    np.testing.assert_allclose(zero["e_RV"].value, independent["e_RV"].value, rtol=1e-12)
    np.testing.assert_array_equal(correlated["RV"], independent["RV"])
