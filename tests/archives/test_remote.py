"""Against the live Gaia archive and VizieR (``pytest --remote-data=any``; skipped offline)."""
import astropy.units as u
import numpy as np
import pytest
from astropy.coordinates import SkyCoord

from astro_ocl import conf
from astro_ocl.sources.archives import gaia, vizier

pytestmark = pytest.mark.remote_data


@pytest.fixture
def no_cache(tmp_path):
    with conf.set_temp("cache_dir", str(tmp_path / "cache")):
        yield


def test_gaia_sources_by_id(no_cache):
    res = gaia.sources_by_id([604922009006397824, 604918989644397184])  # M67 members
    assert len(res) == 2
    assert res["pmra"].unit == u.mas / u.yr


def test_gaia_cone(no_cache):
    res = gaia.cone_search(SkyCoord(132.846 * u.deg, 11.814 * u.deg), 1 * u.arcmin)
    assert len(res) > 10


def test_gaia_dr3_rv(no_cache):
    res = gaia.dr3_radial_velocities([604922009006397824])
    assert len(res) >= 1 and np.isfinite(res["radial_velocity"][0].value)


def test_vizier_cg2020(no_cache):
    cg = vizier.cg2020_clusters()
    assert len(cg) == 2017
    members = vizier.cg2020_members(clusters=["NGC_2682"])
    assert len(members) > 500


def test_vizier_lamost_by_position(no_cache):
    members = vizier.cg2020_members(clusters=["NGC_2682"])
    raw = vizier.lamost_for_members(members[:50], by="position")
    assert np.all(raw["member_sep"] <= 3.5 * u.arcsec)
