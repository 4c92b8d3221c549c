"""The spectroscopic-survey adapters on their real samples.

LAMOST LRS/MRS and APOGEE (OCCAM DR16) run on the embedded real samples, Gaia
DR3 RVS on recorded real archive responses (``tests/archives/data``). No real
APOGEE allStar or GALAH rows are stored here: their adapters are exercised on
tables laid out with the surveys' column names (values from the real OCCAM rows
where OCCAM has them), which tests the column mapping and the flag rules only.
"""
import subprocess
import sys
import warnings
from pathlib import Path

import astropy.units as u
import numpy as np
import pytest
from astropy.coordinates import SkyCoord
from astropy.table import Table, vstack

from astro_ocl import schema
from astro_ocl.accounting import StageLog
from astro_ocl.exceptions import (DroppedRowsWarning, InputDataError, MissingColumnError,
                                  ParameterError)
from astro_ocl.sources import SURVEYS, name_key, read_cg_members, read_lamost, read_survey
from astro_ocl.sources.files import read_table_file
from astro_ocl.sources.surveys import (E_RV_FLOOR, OCCAM_MEMBERS_FILE, apogee_allstar,
                                       designation_coord, galah, get_survey, iter_chunks,
                                       iter_survey, read_gaia_rvs, read_lamost_mrs,
                                       read_occam, read_survey_members)
from astro_ocl.steps.crossmatch import deduplicate_stars, match_stars, select_members
from astro_ocl.steps.statistics import clean_stars
from astro_ocl.utils import data_path

ROOT = Path(__file__).resolve().parents[1]
RECORDED = ROOT / "tests" / "archives" / "data"
KMS = u.km / u.s


@pytest.fixture(scope="module")
def occam_raw():
    return read_table_file(data_path("occam_dr16_members.ecsv.gz"))


@pytest.fixture(scope="module")
def occam():
    return read_occam()


@pytest.fixture(scope="module")
def mrs_raw():
    return read_table_file(data_path("lamost_mrs_oc_members.ecsv"))


def _nan_equal(a, b):
    a, b = np.asarray(getattr(a, "value", a), float), np.asarray(getattr(b, "value", b), float)
    return a.shape == b.shape and bool(np.all((a == b) | (np.isnan(a) & np.isnan(b))))


# --- registry --------------------------------------------------------------------------------
def test_registry_names_and_errors():
    assert {"lamost_lrs", "lamost_mrs", "apogee", "apogee_allstar", "galah",
            "gaia_rvs"} <= set(SURVEYS)
    assert get_survey("LAMOST-MRS") is SURVEYS["lamost_mrs"]
    with pytest.raises(ParameterError, match="lamost_lrs"):
        read_survey("sdss_segue")
    with pytest.raises(InputDataError, match="no embedded sample"):
        read_survey("galah")
    for s in SURVEYS.values():
        assert s.match_radius.unit.is_equivalent(u.arcsec) and s.match_radius > 0
    # one parser of the surveys option, the library's and the command line's
    from astro_ocl.options import parse_surveys
    assert [s.name for s in parse_surveys(surveys="lamost_lrs, LAMOST-MRS,apogee")] == [
        "lamost_lrs", "lamost_mrs", "apogee"]
    with pytest.raises(ParameterError, match="surveys"):
        parse_surveys(surveys=" , ")
    with pytest.raises(ParameterError, match="unknown survey"):
        parse_surveys(surveys="lamost_lrs,rave")
    with pytest.raises(ParameterError, match="given twice"):
        parse_surveys(surveys=["lamost_lrs", "LAMOST-LRS"])
    # the zero-point reference: a label or a name of one of the build's surveys, checked
    # when the options are made (before any work)
    from astro_ocl.options import BuildOptions
    assert BuildOptions(reference_survey="apogee").reference_survey == "APOGEE"
    assert BuildOptions(reference_survey="lamost-mrs").reference_survey == "LAMOST-MRS"
    with pytest.raises(ParameterError, match="reference_survey.*LAMOST-LRS, LAMOST-MRS, APOGEE"):
        BuildOptions(reference_survey="galah")


