"""Survey validity domains: which stars' RV and [Fe/H] are measurements.

Real rows: the embedded LAMOST LRS and MRS members matched to the CG members, the
OCCAM DR16 APOGEE rows, recorded Gaia DR3 archive rows. The APOGEE allStar and GALAH
adapters have no real sample here: their rules are tested on small tables built from
the documented flag definitions (the bits and flags of the survey's data model), run
through the real adapters.
"""
import warnings
from pathlib import Path

import astropy.units as u
import numpy as np
import pytest
from astropy.table import QTable, Table, vstack

from astro_ocl.accounting import StageLog
from astro_ocl.exceptions import DroppedRowsWarning, InputDataError, ParameterError
from astro_ocl.sources import (cluster_resolver, read_cg2020_clusters, read_cg_members,
                               read_literature)
from astro_ocl.sources.literature import read_dwarf_colours
from astro_ocl.sources.surveys import (DOMAINS, SURVEYS, apogee_allstar, galah, gaia_rvs,
                                       read_occam, read_survey)
from astro_ocl.sources.surveys.apogee import ASPCAPFLAG_BITS, STARFLAG_BITS
from astro_ocl.steps.crossmatch import match_stars, select_members
from astro_ocl.steps.multisurvey import combine_matched
from astro_ocl.steps.statistics import clean_stars, cluster_statistics
from astro_ocl.steps.validity import (HOT_BY_COLOUR, NO_FEH, NO_RV, PILEUP, colour_at_teff,
                                      dereddened_colour, log_validity, statistics_input,
                                      survey_validity, validity_counts)
from astro_ocl.schema import STARS

RECORDED = Path(__file__).parent / "archives" / "data"
HOT = HOT_BY_COLOUR.format(teff=7500)
FEH_PILEUP = PILEUP.format(parameter="[Fe/H]")


@pytest.fixture(scope="module")
def cg():
    return read_cg2020_clusters()


@pytest.fixture(scope="module")
def matched(cg):
    """The real LAMOST MRS and LRS stars matched to CG members (the pipeline's steps 1-3)."""
    log = StageLog()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DroppedRowsWarning)
        members = select_members(read_cg_members(resolver=cluster_resolver(cg)),
                                 threshold=0.7, stage_log=log)
        return {name: match_stars(clean_stars(read_survey(name), stage_log=log), members,
                                  stage_log=log)
                for name in ("lamost_mrs", "lamost_lrs")}


def _rows(t, cluster):
    return t[np.asarray(t["Cluster"]).astype(str) == cluster]


# --- the colour ---------------------------------------------------------------------------
def test_dereddening_inverts_the_babusiaux_relation():
    # eq. 1 of Gaia Collaboration (Babusiaux) 2018 by hand at C0 = 0, A0 = 1:
    # k_BP - k_RP = (1.1517 - 0.0230 + 0.0006) - (0.6104 - 0.0078 + 0.00005)
    k = (1.1517 - 0.0230 + 0.0006) - (0.6104 - 0.0078 + 0.00005)
    assert dereddened_colour(k * u.mag, 1.0 * u.mag).to_value(u.mag) == pytest.approx(0, abs=1e-6)
    # a K star (C0 = 1.2) behind A0 = 2: the coefficients at C0 and A0 by hand
    c, a = 1.2, 2.0
    kb = 1.1517 - 0.0871 * c - 0.0333 * c**2 + 0.0173 * c**3 - 0.0230 * a + 0.0006 * a**2 \
        + 0.0043 * c * a
    kr = 0.6104 - 0.0170 * c - 0.0026 * c**2 - 0.0017 * c**3 - 0.0078 * a + 0.00005 * a**2 \
        + 0.0006 * c * a
    observed = c + (kb - kr) * a
    assert dereddened_colour(observed * u.mag, a * u.mag).value == pytest.approx(c, abs=1e-4)
    assert np.isnan(dereddened_colour(np.nan * u.mag, 1 * u.mag).value)


def test_colour_of_the_temperature_limit():
    # Pecaut & Mamajek 2013 (v2019.3.22): A8V, 7500 K, BP-RP = 0.320; A0V 9700 K, -0.037
    assert colour_at_teff(7500 * u.K).to_value(u.mag) == pytest.approx(0.320)
    assert colour_at_teff(9700 * u.K).to_value(u.mag) == pytest.approx(-0.037)
    mid = colour_at_teff(7470 * u.K).to_value(u.mag)      # between A9V (7440) and A8V
    assert 0.320 < mid < 0.327
    seq = read_dwarf_colours()
    assert len(seq) == 51 and seq["SpT"][0] == "B9V"
    with pytest.raises(ParameterError, match="teff"):
        colour_at_teff(20000 * u.K)


