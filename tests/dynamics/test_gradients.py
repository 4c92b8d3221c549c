"""Metallicity gradients (method step 8, paper Table 6): exact posterior and emcee."""
import astropy.units as u
import numpy as np
import pytest
from astropy.table import QTable

from astro_ocl.exceptions import InputDataError, MissingColumnError, NoUsableDataError
from astro_ocl.sources.clusters import read_fu2022_table6
from astro_ocl.steps import gradients as g


def _synthetic(n=80, seed=0, truth=(-0.004, 0.02, -0.05)):
    rng = np.random.default_rng(seed)
    x = rng.uniform(5, 18, n)
    e = rng.uniform(0.02, 0.08, n)
    y = np.polyval(truth, x) + rng.normal(0, 1, n) * e
    return x, y, e, truth


@pytest.fixture(scope="module")
def fu2022():
    """The published Fu et al. (2022) catalogue with CG2020 ages (the input of Table 6)."""
    from astro_ocl.reproduce import published_inputs
    return published_inputs()


# ---- the exact (analytic) posterior ------------------------------------------------------

def test_analytic_is_the_default_and_recovers_known_coefficients():
    x = np.linspace(6.0, 16.0, 25)
    truth = np.array([0.003, -0.12, 0.75])
    fit = g.fit_gradient(x, np.polyval(truth, x), 0.05)
    assert fit.method == "analytic" and fit.names == ("a", "b", "c")
    np.testing.assert_allclose(fit.p50, truth, rtol=1e-9, atol=1e-12)
    np.testing.assert_allclose(fit.p16, fit.p50 - fit.sigma)
    np.testing.assert_allclose(fit.p84, fit.p50 + fit.sigma)
    assert fit.cov.shape == (3, 3) and np.allclose(fit.cov, fit.cov.T)
    assert np.all(np.isnan(fit.tau)) and np.isnan(fit.acceptance) and fit.converged
    assert fit.nwalkers == fit.nsteps == fit.burn == 0 and fit.n_points == 25
    assert fit(10.0) == pytest.approx(np.polyval(truth, 10.0))


def test_analytic_equals_weighted_least_squares():
    x, y, e, _ = _synthetic(seed=3)
    fit = g.fit_gradient(x, y, e)
    coef, cov = np.polyfit(x, y, 2, w=1.0 / e, cov="unscaled")
    np.testing.assert_allclose(fit.p50, coef, rtol=1e-8)
    np.testing.assert_allclose(fit.cov, cov, rtol=1e-7)


def test_analytic_intervals_cover_68_percent():
    """Over 2000 synthetic data sets the truth is inside mean -/+ sigma 68.3 % of the time."""
    truth = np.array([-0.004, 0.02, -0.05])
    pulls = []
    for seed in range(2000):
        x, y, e, _ = _synthetic(n=30, seed=seed, truth=truth)
        fit = g.fit_gradient(x, y, e)
        pulls.append((fit.p50 - truth) / fit.sigma)
    pulls = np.array(pulls)
    inside = np.mean(np.abs(pulls) <= 1.0, axis=0)
    assert np.all(np.abs(inside - 0.683) < 0.035), inside
    assert np.all(np.abs(pulls.std(axis=0) - 1.0) < 0.05)
    assert np.all(np.abs(pulls.mean(axis=0)) < 0.07)


def test_units_are_accepted():
    x, y, e, _ = _synthetic(seed=4)
    plain = g.fit_gradient(x, y, e)
    q = g.fit_gradient((x * 1000) * u.pc, y * u.dex, e * u.dex, x_unit=u.kpc)
    np.testing.assert_allclose(q.p50, plain.p50, rtol=1e-10)
    np.testing.assert_allclose(q.cov, plain.cov, rtol=1e-9)
    # a Quantity x without x_unit is used in its own unit
    assert g.fit_gradient(x * u.kpc, y, e).p50 == pytest.approx(plain.p50)
    with pytest.raises(u.UnitsError):
        g.fit_gradient(x, y * u.km, e)
    with pytest.raises(u.UnitsError):
        g.fit_gradient(x * u.s, y, e, x_unit=u.kpc)


