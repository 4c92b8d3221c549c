"""A local LAMOST catalogue file (FITS or CSV) read in chunks, keeping only member stars."""
import warnings

import numpy as np
import pytest
from astropy.table import Table

from astro_ocl.sources.surveys import iter_chunks, read_lamost_members
from astro_ocl.steps.crossmatch import match_stars
from astro_ocl.sources import read_cg_members, read_lamost
from astro_ocl.exceptions import DroppedRowsWarning, InputDataError
from astro_ocl.utils import data_path


@pytest.fixture(scope="module")
def sample():
    t = Table.read(data_path("lamost_lrs_oc_members.ecsv"))
    t.remove_column("imputed_uncertainties_flag")
    t.rename_column("dr2_source_id", "gaia_source_id")   # as LAMOST DR8+ files name it
    t.rename_column("ra2000", "ra")
    t.rename_column("dec2000", "dec")
    for c in t.colnames:
        t[c].unit = None          # LAMOST CSV files carry no units
    return t


@pytest.fixture(scope="module")
def members():
    m = read_cg_members()
    return m[np.isin(m["Cluster"], ["NGC_2682", "IC_4665"]) & (m["proba"] >= 0.7)]


@pytest.mark.parametrize("suffix", [".csv", ".fits", ".csv.gz"])
def test_by_source_id(sample, members, tmp_path, suffix):
    path = tmp_path / f"lamost{suffix}"
    if suffix == ".csv.gz":
        import gzip
        plain = tmp_path / "plain.csv"
        sample.write(plain, format="ascii.csv")
        path.write_bytes(gzip.compress(plain.read_bytes()))
    else:
        sample.write(path, format="ascii.csv" if suffix == ".csv" else "fits")
    chunks = list(iter_chunks(path, chunk_rows=100))
    assert [len(c) for c in chunks] == [100] * 6 + [91]
    stars = read_lamost_members(path, members, chunk_rows=100)
    offline = read_lamost()
    keep = np.isin(offline["source_id"], members["source_id"])
    assert np.array_equal(stars["source_id"], offline["source_id"][keep])
    assert np.allclose(stars["rv"].value, offline["rv"][keep].value)
    assert np.allclose(stars["feh"].value, offline["feh"][keep].value)


def test_by_position(sample, members, tmp_path):
    t = sample.copy()
    t.remove_columns(["gaia_source_id", "dr3_source_id"])
    path = tmp_path / "lamost_nogaia.csv"
    t.write(path, format="ascii.csv")
    near = read_lamost_members(path, members, chunk_rows=250)
    assert "source_id" not in near.colnames   # a source does not cross-match
    gaia = members["source_id", "coord"]      # the member Gaia sources (J2015.5, pm)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DroppedRowsWarning)
        stars = match_stars(near, members, gaia_sources=gaia)
    offline = read_lamost()
    expected = set(np.asarray(offline["source_id"])) & set(np.asarray(members["source_id"]))
    got = set(np.asarray(stars["source_id"]))
    assert expected <= got
    assert np.all(stars["match_sep"].value <= 3.5)


def test_missing_file(members, tmp_path):
    with pytest.raises(InputDataError, match="does not exist"):
        read_lamost_members(tmp_path / "nope.csv", members)


def test_no_member_in_file(sample, tmp_path):
    path = tmp_path / "l.csv"
    sample[:5].write(path, format="ascii.csv")
    m = read_cg_members()
    m = m[m["Cluster"] == "Berkeley_29"]
    with pytest.raises(InputDataError, match="no row"):
        read_lamost_members(path, m)


@pytest.mark.integration
def test_online_fetch_with_local_lamost_file(sample, tmp_path, local_services):
    from astro_ocl.sources.archives.online import fetch_inputs
    path = tmp_path / "lamost.fits"
    sample.write(path)
    got = fetch_inputs(clusters=["NGC_2682"], lamost=str(path))
    offline = read_lamost()
    keep = np.isin(offline["source_id"], got["members"]["source_id"])
    assert np.array_equal(got["stars"]["source_id"], offline["source_id"][keep])
