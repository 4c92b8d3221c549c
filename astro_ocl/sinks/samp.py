"""Send our tables to TOPCAT (or any SAMP client) through `pyvo.samp`.

The table goes as the CDS VOTable itself (format ``"votable.cds"``), so
units, UCDs, descriptions and provenance survive in TOPCAT. Every connection
uses a new SAMP client (registered on entry, unregistered on exit) and every
call has a timeout::

    from astro_ocl.sinks.samp import SAMPConnection

    with SAMPConnection() as samp:                       # needs a running hub
        sent = samp.send_table(result.clusters, to="topcat", name="clusters")
        samp.select_rows(sent, [0, 3])                    # table.select.rowList
        samp.point_at(result.clusters["coord"][0])        # coord.pointAt.sky

``to`` is ``"topcat"`` (any client whose ``samp.name`` is TOPCAT), a client
id, or ``"all"``/``None`` to broadcast to every client subscribed to the
MType; each recipient is called and its reply awaited (``samp.ok`` or the
``samp.error`` text is raised as `~astro_ocl.exceptions.SAMPError`).

Without a hub, `~astro_ocl.exceptions.NoHubError` says how to start one:
start TOPCAT (it runs a hub) or ``astro-ocl samp hub`` (a `pyvo.samp` hub).
`astropy.samp` is deprecated in astropy 8; this module uses `pyvo.samp`.
"""
import functools
import http.server
import os
import shutil
import tempfile
import threading
import time
import uuid
import warnings
from dataclasses import dataclass, field
from pathlib import Path

from pyvo.samp import SAMPHubError, SAMPHubServer, SAMPIntegratedClient
from pyvo.samp.errors import SAMPClientError

from ..version import __version__
from ..config import conf
from ..exceptions import InputDataError, NoHubError, ParameterError, SAMPError
from ..logger import log
from .votable_cds import write_votable_cds

__all__ = ["SAMPConnection", "SentTable", "send_table", "run_hub", "DEFAULT_TIMEOUT",
           "NO_HUB_HELP"]

#: Seconds allowed for each SAMP call by default (TOPCAT answers table.load.votable
#: after loading); ``conf.samp_timeout`` overrides it when a call gives no timeout.
DEFAULT_TIMEOUT = 30


def _timeout(value):
    return float(conf.samp_timeout if value is None else value)


NO_HUB_HELP = ("no SAMP hub is running: start TOPCAT (it starts a hub), or run "
               "`astro-ocl samp hub` (a pyvo.samp hub) in another terminal")


@dataclass
class SentTable:
    """What :meth:`SAMPConnection.send_table` sent.

    Attributes
    ----------
    table_id : str
        The ``table-id`` given to the recipients (for later ``table.*`` calls).
    url : str
        Where the VOTable was served from.
    replies : dict
        ``{client id: SAMP response}`` of every recipient.
    nrows : int
        Number of rows.
    """

    table_id: str
    url: str
    replies: dict = field(default_factory=dict)
    nrows: int = 0


def _bounded(func, *args, timeout, what):
    """Run ``func(*args)`` in a worker thread; `SAMPError` after ``timeout`` seconds."""
    box = {}

    def target():
        try:
            box["value"] = func(*args)
        except BaseException as exc:  # re-raised in the caller's thread
            box["error"] = exc
    worker = threading.Thread(target=target, daemon=True, name=f"samp-{what}")
    worker.start()
    worker.join(timeout)
    if worker.is_alive():
        raise SAMPError(f"SAMP {what} did not answer within {timeout} s")
    if "error" in box:
        raise box["error"]
    return box.get("value")


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, fmt, *args):  # record instead of printing to stderr
        self.server.requests.append(self.path)
        log.debug("SAMP HTTP %s", fmt % args)


