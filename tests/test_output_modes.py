"""Every output file and folder gets the modes of any new file under the user's umask
(0644/0755 under 022, 0600/0700 under 077): build, export, gradients, reproduce (query:
tests/archives/test_query_modes.py)."""
import os
import stat
from pathlib import Path

import pytest

from astro_ocl import cli

UMASKS = [0o022, 0o077]


@pytest.fixture(params=UMASKS, ids=lambda m: f"umask{m:03o}")
def umask(request):
    old = os.umask(request.param)
    try:
        yield request.param
    finally:
        os.umask(old)


def modes(root):
    """``{path relative to root's parent: mode}`` of ``root`` and everything under it."""
    root = Path(root)
    paths = [root] + sorted(root.rglob("*"))
    return {str(p.relative_to(root.parent)): stat.S_IMODE(p.stat().st_mode) for p in paths}


def assert_modes(root, umask):
    found = modes(root)
    assert len(found) > 1
    wrong = {p: oct(m) for p, m in found.items()
             if m != ((0o777 if os.path.isdir(Path(root).parent / p) else 0o666) & ~umask)}
    assert not wrong, f"umask {umask:03o}: {wrong}"


def test_build_and_export(tmp_path, umask):
    out = tmp_path / "catalogue"
    # the figures (a subfolder, matplotlib's files; 10 s) under 022, where a file made
    # private by a temporary-file helper (0600) would show
    figures = ["--figures"] if umask == 0o022 else []
    assert cli.main(["build", "--surveys", "lamost_mrs", "--realisations", "50",
                     "--orbit-samples", "0", "--no-literature", "--seed", "1", *figures,
                     "--out", str(out), "-q"]) == 0
    assert (out / "figures").is_dir() == bool(figures)
    assert_modes(out, umask)
    export = tmp_path / "export"
    assert cli.main(["export", "--catalogue", str(out), "--out", str(export), "--format",
                     "votable", "cds", "ecsv", "fits", "ds9", "crtf", "-q"]) == 0
    assert (export / "cds" / "ReadMe").is_file()
    assert_modes(export, umask)
    # replacing files keeps the modes of new files too
    assert cli.main(["export", "--catalogue", str(out), "--out", str(export), "--format",
                     "votable", "--overwrite", "-q"]) == 0
    assert_modes(export, umask)


def test_gradients(tmp_path, umask):
    out = tmp_path / "g"
    assert cli.main(["gradients", "--out", str(out / "gradients.ecsv"), "--figures",
                     str(out / "figures"), "-q"]) == 0
    assert (out / "figures").is_dir()
    assert_modes(out, umask)


@pytest.fixture(scope="module")
def reproduction():
    from astro_ocl.reproduce import reproduce_fu2022
    return reproduce_fu2022(seed=1, n_realisations=50)


@pytest.mark.slow
def test_reproduce(reproduction, tmp_path, umask):
    out = tmp_path / "reproduce"
    reproduction.write(out, figures=True)
    assert (out / "figures").is_dir() and (out / "report.md").is_file()
    assert_modes(out, umask)
