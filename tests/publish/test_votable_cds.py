"""The "votable.cds" writer: valid UCDs/units, descriptions, COOSYS, INFOs, nulls;
astropy's validator and STILTS votlint report nothing."""

import astropy.units as u
import numpy as np
import pytest
from astropy.coordinates import SkyCoord
from astropy.io import votable
from astropy.io.votable.ucd import check_ucd
from astropy.table import QTable, Table

from astro_ocl import schema
from astro_ocl.exceptions import InputDataError, OutputExistsError

from .checks import votable_valid


def _check_file(path):
    votable_valid(path)
    vot = votable.parse(str(path))
    tab = vot.get_first_table()
    for f in tab.fields:
        assert f.name
        assert f.ucd and check_ucd(f.ucd, check_controlled_vocabulary=True), (f.name, f.ucd)
        assert f.description, f.name
        if f.unit is not None:
            u.Unit(f.unit.to_string("vounit"), format="vounit")
    return vot


@pytest.mark.parametrize("label", ["clusters", "members"])
def test_result_tables(result, tmp_path, votlint, label):
    table = getattr(result, label)
    path = tmp_path / f"{label}.vot"
    table.write(path, format="votable.cds", provenance=result.provenance)
    vot = _check_file(path)
    assert votlint(path) == []
    tab = vot.get_first_table()
    names = [f.name for f in tab.fields]
    assert "coord" not in names and {"RAdeg", "DEdeg"} <= set(names)
    # COOSYS referenced by the positions, with the epoch
    assert vot.coordinate_systems[0].system == "ICRS"
    assert vot.coordinate_systems[0].epoch == "J2015.5"
    assert tab.get_field_by_id("RAdeg").ref == vot.coordinate_systems[0].ID
    # width/precision from the CDS formats of the schema
    ra = tab.get_field_by_id("RAdeg")
    spec = (schema.MEMBERS if label == "members" else schema.CLUSTERS)["RAdeg"]
    assert f"F{ra.width}.{ra.precision.lstrip('F')}" == spec.fmt
    # provenance and reference as INFO elements
    infos = {i.name: i.value for i in vot.resources[0].infos}
    assert "A&A 668, A4" in infos["reference"]
    assert infos["version"] == result.provenance["version"]
    assert infos["seed"] == "1"
    assert infos["date"] == result.provenance["date"]
    # [Fe/H] and log g: unitless, unit stated in the description
    feh = next(f for f in tab.fields if f.name.startswith("[Fe/H]"))
    assert feh.unit is None and "dex" in feh.description
    if label == "members":
        logg = tab.get_field_by_id("logg")
        assert logg.unit is None and "cm/s2" in logg.description.replace(" ", "")
    # values and nulls survive
    back = tab.to_table()
    assert len(back) == len(table)
    if label == "clusters":
        col = back["[Fe/H]"] if "[Fe/H]" in back.colnames else back[tab.fields[
            names.index("[Fe/H]")].ID]
        nan = ~np.isfinite(table["[Fe/H]"].value)
        assert nan.any()
        assert np.array_equal(np.ma.getmaskarray(col) | ~np.isfinite(np.ma.filled(col, np.nan)),
                              nan)
        assert np.allclose(np.ma.filled(col, np.nan)[~nan], table["[Fe/H]"].value[~nan],
                           atol=5e-4)
        assert names.count("RV") == 1  # the coord's RV is the RV column: written once


def test_user_qtable_masked_int_and_unknown_column(tmp_path, votlint):
    t = QTable()
    t["name"] = ["a", "b", "c"]
    t["coord"] = SkyCoord([10, 11, 12] * u.deg, [1, 2, 3] * u.deg)
    t["n"] = np.ma.masked_array([1, 2, 3], mask=[False, True, False])
    t["flux"] = [1.0, np.nan, 3.0] * u.mJy
    t["feh"] = [0.1, -0.2, 0.0] * u.dex
    with pytest.raises(InputDataError, match="name"):
        t.write(tmp_path / "x.vot", format="votable.cds")
    path = tmp_path / "x.vot"
    t.write(path, format="votable.cds",
            ucds={"name": "meta.id;meta.main", "n": "meta.number", "flux": "phot.flux.density"},
            descriptions={"name": "Name", "n": "A count", "flux": "A flux"})
    vot = _check_file(path)
    assert votlint(path) == []
    back = vot.get_first_table().to_table()
    assert list(np.ma.getmaskarray(back["n"])) == [False, True, False]
    assert np.ma.getmaskarray(back["flux"])[1] or np.isnan(back["flux"][1])
    assert vot.get_first_table().get_field_by_id("flux").unit == u.mJy
    with pytest.raises(OutputExistsError):
        t.write(path, format="votable.cds", strict=False)
    t.write(path, format="votable.cds", strict=False, overwrite=True)


