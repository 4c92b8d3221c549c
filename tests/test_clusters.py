"""Cluster-catalogue adapters, memberships and Gaia DR2 -> DR3 ids, on real data.

The cluster tables are the embedded VizieR copies (CG2020 table1, Hunt & Reffert
2023, Dias et al. 2021); the DR3 membership is the real Tarricq et al. (2022)
member table of tests/data (no Hunt & Reffert member table can be had offline);
the DR2/DR3 pairs are those of the embedded LAMOST sample.
"""
import csv
import gzip
import json
import warnings
from pathlib import Path

import astropy.units as u
import numpy as np
import pytest
from astropy.table import QTable, Table

import astro_ocl
from astro_ocl import schema
from astro_ocl.accounting import StageLog
from astro_ocl.exceptions import InputDataError, ParameterError, UnknownNameError
from astro_ocl.sources import read_cg_members, read_fu2022, read_lamost
from astro_ocl.sources.clusters import (CLUSTER_CATALOGUES, PARAMETER_COLUMNS,
                                        cluster_resolver, join_cluster_parameters,
                                        read_cluster_catalogue)
from astro_ocl.sources.gaia_ids import dr2_dr3_pairs, gaia_release, id_pairs
from astro_ocl.steps.gaia_ids import choose_neighbours, needs_translation, translate_to_dr3
from astro_ocl.sources.members import read_hr23_members
from astro_ocl.utils import data_path

DATA = Path(__file__).parent / "data"
TARRICQ = DATA / "tarricq2022_dr3_members.csv.gz"
FILES = {"cg2020": "cantat_gaudin_2020_table1.tsv.gz", "hr23": "hunt2023.csv.gz",
         "dias2021": "dias2021.csv.gz"}
FAST = dict(n_realisations=100, seed=1, literature=False, surveys=["lamost_lrs"])


def _raw_rows(name):
    """The rows of an embedded CSV as dicts, read with the csv module alone."""
    with gzip.open(data_path(FILES[name]), "rt", encoding="utf-8", newline="") as f:
        rows = [{k.strip(): v.strip() for k, v in r.items()} for r in csv.DictReader(f)]
    return [r for r in rows if any(r.values())]


def _manifest_rows(name):
    manifest = json.loads(data_path("manifest.json").read_text())
    return next(f["rows"] for f in manifest["files"] if f["file"] == FILES[name])


@pytest.fixture(scope="module")
def catalogues():
    return {name: read_cluster_catalogue(name) for name in CLUSTER_CATALOGUES}


# --- adapters ---------------------------------------------------------------------------
@pytest.mark.parametrize("name", sorted(CLUSTER_CATALOGUES))
def test_adapter_layout_units_and_counts(catalogues, name):
    t = catalogues[name]
    assert len(t) == _manifest_rows(name)          # every row of the embedded table
    assert set(PARAMETER_COLUMNS) <= set(t.colnames)
    assert t.meta["catalogue"] == name and t.meta["gaia_release"] in ("DR2", "DR3")
    for col, unit in (("Dist", u.pc), ("e_Dist", u.pc), ("plx", u.mas), ("r50", u.deg),
                      ("pmRA", u.mas / u.yr), ("e_pmDE", u.mas / u.yr), ("GLON", u.deg)):
        assert t[col].unit == unit, col
    # the age has the unit the schema gives AgeNN (none, or dex(yr))
    assert getattr(t["AgeNN"], "unit", None) == schema.CG2020["AgeNN"].unit
    assert t["coord"].frame.name == "icrs"
    ages = np.asarray(getattr(t["AgeNN"], "value", t["AgeNN"]), float)
    assert np.nanmin(ages) > 5 and np.nanmax(ages) < 10.5   # log10(age/yr)
    assert len(set(t["Cluster"])) == len(t)                   # canonical names are unique
    assert not any(" " in str(n) for n in t["Cluster"])
    assert (np.asarray(t["Nmemb"]) > 0).all()


