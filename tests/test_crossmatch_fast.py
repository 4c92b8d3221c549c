"""The chunked positional match agrees with astropy, in bounded memory."""
import tracemalloc
import warnings

import astropy.units as u
import numpy as np
import pytest
from astropy.coordinates import SkyCoord
from astropy.time import Time

from astro_ocl.steps.crossmatch import sky_match


def _fields(n_stars, n_sources, seed=1, width=2.0):
    rng = np.random.default_rng(seed)
    # a width x width degree field; 30 000 sources on 2 x 2 deg: a few pairs per star
    ra_s = rng.uniform(10, 10 + width, n_sources)
    dec_s = rng.uniform(20, 20 + width, n_sources)
    pmra = rng.normal(0, 50, n_sources)
    pmdec = rng.normal(0, 50, n_sources)
    pmra[::97] = np.nan  # sources without proper motion stay where they are
    pmdec[::97] = np.nan
    sources = SkyCoord(ra=ra_s * u.deg, dec=dec_s * u.deg, pm_ra_cosdec=pmra * u.mas / u.yr,
                       pm_dec=pmdec * u.mas / u.yr, obstime=Time("J2015.5"), frame="icrs")
    pick = rng.choice(n_sources, n_stars, replace=False)
    jitter = rng.normal(0, 1.5, (2, n_stars)) / 3600
    stars = SkyCoord(ra=(ra_s[pick] + jitter[0] / np.cos(np.radians(dec_s[pick]))) * u.deg,
                     dec=(dec_s[pick] + jitter[1]) * u.deg)
    return stars, sources


def _astropy_reference(stars, sources, radius, epoch):
    pmra = np.nan_to_num(sources.pm_ra_cosdec.to_value(u.mas / u.yr))
    pmdec = np.nan_to_num(sources.pm_dec.to_value(u.mas / u.yr))
    moving = SkyCoord(ra=sources.ra, dec=sources.dec, pm_ra_cosdec=pmra * u.mas / u.yr,
                      pm_dec=pmdec * u.mas / u.yr, obstime=sources.obstime)
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message=".*distance overridden.*")
        moved = moving.apply_space_motion(new_obstime=Time(epoch))
    moved = SkyCoord(ra=moved.ra, dec=moved.dec)
    i_src, i_star, sep, _ = stars.search_around_sky(moved, radius)
    return {(int(a), int(b)): s for a, b, s in zip(i_star, i_src, sep.to_value(u.mas))}


@pytest.mark.parametrize("epoch", [None, "J2000", "J2011.5"])
def test_same_pairs_as_astropy(epoch):
    stars, sources = _fields(3000, 30000)
    radius = 3.5 * u.arcsec
    i_star, i_src, sep = sky_match(stars, sources, radius=radius, epoch=epoch,
                                   chunk_size=7001)
    if epoch is None:
        i_s, i_t, s, _ = stars.search_around_sky(SkyCoord(ra=sources.ra, dec=sources.dec),
                                                 radius)
        ref = {(int(a), int(b)): v for a, b, v in zip(i_t, i_s, s.to_value(u.mas))}
    else:
        ref = _astropy_reference(stars, sources, radius, epoch)
    got = {(int(a), int(b)): v for a, b, v in zip(i_star, i_src, sep.to_value(u.mas))}
    # pairs within 0.1 mas of the radius may fall either way
    border = {k for k, v in ref.items() if abs(v - 3500) < 0.1}
    assert set(got) - border == set(ref) - border
    assert len(got) > 2000
    common = sorted(set(got) & set(ref))
    np.testing.assert_allclose([got[k] for k in common], [ref[k] for k in common], atol=0.1)
    # sorted by star, then separation
    assert np.all(np.diff(i_star) >= 0)
    same = np.diff(i_star) == 0
    assert np.all(np.diff(sep.value)[same] >= 0)


def test_chunking_does_not_change_the_result():
    stars, sources = _fields(500, 8000, seed=2)
    a = sky_match(stars, sources, epoch="J2000", chunk_size=333)
    b = sky_match(stars, sources, epoch="J2000", chunk_size=10 ** 6)
    for x, y in zip(a[:2], b[:2]):
        np.testing.assert_array_equal(x, y)


def test_other_frames_and_empty_inputs():
    stars, sources = _fields(200, 2000, seed=3)
    ref = sky_match(stars, sources)
    gal = sky_match(stars.galactic, SkyCoord(ra=sources.ra, dec=sources.dec).galactic)
    np.testing.assert_array_equal(ref[0], gal[0])
    np.testing.assert_array_equal(ref[1], gal[1])
    out = sky_match(stars[:0], sources)
    assert len(out[0]) == len(out[1]) == len(out[2]) == 0


def test_memory_does_not_grow_with_the_gaia_side():
    # the same source density (so the same number of pairs), 8 times the sources
    stars, small = _fields(2000, 50_000, seed=4, width=2.0)
    _, large = _fields(2000, 400_000, seed=4, width=2.0 * np.sqrt(8))

    def peak(sources):
        tracemalloc.start()
        try:
            sky_match(stars, sources, epoch="J2000", chunk_size=50_000)
            return tracemalloc.get_traced_memory()[1]
        finally:
            tracemalloc.stop()

    p_small, p_large = peak(small), peak(large)
    assert p_large < 1.5 * p_small, (p_small, p_large)