@pytest.mark.parametrize("name", ["lamost_lrs", "lamost_mrs", "apogee"])
def test_embedded_surveys_are_canonical(name):
    t = read_survey(name)
    s = SURVEYS[name]
    assert len(t) == {e["file"]: e["rows"] for e in _manifest()}[s.embedded]
    assert set(t["survey"]) == {s.label} and t.meta["survey"] == s.label
    assert t.meta["schema"] == "stars" and t.meta["data_release"]
    assert isinstance(t["coord"], SkyCoord)
    for col in ("rv", "e_rv"):
        assert t[col].unit == KMS
    assert t["teff"].unit == u.K and t["feh"].unit == u.dex and t["logg"].unit == schema.DEX_G
    assert s.label in t["rv"].info.description           # "APOGEE heliocentric ..."
    for col in t.colnames:   # every canonical column carries the schema's description
        if col in schema.STARS and hasattr(t[col], "info"):
            assert t[col].info.description


def _manifest():
    import json
    return json.loads(data_path("manifest.json").read_text())["files"]


def test_lamost_lrs_registry_equals_read_lamost():
    a, b = read_survey("lamost_lrs"), read_lamost()
    assert np.array_equal(a["source_id"], b["source_id"])
    assert _nan_equal(a["rv"], b["rv"]) and _nan_equal(a["feh"], b["feh"])
    assert b.meta["sentinels"] == {}     # the embedded LRS sample has no sentinel


def test_lamost_sentinel_minus_9999_is_masked_and_counted():
    raw = Table.read(data_path("lamost_lrs_oc_members.ecsv"))
    raw["feh"][[3, 7]] = -9999.0        # LASP's "no value"
    raw["feh_err"][[3, 7]] = -9999.0    # (a negative error would otherwise raise)
    t = read_lamost(table=raw)
    assert t.meta["sentinels"] == {"feh": 2, "e_feh": 2}
    assert np.isnan(t["feh"][[3, 7]].value).all()
    assert np.isfinite(t["feh"].value).sum() == len(raw) - 2


# --- LAMOST MRS ---------------------------------------------------------------------------------
def test_lamost_mrs_rv_err_sentinel(mrs_raw):
    t = read_lamost_mrs()
    # 9999 = no RV error; averaged over nobs repeats it becomes 9999 / sqrt(nobs)
    err, nobs = np.asarray(mrs_raw["rv_err"]), np.asarray(mrs_raw["nobs"])
    sentinel = np.abs(err * np.sqrt(nobs) - 9999) < 0.5
    assert (err == 9999).any() and (sentinel & (nobs > 1)).any()
    assert t.meta["sentinels"]["e_rv"] == int(sentinel.sum())
    assert np.isnan(t["e_rv"].value[sentinel]).all()
    assert np.allclose(t["e_rv"].value[~sentinel], np.asarray(mrs_raw["rv_err"])[~sentinel])
    assert np.nanmax(t["e_rv"].to_value(KMS)) < 9999 / np.sqrt(nobs.max())  # none left
    assert np.array_equal(t["source_id"], mrs_raw["dr2_source_id"])
    # the method drops exactly those stars, counted
    log = StageLog()
    with pytest.warns(DroppedRowsWarning, match="no usable radial velocity"):
        kept = clean_stars(t, stage_log=log)
    assert log["usable RV"]["dropped"]["missing rv error"] == int(sentinel.sum())
    assert len(kept) == len(t) - int(sentinel.sum())


def test_lamost_mrs_joins_members_by_gaia_id():
    stars = read_lamost_mrs()
    members = select_members(read_cg_members())
    log = StageLog()
    res = match_stars(stars, members, stage_log=log)
    ids = np.unique(np.asarray(stars["source_id"]))
    expected = np.intersect1d(ids, np.asarray(members["source_id"]))
    assert len(expected) > 0
    assert sorted(np.asarray(res["source_id"])) == sorted(expected)
    assert set(res["survey"]) == {"LAMOST-MRS"}


