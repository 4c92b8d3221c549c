"""Fixtures of the publication tests: a built catalogue, and a real SAMP hub with
TOPCAT under Xvfb for the integration tests.

The SAMP fixtures start each helper under ``setsid`` so that its whole process
group (TOPCAT's shell wrapper and its java child) is killed at teardown. A
missing ``topcat``/``Xvfb`` fails the tests when ``CI`` is set and skips them
otherwise.
"""
import os
import shutil
import signal
import subprocess
import tempfile
import time
from pathlib import Path

import pytest


@pytest.fixture(scope="session")
def result():
    """The catalogue built offline from the embedded sample (few realisations: fast)."""
    import inspect

    from astro_ocl.pipeline import build_catalogue
    params = inspect.signature(build_catalogue).parameters
    # the gradient fits (emcee) are not published by these tests: skip them when the
    # pipeline has them, and keep the orbit Monte Carlo short
    fast = {k: v for k, v in (("gradients", False), ("orbit_samples", 10)) if k in params}
    return build_catalogue(surveys=["lamost_lrs"], seed=1, n_realisations=200, **fast)


@pytest.fixture(scope="session")
def built_dir(result, tmp_path_factory):
    """``result`` written as ``astro-ocl build`` writes it (for ``--catalogue DIR``)."""
    path = tmp_path_factory.mktemp("built") / "catalogue"
    result.write(path)
    return path


def need_tool(*names):
    """Fail (under CI) or skip when one of the executables is missing."""
    missing = [n for n in names if shutil.which(n) is None]
    if missing:
        msg = f"missing {', '.join(missing)} (Debian packages: bash tools/system-deps.sh)"
        if os.environ.get("CI"):
            pytest.fail(msg)
        pytest.skip(msg)


def _start(cmd, log, *, env=None, pass_fds=()):
    """Start ``cmd`` as the leader of a new session (own process group)."""
    return subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT, env=env,
                            start_new_session=True, pass_fds=pass_fds)


def _kill_group(proc):
    try:
        os.killpg(proc.pid, signal.SIGTERM)
    except ProcessLookupError:
        return
    try:
        proc.wait(timeout=10)
    except subprocess.TimeoutExpired:
        try:
            os.killpg(proc.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        proc.wait(timeout=5)


def _wait_for(predicate, timeout, what, logs=()):
    t0 = time.monotonic()
    while time.monotonic() - t0 < timeout:
        if predicate():
            return time.monotonic() - t0
        time.sleep(0.2)
    text = "\n".join(f"--- {p}:\n{Path(p).read_text(errors='replace')[-2000:]}"
                     for p in logs if Path(p).exists())
    pytest.fail(f"{what} did not start within {timeout} s\n{text}")


@pytest.fixture(scope="session")
def samp_hub():
    """A JSAMP hub (TOPCAT's) on 127.0.0.1 with a private lockfile; yields SAMP_HUB."""
    need_tool("topcat")
    work = Path(tempfile.mkdtemp(prefix="astro_ocl_samp_"))
    lock = work / "samp.lock"
    hub_url = f"std-lockurl:file://{lock}"
    log = open(work / "hub.log", "w")
    proc = _start(["topcat", "-Djsamp.localhost=127.0.0.1", "-jsamp", "hub", "-mode", "no-gui",
                   "-profiles", "std"], log, env={**os.environ, "SAMP_HUB": hub_url})
    try:
        _wait_for(lambda: lock.exists() and lock.stat().st_size > 0, 60, "SAMP hub",
                  [work / "hub.log"])
        yield {"SAMP_HUB": hub_url, "work": work, "lockfile": lock}
    finally:
        _kill_group(proc)
        log.close()
        shutil.rmtree(work, ignore_errors=True)


@pytest.fixture(scope="session")
def xvfb():
    """An Xvfb server on a free display (``-displayfd``); yields the DISPLAY string."""
    need_tool("Xvfb")
    rfd, wfd = os.pipe()
    log = tempfile.TemporaryFile()
    proc = _start(["Xvfb", "-displayfd", str(wfd), "-screen", "0", "1280x1024x24",
                   "-nolisten", "tcp"], log, pass_fds=(wfd,))
    os.close(wfd)
    try:
        import select
        ready, _, _ = select.select([rfd], [], [], 30)
        if not ready:
            pytest.fail("Xvfb did not report a display within 30 s")
        display = ":" + os.read(rfd, 64).decode().strip()
        yield display
    finally:
        os.close(rfd)
        _kill_group(proc)
        log.close()


@pytest.fixture(scope="session")
def topcat(samp_hub, xvfb):
    """Real TOPCAT registered with the hub (``-samp -nohub``) on the Xvfb display.

    Yields a dict with ``SAMP_HUB`` and TOPCAT's client id (``client_id``).
    """
    from pyvo.samp import SAMPIntegratedClient
    work = samp_hub["work"]
    env = {**os.environ, "SAMP_HUB": samp_hub["SAMP_HUB"], "DISPLAY": xvfb}
    log = open(work / "topcat.log", "w")
    proc = _start(["topcat", "-Djsamp.localhost=127.0.0.1", "-samp", "-nohub"], log, env=env)
    old = os.environ.get("SAMP_HUB")
    os.environ["SAMP_HUB"] = samp_hub["SAMP_HUB"]
    found = {}

    def registered():
        client = SAMPIntegratedClient(name="astro_ocl-test-probe", addr="127.0.0.1")
        try:
            client.connect()
        except Exception:  # hub not answering yet
            return False
        try:
            for cid in client.get_subscribed_clients("table.load.votable"):
                if client.get_metadata(cid).get("samp.name", "").lower() == "topcat":
                    found["client_id"] = cid
                    return True
            return False
        finally:
            client.disconnect()
    try:
        _wait_for(registered, 120, "TOPCAT (SAMP registration)", [work / "topcat.log"])
        yield {"SAMP_HUB": samp_hub["SAMP_HUB"], "client_id": found["client_id"],
               "log": work / "topcat.log"}
    finally:
        if old is None:
            os.environ.pop("SAMP_HUB", None)
        else:
            os.environ["SAMP_HUB"] = old
        _kill_group(proc)
        log.close()


#: What votlint (STILTS 3.4, VOTable <= 1.4) says of a MIVOT block: VOTable 1.4 lets a
#: RESOURCE hold elements of other namespaces (its schema validation, which votlint
#: runs, passes) and MIVOT 1.0 puts its VODML element there; votlint only says that
#: it does not check it. The block is checked against the MIVOT schema instead
#: (tests/publish/test_mivot.py).
MIVOT_NOTICE = "Element VODML in foreign namespace (http://www.ivoa.net/xml/mivot)"


def _votlint(path, *, raw=False):
    """Run STILTS votlint on ``path``; return its WARNING/ERROR lines (it always exits 0).

    The one notice about a MIVOT block (`MIVOT_NOTICE`) is left out unless ``raw``.
    """
    out = subprocess.run(["stilts", "votlint", "ucd=true", "unit=true", f"votable={path}"],
                         capture_output=True, text=True, timeout=120)
    text = out.stdout + out.stderr
    return [line for line in text.splitlines()
            if (line.startswith(("WARNING", "ERROR", "FATAL")) or "Exception" in line)
            and (raw or not (line.startswith("WARNING") and line.endswith(MIVOT_NOTICE)))]


@pytest.fixture
def votlint():
    """The function running STILTS votlint (skips, or fails under CI, without stilts)."""
    need_tool("stilts")
    return _votlint
