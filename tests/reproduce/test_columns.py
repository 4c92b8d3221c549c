"""Every column of the published cluster table (CDS J/A+A/668/A4) against its rebuild."""
import csv
import gzip

import numpy as np
import pytest

from astro_ocl.reproduce import COMPARED, VERDICTS, published_inputs
from astro_ocl.utils import data_path


def test_inputs_join_cg2020(published):
    t = published
    assert len(t) == 386
    # the malformed published name is reported and still resolved to its cluster
    assert t.meta["malformed_names"] == ["VDB_85, vdBergh_85"]
    row = t[t["Cluster"] == "VDB_85, vdBergh_85"][0]
    assert row["CG_name"] != ""
    # Berkeley 29: CG2020 distance and the published RV feed its orbit
    b29 = t[t["Cluster"] == "Berkeley_29"][0]
    assert b29["coord"].distance.to_value("pc") == pytest.approx(12604)
    assert b29["coord"].radial_velocity.value == pytest.approx(b29["RVmed"].value)
    assert int(np.sum(~t["has_distance"])) == 14
    assert published_inputs is not None


def test_every_published_column_has_a_verdict(result):
    # the columns of the published file itself, read with the csv module alone
    with gzip.open(data_path("fu2022_clusters.csv.gz"), "rt", encoding="utf-8") as f:
        header = [h.strip() for h in next(csv.reader(f))]
    cols = result.columns
    assert sorted(cols["column"]) == sorted(header)
    assert list(cols["column"]) == [c for c, *_ in COMPARED]
    for r in cols:
        assert r["verdict"] in VERDICTS, r["column"]
        assert r["n"] > 0 and r["finding"]
        if r["frac_ok"] < r["tol_fraction"]:
            # outside the tolerance: never "reproduced", and a note says why
            assert r["verdict"] != "reproduced", r["column"]
            keys = [k.strip() for k in r["notes"].split(",")]
            assert keys and set(keys) <= set(result.notes["key"]), r["column"]


def test_column_statistics_recomputed(result):
    # the statistics are the ones of clusters.ecsv, recomputed here
    c = result.clusters
    groups = {n: g for n, _, _, g in COMPARED}
    for r in result.columns:
        col = r["column"]
        if groups[col] == "names":
            continue
        pub = np.asarray(getattr(c[f"{col}_pub"], "value", c[f"{col}_pub"]), float)
        ours = np.asarray(getattr(c[f"{col}_ours"], "value", c[f"{col}_ours"]), float)
        sel = np.isfinite(pub) & np.isfinite(ours)
        if groups[col] == "dynamics":
            sel &= np.asarray(c["has_distance"], bool)
        assert r["n"] == int(sel.sum()), col
        assert r["median_diff"] == pytest.approx(np.median(ours[sel] - pub[sel])), col
        ok = np.abs(ours[sel] - pub[sel]) <= np.maximum(
            r["tol_abs"], r["tol_rel"] * np.abs(pub[sel]))
        assert r["frac_ok"] == pytest.approx(np.mean(ok)), col


def test_frame_columns_reproduced_in_default_convention(result):
    v = {r["column"]: r for r in result.columns}
    for col in ("LZ", "RGC"):
        assert v[col]["verdict"] == "reproduced", col


def test_paper_convention_reproduces_the_published_dynamics(result):
    # Peri, Apo within 0.5 %, ecc within 0.005 for >= 95 % of the clusters with a
    # distance; ZGC within 1 pc; LX/LY within 0.5 %
    c = result.clusters
    sel = np.asarray(c["has_distance"], bool)

    def col(name, suffix):
        v = c[f"{name}_{suffix}"]
        return np.asarray(getattr(v, "value", v), float)[sel]
    for name in ("Peri", "Apo", "LX", "LY"):
        rel = np.abs(col(name, "fu2022") / col(name, "pub") - 1)
        assert np.mean(rel < 5e-3) >= 0.95, name
    assert np.mean(np.abs(col("ecc", "fu2022") - col("ecc", "pub")) < 5e-3) >= 0.95
    assert np.all(np.abs(col("ZGC", "fu2022") - col("ZGC", "pub")) < 1e-3)
    # and the default (correct) orbits are not the published ones
    assert np.mean(np.abs(col("Peri", "ours") / col("Peri", "pub") - 1) < 5e-3) < 0.5
    v = {r["column"]: r for r in result.columns}
    assert [v[k]["verdict"] for k in ("Peri", "Apo", "ecc")] == ["published error"] * 3
    for k in ("ZGC", "LX", "LY", "Energy", "VLSR"):
        assert v[k]["verdict"] == "convention", k


