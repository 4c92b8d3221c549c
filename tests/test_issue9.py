"""Regression tests of the defects of issue 9 (one-way architecture, one schema)."""
from pathlib import Path

import astropy.units as u
import numpy as np
import pytest
from astropy.coordinates import SkyCoord
from astropy.table import MaskedColumn, QTable, Table
from astropy.time import Time

import astro_ocl
from astro_ocl.accounting import StageLog
from astro_ocl.sources import read_cg_members, read_lamost
from astro_ocl.sources.archives.gaia import sources_with_motion
from astro_ocl.sources.surveys import read_lamost_members
from astro_ocl.steps.quality import QualityCuts
from astro_ocl.utils import data_path

FAST = dict(n_realisations=50, seed=1, orbits=False, literature=False)
LRS = ["lamost_lrs"]  # the embedded LAMOST LRS sample alone (no stars= given)
RA0, DE0 = 132.85, 11.81   # near NGC 2682 (a CG2020 cluster: its parameters are known)


def _members(offsets_arcsec, *, pm_dec=0.0):
    """Three members of NGC_2682 at RA0 + offsets (arcsec) with a proper motion in Dec."""
    t = QTable()
    n = len(offsets_arcsec)
    t["Cluster"] = ["NGC_2682"] * n
    t["source_id"] = np.arange(101, 101 + n, dtype=np.int64)
    t["coord"] = SkyCoord(ra=(RA0 + np.asarray(offsets_arcsec) / 3600) * u.deg,
                          dec=np.full(n, DE0) * u.deg, pm_ra_cosdec=np.zeros(n) * u.mas / u.yr,
                          pm_dec=np.full(n, pm_dec) * u.mas / u.yr,
                          obstime=Time(2015.5, format="jyear"))
    t["proba"] = np.ones(n)
    return t


def _lamost_csv(path, ra, dec, *, source_id=None):
    """A LAMOST-like CSV (no units, LAMOST site column names)."""
    n = len(ra)
    t = Table({"ra": ra, "dec": dec, "rv": 30.0 + np.arange(n), "rv_err": np.full(n, 1.0),
               "teff": np.full(n, 5600.0), "logg": np.full(n, 4.2), "feh": np.zeros(n),
               "feh_err": np.full(n, 0.05), "snrg": np.full(n, 50.0)})
    if source_id is not None:
        t["gaia_source_id"] = source_id
    t.write(path, format="ascii.csv")
    return path


# --- defect 1: one spectrum is one star, on every input path -----------------------------
def test_spectrum_near_two_members_is_counted_once(tmp_path):
    # spectrum A is 1" and 2" from two members, spectrum B 0.5" from a third one
    members = _members([0.0, 3.0, 60.0])
    path = _lamost_csv(tmp_path / "l.csv", [RA0 + 1 / 3600, RA0 + 60.5 / 3600], [DE0, DE0])
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
    members = _members([0.0])
    path = _lamost_csv(tmp_path / "l.csv", [RA0, RA0 + 1.0], [DE0, DE0])
    log = StageLog()
    read_lamost_members(path, members, stage_log=log)
    rec = log["survey file rows"]
    assert rec["n_in"] == 2 and rec["n_out"] == 1 and sum(rec["dropped"].values()) == 1


def test_epoch_propagation_applies_to_the_positional_match():
    # members move 1"/yr north; the star was observed at J2000, 15.5" south of J2015.5
    members = _members([0.0], pm_dec=1000.0)
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


# --- defect 2: published flag meanings follow the cuts ------------------------------------
def test_flag_meaning_follows_the_cuts(tmp_path):
    from astropy.io.votable import parse_single_table

    from astro_ocl.sinks.cds_bundle import write_cds_bundle
    cuts = QualityCuts(rv_nsigma=3, teff_min=4500 * u.K)
    res = astro_ocl.build_catalogue(clusters=["NGC_2682"], cuts=cuts, surveys=LRS, **FAST)
    files = write_cds_bundle(res, tmp_path / "cds")
    readme = (tmp_path / "cds" / "ReadMe").read_text()
    flat = " ".join(readme.split())
    assert "beyond 3 sigma" in flat and "4500 K <= Teff <= 7500 K" in flat
    assert "2 sigma" not in flat and "4000 K" not in flat
    assert "50 Monte Carlo realisations" in flat          # not a hard-coded 5000
    members = parse_single_table(str(tmp_path / "cds" / "members.vot"))
    assert "3 sigma" in members.get_field_by_id("Flag").description
    clusters = parse_single_table(str(tmp_path / "cds" / "clusters.vot"))
    assert "3 sigma" in clusters.get_field_by_id("Nflag1").description
    assert "4500 K" in clusters.get_field_by_id("Nflag12").description
    assert res.members["Flag"].info.description.count("3 sigma") == 2
    assert len(files) == 5


# --- defect 3: stage log with added rows ---------------------------------------------------
def test_stage_log_table_counts_added_rows():
    log = StageLog()
    log.stage("sky match", n_in=3, n_out=5, added=3, dropped={"no Gaia source": 1})
    row = log.as_table()[0]
    assert row["n_dropped"] == 1 and row["n_added"] == 3
    assert row["n_in"] - row["n_dropped"] + row["n_added"] == row["n_out"]


# --- defect 4: plain Tables, a missing Gaia id, missing proper motions ---------------------
def test_plain_table_as_stars():
    raw = Table.read(data_path("lamost_lrs_oc_members.ecsv"))
    res = astro_ocl.build_catalogue(stars=raw, clusters=["NGC_2682"], **FAST)
    ref = astro_ocl.build_catalogue(clusters=["NGC_2682"], surveys=LRS, **FAST)
    assert res.clusters["Nall"][0] == ref.clusters["Nall"][0] > 10
    assert res.clusters["RVmed"][0] == ref.clusters["RVmed"][0]