# --- APOGEE / OCCAM DR16 ----------------------------------------------------------------------
def test_occam_sentinels_units_and_rv_error(occam, occam_raw):
    vh = np.asarray(occam_raw["VHELIO_AVG"])
    fe = np.asarray(occam_raw["FE_H"])
    cg = np.asarray(occam_raw["CG_PROB"])
    vs = np.asarray(occam_raw["VSCATTER"])
    s = occam.meta["sentinels"]
    assert s["rv"] == int((vh == 999999).sum()) > 0
    assert s["feh"] == int((fe == -9999.99).sum()) > 0
    assert s["cg_prob"] == int((cg == -9999.99).sum()) > 0
    assert s["vscatter"] == int((vs < 0).sum())
    assert np.isnan(occam["rv"].value[vh == 999999]).all()
    assert np.array_equal(np.isfinite(occam["feh"].value), fe != -9999.99)
    assert np.array_equal(occam["feh_ok"], np.isfinite(occam["feh"].value))
    assert np.allclose(occam["rv"].value[vh != 999999], vh[vh != 999999])
    # e_rv = hypot(VSCATTER, floor): an upper bound of the error of the mean, never 0
    ok = vs >= 0
    assert np.allclose(occam["e_rv"].to_value(KMS)[ok], np.hypot(vs[ok], E_RV_FLOOR.value))
    assert np.all(occam["e_rv"][ok] >= E_RV_FLOOR)
    assert "VSCATTER" in occam["e_rv"].info.description
    assert np.isnan(occam["teff"].value).all() and np.isnan(occam["logg"].value).all()
    assert occam["coord"].obstime.jyear == pytest.approx(2000.0)
    assert occam.meta["epoch"] == "J2000.0"
    t = read_occam(e_rv_floor=0.3 * KMS)
    assert np.allclose(t["e_rv"].to_value(KMS)[ok], np.hypot(vs[ok], 0.3))


def test_occam_positions_from_the_designation_agree_with_glon_glat(occam, occam_raw):
    gal = SkyCoord(l=np.asarray(occam_raw["GLON"]) * u.deg,
                   b=np.asarray(occam_raw["GLAT"]) * u.deg, frame="galactic")
    sep = occam["coord"].separation(gal).arcsec
    assert np.median(sep) < 0.5    # same stars; the designation is the precise one
    ra, dec = designation_coord(["2M08511805+1126290", "2M05353015-0118299"])
    assert ra[0].to_value(u.deg) == pytest.approx(15 * (8 + 51 / 60 + 18.055 / 3600))
    assert dec[0].to_value(u.deg) == pytest.approx(11 + 26 / 60 + 29.05 / 3600)
    assert dec[1].to_value(u.deg) == pytest.approx(-(1 + 18 / 60 + 29.95 / 3600))
    with pytest.raises(InputDataError, match="2MASS designation"):
        designation_coord(["2M0851180+1126290x"])
    # which is closer to the Gaia positions of the members (moved to J2000)?
    m = read_cg_members(data_path(OCCAM_MEMBERS_FILE))
    dt = (2000.0 - 2015.5) * u.yr
    c = m["coord"]
    gaia = SkyCoord(ra=c.ra + c.pm_ra_cosdec * dt / np.cos(c.dec), dec=c.dec + c.pm_dec * dt)
    seps = {}
    for name, pos in (("designation", occam["coord"]), ("glon/glat", gal)):
        _, s, _ = SkyCoord(ra=pos.icrs.ra, dec=pos.icrs.dec).match_to_catalog_sky(gaia)
        seps[name] = np.median(s.arcsec[s.arcsec < 1])
    assert seps["designation"] < 0.15 < seps["glon/glat"], seps


def test_apogee_stars_match_the_embedded_cg2018_members(occam):
    """Real positional cross-match (epoch propagation) of the OCCAM stars; PMemb == CG_PROB."""
    members = read_cg_members(data_path(OCCAM_MEMBERS_FILE))
    log = StageLog()
    with pytest.warns(DroppedRowsWarning, match="repeated observations"):
        stars = deduplicate_stars(occam, key="survey_id", stage_log=log)  # star in 2 fields
    assert len(stars) == len(np.unique(occam["survey_id"]))
    res = match_stars(stars, select_members(members, stage_log=log),
                      gaia_sources=members["source_id", "coord"],
                      radius=SURVEYS["apogee"].match_radius, epoch=occam.meta["epoch"],
                      stage_log=log)
    assert "propagated to 2000.00" in log["sky match"]["note"]
    # OCCAM's CG_PROB of (star, cluster) against the matched member's CG2018 PMemb
    occ = {(i, name_key(c)): p for i, c, p in zip(occam["survey_id"], occam["Cluster"],
                                                  occam["cg_prob"]) if np.isfinite(p)}
    got = np.array([occ.get((i, name_key(c)), np.nan)
                    for i, c in zip(res["survey_id"], res["Cluster"])])
    has = np.isfinite(got)
    equal = np.isclose(got[has], np.asarray(res["proba"])[has], rtol=0, atol=1e-9)
    # every OCCAM star with CG_PROB >= 0.7 is matched to a member of its cluster
    wanted = {k for k, p in occ.items() if p >= 0.7}
    matched = set(zip(res["survey_id"], (name_key(c) for c in res["Cluster"])))
    assert len(wanted) > 1000 and wanted <= matched
    assert equal.mean() >= 0.99, (int(equal.sum()), int(has.sum()))
    print(f"OCCAM pairs with CG_PROB >= 0.7: {len(wanted)}, matched {len(wanted & matched)}; "
          f"matched stars {len(res)}, with an OCCAM CG_PROB {int(has.sum())}, "
          f"PMemb == CG_PROB {int(equal.sum())}")


