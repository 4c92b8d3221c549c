"""MIVOT annotation of our VOTables: MANGO ``EpochPosition`` with pyvo's MIVOT writer.

A VOTable written by `~astro_ocl.sinks.votable_cds.write_votable_cds` carries a
MIVOT block (IVOA Model Instances in VOTables 1.0, ``RESOURCE type="meta"``)
that maps each row on a MANGO ``MangoObject`` whose ``EpochPosition`` property
holds the position (``RAdeg``, ``DEdeg``), proper motion (``pmRA``, ``pmDE``),
parallax (``plx`` / ``parallax``), radial velocity (the column the SkyCoord's
radial velocity came from: ``RV`` for clusters, ``RVmed`` with the paper's
statistics), the epoch of the positions (``obsDate``) and the errors the table
has (``e_pmRA``/``e_pmDE``, ``e_plx``, ``e_RV`` or ``e_RVmed``), in the ICRS
frame at the barycentre. Any MIVOT client then knows which columns make the
position without reading our descriptions; pyvo's viewer rebuilds an astropy
`~astropy.coordinates.SkyCoord` from the file alone::

    from pyvo.utils import activate_features
    from pyvo.mivot.viewer import MivotViewer
    activate_features("MIVOT")
    with MivotViewer("clusters.vot", resolve_ref=True) as viewer:
        while viewer.next_row_view() is not None:
            coord = viewer.dm_instance.get_SkyCoord()

What MANGO cannot say (or pyvo 1.9 does not write), and so the annotation does
not claim:

* MANGO ``EpochPosition`` has a parallax but no distance. The distance of our
  cluster ``coord`` is CG2020's ``Dist`` (mode of the parallax likelihood,
  with a parallax zero point), not 1/``plx``: the SkyCoord a MIVOT client
  builds has the distance 1/``plx`` (pyvo converts the parallax), while
  ``QTable.read(..., format="votable.cds")`` gives the ``coord`` as built,
  with ``Dist``. A table without a parallax column gets no parallax; pyvo
  gives a NaN distance for a negative parallax (a faint star's), and leaves
  out what a row has as null.
* No correlations (the tables have none); no position errors (``r50`` is a
  size, not an error).

The annotation is built with `pyvo.mivot.writer.InstancesFromModels`
(pyvo >= 1.7; the package requires 1.9), MIVOT being one of pyvo's prototype
features: it is activated only while writing. The block is not validated while
writing (pyvo's schema check costs more than a second per file); the tests check
it against the MIVOT schema pyvo ships.
"""
import re
from contextlib import contextmanager

from ..exceptions import InputDataError
from ..logger import log

__all__ = ["annotate_epoch_position", "epoch_position_mapping", "MANGO_SEMANTICS"]

#: Semantics of the EpochPosition property (UAT concept "astronomical location").
MANGO_SEMANTICS = {
    "description": "Position, proper motion, parallax and radial velocity at the epoch",
    "uri": "https://www.ivoa.net/rdf/uat/2024-06-25/uat.html#astronomical-location",
    "label": "Astronomical location",
}

# SkyCoord attribute -> MANGO EpochPosition role
_ROLES = {"ra": "longitude", "dec": "latitude", "pm_ra_cosdec": "pmLongitude",
          "pm_dec": "pmLatitude", "radial_velocity": "radialVelocity"}


@contextmanager
def _mivot_feature():
    """pyvo's MIVOT prototype feature switched on, and back to what it was."""
    from pyvo.utils.prototype import features
    feature = features["MIVOT"]
    before = feature.on
    feature.on = True
    try:
        yield
    finally:
        feature.on = before


def _ucd_word(field):
    return (field.ucd or "").split(";")[0].strip().lower()


def _error_field(table, field):
    """The error column of ``field`` (CDS convention ``e_<name>``, UCD ``stat.error``)."""
    for f in table.fields:
        if f.name == f"e_{field.name}" and _ucd_word(f) == "stat.error":
            return f
    return None


def _vounit_attributes(vot):
    """Units of the MIVOT ATTRIBUTEs in VOUnit (pyvo writes astropy's ``mas / yr``)."""
    import astropy.units as u
    from astropy.io.votable.tree import MivotBlock

    def vounit(match):
        try:
            return f'unit="{u.Unit(match.group(1)).to_string("vounit")}"'
        except ValueError:
            return match.group(0)

    for res in vot.resources[0].resources:
        block = getattr(res, "mivot_block", None)
        if res.type == "meta" and block is not None:
            res.mivot_block = MivotBlock(re.sub(r'unit="([^"]+)"', vounit, block.content))