class SAMPConnection:
    """A SAMP client registered with the running hub (a context manager).

    Parameters
    ----------
    name : str
        ``samp.name`` of our client.
    timeout : float, optional
        Seconds allowed for each call (default ``conf.samp_timeout``, 30 s).
    hub_url : str, optional
        The hub to use, as in the ``SAMP_HUB`` environment variable (e.g.
        ``std-lockurl:file:///tmp/samp.lock``); default: ``SAMP_HUB`` or
        ``~/.samp``.
    via : {"file", "http"}
        How recipients fetch our VOTables: ``file://`` URLs (same machine, the
        normal SAMP case) or a loopback HTTP server run by this connection
        (:attr:`http_requests` then lists what was fetched).
    """

    def __init__(self, *, name="astro_ocl", timeout=None, hub_url=None, via="file"):
        if via not in ("file", "http"):
            raise ParameterError("via", via, "one of 'file', 'http'")
        self.name, self.timeout, self.hub_url, self.via = name, _timeout(timeout), hub_url, via
        self.client = None
        self._dir = None
        self._http = None
        self.http_requests = []

    # -- connection ---------------------------------------------------------------
    def __enter__(self):
        self.connect()
        return self

    def __exit__(self, *exc):
        self.close()

    @property
    def connected(self):
        """True while registered with the hub."""
        return self.client is not None and self.client.is_connected

    def connect(self):
        """Register a new client with the hub.

        Raises
        ------
        `~astro_ocl.exceptions.NoHubError`
            No hub is running (or it does not answer).
        """
        if self.connected:
            return self
        old = os.environ.get("SAMP_HUB")
        if self.hub_url:
            os.environ["SAMP_HUB"] = self.hub_url
        client = SAMPIntegratedClient(
            name=self.name, description="astro_ocl: Galactic open clusters (Fu et al. 2022)",
            metadata={"astro_ocl.version": __version__}, addr="127.0.0.1")
        try:
            _bounded(client.connect, timeout=self.timeout, what="hub connection")
        except (SAMPHubError, SAMPClientError, ConnectionError, OSError) as exc:
            raise NoHubError(f"{NO_HUB_HELP} ({exc})") from exc
        except SAMPError as exc:
            raise NoHubError(f"{NO_HUB_HELP} ({exc})") from exc
        finally:
            if self.hub_url:
                if old is None:
                    os.environ.pop("SAMP_HUB", None)
                else:
                    os.environ["SAMP_HUB"] = old
        self.client = client
        self._dir = Path(tempfile.mkdtemp(prefix="astro_ocl_samp_"))
        log.info("SAMP: connected as %s", client.get_public_id())
        return self

    def close(self):
        """Unregister from the hub, stop the HTTP server, remove the served files."""
        if self.client is not None:
            try:
                if self.client.is_connected:
                    _bounded(self.client.disconnect, timeout=self.timeout, what="disconnect")
            except Exception as exc:  # the hub may be gone already
                log.debug("SAMP disconnect: %s", exc)
            self.client = None
        if self._http is not None:
            self._http.shutdown()
            self._http.server_close()
            self._http = None
        if self._dir is not None:
            shutil.rmtree(self._dir, ignore_errors=True)
            self._dir = None

    def _need(self):
        if not self.connected:
            raise SAMPError("not connected to a SAMP hub (use `with SAMPConnection() as samp:`)")
        return self.client

    # -- clients ------------------------------------------------------------------
    def clients(self, mtype=None):
        """Registered clients (or those subscribed to ``mtype``): ``{id: samp.name}``."""
        client = self._need()
        if mtype:
            ids = _bounded(client.get_subscribed_clients, mtype, timeout=self.timeout,
                           what="getSubscribedClients")
        else:
            ids = _bounded(client.get_registered_clients, timeout=self.timeout,
                           what="getRegisteredClients")
        out = {}
        for cid in ids:
            md = _bounded(client.get_metadata, cid, timeout=self.timeout, what="getMetadata")
            out[cid] = md.get("samp.name", "")
        return out

    def recipients(self, to, mtype):
        """Client ids that ``to`` designates among the subscribers of ``mtype``.

        Parameters
        ----------
        to : str or None
            ``"all"``/None (every subscriber), a client name such as
            ``"topcat"`` (case-insensitive), or a client id.
        mtype : str
        """
        subs = self.clients(mtype)
        if to is None or to == "all":
            ids = list(subs)
        elif to in subs:
            ids = [to]
        else:
            ids = [cid for cid, name in subs.items() if name.lower() == str(to).lower()]
        if not ids:
            who = "" if to in (None, "all") else f" named {to!r}"
            running = ", ".join(n or i for i, n in self.clients().items()) or "none"
            raise SAMPError(f"no SAMP client{who} is subscribed to {mtype} (running clients: "
                            f"{running}); start TOPCAT or choose another recipient")
        return ids

    # -- calls --------------------------------------------------------------------
    def call(self, mtype, params, *, to="topcat", check=True):
        """Call ``mtype`` on the recipients and wait for each reply.

        Parameters
        ----------
        mtype : str
        params : dict
            ``samp.params`` (values are sent as strings).
        to : str or None
            See :meth:`recipients`.
        check : bool
            Raise `~astro_ocl.exceptions.SAMPError` on a ``samp.error`` reply.

        Returns
        -------
        dict
            ``{client id: response}``.
        """
        client = self._need()
        message = {"samp.mtype": mtype, "samp.params": params}
        replies = {}
        for cid in self.recipients(to, mtype):
            t0 = time.monotonic()
            try:
                # the hub's own timeout (whole seconds, 0 would mean none) + our guard
                reply = _bounded(client.call_and_wait, cid, message,
                                 str(max(1, int(round(self.timeout)))),
                                 timeout=self.timeout + 5, what=mtype)
            except SAMPError:
                raise
            except Exception as exc:  # pyvo raises SAMPProxyError on hub timeouts/faults
                raise SAMPError(f"{mtype} to {cid} failed: {exc}") from exc
            log.info("SAMP %s -> %s: %s (%.2f s)", mtype, cid, reply.get("samp.status"),
                     time.monotonic() - t0)
            replies[cid] = reply
            if reply.get("samp.status") == "samp.warning":
                err = reply.get("samp.error", {})
                log.warning("SAMP %s -> %s: %s", mtype, cid,
                            err.get("samp.errortxt") or err.get("samp.usertxt") or "warning")
            if check and reply.get("samp.status") == "samp.error":
                text = reply.get("samp.error", {}).get("samp.errortxt", "no error text")
                raise SAMPError(f"{mtype} refused by {cid}: {text}")
        return replies

    def ping(self, *, to="topcat"):
        """``samp.app.ping`` the recipients; returns their replies."""
        return self.call("samp.app.ping", {}, to=to)

    def _serve(self, path):
        if self.via == "file":
            return Path(path).resolve().as_uri()
        if self._http is None:
            handler = functools.partial(_QuietHandler, directory=str(self._dir))
            self._http = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
            self._http.requests = self.http_requests
            threading.Thread(target=self._http.serve_forever, daemon=True,
                             name="astro_ocl-samp-http").start()
        return f"http://127.0.0.1:{self._http.server_address[1]}/{Path(path).name}"

    def send_table(self, table, *, to="topcat", name=None, table_id=None, **write_kwargs):
        """Send a table as a CDS VOTable (``table.load.votable``).

        Parameters
        ----------
        table : `~astropy.table.Table` or `~astropy.table.QTable`
            Any of our tables (or a user's, with ``ucds``/``descriptions``).
        to : str or None
            ``"topcat"``, a client id, or ``"all"``/None to broadcast.
        name : str, optional
            Name shown by TOPCAT (default ``table.meta["name"]`` or "table").
        table_id : str, optional
            Identifier for later ``table.*`` messages (default: a new one).
        **write_kwargs
            Passed to `~astro_ocl.sinks.votable_cds.write_votable_cds` (e.g.
            ``provenance``, ``ucds``, ``descriptions``).

        Returns
        -------
        `SentTable`
        """
        self._need()
        name = name or table.meta.get("name") or "table"
        table_id = table_id or f"astro_ocl-{name}-{uuid.uuid4().hex[:8]}"
        path = self._dir / f"{table_id}.vot"
        write_votable_cds(table, path, table_name=name, overwrite=True, **write_kwargs)
        url = self._serve(path)
        replies = self.call("table.load.votable",
                            {"url": url, "table-id": table_id, "name": name}, to=to)
        return SentTable(table_id=table_id, url=url, replies=replies, nrows=len(table))

    def send_file(self, path, *, to="topcat", name=None, table_id=None):
        """Send an existing VOTable file (``table.load.votable``); returns a `SentTable`."""
        self._need()
        path = Path(path)
        if not path.is_file():
            raise InputDataError("no such VOTable file", source=str(path))
        table_id = table_id or f"astro_ocl-{path.stem}-{uuid.uuid4().hex[:8]}"
        if self.via == "http":
            shutil.copy(path, self._dir / path.name)
        url = self._serve(path if self.via == "file" else self._dir / path.name)
        replies = self.call("table.load.votable",
                            {"url": url, "table-id": table_id, "name": name or path.stem}, to=to)
        return SentTable(table_id=table_id, url=url, replies=replies)

    def select_rows(self, sent, rows, *, to="topcat", retry=10.0):
        """Select rows of a sent table (``table.select.rowList``, 0-based rows).

        TOPCAT adds a loaded table to its list asynchronously, so a ``samp.error``
        "no table" is retried for up to ``retry`` seconds.

        Parameters
        ----------
        sent : `SentTable`
        rows : sequence of int
        to : str or None
        retry : float
            Seconds to keep retrying while the recipient does not know the table yet.
        """
        params = {"table-id": sent.table_id, "url": sent.url,
                  "row-list": [str(int(r)) for r in rows]}
        t0 = time.monotonic()
        while True:
            try:
                return self.call("table.select.rowList", params, to=to)
            except SAMPError:
                if time.monotonic() - t0 > retry:
                    raise
                time.sleep(0.3)

    def point_at(self, coord, *, to="topcat"):
        """Point the recipients at a position (``coord.pointAt.sky``, ICRS degrees).

        TOPCAT answers ``samp.warning`` ("coordinate pair not used") when no
        sky window is open; that is logged, not raised.

        Parameters
        ----------
        coord : `~astropy.coordinates.SkyCoord`
            A scalar position (a cluster's ``coord``).
        """
        icrs = coord.icrs
        return self.call("coord.pointAt.sky",
                         {"ra": f"{icrs.ra.deg:.7f}", "dec": f"{icrs.dec.deg:.7f}"}, to=to)