# --- Gaia DR3 RVS (recorded real archive responses) ----------------------------------------------
def test_gaia_rvs_recorded_responses():
    t = read_gaia_rvs(RECORDED / "gaia_dr3_sources.vot")
    raw = Table.read(RECORDED / "gaia_dr3_sources.vot")
    assert np.array_equal(t["dr3_source_id"], raw["SOURCE_ID"])
    assert "source_id" not in t.colnames     # DR3 ids are not DR2 ids
    assert np.allclose(t["rv"].to_value(KMS), np.asarray(raw["radial_velocity"], float))
    assert np.allclose(t["e_rv"].to_value(KMS), np.asarray(raw["radial_velocity_error"], float))
    assert np.allclose(t["snr"], np.asarray(raw["rv_expected_sig_to_noise"], float))
    assert t["coord"].obstime.jyear == pytest.approx(2016.0)
    assert set(t["survey"]) == {"Gaia-RVS"} and t.meta["data_release"] == "DR3"
    one = read_gaia_rvs(RECORDED / "gaia_dr3_one_source.vot")
    assert one["rv"][0].to_value(KMS) == pytest.approx(-43.568, abs=1e-3)
    # a cone without RVS velocities: every rv NaN and counted, no GSP-Spec -> NaN [Fe/H]
    cone = read_gaia_rvs(RECORDED / "gaia_dr3_cone.ecsv")
    raw = Table.read(RECORDED / "gaia_dr3_cone.ecsv")
    n_null = int((~np.isfinite(np.ma.filled(np.ma.asarray(raw["radial_velocity"], float),
                                            np.nan))).sum())
    assert cone.meta["sentinels"].get("rv", 0) == n_null == len(cone)
    assert np.isnan(cone["feh"].value).all()


def test_gaia_rvs_gspspec_feh_is_mh_plus_fem():
    raw = Table.read(RECORDED / "gaia_dr3_sources.vot")
    # the archive's astrophysical_parameters columns, as a user's join adds them
    raw["mh_gspspec"], raw["fem_gspspec"] = [0.10, -0.20], [0.05, 0.02]
    raw["mh_gspspec_lower"], raw["mh_gspspec_upper"] = [0.0, -0.3], [0.2, -0.1]
    t = get_survey("gaia_rvs").adapter(raw)
    assert np.allclose(t["feh"].value, [0.15, -0.18])
    assert np.isnan(t["e_feh"].value).all()      # no fem_gspspec percentiles: no error


# --- APOGEE allStar and GALAH: column layouts only (no real sample stored) -------------------
def _allstar_layout(occam_raw, n=40):
    rows = occam_raw[(occam_raw["FE_H"] > -9000) & (occam_raw["VHELIO_AVG"] < 9e5)][:n]
    t = Table()
    t["APOGEE_ID"] = rows["APOGEE_ID"]
    ra, dec = designation_coord(rows["APOGEE_ID"])
    t["RA"], t["DEC"] = ra.value, dec.value
    t["VHELIO_AVG"], t["VSCATTER"] = rows["VHELIO_AVG"], rows["VSCATTER"]
    t["VERR"] = np.full(n, 0.05)
    t["TEFF"], t["TEFF_ERR"] = np.full(n, 4800.0), np.full(n, 80.0)
    t["LOGG"], t["LOGG_ERR"] = np.full(n, 2.5), np.full(n, 0.05)
    t["FE_H"], t["FE_H_ERR"] = rows["FE_H"], rows["FE_H_ERR"]
    t["SNR"] = np.full(n, 150.0)
    t["ASPCAPFLAG"] = np.zeros(n, np.int64)
    t["GAIAEDR3_SOURCE_ID"] = np.arange(n, dtype=np.int64) + 10 ** 18
    return t


