"""End-to-end tests of build_catalogue on the embedded sample and on hand-made tables."""
import astropy.units as u
import numpy as np
import pytest
from astropy.coordinates import SkyCoord

import astro_ocl
from astro_ocl.exceptions import (DroppedRowsWarning, NoUsableDataError, ParameterError,
                                  UnknownClusterError)
from astro_ocl.steps.quality import QualityCuts
from conftest import make_members, make_stars

#: The paper's method on the paper's selection (the embedded_result fixture's).
PAPER = dict(statistics="fu2022-montecarlo", survey_domains=False)

KMS = u.km / u.s


def _row(result, name):
    return result.clusters[list(result.clusters["Cluster"]).index(name)]


def test_single_star_clusters_equal_published_values(embedded_result):
    # Fu et al. 2022 (J/A+A/668/A4): NGC_869 RVmed -67.64, NGC_884 -51.71 / [Fe/H] -0.238,
    # NGC_7092 -12.22: single-star clusters take the star's value and error exactly.
    r = embedded_result
    for name, rv in (("NGC_869", -67.64), ("NGC_884", -51.71), ("NGC_7092", -12.22)):
        row = _row(r, name)
        assert row["Nflag1"] == 1
        assert row["RVmed"] == rv * KMS
        assert row["RVmean"] == rv * KMS
        assert row["e_RVmed"] == row["e_RVmean"] == row["s_RV"]
    star = r.members[r.members["Cluster"] == "NGC_884"]
    assert _row(r, "NGC_884")["[Fe/H]med"] == star["[Fe/H]"][0]  # exactly the star's value
    assert _row(r, "NGC_884")["[Fe/H]med"].value == pytest.approx(-0.238, abs=1e-12)
    assert _row(r, "NGC_884")["Nflag12"] == 1


def test_ngc2682_near_lamost_literature_and_below_gaia(embedded_result):
    r = embedded_result
    row = _row(r, "NGC_2682")
    assert 27 * KMS < row["RVmed"] < 31 * KMS          # Zhong+2020 (LAMOST DR5): 28.14
    assert row["e_RVmed"] < 1 * KMS
    assert -0.1 * u.dex < row["[Fe/H]med"] < 0.1 * u.dex
    assert row["Nflag12"] >= 3
    gaia = {c: row for c, row in zip(r.comparison["catalogue"], r.comparison)
            if row["quantity"] == "RV"}
    # LAMOST RVs sit ~5 km/s below Gaia's: reported, not removed
    assert -7 < gaia["Soubiran2018"]["median"] < -3
    assert -7 < gaia["Hunt2023"]["median"] < -2
    assert abs(gaia["Zhong2020"]["median"]) < 2  # LAMOST vs LAMOST


def test_tables_have_units_coords_and_flags(embedded_result):
    r = embedded_result
    c, m = r.clusters, r.members
    assert len(c) == 15 and len(m) == 537
    assert isinstance(c["coord"], SkyCoord) and isinstance(m["coord"], SkyCoord)
    assert c["coord"].distance.unit == u.pc
    assert np.allclose(c["coord"].radial_velocity.to_value(KMS), c["RVmed"].to_value(KMS))
    assert set(np.unique(m["Flag"])) == {0, 1, 12}
    # counts in the cluster table equal the member flags
    for row in c:
        sel = m["Cluster"] == row["Cluster"]
        assert row["Nall"] == sel.sum()
        assert row["Nflag1"] == np.isin(m["Flag"][sel], (1, 12)).sum()
        assert row["Nflag12"] == (m["Flag"][sel] == 12).sum()
    # every FLAG=12 star passes the stellar-parameter cuts
    f12 = m[m["Flag"] == 12]
    assert np.all((f12["Teff"] >= 4000 * u.K) & (f12["Teff"] <= 7500 * u.K))
    assert not np.any((f12["Teff"] < 5000 * u.K) & (f12["logg"].value >= 3.5))
    assert c.meta["reference"] if "reference" in c.meta else c.meta["method"].startswith("Fu")


def test_stage_log_accounts_for_every_row(embedded_result):
    log = embedded_result.stage_log
    assert log["input stars (LAMOST-LRS)"]["n_in"] == 691
    j = log["join members"]
    assert j["n_in"] - j["n_out"] == sum(j["dropped"].values()) == 154
    members = log["members"]
    assert members["dropped"]["probability < 0.7"] == members["n_in"] - members["n_out"] > 0