def epoch_position_mapping(table, parts, *, epoch):
    """The mapping of `pyvo.mivot.writer.InstancesFromModels.add_mango_epoch_position`.

    Parameters
    ----------
    table : `~astropy.io.votable.tree.TableElement`
        The VOTable table to annotate.
    parts : dict
        SkyCoord attribute -> column name (``{"ra": "RAdeg", "dec": "DEdeg",
        "pm_ra_cosdec": "pmRA", ...}``), as the writer split the coordinate.
    epoch : str
        Epoch of the positions, a Julian epoch such as ``"J2015.5"``.

    Returns
    -------
    dict or None
        Roles -> FIELD IDs (``errors`` as MANGO error classes, ``obsDate`` a
        ``coords:Epoch`` literal); None when the table has no RA/Dec columns.
    """
    by_name = {f.name: f for f in table.fields}
    fields = {}
    for attr, role in _ROLES.items():
        name = parts.get(attr)
        if name in by_name:
            fields[role] = by_name[name]
    if "longitude" not in fields or "latitude" not in fields:
        return None
    plx = next((f for f in table.fields if _ucd_word(f).startswith("pos.parallax")), None)
    if plx is not None:
        fields["parallax"] = plx
    mapping = {role: f.ID for role, f in fields.items()}
    errors = {}
    pm = [_error_field(table, fields[r]) for r in ("pmLongitude", "pmLatitude") if r in fields]
    if len(pm) == 2 and all(pm):
        errors["properMotion"] = {"class": "PErrorSym2D", "sigma1": pm[0].ID,
                                  "sigma2": pm[1].ID}
    for role in ("parallax", "radialVelocity"):
        err = _error_field(table, fields[role]) if role in fields else None
        if err is not None:
            errors[role] = {"class": "PErrorSym1D", "sigma": err.ID}
    if errors:
        mapping["errors"] = errors
    epoch = str(epoch).strip()
    if not epoch.startswith("J"):
        raise InputDataError("the MIVOT obsDate needs a Julian epoch such as 'J2015.5'",
                             value=epoch)
    mapping["obsDate"] = {"dmtype": "coords:Epoch", "value": f"*{epoch}"}
    return mapping


def annotate_epoch_position(vot, parts, *, epoch, frame="ICRS", identifier=None):
    """Add a MIVOT block (MANGO ``EpochPosition``) to ``vot``, in place.

    Parameters
    ----------
    vot : `~astropy.io.votable.tree.VOTableFile`
        The VOTable (its first table is annotated).
    parts : dict
        SkyCoord attribute -> column name (see `epoch_position_mapping`).
    epoch : str
        Julian epoch of the positions (``"J2015.5"``); the time frame is TCB
        at the barycentre, as for Gaia epochs.
    frame : str
        Space reference frame of the positions (``"ICRS"``).
    identifier : str, optional
        Column naming each row (default: the first FIELD with UCD
        ``meta.id;meta.main``).

    Returns
    -------
    dict or None
        The mapping written, or None (nothing written) when the table has no
        position columns.
    """
    from pyvo.mivot.writer import InstancesFromModels
    table = vot.get_first_table()
    mapping = epoch_position_mapping(table, parts, epoch=epoch)
    if mapping is None:
        log.debug("MIVOT: no position columns in %s, no annotation", table.name)
        return None
    if identifier is None:
        main = next((f for f in table.fields if (f.ucd or "").lower() == "meta.id;meta.main"),
                    None)
        identifier = main.ID if main is not None else None
    with _mivot_feature():
        builder = InstancesFromModels(vot, dmid=identifier)
        space = builder.add_simple_space_frame(spaceRefFrame=frame, refPosition="BARYCENTER")
        time = builder.add_simple_time_frame(timescale="TCB", refPosition="BARYCENTER")
        builder.add_mango_epoch_position(frames={"spaceSys": {"dmid": space},
                                                 "timeSys": {"dmid": time}},
                                         mapping=mapping, semantics=MANGO_SEMANTICS)
        # no schema validation here (pyvo's check takes over a second per file): the
        # tests validate the block against the MIVOT schema
        builder.pack_into_votable(report_msg="MANGO EpochPosition written by astro_ocl",
                                  schema_check=False)
    _vounit_attributes(vot)
    log.debug("MIVOT: %s annotated (%s)", table.name, ", ".join(
        k for k in mapping if k not in ("errors", "obsDate")))
    return mapping