def test_bad_inputs_raise():
    x, y, e, _ = _synthetic(n=10)
    with pytest.raises(ValueError, match="method"):
        g.fit_gradient(x, y, e, method="mcmc")
    with pytest.raises(ValueError, match="degree"):
        g.fit_gradient(x, y, e, degree=-1)
    with pytest.raises(ValueError, match="length"):
        g.fit_gradient(x, y[:-1], e)
    with pytest.raises(ValueError, match="e_feh"):
        g.fit_gradient(x, y, e[:-1])
    with pytest.raises(ValueError, match="positive"):
        g.fit_gradient(x, y, -e)
    with pytest.raises(ValueError, match="positive"):
        g.fit_gradient(x, y, 0.0, min_error=0.0)
    with pytest.raises(NoUsableDataError):
        g.fit_gradient([1.0, 2.0], [0.1, 0.2], [0.1, 0.1])
    with pytest.raises(NoUsableDataError, match="distinct"):
        g.fit_gradient(np.full(8, 9.0), np.zeros(8), 0.05)
    with pytest.raises(TypeError, match="x_unit"):
        g.fit_gradient(x, y, e, x_unit=u.kpc)
    with pytest.raises(ValueError, match="nwalkers"):
        g.fit_gradient(x, y, e, method="emcee", nwalkers=4, nsteps=100)
    with pytest.raises(ValueError, match="burn"):
        g.fit_gradient(x, y, e, method="emcee", nwalkers=8, nsteps=100, burn=100)


def test_rows_with_non_finite_values_are_left_out():
    x, y, e, _ = _synthetic(n=40, seed=5)
    full = g.fit_gradient(x[:30], y[:30], e[:30])
    y2 = y.copy()
    y2[30:] = np.nan
    assert g.fit_gradient(x, y2, e).p50 == pytest.approx(full.p50)
    assert g.fit_gradient(x, y2, e).n_points == 30


# ---- analytic against emcee ---------------------------------------------------------------

def test_analytic_agrees_with_emcee_on_fu2022(fu2022):
    """The exact posterior and the paper's sampler agree to < 0.05 sigma on real data.

    One Table 6 cell (0.1-0.5 Gyr against RGC, 68 clusters); 128 walkers x
    3000 steps (tau ~ 35 steps: ~70 tau after burn-in, ~9000 independent
    samples, so a Monte Carlo error of ~0.015 sigma per percentile; over ten
    seeds the largest of the nine differences was 0.008-0.028 sigma) instead of
    the paper's 300 x 10 000. More walkers cost little (the walkers are
    evaluated together), more steps cost time.
    """
    res = g.gradient_table(fu2022, include_all=False)
    cl = res.clusters[res.clusters["age_group"] == "0.1-0.5 Gyr"]
    assert len(cl) == 68
    x, y, e = cl["RGC"], cl["[Fe/H]"], cl["e_[Fe/H]fit"]
    exact = g.fit_gradient(x, y, e)
    np.testing.assert_allclose(exact.p50, res.fits[("0.1-0.5 Gyr", "RGC")].p50)
    mc = g.fit_gradient(x, y, e, method="emcee", nwalkers=128, nsteps=3000, seed=11)
    assert mc.method == "emcee" and mc.converged and 0.2 < mc.acceptance < 0.9
    for p_mc, p_exact in ((mc.p16, exact.p16), (mc.p50, exact.p50), (mc.p84, exact.p84)):
        assert np.all(np.abs(p_mc - p_exact) / exact.sigma < 0.05)
    np.testing.assert_allclose(mc.sigma, exact.sigma, rtol=0.05)


