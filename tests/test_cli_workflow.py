"""What a new user does with the command line: build, export, publish, and the mistakes."""
import inspect
import shlex

import numpy as np
import pytest
from astropy.table import QTable

import astro_ocl
from astro_ocl import cli
from helpers import one_line_error

FAST = ["--realisations", "100", "--orbit-samples", "0", "--no-gradients", "--no-literature"]


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    """``astro-ocl build --seed 42`` run in a fresh folder (writes ./catalogue)."""
    work = tmp_path_factory.mktemp("work")
    with pytest.MonkeyPatch.context() as mp:
        mp.chdir(work)
        assert cli.main(["build", "--seed", "42", *FAST]) == 0
    return work


# ---- export and samp send publish what was built ------------------------------------------

def test_export_publishes_the_built_catalogue(built, monkeypatch, capsys):
    monkeypatch.chdir(built)
    capsys.readouterr()
    assert cli.main(["export", "--format", "ecsv", "--out", "exp"]) == 0
    assert "rebuild" not in capsys.readouterr().err
    ref = QTable.read(built / "catalogue" / "clusters.ecsv")
    out = QTable.read(built / "exp" / "clusters.ecsv")
    assert list(out["Cluster"]) == list(ref["Cluster"])
    assert np.array_equal(out["RV"], ref["RV"])
    assert out.meta["seed"] == 42


