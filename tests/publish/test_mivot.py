"""MIVOT (MANGO EpochPosition) in the "votable.cds" files: pyvo's viewer rebuilds the
SkyCoord from the file alone; votlint and astropy's validator pass."""
import re
from pathlib import Path

import astropy.units as u
import numpy as np
import pytest
from astropy.io import votable
from astropy.table import QTable
from astropy.time import Time

from astro_ocl.sinks.votable_cds import parse_cds_format, specs_for

from .checks import votable_valid
from .conftest import MIVOT_NOTICE


def _mivot_resource(path):
    vot = votable.parse(str(path), verify="exception")
    metas = [r for r in vot.resources[0].resources if r.type == "meta"]
    return metas[0] if metas else None


def _viewer_rows(path):
    """(identifier, SkyCoord) of every row, as pyvo's MIVOT viewer gives them."""
    from pyvo.mivot.viewer import MivotViewer
    from pyvo.utils.prototype import features
    before = features["MIVOT"].on
    features["MIVOT"].on = True  # a prototype feature of pyvo: the user activates it
    try:
        rows = []
        with MivotViewer(str(path), resolve_ref=True) as viewer:
            while viewer.next_row_view() is not None:
                obj = viewer.dm_instance
                rows.append((obj.identifier.value, obj.get_SkyCoord()))
        return rows
    finally:
        features["MIVOT"].on = before


def _tol(table, name):
    """Half a unit of the last decimal the file has for column ``name``."""
    _, _, decimals = parse_cds_format(specs_for(table)[name].fmt)
    return 0.5 * 10.0 ** -decimals * 1.0001


@pytest.fixture(scope="module")
def clusters_vot(result, tmp_path_factory):
    path = tmp_path_factory.mktemp("mivot") / "clusters.vot"
    result.clusters.write(path, format="votable.cds", provenance=result.provenance)
    return path


def test_clusters_file_is_annotated_and_valid(clusters_vot, votlint):
    meta = _mivot_resource(clusters_vot)
    assert meta is not None
    text = meta.mivot_block.content.replace("'", "\"")  # astropy writes either quote
    for word in ("mango:EpochPosition", "mango:EpochPosition.parallax",
                 "mango:EpochPosition.radialVelocity", "mango:EpochPosition.obsDate",
                 'ref="RAdeg"', 'ref="plx"', 'ref="RV"', 'ref="e_plx"', 'ref="e_RV"',
                 'ref="e_pmRA"', 'value="J2015.5"', 'value="ICRS"'):
        assert word in text, word
    # every unit of the block is VOUnit, the unit of the FIELD the ATTRIBUTE refers to
    fields = {f.ID: f for f in votable.parse(str(clusters_vot)).get_first_table().fields}
    pairs = re.findall(r'<ATTRIBUTE [^>]*unit="([^"]+)" ref="([^"]+)"', text)
    assert len(pairs) >= 10
    for unit, ref in pairs:
        assert u.Unit(unit, format="vounit") == fields[ref].unit, (unit, ref)
    assert votable_valid(clusters_vot)
    assert votlint(clusters_vot) == []
    # the only thing votlint says is that it does not check the MIVOT block
    raw = votlint(clusters_vot, raw=True)
    assert len(raw) == 1 and raw[0].endswith(MIVOT_NOTICE), raw


def test_viewer_rebuilds_the_skycoord(result, clusters_vot):
    table = result.clusters
    rows = _viewer_rows(clusters_vot)
    assert [r[0] for r in rows] == list(table["Cluster"])
    got = [r[1] for r in rows]
    c0 = table["coord"]
    # position, proper motions, radial velocity: the table's coord at the file's precision
    for attr, col in (("ra", "RAdeg"), ("dec", "DEdeg"), ("pm_ra_cosdec", "pmRA"),
                      ("pm_dec", "pmDE"), ("radial_velocity", "RV")):
        unit = getattr(c0, attr).unit
        new = np.array([getattr(c, attr).to_value(unit) for c in got])
        assert np.allclose(new, getattr(c0, attr).to_value(unit), atol=_tol(table, col),
                           rtol=0), attr
    # ... and the file's values to float precision (as the package's own reader gives them)
    back = QTable.read(clusters_vot, format="votable.cds")["coord"]
    for attr in ("ra", "dec", "pm_ra_cosdec", "pm_dec", "radial_velocity"):
        unit = getattr(back, attr).unit
        new = np.array([getattr(c, attr).to_value(unit) for c in got])
        assert np.allclose(new, getattr(back, attr).to_value(unit), rtol=1e-12, atol=0), attr
    # MANGO has a parallax, no distance: the viewer's distance is 1/plx (not CG2020 Dist)
    plx = np.array([c.distance.to_value(u.mas, u.parallax()) for c in got])
    assert np.allclose(plx, table["plx"].to_value(u.mas), atol=_tol(table, "plx"), rtol=0)
    # the epoch of the positions
    assert all(c.obstime == Time("J2015.5") for c in got)
    assert all(c.frame.name == "icrs" for c in got)


def test_members_annotated_too(result, tmp_path):
    path = tmp_path / "members.vot"
    result.members.write(path, format="votable.cds")
    assert votable_valid(path)
    rows = _viewer_rows(path)
    assert len(rows) == len(result.members)
    c0 = result.members["coord"]
    ra = np.array([c.ra.deg for _, c in rows])
    pm = np.array([c.pm_dec.to_value(u.mas / u.yr) for _, c in rows])
    assert np.allclose(ra, c0.ra.deg, atol=_tol(result.members, "RAdeg"), rtol=0)
    assert np.allclose(pm, c0.pm_dec.to_value(u.mas / u.yr),
                       atol=_tol(result.members, "pmDE"), rtol=0)


def test_switch_and_tables_without_positions(result, tmp_path, votlint):
    plain = tmp_path / "plain.vot"
    result.clusters.write(plain, format="votable.cds", mivot=False)
    assert _mivot_resource(plain) is None
    assert votlint(plain, raw=True) == []
    # no SkyCoord, no annotation
    t = QTable({"Cluster": ["A", "B"], "RVmed": [1.0, 2.0] * u.km / u.s})
    t.meta["schema"] = "clusters"
    path = tmp_path / "nocoord.vot"
    t.write(path, format="votable.cds")
    assert _mivot_resource(path) is None


def test_pyvo_feature_state_is_left_alone(result, tmp_path):
    from pyvo.utils.prototype import features
    before = features["MIVOT"].on
    result.clusters.write(tmp_path / "c.vot", format="votable.cds")
    assert features["MIVOT"].on is before


def test_mivot_block_valid_against_the_mivot_schema(clusters_vot):
    xmlschema = pytest.importorskip("xmlschema")
    import pyvo.mivot.writer
    xsd = Path(pyvo.mivot.writer.__file__).parent / "mivot-v1.xsd"
    # the block as the file has it (astropy's parsed copy re-indents empty elements)
    text = re.search(r"<VODML .*?</VODML>", Path(clusters_vot).read_text(), re.S).group(0)
    xmlschema.XMLSchema11(str(xsd)).validate(text)
