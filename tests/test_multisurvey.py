"""Zero points between surveys and the combination of several surveys.

The offsets are injected into real LAMOST stars: the matched stars of every
cluster are split at random into two halves, two independent sets of real
measurements of the same clusters; one half is shifted by a known amount.
"""
import warnings

import astropy.units as u
import numpy as np
import pytest
from astropy.stats import mad_std

from astro_ocl.accounting import StageLog
from astro_ocl.exceptions import DroppedRowsWarning, ParameterError
from astro_ocl.sources import cluster_resolver, read_cg2020_clusters, read_cg_members, read_lamost
from astro_ocl.steps.crossmatch import match_stars, select_members
from astro_ocl.steps.multisurvey import combine_matched, survey_composition
from astro_ocl.steps.statistics import clean_stars
from astro_ocl.steps.zeropoints import apply_zero_points, fit_zero_points, survey_statistics

SHIFT_RV = 4.2 * u.km / u.s
SHIFT_FEH = -0.11 * u.dex


@pytest.fixture(scope="module")
def matched():
    log = StageLog()
    cg = read_cg2020_clusters()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DroppedRowsWarning)
        stars = clean_stars(read_lamost(), stage_log=log)
        members = select_members(read_cg_members(resolver=cluster_resolver(cg)), threshold=0.7,
                                 stage_log=log)
        return match_stars(stars, members, stage_log=log), cg


def _halves(matched, seed=3):
    rng = np.random.default_rng(seed)
    first = rng.random(len(matched)) < 0.5
    return matched[first], matched[~first]


def test_apply_zero_points_puts_survey_on_reference_scale(matched):
    stars, cg = matched
    a, b = _halves(stars)
    a, b = a.copy(), b.copy()
    a["survey"] = "A"
    b["survey"] = "B"
    b["rv"] = b["rv"] + SHIFT_RV
    zp = fit_zero_points(survey_statistics({"A": a, "B": b}), reference="A", seed=1)
    corrected = apply_zero_points(b, zp)
    assert "B RV" in corrected.meta["zero_points_applied"]
    zp2 = fit_zero_points(survey_statistics({"A": a, "B": corrected}), reference="A", seed=1)
    rv2 = zp2[(zp2["survey"] == "B") & (zp2["quantity"] == "RV")][0]
    assert abs(rv2["offset"]) < 0.05
    # the reference's stars are untouched
    assert np.all(apply_zero_points(a, zp)["rv"] == a["rv"])


def test_zero_points_not_measured_are_not_applied(matched):
    stars, cg = matched
    a, b = _halves(stars)
    a, b = a.copy(), b.copy()
    b["Cluster"] = np.char.add("elsewhere_", np.asarray(b["Cluster"]).astype(str))
    zp = fit_zero_points(survey_statistics({"A": a, "B": b}), reference="A", seed=1)
    row = zp[(zp["survey"] == "B") & (zp["quantity"] == "RV")][0]
    assert not np.isfinite(row["offset"]) and not row["applied"]
    b["survey"] = "B"
    with pytest.warns(DroppedRowsWarning, match="not applied"):
        out = apply_zero_points(b, zp)
    assert np.all(out["rv"] == b["rv"])
    with pytest.raises(ParameterError, match="reference"):
        fit_zero_points(survey_statistics({"A": a, "B": b}), reference="C")