def test_missing_gaia_id_keeps_the_file(tmp_path):
    members = _members([0.0, 60.0])
    path = _lamost_csv(tmp_path / "l.csv", [RA0, RA0 + 60 / 3600], [DE0, DE0],
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


# --- defect 5: online options, provenance, gradient fallback -------------------------------
def test_online_passes_match_radius_and_epoch(monkeypatch):
    import astro_ocl.sources.archives.online as online
    members = _members([0.0], pm_dec=1000.0)
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


def test_provenance_complete_before_it_is_copied():
    res = astro_ocl.build_catalogue(clusters=["NGC_2682"], n_realisations=50, seed=1,
                                    surveys=["lamost_lrs"],
                                    orbit_samples=3, literature=False)
    for key, value in res.provenance.items():
        assert res.clusters.meta[key] == value and res.members.meta[key] == value
    assert res.clusters.meta["orbit_samples"] == 3


# --- defect 6: science defaults are keyword defaults recorded in provenance ----------------
def test_science_defaults_are_not_config():
    import inspect
    sig = inspect.signature(astro_ocl.build_catalogue)
    assert sig.parameters["membership_threshold"].default == 0.7
    assert sig.parameters["n_realisations"].default == 5000
    # the radius is each survey's own unless given (LAMOST: 3.5 arcsec, the fibre is 3.3)
    assert sig.parameters["match_radius"].default is None
    from astro_ocl.sources import SURVEYS
    assert SURVEYS["lamost_lrs"].match_radius == 3.5 * u.arcsec
    for name in ("membership_threshold", "n_realisations", "match_radius_arcsec"):
        assert not hasattr(astro_ocl.conf, name)
    res = astro_ocl.build_catalogue(clusters=["NGC_2682"], seed=1, orbits=False,
                                    surveys=["lamost_lrs"],
                                    literature=False)
    assert res.provenance["membership_threshold"] == 0.7
    assert res.provenance["n_realisations"] == 5000
    assert res.provenance["match_radius"] == "LAMOST-LRS: 3.5 arcsec"


# --- structure: registry and layering ------------------------------------------------------
def test_writers_registered_without_clobbering():
    from astropy.io import registry

    import astro_ocl.sinks as sinks
    assert registry.get_writer("votable.cds", Table).__module__ == "astro_ocl.sinks"
    assert registry.get_writer("votable", Table).__module__.startswith("astropy")
    sinks.register_formats()  # idempotent

    def foreign(table, path):
        pass

    registry.unregister_writer("cds.submission", Table)
    registry.register_writer("cds.submission", Table, foreign)
    try:
        with pytest.raises(registry.IORegistryError, match="does not replace"):
            sinks.register_formats()
    finally:
        registry.unregister_writer("cds.submission", Table)
        sinks.register_formats()


def test_build_catalogue_keeps_its_signature():
    import inspect

    from astro_ocl import pipeline
    assert astro_ocl.build_catalogue is pipeline.build_catalogue
    assert "match_radius" in inspect.signature(astro_ocl.build_catalogue).parameters


def _imports(path):
    """The astro_ocl modules a file imports (relative imports resolved)."""
    import ast
    tree = ast.parse(path.read_text())
    parts = list(path.with_suffix("").relative_to(ROOT.parent).parts)
    package = parts if parts[-1] == "__init__" else parts[:-1]
    package = [p for p in package if p != "__init__"]
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom):
            base = package[:len(package) - node.level + 1] if node.level else []
            mod = ".".join(base + ([node.module] if node.module else []))
            found |= {mod} | {f"{mod}.{a.name}" for a in node.names}
        elif isinstance(node, ast.Import):
            found |= {a.name for a in node.names}
    return {m for m in found if m.startswith("astro_ocl")}


ROOT = Path(astro_ocl.__file__).parent


@pytest.mark.parametrize("layer, forbidden", [
    ("schema", ("astro_ocl.sources", "astro_ocl.steps", "astro_ocl.pipeline", "astro_ocl.sinks",
                "astro_ocl.result")),
    ("sources", ("astro_ocl.steps", "astro_ocl.pipeline", "astro_ocl.sinks", "astro_ocl.result")),
    ("steps", ("astro_ocl.pipeline", "astro_ocl.sinks", "astro_ocl.result",
               "astro_ocl.engines", "astro_ocl.options")),
    ("engines", ("astro_ocl.pipeline", "astro_ocl.sinks", "astro_ocl.result",
                 "astro_ocl.commands", "astro_ocl.cli", "astro_ocl.reproduce")),
    ("sinks", ("astro_ocl.steps", "astro_ocl.pipeline", "astro_ocl.sources",
               "astro_ocl.reproduce")),
])
def test_layers_import_only_downwards(layer, forbidden):
    bad = {str(f.relative_to(ROOT)): sorted(m for m in _imports(f) if m.startswith(forbidden))
           for f in (ROOT / layer).rglob("*.py")}
    assert not {k: v for k, v in bad.items() if v}


def test_no_private_helpers_across_modules():
    import re
    offenders = []
    for f in ROOT.rglob("*.py"):
        for m in re.finditer(r"from \.[\w.]* import \(?([^)\n]*)", f.read_text()):
            names = [n.strip().split(" as ")[0] for n in m.group(1).split(",")]
            offenders += [(f.name, n) for n in names if n.startswith("_") and n != "__version__"]
    assert offenders == []
