import astropy.units as u
import numpy as np
import pytest

from astro_ocl.steps.montecarlo import draw
from astro_ocl.steps.quality import QualityCuts, parameter_flag, rv_flag


def test_three_sigma_outlier_gets_flag0():
    # 30 stars at 10 +- 1 km/s and one at +60 km/s: the pooled sigma is ~9 km/s,
    # so the outlier (50 km/s off) is beyond 2 sigma while every other star is in.
    rng = np.random.default_rng(5)
    rv = np.append(rng.normal(10, 1, 30), 60.0)
    err = np.full(rv.size, 1.0)
    d = draw(rv, err, 3000, rng)
    f1, centre, sigma = rv_flag(d, nsigma=2, values=rv)
    assert not f1[-1]
    assert f1[:-1].all()
    assert abs(rv[-1] - centre) > 3 * sigma


def test_band_edges_follow_nsigma():
    rng = np.random.default_rng(1)
    rv = np.array([-10.0, 0.0, 10.0])
    d = draw(rv, np.full(3, 0.01), 2000, rng)
    # pooled sigma = std of (-10, 0, 10) = 8.165; 1.0 sigma keeps only the middle star
    assert rv_flag(d, nsigma=1.0, values=rv)[0].tolist() == [False, True, False]
    assert rv_flag(d, nsigma=2.0, values=rv)[0].tolist() == [True, True, True]


def test_cool_dwarf_excluded_cool_giant_kept():
    teff = [4500, 4500, 5200, 3900, 7600, 7400] * u.K
    logg = np.array([4.6, 2.4, 4.5, 2.0, 4.0, 4.2])
    feh = np.zeros(6) * u.dex
    e = np.full(6, 0.05) * u.dex
    ok = parameter_flag(teff, logg, feh, e)
    # 4500 K dwarf out, 4500 K giant in, 5200 K dwarf in, 3900 K out, 7600 K out, 7400 K in
    assert ok.tolist() == [False, True, True, False, False, True]


def test_dwarf_boundary_is_configurable():
    teff = [4800, 4800] * u.K
    logg = np.array([3.6, 3.9])
    feh, e = np.zeros(2), np.full(2, 0.1)
    assert parameter_flag(teff, logg, feh, e).tolist() == [False, False]
    assert parameter_flag(teff, logg, feh, e,
                          cuts=QualityCuts(dwarf_logg=3.8)).tolist() == [True, False]


def test_missing_feh_not_used():
    ok = parameter_flag([5000, 5000] * u.K, [2.5, 2.5], [np.nan, 0.1], [0.1, np.nan])
    assert not ok.any()


def test_cuts_validate_units():
    with pytest.raises(ValueError, match="temperature Quantity"):
        QualityCuts(teff_min=4000)
    with pytest.raises(ValueError, match="teff_min.*must be below teff_max"):
        QualityCuts(teff_min=8000 * u.K)
    with pytest.raises(ValueError, match="rv_nsigma"):
        QualityCuts(rv_nsigma=0)