def test_combine_keeps_each_star_once_with_its_best_measurement(matched):
    """A star of several surveys keeps the measurement its survey vouches for, then the
    smallest RV error; the surveys' order only breaks ties."""
    stars, _ = matched
    a = stars.copy()
    b = stars.copy()
    a["survey"], b["survey"] = "A", "B"
    b["rv"] = b["rv"] + SHIFT_RV
    extra = stars[:0].copy()
    log = StageLog()
    both = combine_matched({"B": b, "A": a, "C": extra}, stage_log=log)
    assert len(both) == len(stars)
    assert set(both["survey"]) == {"B"}  # equal errors: the first survey
    np.testing.assert_allclose(both["rv"].value, b["rv"].value)
    assert list(log)[-1]["n_in"] == 2 * len(stars)
    assert list(log)[-1]["dropped"] == {
        "A: the same star measured better by another survey": len(stars)}
    flags = np.full(len(both), 12)
    comp = survey_composition(both, flags)
    name = str(both["Cluster"][0])
    n = int(np.sum(np.asarray(both["Cluster"]) == name))
    assert comp[name] == (f"B:{n}", f"B:{n}")
    # A measures every star better: A's values, whatever the order
    a["e_rv"] = b["e_rv"] / 10
    both = combine_matched({"B": b, "A": a})
    assert set(both["survey"]) == {"A"}
    # ... except where A's own domain excludes it: there B's (inside B's domain) stays
    a["rv_valid"], a["feh_valid"] = np.ones(len(a), bool), np.ones(len(a), bool)
    b["rv_valid"], b["feh_valid"] = np.ones(len(b), bool), np.ones(len(b), bool)
    a["rv_valid"][:10] = False
    both = combine_matched({"B": b, "A": a})
    kept = dict(zip(zip(np.asarray(both["Cluster"]).astype(str),
                        np.asarray(both["source_id"])), np.asarray(both["survey"]).astype(str)))
    for row in a[:10]:
        assert kept[(str(row["Cluster"]), row["source_id"])] == "B"
    assert sum(v == "A" for v in kept.values()) == len(a) - 10


def test_gradient_groups_without_enough_clusters_fall_back_one_by_one():
    from astro_ocl.exceptions import AstroOCLWarning
    from astro_ocl.sources.clusters import read_cluster_dynamics_input
    from astro_ocl.steps import gradients as g
    import galpy.potential  # noqa: F401  (galpy's astroquery import resets showwarning)
    full = read_cluster_dynamics_input()
    age = np.asarray(getattr(full["AgeNN"], "value", full["AgeNN"]), float)
    young = full[age < 9.0]  # no cluster older than 1 Gyr: the old groups cannot be fitted
    with pytest.warns(AstroOCLWarning, match="age groups fitted on"):
        res = g.gradients_for_catalogue(young, fallback=full, min_usable=20, min_clusters=5)
    alone = g.gradient_table(young, min_clusters=5)
    other = g.gradient_table(full, min_clusters=5)
    t = res.table
    own = np.asarray(alone.table["fitted"], bool)
    assert own.any() and not own.all()
    # groups this catalogue can fit are its own, identical to fitting it alone
    assert set(t["fitted_on"][own]) == {"this catalogue"}
    np.testing.assert_array_equal(t["b_50"][own], alone.table["b_50"][own])
    # the others come from the fallback, row by row, with the reason
    back = ~own & np.asarray(other.table["fitted"], bool)
    assert back.any()
    assert all(f == full.meta.get("reference", "the fallback sample") for f in t["fitted_on"][back])
    assert all("too few clusters" in n for n in t["note"][back])
    np.testing.assert_array_equal(t["b_50"][back], other.table["b_50"][back])
    assert "groups" in res.source


# --- the default build: every embedded survey ----------------------------------------------
def test_default_build_combines_every_embedded_survey(multi_survey_result):
    r = multi_survey_result
    c, m = r.clusters, r.members
    has_rv = np.isfinite(c["RV"].value)
    has_feh = np.isfinite(c["[Fe/H]"].value)
    assert (has_rv & has_feh).sum() >= 80
    assert np.isfinite(c["Energy"].value).sum() >= 80
    assert set(m["Survey"]) == {"LAMOST-LRS", "LAMOST-MRS", "APOGEE"}
    assert r.provenance["surveys"] == "LAMOST-LRS,LAMOST-MRS,APOGEE"
    # every combined value says which surveys and how many of their stars made it
    for row in c:
        sel = m["Cluster"] == row["Cluster"]
        for column, used in (("RVsurveys", np.isin(m["Flag"], (1, 12))),
                             ("FeHsurveys", m["Flag"] == 12)):
            text = "" if np.ma.is_masked(row[column]) else str(row[column])
            counts = dict(item.split(":") for item in text.split(",") if item)
            s, n = np.unique(np.asarray(m["Survey"][sel & used]), return_counts=True)
            assert {k: int(v) for k, v in counts.items()} == dict(zip(s, n.tolist()))
        rv_text = "" if np.ma.is_masked(row["RVsurveys"]) else str(row["RVsurveys"])
        used = sel & np.isin(m["Flag"], (1, 12))
        assert sum(int(i.split(":")[1]) for i in rv_text.split(",") if i) == used.sum()
    # the drops are counted, survey by survey
    log = r.stage_log.as_table()
    usable = log[log["stage"] == "usable RV"]
    assert len(usable) == 3 and usable["n_in"][1] - usable["n_out"][1] > 0  # MRS sentinels
    both = r.stage_log["stars of several surveys"]
    assert both["n_in"] - both["n_out"] == sum(both["dropped"].values()) > 0
    # a star in two surveys is counted once
    assert len(np.unique(np.char.add(np.asarray(m["Cluster"]).astype(str),
                                     np.asarray(m["GaiaDR2"]).astype(str)))) == len(m)