def test_emcee_truth_within_16_84():
    x, y, e, truth = _synthetic(seed=0)
    fit = g.fit_gradient(x, y, e, method="emcee", nwalkers=32, nsteps=3000, seed=0)
    assert fit.names == ("a", "b", "c")
    assert fit.converged and np.all(fit.tau > 0)
    assert 0.2 < fit.acceptance < 0.9
    for name, t in zip(fit.names, truth):
        lo, med, hi = fit.percentiles(name)
        assert lo <= t <= hi, name
    assert fit.cov.shape == (3, 3)
    assert fit(10.0) == pytest.approx(np.polyval(fit.p50, 10.0))


@pytest.mark.slow
def test_emcee_16_84_coverage_is_68_percent():
    """Over many synthetic data sets the truth falls in the 16-84 % range ~68 % of the time.

    (a, b, c) are strongly correlated, so a single data set misses in all three
    together about one time in three: the calibrated statement is the coverage.
    """
    hits = []
    for seed in range(16):
        x, y, e, truth = _synthetic(n=40, seed=100 + seed)
        fit = g.fit_gradient(x, y, e, method="emcee", nwalkers=24, nsteps=4000, seed=seed)
        hits += [fit.percentiles(n)[0] <= t <= fit.percentiles(n)[2]
                 for n, t in zip(fit.names, truth)]
    assert 0.45 < np.mean(hits) < 0.9


def test_emcee_reproducible_with_seed():
    x, y, e, _ = _synthetic()
    a = g.fit_gradient(x, y, e, method="emcee", nwalkers=16, nsteps=2500, seed=5)
    b = g.fit_gradient(x, y, e, method="emcee", nwalkers=16, nsteps=2500, seed=5)
    np.testing.assert_array_equal(a.p50, b.p50)


def test_emcee_short_chain_warns():
    x, y, e, _ = _synthetic()
    with pytest.warns(g.ConvergenceWarning, match="autocorrelation"):
        fit = g.fit_gradient(x, y, e, method="emcee", nwalkers=8, nsteps=60, seed=1)
    assert not fit.converged


def test_linear_fit_both_methods():
    x = np.array([1.0, 2.0, 3.0, 4.0, 5.0, 6.0])
    exact = g.fit_gradient(x, -0.06 * x + 0.3, 0.01, degree=1)
    assert exact.names == ("b", "c") and exact.p50 == pytest.approx([-0.06, 0.3])
    mc = g.fit_gradient(x, -0.06 * x + 0.3, 0.01, degree=1, method="emcee", nwalkers=16,
                        nsteps=2500, seed=2)
    assert mc.names == ("b", "c")
    assert mc.percentiles("b")[1] == pytest.approx(-0.06, abs=0.01)


# ---- Table 6 ------------------------------------------------------------------------------

def test_table6_on_fu2022_is_fast_and_complete(fu2022):
    res = g.gradient_table(fu2022)
    t = res.table
    assert t.meta["method"] == "analytic" and t.meta["uncertainty"] == "e_[Fe/H]med"
    assert t.meta["elapsed_s"] < 1.0
    assert list(t["age_group"][::3]) == [a[0] for a in g.AGE_GROUPS] + ["all"]
    assert list(t["x"][:3]) == ["RGC", "LZ/1e3", "E/1e5"]
    # 202 clusters with >= 3 FLAG=12 stars and a CG2020 age, per age group
    assert list(t["N"][::3]) == [53, 68, 34, 30, 12, 5, 202]
    assert np.all(t["fitted"]) and np.all(np.isnan(t["tau_max"]))
    for k in "abc":
        np.testing.assert_allclose(t[f"{k}_84"] - t[f"{k}_50"], t[f"{k}_sigma"])
    assert len(res.fits) == 21 and all(f.method == "analytic" for f in res.fits.values())
    assert {"[Fe/H]", "e_[Fe/H]", "e_[Fe/H]fit", "age_group"} <= set(res.clusters.colnames)