def test_hypotheses_are_evidence(result):
    h = result.hypotheses
    held = {(r["hypothesis"], r["column"]) for r in h if r["holds"]}
    assert ("orbits: galpy, (U, V, W) taken as (v_R, v_phi, v_z)", "Peri") in held
    assert ("orbits: galpy, cylindrical start, paper frame", "Peri") not in held
    assert ("orbits: GalPot, cylindrical start, from d sin b", "Peri") not in held
    for z in ("0", "20.8", "25"):
        assert (f"z_sun = {z} pc", "ZGC") not in held
    assert ("untilted, Sun +14 pc, k = 4.743717 (365-day year)", "LX") in held
    assert ("energy: galpy McMillan17 in physical units", "Energy") not in held
    assert ("energy: GalPot McMillan17 (PJM17_best), at d sin b", "Energy") in held


def test_vlsr_is_a_convention_with_evidence(result):
    v = {r["column"]: r for r in result.columns}["VLSR"]
    assert v["verdict"] == "convention" and v["notes"] == "vlsr"
    # ours (LSR-relative) is ~ -v_c away from the published Galactocentric v_y
    assert v["median_diff"] == pytest.approx(-232.8, abs=0.5)
    h = result.hypotheses
    held = h[(h["column"] == "VLSR") & h["holds"]]
    assert list(held["hypothesis"]) == ["VLSR = Galactocentric v_y"]


def test_per_star_verdict_says_what_was_tested(result):
    c = result.clusters
    singles = ("NGC_869", "NGC_884", "NGC_7092")
    for name in singles:
        row = c[c["Cluster"] == name][0]
        assert row["RVmed_ours"].value == pytest.approx(row["RVmed_pub"].value, abs=0.005)
        assert row["Nall_ours"] == row["Nall_pub"] == 1
    v = {r["column"]: r for r in result.columns}
    assert v["RVmed"]["verdict"] == "different input"
    # the clusters within the tolerance are exactly the single-star ones
    assert sorted(v["RVmed"]["finding"].split("(")[1].rstrip(")").split(", ")) == sorted(singles)
    note = dict(zip(result.notes["key"], result.notes["text"]))["stars"]
    assert "What was tested" in note and "What was not tested" in note
    assert "same LAMOST star is in both samples" in note
    assert "Monte Carlo statistics" in note and "method" in note


def test_positions_and_names(result):
    v = {r["column"]: r for r in result.columns}
    assert v["Cluster"]["verdict"] == "reproduced"
    assert v["Cluster"]["finding"].startswith("385 of 386")
    for col in ("_RA", "_DE"):
        assert v[col]["tolerance"].startswith("1 arcsec")
    # 26 VizieR positions are not the CG2020 centres (the note gives the count)
    notes = dict(zip(result.notes["key"], result.notes["text"]))
    assert "for 360 of 386 clusters" in notes["positions"]


def test_defects_listed(result):
    text = "\n".join(result.defects)
    assert "note 'names'" in text
    assert "14 clusters have no CG2020 distance" in text
    assert "Teutsch_52" in text
    assert "blank s_RV" in text and "note 's_rv_blank'" in text
    # the article's text and its own table disagree on Berkeley 29's pericentre
    assert "Berkeley_29 Peri = 13.92" in text
