"""SAMP: errors without a hub (offline), and the real thing (hub + TOPCAT under Xvfb)."""
import time

import pytest

from astro_ocl.exceptions import NoHubError, SAMPError
from astro_ocl.sinks.samp import SAMPConnection, send_table


def test_no_hub_clear_error(tmp_path, result):
    hub = f"std-lockurl:file://{tmp_path / 'no-such.lock'}"
    t0 = time.monotonic()
    with pytest.raises(NoHubError, match="start TOPCAT"):
        send_table(result.clusters, hub_url=hub, timeout=5)
    assert time.monotonic() - t0 < 10


def test_not_connected_error(result):
    with pytest.raises(SAMPError, match="not connected"):
        SAMPConnection().send_table(result.clusters)


def test_bad_via():
    with pytest.raises(ValueError):
        SAMPConnection(via="ftp")


@pytest.mark.integration
class TestTopcat:
    """Real TOPCAT: replies are samp.ok, it fetched the table, bad URLs give samp.error."""

    def test_ping(self, topcat):
        with SAMPConnection(timeout=20) as samp:
            replies = samp.ping(to="topcat")
        assert replies[topcat["client_id"]]["samp.status"] == "samp.ok"

    def test_send_select_point_http(self, topcat, result):
        with SAMPConnection(timeout=30, via="http") as samp:
            sent = samp.send_table(result.clusters, to="topcat", name="clusters",
                                   provenance=result.provenance)
            assert sent.replies[topcat["client_id"]]["samp.status"] == "samp.ok"
            assert sent.nrows == len(result.clusters)
            # TOPCAT fetched our VOTable over HTTP
            assert f"/{sent.table_id}.vot" in samp.http_requests
            rep = samp.select_rows(sent, [0, 2])
            assert rep[topcat["client_id"]]["samp.status"] == "samp.ok"
            rep = samp.point_at(result.clusters["coord"][0])
            # TOPCAT accepts the position; without an open sky plot it answers
            # samp.warning "coordinate pair not used by TOPCAT" (not an error)
            status = rep[topcat["client_id"]]["samp.status"]
            assert status in ("samp.ok", "samp.warning"), rep
            if status == "samp.warning":
                assert "received successfully" in rep[topcat["client_id"]]["samp.error"][
                    "samp.usertxt"]

    def test_send_members_file_url(self, topcat, result):
        with SAMPConnection(timeout=30) as samp:
            sent = samp.send_table(result.members, name="members")
            assert sent.url.startswith("file://")
            assert sent.replies[topcat["client_id"]]["samp.status"] == "samp.ok"
            # TOPCAT knows the table: a table.* call on its id succeeds
            rep = samp.select_rows(sent, [1])
            assert rep[topcat["client_id"]]["samp.status"] == "samp.ok"

    def test_broadcast(self, topcat, result):
        with SAMPConnection(timeout=30) as samp:
            sent = samp.send_table(result.clusters, to="all", name="clusters-broadcast")
        assert topcat["client_id"] in sent.replies
        assert all(r["samp.status"] == "samp.ok" for r in sent.replies.values())

    def test_negative_control_bad_url(self, topcat):
        with SAMPConnection(timeout=30) as samp:
            params = {"url": "http://127.0.0.1:1/missing.vot", "table-id": "bad", "name": "bad"}
            replies = samp.call("table.load.votable", params, to="topcat", check=False)
            assert replies[topcat["client_id"]]["samp.status"] == "samp.error"
            with pytest.raises(SAMPError, match="refused"):
                samp.call("table.load.votable", params, to="topcat")

    def test_unknown_recipient(self, topcat):
        with SAMPConnection(timeout=20) as samp:
            with pytest.raises(SAMPError, match="aladin"):
                samp.ping(to="aladin")

    def test_cli_samp_send(self, topcat, built_dir, capsys):
        from astro_ocl.cli import main
        rc = main(["samp", "send", "--to", "topcat", "--table", "clusters", "members",
                   "--select", "0", "1", "--point-at", "NGC_2682", "--catalogue",
                   str(built_dir), "--timeout", "30"])
        out = capsys.readouterr().out
        assert rc == 0, out
        cid = topcat["client_id"]
        assert f"clusters: 15 rows -> {cid}: samp.ok" in out
        assert f"members: 537 rows -> {cid}: samp.ok" in out
        assert f"clusters: select rows [0, 1] -> {cid}: samp.ok" in out
        assert f"point at NGC_2682 -> {cid}: samp." in out  # ok, or warning without a sky plot


def test_cli_send_without_hub(tmp_path, monkeypatch, capsys, built_dir):
    from astro_ocl.cli import main
    monkeypatch.setenv("SAMP_HUB", f"std-lockurl:file://{tmp_path / 'none.lock'}")
    rc = main(["samp", "send", "--catalogue", str(built_dir), "--timeout", "5"])
    err = capsys.readouterr().err
    assert rc == 1
    assert "no SAMP hub is running" in err and "astro-ocl samp hub" in err


def test_python_hub_command(tmp_path, monkeypatch, result):
    """``astro-ocl samp hub`` runs a pyvo.samp hub; with no TOPCAT on it, sending says so."""
    import os
    import signal
    import subprocess
    import sys
    lock = tmp_path / "hub.lock"
    logfile = open(tmp_path / "hub.log", "wb")
    proc = subprocess.Popen([sys.executable, "-m", "astro_ocl.cli", "samp", "hub", "--lockfile",
                             str(lock), "--timeout", "60"], start_new_session=True,
                            stdout=logfile, stderr=subprocess.STDOUT)
    try:
        t0 = time.monotonic()
        while not (lock.exists() and lock.stat().st_size) and time.monotonic() - t0 < 30:
            time.sleep(0.2)
        assert lock.exists(), (tmp_path / "hub.log").read_text()
        hub = f"std-lockurl:file://{lock}"
        with SAMPConnection(hub_url=hub, timeout=10) as samp:
            # the hub lists the other clients (SAMP excludes the caller)
            # pyvo.samp's hub (pyvo 1.9.0's copy still calls itself "Astropy SAMP Hub")
            assert {"PyVO SAMP Hub", "Astropy SAMP Hub"} & set(samp.clients().values())
            with pytest.raises(SAMPError, match="subscribed to table.load.votable"):
                samp.send_table(result.clusters, to="topcat")
        assert not samp.connected
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        proc.wait(timeout=10)
        logfile.close()
