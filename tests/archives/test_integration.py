"""Integration tests against the local GAVO DaCHS TAP server (tools/tap-server.sh).

The same code path as the online build: conf points the Gaia archive and VizieR at
the local server, whose tables are the embedded sample under the real services'
layouts (tools/dachs/*/q.rd).
"""
import warnings

import astropy.units as u
import numpy as np
import pytest
from astropy.coordinates import SkyCoord
from astropy.table import Table

from astro_ocl import conf
from astro_ocl.sources.archives import gaia, vizier
from astro_ocl.sources.archives.adql import in_list, quote_table
from astro_ocl.sources.archives.cache import QueryCache
from astro_ocl.sources.archives.online import fetch_inputs
from astro_ocl.sources.archives.tap import TAPClient
from astro_ocl.sources import read_cg2020_clusters, read_cg_members, read_lamost
from astro_ocl.exceptions import (DroppedRowsWarning, RowLimitError, RowLimitWarning,
                                  ServiceError)
from astro_ocl.pipeline import build_catalogue

pytestmark = pytest.mark.integration


@pytest.fixture
def tap(local_services, tmp_path):
    return TAPClient(local_services, cache=QueryCache(tmp_path / "c"), timeout=30)


def test_sync(tap):
    t = tap.query(f"SELECT TOP 10 source_id, ra, dec, pmra FROM {quote_table(conf.gaia_dr2_table)}"
                  " ORDER BY source_id", maxrec=100, mode="sync")
    assert len(t) == 10
    assert t["pmra"].unit == u.mas / u.yr
    assert isinstance(t["coord"], SkyCoord)
    assert np.all(np.diff(np.asarray(t["source_id"])) > 0)


def test_async_whole_table(tap):
    t = tap.query(f"SELECT * FROM {quote_table(conf.cg2020_clusters_table)}", mode="async")
    assert len(t) == 2017
    assert t["DistPc"].unit == u.pc


def test_upload_join_by_source_id(local_services):
    members = read_cg_members()
    ids = np.asarray(members["source_id"][:500])
    res = gaia.sources_by_id(np.concatenate([ids, [1, 2, 3]]))  # three unknown ids
    assert len(res) == len(np.unique(ids))
    assert set(np.asarray(res["source_id"])) == set(ids)
    row = res[np.asarray(res["source_id"]) == ids[0]][0]
    assert float(row["ra"].to_value(u.deg)) == pytest.approx(members["coord"][0].ra.deg, abs=1e-9)


def test_upload_join_large_async(local_services):
    ids = np.asarray(read_cg_members()["source_id"])
    res = gaia.sources_by_id(ids, chunk_size=5000)  # 3 asynchronous upload jobs
    assert len(res) == len(np.unique(ids))


def test_cone(local_services):
    m67 = SkyCoord(132.846 * u.deg, 11.814 * u.deg)
    res = gaia.cone_search(m67, 0.2 * u.deg)
    assert len(res) > 100
    assert res["dist"].max() <= 0.2 * u.deg
    assert np.all(np.diff(res["dist"].value) >= 0)
    sep = res["coord"].separation(m67)
    assert np.allclose(sep.deg, res["dist"].to_value(u.deg), atol=1e-6)


def test_row_limit_guard(local_services):
    m67 = SkyCoord(132.846 * u.deg, 11.814 * u.deg)
    with pytest.raises(RowLimitError, match="maxrec=50"):
        gaia.cone_search(m67, 1 * u.deg, maxrec=50)
    with pytest.warns(RowLimitWarning):
        res = gaia.cone_search(m67, 1 * u.deg, maxrec=50, capped=True)
    assert len(res) <= 51


def test_server_side_adql_error(tap):
    for mode in ("sync", "async"):
        with pytest.raises(ServiceError) as exc:
            tap.query("SELECT no_such_column FROM gaiadr2.gaia_source", maxrec=10, mode=mode)
        text = str(exc.value)
        assert "no_such_column" in text and tap.url in text
        assert exc.value.server_message
    assert not (tap.cache.directory.exists() and any(tap.cache.directory.iterdir()))


@pytest.mark.parametrize("evil", ["NGC_2682' OR '1'='1", "NGC_2682'; DROP TABLE x; --",
                                  "NGC_2682 --", "IC_4665') OR ('a'='a"])
def test_injection_does_not_change_query(local_services, evil):
    res = vizier.query_table(conf.cg2020_members_table,
                             where=in_list("Cluster", ["NGC_2632", evil]))
    assert set(np.asarray(res["Cluster"]).astype(str)) == {"NGC_2632"}


