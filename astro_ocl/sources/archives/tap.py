"""The TAP client every archive query goes through.

:class:`TAPClient` wraps `pyvo.dal.TAPService` and adds what the services need
and pyvo leaves to the caller:

* an explicit timeout on every HTTP request (``conf.timeout``) and an overall
  deadline for asynchronous jobs;
* retries with exponential backoff on timeouts, connection failures, HTTP 5xx,
  HTTP 429 (pyvo's `~pyvo.dal.DALRateLimitError`, honouring ``Retry-After``)
  and truncated responses; an error the server reports about the query (bad
  ADQL, job in ERROR) is not retried;
* a row-limit guard: a result that reaches ``maxrec`` (or that the service
  marks OVERFLOW) raises `~astro_ocl.exceptions.RowLimitError`, or warns with
  `~astro_ocl.exceptions.RowLimitWarning` when the caller asked for a capped
  sample (``capped=True``): never a silent truncation;
* errors as `~astro_ocl.exceptions.ServiceError` /
  `~astro_ocl.exceptions.QueryTimeoutError` carrying the service URL, the
  ADQL and the server's message;
* the result cache (:mod:`astro_ocl.sources.archives.cache`): only complete, successful
  results are stored, and a cached result is parsed by the same code as a
  fresh one, so both are identical tables;
* results as `~astropy.table.QTable` with normalised units
  (:mod:`astro_ocl.sources.archives.units`) and a ``coord`` `~astropy.coordinates.SkyCoord`
  when the result has a position.

Nothing here touches the network until a query is run.
"""
import datetime
import io
import time
import warnings
from email.utils import parsedate_to_datetime

import numpy as np
import requests
from astropy import units as u
from astropy.coordinates import SkyCoord
from astropy.io.votable import parse as votable_parse
from astropy.io.votable.exceptions import VOWarning
from astropy.table import QTable, Table

from ...version import __version__
from ...config import conf
from ...exceptions import (AstroOCLWarning, DeadlinePassedError, QueryTimeoutError,
                           RowLimitError, RowLimitWarning, ServiceError)
from ...logger import log
from .cache import QueryCache
from .units import normalise_units

__all__ = ["TAPClient", "votable_to_qtable", "upload_table", "SYNC_ROW_LIMIT",
           "RA_NAMES", "DEC_NAMES"]

#: Above this row limit ``mode="auto"`` runs a query asynchronously (the Gaia
#: archive caps synchronous results at 2000 rows for anonymous users).
SYNC_ROW_LIMIT = 2000

#: Column names taken as right ascension / declination when no UCD says so.
RA_NAMES = ("ra", "RA_ICRS", "RAJ2000", "ra2000", "RAdeg", "_RA", "_RA.icrs")
DEC_NAMES = ("dec", "DE_ICRS", "DEJ2000", "dec2000", "DEdeg", "_DE", "_DE.icrs")


class _Retryable(Exception):
    """Internal: a failure worth retrying (kind: 'timeout', 'http', 'rate', 'truncated')."""

    def __init__(self, kind, message, *, wait=None):
        super().__init__(message)
        self.kind, self.message, self.wait = kind, message, wait


class _TimeoutSession(requests.Session):
    """A requests session that puts a timeout on every request.

    With a ``deadline`` (a `time.monotonic` value) no request waits past it: the
    per-request timeout shrinks to the time left, and a request after the deadline
    raises `~astro_ocl.exceptions.QueryTimeoutError` without being sent.
    """

    def __init__(self, timeout, deadline=None):
        super().__init__()
        self.timeout = float(timeout)
        self.deadline = deadline
        self._responses = []
        self.headers["User-Agent"] = f"astro_ocl/{__version__} (pyvo)"

    def remaining(self):
        """Seconds left before the deadline (infinite without one)."""
        return float("inf") if self.deadline is None else self.deadline - time.monotonic()

    def request(self, method, url, **kwargs):
        if kwargs.get("timeout") is None:
            kwargs["timeout"] = self.timeout
        else:  # never wait longer than our timeout (pyvo asks for long blocking waits)
            kwargs["timeout"] = min(float(kwargs["timeout"]), self.timeout)
        left = self.remaining()
        if left <= 0:
            raise DeadlinePassedError(f"{method} {url} not sent: the query deadline has passed")
        kwargs["timeout"] = min(kwargs["timeout"], left)
        response = super().request(method, url, **kwargs)
        self._responses.append(response)
        return response

    def close(self):
        # pyvo leaves some streamed responses (job polling, DELETE redirects) unread:
        # close them so no socket outlives the query
        for response in self._responses:
            response.close()
        self._responses.clear()
        super().close()


