"""The survey-scale engine (LSDB/HATS + Dask) gives the in-memory engine's numbers.

The README's test command (``tools/test.sh``, hence CI) installs the extra
``astro_ocl[scale]``; without it these tests are skipped, and fail under CI (``CI``
set), as the other integration tests do without their services.
"""
import os
import signal
import sys
import threading
import time
import warnings
from pathlib import Path

import numpy as np
import pytest

import astro_ocl
from astro_ocl.config import conf
from astro_ocl.exceptions import AstroOCLError, OptionalDependencyError, UnknownClusterError
from helpers import PACKAGE_ROOT, package_imports

# third-party deprecations inside lsdb / nested-pandas / hats-import under pandas 3.1
# (Pandas4Warning: "The inplace keyword in NestedFrame.drop is deprecated")
pytestmark = pytest.mark.filterwarnings("ignore:The inplace keyword")

FAST = dict(seed=11, n_realisations=300, orbit_samples=5, literature=False)
LRS = ["lamost_lrs"]  # one survey: the fast checks


def test_missing_extra_is_named(monkeypatch):
    """Without lsdb the engine says which extra to install (also without the extra)."""
    monkeypatch.setitem(sys.modules, "lsdb", None)  # import lsdb -> ImportError
    with pytest.raises(OptionalDependencyError, match=r"astro_ocl\[scale\]"):
        astro_ocl.build_catalogue(engine="lsdb", surveys=LRS, **FAST)


def test_engine_and_client_are_checked():
    with pytest.raises(AstroOCLError, match="engine"):
        astro_ocl.build_catalogue(engine="spark", surveys=LRS, **FAST)
    with pytest.raises(AstroOCLError, match="client"):
        astro_ocl.build_catalogue(client=object(), surveys=LRS, **FAST)


def test_scale_imports_no_upper_layer():
    """astro_ocl.scale may import sources and steps, never pipeline, sinks or the CLI."""
    forbidden = ("astro_ocl.pipeline", "astro_ocl.sinks", "astro_ocl.cli",
                 "astro_ocl.commands", "astro_ocl.result", "astro_ocl.reproduce")
    bad = {f.name: sorted(m for m in package_imports(f) if m.startswith(forbidden))
           for f in (PACKAGE_ROOT / "scale").rglob("*.py")}
    assert not {k: v for k, v in bad.items() if v}


# ---- with the extra ------------------------------------------------------------------------

@pytest.fixture(scope="module")
def distributed():
    import importlib
    for name in ("lsdb", "hats_import", "distributed"):
        try:
            with warnings.catch_warnings():  # as importorskip: lsdb sets a deprecated
                warnings.simplefilter("ignore")  # pandas option at import
                module = importlib.import_module(name)
        except ImportError as exc:
            if os.environ.get("CI"):
                pytest.fail(f"the scale extra is not installed under CI: {exc}")
            pytest.skip(f"astro_ocl[scale] not installed ({exc})")
    return module


@pytest.fixture(scope="module")
def hats_cache(tmp_path_factory):
    """One HATS cache for the module: each input is imported once."""
    path = tmp_path_factory.mktemp("hats_cache")
    with conf.set_temp("cache_dir", str(path)):
        yield path


@pytest.fixture(scope="module")
def client(distributed, hats_cache):
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                                  dashboard_address="127.0.0.1:0") as cluster:
        with distributed.Client(cluster) as c:
            yield c


@pytest.fixture(scope="module")
def memory_result():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return astro_ocl.build_catalogue(surveys=LRS, **FAST)


def _assert_same(a, b, *, rtol=1e-9):
    """Two results: same clusters table (to ``rtol``), same members, same stage counts."""
    ca, cb = a.clusters, b.clusters
    assert list(ca["Cluster"]) == list(cb["Cluster"])
    assert ca.colnames == cb.colnames
    for name in ca.colnames:
        if name == "coord":
            for attr in ("ra", "dec", "distance", "pm_ra_cosdec", "pm_dec", "radial_velocity"):
                np.testing.assert_allclose(getattr(cb[name], attr).value,
                                           getattr(ca[name], attr).value, rtol=rtol)
            continue
        x = np.asarray(getattr(ca[name], "value", ca[name]))
        y = np.asarray(getattr(cb[name], "value", cb[name]))
        if x.dtype.kind == "f":
            np.testing.assert_allclose(y, x, rtol=rtol, atol=0, equal_nan=True, err_msg=name)
        else:
            np.testing.assert_array_equal(y, x, err_msg=name)
    for name in ("Cluster", "GaiaDR2", "Flag", "RV", "[Fe/H]", "Survey"):
        if name in a.members.colnames:
            np.testing.assert_array_equal(np.asarray(b.members[name]),
                                          np.asarray(a.members[name]))
    strip = [{k: r[k] for k in ("stage", "n_in", "n_out", "dropped", "added")}
             for r in a.stage_log]
    assert [{k: r[k] for k in ("stage", "n_in", "n_out", "dropped", "added")}
            for r in b.stage_log] == strip


