"""Truncated cache entries, expiry, ``cache clear``; deadlines.

Against the loopback fault server (no network).
"""
import hashlib
import json
import time

import pytest

from astro_ocl import conf
from astro_ocl.cli import main
from astro_ocl.exceptions import QueryTimeoutError, RowLimitError, RowLimitWarning
from astro_ocl.sources.archives.cache import QueryCache
from astro_ocl.sources.archives.tap import TAPClient

from .conftest import fault_client as client

Q = "SELECT source_id, ra, dec, feh FROM t"


# --- item 2: the cache ------------------------------------------------------------------

def test_capped_result_never_answers_an_uncapped_query(fault_server, tmp_path):
    fault_server.script = [("limit",), ("limit",), ("ok", 5)]
    tap = client(fault_server, tmp_path)
    with pytest.warns(RowLimitWarning):
        assert len(tap.query(Q, maxrec=7, capped=True)) == 7
    (prov,) = tap.cache.entries()
    assert prov["truncated"] is True and prov["maxrec"] == 7 and prov["rows"] == 7
    # the same query uncapped goes to the service again, and still raises
    with pytest.raises(RowLimitError, match="maxrec=7"):
        tap.query(Q, maxrec=7)
    assert len(fault_server.queries()) == 2
    # capped again: answered from the cache, with the warning again
    with pytest.warns(RowLimitWarning, match="cached result"):
        assert len(tap.query(Q, maxrec=7, capped=True)) == 7
    assert len(fault_server.queries()) == 2


def test_complete_result_answers_both(fault_server, tmp_path):
    fault_server.script = [("ok", 3)]
    tap = client(fault_server, tmp_path)
    tap.query(Q, maxrec=7)
    (prov,) = tap.cache.entries()
    assert prov["truncated"] is False
    assert len(tap.query(Q, maxrec=7)) == 3
    assert len(tap.query(Q, maxrec=7, capped=True)) == 3
    assert len(fault_server.queries()) == 1


def test_old_entry_without_truncation_record_at_its_limit_is_truncated(tmp_path):
    cache = QueryCache(tmp_path)
    key = cache.key("http://x/tap", Q, maxrec=4)
    cache.put(key, b"<VOTABLE/>", url="http://x/tap", query=Q, n_rows=4, maxrec=4)
    meta = tmp_path / f"{key}.json"
    prov = json.loads(meta.read_text())
    del prov["truncated"]
    meta.write_text(json.dumps(prov))
    assert cache.get(key) is None
    assert cache.get(key, allow_truncated=True) is not None


def test_entries_expire(fault_server, tmp_path):
    fault_server.script = [("ok", 3), ("ok", 4)]
    tap = client(fault_server, tmp_path)
    tap.query(Q, maxrec=100)
    meta = next((tmp_path / "cache").glob("*.json"))
    prov = json.loads(meta.read_text())
    prov["time_utc"] = "2001-01-01T00:00:00+00:00"
    meta.write_text(json.dumps(prov))
    with conf.set_temp("cache_max_age", 0):  # 0: never expires
        assert len(tap.query(Q, maxrec=100)) == 3
    with conf.set_temp("cache_max_age", 30.0):
        assert len(tap.query(Q, maxrec=100)) == 4  # expired: asked again
    assert len(fault_server.queries()) == 2
    assert json.loads(meta.read_text())["time_utc"] != "2001-01-01T00:00:00+00:00"


def test_cache_clear_removes_only_its_own_files(fault_server, tmp_path, capsys):
    cache_dir = tmp_path / "cache"
    fault_server.script = [("ok", 3), ("ok", 4)]
    tap = client(fault_server, tmp_path)
    tap.query(Q, maxrec=100)
    tap.query(Q + " WHERE 1=1", maxrec=100)
    (cache_dir / "notes.txt").write_text("mine")
    (cache_dir / "other.json").write_text("{}")
    (cache_dir / "sub").mkdir()
    assert main(["cache", "clear", "--dir", str(cache_dir)]) == 0
    assert "removed 2" in capsys.readouterr().out
    assert sorted(p.name for p in cache_dir.iterdir()) == ["notes.txt", "other.json", "sub"]
    # a directory holding only cache files goes away with them
    tap.query(Q, maxrec=100)
    for p in ("notes.txt", "other.json"):
        (cache_dir / p).unlink()
    (cache_dir / "sub").rmdir()
    assert QueryCache(cache_dir).clear().entries == 1
    assert not cache_dir.exists()