def test_apogee_allstar_layout_flags(occam_raw):
    t = _allstar_layout(occam_raw)
    t["ASPCAPFLAG"][[0, 5]] = 1 << 23          # STAR_BAD
    t["TEFF"][2] = -9999.0                      # sentinel
    t["VHELIO_AVG"][3] = 999999.0
    t["GAIAEDR3_SOURCE_ID"][4] = -1             # no Gaia match
    s = apogee_allstar(t)
    assert s.meta["data_release"] == "DR17" and "dr3_source_id" in s.colnames
    assert np.ma.getmaskarray(s["dr3_source_id"]).sum() == 1
    assert s.meta["sentinels"]["teff"] == 1 and s.meta["sentinels"]["rv"] == 1
    assert s.meta["flagged"]["ASPCAPFLAG STAR_BAD: feh"] == 2
    assert np.isnan(s["feh"].value[[0, 5]]).all() and np.isfinite(s["rv"].value[[0, 5]]).all()
    assert np.allclose(s["e_rv"].to_value(KMS), 0.05)   # VERR: the error of the mean
    t.rename_column("GAIAEDR3_SOURCE_ID", "GAIA_SOURCE_ID")
    assert "source_id" in apogee_allstar(t).colnames    # DR16: Gaia DR2 ids
    with pytest.raises(MissingColumnError, match="VERR"):
        apogee_allstar(t[[c for c in t.colnames if c != "VERR"]])


def test_galah_layout_flags():
    n = 6
    base = dict(sobject_id=np.arange(n) + 131216001101000, teff=np.full(n, 5800.0),
                e_teff=np.full(n, 90.0), logg=np.full(n, 4.3), e_logg=np.full(n, 0.1),
                fe_h=np.linspace(-0.2, 0.1, n), e_fe_h=np.full(n, 0.05),
                flag_sp=[0, 0, 1, 0, 0, 0], flag_fe_h=[0, 0, 0, 4, 0, 0])
    dr3 = Table(dict(base, dr2_source_id=np.arange(n) + 10 ** 17,
                     dr3_source_id=np.arange(n) + 10 ** 17, ra_dr2=np.linspace(10, 11, n),
                     dec_dr2=np.full(n, -30.0), rv_galah=np.linspace(-5, 5, n),
                     e_rv_galah=np.full(n, 0.3), snr_c3_iraf=np.full(n, 40.0)))
    t = galah(dr3)
    assert t.meta["data_release"] == "DR3" and t["coord"].obstime.jyear == pytest.approx(2015.5)
    assert "source_id" in t.colnames and "dr3_source_id" in t.colnames
    assert np.isnan(t["rv"].value[2]) and np.isnan(t["teff"].value[2])   # flag_sp != 0
    assert np.isnan(t["feh"].value[3]) and np.isfinite(t["rv"].value[3])  # flag_fe_h != 0
    assert t.meta["flagged"]["flag_sp != 0: rv"] == 1
    assert t.meta["flagged"]["flag_fe_h != 0: feh"] == 1
    dr4 = Table(dict(base, gaiadr3_source_id=np.arange(n) + 10 ** 17,
                     ra=np.linspace(10, 11, n), dec=np.full(n, -30.0),
                     rv_comp_1=np.linspace(-5, 5, n), e_rv_comp_1=np.full(n, 0.3),
                     snr_px_ccd3=np.full(n, 40.0)))
    t4 = galah(dr4)
    assert t4.meta["data_release"] == "DR4" and "source_id" not in t4.colnames
    assert np.allclose(t4["snr"], 40.0)


# --- streaming: FITS / CSV / Parquet chunks give the rows of the whole read ----------------------
def _write(table, path):
    fmt = {".fits": "fits", ".csv": "ascii.csv", ".parquet": "parquet"}[path.suffix]
    table.write(path, format=fmt, overwrite=True)
    return path