def test_export_rebuilds_only_when_asked_and_says_so(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    line = one_line_error(capsys, cli.main(["export", "--format", "ecsv"]), 1)
    assert "no built catalogue" in line and "--rebuild" in line
    assert not (tmp_path / "export").exists()
    assert cli.main(["export", "--format", "ecsv", "--rebuild", "--seed", "3",
                     "--realisations", "50"]) == 0
    assert "rebuilding the catalogue now" in capsys.readouterr().err
    assert QTable.read(tmp_path / "export" / "clusters.ecsv").meta["seed"] == 3
    # options of a rebuild alone are refused, not silently ignored
    line = one_line_error(capsys, cli.main(["export", "--seed", "3", "--out", "x"]), 1)
    assert "--seed" in line and "--rebuild" in line


# ---- every precondition before the work ---------------------------------------------------

def _no_work(*args, **kwargs):
    raise AssertionError("the work started before the preconditions were checked")


def test_build_checks_the_output_first(tmp_path, monkeypatch, capsys):
    import astro_ocl.commands.build as build_cmd
    (tmp_path / "cat").mkdir()
    (tmp_path / "cat" / "clusters.ecsv").write_text("an earlier build's table")
    monkeypatch.setattr(build_cmd, "build_catalogue", _no_work)
    line = one_line_error(capsys, cli.main(["build", "--out", str(tmp_path / "cat")]), 1)
    assert "exists; add --overwrite" in line and "overwrite=True" not in line
    line = one_line_error(capsys, cli.main(["build", "--out", str(tmp_path / "new"),
                                            "--stars", str(tmp_path / "nosuch.csv")]), 1)
    assert "nosuch.csv" in line


def test_export_checks_outputs_before_reading(built, monkeypatch, capsys):
    import astro_ocl.commands.export as export_cmd
    monkeypatch.chdir(built)
    (built / "exp2").mkdir()
    (built / "exp2" / "clusters.vot").write_text("mine")
    monkeypatch.setattr(export_cmd, "load_catalogue", _no_work)
    line = one_line_error(capsys, cli.main(["export", "--out", "exp2"]), 1)
    assert "clusters.vot exists" in line and "--overwrite" in line


def test_samp_send_checks_the_hub_before_reading(built, monkeypatch, capsys, tmp_path):
    import astro_ocl.commands.samp as samp_cmd
    monkeypatch.chdir(built)
    monkeypatch.setenv("SAMP_HUB", f"std-lockurl:file://{tmp_path}/no-such-lockfile")
    monkeypatch.setattr(samp_cmd, "load_catalogue", _no_work)
    line = one_line_error(capsys, cli.main(["samp", "send", "--timeout", "5"]), 1)
    assert "hub" in line.lower()


# ---- outputs replaced as a set, nothing else touched --------------------------------------

def test_export_overwrite_replaces_only_its_files_atomically(built, monkeypatch, capsys):
    import astro_ocl.commands.export as export_cmd
    monkeypatch.chdir(built)
    out = built / "exp3"
    assert cli.main(["export", "--format", "votable", "ds9", "--out", str(out)]) == 0
    (out / "notes.txt").write_text("unrelated")
    before = {p.name: p.read_bytes() for p in out.iterdir()}

    def broken(*args, **kwargs):
        raise OSError(28, "No space left on device (simulated)")

    monkeypatch.setattr(export_cmd, "write_regions", broken)
    capsys.readouterr()
    rc = cli.main(["export", "--format", "votable", "ds9", "--out", str(out), "--overwrite"])
    assert "No space left" in one_line_error(capsys, rc, 1)
    assert {p.name: p.read_bytes() for p in out.iterdir()} == before  # all or nothing
    monkeypatch.undo()
    monkeypatch.chdir(built)
    assert cli.main(["export", "--format", "votable", "--out", str(out), "--overwrite"]) == 0
    assert (out / "notes.txt").read_text() == "unrelated"
    assert (out / "clusters.reg").read_bytes() == before["clusters.reg"]


def test_export_help_says_what_overwrite_replaces(capsys):
    with pytest.raises(SystemExit):
        cli.main(["export", "--help"])
    text = " ".join(capsys.readouterr().out.split())
    assert "only the files this run writes are replaced" in text


# ---- the first author comes from the authors ----------------------------------------------

def test_cds_readme_first_author_from_authors(built, tmp_path):
    from astro_ocl.sinks.cds_bundle import write_cds_bundle
    from astro_ocl.sources.files import read_table_file
    tables = {n: read_table_file(built / "catalogue" / f"{n}.ecsv", qtable=True)
              for n in ("clusters", "members")}
    write_cds_bundle(tables, tmp_path / "cds", metadata={"authors": "Doe J., Roe R."},
                     votables=False)
    text = (tmp_path / "cds" / "ReadMe").read_text("ascii")
    assert "(Doe J., " in text.splitlines()[0]
    assert "Anonymous" not in text


# ---- the defaults that differ are stated --------------------------------------------------

def test_gradient_default_stated_in_both_helps(capsys):
    with pytest.raises(SystemExit):
        cli.main(["build", "--help"])
    text = " ".join(capsys.readouterr().out.split())
    assert "build_catalogue() in Python" in text
    doc = " ".join(inspect.getdoc(astro_ocl.build_catalogue).split())
    assert "Off by default here" in doc and "astro-ocl build" in doc


# ---- one line per user mistake, every subcommand ------------------------------------------

BAD = [
    "build --threshold 1.5",
    "build --threshold abc",
    "build --realisations 1",
    "build --orbit-samples -3",
    "build --teff-min 8000 --out {tmp}/b1",
    "build --epoch yesterday --out {tmp}/b2",
    "build --stars {tmp}/nosuch.csv --out {tmp}/b3",
    "build --stars {tmp} --out {tmp}/b4",
    "build --members {tmp}/nosuch.csv --out {tmp}/b5",
    "build --clusters NoSuchCluster --out {tmp}/b6",
    "build --lamost foo.fits --out {tmp}/b7",
    "build --no-such-option",
    "export --format nosuch",
    "export --catalogue {tmp}/nosuch --out {tmp}/e1",
    "export --catalogue {tmp} --out {tmp}/e2",
    "export --realisations 10 --out {tmp}/e3",
    "export --rebuild --realisations 0 --out {tmp}/e4",
    "samp send --catalogue {tmp}/nosuch",
    "samp send --timeout -1",
    "samp nosuch",
    "gradients --clusters {tmp}/nosuch.ecsv --out {tmp}/g1.ecsv",
    "gradients --clusters {tmp} --out {tmp}/g2.ecsv",
    "gradients --clusters {tmp}/empty.ecsv --out {tmp}/g3.ecsv",
    "gradients --walkers 1",
    "gradients --out {tmp}/existing.ecsv",
    "reproduce --out {tmp}/existing.ecsv",
    "reproduce --realisations 1",
    "query gaia 'SELECT 1' --out {tmp}/q.txt",
    "query gaia 'SELECT 1' --out {tmp}/existing.ecsv",
    "query gaia 'SELECT 1' --maxrec 0",
    "query nosuch 'SELECT 1'",
    "cache nosuch",
]


@pytest.mark.parametrize("command", BAD)
def test_user_mistakes_give_one_line(command, tmp_path, capsys):
    (tmp_path / "empty.ecsv").write_text("")
    (tmp_path / "existing.ecsv").write_text("# %ECSV 1.0\n")
    argv = shlex.split(command.format(tmp=tmp_path))
    try:
        rc = cli.main(argv)
    except SystemExit as exc:  # argparse usage errors: exit status 2
        rc = exc.code
    line = one_line_error(capsys, rc)
    assert line.startswith("astro-ocl"), line
    assert not (tmp_path / "b1").exists() and not (tmp_path / "e1").exists()


def test_library_raises_package_errors():
    from astro_ocl.exceptions import AstroOCLError, ParameterError
    with pytest.raises(ParameterError, match="membership_threshold"):
        astro_ocl.build_catalogue(membership_threshold=1.5)
    with pytest.raises(ParameterError, match="n_realisations"):
        astro_ocl.build_catalogue(n_realisations=1)
    with pytest.raises(AstroOCLError, match="nosuch"):
        astro_ocl.build_catalogue(stars="nosuch.csv")


# ---- real signatures and docstrings at the top level --------------------------------------

def test_top_level_entry_points_have_signature_and_doc():
    for name in astro_ocl.__all__:
        obj = getattr(astro_ocl, name)
        if not callable(obj) or isinstance(obj, type):
            continue
        sig = inspect.signature(obj)
        assert "args" not in sig.parameters and "kwargs" not in sig.parameters or \
            name != "build_catalogue"
        doc = inspect.getdoc(obj)
        assert doc and len(doc.splitlines()) > 3, name
    params = inspect.signature(astro_ocl.build_catalogue).parameters
    assert {"stars", "seed", "gradients", "convention"} <= set(params)
    assert all(p.kind is p.KEYWORD_ONLY for n, p in params.items() if n != "online_options")


# ---- help texts ---------------------------------------------------------------------------

@pytest.mark.parametrize("argv", [["build"], ["export"], ["samp"], ["samp", "send"],
                                  ["samp", "hub"], ["gradients"], ["reproduce"], ["query"],
                                  ["cache"]])
def test_help_texts_are_clean(argv, capsys):
    with pytest.raises(SystemExit) as e:
        cli.main([*argv, "--help"])
    assert e.value.code == 0
    text = capsys.readouterr().out
    assert "(default: None)" not in text and "(default: False)" not in text
    assert "``" not in text and ":func:" not in text
    assert "-v, --verbose" in text and "-q, --quiet" in text
    for entry in text.split("\n  -"):  # each option's help names its default once
        assert entry.count("default") <= 1 or entry.count("(default") <= 1, entry
    body = text.split("\n\n")
    assert len(body) >= 3, "no description"


def test_samp_recipient_message_reads(monkeypatch):
    from astro_ocl.exceptions import SAMPError
    from astro_ocl.sinks.samp import SAMPConnection
    conn = SAMPConnection()
    monkeypatch.setattr(conn, "clients", lambda mtype=None: {})
    with pytest.raises(SAMPError) as e:
        conn.recipients("all", "table.load.votable")
    assert str(e.value).startswith("no SAMP client is subscribed to table.load.votable")
    with pytest.raises(SAMPError) as e:
        conn.recipients("topcat", "table.load.votable")
    assert "no SAMP client named 'topcat' is subscribed" in str(e.value)


# ---- ECSV with the schema's display formats (values as computed) --------------------------

def test_ecsv_has_schema_formats_and_full_precision(built):
    c = QTable.read(built / "catalogue" / "clusters.ecsv")
    assert c["RV"].info.format == "{:.2f}"  # the display format
    # the values as computed (a refit of the written catalogue is the build's own),
    # not rounded to the display format
    rv = c["RV"].value
    assert not np.allclose(rv, np.round(rv, 2), rtol=0, atol=1e-9, equal_nan=True)
    assert np.allclose(c["coord"].radial_velocity.value, c["RV"].value, equal_nan=True)


# ---- summary first, then the gradient table with its model --------------------------------

def test_console_summary_order(tmp_path, capsys):
    assert cli.main(["build", "--out", str(tmp_path / "c"), "--realisations", "50",
                     "--orbit-samples", "0", "--no-literature"]) == 0
    text = capsys.readouterr().out
    assert text.index("clusters:") < text.index("stages:") < text.index("[Fe/H] gradients")
    assert "[Fe/H] = a x^2 + b x + c" in text and "RGC [kpc]" in text


# ---- provenance that can be repeated and checked ------------------------------------------

def test_provenance_records_seed_and_relative_inputs():
    r = astro_ocl.build_catalogue(n_realisations=20, orbit_samples=2, literature=False,
                                  surveys=["lamost_lrs"])
    meta = r.clusters.meta
    assert isinstance(meta["seed"], int) and meta["seed_origin"].startswith("drawn")
    assert meta["orbit_seed"] == meta["seed"]
    for key in ("stars", "members", "cluster_params"):
        assert meta[key].startswith("astro_ocl/data/") and "(sha256 " in meta[key], meta[key]
        assert "site-packages" not in meta[key] and "/work/" not in meta[key]
    again = astro_ocl.build_catalogue(n_realisations=20, orbit_samples=2, literature=False,
                                      surveys=["lamost_lrs"], seed=meta["seed"])
    assert np.array_equal(again.clusters["RV"], r.clusters["RV"], equal_nan=True)
    assert np.array_equal(again.clusters["e_Peri"], r.clusters["e_Peri"])


# ---- the VOTable reads back as it was built -----------------------------------------------

def test_votable_cds_reader_round_trip(built, tmp_path):
    for label in ("clusters", "members"):
        t = QTable.read(built / "catalogue" / f"{label}.ecsv")
        t.write(tmp_path / f"{label}.vot", format="votable.cds")
        back = QTable.read(tmp_path / f"{label}.vot", format="votable.cds")
        assert back.colnames == t.colnames
        for name in t.colnames:
            if name == "coord":
                continue
            assert getattr(back[name], "unit", None) == getattr(t[name], "unit", None), name
        c0, c1 = t["coord"], back["coord"]
        assert np.allclose(c1.ra.deg, c0.ra.deg) and np.allclose(c1.dec.deg, c0.dec.deg)
        assert np.allclose(c1.pm_dec.value, c0.pm_dec.value, equal_nan=True)
        if label == "clusters":
            assert np.allclose(c1.distance.pc, c0.distance.pc, equal_nan=True)
            assert np.allclose(c1.radial_velocity.value, c0.radial_velocity.value,
                               equal_nan=True)
            assert back.meta["seed"] == 42 and back.meta["schema"] == "clusters"
    from astropy.table import Table
    plain = Table.read(tmp_path / "clusters.vot", format="votable.cds")
    assert "[Fe/H]" in plain.colnames and "coord" in plain.colnames