def test_invalid_ucd_rejected(tmp_path):
    t = Table({"x": [1.0]}, meta={})
    with pytest.raises(InputDataError, match="UCD"):
        t.write(tmp_path / "x.vot", format="votable.cds", ucds={"x": "not.a.ucd"},
                descriptions={"x": "x"})
    assert not (tmp_path / "x.vot").exists()
    # not strict (the pipeline's write): the bad UCD is left out, the file stays valid
    t.write(tmp_path / "x.vot", format="votable.cds", ucds={"x": "not.a.ucd"},
            descriptions={"x": "x"}, strict=False)
    assert votable.parse_single_table(str(tmp_path / "x.vot")).fields[0].ucd is None


def test_plain_table_class_registered():
    from astropy.io import registry
    for cls in (Table, QTable):
        assert registry.get_writer("votable.cds", cls)
        assert registry.get_writer("cds.submission", cls)


def test_epochs_refer_to_timesys(tmp_path, votlint):
    """Time columns become MJD in their scale with a TIMESYS; Julian-year epochs too."""
    from astropy.time import Time
    t = QTable()
    t["coord"] = SkyCoord([10, 11] * u.deg, [1, 2] * u.deg)
    t["obs"] = Time([58000.5, 58001.25], format="mjd", scale="utc")
    t["ref_epoch"] = [2015.5, 2015.5] * u.yr
    path = tmp_path / "t.vot"
    t.write(path, format="votable.cds", ucds={"ref_epoch": "time.epoch"},
            descriptions={"obs": "Observation date", "ref_epoch": "Reference epoch (Julian year)"})
    vot = _check_file(path)
    assert votlint(path) == []
    tab = vot.get_first_table()
    systems = {ts.ID: ts for ts in vot.time_systems}
    obs = tab.get_field_by_id("obs")
    assert obs.ucd == "time.epoch" and str(obs.unit) == "d"
    assert systems[obs.ref].timescale == "UTC"
    assert systems[obs.ref].timeorigin in ("MJD-origin", 2400000.5)
    ep = tab.get_field_by_id("ref_epoch")
    assert systems[ep.ref].timescale == "TCB"
    back = tab.to_table()
    assert np.allclose(np.asarray(back["obs"], float), [58000.5, 58001.25])


def test_comparison_and_matched_tables(result, tmp_path, votlint):
    """The literature comparison (paper Tables 1, 3) and the matched tables write cleanly."""
    path = tmp_path / "comparison.vot"
    result.comparison.write(path, format="votable.cds", provenance=result.provenance)
    _check_file(path)
    assert votlint(path) == []
    for (cat, quantity), table in list(result.matched.items())[:2]:
        path = tmp_path / f"{cat}_{quantity.strip('[]').replace('/', '')}.vot"
        table.write(path, format="votable.cds")
        vot = _check_file(path)
        assert votlint(path) == []
        ours = vot.get_first_table().get_field_by_id("ours")
        assert ours.ucd == ("spect.dopplerVeloc.opt" if quantity == "RV" else "phys.abund.Fe")


def test_build_output_votables_are_cds_votables(result, tmp_path, votlint):
    """`CatalogueResult.write` (astro-ocl build) writes the same CDS VOTables."""
    files = result.write(tmp_path / "built")
    for name in ("clusters.vot", "members.vot"):
        path = tmp_path / "built" / name
        assert path in files
        vot = _check_file(path)
        assert votlint(path) == []
        assert vot.coordinate_systems[0].system == "ICRS"
