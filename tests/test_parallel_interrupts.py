"""Worker processes of the orbit Monte Carlo and of the positional match end with the parent.

A real Python process (its own session) runs `orbit_parameters` or `sky_match` on
worker processes; once they exist it gets SIGINT, SIGTERM or SIGKILL, and then no
process of its session may be left (workers re-parented to init would be found by
their session id in ``/proc``).
"""
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from helpers import session_pids

pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"),
                                reason="reads /proc to find surviving processes")

ROOT = Path(__file__).resolve().parents[1]

ORBITS = """
import numpy as np
from astro_ocl.logger import enable_console
from astro_ocl.sources.clusters import read_cluster_dynamics_input
from astro_ocl.steps.dynamics import orbit_parameters
enable_console(10)
z = read_cluster_dynamics_input()
orbit_parameters(z[np.arange(400) % len(z)], n_samples=400, seed=1, n_jobs=2,
                 outside="nan")
print("finished")
"""

MATCH = """
import numpy as np, astropy.units as u
from astropy.coordinates import SkyCoord
from astro_ocl.logger import enable_console
from astro_ocl.steps.crossmatch import sky_match
enable_console(10)
rng = np.random.default_rng(1)
n = 2_000_000
ra, dec = rng.uniform(0, 3, n), rng.uniform(0, 3, n)
gaia = SkyCoord(ra * u.deg, dec * u.deg)
stars = SkyCoord(rng.uniform(0, 3, 400_000) * u.deg, rng.uniform(0, 3, 400_000) * u.deg)
sky_match(stars, gaia, radius=30 * u.arcsec, chunk_size=50_000, n_jobs=2)
print("finished")
"""


def _wait_for_workers(proc, text, timeout=240):
    """Read stderr until ``text``; then the session must hold the parent and 2 workers."""
    deadline = time.monotonic() + timeout
    seen = []
    for line in proc.stderr:
        seen.append(line)
        if text in line:
            break
        if time.monotonic() > deadline:
            break
    else:
        pytest.fail(f"exited before {text!r}: {''.join(seen)[-2000:]}")
    assert text in seen[-1], "".join(seen)[-2000:]
    while len(session_pids(proc.pid)) < 3 and time.monotonic() < deadline:
        time.sleep(0.05)
    assert len(session_pids(proc.pid)) >= 3


@pytest.mark.parametrize("code, text", [(ORBITS, "Monte Carlo orbits in 2 worker processes"),
                                        (MATCH, "positional match: ")],
                         ids=["orbits", "match"])
@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM, signal.SIGKILL],
                         ids=["SIGINT", "SIGTERM", "SIGKILL"])
def test_workers_end_with_the_parent(code, text, sig):
    env = dict(os.environ, PYTHONPATH=str(ROOT), MPLBACKEND="Agg")
    proc = subprocess.Popen([sys.executable, "-c", code], env=env, cwd=ROOT, text=True,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            start_new_session=True)
    try:
        _wait_for_workers(proc, text)
        time.sleep(0.5)
        os.kill(proc.pid, sig)
        out, _ = proc.communicate(timeout=60)
        assert proc.returncode != 0 and "finished" not in out
        deadline = time.monotonic() + 10
        while session_pids(proc.pid) and time.monotonic() < deadline:
            time.sleep(0.1)
        assert session_pids(proc.pid) == []
    finally:
        if proc.poll() is None or session_pids(proc.pid):
            try:
                os.killpg(proc.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
            proc.wait()
