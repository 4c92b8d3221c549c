"""The written ECSV and VOTable files hold the values as computed (float64); the display
format stays in the columns; the CDS fixed-width tables keep their declared formats."""
import numpy as np
import pytest
from astropy.coordinates import SkyCoord
from astropy.io import votable
from astropy.table import QTable, Table

from astro_ocl import cli
from astro_ocl.sinks.tables import write_ecsv
from astro_ocl.sinks.votable_cds import parse_cds_format, specs_for


def _floats(table):
    """``{column: float64 values}`` of the float columns (and the SkyCoord components)."""
    out = {}
    for name in table.colnames:
        col = table[name]
        if isinstance(col, SkyCoord):
            for attr in ("ra", "dec", "distance", "pm_ra_cosdec", "pm_dec", "radial_velocity"):
                try:
                    q = getattr(col, attr)
                except (AttributeError, TypeError):
                    continue
                out[f"{name}.{attr}"] = np.asarray(q.value, float)
            continue
        data = np.ma.filled(np.ma.asarray(getattr(col, "value", col)), np.nan) \
            if np.asarray(getattr(col, "value", col)).dtype.kind == "f" else None
        if data is not None:
            out[name] = np.asarray(data, float)
    return out


def _assert_same_floats(back, table):
    """Every float column exactly; the SkyCoord components to within a few ulp: astropy
    rebuilds the coordinate from its written components through its representation
    classes (1e-14 deg in ra, 2e-16 mas/yr in pmRA at worst, against 1e-3 for the
    display formats)."""
    a, b = _floats(table), _floats(back)
    assert set(a) <= set(b), set(a) - set(b)
    for name, values in a.items():
        if "." in name:
            assert np.allclose(b[name], values, rtol=1e-15, atol=1e-13, equal_nan=True), name
        else:
            assert np.array_equal(b[name], values, equal_nan=True), name


@pytest.fixture(scope="module")
def written(multi_survey_result, tmp_path_factory):
    """The default build written as ``astro-ocl build`` writes it."""
    path = tmp_path_factory.mktemp("precision") / "catalogue"
    multi_survey_result.write(path)
    return path


@pytest.mark.parametrize("stem", ["clusters", "members"])
def test_ecsv_round_trips_to_float64(multi_survey_result, written, stem):
    table = getattr(multi_survey_result, stem)
    back = QTable.read(written / f"{stem}.ecsv")
    _assert_same_floats(back, table)
    # the display format of the schema is kept in the column
    spec = specs_for(table)["RV"]
    _, _, decimals = parse_cds_format(spec.fmt)
    assert back["RV"].info.format == f"{{:.{decimals}f}}"


@pytest.mark.parametrize("stem", ["clusters", "members"])
def test_votable_round_trips_to_float64(multi_survey_result, written, stem):
    table = getattr(multi_survey_result, stem)
    back = QTable.read(written / f"{stem}.vot", format="votable.cds")
    _assert_same_floats(back, table)
    # the FIELDs keep the display format of the CDS format as width/precision
    fields = {f.name: f for f in votable.parse(str(written / f"{stem}.vot"))
              .get_first_table().fields}
    spec = specs_for(table)["RV"]
    _, width, decimals = parse_cds_format(spec.fmt)
    field = fields["RV"]
    assert (field.width, field.precision) == (width, f"F{decimals}")


def test_other_ecsv_files_round_trip(multi_survey_result, written):
    for survey, table in multi_survey_result.by_survey.items():
        _assert_same_floats(QTable.read(written / f"clusters_{survey}.ecsv"), table)
    # a table write_ecsv is given is not changed by it
    t = multi_survey_result.clusters
    before = t["RGC"].info.format
    write_ecsv(t, written.parent / "again.ecsv")
    assert t["RGC"].info.format == before


def test_gradients_of_the_written_catalogue_are_the_builds(multi_survey_result, written,
                                                           tmp_path):
    """``astro-ocl gradients --clusters catalogue/clusters.ecsv`` fits what the build
    fitted: the written values are the values the build used."""
    assert multi_survey_result.gradients.source == "this catalogue"
    out = tmp_path / "refit.ecsv"
    assert cli.main(["gradients", "--clusters", str(written / "clusters.ecsv"), "--method",
                     "analytic", "--out", str(out), "-q"]) == 0
    refit, own = Table.read(out), Table.read(written / "gradients.ecsv")
    assert list(refit["age_group"]) == list(own["age_group"])
    assert list(refit["N"]) == list(own["N"])
    for name in refit.colnames:
        if name[:1] in "abc" and name[1:2] == "_":
            assert np.array_equal(np.asarray(refit[name], float), np.asarray(own[name], float),
                                  equal_nan=True), name


def test_cds_tables_keep_their_declared_formats(multi_survey_result, tmp_path):
    from astro_ocl.sinks.cds_bundle import write_cds_bundle
    path = tmp_path / "cds"
    write_cds_bundle({"clusters": multi_survey_result.clusters}, path, votables=False,
                     provenance=multi_survey_result.provenance)
    back = Table.read(path / "clusters.dat", readme=str(path / "ReadMe"), format="ascii.cds")
    spec = specs_for(multi_survey_result.clusters)["RGC"]
    _, _, decimals = parse_cds_format(spec.fmt)
    values = np.asarray(multi_survey_result.clusters["RGC"].value)
    ok = np.isfinite(values)
    written = np.asarray(back["RGC"], float)[ok]
    assert np.allclose(written, np.round(values[ok], decimals), atol=10.0 ** -decimals / 2)
    assert not np.array_equal(written, values[ok])  # rounded: the .dat is fixed-width