# --- LAMOST: h and chi Persei ---------------------------------------------------------------
def test_h_and_chi_per_mrs_rows_leave_the_feh_statistics(matched, cg):
    mrs = survey_validity(matched["lamost_mrs"], cluster_params=cg)
    h, chi = _rows(mrs, "NGC_869"), _rows(mrs, "NGC_884")
    assert len(h) == 4 and len(chi) == 1
    # the published rows: [Fe/H] at the metal-poor end, pipeline Teff of F/G stars
    assert np.all(h["feh"].value < -2.2) and np.all(h["teff"].value < 7000)
    # their colours dereddened with CG2020's A_V (1.69, 1.72 mag) are those of B stars,
    # bluer than the 7500 K dwarf (0.320) by more than the 0.1 mag margin
    assert np.all(np.concatenate([h["bp_rp0"].value, chi["bp_rp0"].value]) < 0.22)
    for star in vstack([h, chi]):
        assert not star["feh_valid"] and HOT in star["feh_reason"]
        assert not star["rv_valid"] and "cool" in star["rv_reason"]
    # four stars of one cluster at the [Fe/H] grid edge: a pile-up as well
    assert all(FEH_PILEUP in r for r in h["feh_reason"])
    assert FEH_PILEUP not in chi["feh_reason"][0]           # one star is not a pile-up
    # without the cluster extinction only the pile-up speaks: h Per still out
    bare = survey_validity(matched["lamost_mrs"], cluster_params=None)
    assert not np.any(_rows(bare, "NGC_869")["feh_valid"])
    assert _rows(bare, "NGC_884")["feh_valid"][0]
    assert bare.meta["validity"]["LAMOST-MRS"]["not judged"][HOT] == len(bare)


def test_h_and_chi_per_get_credible_feh_or_none(matched, cg):
    both = combine_matched({k: survey_validity(v, cluster_params=cg)
                            for k, v in matched.items()})
    stars, index = statistics_input(both)
    stats, flags = cluster_statistics(stars, n_realisations=300, seed=1)
    by = {s.cluster: s for s in stats}
    # NGC 869: no star left for [Fe/H] (its one LRS star is a 8400 K star); NGC 884: the
    # one LRS star inside the domain, within 0.3 dex of the literature
    assert by["NGC_869"].feh.n == 0 and np.isnan(by["NGC_869"].feh.med)
    assert by["NGC_884"].feh.n == 1
    for name in ("Dias2021", "Zhong2020"):
        lit = read_literature(name)
        value = lit["[Fe/H]"][lit["Cluster"] == "NGC_884"][0].to_value(u.dex)
        assert abs(by["NGC_884"].feh.med - value) < 0.3, name
    # flags go back to their rows; the stars outside keep their row (Flag 0 there)
    full = np.zeros(len(both), int)
    full[index] = flags
    out = ~np.asarray(both["rv_valid"])
    assert out.sum() == len(both) - len(stars) > 0 and np.all(full[out] == 0)


def test_stars_well_inside_the_domain_stay(matched, cg):
    mrs = survey_validity(matched["lamost_mrs"], cluster_params=cg)
    m67 = _rows(mrs, "NGC_2682")
    inside = (m67["teff"].value > 4500) & (m67["teff"].value < 6500) \
        & (np.abs(m67["feh"].value) < 0.5) & (m67["bp_rp0"].value > 0.5)
    assert inside.sum() > 100
    assert np.all(m67["rv_valid"][inside]) and np.all(m67["feh_valid"][inside])
    assert np.all(m67["rv_reason"][inside] == "") and np.all(m67["feh_reason"][inside] == "")


def test_lamost_lrs_signal_to_noise_rule_on_real_rows(matched, cg):
    lrs = survey_validity(matched["lamost_lrs"], cluster_params=cg)
    low = lrs["snrg"] < 6
    assert low.sum() == 3
    assert not np.any(lrs["rv_valid"][low]) and not np.any(lrs["feh_valid"][low])
    assert all(r.startswith("S/N(g) < 6") for r in lrs["rv_reason"][low])
    # rows with enough S/N keep their RV unless the colour shows a template mismatch
    ok = ~low & (np.char.find(np.asarray(lrs["rv_reason"]).astype(str), "cool") < 0)
    assert np.all(lrs["rv_valid"][ok])
    # the spectroscopic hot-star cut of the domain: every star above 7500 K loses [Fe/H]
    hot = lrs["teff"].value > 7500
    assert hot.sum() > 50 and not np.any(lrs["feh_valid"][hot])


