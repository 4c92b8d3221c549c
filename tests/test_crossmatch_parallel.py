"""The positional match on several cores: the same pairs as in one process."""

import astropy.units as u
import numpy as np
import pytest
from astropy.coordinates import SkyCoord
from astropy.time import Time

from astro_ocl.sources import read_cg_members, read_lamost
from astro_ocl.steps import crossmatch
from astro_ocl.steps.crossmatch import match_jobs, sky_match

from helpers import value_in_daemon


def _same(a, b):
    assert len(a[0]) == len(b[0])
    for x, y in zip(a[:2], b[:2]):
        np.testing.assert_array_equal(x, y)
    np.testing.assert_array_equal(a[2].to_value(u.deg), b[2].to_value(u.deg))


def test_same_pairs_on_real_stars_and_gaia_members():
    """691 LAMOST LRS stars against the 13 504 embedded Gaia DR2 members of their
    clusters (real positions and proper motions, moved from J2015.5 to J2011.5),
    in chunks of 1000 sources: one process, two, three."""
    stars = read_lamost()["coord"]
    gaia = read_cg_members()["coord"]
    kw = dict(radius=3.5 * u.arcsec, epoch="J2011.5", chunk_size=1000)
    one = sky_match(stars, gaia, n_jobs=1, **kw)
    assert len(one[0]) > 500  # most LAMOST stars are members: their own source
    _same(one, sky_match(stars, gaia, n_jobs=2, **kw))
    _same(one, sky_match(stars, gaia, n_jobs=3, **kw))
    # and the members against themselves at 20 arcsec (many pairs per source)
    self_one = sky_match(gaia, gaia, radius=20 * u.arcsec, chunk_size=2500, n_jobs=1)
    assert len(self_one[0]) > len(gaia)
    _same(self_one, sky_match(gaia, gaia, radius=20 * u.arcsec, chunk_size=2500, n_jobs=2))


def test_same_pairs_on_a_large_synthetic_sky():
    """20 000 stars against 600 000 sources (about 3 sources in 3.5 arcsec of a star),
    with duplicated sources (equal separations: the order is by source then)."""
    rng = np.random.default_rng(11)
    n = 600_000
    side = np.sqrt(n / (3 / (np.pi * 3.5 ** 2)) / 3600 ** 2)
    ra = 100 + rng.uniform(0, side, n)
    dec = rng.uniform(-side / 2, side / 2, n)
    ra[1::1000], dec[1::1000] = ra[::1000], dec[::1000]  # duplicated entries
    pm = rng.normal(0, 10, (2, n))
    pm[:, 1::1000] = pm[:, ::1000]
    gaia = SkyCoord(ra=ra * u.deg, dec=dec * u.deg, pm_ra_cosdec=pm[0] * u.mas / u.yr,
                    pm_dec=pm[1] * u.mas / u.yr, obstime=Time("J2015.5"))
    pick = rng.choice(n, 20_000, replace=False)
    stars = SkyCoord(ra=(ra[pick] + rng.normal(0, 1 / 3600, pick.size)) * u.deg,
                     dec=(dec[pick] + rng.normal(0, 1 / 3600, pick.size)) * u.deg)
    kw = dict(epoch="J2011.5", chunk_size=100_000)
    one = sky_match(stars, gaia, n_jobs=1, **kw)
    assert len(one[0]) > 40_000
    two = sky_match(stars, gaia, n_jobs=2, **kw)
    _same(one, two)
    # the default: worker processes from MIN_PARALLEL_SOURCES sources on
    _same(one, sky_match(stars, gaia, **kw))
    # equal separations (duplicated sources) come in source order
    i_star, i_src, sep = one
    tie = (np.diff(i_star) == 0) & (np.diff(sep.value) == 0)
    assert tie.any()
    assert np.all(np.diff(i_src)[tie] > 0)


def test_how_many_match_workers():
    assert match_jobs(1000) == 1
    assert match_jobs(1000, 2) == 2
    assert match_jobs(10 * crossmatch.MIN_PARALLEL_SOURCES) >= 1
    with pytest.raises(ValueError, match="n_jobs"):
        match_jobs(10, 0)
    with pytest.raises(ValueError, match="chunk_size"):
        sky_match(SkyCoord([1] * u.deg, [2] * u.deg), SkyCoord([1] * u.deg, [2] * u.deg),
                  chunk_size=0)


def test_no_workers_inside_a_daemonic_worker():
    assert value_in_daemon(match_jobs, 10 ** 8) == 1