def send_table(table, *, to="topcat", name=None, timeout=None, hub_url=None,
               **write_kwargs):
    """Send one table with a new connection (see `SAMPConnection.send_table`).

    Parameters
    ----------
    table : `~astropy.table.Table` or `~astropy.table.QTable`
    to : str or None
        ``"topcat"``, a client id, or ``"all"``/None to broadcast.
    name : str, optional
        Name shown by the recipient.
    timeout : float, optional
        Seconds per SAMP call (default ``conf.samp_timeout``, 30 s).
    hub_url : str, optional
        ``SAMP_HUB``-style hub address.

    Returns
    -------
    `SentTable`
    """
    with SAMPConnection(timeout=timeout, hub_url=hub_url) as samp:
        return samp.send_table(table, to=to, name=name, **write_kwargs)


def run_hub(*, lockfile=None, timeout=0):
    """Run a `pyvo.samp` hub on 127.0.0.1 until interrupted (or ``timeout`` s).

    Parameters
    ----------
    lockfile : str, optional
        Private lockfile (clients then need ``SAMP_HUB=std-lockurl:file://...``);
        default the standard ``~/.samp``.
    timeout : float
        Stop after this many seconds (0: run until Ctrl-C).
    """
    if lockfile:
        # pyvo looks for a running hub where SAMP_HUB points: make that our lockfile
        os.environ["SAMP_HUB"] = f"std-lockurl:{Path(lockfile).resolve().as_uri()}"
    hub = SAMPHubServer(addr="127.0.0.1", lockfile=lockfile, web_profile=False,
                        timeout=timeout)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        hub.start(wait=False)
    aborted = [str(w.message) for w in caught if "already running" in str(w.message)]
    if aborted or not hub.is_running:
        if hub.is_running:
            hub.stop()
        why = "; ".join(aborted) or "unknown reason"
        raise SAMPError(f"the SAMP hub did not start: {why}")
    log.info("SAMP hub running (lockfile %s)", lockfile or "~/.samp")
    try:
        while hub.is_running:
            time.sleep(0.5)
    except KeyboardInterrupt:
        pass
    finally:
        if hub.is_running:
            hub.stop()
