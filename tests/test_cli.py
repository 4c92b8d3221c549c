import os
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
    assert "(APOGEE stars only)" in text
    assert "[Fe/H] gradients (paper Table 6): [Fe/H] = a x^2 + b x + c with x = RGC" in text
    names = sorted(p.name for p in out.iterdir())
    assert names == ["astro_ocl_manifest.json", "clusters.ecsv", "clusters.vot",
                     "clusters_APOGEE.ecsv",
                     "clusters_LAMOST-LRS.ecsv", "clusters_LAMOST-MRS.ecsv", "gradients.ecsv",
                     "literature_comparison.ecsv", "members.ecsv", "members.vot",
                     "orbit_history.ecsv", "stage_log.ecsv", "zero_points.ecsv"]
    g = QTable.read(out / "gradients.ecsv")
    assert len(g) > 0 and "fitted_on" in g.colnames
    c = QTable.read(out / "clusters.ecsv")
    assert len(c) == n_clusters
    assert c["RVmed"].unit == "km / s"
    # the one LAMOST LRS star of NGC 7092 gives the published value exactly
    lrs = QTable.read(out / "clusters_LAMOST-LRS.ecsv")
    assert lrs["RVmed"][list(lrs["Cluster"]).index("NGC_7092")].value == -12.22
    # the VOTable holds the same values
    v = QTable.read(out / "clusters.vot", format="votable")
    assert list(v["Cluster"]) == list(c["Cluster"])
    np.testing.assert_allclose(v["RVmed"].value, c["RVmed"].value, rtol=1e-6)
    zp = QTable.read(out / "zero_points.ecsv")
    assert set(zp["survey"]) == {"LAMOST-LRS", "LAMOST-MRS"}


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
