"""``astro-ocl query --out`` files get the modes of any new file under the user's umask
(the other commands: tests/test_output_modes.py)."""
import os
import stat

import pytest

from astro_ocl import conf
from astro_ocl.cli import main


@pytest.mark.parametrize("umask", [0o022, 0o077], ids=["umask022", "umask077"])
@pytest.mark.parametrize("suffix", [".vot", ".ecsv", ".csv"])
def test_query_output_modes(fault_server, tmp_path, umask, suffix):
    fault_server.script = [("ok", 3)]
    out = tmp_path / "new" / f"r{suffix}"
    old = os.umask(umask)
    try:
        with conf.set_temp("cache_dir", str(tmp_path / "cache")):
            assert main(["query", "gaia", "SELECT 1", "--url", fault_server.url, "--maxrec",
                         "10", "--no-cache", "--out", str(out), "-q"]) == 0
    finally:
        os.umask(old)
    assert stat.S_IMODE(out.stat().st_mode) == 0o666 & ~umask
    assert stat.S_IMODE(out.parent.stat().st_mode) == 0o777 & ~umask
