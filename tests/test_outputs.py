"""Output folders: the package writes its own files and never removes anyone else's.

Every subcommand that writes is run for real; a tripwire on the work each one
does proves that a bad output path is refused before any work.
"""
import json
import os
from pathlib import Path

import pytest

from astro_ocl import cli
from astro_ocl.exceptions import AstroOCLWarning, OutputExistsError, OutputPathError
from astro_ocl.outputs import MANIFEST, check_output_folder, output_folder
from astro_ocl.sinks.catalogue import catalogue_files
from astro_ocl.sinks.figures.dynamics import gradient_figure_files
from astro_ocl.sinks.reproduce import report_files

FAST_BUILD = ["--surveys", "lamost_lrs", "--clusters", "NGC_2682", "NGC_1039",
              "--realisations", "50", "--orbit-samples", "0", "--no-gradients",
              "--no-literature", "--seed", "3"]


def _foreign(folder):
    """A user's own file and folder inside ``folder``: they must survive every run."""
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "my_notes.txt").write_text("mine\n")
    (folder / "myplots").mkdir(exist_ok=True)
    (folder / "myplots" / "a.png").write_bytes(b"\x89PNG mine")
    # a file with the name of an output inside a folder of the user's: still the
    # user's folder (only the file of the run's name is replaced, the rest stays)
    return {"my_notes.txt": b"mine\n", "myplots/a.png": b"\x89PNG mine"}


def _assert_kept(folder, foreign):
    for name, content in foreign.items():
        assert (folder / name).read_bytes() == content, name


def _built(tmp_path):
    out = tmp_path / "catalogue"
    assert cli.main(["build", "--out", str(out), *FAST_BUILD]) == 0
    return out


def test_build_overwrite_keeps_foreign_files(tmp_path, capsys):
    out = _built(tmp_path)
    foreign = _foreign(out)
    before = (out / "clusters.ecsv").stat().st_mtime_ns
    assert cli.main(["build", "--out", str(out), "--overwrite", *FAST_BUILD]) == 0
    _assert_kept(out, foreign)
    assert (out / "clusters.ecsv").stat().st_mtime_ns != before  # replaced
    manifest = json.loads((out / MANIFEST).read_text())
    assert "clusters.ecsv" in manifest["files"] and "my_notes.txt" not in manifest["files"]
    entry = manifest["files"]["clusters.ecsv"]
    assert entry["bytes"] == (out / "clusters.ecsv").stat().st_size and entry["this_run"]
    # no staging folder or backup left
    assert not [p for p in out.iterdir() if p.name.startswith(".")]


def test_export_overwrite_keeps_foreign_files(tmp_path, capsys):
    cat = _built(tmp_path)
    out = tmp_path / "export"
    foreign = _foreign(out)
    args = ["export", "--catalogue", str(cat), "--out", str(out), "--format", "votable",
            "ds9", "cds"]
    assert cli.main(args) == 0
    assert cli.main([*args, "--overwrite"]) == 0
    _assert_kept(out, foreign)
    assert (out / "cds" / "ReadMe").is_file()
    assert not (out / "cds" / MANIFEST).exists()  # part of the export's own output
    assert "cds/ReadMe" in json.loads((out / MANIFEST).read_text())["files"]


def test_gradient_figures_overwrite_keeps_foreign_files(tmp_path, capsys):
    figs = tmp_path / "figs"
    foreign = _foreign(figs)
    args = ["gradients", "--out", str(tmp_path / "g.ecsv"), "--figures", str(figs),
            "--method", "analytic"]
    assert cli.main(args) == 0
    assert cli.main([*args, "--overwrite"]) == 0
    _assert_kept(figs, foreign)
    assert (figs / "fig08_feh_rgc.png").is_file()
    # the figure writer inside the command's staged folder is part of its output
    written = json.loads((figs / MANIFEST).read_text())
    assert written["writer"] == "astro_ocl gradients" and MANIFEST not in written["files"]


def test_report_overwrite_keeps_foreign_files(tmp_path):
    """The reproduction report's writer (the slow rebuild itself is tested elsewhere)."""
    from astro_ocl.sinks.reproduce import write_report
    from astro_ocl.reproduce import reproduce_fu2022
    result = reproduce_fu2022(seed=1, n_realisations=50)
    out = tmp_path / "report"
    foreign = _foreign(out)
    write_report(result, out, figures=False)
    with pytest.raises(OutputExistsError):
        write_report(result, out, figures=False)
    write_report(result, out, figures=False, overwrite=True)
    _assert_kept(out, foreign)
    assert (out / "report.md").is_file()


