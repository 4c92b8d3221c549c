"""``astro-ocl query`` and ``astro-ocl cache`` (against the fault server: no network),
and ``astro-ocl build --online`` against the local DaCHS server."""
import json
import warnings

import numpy as np
import pytest
from astropy.table import Table

from astro_ocl import conf
from astro_ocl.cli import main
from astro_ocl.exceptions import DroppedRowsWarning


def test_query_to_file_and_cache_commands(fault_server, tmp_path, capsys):
    cache = tmp_path / "cache"
    up = tmp_path / "ids.ecsv"
    Table({"source_id": np.array([1, 2, 3], np.int64)}).write(up)
    out = tmp_path / "r.vot"
    with conf.set_temp("cache_dir", str(cache)):
        rc = main(["query", "gaia", "SELECT * FROM TAP_UPLOAD.ids", "--url", fault_server.url,
                   "--upload", f"ids={up}", "--out", str(out), "--maxrec", "100"])
        assert rc == 0
        t = Table.read(out)
        assert len(t) == 3 and t["ra"].unit == "deg"
        assert fault_server.url in out.read_text()  # provenance INFO
        assert main(["query", "gaia", "SELECT * FROM TAP_UPLOAD.ids", "--url",
                     fault_server.url, "--upload", f"ids={up}", "--out",
                     str(tmp_path / "r.ecsv"), "--maxrec", "100"]) == 0
        t = Table.read(tmp_path / "r.ecsv")
        assert t.meta["query_service"] == fault_server.url and t.meta["query_rows"] == "3"
        # the upload went as a multipart file
        assert fault_server.queries()[0][2] == "SELECT * FROM TAP_UPLOAD.ids"
        capsys.readouterr()
        assert main(["cache", "list"]) == 0
        listing = capsys.readouterr().out
        assert "1 cached results" in listing and "TAP_UPLOAD.ids" in listing
        prov = json.loads(next(cache.glob("*.json")).read_text())
        assert prov["uploads"] == ["ids"] and prov["rows"] == 3
        assert main(["cache", "clear"]) == 0
        assert "removed 1" in capsys.readouterr().out
        assert main(["cache", "list", "--dir", str(cache)]) == 0
        assert "0 cached results" in capsys.readouterr().out


def test_query_prints_and_errors(fault_server, tmp_path, capsys):
    fault_server.script = [("ok", 2), ("bad_adql",)]
    with conf.set_temp("cache_dir", str(tmp_path / "c")):
        assert main(["query", "vizier", "SELECT 1", "--url", fault_server.url,
                     "--maxrec", "10", "--no-cache"]) == 0
        assert "source_id" in capsys.readouterr().out
        assert main(["query", "vizier", "SELEKT", "--url", fault_server.url,
                     "--maxrec", "10", "--no-cache"]) == 1
        err = capsys.readouterr().err
        assert "Could not parse your query" in err and fault_server.url in err


def test_lamost_needs_online(tmp_path, capsys):
    assert main(["build", "--lamost", "vizier:V/164/stellar5", "--out",
                 str(tmp_path / "o")]) == 1
    err = capsys.readouterr().err
    assert "--lamost" in err and "only with --online" in err and len(err.splitlines()) == 1


@pytest.mark.integration
def test_build_online_cli(local_services, tmp_path, capsys):
    out = tmp_path / "cat"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DroppedRowsWarning)
        rc = main(["build", "--online", "--clusters", "NGC 2682", "IC_4665", "--seed", "1",
                   "--realisations", "200", "--no-literature", "--out", str(out)])
    assert rc == 0
    t = Table.read(out / "clusters.ecsv")
    assert sorted(t["Cluster"]) == ["IC_4665", "NGC_2682"]
    assert "clusters: 2" in capsys.readouterr().out