@pytest.mark.parametrize("suffix", [".fits", ".csv", ".parquet"])
@pytest.mark.parametrize("name", ["lamost_mrs", "apogee"])
def test_streamed_chunks_equal_the_whole_read(name, suffix, tmp_path, mrs_raw, occam_raw):
    raw = (mrs_raw if name == "lamost_mrs" else occam_raw).copy()
    if suffix == ".parquet":
        pytest.importorskip("pyarrow")
    if suffix == ".csv":
        for c in raw.colnames:
            raw[c].unit = None                  # survey CSV files carry no units
    path = _write(raw, tmp_path / f"{name}{suffix}")
    chunk_rows = 97 if name == "lamost_mrs" else 1500
    chunks = list(iter_chunks(path, chunk_rows=chunk_rows))
    assert [len(c) for c in chunks][:-1] == [chunk_rows] * (len(chunks) - 1)
    assert sum(map(len, chunks)) == len(raw)
    streamed = vstack(list(iter_survey(name, path, chunk_rows=chunk_rows)),
                      metadata_conflicts="silent")
    whole = read_survey(name)
    assert len(streamed) == len(whole)
    for col in ("rv", "e_rv", "feh", "e_feh"):
        assert _nan_equal(streamed[col].to_value(whole[col].unit), whole[col].value), col
    assert np.allclose(streamed["coord"].ra.deg, whole["coord"].ra.deg, rtol=0, atol=1e-9)
    key = "source_id" if name == "lamost_mrs" else "survey_id"
    assert np.array_equal(np.asarray(streamed[key]), np.asarray(whole[key]))


def test_streamed_member_join_by_position_equals_whole(tmp_path, occam_raw, occam):
    """APOGEE rows have no Gaia id: the per-chunk join keeps the rows near members."""
    members = select_members(read_cg_members(data_path(OCCAM_MEMBERS_FILE)))
    path = _write(occam_raw, tmp_path / "occam.fits")
    log = StageLog()
    kept = read_survey_members("apogee", path, members, near=1.5 * u.arcsec, chunk_rows=1000,
                               stage_log=log)
    # the same rows, from the whole table
    _, sep, _ = SkyCoord(ra=occam["coord"].ra, dec=occam["coord"].dec).match_to_catalog_sky(
        SkyCoord(ra=members["coord"].ra, dec=members["coord"].dec))
    expected = sep < 1.5 * u.arcsec + 5 * u.arcsec
    assert np.array_equal(np.asarray(kept["survey_id"]), np.asarray(occam["survey_id"])[expected])
    rec = log["survey file rows"]
    assert rec["n_in"] == len(occam_raw) and rec["n_out"] == int(expected.sum())
    assert sum(rec["dropped"].values()) == rec["n_in"] - rec["n_out"]
    assert kept.meta["sentinels"] == occam.meta["sentinels"]   # summed over the chunks


@pytest.mark.parametrize("suffix", [".parquet", ".csv"])
def test_streamed_member_join_by_gaia_id(tmp_path, mrs_raw, suffix):
    if suffix == ".parquet":
        pytest.importorskip("pyarrow")
    members = select_members(read_cg_members())
    raw = mrs_raw.copy()
    for c in raw.colnames:
        raw[c].unit = None
    path = _write(raw, tmp_path / f"mrs{suffix}")
    log = StageLog()
    kept = read_survey_members("lamost_mrs", path, members, chunk_rows=50, stage_log=log)
    expected = np.isin(np.asarray(mrs_raw["dr2_source_id"]), np.asarray(members["source_id"]))
    assert np.array_equal(np.asarray(kept["source_id"]),
                          np.asarray(mrs_raw["dr2_source_id"])[expected])
    assert kept.meta["sentinels"]["e_rv"] == read_lamost_mrs().meta["sentinels"]["e_rv"]
    assert log["survey file rows"]["n_in"] == len(mrs_raw)


def test_parquet_without_pyarrow_names_the_extra(tmp_path, mrs_raw):
    pytest.importorskip("pyarrow")
    path = _write(mrs_raw[:5], tmp_path / "x.parquet")
    code = ("import sys\n"
            "sys.modules['pyarrow'] = None\n"
            "from astro_ocl.sources.surveys import iter_chunks\n"
            "from astro_ocl.exceptions import OptionalDependencyError\n"
            "try:\n"
            f"    list(iter_chunks({str(path)!r}))\n"
            "except OptionalDependencyError as e:\n"
            "    print(e)\n")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         cwd=ROOT, timeout=120)
    assert out.returncode == 0, out.stderr
    assert "astro_ocl[parquet]" in out.stdout and "pyarrow" in out.stdout


