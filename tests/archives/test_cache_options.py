"""The result cache (offline) and the --lamost option."""
import numpy as np
import pytest
from astropy.table import Table

from astro_ocl import conf
from astro_ocl.sources.archives.cache import QueryCache, default_cache_dir
from astro_ocl.sources.archives.online import parse_lamost_option


def test_key_depends_on_everything():
    a = Table({"source_id": np.array([1, 2], np.int64)})
    b = Table({"source_id": np.array([1, 3], np.int64)})
    k = QueryCache.key
    base = k("http://x/tap", "SELECT 1", maxrec=10, uploads={"u": a})
    assert base == k("http://x/tap/", "SELECT 1", maxrec=10, uploads={"u": a.copy()})
    assert base != k("http://y/tap", "SELECT 1", maxrec=10, uploads={"u": a})
    assert base != k("http://x/tap", "SELECT 2", maxrec=10, uploads={"u": a})
    assert base != k("http://x/tap", "SELECT 1", maxrec=11, uploads={"u": a})
    assert base != k("http://x/tap", "SELECT 1", maxrec=10, uploads={"u": b})
    assert base != k("http://x/tap", "SELECT 1", maxrec=10, uploads={"v": a})


def test_put_get_entries_clear(tmp_path):
    c = QueryCache(tmp_path / "c")
    assert c.entries() == [] and c.get("nope") is None
    data = b'<?xml version="1.0"?><VOTABLE version="1.4"></VOTABLE>'
    prov = c.put("abc", data, url="http://x/tap", query="SELECT 1", n_rows=3)
    got, meta = c.get("abc")
    assert got == data and meta == prov
    assert meta["rows"] == 3 and meta["service"] == "http://x/tap"
    assert [e["key"] for e in c.entries()] == ["abc"]
    assert sorted(p.name for p in (tmp_path / "c").iterdir()) == ["abc.json", "abc.vot"]
    (tmp_path / "c" / "abc.json").write_text("{broken")
    assert c.get("abc") is None                             # a damaged entry is a miss
    # clear() deletes only files it can show are its own: a damaged entry's
    # provenance is unreadable, so even under a real key (64 hex digits) it stays
    key = QueryCache.key("http://x/tap", "SELECT 1")
    c.put(key, data, url="http://x/tap", query="SELECT 1", n_rows=3)
    (tmp_path / "c" / f"{key}.json").write_text("{broken")
    done = c.clear()
    assert (done.entries, done.removed, done.others) == (0, [], 2)
    assert sorted(p.name for p in done.left) == [f"{key}.json", f"{key}.vot"]
    assert len(list((tmp_path / "c").iterdir())) == 4


def test_default_dir(tmp_path):
    with conf.set_temp("cache_dir", str(tmp_path / "q")):
        assert default_cache_dir() == tmp_path / "q"
    with conf.set_temp("cache_dir", ""):
        assert default_cache_dir().name == "queries"


@pytest.mark.parametrize("value, expected", [
    (None, ("vizier", "V/164/stellar5")),
    ("vizier", ("vizier", "V/164/stellar5")),
    ("vizier:V/164", ("vizier", "V/164/stellar5")),
    ("vizier:V/164/stellar5", ("vizier", "V/164/stellar5")),
    ("vizier:V/156/dr7lrs", ("vizier", "V/156/dr7lrs")),
    ("lamost_dr8.fits", ("file", "lamost_dr8.fits")),
])
def test_lamost_option(value, expected):
    with conf.set_temp("lamost_table", "V/164/stellar5"):
        assert parse_lamost_option(value) == expected


def test_lamost_option_catalogue_needs_table():
    with conf.set_temp("lamost_table", "V/164/stellar5"):
        with pytest.raises(ValueError, match="names a catalogue"):
            parse_lamost_option("vizier:V/156")
