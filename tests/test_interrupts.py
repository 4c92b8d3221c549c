"""An interrupted command ends all its children and writes nothing.

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
from helpers import session_pids

pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"),
                                reason="reads /proc to find surviving processes")

ROOT = Path(__file__).resolve().parents[1]


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
    while (left := session_pids(sid)) and time.monotonic() < deadline:
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
    # always the one-line message: no thread but the main one takes SIGINT/SIGTERM,
    # so galpy's reset of SIGINT to SIG_DFL can never kill the process silently
    errors = [line for line in lines
              if not line.startswith(("DEBUG:", "INFO:", "WARNING:"))]
    assert errors == ["interrupted"], lines


def _interrupt(run, sig, out, before):
    """Send ``sig`` to the run: it ends interrupted (`_check_interrupted`), no process of
    its session survives, its output ``out`` is as it was (``before``, a `_snapshot`)
    and nothing else is left beside it."""
    os.kill(run.proc.pid, sig)
    rc, lines = run.finish()
    _check_interrupted(rc, lines, sig)
    assert _survivors(run.proc.pid) == []
    assert _snapshot(out) == before
    assert sorted(p.name for p in out.parent.iterdir()) == [out.name]


FULL = ["--realisations", "5000", "--orbit-samples", "100"]
LATE = ["--realisations", "2000", "--orbit-samples", "10"]


#: (log line to wait for, delay after it, build options): reading the inputs, the
#: Monte Carlo, the orbit integration (galpy's C code), writing the outputs.
POINTS = [("build started", 0.0, FULL), ("build started", 1.5, FULL),
          ("build started", 4.0, FULL), ("clusters: ", 0.3, FULL),
          ("built ", 0.0, LATE)]


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM], ids=["SIGINT", "SIGTERM"])
@pytest.mark.parametrize("point,delay,options", POINTS,
                         ids=[f"{p.strip(': ')}+{d}s" for p, d, _ in POINTS])
def test_interrupted_build(tmp_path, sig, point, delay, options):
    out = tmp_path / "catalogue"
    out.mkdir()
    (out / "clusters.ecsv").write_text("# the previous output\n")
    before = _snapshot(out)
    run = _Run(["build", "--out", str(out), "--overwrite", "--seed", "1", *options],
               cwd=tmp_path)
    run.wait_for(point)
    time.sleep(delay)
    assert run.proc.poll() is None, "the build ended before the signal"
    _interrupt(run, sig, out, before)


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
    _interrupt(run, sig, out, before)


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


_THREADS = """
import json
{first}
import astro_ocl
from astro_ocl.utils import threads_taking_signals
astro_ocl.build_catalogue(seed=1, n_realisations=50, orbit_samples=2, literature=False)
import os
print(json.dumps([len(os.listdir("/proc/self/task")), threads_taking_signals()]))
"""


def _threads_after_build(first=""):
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    out = subprocess.run([sys.executable, "-c", _THREADS.format(first=first)],
                         capture_output=True, text=True, env=env, timeout=600)
    assert out.returncode == 0, out.stderr[-2000:]
    import json
    return json.loads(out.stdout.strip().splitlines()[-1])


def test_no_worker_thread_takes_signals():
    """After a build (BLAS, galpy's OpenMP) only the main thread can take SIGINT/SIGTERM."""
    n_threads, taking = _threads_after_build()
    assert taking == []
    if n_threads == 1:
        pytest.skip("no worker threads here (OPENBLAS_NUM_THREADS=1?): nothing to check")


def test_thread_check_sees_unprotected_pools():
    """The check is real: numpy imported before astro_ocl starts a pool that takes them."""
    n_threads, taking = _threads_after_build(first="import numpy, scipy.linalg")
    if n_threads == 1:
        pytest.skip("no worker threads here (OPENBLAS_NUM_THREADS=1?)")
    assert len(taking) >= 1


_ORBIT_LOOP = """
import astro_ocl  # first: numpy's and scipy's thread pools block SIGINT/SIGTERM
import astropy.units as u
from astropy.coordinates import SkyCoord
from astro_ocl.steps.dynamics import orbit_parameters
c = SkyCoord(ra=[132.8]*u.deg, dec=[11.8]*u.deg, distance=[0.86]*u.kpc,
             pm_ra_cosdec=[-11.]*u.mas/u.yr, pm_dec=[-2.9]*u.mas/u.yr,
             radial_velocity=[34.]*u.km/u.s)
orbit_parameters(c, n_samples=0)
print("ready", flush=True)
caught = 0
while True:
    try:  # the loop itself inside the try: a signal between two calls is caught too
        while True:
            orbit_parameters(c, n_samples=0)
    except KeyboardInterrupt:
        caught += 1
        print("caught", caught, flush=True)
"""


def test_repeated_sigint_during_orbit_integration(tmp_path):
    """100 SIGINTs at random instants of back-to-back galpy integrations: each one is a
    KeyboardInterrupt in the main thread, none kills the process."""
    import random
    rng = random.Random(11)
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    err = tmp_path / "stderr.txt"
    with open(err, "w") as stderr:
        proc = subprocess.Popen([sys.executable, "-c", _ORBIT_LOOP], env=env,
                                stdout=subprocess.PIPE, stderr=stderr, text=True)
    try:
        assert proc.stdout.readline().strip() == "ready"
        for i in range(100):
            time.sleep(rng.uniform(0.01, 0.1))
            os.kill(proc.pid, signal.SIGINT)
            # e.g. once a ctypes.ArgumentError (a Ctrl-C in galpy's ctypes call) ended it
            assert proc.stdout.readline().strip() == f"caught {i + 1}", err.read_text()[-3000:]
        assert proc.poll() is None
    finally:
        proc.kill()
        proc.wait()
        proc.stdout.close()