def test_cache_identical_and_provenance(tap):
    q = f"SELECT * FROM {quote_table(conf.lamost_table)} ORDER BY obsid"
    fresh = tap.query(q)
    entries = tap.cache.entries()
    assert len(entries) == 1
    prov = entries[0]
    assert prov["service"] == tap.url and prov["query"] == q and prov["rows"] == 691
    assert prov["version"] and prov["time_utc"].endswith("+00:00")
    cached = tap.query(q)
    assert fresh.colnames == cached.colnames
    assert fresh.meta == cached.meta
    for name in fresh.colnames:
        if name == "coord":
            assert np.all(fresh[name].ra == cached[name].ra)
            continue
        assert getattr(fresh[name], "unit", None) == getattr(cached[name], "unit", None)
        assert np.array_equal(np.asarray(fresh[name]), np.asarray(cached[name]),
                              equal_nan=fresh[name].dtype.kind == "f")
    # an upload with other content is another key
    ids = Table({"source_id": np.array([1, 2], np.int64)})
    ids2 = Table({"source_id": np.array([1, 3], np.int64)})
    assert QueryCache.key(tap.url, q, uploads={"u": ids}) != \
        QueryCache.key(tap.url, q, uploads={"u": ids2})


def test_online_tables_equal_offline(local_services):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DroppedRowsWarning)
        got = fetch_inputs(clusters=["NGC 2682", "IC_4665"])
    cg_off = read_cg2020_clusters()
    cg_on = got["cluster_params"]
    assert len(cg_on) == len(cg_off)
    order_on = np.argsort(np.asarray(cg_on["Cluster"]))
    order_off = np.argsort(np.asarray(cg_off["Cluster"]))
    cg_on, cg_off = cg_on[order_on], cg_off[order_off]
    assert list(cg_on["Cluster"]) == list(cg_off["Cluster"])
    for name in ("plx", "Dist", "AgeNN", "pmRA", "nbstars07"):
        assert np.array_equal(np.asarray(getattr(cg_on[name], "value", cg_on[name])),
                              np.asarray(getattr(cg_off[name], "value", cg_off[name])),
                              equal_nan=True), name
    assert set(got["members"]["Cluster"]) == {"NGC_2682", "IC_4665"}
    assert np.all(got["members"]["proba"] >= 0.7)
    stars_off = read_lamost()
    keep = np.isin(stars_off["source_id"], got["members"]["source_id"])
    assert np.array_equal(got["stars"]["source_id"], stars_off["source_id"][keep])
    assert np.array_equal(got["stars"]["rv"], stars_off["rv"][keep])


def test_positional_lamost_join(local_services):
    """LAMOST by position (as for VizieR V/164, which has no Gaia id) gives the same stars."""
    members = read_cg_members()
    members = members[np.isin(members["Cluster"], ["NGC_2682"]) & (members["proba"] >= 0.7)]
    raw = vizier.lamost_for_members(members, by="position")
    assert "member_source_id" in raw.colnames
    assert np.all(raw["member_sep"] <= 3.5 * u.arcsec)
    by_id = vizier.lamost_for_members(members)
    assert set(np.asarray(raw["obsid"])) >= set(np.asarray(by_id["obsid"]))


def test_online_build_equals_offline(local_services):
    clusters = ["NGC_2682", "IC_4665", "NGC_752", "NGC 7092", "Stock_2"]
    kw = dict(clusters=clusters, seed=42, n_realisations=300, literature=False,
              orbits=False)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DroppedRowsWarning)
        on = build_catalogue(online=True, **kw)
        off = build_catalogue(surveys=["lamost_lrs"], **kw)  # the LAMOST stars, offline
    assert len(on.clusters) == len(off.clusters) == 5
    for name in off.clusters.colnames:
        if name == "coord":
            continue
        a, b = np.asarray(getattr(off.clusters[name], "value", off.clusters[name])), \
            np.asarray(getattr(on.clusters[name], "value", on.clusters[name]))
        if a.dtype.kind == "f":
            assert np.array_equal(a, b, equal_nan=True), name
        else:
            assert np.array_equal(a, b), name
    assert np.array_equal(on.members["GaiaDR2"], off.members["GaiaDR2"])
    assert np.array_equal(on.members["Flag"], off.members["Flag"])


def test_dr3_rv_query_shape(local_services, monkeypatch):
    """The DR3 RV query is valid ADQL the server parses (it has no DR3 tables: clear error).

    Run as an asynchronous job: DaCHS's synchronous error path with an upload leaves
    its database connection idle in a transaction (seen with pg_stat_activity).
    """
    import astro_ocl.sources.archives.tap as tap
    monkeypatch.setattr(tap, "SYNC_ROW_LIMIT", 0)
    with pytest.raises(ServiceError) as exc:
        gaia.dr3_radial_velocities([1, 2])
    assert "dr2_neighbourhood" in str(exc.value)


def test_read_lamost_roundtrip_units(local_services):
    raw = vizier.query_table(conf.lamost_table)
    stars = read_lamost(table=vizier.plain_table(raw), path="local")
    assert stars["rv"].unit == u.km / u.s
    assert len(stars) == 691