def test_reproducible_with_seed_and_subset_equals_full(embedded_result):
    kw = dict(surveys=["lamost_lrs"], literature=False, orbits=False, **PAPER)
    again = astro_ocl.build_catalogue(seed=1, **kw)
    assert np.array_equal(again.clusters["RVmed"], embedded_result.clusters["RVmed"])
    other = astro_ocl.build_catalogue(seed=2, **kw)
    assert not np.array_equal(other.clusters["e_RVmed"], embedded_result.clusters["e_RVmed"])
    sub = astro_ocl.build_catalogue(seed=1, clusters=["NGC2682", "IC 4665"], **kw)
    assert list(sub.clusters["Cluster"]) == ["IC_4665", "NGC_2682"]
    for row in sub.clusters:
        full = _row(embedded_result, row["Cluster"])
        for col in ("RVmed", "e_RVmed", "RVmean", "s_RV", "[Fe/H]med", "e_[Fe/H]mean"):
            assert row[col] == full[col]


def test_likelihood_needs_no_seed_and_a_subset_equals_the_full_build():
    kw = dict(surveys=["lamost_lrs"], literature=False, orbits=False)
    one, two = (astro_ocl.build_catalogue(seed=seed, **kw) for seed in (1, 2))
    for col in ("RV", "e_RV", "sRVint", "[Fe/H]", "e_[Fe/H]"):   # no random numbers
        np.testing.assert_array_equal(one.clusters[col], two.clusters[col])
    sub = astro_ocl.build_catalogue(seed=1, clusters=["NGC2682", "IC 4665"], **kw)
    for row in sub.clusters:
        full = _row(one, row["Cluster"])
        assert row["RV"] == full["RV"] and row["[Fe/H]"] == full["[Fe/H]"]


def test_unknown_cluster_name():
    with pytest.raises(UnknownClusterError, match="NGC_99999"):
        astro_ocl.build_catalogue(clusters=["NGC_99999"], n_realisations=10)


def _synthetic(rv, e_rv, **kw):
    stars = make_stars(rv=rv, e_rv=e_rv, **kw)
    members = make_members(stars["source_id"], ["NGC_2682"] * len(stars))
    return stars, members


def test_outlier_flag0_and_dwarf_excluded_end_to_end():
    rv = [30, 31, 29, 30.5, 29.5, 30.2, 29.8, 31.5, 28.5, 30.1, 80.0]
    teff = [4500] * 10 + [5000]
    logg = [4.6] + [2.5] * 10      # star 0: a 4500 K dwarf
    stars, members = _synthetic(rv, [0.5] * 11, teff=teff, logg=logg)
    for method in ("fu2022-montecarlo", "likelihood"):
        r = astro_ocl.build_catalogue(stars=stars, members=members, seed=3,
                                      n_realisations=2000, literature=False,
                                      statistics=method)
        flags = list(r.members["Flag"])
        assert flags[-1] == 0            # the +50 km/s outlier
        assert flags[0] == 1             # cool dwarf: good RV, no [Fe/H]
        assert flags[1:10] == [12] * 9
        row = r.clusters[0]
        if method == "likelihood":
            assert (row["Nall"], row["NFeH"]) == (11, 9) and not row["f_RV"]
            assert row["NRVcore"] == pytest.approx(10, abs=0.5)  # the ten core stars
            assert r.members["Pcore"][-1] < 0.01
            assert row["RV"].value == pytest.approx(30.05, abs=0.6)
        else:
            assert (row["Nall"], row["Nflag1"], row["Nflag12"]) == (11, 10, 9)
            assert row["RVmed"].value == pytest.approx(30.05, abs=0.6)


def test_quality_cuts_option_changes_flags():
    stars, members = _synthetic([10, 10.5, 9.5], [0.3] * 3, teff=[4800] * 3,
                                logg=[3.7, 3.7, 2.0])
    for method, n_feh in (("fu2022-montecarlo", "Nflag12"), ("likelihood", "NFeH")):
        kw = dict(stars=stars, members=members, seed=1, n_realisations=100, literature=False,
                  statistics=method)
        default = astro_ocl.build_catalogue(**kw)
        relaxed = astro_ocl.build_catalogue(cuts=QualityCuts(dwarf_logg=4.0), **kw)
        assert default.clusters[n_feh][0] == 1
        assert relaxed.clusters[n_feh][0] == 3