def test_default_build_zero_points_and_occam(multi_survey_result):
    r = multi_survey_result
    zp = r.zero_points
    assert zp.meta["reference"] == "APOGEE"
    lrs = zp[(zp["survey"] == "LAMOST-LRS") & (zp["quantity"] == "RV")][0]
    # LAMOST LRS velocities sit several km/s below APOGEE's: measured and removed
    assert lrs["applied"] and lrs["N"] >= 3
    assert lrs["offset"] < -2 and lrs["offset"] + 3 * lrs["e_offset"] < 0
    assert r.provenance["zero_points"] == "apply"
    # APOGEE stars alone against OCCAM's own cluster table: the same APOGEE values
    comp = r.comparison
    occam = comp[(comp["catalogue"] == "OCCAM2020") & (comp["sample"] == "APOGEE stars only")]
    rv = occam[occam["quantity"] == "RV"][0]
    assert rv["N"] >= 70 and abs(rv["median"]) < 0.5
    # the gradients were fitted on the catalogue itself, group by group
    g = r.gradients.table
    assert "this catalogue" in set(g["fitted_on"])
    assert np.all((g["fitted_on"] != "") == np.asarray(g["fitted"], bool))


def test_zero_points_applied_unless_asked_not_to():
    import astro_ocl
    # a cluster only LAMOST LRS observed moves by minus the offset; APOGEE's stay
    kw = dict(seed=1, orbits=False, literature=False, surveys=["lamost_lrs", "apogee"])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DroppedRowsWarning)
        measured = astro_ocl.build_catalogue(zero_points="measure", **kw)
        applied = astro_ocl.build_catalogue(**kw)
    z = applied.zero_points
    lrs = z[(z["survey"] == "LAMOST-LRS") & (z["quantity"] == "RV")][0]
    assert np.isfinite(lrs["offset"]) and lrs["applied"]
    assert not measured.zero_points["applied"].any()
    surveys = [str(s) for s in measured.clusters["RVsurveys"].filled("")]
    lrs_only = [i for i, s in enumerate(surveys) if s.startswith("LAMOST-LRS:") and "," not in s]
    apogee_only = [i for i, s in enumerate(surveys) if s.startswith("APOGEE:") and "," not in s]
    assert lrs_only and apogee_only
    delta = (applied.clusters["RV"] - measured.clusters["RV"]).value
    np.testing.assert_allclose(delta[lrs_only], -lrs["offset"], atol=1e-6)
    np.testing.assert_allclose(delta[apogee_only], 0, atol=1e-9)  # the reference scale
    # the zero point's uncertainty is in the error of every LRS-only value
    e_m, e_a = measured.clusters["e_RV"].value, applied.clusters["e_RV"].value
    np.testing.assert_allclose(e_a[lrs_only], np.hypot(e_m[lrs_only], lrs["e_offset"]),
                               rtol=1e-6)
    assert "LAMOST-LRS RV" in applied.provenance["zero_points_applied"]
    assert measured.provenance["zero_points_applied"].startswith("none")


# --- zero points fitted jointly (fit_zero_points) ------------------------------------------
INJECTED = {"APOGEE": (1.5, 0.0), "LAMOST-LRS": (4.2, 0.2), "LAMOST-MRS": (-2.5, 0.0)}


