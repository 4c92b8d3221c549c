"""Fixtures of the archive tests: the local DaCHS TAP server and a misbehaving TAP server.

``tap_url``
    The local DaCHS server started by ``tools/tap-server.sh start`` (env
    ``ASTRO_OCL_TAP_URL``, default http://127.0.0.1:8080/tap). Unreachable: the
    test fails under CI (``CI`` set) and is skipped otherwise.
``local_services``
    ``conf`` pointed at that server, with the real service table names mapped to
    the local ones and a private cache directory.
``fault_server``
    A stdlib HTTP server on 127.0.0.1 (port 0, in a thread) speaking just enough
    TAP (/sync, /async job lifecycle) to misbehave on purpose.
"""
import os
import threading
import time
import urllib.request
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs

import pytest

from astro_ocl import conf

DEFAULT_TAP_URL = "http://127.0.0.1:8080/tap"

#: real service table name -> table of the local DaCHS server (tools/dachs/*/q.rd)
LOCAL_TABLES = {
    "gaia_dr2_table": "gaiadr2.gaia_source",
    "cg2020_members_table": "cg2020.nodup",
    "cg2020_clusters_table": "cg2020.table1",
    "lamost_table": "lamost.lrs_stellar",
}


@pytest.fixture(scope="session")
def tap_url():
    url = os.environ.get("ASTRO_OCL_TAP_URL", DEFAULT_TAP_URL).rstrip("/")
    try:
        with urllib.request.urlopen(url + "/capabilities", timeout=5) as r:
            r.read()
    except OSError as exc:
        msg = (f"local TAP server not reachable at {url} ({exc}); start it with "
               "`bash tools/tap-server.sh start`")
        if os.environ.get("CI"):
            pytest.fail(msg)
        pytest.skip(msg)
    return url


@pytest.fixture
def local_services(tap_url, tmp_path):
    items = dict(LOCAL_TABLES, gaia_tap_url=tap_url, vizier_tap_url=tap_url,
                 cache_dir=str(tmp_path / "cache"), timeout=30.0)
    saved = {k: getattr(conf, k) for k in items}
    for k, v in items.items():
        setattr(conf, k, v)
    try:
        yield tap_url
    finally:
        for k, v in saved.items():
            setattr(conf, k, v)


@pytest.fixture
def cache_dir(tmp_path):
    with conf.set_temp("cache_dir", str(tmp_path / "cache")):
        yield tmp_path / "cache"


# --- the misbehaving TAP server ------------------------------------------------------

def votable(n_rows, *, status="OK", message=""):
    rows = "".join(f"<TR><TD>{1000 + i}</TD><TD>{10.0 + i / 10}</TD><TD>{-5.0 + i / 10}</TD>"
                   f"<TD>{0.1 * i}</TD></TR>" for i in range(n_rows))
    info = f'<INFO name="QUERY_STATUS" value="{status}">{message}</INFO>'
    table = "" if status == "ERROR" else f"""
  <TABLE name="result">
   <FIELD name="source_id" datatype="long" ucd="meta.id;meta.main"/>
   <FIELD name="ra" datatype="double" unit="deg" ucd="pos.eq.ra;meta.main"/>
   <FIELD name="dec" datatype="double" unit="deg" ucd="pos.eq.dec;meta.main"/>
   <FIELD name="feh" datatype="double" unit="[-]"/>
   <DATA><TABLEDATA>{rows}</TABLEDATA></DATA>
  </TABLE>"""
    return f"""<?xml version="1.0" encoding="utf-8"?>
<VOTABLE version="1.4" xmlns="http://www.ivoa.net/xml/VOTable/v1.3">
 <RESOURCE type="results">
  {info}{table}
 </RESOURCE>
</VOTABLE>""".encode()


def uws_job(base, phase, message=""):
    error = (f'<uws:errorSummary type="fatal" hasDetail="false"><uws:message>{message}'
             "</uws:message></uws:errorSummary>") if phase == "ERROR" else ""
    results = (f'<uws:results><uws:result id="result" xlink:href="{base}/async/job1/results/'
               'result"/></uws:results>') if phase == "COMPLETED" else "<uws:results/>"
    return f"""<?xml version="1.0" encoding="UTF-8"?>
<uws:job xmlns:uws="http://www.ivoa.net/xml/UWS/v1.0" xmlns:xlink="http://www.w3.org/1999/xlink"
  xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">
 <uws:jobId>job1</uws:jobId>
 <uws:runId/>
 <uws:ownerId xsi:nil="true"/>
 <uws:phase>{phase}</uws:phase>
 <uws:quote xsi:nil="true"/>
 <uws:creationTime>2026-01-01T00:00:00Z</uws:creationTime>
 <uws:startTime xsi:nil="true"/>
 <uws:endTime xsi:nil="true"/>
 <uws:executionDuration>600</uws:executionDuration>
 <uws:destruction xsi:nil="true"/>
 <uws:parameters/>
 {results}
 {error}
</uws:job>""".encode()


