"""Gradients that one cluster cannot carry: chi2/dof, intrinsic scatter, leave-one-out.

Real abscissae and errors (the embedded Zhong et al. 2020 clusters with their CG2020
ages); the influence of each cluster is recomputed here with numpy.polyfit.
"""
import warnings

import numpy as np
import pytest

from astro_ocl.exceptions import AstroOCLWarning
from astro_ocl.sources.clusters import read_cluster_dynamics_input
from astro_ocl.steps.dynamics import orbit_parameters
from astro_ocl.steps.gradients import gradient_table
from astro_ocl.steps.gradients.fit import fit_diagnostics, intrinsic_scatter


@pytest.fixture(scope="module")
def zhong():
    """Zhong et al. (2020) clusters with RGC (no orbit integration needed for RGC)."""
    z = read_cluster_dynamics_input()
    orb = orbit_parameters(z, n_samples=0, outside="nan")
    for c in ("RGC", "LZ", "Energy"):
        z[c] = orb[c]
    ok = (np.isfinite(z["RGC"].value) & np.isfinite(np.asarray(z["[Fe/H]med"].value, float))
          & np.isfinite(np.asarray(z["e_[Fe/H]med"].value, float)))
    return z[ok]


def test_leave_one_out_shifts_agree_with_numpy(zhong):
    x = zhong["RGC"].value[:40]
    y = np.asarray(zhong["[Fe/H]med"].value, float)[:40]
    e = np.maximum(np.asarray(zhong["e_[Fe/H]med"].value, float)[:40], 0.01)
    d = fit_diagnostics(x, y, e, degree=2, min_error=0.01)
    coef, cov = np.polyfit(x, y, 2, w=1 / e, cov="unscaled")
    sigma = np.sqrt(np.diag(cov))
    resid = (y - np.polyval(coef, x)) / e
    assert d["chi2"] == pytest.approx(np.sum(resid ** 2), rel=1e-8)
    assert d["dof"] == 37
    for k in (0, 7, 23):
        keep = np.arange(x.size) != k
        c_k = np.polyfit(x[keep], y[keep], 2, w=1 / e[keep])
        np.testing.assert_allclose(d["shifts"][k], (c_k - coef) / sigma, rtol=1e-6, atol=1e-9)
    worst = np.nanmax(np.abs(d["shifts"]))
    assert d["max_shift"] == pytest.approx(worst)
    assert np.abs(d["shifts"][d["influential"]]).max() == pytest.approx(worst)


def test_intrinsic_scatter_recovers_an_injected_scatter(zhong):
    """Real RGC and errors, [Fe/H] drawn about a known gradient with a known extra scatter."""
    rng = np.random.default_rng(7)
    x = zhong["RGC"].value
    e = np.maximum(np.asarray(zhong["e_[Fe/H]med"].value, float), 0.01)
    truth = np.polyval([0.002, -0.09, 0.7], x)
    for s_true in (0.0, 0.05, 0.10):
        found = [intrinsic_scatter(x, truth + rng.normal(0, np.hypot(e, s_true)), e)
                 for _ in range(60)]
        assert np.median(found) == pytest.approx(s_true, abs=0.012)


def test_one_cluster_that_carries_a_fit_is_named(zhong):
    """Real radii and errors, [Fe/H] about a known gradient, the outermost cluster made wild."""
    t = zhong[np.argsort(zhong["RGC"].value)][::4][1:31]  # no lone high-leverage radius
    rng = np.random.default_rng(3)
    e = np.maximum(np.asarray(t["e_[Fe/H]med"].value, float), 0.05)
    feh = np.polyval([0.002, -0.09, 0.7], t["RGC"].value) + rng.normal(0, e)
    far = int(np.argmax(t["RGC"].value))
    feh[far] += 1.0
    t["[Fe/H]med"] = feh * t["[Fe/H]med"].unit
    t["e_[Fe/H]med"] = e * t["e_[Fe/H]med"].unit
    t["Nflag12"] = np.full(len(t), 10)
    t["AgeNN"] = np.full(len(t), 8.5)  # log10(age/yr): one age group, 0.1-0.5 Gyr
    with pytest.warns(AstroOCLWarning, match=f"RGC: {t['Cluster'][far]} alone moves"):
        res = gradient_table(t, include_all=False, min_clusters=5)
    row = res.table[(res.table["age_group"] == "0.1-0.5 Gyr") & (res.table["x"] == "RGC")][0]
    assert row["loo_cluster"] == t["Cluster"][far] and row["loo_shift"] > 1
    assert "alone moves" in row["note"] and row["chi2_dof"] > 2
    # with the clusters' own scatter fitted, chi2/dof comes to about 1
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", AstroOCLWarning)
        fitted = gradient_table(t, include_all=False, min_clusters=5, scatter=True)
    row = fitted.table[(fitted.table["age_group"] == "0.1-0.5 Gyr")
                       & (fitted.table["x"] == "RGC")][0]
    assert row["scatter"].to_value("dex") > 0.05 and row["chi2_dof"] == pytest.approx(1.0, abs=0.25)
