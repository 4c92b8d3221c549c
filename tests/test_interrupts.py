"""Issue 11 item 1: an interrupted command ends all its children and writes nothing.

Each test runs a real ``python -m astro_ocl.cli`` in its own session, waits for a
point of the run named by its debug log, sends SIGINT or SIGTERM after a delay and
checks: exit status non-zero, a one-line message, the previous output untouched, no
temporary output left, and no process of the session alive afterwards (forked
workers re-parented to init would be found by their session id in ``/proc``).
"""
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"),
                                reason="reads /proc to find surviving processes")

ROOT = Path(__file__).resolve().parents[1]


def _session_pids(sid):
    """Pids of the live (non-zombie) processes of session ``sid``."""
    pids = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            stat = Path(f"/proc/{entry}/stat").read_text()
        except OSError:
            continue
        fields = stat[stat.rindex(")") + 2:].split()
        # fields[0] state, [1] ppid, [2] pgrp, [3] session
        if int(fields[3]) == sid and fields[0] != "Z":
            pids.append(int(entry))
    return pids


def _children(pid):
    out = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                stat = Path(f"/proc/{entry}/stat").read_text()
            except OSError:
                continue
            if int(stat[stat.rindex(")") + 2:].split()[1]) == pid:
                out.append(int(entry))
    return out


class _Run:
    """A CLI subprocess in a new session whose stderr is read line by line."""

    def __init__(self, args, cwd):
        env = dict(os.environ, PYTHONPATH=str(ROOT), MPLBACKEND="Agg")
        self.proc = subprocess.Popen([sys.executable, "-m", "astro_ocl.cli", "-vv", *args],
                                     cwd=cwd, env=env, stdout=subprocess.DEVNULL,
                                     stderr=subprocess.PIPE, text=True,
                                     start_new_session=True)
        self.lines = []
        self._seen = threading.Condition()
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self):
        for line in self.proc.stderr:
            with self._seen:
                self.lines.append(line.rstrip("\n"))
                self._seen.notify_all()
        with self._seen:
            self.lines.append(None)
            self._seen.notify_all()

    def wait_for(self, text, timeout=120):
        deadline = time.monotonic() + timeout
        with self._seen:
            while True:
                if any(line is not None and text in line for line in self.lines):
                    return
                if None in self.lines:
                    pytest.fail(f"exited before {text!r}: {self.lines}")
                left = deadline - time.monotonic()
                if left <= 0:
                    pytest.fail(f"no {text!r} within {timeout} s: {self.lines}")
                self._seen.wait(left)

    def finish(self, timeout=60):
        try:
            rc = self.proc.wait(timeout)
        except subprocess.TimeoutExpired:  # pragma: no cover - the bug itself
            os.killpg(self.proc.pid, signal.SIGKILL)
            pytest.fail("the interrupted command did not exit")
        with self._seen:
            while None not in self.lines:
                self._seen.wait(5)
        self.proc.stderr.close()
        return rc, [line for line in self.lines if line is not None]


def _survivors(sid, timeout=10):
    deadline = time.monotonic() + timeout
    while (left := _session_pids(sid)) and time.monotonic() < deadline:
        time.sleep(0.1)
    if left:
        os.killpg(sid, signal.SIGKILL)  # clean up for the next test
    return left


def _snapshot(path):
    path = Path(path)
    if path.is_file():
        return {path.name: path.read_bytes()}
    return {str(p.relative_to(path)): p.read_bytes() for p in sorted(path.rglob("*"))
            if p.is_file()}


