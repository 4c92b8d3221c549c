"""A cache of query results, with provenance.

The key is a SHA-256 of the service URL, the ADQL, the row limit and the
content of every uploaded table. Each entry is two files in the cache
directory: ``<key>.vot`` (the result as the service sent it, a VOTable) and
``<key>.json`` (provenance: service URL, query, UTC time, row count, row limit,
whether the result was truncated, package version, upload names). Entries are
written atomically; a failed query is never stored. The directory is
``conf.cache_dir`` or ``<astropy cache dir>/astro_ocl/queries``.

A result that reached its row limit (a capped sample) is stored with
``truncated: true`` and only ever answers a capped request
(:meth:`QueryCache.get` with ``allow_truncated=True``); an entry older than
``conf.cache_max_age`` days is a miss and is deleted. :meth:`QueryCache.clear`
deletes the cache's own files only (the ``<key>.vot``/``<key>.json`` pairs whose
provenance it wrote, and its temporary files), never anything else in that
directory.
"""
import datetime
import hashlib
import io
import json
import os
import re
import tempfile
from pathlib import Path

from ... import __version__
from ...config import conf
from ...utils import umask_mode
from ...logger import log

__all__ = ["QueryCache", "default_cache_dir", "upload_bytes"]

#: Temporary files of an interrupted write (``tempfile.mkstemp(prefix=".tmp-")``).
_OWN_TMP = re.compile(r"^\.tmp-[A-Za-z0-9_]{8}$")
#: A cache key (:meth:`QueryCache.key`): a damaged entry with such a name is ours.
_KEY = re.compile(r"^[0-9a-f]{64}$")


def default_cache_dir():
    """The cache directory (``conf.cache_dir`` or the astropy cache dir)."""
    if conf.cache_dir:
        return Path(conf.cache_dir).expanduser()
    from astropy.config.paths import get_cache_dir
    return Path(get_cache_dir("astro_ocl")) / "queries"


def upload_bytes(table):
    """Canonical bytes of an uploaded table (its VOTable serialisation).

    Parameters
    ----------
    table : `~astropy.table.Table`, str or path
        A table, or a VOTable file/URL string as pyvo accepts.
    """
    if isinstance(table, (str, os.PathLike)):
        p = Path(table)
        return p.read_bytes() if p.exists() else str(table).encode()
    from astropy.io.votable import from_table
    buf = io.BytesIO()
    from_table(table).to_xml(buf)
    return buf.getvalue()


