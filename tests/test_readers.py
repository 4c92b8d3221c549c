import hashlib
import json

import astropy.units as u
import numpy as np
import pytest
from astropy.coordinates import SkyCoord
from astropy.table import Table

from astro_ocl.sources import (LITERATURE, read_cg2020_clusters, read_cg_members, read_lamost,
                               read_literature)
from astro_ocl.exceptions import InputDataError, MissingColumnError
from astro_ocl.utils import data_path


def test_manifest_matches_embedded_files():
    manifest = json.loads(data_path("manifest.json").read_text())
    files = {e["file"]: e for e in manifest["files"]}
    assert {"lamost_lrs_oc_members.ecsv", "cg2018_members_subset.ecsv.gz",
            "cantat_gaudin_2020_table1.tsv.gz"} <= set(files)
    for name, e in files.items():
        blob = data_path(name).read_bytes()
        assert hashlib.sha256(blob).hexdigest() == e["sha256"], name
        assert e["citation"] and e["origin"]
    assert files["lamost_lrs_oc_members.ecsv"]["rows"] == len(read_lamost())
    assert files["cg2018_members_subset.ecsv.gz"]["rows"] == len(read_cg_members())
    assert files["cantat_gaudin_2020_table1.tsv.gz"]["rows"] == len(read_cg2020_clusters())


def test_lamost_sample_units_and_coords():
    t = read_lamost()
    assert len(t) == 691
    assert isinstance(t["coord"], SkyCoord)
    assert t["rv"].unit == u.km / u.s and t["teff"].unit == u.K
    assert t["feh"].unit == u.dex and t["logg"].unit == u.dex(u.cm / u.s ** 2)
    assert t["source_id"].dtype == np.int64
    # a value from the file: NGC_869's single published star (Fu+2022 RVmed -67.64)
    assert -67.64 * u.km / u.s in t["rv"]


def test_cg2020_values_from_paper():
    t = read_cg2020_clusters()
    assert len(t) == 2017
    row = t.loc["NGC_2682"]
    assert row["plx"] == 1.135 * u.mas
    assert row["nbstars07"] == 598
    assert row["Dist"] == 889 * u.pc
    assert row["coord"].ra.deg == pytest.approx(132.846)


def test_members_threshold_counts_equal_cg2020_nbstars07():
    # for the CG2018 clusters, count(PMemb >= 0.7) equals CG2020 nbstars07
    m = read_cg_members()
    cg = read_cg2020_clusters()
    for name in ("NGC_2682", "Melotte_22", "NGC_2632", "Berkeley_29"):
        n = int(((m["Cluster"] == name) & (m["proba"] >= 0.7)).sum())
        assert n == cg.loc[name]["nbstars07"], name


@pytest.mark.parametrize("name", sorted(LITERATURE))
def test_literature_tables(name):
    t = read_literature(name)
    assert len(t) > 100
    assert "RV" in t.colnames or "[Fe/H]" in t.colnames
    if "RV" in t.colnames:
        assert t["RV"].unit == u.km / u.s
    assert t.meta["bibcode"]


def test_literature_values():
    d = read_literature("Dias2021")
    row = d[d["Cluster"] == "NGC_2682"][0]
    assert row["RV"].value == pytest.approx(34.045)
    h = read_literature("Hunt2023")  # names with spaces, resolved to CG2020 spelling
    assert "NGC_2682" in list(h["Cluster"])


def _write_csv(tmp_path, text, name="stars.csv"):
    p = tmp_path / name
    p.write_text(text)
    return p


CSV_HEADER = "gaia_source_id,ra,dec,rv,rv_err,teff,teff_err,logg,logg_err,feh,feh_err,snrg\n"


def test_lamost_site_csv_layout(tmp_path):
    p = _write_csv(tmp_path, CSV_HEADER + "123,10.0,20.0,5.0,1.0,5000,50,2.5,0.1,-0.1,0.05,40\n")
    t = read_lamost(p)
    assert t["source_id"][0] == 123 and t["rv"][0] == 5 * u.km / u.s


def test_missing_column_named(tmp_path):
    p = _write_csv(tmp_path, "ra,dec,rv,teff,logg,feh\n10,20,5,5000,2.5,0\n")
    with pytest.raises(MissingColumnError, match=r"\['e_rv'\].*rv_err"):
        read_lamost(p)


def test_non_numeric_value_named(tmp_path):
    p = _write_csv(tmp_path, CSV_HEADER + "1,10,20,5,1,5000,50,2.5,0.1,0,0.1,40\n"
                   "2,10,20,fast,1,5000,50,2.5,0.1,0,0.1,40\n")
    with pytest.raises(InputDataError) as exc:
        read_lamost(p)
    msg = str(exc.value)
    assert "stars.csv" in msg and "'rv'" in msg and "row 1" in msg and "'fast'" in msg