def test_joint_fit_recovers_offsets_injected_into_three_surveys(by_survey):
    """Each survey's real members split at random into two halves, two sets of real
    measurements on the same scale; the second half ("<survey>+") shifted by a known
    RV (and LRS [Fe/H]) offset. Fitted jointly against APOGEE's first half, the
    difference of the two halves' zero points is the injected shift."""
    rng = np.random.default_rng(11)
    parts = {}
    for survey, table in by_survey.items():
        second = rng.random(len(table)) < 0.5
        a, b = table[~second].copy(), table[second].copy()
        drv, dfeh = INJECTED[survey]
        b["rv"] = b["rv"] + drv * u.km / u.s
        b["feh"] = b["feh"] + dfeh * u.dex
        b["survey"] = np.full(len(b), survey + "+")
        parts[survey], parts[survey + "+"] = a, b
    per = survey_statistics(parts)
    zp = fit_zero_points(per, reference="APOGEE", seed=3)
    assert zp.meta["reference"] == "APOGEE"

    def row(survey, quantity):
        return zp[(zp["survey"] == survey) & (zp["quantity"] == quantity)][0]

    for survey, (drv, dfeh) in INJECTED.items():
        for quantity, shift in (("RV", drv), ("[Fe/H]", dfeh)):
            a, b = row(survey, quantity), row(survey + "+", quantity)
            assert a["N"] >= 3 and b["N"] >= 3
            found = b["offset"] - a["offset"]
            err = np.hypot(a["e_offset"], b["e_offset"])
            assert abs(found - shift) < 3 * err, (survey, quantity, found, shift, err)
            if shift:
                assert err < abs(shift) / 3      # the shift is resolved
    # the reference is the scale; RV zero points are applied when measured
    assert row("APOGEE", "RV")["offset"] == 0 and not row("APOGEE", "RV")["applied"]
    rv = zp[(zp["quantity"] == "RV") & (zp["survey"] != "APOGEE")]
    assert np.all(rv["applied"]) and np.all(np.isfinite(rv["offset"]))
    # [Fe/H]: applied exactly when more than 2 sigma
    feh = zp[(zp["quantity"] == "[Fe/H]") & (zp["survey"] != "APOGEE")]
    significant = np.abs(feh["offset"]) > 2 * feh["e_offset"]
    np.testing.assert_array_equal(np.asarray(feh["applied"]), significant)
    assert row("LAMOST-LRS+", "[Fe/H]")["applied"] or \
        abs(row("LAMOST-LRS+", "[Fe/H]")["offset"]) <= 2 * row("LAMOST-LRS+", "[Fe/H]")[
            "e_offset"]
    # the uncertainty is the larger of the formal (Birge-scaled) and bootstrap errors
    for r in zp[np.isfinite(zp["e_boot"])]:
        assert r["e_offset"] == max(r["e_formal"], r["e_boot"])
    # the same seed, the same numbers
    again = fit_zero_points(per, reference="APOGEE", seed=3)
    np.testing.assert_array_equal(again["e_offset"], zp["e_offset"])


def test_feh_zero_point_not_applied_when_insignificant(by_survey):
    """Two halves of the APOGEE members: no [Fe/H] offset between them, so none is
    applied; the same halves with 0.1 dex added to one: applied."""
    apogee = by_survey["APOGEE"]
    second = np.random.default_rng(5).random(len(apogee)) < 0.5
    a, b = apogee[~second].copy(), apogee[second].copy()
    b["survey"] = np.full(len(b), "B")
    for shift, applied in ((0.0, False), (0.1, True)):
        bb = b.copy()
        bb["feh"] = bb["feh"] + shift * u.dex
        zp = fit_zero_points(survey_statistics({"APOGEE": a, "B": bb}), reference="APOGEE",
                             seed=1)
        r = zp[(zp["survey"] == "B") & (zp["quantity"] == "[Fe/H]")][0]
        assert r["N"] >= 20
        assert bool(r["applied"]) is applied, r["status"]
        assert abs(r["offset"] - shift) < 3 * r["e_offset"]
        assert r["status"].startswith("applied" if applied else "not applied")