def test_cache_clear_leaves_files_named_like_entries_that_it_did_not_write(tmp_path, capsys):
    cache_dir = tmp_path / "cache"
    cache = QueryCache(cache_dir)
    ours = [cache.key("http://x/tap", q) for q in (Q, Q + " WHERE 1=1")]
    for key in ours:
        cache.put(key, b"<VOTABLE/>", url="http://x/tap", query=Q, n_rows=1)
    # what an interrupted put leaves: a temporary file of this cache's own naming
    interrupted = cache_dir / f".astro_ocl-cache.{ours[0]}.vot.k3x_9a0q.part"
    interrupted.write_bytes(b"<VOTAB")
    # another tool's content-addressed files (SHA-256 names, .vot/.json like ours, one
    # with a provenance-like sidecar), and another tool's temporary file
    blob = b"another tool's result"
    theirs = hashlib.sha256(blob).hexdigest()
    foreign = {f"{theirs}.vot": blob,
               f"{theirs}.json": json.dumps({"key": theirs, "query": "SELECT 1",
                                             "service": "http://y", "rows": 1,
                                             "time_utc": "2001-01-01T00:00:00+00:00"}).encode(),
               f"{hashlib.sha256(b'x').hexdigest()}.json": b"{}",
               ".tmp-ab12cd34": b"another tool's temporary file"}
    for name, content in foreign.items():
        (cache_dir / name).write_bytes(content)
    # a foreign file under a key is no cache entry: not answered, not expired away
    assert cache.get(theirs, allow_truncated=True, max_age=1) is None
    assert sorted(e["key"] for e in cache.entries()) == sorted(ours)
    assert main(["cache", "clear", "--dir", str(cache_dir)]) == 0
    for name, content in foreign.items():
        assert (cache_dir / name).read_bytes() == content, name
    assert sorted(p.name for p in cache_dir.iterdir()) == sorted(foreign)
    out = capsys.readouterr().out
    assert "removed 2 cached results (5 files)" in out
    assert "left 4 files named like cache files" in out
    assert all(name in out for name in foreign)


# --- item 5: deadlines --------------------------------------------------------------------

def test_stuck_async_job_stops_at_job_timeout_and_is_aborted(fault_server, tmp_path):
    fault_server.script = [("async_stuck",)]
    t0 = time.monotonic()
    with pytest.raises(QueryTimeoutError, match="still EXECUTING"):
        client(fault_server, tmp_path, job_timeout=1.0).query(Q, mode="async", maxrec=100)
    assert time.monotonic() - t0 < 5
    phase_posts = [r for r in fault_server.requests
                   if r[0] == "POST" and r[1] == "/tap/async/job1/phase"]
    assert len(phase_posts) == 2  # RUN, then ABORT
    assert len(fault_server.queries()) == 1  # a passed deadline is not retried


def test_job_timeout_is_a_conf_item(fault_server, tmp_path):
    fault_server.script = [("async_stuck",)]
    with conf.set_temp("job_timeout", 0.8):
        tap = client(fault_server, tmp_path)
        assert tap.job_timeout == 0.8
        with pytest.raises(QueryTimeoutError):
            tap.query(Q, mode="async", maxrec=100)


def test_trickling_download_stops_at_the_query_deadline(fault_server, tmp_path):
    # every read arrives well within the per-read timeout; the whole never does
    fault_server.script = [("trickle", 0.05)]
    t0 = time.monotonic()
    with pytest.raises(QueryTimeoutError, match="query deadline"):
        client(fault_server, tmp_path, deadline=1.5).query(Q, maxrec=100)
    assert time.monotonic() - t0 < 5


def test_retries_with_backoff_stop_at_the_query_deadline(fault_server, tmp_path):
    fault_server.script = [("500",)] * 10
    t0 = time.monotonic()
    with conf.set_temp("query_deadline", 1.0), conf.set_temp("retry_backoff", 0.4), \
            conf.set_temp("retries", 8):
        tap = TAPClient(fault_server.url, timeout=2.0, cache=False)
        with pytest.raises(QueryTimeoutError, match="query deadline of 1 s"):
            tap.query(Q, maxrec=100)
    assert time.monotonic() - t0 < 2.5
    assert len(fault_server.queries()) < 4


def test_hung_request_is_cut_at_the_deadline(fault_server, tmp_path):
    fault_server.script = [("hang", 5)]
    t0 = time.monotonic()
    with pytest.raises(QueryTimeoutError):
        client(fault_server, tmp_path, timeout=30, retries=0, deadline=1.0).query(
            Q, maxrec=100)
    assert time.monotonic() - t0 < 3


def test_network_waits_are_conf_items():
    for name in ("timeout", "retries", "retry_backoff", "retry_max_wait", "job_timeout",
                 "query_deadline", "samp_timeout", "cache_max_age"):
        assert hasattr(conf, name)