class FaultServer:
    """Scripted misbehaviour: ``script`` is consumed one action per query.

    Actions: ``("ok", n)``, ``("500",)``, ``("429", retry_after)``, ``("hang", seconds)``,
    ``("truncated",)``, ``("limit",)`` (exactly MAXREC rows), ``("bad_adql",)`` (HTTP 400
    with an error VOTable), ``("async_error", message)`` (the async job ends in ERROR),
    ``("async_stuck",)`` (the async job stays EXECUTING), ``("trickle", seconds)`` (a
    complete result sent one byte every ``seconds``).
    """

    def __init__(self):
        self.script = []
        self.requests = []
        self.async_phase = "PENDING"
        self.async_action = None
        self.async_maxrec = None
        server = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.0"

            def log_message(self, *args):
                pass

            def _send(self, code, body=b"", ctype="application/x-votable+xml", headers=()):
                self.send_response(code)
                self.send_header("Content-Type", ctype)
                self.send_header("Content-Length", str(len(body)))
                for k, v in headers:
                    self.send_header(k, v)
                self.end_headers()
                if body:
                    try:
                        self.wfile.write(body)
                    except (BrokenPipeError, ConnectionResetError):
                        pass

            def _params(self):
                n = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(n) if n else b""
                ctype = self.headers.get("Content-Type", "")
                if "multipart" in ctype:
                    out = {}
                    for part in body.split(b"\r\n--"):
                        if b'name="' in part:
                            name = part.split(b'name="', 1)[1].split(b'"', 1)[0].decode()
                            val = part.split(b"\r\n\r\n", 1)[-1].rstrip(b"\r\n-")
                            out[name.upper()] = val.decode("utf-8", "replace")
                    return out
                return {k.upper(): v[0] for k, v in parse_qs(body.decode()).items()}

            def _base(self):
                return f"http://127.0.0.1:{server.port}"

            def _act(self, action, maxrec):
                kind = action[0]
                if kind == "ok":
                    return self._send(200, votable(action[1]))
                if kind == "limit":
                    return self._send(200, votable(maxrec))
                if kind == "500":
                    return self._send(500, b"internal error", "text/plain")
                if kind == "429":
                    return self._send(429, b"slow down", "text/plain",
                                      headers=[("Retry-After", str(action[1]))])
                if kind == "hang":
                    time.sleep(action[1])
                    return self._send(200, votable(3))
                if kind == "truncated":
                    body = votable(50)
                    self.send_response(200)
                    self.send_header("Content-Type", "application/x-votable+xml")
                    self.end_headers()
                    self.wfile.write(body[: len(body) // 2])
                    return None
                if kind == "trickle":  # a complete VOTable, one byte every action[1] s
                    body = votable(3)
                    self.send_response(200)
                    self.send_header("Content-Type", "application/x-votable+xml")
                    self.send_header("Content-Length", str(len(body)))
                    self.end_headers()
                    try:
                        for i in range(len(body)):
                            self.wfile.write(body[i:i + 1])
                            self.wfile.flush()
                            time.sleep(action[1])
                    except (BrokenPipeError, ConnectionResetError):
                        pass
                    return None
                if kind == "bad_adql":
                    return self._send(400, votable(0, status="ERROR",
                                                   message="Could not parse your query"))
                raise AssertionError(f"unknown action {action}")

            def do_GET(self):
                server.requests.append(("GET", self.path))
                base = self._base()
                if self.path.startswith("/tap/async/job1/results/result"):
                    return self._act(server.async_action, server.async_maxrec)
                if self.path.startswith("/tap/async/job1/phase"):
                    return self._send(200, server.async_phase.encode(), "text/plain")
                if self.path.startswith("/tap/async/job1/error"):
                    return self._send(200, b"job failed", "text/plain")
                if self.path.startswith("/tap/async/job1"):
                    return self._send(200, uws_job(base + "/tap", server.async_phase,
                                                   server.async_message), "text/xml")
                return self._send(404, b"not found", "text/plain")

            def do_POST(self):
                params = self._params()
                server.requests.append(("POST", self.path, params.get("QUERY")))
                maxrec = int(params.get("MAXREC", 1000))
                if self.path == "/tap/sync":
                    action = server.script.pop(0) if server.script else ("ok", 3)
                    return self._act(action, maxrec)
                if self.path == "/tap/async":
                    action = server.script.pop(0) if server.script else ("ok", 3)
                    server.async_action, server.async_maxrec = action, maxrec
                    server.async_phase = "PENDING"
                    server.async_message = ""
                    return self._send(303, b"", "text/plain",
                                      headers=[("Location", self._base() + "/tap/async/job1")])
                if self.path == "/tap/async/job1/phase":
                    if server.async_action[0] == "async_stuck":  # runs for ever
                        server.async_phase = "EXECUTING"
                    elif server.async_action[0] == "async_error":
                        server.async_phase = "ERROR"
                        server.async_message = server.async_action[1]
                    else:
                        server.async_phase = "COMPLETED"
                    return self._send(303, b"", "text/plain",
                                      headers=[("Location", self._base() + "/tap/async/job1")])
                if self.path == "/tap/async/job1":  # ACTION=DELETE
                    return self._send(303, b"", "text/plain",
                                      headers=[("Location", self._base() + "/tap/async")])
                return self._send(404, b"not found", "text/plain")

            def do_DELETE(self):
                server.requests.append(("DELETE", self.path))
                return self._send(303, b"", "text/plain",
                                  headers=[("Location", self._base() + "/tap/async")])

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.port = self.httpd.server_address[1]
        self.url = f"http://127.0.0.1:{self.port}/tap"
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.async_message = ""

    def queries(self):
        return [r for r in self.requests if r[0] == "POST" and r[1] in ("/tap/sync", "/tap/async")]


@pytest.fixture
def fault_server():
    server = FaultServer()
    server.thread.start()
    try:
        yield server
    finally:
        server.httpd.shutdown()
        server.httpd.server_close()


def fault_client(server, tmp_path, **kw):
    """A TAP client of the fault server with short timeouts and its own cache."""
    from astro_ocl.sources.archives.cache import QueryCache
    from astro_ocl.sources.archives.tap import TAPClient
    kw.setdefault("timeout", 2.0)
    kw.setdefault("retries", 2)
    kw.setdefault("backoff", 0.05)
    kw.setdefault("max_wait", 2.0)
    return TAPClient(server.url, cache=QueryCache(tmp_path / "cache"), **kw)