class QueryCache:
    """On-disk cache of query results.

    Parameters
    ----------
    directory : str or `~pathlib.Path`, optional
        Default :func:`default_cache_dir`.
    """

    def __init__(self, directory=None):
        self.directory = Path(directory) if directory is not None else default_cache_dir()

    @staticmethod
    def key(url, query, *, maxrec=None, uploads=None, language="ADQL"):
        """The cache key of a query (hex SHA-256)."""
        h = hashlib.sha256()
        for part in (url.rstrip("/"), language, query, str(maxrec)):
            h.update(part.encode())
            h.update(b"\x00")
        for name in sorted(uploads or {}):
            h.update(name.encode() + b"\x00")
            h.update(hashlib.sha256(upload_bytes(uploads[name])).digest())
        return h.hexdigest()

    def _paths(self, key):
        return self.directory / f"{key}.vot", self.directory / f"{key}.json"

    def get(self, key, *, allow_truncated=False, max_age=None):
        """The cached VOTable bytes and provenance, or None.

        Parameters
        ----------
        key : str
        allow_truncated : bool
            Whether a result that reached its row limit may answer (only a capped
            request allows it). An entry written before the cache recorded
            truncation counts as truncated when its rows reached its row limit.
        max_age : float, optional
            Expiry in days (default ``conf.cache_max_age``; 0 or None: never). An
            expired entry is deleted.
        """
        vot, meta = self._paths(key)
        if not (vot.exists() and meta.exists()):
            return None
        try:
            data, prov = vot.read_bytes(), json.loads(meta.read_text())
        except (OSError, ValueError) as exc:  # a damaged entry is a miss
            log.warning("ignoring damaged cache entry %s: %s", key, exc)
            return None
        max_age = conf.cache_max_age if max_age is None else max_age
        if max_age and _age_days(prov) > float(max_age):
            log.info("cache entry %s expired (older than %g days)", key[:12], max_age)
            self._delete(key)
            return None
        if self.is_truncated(prov) and not allow_truncated:
            log.info("cache entry %s is a truncated (capped) result: not used for a "
                     "complete request", key[:12])
            return None
        return data, prov

    @staticmethod
    def is_truncated(prov):
        """Whether a cached result reached its row limit (may be incomplete).

        Parameters
        ----------
        prov : dict
            The entry's provenance.
        """
        if "truncated" in prov:
            return bool(prov["truncated"])
        rows, maxrec = prov.get("rows"), prov.get("maxrec")
        return rows is None or maxrec is None or int(rows) >= int(maxrec)

    def _delete(self, key):
        for path in self._paths(key):
            path.unlink(missing_ok=True)

    def put(self, key, votable_bytes, *, url, query, n_rows, uploads=None, maxrec=None,
            truncated=False):
        """Store a successful result.

        Parameters
        ----------
        key : str
        votable_bytes : bytes
            The result VOTable.
        url, query : str
            Service and ADQL.
        n_rows : int
        uploads : dict, optional
            Upload names (their content is in the key).
        maxrec : int, optional
            The row limit of the query.
        truncated : bool
            The result reached ``maxrec`` (or the service said OVERFLOW): it is
            recorded so that it never answers an uncapped request.

        Returns
        -------
        dict
            The provenance stored.
        """
        self.directory.mkdir(parents=True, exist_ok=True)
        prov = {
            "service": url, "query": query, "rows": int(n_rows),
            "maxrec": None if maxrec is None else int(maxrec), "truncated": bool(truncated),
            "time_utc": datetime.datetime.now(datetime.timezone.utc).isoformat(
                timespec="seconds"),
            "package": "astro_ocl", "version": __version__,
            "uploads": sorted(uploads or {}), "key": key,
        }
        vot, meta = self._paths(key)
        for path, data in ((vot, votable_bytes), (meta, json.dumps(prov, indent=1).encode())):
            fd, tmp = tempfile.mkstemp(dir=self.directory, prefix=".tmp-")
            try:
                os.fchmod(fd, umask_mode())  # as any file the package writes
                with os.fdopen(fd, "wb") as f:
                    f.write(data)
                os.replace(tmp, path)
            except BaseException:
                Path(tmp).unlink(missing_ok=True)
                raise
        return prov

    def entries(self):
        """Provenance of every entry, oldest first (with ``size`` in bytes)."""
        out = []
        if not self.directory.exists():
            return out
        for meta in self.directory.glob("*.json"):
            vot = meta.with_suffix(".vot")
            if not vot.exists():
                continue
            try:
                prov = json.loads(meta.read_text())
            except (OSError, ValueError):
                continue
            if not _is_entry(meta, prov):
                continue
            prov["size"] = vot.stat().st_size
            out.append(prov)
        return sorted(out, key=lambda p: p.get("time_utc", ""))

    def clear(self):
        """Delete every entry (only the cache's own files); returns how many.

        Other files in the directory are left alone, and the directory is removed
        only when nothing else is in it.
        """
        entries = self.entries()
        for prov in entries:
            self._delete(prov["key"])
        if not self.directory.exists():
            return 0
        for path in self.directory.iterdir():
            damaged_entry = path.suffix in (".vot", ".json") and _KEY.match(path.stem)
            if path.is_file() and (_OWN_TMP.match(path.name) or damaged_entry):
                path.unlink(missing_ok=True)
        try:
            self.directory.rmdir()
        except OSError:  # other files are there: not ours to delete
            pass
        return len(entries)


def _is_entry(meta, prov):
    """Whether ``<key>.json`` is a provenance file this cache wrote (not a stranger's)."""
    return (isinstance(prov, dict) and prov.get("package") == "astro_ocl"
            and prov.get("key") == meta.stem and "query" in prov and "service" in prov)


def _age_days(prov):
    """Age of an entry in days from its ``time_utc`` (infinite when unreadable)."""
    try:
        when = datetime.datetime.fromisoformat(str(prov["time_utc"]))
    except (KeyError, ValueError):
        return float("inf")
    if when.tzinfo is None:
        when = when.replace(tzinfo=datetime.timezone.utc)
    now = datetime.datetime.now(datetime.timezone.utc)
    return (now - when).total_seconds() / 86400.0