def test_counts_per_survey_and_reason_in_the_stage_log(matched, cg):
    both = combine_matched({k: survey_validity(v, cluster_params=cg)
                            for k, v in matched.items()})
    log = StageLog()
    counts = log_validity(both, log)
    rv, feh = log["survey validity domain: RV"], log["survey validity domain: [Fe/H]"]
    assert rv["n_in"] == feh["n_in"] == len(both)
    assert rv["n_out"] == int(np.sum(both["rv_valid"]))
    assert feh["n_out"] == int(np.sum(both["feh_valid"]))
    # the counts, recomputed from the reason columns
    first = np.array([r.split("; ")[0] for r in np.asarray(both["feh_reason"]).astype(str)])
    survey = np.asarray(both["survey"]).astype(str)
    expected = int(np.sum((survey == "LAMOST-MRS") & (first == FEH_PILEUP)))
    assert expected >= 4
    assert feh["dropped"][f"LAMOST-MRS: {FEH_PILEUP}"] == expected
    assert counts["n"].sum() == (~both["rv_valid"]).sum() + (~both["feh_valid"]).sum()
    assert set(counts["quantity"]) == {"RV", "[Fe/H]"}


# --- APOGEE ---------------------------------------------------------------------------------
def test_occam_rows_use_occams_own_validation():
    stars = read_occam()
    v = survey_validity(stars)
    ok = np.asarray(stars["feh_ok"], bool)
    assert (~ok).sum() > 0 and ok.sum() > 0
    assert np.array_equal(np.asarray(v["feh_valid"]), ok)
    assert all(r.startswith("OCCAM gives no [Fe/H]") for r in v["feh_reason"][~ok])
    has_rv = np.isfinite(stars["rv"].value)
    assert np.array_equal(np.asarray(v["rv_valid"]), has_rv)
    assert set(v["rv_reason"][~has_rv]) == {NO_RV}
    # no allStar flags on OCCAM rows: those rules are not applied to them (counted)
    info = v.meta["validity"]["APOGEE"]["not judged"]
    assert info["APOGEE FE_H_FLAG != 0"] == len(stars)


def _allstar(starflag, aspcapflag, fe_h_flag):
    """allStar rows (the DR17 data model's columns) for real APOGEE stars of OCCAM."""
    ids = [str(x) for x in read_occam()["survey_id"][:len(starflag)]]
    n = len(ids)
    return Table({"APOGEE_ID": ids, "RA": np.linspace(10, 11, n), "DEC": np.full(n, 40.0),
                  "VHELIO_AVG": np.full(n, -20.0), "VERR": np.full(n, 0.1),
                  "TEFF": np.full(n, 4800.0), "LOGG": np.full(n, 2.5),
                  "FE_H": np.full(n, -0.1), "FE_H_ERR": np.full(n, 0.01),
                  "SNR": np.full(n, 150.0),
                  "STARFLAG": np.asarray(starflag, np.int64),
                  "ASPCAPFLAG": np.asarray(aspcapflag, np.uint64),
                  "FE_H_FLAG": np.asarray(fe_h_flag, np.int32)})


def test_apogee_allstar_flag_rules_on_documented_bits():
    b = STARFLAG_BITS
    a = ASPCAPFLAG_BITS
    rows = [  # (STARFLAG, ASPCAPFLAG, FE_H_FLAG): expected (rv_valid, feh_valid)
        ((0, 0, 0), (True, True)),
        ((1 << 16, 0, 0), (True, True)),            # SUSPECT_RV_COMBINATION: a warning
        ((1 << b["BAD_RV_COMBINATION"], 0, 0), (False, False)),
        ((1 << b["MULTIPLE_SUSPECT"], 0, 0), (False, True)),
        ((1 << b["RV_FAIL"], 0, 0), (False, True)),
        ((0, 1 << a["M_H_BAD"], 0), (True, False)),
        ((0, 1 << 3, 0), (True, True)),             # M_H_WARN: a warning
        ((0, 1 << a["MULTIPLE_SUSPECT"], 0), (True, False)),   # bit 41 of the 64-bit flag
        ((0, 0, 2), (True, False)),                 # FE_H_FLAG set
    ]
    t = _allstar(*zip(*[r[0] for r in rows]))
    stars = apogee_allstar(t, star_bad_bit=None)    # values kept: the domain decides
    assert stars["aspcapflag"][7] == 1 << 41
    v = survey_validity(stars)
    got = list(zip(np.asarray(v["rv_valid"]), np.asarray(v["feh_valid"])))
    assert got == [r[1] for r in rows]
    assert "MULTIPLE_SUSPECT" in v["rv_reason"][3] and "M_H_BAD" in v["feh_reason"][5]
    assert v["feh_reason"][8] == "APOGEE FE_H_FLAG != 0"


