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
deletes the cache's own files only, never anything else in that directory: the
entries whose provenance (``<key>.json``) this cache wrote, with their
``<key>.vot``, and the temporary files of its interrupted writes (named
``.astro_ocl-cache.<key>...part``). A file that merely looks like an entry (a
SHA-256 name of another tool, an entry without such provenance) stays, and
:meth:`QueryCache.clear` names it.
"""
import dataclasses
import datetime
import hashlib
import io
import json
import os
import re
import tempfile
from pathlib import Path

from ...version import __version__
from ...config import conf
from ...utils import umask_mode
from ...logger import log

__all__ = ["QueryCache", "CacheClearing", "default_cache_dir", "upload_bytes"]

#: The prefix of the temporary files of :meth:`QueryCache.put` (``<prefix><key>.<vot|json>.``).
_TMP_PREFIX = ".astro_ocl-cache."
_TMP_SUFFIX = ".part"
#: A temporary file of an interrupted :meth:`QueryCache.put` (``tempfile.mkstemp`` adds
#: 8 characters): the package's own name, which no other writer uses.
_OWN_TMP = re.compile(r"^\.astro_ocl-cache\..+\.(vot|json)\.[a-z0-9_]{8}\.part$")
#: What looks like a cache file but is not provably this cache's: a SHA-256 name
#: (:meth:`QueryCache.key`) or a temporary file of earlier versions (``.tmp-XXXXXXXX``).
_LOOKALIKE = re.compile(r"^([0-9a-f]{64}\.(vot|json)|\.tmp-[A-Za-z0-9_]{8})$")


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
        if not _is_entry(meta, prov):  # another tool's file of that name: not ours
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
            fd, tmp = tempfile.mkstemp(dir=self.directory, suffix=_TMP_SUFFIX,
                                       prefix=f"{_TMP_PREFIX}{key}{path.suffix}.")
            try:
                os.fchmod(fd, umask_mode())  # as any file the package writes
                with os.fdopen(fd, "wb") as f:
                    f.write(data)
                os.replace(tmp, path)
            except BaseException:
                Path(tmp).unlink(missing_ok=True)
                raise
        return prov

    def _provenances(self):
        """``{key: provenance}`` of every ``<key>.json`` this cache wrote (its result
        file ``<key>.vot`` may be missing: an interrupted write)."""
        out = {}
        for meta in self.directory.glob("*.json") if self.directory.is_dir() else ():
            try:
                prov = json.loads(meta.read_text())
            except (OSError, ValueError):
                continue
            if meta.is_file() and _is_entry(meta, prov):
                out[meta.stem] = prov
        return out

    def entries(self):
        """Provenance of every entry, oldest first (with ``size`` in bytes)."""
        out = []
        for key, prov in self._provenances().items():
            vot = self._paths(key)[0]
            if vot.is_file():
                out.append({**prov, "size": vot.stat().st_size})
        return sorted(out, key=lambda p: p.get("time_utc", ""))

    def clear(self):
        """Delete the cache's own files, nothing else; say what was removed and what stays.

        Removed: every entry whose provenance this cache wrote (``<key>.json``
        and its ``<key>.vot``) and the temporary files of its interrupted writes.
        Everything else in the directory stays, named in the result when it looks
        like a cache file (a SHA-256 name another tool may use, a ``<key>.vot``
        without this cache's provenance, a temporary file of an earlier version);
        the directory is removed only when nothing else is in it.

        Returns
        -------
        `CacheClearing`
        """
        done = CacheClearing(directory=self.directory)
        if not self.directory.is_dir():
            return done
        for key in self._provenances():
            done.entries += 1
            for path in self._paths(key):
                if path.is_file():
                    path.unlink()
                    done.removed.append(path)
        for path in sorted(self.directory.iterdir()):
            if path.is_file() and not path.is_symlink() and _OWN_TMP.match(path.name):
                path.unlink()
                done.removed.append(path)
            elif _LOOKALIKE.match(path.name):
                done.left.append(path)
            else:
                done.others += 1
        if not done.left and not done.others:
            self.directory.rmdir()
        return done


@dataclasses.dataclass
class CacheClearing:
    """What :meth:`QueryCache.clear` removed from its directory and what it left there.

    Attributes
    ----------
    directory : `~pathlib.Path`
    entries : int
        Cached results removed.
    removed : list of `~pathlib.Path`
        Every file removed (entries and temporary files of interrupted writes).
    left : list of `~pathlib.Path`
        Files named like cache files that this cache cannot show it wrote: left.
    others : int
        Other files and folders in the directory (left, not named).
    """

    directory: Path
    entries: int = 0
    removed: list = dataclasses.field(default_factory=list)
    left: list = dataclasses.field(default_factory=list)
    others: int = 0

    def __str__(self):
        n = self.entries
        text = (f"removed {n} cached result{'s' if n != 1 else ''} "
                f"({len(self.removed)} files) from {self.directory}")
        if self.left:
            more = " ..." if len(self.left) > 5 else ""
            names = ", ".join(p.name for p in self.left[:5]) + more
            text += (f"; left {len(self.left)} file{'s' if len(self.left) != 1 else ''} named "
                     f"like cache files that this cache did not provably write: {names}")
        if self.others:
            text += f"; left {self.others} other file{'s' if self.others != 1 else ''}"
        return text


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