def test_cds_bundle_overwrite_keeps_foreign_files(tmp_path, embedded_result):
    from astro_ocl.sinks.cds_bundle import write_cds_bundle
    out = tmp_path / "cds"
    foreign = _foreign(out)
    write_cds_bundle(embedded_result, out, votables=False)
    write_cds_bundle(embedded_result, out, votables=False, overwrite=True)
    _assert_kept(out, foreign)
    assert (out / "ReadMe").is_file()


def test_earlier_outputs_not_written_again_are_kept_and_named(tmp_path):
    out = tmp_path / "o"
    with output_folder(out, writer="test") as tmp:
        (tmp / "a.txt").write_text("1")
        (tmp / "b.txt").write_text("1")
    with pytest.warns(AstroOCLWarning, match="1 file that an earlier run of test wrote"):
        with output_folder(out, writer="test", overwrite=True) as tmp:
            (tmp / "a.txt").write_text("2")
    assert (out / "b.txt").read_text() == "1"  # kept, not deleted
    files = json.loads((out / MANIFEST).read_text())["files"]
    assert files["a.txt"]["this_run"] and not files["b.txt"]["this_run"]


def test_failure_restores_every_replaced_file(tmp_path):
    out = tmp_path / "o"
    foreign = _foreign(out)
    with output_folder(out, writer="test") as tmp:
        (tmp / "a.txt").write_text("old")
    with pytest.raises(RuntimeError):
        with output_folder(out, writer="test", overwrite=True) as tmp:
            (tmp / "a.txt").write_text("new")
            (tmp / "c.txt").write_text("new")
            raise RuntimeError("boom")
    assert (out / "a.txt").read_text() == "old" and not (out / "c.txt").exists()
    _assert_kept(out, foreign)


def test_a_file_where_a_run_makes_a_folder_is_refused_and_nothing_moves(tmp_path):
    out = tmp_path / "o"
    foreign = _foreign(out)
    (out / "figures").write_text("mine")
    with pytest.raises(OutputPathError, match=f"{out / 'figures'}: is a file"):
        with output_folder(out, writer="test", overwrite=True) as tmp:
            (tmp / "a.txt").write_text("new")
            (tmp / "figures").mkdir()
            (tmp / "figures" / "fig.png").write_text("new")
    assert (out / "figures").read_text() == "mine" and not (out / "a.txt").exists()
    _assert_kept(out, foreign)


def test_a_run_that_writes_nothing_leaves_no_manifest(tmp_path):
    with output_folder(tmp_path / "o", writer="test"):
        pass
    assert list((tmp_path / "o").iterdir()) == []


# --- bad output paths: refused before any work, one line ---------------------------------
def _unwritable(tmp_path):
    """A folder this process cannot write into (root ignores permission bits: /sys)."""
    if os.geteuid() == 0:
        return Path("/sys/astro_ocl_test_out")
    locked = tmp_path / "locked"
    locked.mkdir()
    locked.chmod(0o500)
    return locked / "out"


BAD_PATHS = {
    "working folder": lambda tmp: Path("."),
    "parent of the working folder": lambda tmp: Path(".."),
    "home": lambda tmp: Path.home(),
    "root": lambda tmp: Path("/"),
    "a file": lambda tmp: tmp / "file.txt",
    "under a file": lambda tmp: tmp / "file.txt" / "sub",
    "unwritable": _unwritable,
    "/proc": lambda tmp: Path("/proc/astro_ocl_nope"),
}

#: subcommand -> (arguments before --out, the function that does its work, where the
#: command looks it up)
COMMANDS = {
    "build": (["build", *FAST_BUILD], "astro_ocl.commands.build.build_catalogue"),
    "reproduce": (["reproduce"], "astro_ocl.commands.reproduce.reproduce_fu2022"),
    "export": (["export", "--rebuild", "--format", "votable"],
               "astro_ocl.commands.export.load_catalogue"),
    "gradients --figures": (["gradients", "--out", "g.ecsv", "--method", "analytic"],
                            "astro_ocl.commands.gradients.gradient_table"),
}


@pytest.fixture
def workdir(tmp_path, monkeypatch):
    work = tmp_path / "work"
    work.mkdir()
    (tmp_path / "file.txt").write_text("a user's file\n")
    monkeypatch.chdir(work)
    return tmp_path


def _refused_before_work(command, path, extra, monkeypatch, capsys):
    """Run ``command`` with its output at ``path`` and a tripwire on its work; return
    its one-line error."""
    import importlib
    args, work = COMMANDS[command]
    module, name = work.rsplit(".", 1)

    def tripwire(*a, **k):
        raise AssertionError(f"{command} started its work before checking the output path")

    monkeypatch.setattr(importlib.import_module(module), name, tripwire)
    option = "--figures" if command.startswith("gradients") else "--out"
    rc = cli.main([*args, *extra, option, str(path)])
    err = capsys.readouterr().err
    assert rc == 1, err
    assert len(err.strip().splitlines()) == 1 and "Traceback" not in err, err
    return err


