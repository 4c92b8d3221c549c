"""Every input path to the cross-match: files, plain tables, rows without a Gaia id,
missing proper motions; one spectrum is one star; the positional match's epoch and radius."""
import astropy.units as u
import numpy as np
import pytest
from astropy.table import MaskedColumn, Table

import astro_ocl
from astro_ocl.accounting import StageLog
from astro_ocl.sources import read_cg_members, read_lamost
from astro_ocl.sources.archives.gaia import sources_with_motion
from astro_ocl.sources.surveys import read_lamost_members
from astro_ocl.utils import data_path
from helpers import DE0, RA0, lamost_csv, members_near_ngc2682

FAST = dict(n_realisations=50, seed=1, orbits=False, literature=False)
LRS = ["lamost_lrs"]  # the embedded LAMOST LRS sample alone (no stars= given)


def test_spectrum_near_two_members_is_counted_once(tmp_path):
    # spectrum A is 1" and 2" from two members, spectrum B 0.5" from a third one
    members = members_near_ngc2682([0.0, 3.0, 60.0])
    path = lamost_csv(tmp_path / "l.csv", [RA0 + 1 / 3600, RA0 + 60.5 / 3600], [DE0, DE0])
    log = StageLog()
    stars = read_lamost_members(path, members, stage_log=log)
    assert "source_id" not in stars.colnames          # the source does not cross-match
    assert log["survey file rows"]["n_out"] == 2
    res = astro_ocl.build_catalogue(stars=stars, members=members,
                                    gaia_sources=members["source_id", "coord"], **FAST)
    assert list(res.clusters["Nall"]) == [2]           # two spectra in, two stars out
    assert sorted(res.members["GaiaDR2"]) == [101, 103]   # the closest member wins
    rec = res.stage_log["one match per star"]
    assert rec["dropped"] == {"farther member source or star of an ambiguous match": 1}


def test_survey_file_drops_are_logged(tmp_path):
    members = members_near_ngc2682([0.0])
    path = lamost_csv(tmp_path / "l.csv", [RA0, RA0 + 1.0], [DE0, DE0])
    log = StageLog()
    read_lamost_members(path, members, stage_log=log)
    rec = log["survey file rows"]
    assert rec["n_in"] == 2 and rec["n_out"] == 1 and sum(rec["dropped"].values()) == 1


def test_epoch_propagation_applies_to_the_positional_match():
    # members move 1"/yr north; the star was observed at J2000, 15.5" south of J2015.5
    members = members_near_ngc2682([0.0], pm_dec=1000.0)
    t = read_lamost(table=Table({"ra": [RA0], "dec": [DE0 - 15.5 / 3600], "rv": [30.0],
                                 "rv_err": [1.0], "teff": [5600.0], "logg": [4.2],
                                 "feh": [0.0], "feh_err": [0.05]}))
    gaia = members["source_id", "coord"]
    with pytest.raises(astro_ocl.exceptions.NoUsableDataError):  # 15.5" apart at J2015.5
        astro_ocl.build_catalogue(stars=t, members=members, gaia_sources=gaia, **FAST)
    res = astro_ocl.build_catalogue(stars=t, members=members, gaia_sources=gaia,
                                    epoch="J2000", **FAST)
    assert list(res.clusters["Nall"]) == [1]
    assert res.provenance["epoch"] == "J2000.000"
    assert "propagated to 2000.00" in res.stage_log["sky match"]["note"]


def test_cli_build_has_epoch_and_match_radius(capsys):
    from astro_ocl.cli import main
    with pytest.raises(SystemExit):
        main(["build", "--help"])
    text = capsys.readouterr().out
    assert "--epoch" in text and "--match-radius" in text


def test_plain_table_as_stars():
    raw = Table.read(data_path("lamost_lrs_oc_members.ecsv"))
    res = astro_ocl.build_catalogue(stars=raw, clusters=["NGC_2682"], **FAST)
    ref = astro_ocl.build_catalogue(clusters=["NGC_2682"], surveys=LRS, **FAST)
    assert res.clusters["Nall"][0] == ref.clusters["Nall"][0] > 10
    assert res.clusters["RV"][0] == ref.clusters["RV"][0]


def test_missing_gaia_id_keeps_the_file(tmp_path):
    members = members_near_ngc2682([0.0, 60.0])
    path = lamost_csv(tmp_path / "l.csv", [RA0, RA0 + 60 / 3600], [DE0, DE0],
                      source_id=MaskedColumn([101, 0], mask=[False, True]))
    stars = read_lamost(path)
    assert np.ma.is_masked(stars["source_id"]) and stars["source_id"][0] == 101
    res = astro_ocl.build_catalogue(stars=stars, members=members, **FAST)
    assert list(res.clusters["Nall"]) == [1]
    assert res.stage_log["stars without Gaia id"]["dropped"] == {
        "no Gaia id and no Gaia sources to match by position": 1}
    # with Gaia sources the row without an id is matched by position
    res = astro_ocl.build_catalogue(stars=stars, members=members,
                                    gaia_sources=members["source_id", "coord"], **FAST)
    assert list(res.clusters["Nall"]) == [2]


def test_missing_proper_motions_and_positions_are_not_zero():
    raw = Table({"source_id": [1, 2, 3], "ra": MaskedColumn([10.0, 11.0, 0.0], mask=[0, 0, 1]),
                 "dec": [5.0, 6.0, 7.0], "pmra": MaskedColumn([1.0, 0.0, 0.0], mask=[0, 1, 0]),
                 "pmdec": [2.0, np.nan, 1.0]})
    src = sources_with_motion(raw)
    assert list(src["source_id"]) == [1, 2]          # no position: left out, never (0, 0)
    assert np.isnan(src["coord"].pm_ra_cosdec[1]) and np.isnan(src["coord"].pm_dec[1])
    m = Table({"Cluster": ["NGC_2682"], "Source": [7], "RA_ICRS": [RA0], "DE_ICRS": [DE0],
               "pmRA": MaskedColumn([0.0], mask=[True]), "pmDE": [1.0], "PMemb": [0.9]})
    members = read_cg_members(table=m)
    assert np.isnan(members["coord"].pm_ra_cosdec[0])


def test_online_passes_match_radius_and_epoch(monkeypatch):
    import astro_ocl.sources.archives.online as online
    members = members_near_ngc2682([0.0], pm_dec=1000.0)
    stars = read_lamost(table=Table({"ra": [RA0], "dec": [DE0 - 15.5 / 3600], "rv": [30.0],
                                     "rv_err": [1.0], "teff": [5600.0], "logg": [4.2],
                                     "feh": [0.0], "feh_err": [0.05]}))
    seen = {}

    def fake_fetch(**kwargs):
        seen.update(kwargs)
        from astro_ocl.sources import read_cg2020_clusters
        return {"stars": stars, "members": members, "cluster_params": read_cg2020_clusters(),
                "gaia_sources": members["source_id", "coord"], "stage_log": StageLog(),
                "provenance": {"stars": "fake"}}

    monkeypatch.setattr(online, "fetch_inputs", fake_fetch)
    res = astro_ocl.build_catalogue(online=True, match_radius=2 * u.arcsec, epoch="J2000",
                                    **FAST)
    assert seen["radius"] == 2 * u.arcsec
    assert list(res.clusters["Nall"]) == [1]       # matched thanks to the epoch
    assert res.provenance["match_radius"].endswith(": 2.0 arcsec")  # survey: radius
    assert "fake" in res.provenance["queries"]
