"""A cache of query results, with provenance.

The key is a SHA-256 of the service URL, the ADQL, the row limit and the
content of every uploaded table. Each entry is two files in the cache
directory: ``<key>.vot`` (the result as the service sent it, a VOTable) and
``<key>.json`` (provenance: service URL, query, UTC time, row count, package
version, upload names). Entries are written atomically; a failed query is never
stored. The directory is ``conf.cache_dir`` or
``<astropy cache dir>/astro_ocl/queries``.
"""
import datetime
import hashlib
import io
import json
import os
import shutil
import tempfile
from pathlib import Path

from ...config import conf
from ...logger import log

__all__ = ["QueryCache", "default_cache_dir", "upload_bytes"]


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

    def get(self, key):
        """The cached VOTable bytes and provenance, or None.

        Parameters
        ----------
        key : str
        """
        vot, meta = self._paths(key)
        if not (vot.exists() and meta.exists()):
            return None
        try:
            return vot.read_bytes(), json.loads(meta.read_text())
        except (OSError, ValueError) as exc:  # a damaged entry is a miss
            log.warning("ignoring damaged cache entry %s: %s", key, exc)
            return None

    def put(self, key, votable_bytes, *, url, query, n_rows, uploads=None):
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

        Returns
        -------
        dict
            The provenance stored.
        """
        from ... import __version__
        self.directory.mkdir(parents=True, exist_ok=True)
        prov = {
            "service": url, "query": query, "rows": int(n_rows),
            "time_utc": datetime.datetime.now(datetime.timezone.utc).isoformat(
                timespec="seconds"),
            "package": "astro_ocl", "version": __version__,
            "uploads": sorted(uploads or {}), "key": key,
        }
        vot, meta = self._paths(key)
        for path, data in ((vot, votable_bytes), (meta, json.dumps(prov, indent=1).encode())):
            fd, tmp = tempfile.mkstemp(dir=self.directory, prefix=".tmp-")
            try:
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
            prov["size"] = vot.stat().st_size
            out.append(prov)
        return sorted(out, key=lambda p: p.get("time_utc", ""))

    def clear(self):
        """Delete every entry; returns how many were deleted."""
        n = len(self.entries())
        if self.directory.exists():
            shutil.rmtree(self.directory)
        return n