def test_hr23_percentiles_and_point_estimates(catalogues):
    hr = catalogues["hr23"]
    raw = _raw_rows("hr23")
    by_name = {r["Name"]: r for r in raw}
    d16, d, d84 = (hr[c].to_value(u.pc) for c in ("Dist16", "Dist", "Dist84"))
    assert np.all(d16 <= d) and np.all(d <= d84)
    age = lambda c: np.asarray(getattr(hr[c], "value", hr[c]), float)  # noqa: E731
    ok = np.isfinite(age("logAge16"))
    assert np.all(age("logAge16")[ok] <= age("AgeNN")[ok] + 1e-9)
    assert np.all(age("AgeNN")[ok] <= age("logAge84")[ok] + 1e-9)
    assert np.allclose(hr["e_Dist"].to_value(u.pc), (d84 - d16) / 2)
    # the point estimates are the medians of the published posteriors
    for i in (0, len(hr) // 2, len(hr) - 1):
        r = by_name[str(hr["Name"][i])]
        assert d[i] == float(r["dist50"]) and age("AgeNN")[i] == float(r["logAge50"])
        assert hr["Nmemb"][i] == int(r["N"])
    assert "dist50" in hr.meta["point_estimates"] and "logAge50" in hr.meta["point_estimates"]


def test_names_with_spaces_and_aliases_resolve(catalogues):
    hr = catalogues["hr23"]
    raw = _raw_rows("hr23")
    spaced = [r for r in raw if " " in r["Name"]]
    assert len(spaced) > 100
    resolver = cluster_resolver(hr)
    for r in spaced[:300]:
        canonical = resolver.resolve(r["Name"])
        # one canonical name for every spelling of the HR23 name
        for spelling in (r["Name"].replace(" ", "_"), r["Name"].replace(" ", "")):
            assert resolver.resolve(spelling) == canonical
    assert (resolver.resolve("NGC 2682") == resolver.resolve("NGC_2682")
            == resolver.resolve("NGC2682") == "NGC_2682")
    # an AllNames alias resolves to its cluster (Melotte_94 is NGC 2682 in HR23)
    row = hr[list(hr["Name"]).index("NGC 2682")]
    aliases = [a for a in str(row["Aliases"]).split(",") if a and a != "NGC_2682"]
    assert aliases
    for a in aliases:
        assert resolver.resolve(a) == "NGC_2682"
    # the canonical name is the CG2020 spelling where CG2020 knows the cluster
    cg = set(catalogues["cg2020"]["Cluster"])
    in_cg = [str(n) for n in hr["Cluster"] if str(n) in cg]
    assert len(in_cg) > 1500
    # Dias 2021's padded names are stripped and resolve
    dias = catalogues["dias2021"]
    assert cluster_resolver(dias).resolve("ngc 2682") == "NGC_2682"


def test_registry_errors_and_tables(catalogues):
    with pytest.raises(UnknownNameError, match="hr23"):
        read_cluster_catalogue("hunt")
    assert read_cluster_catalogue(catalogues["hr23"]) is catalogues["hr23"]
    assert len(read_cluster_catalogue("HR23")) == len(catalogues["hr23"])


def test_join_cluster_parameters_by_name(catalogues):
    names = ["NGC 2682", "Melotte_22", "No such cluster 1", "VDB_85, vdBergh_85"]
    j = join_cluster_parameters(names, ("Dist", "AgeNN", "Nmemb"), catalogue="hr23",
                                split_pasted=True)
    assert list(j["known"]) == [True, True, False, True]
    assert j["Cluster"][2] == "" and np.isnan(j["Dist"][2].value)
    assert np.isnan(j["coord"].ra.deg[2])
    hr = catalogues["hr23"]
    i = list(hr["Cluster"]).index("NGC_2682")
    assert j["Dist"][0] == hr["Dist"][i] and j["Nmemb"][0] == hr["Nmemb"][i]
    assert j.meta["unknown"] == ["No such cluster 1"]
    # HR23 itself writes that cluster's name as two names with a comma; CG2020 does not,
    # so there the pasted name is tried part by part and reported
    assert j.meta["malformed_names"] == [] and j["Cluster"][3] == "vdBergh_85"
    c = join_cluster_parameters(names[3:], ("Dist",), catalogue="cg2020", split_pasted=True)
    assert c.meta["malformed_names"] == ["VDB_85, vdBergh_85"] and c["Cluster"][0] == "vdBergh_85"
    c = join_cluster_parameters(names[3:], ("Dist",), catalogue="cg2020")
    assert not c["known"][0]


# --- HR23 gives positions and orbits to clusters CG2020 lacks ------------------------------
def test_hr23_gives_orbits_to_clusters_cg2020_lacks():
    from astropy.coordinates import SkyCoord

    from astro_ocl.steps.dynamics import orbit_parameters
    fu = read_fu2022()
    cols = ("Dist", "pmRA", "pmDE")
    cg = join_cluster_parameters(fu["Cluster"], cols, catalogue="cg2020", split_pasted=True)
    lacking = ~(np.isfinite(cg["Dist"].value) & (cg["Dist"].value > 0))
    assert lacking.sum() >= 10                       # published clusters CG2020 cannot place
    hr = join_cluster_parameters(fu["Cluster"][lacking], cols, catalogue="hr23",
                                 split_pasted=True)
    got = np.asarray(hr["known"]) & np.isfinite(hr["Dist"].value)
    assert got.sum() >= 8
    sub = fu[lacking][got]
    coords = SkyCoord(ra=hr["coord"].ra[got], dec=hr["coord"].dec[got],
                      distance=hr["Dist"][got], pm_ra_cosdec=hr["pmRA"][got],
                      pm_dec=hr["pmDE"][got], radial_velocity=sub["RVmed"], frame="icrs")
    orb = orbit_parameters(coords, n_samples=0)
    energy = np.asarray(orb["Energy"], float)
    assert np.isfinite(energy).all() and (energy < 0).all()      # bound orbits
    assert np.all(orb["Apo"] >= orb["Peri"])
    # and with CG2020 the same clusters get none
    cg_coords = SkyCoord(ra=cg["coord"].ra[lacking][got], dec=cg["coord"].dec[lacking][got],
                         distance=np.where(cg["Dist"][lacking][got].value > 0,
                                           cg["Dist"][lacking][got].value, np.nan) * u.pc,
                         pm_ra_cosdec=cg["pmRA"][lacking][got], pm_dec=cg["pmDE"][lacking][got],
                         radial_velocity=sub["RVmed"], frame="icrs")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        assert not np.isfinite(np.asarray(orbit_parameters(cg_coords, n_samples=0)["Energy"],
                                          float)).any()


def test_build_with_hr23_end_to_end():
    res = astro_ocl.build_catalogue(cluster_catalogue="hr23", orbit_samples=5, **FAST)
    c = res.clusters
    assert res.provenance["cluster_catalogue"] == "hr23"
    assert c.meta["cluster_catalogue"] == "hr23"
    hr = read_cluster_catalogue("hr23")
    for row in c:
        ref = hr.loc[str(row["Cluster"])]
        assert row["Dist"] == ref["Dist"]                  # distances are HR23's dist50
    assert "Hunt & Reffert 2023" in c["Dist"].info.description
    assert "CG2020" not in c["AgeNN"].info.description
    assert np.isfinite(np.asarray(c["Energy"], float)).all()
    assert np.isfinite(c["e_Energy"].value).all()
    # the same stars and members as the default build: only the parameters differ
    default = astro_ocl.build_catalogue(orbits=False, **FAST)
    assert list(c["Cluster"]) == list(default.clusters["Cluster"])
    assert not np.allclose(c["Dist"].value, default.clusters["Dist"].value)


def test_build_cluster_catalogue_options():
    with pytest.raises(ParameterError, match="not both"):
        astro_ocl.build_catalogue(cluster_catalogue="hr23",
                                  cluster_params=read_cluster_catalogue("cg2020"), **FAST)
    with pytest.raises(UnknownNameError):
        astro_ocl.build_catalogue(cluster_catalogue="nope", **FAST)
    # a parameter table is taken as it is, and named in the provenance; a cluster the
    # catalogue does not list keeps its row, without parameters, and is reported
    from astro_ocl.exceptions import DroppedRowsWarning
    dias = read_cluster_catalogue("dias2021")
    with pytest.warns(DroppedRowsWarning, match="no Dias et al. 2021 parameters"):
        res = astro_ocl.build_catalogue(cluster_catalogue=dias, orbits=False, **FAST)
    assert res.provenance["cluster_catalogue"] == "dias2021"
    listed = np.isin(np.asarray(res.clusters["Cluster"]), np.asarray(dias["Cluster"]))
    assert 0 < listed.sum() < len(listed)
    assert np.isfinite(res.clusters["Dist"][listed].value).all()
    assert np.isnan(res.clusters["Dist"][~listed].value).all()


def test_cli_clusters_from(tmp_path, capsys):
    from astro_ocl import cli
    out = tmp_path / "cat"
    assert cli.main(["build", "--out", str(out), "--clusters-from", "dias2021", "--seed", "2",
                     "--realisations", "50", "--orbit-samples", "0", "--no-gradients",
                     "--no-literature"]) == 0
    c = QTable.read(out / "clusters.ecsv")
    assert c.meta["cluster_catalogue"] == "dias2021"
    with pytest.raises(SystemExit):
        cli.main(["build", "--out", str(out), "--clusters-from", "mwsc"])
    assert "invalid choice" in capsys.readouterr().err


# --- Gaia releases and DR2 -> DR3 ids ------------------------------------------------------
def test_member_tables_say_their_gaia_release():
    cg = read_cg_members()
    assert gaia_release(cg) == "DR2" and cg["coord"].obstime.jyear == 2015.5
    raw = Table.read(TARRICQ, format="ascii.csv")
    # the real DR3 table under the labels of the HR23 member table
    raw.rename_columns(["Cluster", "Source", "PMemb"], ["Name", "GaiaDR3", "Prob"])
    raw["Name"] = [str(n).replace("_", " ") for n in raw["Name"]]
    hr = read_hr23_members(table=raw)
    assert gaia_release(hr) == "DR3" and hr["coord"].obstime.jyear == 2016.0
    assert set(hr["Cluster"]) == {"NGC_2682", "NGC_2548"}      # names with spaces resolved
    assert np.array_equal(hr["source_id"], raw["GaiaDR3"])
    with pytest.raises(InputDataError, match="embedded"):
        read_hr23_members()


def test_translation_with_the_embedded_pairs():
    stars = read_lamost()
    pairs = id_pairs(stars)
    changed = np.asarray(stars["source_id"]) != np.asarray(stars["dr3_source_id"])
    assert changed.any()
    log = StageLog()
    out = translate_to_dr3(stars, pairs, stage_log=log)
    assert len(out) == len(stars)
    assert np.array_equal(out["source_id"], stars["dr3_source_id"])
    assert np.array_equal(out["dr2_source_id"], stars["source_id"])
    assert gaia_release(out) == "DR3"
    assert f"{int(changed.sum())} ids changed" in log["Gaia DR2 -> DR3 ids"]["note"]


def test_translation_counts_its_drops():
    stars = read_lamost()
    pairs = id_pairs(stars)
    # no counterpart: the pairs of three stars removed
    gone = np.asarray(stars["source_id"][:3])
    kept = pairs[~np.isin(pairs["dr2_source_id"], gone)]
    # several counterparts: a second (real, other) DR3 id listed for two DR2 ids
    extra = Table({"dr2_source_id": np.asarray(stars["source_id"][10:12]),
                   "dr3_source_id": np.asarray(stars["dr3_source_id"][20:22])})
    from astropy.table import vstack
    several = vstack([kept, extra])
    log = StageLog()
    out = translate_to_dr3(stars, several, stage_log=log)
    rec = log["Gaia DR2 -> DR3 ids"]
    assert rec["dropped"] == {"no Gaia DR3 counterpart": 3,
                              "several Gaia DR3 counterparts (ambiguous)": 2}
    assert len(out) == len(stars) - 5
    assert not np.isin(out["dr2_source_id"], np.concatenate([gone, extra["dr2_source_id"]])).any()


def test_choice_among_several_neighbours():
    ids = np.asarray(read_lamost()["dr3_source_id"][:6], np.int64)
    # DR2 source 1: nearest neighbour also closest in magnitude; 2: nearest is 1 mag off
    pairs = QTable({"dr2_source_id": [1, 1, 2, 2, 3],
                    "dr3_source_id": ids[:5],
                    "angular_distance": [5.0, 80.0, 3.0, 40.0, 1.0] * u.mas,
                    "magnitude_difference": [0.01, 2.0, 1.0, 0.02, 0.0] * u.mag})
    chosen, ambiguous, n = choose_neighbours(pairs)
    assert chosen == {1: ids[0], 3: ids[4]} and ambiguous == {2} and n == 1
    chosen, ambiguous, n = choose_neighbours(pairs, multiple="closest")
    assert chosen == {1: ids[0], 2: ids[2], 3: ids[4]} and n == 2
    chosen, ambiguous, _ = choose_neighbours(pairs, multiple="drop")
    assert chosen == {3: ids[4]} and ambiguous == {1, 2}
    with pytest.raises(ParameterError):
        choose_neighbours(pairs, multiple="best")


def test_dr2_stars_join_dr3_members_through_their_pairs():
    stars = read_lamost()
    members = read_cg_members(TARRICQ, gaia_release="DR3")
    assert gaia_release(members) == "DR3"
    dr3 = set(np.asarray(members["source_id"]).tolist())
    # a star whose id changed between the releases is a DR3 member only under its DR3 id
    changed = np.asarray(stars["source_id"]) != np.asarray(stars["dr3_source_id"])
    hit = [i for i in np.flatnonzero(changed) if int(stars["dr3_source_id"][i]) in dr3]
    assert hit and all(int(stars["source_id"][i]) not in dr3 for i in hit)
    # Tarricq et al. give these stars probabilities of about 0.5: keep members above 0.5
    res = astro_ocl.build_catalogue(members=members, orbits=False, membership_threshold=0.5,
                                    **FAST)
    rec = res.stage_log["Gaia DR2 -> DR3 ids"]
    assert rec["n_in"] == len(stars) and rec["n_out"] == len(stars)
    assert res.provenance["members_gaia_release"] == "DR3"
    assert "own dr2/dr3_source_id pairs" in res.provenance["gaia_id_translation"]
    m = res.members
    # the member table keeps the stars' Gaia DR2 ids
    assert set(np.asarray(m["GaiaDR2"]).tolist()) <= set(np.asarray(stars["source_id"]).tolist())
    for i in hit:
        assert int(stars["source_id"][i]) in set(np.asarray(m["GaiaDR2"]).tolist())
    assert set(m["Cluster"]) == {"NGC_2682", "NGC_2548"}
    # the same DR3 table taken for DR2 ids (no translation) loses those stars
    wrong = read_cg_members(TARRICQ, gaia_release="DR2")
    res2 = astro_ocl.build_catalogue(members=wrong, orbits=False, membership_threshold=0.5,
                                     **FAST)
    lost = set(np.asarray(res2.members["GaiaDR2"]).tolist())
    assert all(int(stars["source_id"][i]) not in lost for i in hit)
    assert len(res2.members) < len(m)


def test_dr3_members_without_pairs_offline_is_an_error():
    stars = read_lamost()
    stars.remove_column("dr3_source_id")
    members = read_cg_members(TARRICQ, gaia_release="DR3")
    assert needs_translation(gaia_release(stars), gaia_release(members), source="members")
    with pytest.raises(InputDataError, match="dr2_neighbourhood"):
        dr2_dr3_pairs(stars)
    with pytest.raises(InputDataError, match="dr2_neighbourhood"):  # the build says so too
        astro_ocl.build_catalogue(stars=stars, members=members, n_realisations=50, seed=1,
                                  literature=False)
    same = read_cg_members()                                  # one release: nothing to do
    assert not needs_translation(gaia_release(stars), gaia_release(same), source="members")


# --- online (live VizieR and Gaia archive) -------------------------------------------------
@pytest.mark.remote_data
def test_hr23_members_online(tmp_path):
    from astro_ocl import conf
    from astro_ocl.sources.archives.vizier import hr23_members
    with conf.set_temp("cache_dir", str(tmp_path / "cache")):
        m = hr23_members(clusters=["NGC_2682"], threshold=0.7)
    assert len(m) > 500 and set(m["Cluster"]) == {"NGC_2682"}
    assert gaia_release(m) == "DR3" and (np.asarray(m["proba"]) >= 0.7).all()


@pytest.mark.remote_data
def test_dr2_neighbourhood_online(tmp_path):
    from astro_ocl import conf
    from astro_ocl.sources.archives.gaia import dr2_neighbours
    stars = read_lamost()
    changed = np.asarray(stars["source_id"]) != np.asarray(stars["dr3_source_id"])
    with conf.set_temp("cache_dir", str(tmp_path / "cache")):
        pairs = dr2_neighbours(np.asarray(stars["source_id"])[changed])
    chosen, _, _ = choose_neighbours(pairs)
    # the archive's best neighbours agree with the pairs the sample carries
    for dr2, dr3 in zip(np.asarray(stars["source_id"])[changed],
                        np.asarray(stars["dr3_source_id"])[changed]):
        if int(dr2) in chosen:
            assert chosen[int(dr2)] == int(dr3)
