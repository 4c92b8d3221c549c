"""The "cds.submission" bundle: ReadMe + .dat + VOTables; round trip through ascii.cds."""

import astropy.units as u
import numpy as np
import pytest
from astropy.table import Table

from astro_ocl.exceptions import OutputExistsError
from astro_ocl.sinks.cds_bundle import cds_unit_string, write_cds_bundle
from astro_ocl.sinks.tables import to_plain_table
from astro_ocl.sinks.votable_cds import parse_cds_format

from .checks import votable_valid


def _expected_unit(spec, col):
    if spec is not None and spec.cds_unit:
        return u.Unit(spec.cds_unit, format="cds")
    unit = getattr(col, "unit", None)
    return None if unit is None else u.Unit(unit)


@pytest.fixture(scope="module")
def bundle(result, tmp_path_factory):
    path = tmp_path_factory.mktemp("cds") / "submission"
    files = write_cds_bundle(result, path)
    return path, files


def test_files_and_readme(bundle):
    path, files = bundle
    assert sorted(p.name for p in files) == sorted(
        ["ReadMe", "clusters.dat", "members.dat", "clusters.vot", "members.vot"])
    assert sorted(p.name for p in path.iterdir()) == sorted(p.name for p in files)
    text = (path / "ReadMe").read_text("ascii")
    for section in ("Abstract:", "Description:", "File Summary:", "Byte-by-byte Description "
                    "of file: clusters.dat", "Byte-by-byte Description of file: members.dat",
                    "References:", "Keywords:", "Provenance:"):
        assert section in text
    # a rebuild is a new catalogue: CDS placeholder designation, Fu et al. as reference
    assert text.startswith("J/???/???")
    assert "Fu X. et al. 2022, A&A 668, A4 (2022A&A...668A...4F)" in text
    assert "Bragaglia" not in text
    assert all(len(line) <= 80 for line in text.splitlines())
    # CDS unit syntax
    assert " km/s " in text and " mas/yr " in text and " [-] " in text and " [cm/s2] " in text
    assert "km.s-1" not in text
    # the Flag note
    assert "(1) Flag: 0 = RV outlier" in text


@pytest.mark.parametrize("stem", ["clusters", "members"])
def test_round_trip_ascii_cds(result, bundle, stem):
    path, _ = bundle
    table = getattr(result, stem)
    from astro_ocl.sinks.votable_cds import specs_for
    back = Table.read(path / f"{stem}.dat", readme=str(path / "ReadMe"), format="ascii.cds")
    specs = specs_for(table)
    plain = to_plain_table(table, specs=specs)
    assert back.colnames == plain.colnames
    assert len(back) == len(table)
    for name in plain.colnames:
        spec = specs.get(name)
        kind, width, decimals = parse_cds_format(spec.fmt)
        orig = plain[name]
        got = back[name]
        exp_unit = _expected_unit(spec, table[name] if name in table.colnames else orig)
        if exp_unit is None:
            assert got.unit is None, name
        else:
            assert got.unit is not None and u.Unit(got.unit) == exp_unit, (name, got.unit)
        omask = np.ma.getmaskarray(orig)
        if orig.dtype.kind == "f":
            omask = omask | ~np.isfinite(np.ma.filled(orig, np.nan))
        assert np.array_equal(np.ma.getmaskarray(got), omask), name
        ok = ~omask
        if orig.dtype.kind in "US":
            assert list(np.asarray(got)[ok]) == list(np.asarray(orig)[ok])
        elif kind == "I":
            assert np.array_equal(np.round(np.asarray(orig, float)[ok]),
                                  np.asarray(got, float)[ok]), name
        else:
            tol = 0.5 * 10 ** -decimals * 1.0001
            assert np.allclose(np.asarray(got, float)[ok], np.ma.filled(orig, np.nan)[ok],
                               atol=tol, rtol=0), name