def _read_body(response, session):
    """The whole body of a streamed response, within the session's deadline.

    ``requests`` times out each read only: a server trickling bytes could keep a
    download alive for ever. This reads what has arrived (``read1``) and stops at
    the deadline; no single read outlasts it, as the request's socket timeout is
    at most the time left when it was sent.
    """
    raw = response.raw
    read1 = getattr(raw, "read1", None)
    if read1 is None:  # pragma: no cover - urllib3 < 2.3
        chunks = response.iter_content(1 << 16)
    else:
        chunks = iter(lambda: read1(1 << 16, decode_content=True), b"")
    out = []
    for chunk in chunks:
        out.append(chunk)
        if session.remaining() <= 0:
            raise DeadlinePassedError("the query deadline passed during the download")
    return b"".join(out)


def _is_timeout(exc):
    seen = set()
    while exc is not None and id(exc) not in seen:
        seen.add(id(exc))
        if isinstance(exc, (requests.Timeout, TimeoutError)):
            return True
        name = type(exc).__name__
        if name in ("ReadTimeoutError", "ConnectTimeoutError", "timeout"):
            return True
        if isinstance(exc, requests.ConnectionError) and exc.args and \
                any(_is_timeout(a) for a in exc.args if isinstance(a, BaseException)):
            return True
        exc = exc.__cause__ or exc.__context__ or getattr(exc, "cause", None)
    return False


def _server_message(body, fallback=""):
    """The error text of a TAP error document (VOTable INFO or plain text)."""
    if not body:
        return fallback
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            vt = votable_parse(io.BytesIO(body), verify="ignore")
        for res in vt.resources:
            for info in res.infos:
                if info.name == "QUERY_STATUS":
                    return (info.content or info.value or fallback).strip()
        for info in vt.infos:
            if info.name == "QUERY_STATUS":
                return (info.content or info.value or fallback).strip()
    except Exception:  # not a VOTable: plain text or HTML
        pass
    text = body.decode("utf-8", "replace").strip()
    return text[:2000] or fallback


def _retry_after(response):
    value = response.headers.get("Retry-After")
    if value is None:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        try:
            when = parsedate_to_datetime(value)
            return max(0.0, (when - datetime.datetime.now(when.tzinfo)).total_seconds())
        except (TypeError, ValueError):
            return None


def upload_table(table, columns=None):
    """A plain `~astropy.table.Table` fit for a TAP upload.

    Mixin columns (``SkyCoord``, ``Time``) are dropped, quantities become plain
    columns with a unit, and only ``columns`` are kept when given.

    Parameters
    ----------
    table : `~astropy.table.Table`
    columns : list of str, optional
    """
    out = Table()
    for name in (columns or table.colnames):
        col = table[name]
        if isinstance(col, SkyCoord) or not hasattr(col, "dtype"):
            continue
        if isinstance(col, u.Quantity):
            out[name] = np.asarray(col.value)
            out[name].unit = col.unit
        else:
            out[name] = col
    return out


def _status(vt):
    for res in vt.resources:
        for info in res.infos:
            if info.name == "QUERY_STATUS":
                return (info.value or "").upper(), (info.content or "").strip()
    for info in vt.infos:
        if info.name == "QUERY_STATUS":
            return (info.value or "").upper(), (info.content or "").strip()
    return "OK", ""


def _parse(data):
    """Parse result bytes; raise _Retryable for a truncated/invalid document."""
    try:
        with warnings.catch_warnings():
            # unit strings are normalised afterwards (units.py); VizieR and DaCHS
            # write some VOTable details astropy warns about
            warnings.simplefilter("ignore", VOWarning)
            warnings.simplefilter("ignore", u.UnitsWarning)
            vt = votable_parse(io.BytesIO(data), verify="ignore")
            status, message = _status(vt)
            if status == "ERROR":
                return vt, None, status, message
            tables = list(vt.iter_tables())
            if not tables:
                raise ValueError("no TABLE in the result")
            table = tables[0].to_table(use_names_over_ids=True)
    except Exception as exc:
        raise _Retryable("truncated", f"truncated or invalid VOTable ({type(exc).__name__}: "
                                      f"{exc})") from exc
    return vt, table, status, message