# --- GALAH and Gaia RVS ---------------------------------------------------------------------
def test_galah_flags_give_the_reason():
    # DR3 allstar columns; flag_sp/flag_fe_h values as the data model defines them
    n = 4
    t = Table({"sobject_id": [131116000501001 + i for i in range(n)],
               "dr2_source_id": [1, 2, 3, 4], "ra_dr2": np.full(n, 50.0),
               "dec_dr2": np.full(n, -20.0), "rv_galah": np.full(n, 12.0),
               "e_rv_galah": np.full(n, 0.3), "teff": np.full(n, 5700.0),
               "logg": np.full(n, 4.3), "fe_h": np.full(n, 0.05), "e_fe_h": np.full(n, 0.06),
               "flag_sp": [0, 1, 0, 0], "flag_fe_h": [0, 0, 2, 0],
               "snr_c3_iraf": np.full(n, 60.0)})
    v = survey_validity(galah(t))
    assert list(v["rv_valid"]) == [True, False, True, True]
    assert list(v["feh_valid"]) == [True, False, False, True]
    assert v["rv_reason"][1].startswith("GALAH flag_sp != 0")
    assert v["feh_reason"][2] == "GALAH flag_fe_h != 0"


def test_gaia_rvs_rules_on_recorded_archive_rows():
    rows = vstack([Table.read(RECORDED / "gaia_dr3_sources.vot"),
                   Table.read(RECORDED / "gaia_dr3_one_source.vot")], join_type="inner")
    stars = gaia_rvs(rows)
    assert np.all(stars["rv_template_teff"].value < 7000)      # cool templates: inside
    v = survey_validity(stars)
    assert np.all(v["rv_valid"])
    # GSP-Spec [Fe/H] is outside by declaration (its flags are not read)
    assert not np.any(v["feh_valid"])
    assert all("flags_gspspec" in r for r in v["feh_reason"])
    # the same rows with a hot-star template (>= 7000 K, Blomme et al. 2023)
    hot = rows.copy()
    name = [c for c in hot.colnames if c.lower() == "rv_template_teff"][0]
    hot[name] = 8000.0
    vh = survey_validity(gaia_rvs(hot))
    assert not np.any(vh["rv_valid"]) and all("hot-star" in r for r in vh["rv_reason"])
    # the recorded cone has no RVS velocity: no RV, said so
    cone = survey_validity(gaia_rvs(Table.read(RECORDED / "gaia_dr3_cone.ecsv")))
    assert not np.any(cone["rv_valid"]) and set(cone["rv_reason"]) == {NO_RV}


# --- the step's contract ----------------------------------------------------------------------
def test_every_survey_declares_a_domain_with_references():
    for s in SURVEYS.values():
        assert s.domain is not None and s.domain is DOMAINS[s.label]
        assert s.domain.references and all(r.reference for r in s.domain.rules)
        produced = set(STARS) | {"feh_ok"}
        assert {r.column for r in s.domain.rules if r.column} <= produced, s.name
        assert s.domain.describe()[0] == f"{s.label}:"


def test_unknown_survey_and_missing_survey_column(matched):
    t = QTable(matched["lamost_mrs"][:5], copy=True)
    t["survey"] = "MyPipeline"
    v = survey_validity(t)
    assert np.all(v["rv_valid"])
    assert "none declared" in v.meta["validity"]["MyPipeline"]["domain"]
    t["feh"][0] = np.nan * u.dex
    assert survey_validity(t)["feh_reason"][0] == NO_FEH
    del t["survey"]
    t.meta.pop("survey", None)
    with pytest.raises(InputDataError, match="survey"):
        survey_validity(t)
    counts = validity_counts(v)
    assert len(counts) == 0 and counts.colnames == ["survey", "quantity", "reason", "n"]


def test_statistics_input_keeps_rv_and_hides_invalid_feh(matched, cg):
    v = survey_validity(matched["lamost_mrs"], cluster_params=cg)
    table, index = statistics_input(v)
    assert len(table) == int(np.sum(v["rv_valid"])) and np.all(table["rv_valid"])
    bad = ~np.asarray(table["feh_valid"])
    assert bad.sum() > 0 and np.all(np.isnan(table["feh"].value[bad]))
    assert np.array_equal(table["feh"].value[~bad], v["feh"].value[index][~bad])
    assert np.all(np.isfinite(v["feh"].value[index][bad]))        # the input is untouched