def test_joint_fit_without_shared_clusters(by_survey, per_survey):
    """LAMOST LRS cut to the clusters no other survey has: nothing links it to the
    reference, its zero point is not measured, not applied, and its clusters say so."""
    from astro_ocl.steps.likelihood import likelihood_statistics
    others = set(per_survey["APOGEE"]["Cluster"]) | set(per_survey["LAMOST-MRS"]["Cluster"])
    lrs = per_survey["LAMOST-LRS"]
    alone = lrs[~np.isin(np.asarray(lrs["Cluster"]), sorted(others))]
    assert len(alone) >= 3
    zp = fit_zero_points({"APOGEE": per_survey["APOGEE"], "LAMOST-LRS": alone},
                         reference="APOGEE", seed=1)
    for r in zp[zp["survey"] == "LAMOST-LRS"]:
        assert np.isnan(r["offset"]) and not r["applied"] and r["N"] == 0
        assert r["status"].startswith("not measured")
    stars = by_survey["LAMOST-LRS"]
    stars = stars[np.isin(np.asarray(stars["Cluster"]), np.asarray(alone["Cluster"]))]
    clusters, _ = likelihood_statistics(stars, zero_points=zp)
    assert all("z" in f for f in clusters["f_RV"])
    assert all("zero point was not measured" in n for n in clusters["RVnote"])
    with pytest.raises(ParameterError, match="reference"):
        fit_zero_points(per_survey, reference="GALAH")


def test_external_reference_table_gaia_dr3(per_survey):
    """Hunt & Reffert (2023) Gaia DR3 cluster RVs as the reference scale: each survey's
    offset agrees with the median difference over the clusters it shares with Gaia."""
    from astropy.table import join
    from astro_ocl.sources.literature import read_literature
    hr = read_literature("Hunt2023", resolver=cluster_resolver(read_cg2020_clusters()))
    zp = fit_zero_points(per_survey, reference={"RV": "Gaia-DR3", "[Fe/H]": "APOGEE"},
                         external={"Gaia-DR3": hr}, seed=2)
    assert "RV: Gaia-DR3" in zp.meta["references"]
    gaia = zp[(zp["survey"] == "Gaia-DR3") & (zp["quantity"] == "RV")][0]
    assert gaia["offset"] == 0 and gaia["kind"] == "external table"
    # Gaia has no [Fe/H]: no [Fe/H] row for it
    assert not np.any((zp["survey"] == "Gaia-DR3") & (zp["quantity"] == "[Fe/H]"))
    usable = hr[np.asarray(np.ma.filled(np.ma.asarray(hr["NRV"]), 0)) >= 3]
    for survey in ("APOGEE", "LAMOST-LRS"):
        r = zp[(zp["survey"] == survey) & (zp["quantity"] == "RV")][0]
        assert r["applied"] and r["N"] >= 10
        j = join(per_survey[survey]["Cluster", "RV", "f_RV"], usable["Cluster", "RV"],
                 keys="Cluster", table_names=["s", "g"], metadata_conflicts="silent")
        j = j[j["f_RV"] == ""]
        diff = (j["RV_s"] - j["RV_g"]).to_value(u.km / u.s)
        # an independent, robust estimate of the same offset
        assert abs(np.median(diff) - r["offset"]) < 3 * np.hypot(
            r["e_offset"], 1.25 * mad_std(diff) / np.sqrt(diff.size))


def test_cluster_provenance_names_surveys_stars_and_offsets(by_survey, per_survey):
    from astro_ocl.steps.likelihood import likelihood_statistics
    from astro_ocl.steps.multisurvey import cluster_provenance
    zp = fit_zero_points(per_survey, reference="APOGEE", seed=1)
    combined = combine_matched(by_survey)
    clusters, stars = likelihood_statistics(combined, zero_points=zp)
    prov = cluster_provenance(combined, np.asarray(stars["Flag"]), zp)
    assert list(prov["Cluster"]) == list(clusters["Cluster"])
    names = np.asarray(combined["Cluster"]).astype(str)
    surveys = np.asarray(combined["survey"]).astype(str)
    rows = {(str(r["survey"]), str(r["quantity"])): r for r in zp}
    for p in prov:
        sel = names == p["Cluster"]
        for col, zcol, used, quantity in (("RVsurveys", "RVzp", stars["Flag"] >= 1, "RV"),
                                          ("FeHsurveys", "FeHzp", stars["Flag"] == 12,
                                           "[Fe/H]")):
            s, n = np.unique(surveys[sel & np.asarray(used)], return_counts=True)
            assert p[col] == ",".join(f"{a}:{b}" for a, b in zip(s, n))
            texts = dict(item.split(":", 1) for item in p[zcol].split(",") if item)
            assert sorted(texts) == list(s)
            for survey, text in texts.items():
                r = rows[(survey, quantity)]
                if survey == "APOGEE":
                    assert text == "ref"
                elif r["applied"]:
                    assert float(text.split("+-")[0]) == pytest.approx(r["offset"], abs=0.01)
                else:
                    assert text == "n.s."
    # no zero points: raw
    raw = cluster_provenance(combined, np.asarray(stars["Flag"]))
    assert all(t.endswith(":raw") for x in raw["RVzp"] for t in x.split(",") if t)