def _find_galactic(table, fields):
    lon = lat = None
    for f in fields:
        ucd = (f.ucd or "").lower()
        if ucd.startswith("pos.galactic.lon") and lon is None:
            lon = f.name
        if ucd.startswith("pos.galactic.lat") and lat is None:
            lat = f.name
    if lon in table.colnames and lat in table.colnames:
        return lon, lat
    return None, None


def _find_position(table, fields):
    ra = dec = None
    for f in fields:
        ucd = (f.ucd or "").lower()
        if ucd.startswith("pos.eq.ra") and "meta.main" in ucd and ra is None:
            ra = f.name
        if ucd.startswith("pos.eq.dec") and "meta.main" in ucd and dec is None:
            dec = f.name
    if ra is None or dec is None or ra not in table.colnames or dec not in table.colnames:
        ra = next((n for n in RA_NAMES if n in table.colnames), None)
        dec = next((n for n in DEC_NAMES if n in table.colnames), None)
    return ra, dec


def votable_to_qtable(data):
    """Parse a TAP/VizieR result VOTable into a `~astropy.table.QTable`.

    Units are normalised with :func:`~astro_ocl.sources.archives.units.normalise_units`
    and a ``coord`` `~astropy.coordinates.SkyCoord` (ICRS) is added when the
    result has a main position (by UCD, else by column name).

    Parameters
    ----------
    data : bytes
        The VOTable document.

    Returns
    -------
    `~astropy.table.QTable`

    Raises
    ------
    ServiceError
        The document is not a complete VOTable, or reports QUERY_STATUS=ERROR.
    """
    try:
        vt, table, status, message = _parse(data)
    except _Retryable as exc:
        raise ServiceError(exc.message) from exc
    if table is None:
        raise ServiceError("the service reported an error", server_message=message)
    return _to_qtable(vt, table, status)


def _to_qtable(vt, table, status):
    unknown = normalise_units(table)
    if unknown:
        log.info("unknown unit strings, left unitless: %s", unknown)
    fields = list(next(vt.iter_tables()).fields)
    table.meta.pop("ID", None)
    for col in list(table.itercols()):
        # a masked column with a logarithmic unit (dex) cannot be a MaskedQuantity:
        # masked floats become NaN, other masked columns lose the unit
        if isinstance(col.unit, u.FunctionUnitBase) and hasattr(col, "mask"):
            if col.dtype.kind == "f":
                from astropy.table import Column
                table[col.info.name] = Column(np.ma.filled(col, np.nan), unit=col.unit,
                                              description=col.info.description)
            else:
                col.unit = None
    out = QTable(table)
    ra, dec = _find_position(table, fields)

    def deg(name):
        col = out[name]
        val = col.to_value(u.deg) if isinstance(col, u.Quantity) and col.unit is not None \
            else np.asarray(col, float)
        if hasattr(val, "unmasked"):  # astropy Masked array
            val = np.where(val.mask, np.nan, val.unmasked)
        return np.asarray(np.ma.filled(np.ma.asarray(val, dtype=float), np.nan), float)

    if ra and dec and "coord" not in out.colnames:
        try:
            out["coord"] = SkyCoord(ra=deg(ra) * u.deg, dec=deg(dec) * u.deg, frame="icrs")
        except (ValueError, u.UnitsError) as exc:
            log.info("no SkyCoord for %s/%s: %s", ra, dec, exc)
    elif "coord" not in out.colnames:
        lon, lat = _find_galactic(table, fields)
        if lon and lat:
            out["coord"] = SkyCoord(l=deg(lon) * u.deg, b=deg(lat) * u.deg, frame="galactic")
    out.meta["query_status"] = status
    return out