def test_negative_error_named(tmp_path):
    p = _write_csv(tmp_path, CSV_HEADER + "1,10,20,5,-1.5,5000,50,2.5,0.1,0,0.1,40\n")
    with pytest.raises(InputDataError, match=r"negative uncertainty.*'rv_err'.*row 0.*-1.5"):
        read_lamost(p)


def test_nan_values_are_kept_as_nan(tmp_path):
    p = _write_csv(tmp_path, CSV_HEADER + "1,10,20,,1,5000,50,2.5,0.1,0,0.1,40\n")
    t = read_lamost(p)
    assert np.isnan(t["rv"][0])


def test_unreadable_and_missing_file(tmp_path):
    with pytest.raises(InputDataError, match="does not exist"):
        read_lamost(tmp_path / "nope.fits")
    bad = tmp_path / "broken.fits"
    bad.write_bytes(b"SIMPLE  = this is not FITS")
    with pytest.raises(InputDataError, match="cannot read table.*broken.fits"):
        read_lamost(bad)


def test_vizier_names_and_units(tmp_path):
    t = Table({"GaiaDR2": [7], "RAJ2000": [10.0] * u.deg, "DEJ2000": [20.0] * u.deg,
               "HRV": [3000.0] * u.m / u.s, "e_HRV": [500.0] * u.m / u.s,
               "Teff": [5000.0] * u.K, "logg": [2.5], "[Fe/H]": [-0.2], "e_[Fe/H]": [0.1]})
    p = tmp_path / "v164.ecsv"  # VizieR-style names ([Fe/H]) are not FITS-safe
    t.write(p)
    s = read_lamost(p)
    assert s["rv"][0].to_value(u.km / u.s) == pytest.approx(3.0)
    assert s["e_rv"][0].to_value(u.km / u.s) == pytest.approx(0.5)


def test_member_probability_out_of_range(tmp_path):
    t = Table({"Cluster": ["NGC_2682"], "Source": [1], "ra": [1.0], "dec": [2.0],
               "PMemb": [1.7]})
    with pytest.raises(InputDataError, match="probability outside"):
        read_cg_members(table=t)


def test_fu2022_published_catalogue():
    from astro_ocl.sources import read_fu2022
    t = read_fu2022()
    manifest = json.loads(data_path("manifest.json").read_text())
    entry = {e["file"]: e for e in manifest["files"]}["fu2022_clusters.csv.gz"]
    assert len(t) == entry["rows"] == 386 and "2022A&A...668A...4F" in entry["citation"]
    assert t["RVmed"].unit == u.km / u.s and t["[Fe/H]med"].unit == u.dex
    assert t["LZ"].unit == u.kpc * u.km / u.s and t["Energy"].unit == u.km ** 2 / u.s ** 2
    assert t["Peri"].unit == u.kpc and isinstance(t["coord"], SkyCoord)
    # values of the paper's single-star clusters (equal to the embedded LAMOST stars)
    row = t[t["Cluster"] == "NGC_884"][0]
    assert row["RVmed"].value == pytest.approx(-51.71) and row["Nall"] == 1
    assert row["[Fe/H]med"].value == pytest.approx(-0.238)
    # blanks are NaN, not zero: the 78 single-star clusters have no s_RV
    assert np.isnan(t["s_RV"].value).sum() == 78
    # the published "VLSR" is the Galactocentric v_y: its description says so
    assert "Galactocentric" in t["VLSR"].info.description
    assert np.nanmedian(t["VLSR"].value) > 200
    assert t.meta["vizier"] == "J/A+A/668/A4"


def test_fu2022_bad_file(tmp_path):
    from astro_ocl.sources import read_fu2022
    p = tmp_path / "fu.csv"
    p.write_text("Cluster,Nall\nX,1\n")
    with pytest.raises(MissingColumnError, match="Nflag1"):
        read_fu2022(p)


def test_example_lamost_file_in_the_lamost_layout(tmp_path):
    # the shipped example survey file reads like a LAMOST catalogue and builds
    import astro_ocl
    from astro_ocl.sources import read_lamost
    path = data_path("examples/lamost_lrs_example.csv")
    manifest = json.loads(data_path("manifest.json").read_text())
    entry = {e["file"]: e for e in manifest["files"]}["examples/lamost_lrs_example.csv"]
    stars = read_lamost(path)
    assert len(stars) == entry["rows"] == 220
    assert stars["source_id"].dtype == np.int64 and stars["rv"].unit == u.km / u.s
    assert "Cluster" not in stars.colnames  # a survey file does not know membership
    r = astro_ocl.build_catalogue(stars=path, seed=1, orbits=False, literature=False,
                                  n_realisations=200)
    assert sorted(r.clusters["Cluster"]) == ["IC_4665", "NGC_2682", "NGC_884", "Trumpler_2"]
    row = r.clusters[r.clusters["Cluster"] == "NGC_884"][0]
    assert row["RV"].value == pytest.approx(-51.71)  # Fu et al. 2022: -51.71 (one star)