def test_votables_in_bundle_valid(bundle, votlint):
    path, _ = bundle
    for stem in ("clusters", "members"):
        assert votable_valid(str(path / f"{stem}.vot"))
        assert votlint(path / f"{stem}.vot") == []


def test_overwrite_and_atomic(result, tmp_path, monkeypatch):
    path = tmp_path / "sub"
    result.clusters.write(path, format="cds.submission")
    assert (path / "ReadMe").exists() and (path / "clusters.dat").exists()
    with pytest.raises(OutputExistsError):
        result.clusters.write(path, format="cds.submission")
    before = (path / "ReadMe").read_text()
    # a failure while writing leaves the previous bundle untouched and no temp dir
    import astro_ocl.sinks.cds_bundle as cb

    def boom(*args, **kwargs):
        raise RuntimeError("disk full")
    monkeypatch.setattr(cb, "write_votable_cds", boom)
    with pytest.raises(RuntimeError):
        write_cds_bundle(result, path, overwrite=True)
    assert (path / "ReadMe").read_text() == before
    assert [p.name for p in tmp_path.iterdir()] == ["sub"]
    monkeypatch.undo()
    write_cds_bundle(result, path, overwrite=True)
    assert (path / "members.dat").exists()


def test_cds_unit_string():
    assert cds_unit_string(u.km / u.s) == "km/s"
    assert cds_unit_string(u.mas / u.yr) == "mas/yr"
    assert cds_unit_string(u.cm / u.s ** 2) == "cm/s2"
    assert cds_unit_string(u.deg) == "deg"


def test_user_table_bundle(tmp_path):
    """A user's QTable (unknown columns) through the registry, read back by ascii.cds."""
    from astropy.coordinates import SkyCoord
    from astropy.table import QTable
    from astropy.utils.masked import Masked
    t = QTable()
    t["src"] = ["a1", "b22", "c"]
    t["coord"] = SkyCoord([10.1234567, 11.5, 350.25] * u.deg, [-1.5, 2.25, 89.0] * u.deg)
    t["flux"] = Masked([1.5, 2.25, 3.125] * u.mJy, mask=[False, True, False])
    t["n"] = np.array([1, 20, 300])
    ucds = {"src": "meta.id;meta.main", "flux": "phot.flux.density", "n": "meta.number"}
    descr = {"src": "Source name", "flux": "Flux density", "n": "A count"}
    path = tmp_path / "user"
    t.meta["name"] = "sources"
    t.write(path, format="cds.submission", ucds=ucds, column_descriptions=descr,
            metadata={"title": "My sources", "catalogue": "J/other/test", "references": []})
    assert sorted(p.name for p in path.iterdir()) == ["ReadMe", "sources.dat", "sources.vot"]
    back = Table.read(path / "sources.dat", readme=str(path / "ReadMe"), format="ascii.cds")
    assert list(back["src"]) == ["a1", "b22", "c"]
    assert list(back["n"]) == [1, 20, 300]
    assert back["flux"].unit == u.mJy and list(back["flux"].mask) == [False, True, False]
    assert np.allclose(back["RAdeg"], [10.1234567, 11.5, 350.25], atol=5e-8)
    assert "My sources" in (path / "ReadMe").read_text()
    assert votable_valid(str(path / "sources.vot"))


def test_export_cli_readme_metadata(tmp_path):
    from astro_ocl import cli
    out = tmp_path / "exp"
    assert cli.main(["export", "--format", "cds", "--out", str(out), "--rebuild",
                     "--realisations", "50",
                     "--authors", "Doe J., Roe R.", "--title", "Open clusters again",
                     "--designation", "J/A+A/999/A1", "--bibcode", "2027A&A...999A...1D"]) == 0
    text = (out / "cds" / "ReadMe").read_text("ascii")
    assert text.startswith("J/A+A/999/A1") and "(Doe J., " in text.splitlines()[0]
    assert "Open clusters again" in text and "Doe J., Roe R." in text
    assert "2027A&A...999A...1D" in text
