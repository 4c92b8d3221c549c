import json
import os
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from astropy.table import QTable

from astro_ocl import cli


def test_build_writes_tables_and_summary(tmp_path, capsys):
    out = tmp_path / "cat"
    assert cli.main(["build", "--out", str(out), "--seed", "5", "--realisations", "500",
                     "--orbit-samples", "10"]) == 0
    text = capsys.readouterr().out
    n_clusters = int(text.split("clusters: ")[1].split()[0])
    assert n_clusters >= 80  # every embedded survey: LAMOST LRS and MRS, APOGEE
    assert "survey zero points, survey minus APOGEE" in text
    assert "Soubiran2018" in text and "join members" in text
    assert "(APOGEE stars only:" in text
    assert "[Fe/H] gradients (paper Table 6): [Fe/H] = a x^2 + b x + c with x = RGC" in text
    names = sorted(p.name for p in out.iterdir())
    assert names == ["astro_ocl_manifest.json", "clusters.ecsv", "clusters.vot",
                     "clusters_APOGEE.ecsv",
                     "clusters_LAMOST-LRS.ecsv", "clusters_LAMOST-MRS.ecsv", "gradients.ecsv",
                     "literature_comparison.ecsv", "members.ecsv", "members.vot",
                     "orbit_history.ecsv", "stage_log.ecsv", "validation.ecsv",
                     "validation_pairs.ecsv", "zero_points.ecsv"]
    g = QTable.read(out / "gradients.ecsv")
    assert len(g) > 0 and "fitted_on" in g.colnames
    c = QTable.read(out / "clusters.ecsv")
    assert len(c) == n_clusters
    assert c["RV"].unit == "km / s"
    # the one LAMOST LRS star of NGC 7092 gives the published value exactly
    lrs = QTable.read(out / "clusters_LAMOST-LRS.ecsv")
    assert lrs["RV"][list(lrs["Cluster"]).index("NGC_7092")].value == -12.22
    # the VOTable holds the same values
    v = QTable.read(out / "clusters.vot", format="votable")
    assert list(v["Cluster"]) == list(c["Cluster"])
    np.testing.assert_allclose(v["RV"].value, c["RV"].value, rtol=1e-6)
    zp = QTable.read(out / "zero_points.ecsv")
    assert set(zp["survey"]) == {"LAMOST-LRS", "LAMOST-MRS", "APOGEE"}  # APOGEE: the reference


def test_refuses_to_overwrite_and_keeps_old_output(tmp_path, capsys):
    out = tmp_path / "cat"
    fast = ["--realisations", "50", "--orbit-samples", "0", "--no-gradients"]
    assert cli.main(["build", "--out", str(out), "--no-literature", *fast]) == 0
    before = (out / "clusters.ecsv").read_bytes()
    assert cli.main(["build", "--out", str(out), *fast]) == 1
    assert "exists" in capsys.readouterr().err
    assert (out / "clusters.ecsv").read_bytes() == before


def test_failed_run_leaves_no_partial_output(tmp_path, monkeypatch, capsys):
    import astro_ocl.sinks.catalogue as catalogue

    def broken(*args, **kwargs):
        raise OSError("disk full (simulated)")

    monkeypatch.setattr(catalogue, "write_votable_cds", broken)
    out = tmp_path / "cat"
    assert cli.main(["build", "--out", str(out), "--realisations", "50", "--orbit-samples",
                     "0", "--no-gradients"]) == 1
    assert "disk full (simulated)" in capsys.readouterr().err
    assert not out.exists()
    assert list(tmp_path.iterdir()) == []   # no temporary directory left either


def test_unknown_cluster_clear_error(tmp_path, capsys):
    rc = cli.main(["build", "--out", str(tmp_path / "x"), "--clusters", "NGC_2862x"])
    assert rc == 1
    err = capsys.readouterr().err
    assert "unknown cluster 'NGC_2862x'" in err
    assert not (tmp_path / "x").exists()


def test_bad_star_file_names_file_column_row(tmp_path, capsys):
    p = tmp_path / "stars.csv"
    p.write_text("gaia_source_id,ra,dec,rv,rv_err,teff,logg,feh,feh_err\n"
                 "1,10,20,5,-2,5000,2.5,0,0.1\n")
    rc = cli.main(["build", "--out", str(tmp_path / "x"), "--stars", str(p)])
    assert rc == 1
    err = capsys.readouterr().err
    assert "stars.csv" in err and "'rv_err'" in err and "row 0" in err


