import astropy.units as u
import numpy as np
import pytest
from astropy.coordinates import SkyCoord
from astropy.table import QTable
from astropy.time import Time

from astro_ocl.accounting import StageLog
from astro_ocl.steps.crossmatch import (attach_source_ids, deduplicate_stars, join_members,
                                        select_members, sky_match)
from astro_ocl.exceptions import DroppedRowsWarning, NoUsableDataError
from conftest import make_members, make_stars


def test_select_members_threshold_and_duplicates():
    m = make_members([1, 2, 3, 3, 4], ["A", "A", "A", "B", "B"], [0.9, 0.5, 0.8, 0.95, 0.7])
    log = StageLog()
    out = select_members(m, threshold=0.7, stage_log=log)
    assert sorted(zip(out["source_id"], out["Cluster"])) == [(1, "A"), (3, "B"), (4, "B")]
    rec = log["members"]
    assert rec["dropped"] == {"probability < 0.7": 1,
                              "listed in another cluster with higher probability": 1}


def test_select_members_bad_threshold_and_none_left():
    m = make_members([1], ["A"], [0.5])
    with pytest.raises(ValueError, match="threshold"):
        select_members(m, threshold=1.5)
    with pytest.raises(NoUsableDataError, match="probability >= 0.7"):
        select_members(m, threshold=0.7)


def test_join_members_counts_non_members():
    stars = make_stars(rv=[1, 2, 3], e_rv=[1, 1, 1], source_id=[10, 11, 12])
    m = make_members([11, 12, 99], ["A", "B", "B"])
    log = StageLog()
    out = join_members(stars, m, stage_log=log)
    assert list(out["source_id"]) == [11, 12]
    assert list(out["Cluster"]) == ["A", "B"]
    assert log["join members"]["dropped"] == {"not a selected cluster member": 1}


def test_duplicate_source_ids_keep_highest_snr():
    stars = make_stars(rv=[1, 2, 3], e_rv=[1, 1, 1], source_id=[5, 5, 6])
    stars["snrg"] = [10.0, 80.0, 30.0]
    with pytest.warns(DroppedRowsWarning, match=r"1 repeated observations of 1 stars.*e.g. 5"):
        out = deduplicate_stars(stars)
    assert list(out["rv"].value) == [2.0, 3.0]


def test_sky_match_propagates_proper_motion():
    # A Gaia source at J2015.5 moving 1 arcsec/yr in Dec: at J2000 it was 15.5" south.
    # The star was observed at J2000 at that southern position.
    gaia = SkyCoord(ra=[150.0] * u.deg, dec=[10.0] * u.deg, pm_ra_cosdec=[0] * u.mas / u.yr,
                    pm_dec=[1000.0] * u.mas / u.yr, obstime=Time(2015.5, format="jyear"))
    star = SkyCoord(ra=[150.0] * u.deg, dec=[10.0 - 15.5 / 3600] * u.deg)
    i, j, sep = sky_match(star, gaia, radius=3.5 * u.arcsec)
    assert i.size == 0  # without propagation: 15.5" apart
    i, j, sep = sky_match(star, gaia, radius=3.5 * u.arcsec, epoch=Time(2000.0, format="jyear"))
    assert i.tolist() == [0] and j.tolist() == [0]
    assert sep[0] < 0.01 * u.arcsec


def test_attach_source_ids_keeps_every_source_inside_radius():
    gaia = QTable()
    gaia["source_id"] = np.array([101, 102, 103], np.int64)
    gaia["coord"] = SkyCoord(ra=[10.0, 10.0 + 2 / 3600, 10.0 + 20 / 3600] * u.deg,
                             dec=[20.0] * 3 * u.deg)
    stars = make_stars(rv=[1.0, 2.0], e_rv=[1, 1], ra=np.array([10.0 + 1 / 3600, 50.0]),
                       dec=np.array([20.0, 20.0]))
    stars.remove_column("source_id")
    log = StageLog()
    out = attach_source_ids(stars, gaia, radius=3.5 * u.arcsec, stage_log=log)
    # star 0 has two Gaia sources within 3.5" (1" and 1.9"), star 1 none
    assert sorted(out["source_id"]) == [101, 102]
    assert set(out["n_match"]) == {2}
    rec = log["sky match"]
    assert rec["dropped"] == {"no Gaia source within 3.5 arcsec": 1} and rec["added"] == 1


def test_sky_match_rejects_bad_radius():
    c = SkyCoord(ra=[1] * u.deg, dec=[1] * u.deg)
    with pytest.raises(ValueError, match="positive"):
        sky_match(c, c, radius=0 * u.arcsec)
