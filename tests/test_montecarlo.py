import numpy as np
import pytest

from astro_ocl.steps.montecarlo import draw, mc_statistics, summarise


def test_recovers_known_gaussian_within_mc_error():
    # 400 stars drawn from N(12.3, 4) with 1 km/s errors: the MC median and mean
    # must sit within a few of their own quoted uncertainties of the truth.
    rng = np.random.default_rng(42)
    true_mean, true_sigma = 12.3, 4.0
    values = rng.normal(true_mean, true_sigma, 400)
    errors = np.full(400, 1.0)
    s = mc_statistics(values, errors, n_realisations=2000, rng=7)
    assert s.n == 400
    sample_sem = true_sigma / np.sqrt(400)
    assert abs(s.mean - true_mean) < 4 * np.hypot(s.e_mean, sample_sem)
    assert abs(s.med - true_mean) < 4 * np.hypot(s.e_med, 1.25 * sample_sem)
    # pooled dispersion = intrinsic (+) measurement error
    assert s.std == pytest.approx(np.hypot(values.std(), 1.0), rel=0.02)
    # the spread of the per-realisation mean is the error of the mean: 1/sqrt(n)
    assert s.e_mean == pytest.approx(1.0 / np.sqrt(400), rel=0.1)


def test_single_star_is_exact():
    s = mc_statistics([-67.64], [7.09], n_realisations=5000, rng=3)
    assert (s.n, s.med, s.e_med, s.mean, s.e_mean, s.std) == (1, -67.64, 7.09, -67.64, 7.09, 7.09)


def test_no_star_gives_nan():
    s = summarise(np.empty((100, 0)))
    assert s.n == 0 and np.isnan(s.med) and np.isnan(s.std)


def test_reproducible_with_seed_and_different_without():
    v, e = [1.0, 2.0, 3.5], [0.5, 0.4, 0.3]
    a = mc_statistics(v, e, n_realisations=500, rng=11)
    b = mc_statistics(v, e, n_realisations=500, rng=11)
    c = mc_statistics(v, e, n_realisations=500, rng=12)
    assert a == b
    assert a != c


def test_draw_is_vectorised_shape_and_scale():
    rng = np.random.default_rng(0)
    d = draw(np.array([0.0, 100.0]), np.array([1.0, 5.0]), 20000, rng)
    assert d.shape == (20000, 2)
    assert d.std(axis=0) == pytest.approx([1.0, 5.0], rel=0.03)
    assert d.mean(axis=0) == pytest.approx([0.0, 100.0], abs=0.2)
