"""The TAP client against a server that misbehaves on purpose (loopback, bounded in time).

Each fault gives either a retry that succeeds or a clear error; nothing partial is
returned or cached.
"""
import time

import astropy.units as u
import pytest

from astro_ocl.exceptions import (QueryTimeoutError, RowLimitError, RowLimitWarning,
                                  ServiceError)

from .conftest import fault_client as client

Q = "SELECT source_id, ra, dec, feh FROM t"


def cache_empty(tmp_path):
    return not (tmp_path / "cache").exists() or not any((tmp_path / "cache").iterdir())


def test_ok_result_is_qtable_with_units_and_coord(fault_server, tmp_path):
    fault_server.script = [("ok", 4)]
    t = client(fault_server, tmp_path).query(Q, maxrec=100)
    assert len(t) == 4
    assert t["ra"].unit == u.deg
    assert t["feh"].unit == u.dex           # "[-]" mapped through units.UNIT_MAP
    assert t["coord"][0].ra.deg == pytest.approx(10.0)
    assert t.meta["provenance"]["rows"] == 4


def test_http_500_then_ok(fault_server, tmp_path):
    fault_server.script = [("500",), ("ok", 3)]
    t = client(fault_server, tmp_path).query(Q, maxrec=100)
    assert len(t) == 3
    assert len(fault_server.queries()) == 2


def test_http_500_always_is_clear_error(fault_server, tmp_path):
    fault_server.script = [("500",)] * 3
    with pytest.raises(ServiceError) as exc:
        client(fault_server, tmp_path).query(Q, maxrec=100)
    assert fault_server.url in str(exc.value) and Q in str(exc.value)
    assert "500" in str(exc.value)
    assert len(fault_server.queries()) == 3
    assert cache_empty(tmp_path)


def test_429_honours_retry_after(fault_server, tmp_path):
    fault_server.script = [("429", 1), ("ok", 2)]
    t0 = time.monotonic()
    t = client(fault_server, tmp_path).query(Q, maxrec=100)
    assert len(t) == 2
    assert time.monotonic() - t0 >= 0.9


def test_hang_past_timeout_then_ok(fault_server, tmp_path):
    fault_server.script = [("hang", 3.0), ("ok", 5)]
    t0 = time.monotonic()
    t = client(fault_server, tmp_path, timeout=0.5).query(Q, maxrec=100)
    assert len(t) == 5
    assert time.monotonic() - t0 < 3.0


def test_hang_always_is_timeout_error(fault_server, tmp_path):
    fault_server.script = [("hang", 2.0)] * 2
    with pytest.raises(QueryTimeoutError) as exc:
        client(fault_server, tmp_path, timeout=0.3, retries=1).query(Q, maxrec=100)
    assert isinstance(exc.value, TimeoutError)
    assert exc.value.url == fault_server.url and exc.value.query == Q
    assert cache_empty(tmp_path)


def test_truncated_votable_then_ok(fault_server, tmp_path):
    fault_server.script = [("truncated",), ("ok", 3)]
    assert len(client(fault_server, tmp_path).query(Q, maxrec=100)) == 3


def test_truncated_votable_always_is_error_and_not_cached(fault_server, tmp_path):
    fault_server.script = [("truncated",)] * 3
    with pytest.raises(ServiceError, match="truncated or invalid VOTable"):
        client(fault_server, tmp_path).query(Q, maxrec=100)
    assert cache_empty(tmp_path)


def test_result_at_row_limit_raises(fault_server, tmp_path):
    fault_server.script = [("limit",)]
    with pytest.raises(RowLimitError, match="maxrec=7"):
        client(fault_server, tmp_path).query(Q, maxrec=7)
    assert cache_empty(tmp_path)


def test_result_at_row_limit_warns_when_capped(fault_server, tmp_path):
    fault_server.script = [("limit",)]
    with pytest.warns(RowLimitWarning):
        t = client(fault_server, tmp_path).query(Q, maxrec=7, capped=True)
    assert len(t) == 7


def test_bad_adql_is_not_retried(fault_server, tmp_path):
    fault_server.script = [("bad_adql",)]
    with pytest.raises(ServiceError, match="Could not parse your query"):
        client(fault_server, tmp_path).query(Q, maxrec=100)
    assert len(fault_server.queries()) == 1


def test_async_ok(fault_server, tmp_path):
    fault_server.script = [("ok", 6)]
    t = client(fault_server, tmp_path).query(Q, mode="async", maxrec=100)
    assert len(t) == 6
    assert any(r[0] in ("DELETE", "POST") and r[1] == "/tap/async/job1"
               for r in fault_server.requests)  # the job was deleted


def test_async_job_error(fault_server, tmp_path):
    fault_server.script = [("async_error", "table gaiadr9.x does not exist")]
    with pytest.raises(ServiceError, match="gaiadr9.x does not exist") as exc:
        client(fault_server, tmp_path).query(Q, mode="async", maxrec=100)
    assert "ERROR" in str(exc.value)
    assert cache_empty(tmp_path)


def test_async_result_500_then_ok(fault_server, tmp_path):
    fault_server.script = [("500",), ("ok", 2)]
    assert len(client(fault_server, tmp_path).query(Q, mode="async", maxrec=100)) == 2


def test_cache_hit_makes_no_request(fault_server, tmp_path):
    fault_server.script = [("ok", 3)]
    c = client(fault_server, tmp_path)
    fresh = c.query(Q, maxrec=100)
    n = len(fault_server.requests)
    cached = c.query(Q, maxrec=100)
    assert len(fault_server.requests) == n
    assert fresh.meta == cached.meta
    for name in fresh.colnames:
        assert (fresh[name] == cached[name]).all()


def test_a_cache_that_cannot_be_written_loses_no_result(fault_server, tmp_path):
    """A file where the cache folder should be: the answer is returned with a warning that
    names the folder, not lost after the wait."""
    from astro_ocl.exceptions import AstroOCLWarning
    from astro_ocl.sources.archives.cache import QueryCache
    from astro_ocl.sources.archives.tap import TAPClient
    blocker = tmp_path / "cache"
    blocker.write_text("a user's file")
    fault_server.script = [("ok", 3)]
    c = TAPClient(fault_server.url, cache=QueryCache(blocker), timeout=2.0, retries=2,
                  backoff=0.05, max_wait=2.0)
    with pytest.warns(AstroOCLWarning, match=f"not cached in {blocker}"):
        t = c.query(Q, maxrec=100)
    assert len(t) == 3 and t.meta["provenance"]["rows"] == 3
    assert blocker.read_text() == "a user's file"