def _check_interrupted(rc, lines, sig):
    assert rc != 0
    # 130 from astro-ocl's handler; CPython itself ends the process by SIGINT (-2 here,
    # also 130 in a shell) when the KeyboardInterrupt went through a C extension's
    # PyRun_* call, even though astro-ocl caught it: both are an interrupted exit
    assert rc in (130, -signal.SIGINT), (rc, lines[-6:])
    errors = [line for line in lines
              if not line.startswith(("DEBUG:", "INFO:", "WARNING:"))]
    if sig == signal.SIGINT and rc == -signal.SIGINT and not errors:
        # Known limit (issue 11): galpy's C integrator resets SIGINT to SIG_DFL when it
        # ends; the orbit step blocks signals in the main thread around it, but the
        # kernel may hand a SIGINT to another thread (OpenBLAS's) in that instant, and
        # the process dies without its message. Only allowed while orbits are being
        # integrated (before the build logs "built ..."); the outputs and children are
        # still checked by the caller.
        done = [line for line in lines if line.startswith("INFO: built ")]
        assert not done, ("killed by SIGINT without a message after the orbits", lines)
        return
    assert errors == ["interrupted"], lines


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM], ids=["SIGINT", "SIGTERM"])
@pytest.mark.parametrize("delay", [0.0, 1.5, 4.0])
def test_interrupted_build(tmp_path, sig, delay):
    out = tmp_path / "catalogue"
    out.mkdir()
    (out / "clusters.ecsv").write_text("# the previous output\n")
    before = _snapshot(out)
    run = _Run(["build", "--out", str(out), "--overwrite", "--seed", "1",
                "--realisations", "5000", "--orbit-samples", "100"], cwd=tmp_path)
    run.wait_for("build started")
    time.sleep(delay)
    assert run.proc.poll() is None, "the build ended before the signal"
    os.kill(run.proc.pid, sig)
    rc, lines = run.finish()
    _check_interrupted(rc, lines, sig)
    assert _survivors(run.proc.pid) == []
    assert _snapshot(out) == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["catalogue"]


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM], ids=["SIGINT", "SIGTERM"])
@pytest.mark.parametrize("delay", [0.0, 1.0])
def test_interrupted_emcee_workers(tmp_path, sig, delay):
    """``gradients --method emcee --jobs 2`` forks workers: all end with the parent."""
    out = tmp_path / "gradients.ecsv"
    out.write_text("# the previous output\n")
    before = _snapshot(out)
    run = _Run(["gradients", "--method", "emcee", "--jobs", "2", "--walkers", "32",
                "--steps", "200000", "--seed", "1", "--out", str(out), "--overwrite"],
               cwd=tmp_path)
    run.wait_for("worker processes started")
    time.sleep(delay)
    assert len(_children(run.proc.pid)) >= 2
    os.kill(run.proc.pid, sig)
    rc, lines = run.finish()
    _check_interrupted(rc, lines, sig)
    assert _survivors(run.proc.pid) == []
    assert _snapshot(out) == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["gradients.ecsv"]


def test_killed_parent_takes_workers_along(tmp_path):
    """Even SIGKILL of the parent (no handler can run) ends the workers."""
    run = _Run(["gradients", "--method", "emcee", "--jobs", "2", "--walkers", "32",
                "--steps", "200000", "--seed", "1", "--out", str(tmp_path / "g.ecsv")],
               cwd=tmp_path)
    run.wait_for("worker processes started")
    assert len(_children(run.proc.pid)) >= 2
    os.kill(run.proc.pid, signal.SIGKILL)
    rc, _ = run.finish()
    assert rc == -signal.SIGKILL
    assert _survivors(run.proc.pid) == []


def test_sigint_handler_survives_galpy_integration():
    """galpy's C integrator resets SIGINT to SIG_DFL; the orbit step puts Python's back."""
    code = ("import signal, astropy.units as u\n"
            "from astropy.coordinates import SkyCoord\n"
            "from astro_ocl.steps.dynamics import orbit_parameters\n"
            "c = SkyCoord(ra=[132.8]*u.deg, dec=[11.8]*u.deg, distance=[0.86]*u.kpc,\n"
            "             pm_ra_cosdec=[-11.]*u.mas/u.yr, pm_dec=[-2.9]*u.mas/u.yr,\n"
            "             radial_velocity=[34.]*u.km/u.s)\n"
            "orbit_parameters(c, n_samples=0)\n"
            "try:\n"
            "    signal.raise_signal(signal.SIGINT)\n"
            "except KeyboardInterrupt:\n"
            "    print('caught')\n")
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         env=env, timeout=300)
    assert out.stdout.strip() == "caught", (out.returncode, out.stderr[-2000:])