def test_uncertainty_option_changes_the_errors(fu2022):
    base = g.gradient_table(fu2022, include_all=False).table
    disp = g.gradient_table(fu2022, uncertainty=g.FU2022_UNCERTAINTY, include_all=False).table
    assert disp.meta["uncertainty"] == "s_[Fe/H]"
    ratio = np.concatenate([disp[f"{k}_sigma"] / base[f"{k}_sigma"] for k in "abc"])
    assert 3.0 < np.median(ratio) < 4.5  # the star-to-star dispersion: ~4x wider
    assert not np.allclose(disp["b_50"], base["b_50"])
    # a quadrature sum of columns
    hyp = g.gradient_table(fu2022, uncertainty=("e_[Fe/H]med", "s_[Fe/H]"), include_all=False)
    assert hyp.table.meta["uncertainty"] == "hypot(e_[Fe/H]med, s_[Fe/H])"
    assert np.all(hyp.table["a_sigma"] > disp["a_sigma"])
    # one error for all clusters: unweighted means, errors proportional to it
    c1 = g.gradient_table(fu2022, uncertainty=0.1 * u.dex, include_all=False).table
    c2 = g.gradient_table(fu2022, uncertainty=0.2, include_all=False).table
    np.testing.assert_allclose(c2["b_50"], c1["b_50"])
    np.testing.assert_allclose(c2["b_sigma"], 2 * c1["b_sigma"])
    # one error per cluster
    per = np.asarray(fu2022["e_[Fe/H]mean"].value)
    arr = g.gradient_table(fu2022, uncertainty=per, include_all=False).table
    ref = g.gradient_table(fu2022, uncertainty="e_[Fe/H]mean", include_all=False).table
    np.testing.assert_allclose(arr["a_50"], ref["a_50"])


def test_gradient_table_bad_inputs(fu2022):
    with pytest.raises(MissingColumnError):
        g.gradient_table(QTable({"Cluster": ["a"]}))
    with pytest.raises(MissingColumnError, match="s_FeH"):
        g.gradient_table(fu2022, uncertainty="s_FeH")
    with pytest.raises(ValueError, match="one value per cluster"):
        g.gradient_table(fu2022, uncertainty=np.ones(3))
    with pytest.raises(ValueError, match="method"):
        g.gradient_table(fu2022, method="mcmc")
    # None: the error of the value fitted (here e_[Fe/H]med, the paper's columns)
    assert g.gradient_table(fu2022, uncertainty=None).table.meta["uncertainty"] == \
        "e_[Fe/H]med"
    with pytest.raises(u.UnitsError):
        g.gradient_table(fu2022, uncertainty="RGC")


def test_gradient_table_on_zhong2020():
    from astro_ocl.exceptions import AstroOCLWarning
    from astro_ocl.sources.clusters import read_cluster_dynamics_input
    # galpy imports astroquery, which replaces warnings.showwarning on import: import it
    # first so that pytest.warns sees the warning
    import galpy.potential  # noqa: F401
    with pytest.raises(NoUsableDataError, match="no fallback"):
        g.gradients_for_catalogue(None)
    with pytest.warns(AstroOCLWarning, match="fitted on Zhong"):
        res = g.gradients_for_catalogue(None, fallback=read_cluster_dynamics_input,
                                        min_clusters=10)
    t = res.table
    assert "Zhong" in res.source and t.meta["method"] == "analytic"
    assert list(t["age_group"][::3]) == [a[0] for a in g.AGE_GROUPS] + ["all"]
    # only clusters with >= 3 FLAG=12 stars
    assert np.all(res.clusters["age_group"] != "") and len(res.clusters) > 100
    old = t[t["age_group"] == ">4 Gyr"]
    assert np.all(old["N"] < 10) and not np.any(old["fitted"])
    assert "too few" in old["note"][0] and np.isnan(old["a_50"][0])
    allrow = t[(t["age_group"] == "all") & (t["x"] == "RGC")][0]
    # the well-known negative radial gradient: on average -0.03 to -0.1 dex/kpc
    # between 7 and 15 kpc
    coef = [allrow["a_50"], allrow["b_50"], allrow["c_50"]]
    mean_slope = (np.polyval(coef, 15.0) - np.polyval(coef, 7.0)) / 8.0
    assert -0.1 < mean_slope < -0.03
    assert allrow["N"] == len(res.clusters)
    assert t["age_min"].unit == u.Gyr