def test_unsupported_stream_format(tmp_path):
    p = tmp_path / "stars.vot"
    p.write_text("<VOTABLE/>")
    with pytest.raises(InputDataError, match="FITS, CSV and Parquet"):
        list(iter_chunks(p))


def test_stack_surveys_keeps_epochs_and_aligns_columns():
    from astro_ocl.sources.surveys import stack_surveys
    parts = [read_survey("lamost_mrs"), read_survey("apogee")]
    t = stack_surveys(parts)
    assert len(t) == sum(map(len, parts))
    is_apogee = np.asarray(t["survey"]) == "APOGEE"
    assert is_apogee.sum() == len(parts[1])
    assert np.all(t["epoch"][is_apogee] == 2000.0) and np.isnan(t["epoch"][~is_apogee]).all()
    assert t["coord"].obstime is None
    assert np.allclose(t["coord"].ra.deg[is_apogee], parts[1]["coord"].ra.deg)
    assert np.ma.getmaskarray(t["source_id"])[is_apogee].all()      # no Gaia id in OCCAM
    assert not np.ma.getmaskarray(t["source_id"])[~is_apogee].any()
    assert np.ma.getmaskarray(t["feh_ok"])[~is_apogee].all()        # not a LAMOST notion
    assert _nan_equal(t["rv"][~is_apogee], parts[0]["rv"])
    assert set(t.meta["surveys"]) == {"LAMOST-MRS", "APOGEE"}
    with pytest.raises(InputDataError):
        stack_surveys([])


def test_flag12_for_survey_validated_feh(occam):
    """OCCAM has no Teff/log g: its own [Fe/H] validation (feh_ok) replaces the cuts."""
    from astro_ocl.steps.quality import parameter_flag
    args = (occam["teff"], occam["logg"], occam["feh"], occam["e_feh"])
    assert not parameter_flag(*args).any()                 # the cuts alone: no star
    ok = parameter_flag(*args, survey_ok=occam["feh_ok"])
    assert np.array_equal(ok, np.asarray(occam["feh_ok"]))
    lrs = read_lamost()                                   # stars with Teff/log g: the cuts
    lrs_args = (lrs["teff"], lrs["logg"], lrs["feh"], lrs["e_feh"])
    assert np.array_equal(parameter_flag(*lrs_args),
                          parameter_flag(*lrs_args, survey_ok=np.ones(len(lrs), bool)))


def test_apogee_build_gives_rv_and_feh(occam):
    import astro_ocl
    with pytest.warns(DroppedRowsWarning):
        stars = deduplicate_stars(occam, key="survey_id")
    members = read_cg_members(data_path(OCCAM_MEMBERS_FILE))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DroppedRowsWarning)   # counted in the stage log
        res = astro_ocl.build_catalogue(
            stars=stars, members=members, gaia_sources=members["source_id", "coord"],
            epoch=occam.meta["epoch"], match_radius=SURVEYS["apogee"].match_radius,
            n_realisations=100, seed=1, orbits=False, literature=False)
    m, c = res.members, res.clusters
    flag1 = np.asarray(m["Flag"]) >= 1
    assert len(c) == len(np.unique(np.asarray(m["Cluster"])[flag1]))
    # a cluster has an [Fe/H] exactly when one of its FLAG=12 stars exists
    with_feh = set(np.asarray(m["Cluster"])[np.asarray(m["Flag"]) == 12])
    assert with_feh == set(np.asarray(c["Cluster"])[np.asarray(c["NFeH"]) > 0])
    assert len(with_feh) > 0.9 * len(c)


def test_text_values_and_bad_input_are_named(occam_raw):
    t = _allstar_layout(occam_raw, n=5)
    for c in ("TEFF", "VERR"):
        t[c] = np.array([str(v) for v in t[c]], dtype=object)
    t["TEFF"][1] = "null"                     # a CSV's empty value
    s = apogee_allstar(t)
    assert np.isnan(s["teff"].value[1]) and np.isfinite(s["teff"].value[[0, 2]]).all()
    t["TEFF"][2] = "hot"
    with pytest.raises(InputDataError, match="non-numeric") as exc:
        apogee_allstar(t)
    assert exc.value.row == 2 and exc.value.column == "TEFF"
    t = _allstar_layout(occam_raw, n=5)
    t["VERR"][3] = -0.5                       # a negative error, not a sentinel
    with pytest.raises(InputDataError, match="negative uncertainty"):
        apogee_allstar(t)