class TAPClient:
    """A TAP service with timeouts, retries, a row-limit guard and a cache.

    Parameters
    ----------
    url : str
        TAP base URL (e.g. ``conf.gaia_tap_url``).
    timeout : float, optional
        Timeout in seconds of every HTTP request (default ``conf.timeout``).
    retries : int, optional
        Retries after a retryable failure (default ``conf.retries``).
    backoff : float, optional
        First wait between attempts in seconds; doubled each time (default
        ``conf.retry_backoff``).
    max_wait : float, optional
        Longest single wait (also caps a server's ``Retry-After``; default
        ``conf.retry_max_wait``).
    job_timeout : float, optional
        Overall deadline of an asynchronous job in seconds, polling and download
        included (default ``conf.job_timeout``).
    deadline : float, optional
        Overall deadline of one :meth:`query` in seconds: attempts, retries,
        backoff waits, job polling and downloads together (default
        ``conf.query_deadline``).
    cache : `~astro_ocl.sources.archives.cache.QueryCache` or False, optional
        The result cache (default: ``conf.cache_dir``); False: no cache.
    name : str, optional
        Label for log messages.
    """

    def __init__(self, url, *, timeout=None, retries=None, backoff=None, max_wait=None,
                 job_timeout=None, deadline=None, cache=None, name=None):
        self.url = str(url).rstrip("/")
        self.timeout = float(conf.timeout if timeout is None else timeout)
        if self.timeout <= 0:
            raise ValueError("timeout must be positive")
        self.retries = int(conf.retries if retries is None else retries)
        self.backoff = float(conf.retry_backoff if backoff is None else backoff)
        self.max_wait = float(conf.retry_max_wait if max_wait is None else max_wait)
        self.job_timeout = float(conf.job_timeout if job_timeout is None else job_timeout)
        self.deadline = float(conf.query_deadline if deadline is None else deadline)
        if self.job_timeout <= 0 or self.deadline <= 0:
            raise ValueError("job_timeout and deadline must be positive")
        self._cache = cache
        self.name = name or self.url

    def __repr__(self):
        return f"<TAPClient {self.url} timeout={self.timeout}s retries={self.retries}>"

    @property
    def cache(self):
        """The `~astro_ocl.sources.archives.cache.QueryCache` in use, or None."""
        if self._cache is False or (self._cache is None and not conf.use_cache):
            return None
        if self._cache is None:
            return QueryCache()
        return self._cache

    def service(self, session=None):
        """A `pyvo.dal.TAPService` on this URL (no request is made).

        Parameters
        ----------
        session : `requests.Session`, optional
            Default: a new session with this client's timeout on every request;
            close it when done (:meth:`query` does).
        """
        from pyvo.dal import TAPService
        return TAPService(self.url, session=session or _TimeoutSession(self.timeout))

    # --- one attempt ---------------------------------------------------------------
    def _check_response(self, response, query):
        if response.status_code == 429:
            raise _Retryable("rate", f"HTTP 429 Too Many Requests from {response.url}",
                             wait=_retry_after(response))
        if response.status_code >= 500:
            raise _Retryable("http", f"HTTP {response.status_code} "
                                     f"{_server_message(response.content, response.reason)}",
                             wait=_retry_after(response))
        if response.status_code >= 400:
            raise ServiceError(f"HTTP {response.status_code} from the service", url=self.url,
                               query=query,
                               server_message=_server_message(response.content,
                                                              response.reason))

    def _sync_once(self, svc, query, maxrec, uploads):
        q = svc.create_query(query, maxrec=maxrec, uploads=uploads)
        response = q.submit(post=True)
        try:
            self._check_response(response, query)
            return _read_body(response, svc._session)
        finally:
            response.close()

    def _async_once(self, svc, query, maxrec, uploads):
        from pyvo.dal import DALServiceError
        job = svc.submit_job(query, maxrec=maxrec, uploads=uploads)
        session = svc._session
        job_timeout = min(self.job_timeout, max(0.0, session.remaining()))
        deadline = time.monotonic() + job_timeout
        session.deadline = deadline if session.deadline is None else \
            min(session.deadline, deadline)
        phase = None
        try:
            job.run()
            interval = 0.05
            while True:
                try:
                    phase = job.phase
                except DeadlinePassedError:
                    phase = phase or "PENDING"
                if phase in ("COMPLETED", "ERROR", "ABORTED"):
                    break
                if time.monotonic() >= deadline:
                    raise DeadlinePassedError(
                        f"asynchronous job {job.url} still {phase} after "
                        f"{job_timeout:.0f} s", url=self.url, query=query)
                time.sleep(min(interval, max(0.0, deadline - time.monotonic())))
                interval = min(interval * 1.5, 5.0)
            if phase != "COMPLETED":
                summary = job._job.errorsummary
                message = summary.message.content if summary is not None and \
                    summary.message is not None else ""
                if not message:  # some services give the error as the result document
                    try:
                        r = svc._session.get(f"{job.url}/error")
                        message = _server_message(r.content, "")
                    except requests.RequestException:
                        message = ""
                raise ServiceError(f"asynchronous job ended in {phase}", url=self.url,
                                   query=query, server_message=message or "(no message)")
            result_url = job.result_uri or f"{job.url}/results/result"
            response = svc._session.get(result_url, stream=True)
            try:
                self._check_response(response, query)
                return _read_body(response, session)
            finally:
                response.close()
        finally:
            # clean-up requests get their own short budget: the deadline may have passed
            session.deadline = time.monotonic() + min(self.timeout, 10.0)
            cleanup_errors = (DALServiceError, requests.RequestException, QueryTimeoutError)
            if phase not in ("COMPLETED", "ERROR", "ABORTED"):  # deadline, Ctrl-C, error
                try:
                    job.abort()
                except cleanup_errors:
                    pass
            try:
                job.delete()
            except cleanup_errors:
                log.debug("could not delete job %s", getattr(job, "url", "?"))

    def _attempt(self, query, maxrec, uploads, mode, deadline=None):
        from pyvo.dal import DALQueryError, DALRateLimitError, DALServiceError
        try:
            with _TimeoutSession(self.timeout, deadline) as session:
                data = (self._async_once if mode == "async" else self._sync_once)(
                    self.service(session), query, maxrec, uploads)
            vt, table, status, message = _parse(data)
            if table is None:
                raise ServiceError("the service rejected the query", url=self.url,
                                   query=query, server_message=message)
            return data, vt, table, status
        except (_Retryable, ServiceError, QueryTimeoutError):
            raise
        except DALRateLimitError as exc:
            raise _Retryable("rate", str(exc), wait=exc.retry_after_seconds) from exc
        except DALQueryError as exc:
            raise ServiceError("the service rejected the query", url=self.url, query=query,
                               server_message=str(exc.reason or exc)) from exc
        except DALServiceError as exc:
            if _is_timeout(exc):
                raise _Retryable("timeout", f"no answer within {self.timeout} s") from exc
            code = getattr(exc, "code", None)
            if code is None or code >= 500:
                raise _Retryable("http", str(exc)) from exc
            raise ServiceError(f"HTTP {code} from the service", url=self.url, query=query,
                               server_message=str(exc.reason or exc)) from exc
        except requests.RequestException as exc:
            if _is_timeout(exc):
                raise _Retryable("timeout", f"no answer within {self.timeout} s") from exc
            raise _Retryable("http", f"{type(exc).__name__}: {exc}") from exc
        except Exception as exc:
            if _is_timeout(exc):
                raise _Retryable("timeout", f"no answer within {self.timeout} s") from exc
            raise

    # --- public ----------------------------------------------------------------------
    def query(self, query, *, uploads=None, maxrec=None, capped=False, mode="auto",
              use_cache=None):
        """Run an ADQL query and return its complete result.

        Parameters
        ----------
        query : str
            ADQL (build it with :mod:`astro_ocl.sources.archives.adql`).
        uploads : dict, optional
            ``{name: table}`` uploaded as ``TAP_UPLOAD.name``.
        maxrec : int, optional
            Row limit (default ``conf.row_limit``).
        capped : bool
            The caller wants at most ``maxrec`` rows: reaching the limit warns
            (`~astro_ocl.exceptions.RowLimitWarning`) instead of raising.
        mode : {"auto", "sync", "async"}
            ``auto``: synchronous up to :data:`SYNC_ROW_LIMIT` rows, else async.
        use_cache : bool, optional
            Default: whether this client has a cache.

        Returns
        -------
        `~astropy.table.QTable`
            With ``meta["provenance"]`` (service, query, UTC time, rows, version).

        Raises
        ------
        ServiceError
            The service rejected the query or kept failing.
        QueryTimeoutError
            No answer within the timeout after every retry.
        RowLimitError
            The result reached ``maxrec`` and ``capped`` is false.
        """
        if mode not in ("auto", "sync", "async"):
            raise ValueError(f"mode must be 'auto', 'sync' or 'async', not {mode!r}")
        maxrec = int(conf.row_limit if maxrec is None else maxrec)
        if maxrec < 1:
            raise ValueError("maxrec must be at least 1")
        if mode == "auto":
            mode = "sync" if maxrec <= SYNC_ROW_LIMIT else "async"
        uploads = {k: (upload_table(v) if isinstance(v, Table) else v)
                   for k, v in (uploads or {}).items()} or None
        cache = self.cache if use_cache is not False else None
        if use_cache and cache is None:
            cache = QueryCache()
        key = None
        if cache is not None:
            key = cache.key(self.url, query, maxrec=maxrec, uploads=uploads)
            # a truncated (capped) result never answers an uncapped request
            hit = cache.get(key, allow_truncated=capped)
            if hit is not None:
                data, prov = hit
                log.info("cache hit %s (%d rows, %s)", key[:12], prov.get("rows", -1),
                         prov.get("time_utc"))
                vt, table, status, _ = _parse(data)
                if cache.is_truncated(prov):
                    warnings.warn(f"the cached result has {len(table)} rows and reached the "
                                  f"row limit maxrec={maxrec}: it may be truncated (capped "
                                  "sample as asked)", RowLimitWarning)
                return self._finish(vt, table, status, prov)

        log.info("%s query (%s, maxrec=%d): %s", self.name, mode, maxrec,
                 " ".join(query.split())[:300])
        t0 = time.perf_counter()
        deadline = time.monotonic() + self.deadline
        last = result = None
        for attempt in range(self.retries + 1):
            try:
                result = self._attempt(query, maxrec, uploads, mode, deadline)
                break
            except DeadlinePassedError as exc:
                raise QueryTimeoutError(
                    f"no complete answer in time (query deadline {self.deadline:g} s, "
                    f"asynchronous job deadline {self.job_timeout:g} s; conf.query_deadline, "
                    f"conf.job_timeout): {str(exc).splitlines()[0]}", url=self.url,
                    query=query) from exc
            except _Retryable as exc:
                last = exc
                if attempt >= self.retries:
                    break
                wait = self.backoff * 2 ** attempt
                if exc.wait is not None:
                    wait = max(wait, exc.wait)
                wait = min(wait, self.max_wait)
                if time.monotonic() + wait >= deadline:
                    raise QueryTimeoutError(
                        f"no complete answer within the query deadline of {self.deadline:g} s "
                        f"(conf.query_deadline) after {attempt + 1} attempts: {exc.message}",
                        url=self.url, query=query) from exc
                log.warning("%s: %s; retry %d/%d in %.1f s", self.name, exc.message,
                            attempt + 1, self.retries, wait)
                time.sleep(wait)
        if result is None:
            kind = QueryTimeoutError if last.kind == "timeout" else ServiceError
            raise kind(f"query failed after {self.retries + 1} attempts: {last.message}",
                       url=self.url, query=query, server_message=last.message) from last
        data, vt, table, status = result
        n = len(table)
        overflow = status == "OVERFLOW" or n >= maxrec
        if overflow:
            msg = (f"the result has {n} rows and reached the row limit maxrec={maxrec}"
                   f"{' (service says OVERFLOW)' if status == 'OVERFLOW' else ''}: it may be "
                   "truncated")
            if not capped:
                raise RowLimitError(msg + "; raise maxrec or narrow the query", url=self.url,
                                    query=query)
            warnings.warn(msg + " (capped sample as asked)", RowLimitWarning)
        log.info("%s: %d rows in %.2f s", self.name, n, time.perf_counter() - t0)
        prov = None
        if cache is not None:
            # the cache stores the bytes this table was parsed from: a hit is identical
            try:
                prov = cache.put(key, data, url=self.url, query=query, n_rows=n,
                                 uploads=uploads, maxrec=maxrec, truncated=overflow)
            except OSError as exc:  # the result is not lost for a cache that cannot be written
                warnings.warn(f"the result of {self.name} was not cached in {cache.directory} "
                              f"({exc}); it is returned uncached", AstroOCLWarning)
        if prov is None:
            prov = {"service": self.url, "query": query, "rows": n,
                    "time_utc": datetime.datetime.now(datetime.timezone.utc).isoformat(
                        timespec="seconds"),
                    "package": "astro_ocl", "version": __version__,
                    "uploads": sorted(uploads or {}), "maxrec": maxrec,
                    "truncated": bool(overflow)}
        return self._finish(vt, table, status, prov)

    def _finish(self, vt, table, status, prov):
        out = _to_qtable(vt, table, status)
        out.meta["provenance"] = dict(prov)
        return out

    def run_sync(self, query, **kwargs):
        """:meth:`query` with ``mode="sync"``."""
        return self.query(query, mode="sync", **kwargs)

    def run_async(self, query, **kwargs):
        """:meth:`query` with ``mode="async"``."""
        return self.query(query, mode="async", **kwargs)