def test_apply_zero_points_follows_the_applied_column(by_survey, per_survey):
    zp = fit_zero_points(per_survey, reference="APOGEE", seed=1)
    lrs = by_survey["LAMOST-LRS"]
    out = apply_zero_points(lrs, zp)
    rv = zp[(zp["survey"] == "LAMOST-LRS") & (zp["quantity"] == "RV")][0]
    feh = zp[(zp["survey"] == "LAMOST-LRS") & (zp["quantity"] == "[Fe/H]")][0]
    np.testing.assert_allclose((out["rv"] - lrs["rv"]).value, -rv["offset"])
    expected = -feh["offset"] if feh["applied"] else 0.0
    np.testing.assert_allclose(np.ma.filled((out["feh"] - lrs["feh"]).value, expected),
                               expected, atol=1e-12)


def test_real_stars_of_several_surveys_keep_the_best_measurement(by_survey):
    """On the embedded surveys' real matched stars (survey domains applied): every star
    of several surveys keeps a measurement with the most quantities inside its domain
    and, among those, the smallest RV error, whatever the order of the surveys."""
    from astro_ocl.steps.validity import survey_validity
    cg = read_cg2020_clusters()
    by_survey = {k: survey_validity(v, cluster_params=cg) for k, v in by_survey.items()}
    rows = {}
    for label, t in by_survey.items():
        for r in t:
            key = (str(r["Cluster"]), int(r["source_id"]))
            rows.setdefault(key, []).append(
                (int(r["rv_valid"]) + int(r["feh_valid"]), float(r["e_rv"].value), label))
    several = {k: v for k, v in rows.items() if len(v) > 1}
    assert len(several) > 50  # the embedded surveys share many stars
    for order in (list(by_survey), list(by_survey)[::-1]):
        log = StageLog()
        both = combine_matched({k: by_survey[k] for k in order}, stage_log=log)
        kept = {(str(c), int(s)): (str(lab), float(e)) for c, s, lab, e in
                zip(both["Cluster"], both["source_id"], both["survey"], both["e_rv"].value)}
        for key, options in several.items():
            best = max(v for v, _, _ in options)
            smallest = min(e for v, e, _ in options if v == best)
            assert kept[key][1] == smallest, (key, options, kept[key])
        assert sum(log["stars of several surveys"]["dropped"].values()) == \
            sum(len(v) - 1 for v in several.values())


def test_feh_scale_from_a_survey_that_has_feh():
    """A reference survey without [Fe/H] inside its domain sets the RV scale only; the
    [Fe/H] zero points are measured against the next survey that has [Fe/H]."""
    import astro_ocl
    from astro_ocl.sources import read_survey
    apogee = read_survey("apogee")
    apogee["feh"] = np.nan * apogee["feh"].unit
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        r = astro_ocl.build_catalogue(surveys={"lamost_lrs": None, "lamost_mrs": None,
                                               "apogee": apogee},
                                      reference_survey="apogee", orbits=False, seed=3,
                                      literature=False)
    zp = r.zero_points
    refs = dict(zip(zp["quantity"], zp["reference"]))
    assert refs == {"RV": "APOGEE", "[Fe/H]": "LAMOST-LRS"}
    assert r.provenance["zero_point_reference"] == "APOGEE (RV), LAMOST-LRS ([Fe/H])"