def test_help_texts(capsys):
    with pytest.raises(SystemExit) as e:
        cli.main(["--help"])
    assert e.value.code == 0
    assert "build" in capsys.readouterr().out
    with pytest.raises(SystemExit):
        cli.main(["build", "--help"])
    text = capsys.readouterr().out
    for opt in ("--out", "--seed", "--realisations", "--threshold", "--clusters", "--dwarf-logg"):
        assert opt in text


def test_console_script_runs(tmp_path):
    exe = Path(sys.executable).with_name("astro-ocl")
    if not exe.exists():
        pytest.fail(f"console script not installed next to {sys.executable}")
    res = subprocess.run([str(exe), "build", "--out", str(tmp_path / "c"), "--seed", "1",
                          "--no-gradients"],
                         capture_output=True, text=True, timeout=120,
                         env={**os.environ, "MPLBACKEND": "Agg"})
    assert res.returncode == 0, res.stderr
    assert "FLAG=12:" in res.stdout


# ---- the console: -q, one warning format ------------------------------------------------

#: A quick build whose first warning (LAMOST MRS rows without an RV error) comes before
#: galpy is imported (orbits) and whose second (too few clusters: gradients fitted on
#: Zhong et al. 2020) after it.
QUICK = ["build", "--surveys", "lamost_mrs", "--realisations", "50", "--orbit-samples", "0",
         "--no-literature", "--seed", "1"]


def _run_cli(args, cwd):
    """``astro-ocl ARGS`` in a fresh interpreter (so the imports happen as for a user)."""
    return subprocess.run([sys.executable, "-m", "astro_ocl.cli", *args], cwd=cwd,
                          capture_output=True, text=True, timeout=300,
                          env={**os.environ, "MPLBACKEND": "Agg"})


def test_warnings_in_one_format(tmp_path):
    res = _run_cli([*QUICK, "--out", "out"], tmp_path)
    assert res.returncode == 0, res.stderr
    lines = res.stderr.splitlines()
    assert any(x.startswith("WARNING: DroppedRowsWarning: 22 stars of ") for x in lines), lines
    assert any(x.startswith("WARNING: AstroOCLWarning: gradients: the catalogue has ")
               for x in lines), lines
    # one line each, the package logger's: no Python format (file:line, source line, to
    # standard output by galpy's handler), no astropy/astroquery logger suffix
    assert all(x.startswith("WARNING: ") for x in lines), lines
    for text in (res.stdout, res.stderr):
        assert re.search(r"\.py:\d+: ", text) is None, text
        assert "warnings.warn(" not in text and "[astro_ocl." not in text
    assert res.stdout.startswith("clusters: ")


def test_quiet_prints_errors_only(tmp_path):
    res = _run_cli([*QUICK, "--out", "out", "-q"], tmp_path)
    assert res.returncode == 0, res.stderr
    # no warnings, no summary, no "wrote N files": the exit status and the manifest say it
    assert res.stdout == "" and res.stderr == ""
    manifest = json.loads((tmp_path / "out" / "astro_ocl_manifest.json").read_text())
    assert "clusters.ecsv" in manifest["files"]
    # an error is still one line
    res = _run_cli([*QUICK, "--out", "out", "-q"], tmp_path)
    assert res.returncode == 1 and res.stdout == ""
    assert res.stderr.startswith("astro-ocl build: error: ") and len(res.stderr.splitlines()) == 1


def test_quiet_gradients(tmp_path, capsys):
    # emcee with a short chain warns (too few autocorrelation times): not with -q
    assert cli.main(["gradients", "--method", "emcee", "--walkers", "8", "--steps", "40",
                     "--out", str(tmp_path / "g.ecsv"), "--seed", "1", "-q"]) == 0
    out = capsys.readouterr()
    assert out.out == "" and out.err == ""
    assert cli.main(["gradients", "--method", "emcee", "--walkers", "8", "--steps", "40",
                     "--out", str(tmp_path / "g.ecsv"), "--seed", "1", "--overwrite"]) == 0
    out = capsys.readouterr()
    assert "WARNING: " in out.err and " tau " in out.out.splitlines()[0]


def test_gradient_table_shows_tau_only_for_emcee(tmp_path, capsys):
    assert cli.main(["gradients", "--out", str(tmp_path / "g.ecsv")]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert not lines[0].endswith("tau") and "nan" not in " ".join(lines)
    g = QTable.read(tmp_path / "g.ecsv")
    assert np.all(np.isnan(g["tau_max"][g["fitted"]]))  # the analytic posterior has none