@pytest.mark.parametrize("where", BAD_PATHS)
@pytest.mark.parametrize("command", COMMANDS)
def test_bad_output_path_fails_before_any_work(command, where, workdir, monkeypatch, capsys):
    path = BAD_PATHS[where](workdir)
    err = _refused_before_work(command, path, ["--overwrite"], monkeypatch, capsys)
    assert str(path) in err
    assert (workdir / "file.txt").read_text() == "a user's file\n"


#: (subcommand, its options, a name it writes, what stands there: "folder" or "file")
CLASHES = {
    "build: folder at clusters.ecsv": ("build", [], "clusters.ecsv", "folder"),
    "build: folder at clusters_<survey>.ecsv": ("build", [], "clusters_lamost.ecsv", "folder"),
    "build --figures: file at figures": ("build", ["--figures"], "figures", "file"),
    "build --figures: folder at a figure": ("build", ["--figures"], "figures/fig01_sky.png",
                                            "folder"),
    "export: folder at clusters.vot": ("export", [], "clusters.vot", "folder"),
    "export --format cds: file at cds": ("export", ["--format", "cds"], "cds", "file"),
    "export --format cds: folder at cds/ReadMe": ("export", ["--format", "cds"], "cds/ReadMe",
                                                  "folder"),
    "reproduce: folder at report.md": ("reproduce", [], "report.md", "folder"),
    "reproduce: file at figures": ("reproduce", [], "figures", "file"),
    "gradients --figures: folder at a figure": ("gradients --figures", [],
                                                "fig08_feh_rgc.pdf", "folder"),
}


@pytest.mark.parametrize("overwrite", [False, True], ids=["", "overwrite"])
@pytest.mark.parametrize("clash", CLASHES)
def test_what_stands_at_an_output_name_is_checked_before_any_work(clash, overwrite, workdir,
                                                                  monkeypatch, capsys):
    """A folder where a run writes a file (or a file where it makes a folder) could not
    be replaced: refused before the work, with or without --overwrite, naming it."""
    command, extra, name, kind = CLASHES[clash]
    out = workdir / "out"
    there = out / name
    if kind == "folder":
        there.mkdir(parents=True)
        (there / "mine.txt").write_text("mine")
    else:
        there.parent.mkdir(parents=True, exist_ok=True)
        there.write_text("mine")
    err = _refused_before_work(command, out, [*extra, *(["--overwrite"] * overwrite)],
                               monkeypatch, capsys)
    assert f"{there}: is a {kind}" in err
    assert (there / "mine.txt" if kind == "folder" else there).read_text() == "mine"


def test_a_folder_among_the_outputs_of_a_run_is_no_clash(workdir):
    """Only what stands at the names a run writes counts: a user's own folder inside
    ``figures/`` or a file named ``figures`` when no figures are asked for do not."""
    out = workdir / "out"
    (out / "figures" / "mine").mkdir(parents=True)
    check_output_folder(out, names=catalogue_files(figures=True), overwrite=True)
    (workdir / "gr" / "fig08_drafts").mkdir(parents=True)
    check_output_folder(workdir / "gr", names=gradient_figure_files())
    (workdir / "report").mkdir()
    (workdir / "report" / "figures").write_text("mine")
    check_output_folder(workdir / "report", names=report_files(figures=False))
    with pytest.raises(OutputPathError, match="figures: is a file"):
        check_output_folder(workdir / "report", names=report_files(figures=True))


@pytest.mark.parametrize("where", ["a file", "under a file", "unwritable", "/proc"])
def test_bad_output_file_fails_before_any_work(where, workdir, monkeypatch, capsys):
    """``query --out`` and ``gradients --out`` (files): refused before any request."""
    import astro_ocl.commands.query as query_cmd
    monkeypatch.setattr(query_cmd, "gaia_client", lambda *a, **k: pytest.fail("query started"))
    path = BAD_PATHS[where](workdir)
    path = path if where in ("a file",) else path / "r.vot"
    rc = cli.main(["query", "gaia", "SELECT 1", "--out", str(path)])
    err = capsys.readouterr().err
    assert rc == 1 and len(err.strip().splitlines()) == 1, err


def test_folder_path_for_a_file_output(workdir, capsys):
    rc = cli.main(["query", "gaia", "SELECT 1", "--out", str(workdir / "work")])
    assert rc == 1 and "is a folder, not a file" in capsys.readouterr().err


def test_library_refuses_protected_folders(embedded_result, workdir):
    for path in (".", "..", Path.home()):
        with pytest.raises(OutputPathError, match="working folder|home folder"):
            embedded_result.write(path, overwrite=True)
    with pytest.raises(OutputPathError, match="is a file"):
        check_output_folder(workdir / "file.txt")