def test_lsdb_equals_memory(client, memory_result, hats_cache):
    """The embedded sample imported with hats-import: the same catalogue to 1e-9."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        res = astro_ocl.build_catalogue(engine="lsdb", client=client, surveys=LRS, **FAST)
    _assert_same(memory_result, res)
    assert len(res.clusters) >= 10
    prov = res.provenance
    assert prov["engine"] == "lsdb" and prov["engine_workers"] == 2
    assert memory_result.provenance["engine"] == "memory"
    for name in ("stars", "members"):
        text = prov[f"hats_{name}"]
        assert str(hats_cache) in text and "partitions" in text and "hats" in text
    assert res.clusters.meta["engine"] == "lsdb"
    # imported once: the cache entry is reused (same path, nothing new written)
    entries = sorted(p.name for p in (hats_cache / "hats").iterdir())
    assert len(entries) == 2
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        again = astro_ocl.build_catalogue(engine="lsdb", client=client, surveys=LRS, **FAST)
    assert sorted(p.name for p in (hats_cache / "hats").iterdir()) == entries
    assert again.provenance["hats_stars"] == prov["hats_stars"]


def test_multi_survey_equals_memory(client):
    """The default build (LAMOST LRS and MRS, APOGEE) on lsdb: each survey matched on its
    partitions (APOGEE: one spectrum per APOGEE_ID, 1.5 arcsec against the members'
    Gaia positions), the same zero points, the same combined catalogue."""
    kw = dict(FAST, zero_points="apply", orbits=False)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        a = astro_ocl.build_catalogue(**kw)
        b = astro_ocl.build_catalogue(engine="lsdb", client=client, **kw)
    _assert_same(a, b)
    assert set(a.members["Survey"]) == {"LAMOST-LRS", "LAMOST-MRS", "APOGEE"}
    assert b.stage_log["sky match"]["n_in"] > 9000  # the APOGEE stars, by position
    za, zb = a.zero_points, b.zero_points
    assert len(za) == len(zb) == 6  # RV and [Fe/H] of each survey, APOGEE the reference
    for name in ("survey", "quantity", "N", "Nstars", "applied", "status", "clusters"):
        assert list(zb[name]) == list(za[name])
    for name in ("offset", "e_offset", "e_formal", "e_boot", "chi2r"):
        np.testing.assert_allclose(np.asarray(zb[name], float), np.asarray(za[name], float),
                                   rtol=1e-9, equal_nan=True)
    assert sorted(b.by_survey) == sorted(a.by_survey)
    assert b.provenance["zero_points_applied"] == a.provenance["zero_points_applied"] != "none"
    assert {f"hats_stars_{s}" for s in ("lamost_lrs", "lamost_mrs", "apogee")} \
        <= set(b.provenance)
    assert "hats_gaia_members" in b.provenance


def test_other_workers_and_partitioning(distributed, memory_result, hats_cache, tmp_path,
                                        capfd):
    """One worker and a finer partitioning (an existing HATS catalogue): same numbers."""
    from astro_ocl.scale import hats_input
    from astro_ocl.sources import read_lamost
    from astro_ocl.utils import data_path
    with distributed.LocalCluster(n_workers=1, threads_per_worker=1, processes=True,
                                  dashboard_address="127.0.0.1:0") as cluster, \
            distributed.Client(cluster) as c:
        fine = hats_input(data_path("lamost_lrs_oc_members.ecsv"), name="stars",
                          reader=read_lamost, cache_dir=tmp_path, client=c, partition_rows=60)
        assert fine.catalog.npartitions > 5
        path = fine.provenance["path"]
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            res = astro_ocl.build_catalogue(engine="lsdb", client=c, stars=path,
                                            show_progress=True, **FAST)
    _assert_same(memory_result, res)
    assert res.provenance["engine_workers"] == 1
    assert path in res.provenance["hats_stars"]
    assert f"{fine.catalog.npartitions} partitions" in res.provenance["hats_stars"]
    err = capfd.readouterr().err
    assert "stars LAMOST-LRS (partitions)" in err and "clusters (partitions)" in err


def test_positional_match_equals_memory(client):
    """Stars without a Gaia id matched by position (lsdb cross-match with sky_match)."""
    from astro_ocl.sources import read_cg_members, read_lamost
    stars = read_lamost()
    stars.remove_column("source_id")
    members = read_cg_members()
    gaia = members["source_id", "coord"]
    kw = dict(stars=stars, members=members, gaia_sources=gaia, epoch="J2015.5", **FAST)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        a = astro_ocl.build_catalogue(**kw)
        b = astro_ocl.build_catalogue(engine="lsdb", client=client, **kw)
    _assert_same(a, b)
    assert b.stage_log["sky match"]["n_in"] == len(stars)
    assert "hats_gaia" in b.provenance


def test_gaia_as_an_existing_hats_collection(client, tmp_path):
    """Gaia sources as distributed in HATS: a collection (catalogue and margin) in the Gaia
    archive's columns, read partition by partition by gaia_sources_from_archive_columns;
    the positional match equals the in-memory one with the same sources as a table."""
    import astropy.units as u
    import lsdb
    import pandas as pd

    from astro_ocl.sources import read_cg_members, read_lamost
    stars = read_lamost()
    stars.remove_column("source_id")
    members = read_cg_members()
    g = members["source_id", "coord"]
    c = g["coord"]
    frame = pd.DataFrame({
        "source_id": np.asarray(g["source_id"], np.int64), "ra": c.ra.deg, "dec": c.dec.deg,
        "pmra": c.pm_ra_cosdec.to_value(u.mas / u.yr), "pmdec": c.pm_dec.to_value(u.mas / u.yr),
        "phot_g_mean_mag": np.asarray(members["gmag"].value),
        "ref_epoch": np.full(len(g), c.obstime.jyear)})
    path = tmp_path / "gaia_dr3"
    lsdb.from_dataframe(frame, ra_column="ra", dec_column="dec", catalog_name="gaia",
                        margin_threshold=20.0, partition_rows=2000, highest_order=10).write_catalog(
        path, as_collection=True, progress_bar=False)
    assert (path / "collection.properties").exists()
    kw = dict(stars=stars, members=members, epoch="J2015.5", **FAST)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        a = astro_ocl.build_catalogue(gaia_sources=g, **kw)
        b = astro_ocl.build_catalogue(engine="lsdb", client=client, gaia_sources=str(path),
                                      **kw)
    _assert_same(a, b)
    prov = b.provenance["hats_gaia"]
    assert str(path) in prov and "HATS catalogue" in prov
    assert int(prov.split(" partitions")[0].rsplit(" ", 1)[1]) > 1


def test_dr2_stars_with_dr3_members_are_translated_as_in_memory(client):
    """DR2 stars and DR3 members (the real Tarricq et al. 2022 table): the stars' ids are
    translated to DR3 partition by partition with the choice made once from their own
    dr2/dr3_source_id pairs; the same catalogue, stage log and provenance as in memory."""
    from astro_ocl.exceptions import InputDataError
    from astro_ocl.sources import read_cg_members, read_lamost
    tarricq = Path(__file__).parent / "data" / "tarricq2022_dr3_members.csv.gz"
    members = read_cg_members(tarricq, gaia_release="DR3")
    kw = dict(members=members, surveys=LRS, membership_threshold=0.5, **FAST)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        a = astro_ocl.build_catalogue(**kw)
        b = astro_ocl.build_catalogue(engine="lsdb", client=client, **kw)
    _assert_same(a, b)
    rec = b.stage_log["Gaia DR2 -> DR3 ids"]
    assert rec["n_in"] == 691 and rec["note"] == a.stage_log["Gaia DR2 -> DR3 ids"]["note"]
    for key in ("gaia_id_translation", "members_gaia_release"):
        assert b.provenance[key] == a.provenance[key]
    assert "16 ids changed" in b.provenance["gaia_id_translation"]
    # the member table keeps the stars' DR2 ids, as in memory (checked by _assert_same)
    assert set(np.asarray(b.members["GaiaDR2"]).tolist()) <= \
        set(np.asarray(read_lamost()["source_id"]).tolist())
    # without the stars' own DR3 ids there is nothing to translate with: one clear error
    stars = read_lamost()
    stars.remove_column("dr3_source_id")
    with pytest.raises(InputDataError, match="dr3_source_id"):
        astro_ocl.build_catalogue(engine="lsdb", client=client, stars=stars,
                                  **{k: v for k, v in kw.items() if k != "surveys"})


def _children():
    import psutil
    return [p for p in psutil.Process().children(recursive=True) if p.is_running()
            and p.status() != psutil.STATUS_ZOMBIE]


def test_local_cluster_is_closed(distributed, hats_cache):
    """Without a client the engine starts a LocalCluster and closes it, also on an error."""
    before = {p.pid for p in _children()}
    with pytest.raises(UnknownClusterError):
        astro_ocl.build_catalogue(engine="lsdb", clusters=["No Such Cluster 1"], surveys=LRS,
                                  **FAST)
    deadline = time.time() + 20
    while {p.pid for p in _children()} - before and time.time() < deadline:
        time.sleep(0.5)
    assert not {p.pid for p in _children()} - before


def test_worker_killed_mid_build(distributed, memory_result, hats_cache, tmp_path):
    """A worker killed during the build: it completes with the same numbers (Dask retries
    the lost tasks on the restarted worker) or stops with one ScaleError, writing nothing."""
    from astro_ocl.scale import ScaleError
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                                  dashboard_address="127.0.0.1:0") as cluster, \
            distributed.Client(cluster) as c:
        pids = c.run(os.getpid)
        killed = []

        def killer():
            end = time.time() + 300
            while time.time() < end and not killed:
                busy = [w for w, tasks in c.processing().items() if tasks]
                if busy and busy[0] in pids:
                    os.kill(pids[busy[0]], signal.SIGKILL)
                    killed.append(busy[0])
                time.sleep(0.05)

        thread = threading.Thread(target=killer, daemon=True)
        thread.start()
        out = tmp_path / "catalogue"
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                res = astro_ocl.build_catalogue(engine="lsdb", client=c, surveys=LRS, **FAST)
        except ScaleError as exc:
            print(f"worker {killed[:1]} killed: the build stopped with {exc}")
            assert "nothing" in str(exc)
            assert not out.exists()
        else:
            print(f"worker {killed[:1]} killed: the build completed (tasks retried)")
            res.write(out)
            _assert_same(memory_result, res)
            assert (out / "clusters.ecsv").exists() or any(out.iterdir())
        finally:
            killed.append("stop")
            thread.join(10)
        assert killed[0] != "stop", "no worker was killed during the build"
        assert not [p for p in tmp_path.rglob("*.part")]


def test_cli_engine_lsdb(client, tmp_path, capsys):
    from astropy.table import QTable

    from astro_ocl.cli import main
    out = tmp_path / "cat"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        rc = main(["build", "--engine", "lsdb", "--scheduler", client.scheduler.address,
                   "--surveys", "lamost_lrs", "--out", str(out), "--seed", "11",
                   "--realisations", "300",
                   "--orbit-samples", "5", "--no-literature", "--no-gradients"])
    assert rc == 0
    files = sorted(p.name for p in out.iterdir())
    ecsv = [f for f in files if f.endswith(".ecsv") and "cluster" in f.lower()]
    assert ecsv, files
    t = QTable.read(out / ecsv[0])
    assert t.meta["engine"] == "lsdb" and t.meta["engine_workers"] == 2
    assert client.status == "running"  # the command closed its connection, not the cluster
    # a survey given as a HATS catalogue directory (here the one this build imported)
    hats_dir = next((Path(conf.cache_dir) / "hats").glob("stars-*/stars"))
    out2 = tmp_path / "cat2"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        assert main(["build", "--engine", "lsdb", "--scheduler", client.scheduler.address,
                     "--surveys", f"lamost_lrs={hats_dir}", "--out", str(out2), "--seed", "11",
                     "--realisations", "300", "--orbit-samples", "5", "--no-literature",
                     "--no-gradients"]) == 0
    t2 = QTable.read(out2 / ecsv[0])
    assert list(t2["Cluster"]) == list(t["Cluster"])
    np.testing.assert_allclose(np.asarray(t2["RV"].value), np.asarray(t["RV"].value),
                               rtol=1e-9)
    assert str(hats_dir) in t2.meta["hats_stars"]
    # the in-memory engine reads table files only
    assert main(["build", "--surveys", f"lamost_lrs={hats_dir}",
                 "--out", str(tmp_path / "y")]) != 0
    assert "a directory, not a table file" in capsys.readouterr().err
    assert main(["build", "--scheduler", client.scheduler.address,
                 "--out", str(tmp_path / "x")]) != 0  # --scheduler only with --engine lsdb
    assert "only with --engine lsdb" in capsys.readouterr().err
    assert not (tmp_path / "x").exists()
