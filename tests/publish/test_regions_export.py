"""Regions (DS9/CRTF, ADQL) and the ``astro-ocl export`` command."""
import warnings

import astropy.units as u
import numpy as np
import pytest
from astropy.coordinates import SkyCoord
from astropy.io import votable
from astropy.io.fits.verify import VerifyWarning
from astropy.table import QTable, Table
from regions import CircleSkyRegion, PolygonSkyRegion, Regions

from astro_ocl.cli import main
from astro_ocl.exceptions import MissingColumnError, OutputExistsError
from astro_ocl.sinks.regions import cluster_regions, region_adql, write_regions

from .checks import votable_valid


def test_cluster_regions(result):
    regs = cluster_regions(result.clusters)
    assert len(regs) == len(result.clusters)
    r0 = regs[0]
    assert isinstance(r0, CircleSkyRegion)
    assert r0.meta["text"] == result.clusters["Cluster"][0]
    assert u.isclose(r0.radius, result.clusters["r50"][0])
    assert r0.center.separation(result.clusters["coord"][0]) < 1e-6 * u.deg
    regs2 = cluster_regions(result.clusters, scale=2)
    assert u.isclose(regs2[0].radius, 2 * result.clusters["r50"][0])
    with pytest.raises(MissingColumnError, match="r_t"):
        cluster_regions(result.clusters, radius="r_t")
    t = result.clusters.copy()
    t["r_t"] = 3 * t["r50"]  # a tidal radius column, when a catalogue provides one
    assert u.isclose(cluster_regions(t, radius="r_t")[1].radius, 3 * t["r50"][1])


@pytest.mark.parametrize("fmt,ext", [("ds9", ".reg"), ("crtf", ".crtf")])
def test_region_files_read_back(result, tmp_path, fmt, ext):
    path = tmp_path / f"clusters{ext}"
    write_regions(result.clusters, path, format=fmt)
    back = Regions.read(str(path), format=fmt)
    assert len(back) == len(result.clusters)
    for reg, row in zip(back, result.clusters):
        assert reg.center.separation(row["coord"]) < 0.1 * u.arcsec  # CRTF writes J2000 (FK5)
        assert u.isclose(reg.radius, row["r50"], atol=1e-6 * u.deg)
    key = "text" if fmt == "ds9" else "label"
    assert [r.meta[key] for r in back] == list(result.clusters["Cluster"])
    with pytest.raises(OutputExistsError):
        write_regions(result.clusters, path, format=fmt)


def test_region_adql():
    c = CircleSkyRegion(SkyCoord(10, 20, unit="deg"), 0.5 * u.deg)
    q = region_adql(c, ra="g.ra", dec="g.dec")
    assert q == ("1 = CONTAINS(POINT('ICRS', g.ra, g.dec), "
                 "CIRCLE('ICRS', 10.000000000, 20.000000000, 0.500000000))")
    gal = CircleSkyRegion(SkyCoord(0, 0, unit="deg", frame="galactic"), 1 * u.arcmin)
    assert "266.40" in region_adql(gal)  # converted to ICRS
    p = PolygonSkyRegion(SkyCoord([10, 11, 11], [20, 20, 21], unit="deg"))
    assert region_adql(p).startswith("1 = CONTAINS(POINT('ICRS', ra, dec), POLYGON('ICRS', "
                                     "10.000000000, 20.000000000, 11.000000000")
    with pytest.raises(ValueError):
        region_adql(c, ra="ra; DROP TABLE x")


def test_export_command_all_formats(tmp_path, capsys, votlint, built_dir):
    out = tmp_path / "exp"
    rc = main(["export", "--format", "votable", "cds", "ecsv", "fits", "ds9", "crtf",
               "--out", str(out), "--catalogue", str(built_dir)])
    assert rc == 0
    names = sorted(p.relative_to(out).as_posix() for p in out.rglob("*") if p.is_file())
    assert names == sorted(["clusters.vot", "members.vot", "cds/ReadMe", "cds/clusters.dat",
                            "cds/members.dat", "cds/clusters.vot", "cds/members.vot",
                            "clusters.ecsv", "members.ecsv", "clusters.fits", "members.fits",
                            "clusters.reg", "clusters.crtf", "astro_ocl_manifest.json"])
    assert "wrote 13 files" in capsys.readouterr().out
    for f in ("clusters.vot", "members.vot"):
        assert votable_valid(str(out / f))
        assert votlint(out / f) == []
    c = QTable.read(out / "clusters.ecsv")
    assert isinstance(c["coord"], SkyCoord)
    with warnings.catch_warnings():
        # reading the CDS labels back ("[Fe/H]"): legal TTYPEs, astropy only recommends
        warnings.filterwarnings("ignore", category=VerifyWarning,
                                message=".*column names contain only")
        fits = Table.read(out / "members.fits")
    assert {"RAdeg", "DEdeg", "[Fe/H]"} <= set(fits.colnames)
    history = " ".join(fits.meta["HISTORY"])
    assert "qc_teff_min = 4000.0 K" in history and "qc_teff_max = 7500.0 K" in history
    # refuses to overwrite unless asked
    assert main(["export", "--format", "ds9", "--out", str(out), "--catalogue",
                 str(built_dir)]) == 1
    assert main(["export", "--format", "ds9", "--out", str(out), "--catalogue", str(built_dir),
                 "--overwrite"]) == 0


def test_export_from_build_directory(tmp_path, result):
    built = tmp_path / "built"
    result.write(built)
    out = tmp_path / "exp"
    assert main(["export", "--catalogue", str(built), "--format", "votable", "--out",
                 str(out)]) == 0
    vot = votable.parse(str(out / "clusters.vot"))
    infos = {i.name: i.value for i in vot.resources[0].infos}
    t = vot.get_first_table().to_table()
    assert len(t) == len(result.clusters)
    assert np.allclose(t["RV"], result.clusters["RV"].value, atol=0.005)
    assert infos.get("seed") == "1"
    assert main(["export", "--catalogue", str(tmp_path / "nothing"), "--format", "votable",
                 "--out", str(out / "x")]) == 1


def test_tidal_radii_regions(result, tmp_path, built_dir):
    from astro_ocl.sources.literature import read_tidal_radii
    from astro_ocl.steps.compare import add_tidal_radii
    hunt = read_tidal_radii()
    t = add_tidal_radii(result.clusters, hunt)
    names = list(t["Cluster"])
    # Hunt & Reffert (2023) rt of M67, by its main name (not Kharchenko 1's alias list)
    assert u.isclose(t["r_t"][names.index("NGC_2682")], 0.59597 * u.deg)
    assert u.isclose(t["r_t"][names.index("NGC_2168")], 0.7664 * u.deg)
    assert np.all(t["r_t"] > t["r50"])
    fake = result.clusters[:2].copy()
    fake["Cluster"][1] = "Nowhere_1"
    ft = add_tidal_radii(fake, hunt)
    assert np.isnan(ft["r_t"][1])
    assert len(cluster_regions(ft, radius="r_t", skip_missing=True)) == 1
    out = tmp_path / "exp"
    assert main(["export", "--format", "ds9", "--radius", "r_t", "--out", str(out),
                 "--catalogue", str(built_dir)]) == 0
    back = Regions.read(str(out / "clusters.reg"), format="ds9")
    assert len(back) == len(result.clusters)
    assert u.isclose(back[names.index("NGC_2682")].radius, 0.59597 * u.deg, atol=1e-6 * u.deg)