def test_nan_rv_dropped_with_count():
    stars, members = _synthetic([10, np.nan, 11], [1, 1, np.nan])
    with pytest.warns(DroppedRowsWarning, match=r"2 stars.*1 missing rv, 1 missing rv error"):
        r = astro_ocl.build_catalogue(stars=stars, members=members, seed=1, n_realisations=50,
                                      literature=False)
    assert r.stage_log["usable RV"]["n_out"] == 1
    assert r.clusters["Nall"][0] == 1


def test_requested_cluster_without_members_is_reported():
    stars, members = _synthetic([10, 11], [1, 1])
    members["Cluster"] = ["NGC_2682", "NGC_752"]
    stars["rv"][1] = np.nan
    with pytest.warns(DroppedRowsWarning) as record:
        r = astro_ocl.build_catalogue(stars=stars, members=members, clusters=["NGC_2682",
                                      "NGC_752"], seed=1, n_realisations=50, literature=False)
    messages = " | ".join(str(w.message) for w in record)
    assert "no usable spectroscopic member" in messages and "NGC_752" in messages
    assert list(r.clusters["Cluster"]) == ["NGC_2682"]


def test_no_usable_star_at_all():
    stars, members = _synthetic([10, 11], [1, 1])
    members["source_id"] = [98, 99]
    with pytest.raises(NoUsableDataError, match="no spectroscopic star is a selected"):
        astro_ocl.build_catalogue(stars=stars, members=members, n_realisations=10,
                                  literature=False)


def test_positional_match_path_when_no_source_id():
    from astropy.table import QTable
    stars, members = _synthetic([10, 11], [1, 1], ra=np.array([10.0, 10.01]),
                                dec=np.array([20.0, 20.0]))
    gaia = QTable({"source_id": stars["source_id"].copy()})
    gaia["coord"] = SkyCoord(ra=[10.0, 10.01] * u.deg, dec=[20.0, 20.0] * u.deg)
    stars.remove_column("source_id")
    with pytest.raises(NoUsableDataError, match="gaia_sources="):
        astro_ocl.build_catalogue(stars=stars, members=members, literature=False)
    r = astro_ocl.build_catalogue(stars=stars, members=members, gaia_sources=gaia, seed=1,
                                  n_realisations=50, literature=False)
    assert r.clusters["Nall"][0] == 2
    assert r.stage_log["sky match"]["n_out"] == 2


def test_bad_options():
    with pytest.raises(ValueError, match="n_realisations"):
        astro_ocl.build_catalogue(n_realisations=1)
    with pytest.raises(ParameterError, match="only with online=True"):
        astro_ocl.build_catalogue(lamost="vizier:V/164")


@pytest.mark.parametrize("typo, closest", [("membership", "memberships"),
                                           ("n_realizations", "n_realisations"),
                                           ("orbit_sample", "orbit_samples"),
                                           ("cluster", "clusters")])
def test_mistyped_keyword_names_the_closest_valid_one(typo, closest):
    with pytest.raises(TypeError, match=f"unexpected keyword argument '{typo}'; did you mean "
                                        f"'{closest}'"):
        astro_ocl.build_catalogue(**{typo: 1})


def test_positional_match_ambiguity_counts_each_star_once():
    # Two LAMOST stars 3.4" apart and two member Gaia sources at the same places:
    # each star has both sources inside 3.5", but each star (and each source) is
    # used once, paired with its closest partner.
    from astropy.table import QTable
    ra = np.array([10.0, 10.0 + 3.4 / 3600 / np.cos(np.radians(20))])
    stars, members = _synthetic([10, 11], [1, 1], ra=ra, dec=np.array([20.0, 20.0]))
    gaia = QTable({"source_id": stars["source_id"].copy()})
    gaia["coord"] = SkyCoord(ra=ra * u.deg, dec=[20.0, 20.0] * u.deg)
    stars.remove_column("source_id")
    r = astro_ocl.build_catalogue(stars=stars, members=members, gaia_sources=gaia, seed=1,
                                  n_realisations=50, literature=False)
    assert r.stage_log["sky match"]["n_out"] == 4
    assert r.stage_log["one match per star"]["n_out"] == 2
    assert sorted(zip(r.members["GaiaDR2"], r.members["RV"].value)) == [(1, 10.0), (2, 11.0)]