def test_gradient_table_with_emcee_records_the_chains(fu2022):
    res = g.gradient_table(fu2022, method="emcee", age_groups=[], nwalkers=16, nsteps=2500,
                           seed=3)
    t = res.table
    assert len(t) == 3 and t.meta["method"] == "emcee" and t.meta["nwalkers"] == 16
    assert np.all(t["n_tau"] > 0) and np.all(t["acceptance"] > 0.2)
    assert all(f.method == "emcee" for f in res.fits.values())
    exact = g.gradient_table(fu2022, age_groups=[]).table
    for k in "abc":
        assert np.all(np.abs(t[f"{k}_50"] - exact[f"{k}_50"]) < 0.3 * exact[f"{k}_sigma"])


# ---- comparison with the paper ------------------------------------------------------------

def _reference(table, shift=0.0):
    """A Table 6 file in the paper's layout, from our own fit shifted by ``shift`` sigma."""
    rows = []
    for r in table:
        if not r["fitted"] or r["age_group"] == "all":
            continue
        for k in "abc":
            s = float(r[f"{k}_sigma"])
            rows.append({"age_group": r["age_group"], "x": r["x"], "coefficient": k,
                         "N": int(r["N"]), "paper": float(r[f"{k}_50"]) + shift * s,
                         "paper_plus": 2 * s, "paper_minus": s})
    return QTable(rows=rows)


def test_compare_with_table6(fu2022, tmp_path):
    table = g.gradient_table(fu2022).table
    path = tmp_path / "table6.ecsv"
    _reference(table, shift=0.5).write(path, format="ascii.ecsv")
    ref = read_fu2022_table6(path)
    assert len(ref) == 54
    cmp = g.compare_with_table6(table, ref)
    # ours lie 0.5 sigma below the paper: the paper's lower error (= sigma) applies
    np.testing.assert_allclose(cmp["z"], -0.5)
    assert cmp.meta["n_compared"] == 54 and cmp.meta["n_over_1"] == 0
    assert cmp.meta["max_abs_z"] == pytest.approx(0.5)
    np.testing.assert_allclose(cmp["width_ratio"], 2 / 3)
    assert np.all(cmp["N"] == cmp["N_paper"])
    # above the paper: its upper error applies
    up = g.compare_with_table6(table, _reference(table, shift=-1.0))
    np.testing.assert_allclose(up["z"], 0.5)


def test_read_fu2022_table6_errors(tmp_path):
    with pytest.raises(InputDataError, match="no paper Table 6 file"):
        read_fu2022_table6(tmp_path / "missing.ecsv")
    t = QTable({"age_group": ["<0.1 Gyr"], "x": ["RGC"], "coefficient": ["a"], "N": [1],
                "paper": [0.1], "paper_plus": [0.1]})
    t.write(tmp_path / "short.ecsv", format="ascii.ecsv")
    with pytest.raises(MissingColumnError, match="paper_minus"):
        read_fu2022_table6(tmp_path / "short.ecsv")
    t["paper_minus"] = [0.1]
    t["coefficient"] = ["d"]
    t.write(tmp_path / "bad.ecsv", format="ascii.ecsv")
    with pytest.raises(InputDataError, match="row 0"):
        read_fu2022_table6(tmp_path / "bad.ecsv")
