"""A VOTable writer for CDS: UCDs, VOUnits, descriptions, COOSYS, provenance.

:func:`write_votable_cds` is registered with `astropy.io.registry` as the
``"votable.cds"`` format of `~astropy.table.Table` and `~astropy.table.QTable`::

    clusters.write("clusters.vot", format="votable.cds", overwrite=True)

What it guarantees (and tests check with ``astropy.io.votable.validate`` and
STILTS ``votlint``):

* every FIELD has a name, a UCD1+ accepted by astropy's UCD checker
  (controlled vocabulary), a description, and a unit that is valid VOUnit or
  no unit at all. Logarithmic quantities (``dex``, ``dex(cm/s2)``: [Fe/H],
  log g) have no VOUnit spelling: they are written unitless and the unit is
  stated in the description;
* ``width``/``precision`` come from the CDS format of the column
  (`astro_ocl.schema`), otherwise from the data: they are the display format;
  the values themselves are written as computed (float64), in ``BINARY2``
  serialisation, so that the file reads back to the same numbers (a
  ``TABLEDATA`` table would be written at the display precision);
* the TABLE's DESCRIPTION of a build's cluster or member table names the
  surveys and their numbers of stars (`astro_ocl.sinks.labels`);
* `~astropy.coordinates.SkyCoord` columns are split into ``RAdeg``/``DEdeg``
  (and proper motions, distance, RV) that refer to a COOSYS (ICRS, with the
  epoch of the positions); epoch columns (UCD ``time.epoch``) refer to a
  TIMESYS;
* NaN and masked values are written as VOTable nulls (integers get a
  ``null`` value);
* provenance (package version, inputs, query, date) and the reference are
  INFO elements of the RESOURCE;
* the position, proper motion, parallax, radial velocity and epoch are
  annotated with MIVOT (MANGO ``EpochPosition``, `astro_ocl.sinks.mivot`), so
  that MIVOT clients (pyvo's ``MivotViewer``) rebuild the SkyCoord from the
  file alone.
"""
import json
import re
import warnings
from dataclasses import replace
from pathlib import Path

import astropy.units as u
import numpy as np
from astropy.coordinates import SkyCoord
from astropy.io import votable
from astropy.io.votable import parse
from astropy.io.votable.exceptions import W03
from astropy.io.votable.ucd import check_ucd
from astropy.table import Column, MaskedColumn, QTable, Table

from .. import schema
from ..version import __version__
from ..exceptions import InputDataError
from ..logger import log
from ..outputs import atomic_path
from . import labels
from .mivot import annotate_epoch_position
from .tables import COORD_PARTS, auto_format, is_log_unit, to_plain_table

__all__ = ["write_votable_cds", "specs_for", "FU2022_REFERENCE", "FU2022_BIBCODE",
           "vounit_or_none", "parse_cds_format", "default_provenance"]

FU2022_REFERENCE = ("Fu X., Bragaglia A., Liu C. et al. 2022, A&A 668, A4, "
                    "'LAMOST meets Gaia: the Galactic open clusters' (CDS J/A+A/668/A4)")
FU2022_BIBCODE = "2022A&A...668A...4F"

#: Default epoch of the positions of our tables (Gaia DR2).
DEFAULT_EPOCH = "J2015.5"

_POS_UCDS = ("pos.eq.ra", "pos.eq.dec", "pos.pm", "pos.parallax", "pos.distance")


def specs_for(table):
    """The column specs of ``table``: its schema table (``meta["schema"]``) first.

    No kind is guessed from column names: a table marked by
    `astro_ocl.schema.apply_schema` gets its `~astro_ocl.schema.TableDef`; any
    column (of any table) is otherwise looked up by name in the whole registry.
    The flag columns' descriptions are generated from the quality cuts the
    table's provenance records (`astro_ocl.schema.flag_descriptions`).

    Parameters
    ----------
    table : `~astropy.table.Table`

    Returns
    -------
    dict
        Mapping column name -> `~astro_ocl.schema.ColumnSpec` (also for the
        columns the exporters make from a SkyCoord).
    """
    tdef = schema.table_def(table)
    flags = schema.flag_descriptions(table.meta)
    names = list(table.colnames) + [p[1] for p in COORD_PARTS]
    specs = {}
    for name in names:
        spec = schema.column_spec(name, table=tdef)
        if spec is not None and name in flags:
            spec = replace(spec, description=flags[name])
        if spec is not None:
            specs[name] = spec
    return specs


def default_provenance(meta):
    """Provenance of a table from its ``meta``: ``meta["provenance"]`` or its scalar items.

    The pipeline stores the provenance (package version, inputs, options, date)
    directly in ``table.meta``; ``name`` and ``description`` are not provenance.
    """
    if isinstance(meta.get("provenance"), dict):
        return dict(meta["provenance"])
    return {k: v for k, v in meta.items()
            if k not in ("name", "description", "provenance", "schema")
            and isinstance(v, (str, int, float, bool))}


def parse_cds_format(fmt):
    """Split a CDS (Fortran) format into (kind, width, decimals).

    Parameters
    ----------
    fmt : str
        E.g. ``"F8.3"``, ``"I4"``, ``"A20"``, ``"E10.3"``.

    Returns
    -------
    tuple
        ``(kind, width, decimals)``; ``decimals`` is None for I and A.
    """
    m = re.fullmatch(r"([AIFE])(\d+)(?:\.(\d+))?", fmt or "")
    if not m:
        raise ValueError(f"not a CDS format: {fmt!r}")
    return m.group(1), int(m.group(2)), (int(m.group(3)) if m.group(3) else None)


def vounit_or_none(unit):
    """The VOUnit string of ``unit``, or None when VOUnit cannot express it.

    Parameters
    ----------
    unit : `~astropy.units.UnitBase` or str or None
    """
    if unit is None or unit == "":
        return None
    try:
        unit = u.Unit(unit)
        if is_log_unit(unit):
            return None
        if unit == u.dimensionless_unscaled:
            return None
        text = unit.to_string("vounit")
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            u.Unit(text, format="vounit")
        return text
    except (ValueError, TypeError, Warning):
        return None


def _column_meta(name, col, spec, ucds, descriptions):
    ucd = (ucds or {}).get(name) or (col.meta or {}).get("ucd") or (spec.ucd if spec else None)
    desc = ((descriptions or {}).get(name) or getattr(col, "description", None)
            or (spec.description if spec else None))
    fmt = spec.fmt if spec else auto_format(col)
    return ucd, desc, fmt


def write_votable_cds(table, path, *, overwrite=False, provenance=None, reference=FU2022_REFERENCE,
                      bibcode=FU2022_BIBCODE, epoch=DEFAULT_EPOCH, ucds=None, descriptions=None,
                      specs=None, table_name=None, table_description=None, strict=True,
                      mivot=True):
    """Write ``table`` as a CDS-ready VOTable, atomically.

    Parameters
    ----------
    table : `~astropy.table.Table` or `~astropy.table.QTable`
        Any table; SkyCoord columns are split, log units made unitless.
    path : str or `~pathlib.Path`
        Output file.
    overwrite : bool
        Replace an existing file (otherwise
        `~astro_ocl.exceptions.OutputExistsError`).
    provenance : dict, optional
        INFO elements (package version, inputs, query, date ...). Default:
        ``table.meta["provenance"]`` when present.
    reference, bibcode : str
        The reference of the data (INFO ``reference`` and ``bibcode``).
    epoch : str
        Epoch of the positions (COOSYS ``epoch``), e.g. ``"J2015.5"``.
    ucds, descriptions : dict, optional
        UCDs and descriptions of columns the package schema does not know
        (they can also come from ``col.meta["ucd"]`` and ``col.description``).
    specs : dict, optional
        Column specs (default: :func:`specs_for` the table).
    table_name, table_description : str, optional
        TABLE name and DESCRIPTION (default ``table.meta["name"]`` and
        ``table.meta["description"]``).
    strict : bool
        Raise `~astro_ocl.exceptions.InputDataError` when a column has no UCD or
        no description (default); otherwise log a warning and leave it out.
    mivot : bool
        Annotate the position columns of the first SkyCoord column with MIVOT
        (MANGO ``EpochPosition``, see `astro_ocl.sinks.mivot`); a table without
        a SkyCoord gets no annotation.

    Returns
    -------
    `~pathlib.Path`
    """
    specs = specs if specs is not None else specs_for(table)
    vot = build_votable(table, provenance=provenance, reference=reference, bibcode=bibcode,
                        epoch=epoch, ucds=ucds, descriptions=descriptions, specs=specs,
                        table_name=table_name, table_description=table_description,
                        strict=strict, mivot=mivot)
    with atomic_path(path, overwrite=overwrite) as tmp:
        # BINARY2: the values as computed (float64); TABLEDATA would write them at
        # the display precision of the FIELDs' ``precision`` attributes
        vot.to_xml(str(tmp), tabledata_format="binary2")
    log.info("wrote VOTable %s (%d rows)", path, len(table))
    return Path(path)


def build_votable(table, *, provenance=None, reference=FU2022_REFERENCE, bibcode=FU2022_BIBCODE,
                  epoch=DEFAULT_EPOCH, ucds=None, descriptions=None, specs=None,
                  table_name=None, table_description=None, strict=True, mivot=True):
    """The `~astropy.io.votable.tree.VOTableFile` that :func:`write_votable_cds` writes.

    Parameters are those of :func:`write_votable_cds`.
    """
    specs = specs if specs is not None else specs_for(table)
    meta = dict(table.meta)
    if provenance is None:
        provenance = default_provenance(meta)
    plain = to_plain_table(table, specs=specs)
    plain.meta.clear()
    restore = _restore_info(table, plain)
    timescales = {n: (plain[n].meta or {}).get("timescale") for n in plain.colnames}

    # per-column metadata, units and integer nulls decided before from_table
    colmeta = {}
    missing = []
    for name in plain.colnames:
        col = plain[name]
        spec = specs.get(name)
        ucd, desc, fmt = _column_meta(name, col, spec, ucds, descriptions)
        orig = table[name] if name in table.colnames else None
        unit = orig.unit if isinstance(orig, u.Quantity) else col.unit
        vounit = vounit_or_none(unit)
        if unit is not None and vounit is None and not is_log_unit(unit) \
                and u.Unit(unit) != u.dimensionless_unscaled:
            desc = f"{desc or name} [unit {u.Unit(unit).to_string()}: no VOUnit; written unitless]"
        if spec is not None and spec.cds_unit and vounit is None and desc \
                and spec.cds_unit not in desc and "logarithmic" not in desc:
            desc = f"{desc} [CDS unit {spec.cds_unit}]"
        col.unit = vounit
        if ucd is not None and not check_ucd(ucd, check_controlled_vocabulary=True):
            if strict:
                raise InputDataError("invalid UCD1+", column=name, value=ucd)
            log.warning("column %s: invalid UCD1+ %r left out", name, ucd)
            ucd = None
        if ucd is None or not desc:
            missing.append(name)
        colmeta[name] = (ucd, desc, fmt)
        # ASCII strings as VOTable char (not unicodeChar), as CDS writes them
        if col.dtype.kind == "U":
            try:
                plain[name] = Column(np.char.encode(np.asarray(col), "ascii"), name=name,
                                     description=desc)
            except UnicodeEncodeError:
                pass
            continue
        # integral floats with an I format (e.g. Dist) are written as integers
        if col.dtype.kind == "f" and fmt.startswith("I"):
            data = np.ma.masked_invalid(np.ma.asarray(col, dtype=float))
            if np.all(np.mod(data.compressed(), 1) == 0):
                plain[name] = MaskedColumn(data.filled(0).astype(np.int64), mask=data.mask,
                                           name=name, unit=vounit, description=desc)
                continue
        # NaN -> mask for floats, masked ints stay ints with a null value
        if col.dtype.kind == "f":
            data = np.ma.masked_invalid(np.ma.asarray(col))
            if np.ma.is_masked(data):
                plain[name] = MaskedColumn(data, name=name, unit=vounit, description=desc)
    if missing:
        msg = (f"columns without a UCD or a description: {', '.join(missing)}; "
               "pass ucds={...} / descriptions={...} or set col.meta['ucd'] and col.description")
        if strict:
            raise InputDataError(msg, source=table_name or meta.get("name"))
        log.warning(msg)

    plain = Table(plain, masked=False)
    with warnings.catch_warnings():
        # W03: names such as "[Fe/H]med" are not XML IDs; astropy derives valid IDs
        # ("__Fe_H_med") and says so. The name attribute keeps the CDS label.
        warnings.simplefilter("ignore", W03)
        label = table_name or meta.get("name") or meta.get("schema") or "table"
        vot = votable.from_table(plain, table_id=_xml_id(label))
    res = vot.resources[0]
    vt = res.tables[0]
    vt.name = label
    kind = meta.get("schema")
    # a cluster or member table of a build names its surveys and their stars
    generated = labels.catalogue_descriptions({kind: table}, provenance).get(kind) \
        if kind in ("clusters", "members") else None
    vt.description = table_description or generated or meta.get("description") or (
        "Table written by astro_ocl (method of Fu et al. 2022, A&A 668, A4)")

    coosys = None
    if any(colmeta[f.name][0] and colmeta[f.name][0].split(";")[0].startswith(_POS_UCDS)
           for f in vt.fields):
        coosys = votable.tree.CooSys(ID="icrs", system="ICRS", epoch=epoch)
        vot.coordinate_systems.append(coosys)
    # one TIMESYS per time scale of the epoch columns: astropy Time columns are
    # written as MJD in their own scale; plain epoch columns (e.g. Julian years
    # of Gaia positions) are taken as TCB at the barycentre
    timesys = {}
    for f in vt.fields:
        ucd = colmeta[f.name][0]
        if not (ucd and ucd.startswith("time.epoch")):
            continue
        scale = timescales.get(f.name) or "TCB"
        key = (scale, timescales.get(f.name) is not None)
        if key not in timesys:
            ts = votable.tree.TimeSys(
                ID=f"time_{scale.lower()}{'_mjd' if key[1] else ''}", timescale=scale,
                timeorigin="MJD-origin" if key[1] else None,
                refposition="BARYCENTER" if scale in ("TCB", "TDB") else "TOPOCENTER",
                config={"version": "1.4", "version_1_4_or_later": True})
            vot.time_systems.append(ts)
            timesys[key] = ts
        f.ref = timesys[key].ID

    for f in vt.fields:
        ucd, desc, fmt = colmeta[f.name]
        f.ucd = ucd
        f.description = desc
        kind, width, decimals = parse_cds_format(fmt)
        if f.datatype in ("double", "float"):
            f.width = width
            if kind == "E" and decimals:
                f.precision = f"E{decimals}"
            elif decimals:  # VOTable precision must be >= 1
                f.precision = f"F{decimals}"
        elif f.datatype in ("long", "int", "short", "unsignedByte"):
            f.width = width
        if f.datatype in ("char", "unicodeChar") and f.arraysize == "1":
            f.arraysize = "*"  # "1" is deprecated (VOTable 1.3 Erratum 3), none warns (W47)
        if coosys is not None and ucd and ucd.split(";")[0].startswith(("pos.eq.ra", "pos.eq.dec")):
            f.ref = coosys.ID
        if f.datatype in ("long", "int", "short") and f.values.null is None:
            col = plain[f.name]
            if np.ma.is_masked(np.ma.asarray(col)):
                f.values.null = {"long": -9223372036854775808, "int": -2147483648,
                                 "short": -32768}[f.datatype]

    infos = [("reference", reference), ("bibcode", bibcode),
             ("software", f"astro_ocl {__version__}"), (RESTORE_INFO, restore)]
    infos += [(str(k), str(v)) for k, v in provenance.items()]
    seen, ids = set(), set()
    for key, value in infos:
        if value is None or (key, value) in seen:
            continue
        seen.add((key, value))
        ident, n = _xml_id(f"info_{key}"), 1
        while ident in ids:  # e.g. a table's own "reference" besides ours
            n += 1
            ident = _xml_id(f"info_{key}_{n}")
        ids.add(ident)
        res.infos.append(votable.tree.Info(ID=ident, name=_xml_name(key), value=str(value)))
    if mivot:
        coords = json.loads(restore)["coords"]
        if coords:
            annotate_epoch_position(vot, coords[0]["parts"], epoch=epoch,
                                    frame=coosys.system if coosys is not None else "ICRS")
    return vot


def _xml_id(text):
    s = re.sub(r"[^A-Za-z0-9_.-]", "_", str(text))
    return s if re.match(r"[A-Za-z_]", s) else f"_{s}"


def _xml_name(text):
    return re.sub(r"\s+", "_", str(text))


#: Name of the INFO with what `read_votable_cds` needs to give back the table
#: as built (JSON: the SkyCoord columns, the log units written unitless, the kind).
RESTORE_INFO = "astro_ocl_restore"


def _same(a, b):
    a = np.asarray(a, float)
    b = np.asarray(b, float)
    return a.shape == b.shape and bool(np.all((a == b) | (np.isnan(a) & np.isnan(b))))


def _restore_info(table, plain):
    """JSON: how to rebuild ``table`` from ``plain`` (SkyCoord columns, log units, kind)."""
    coords = []
    for name in table.colnames:
        col = table[name]
        if not isinstance(col, SkyCoord):
            continue
        prefix = "" if not coords else f"{name}_"
        parts, added = {}, []
        for attr, cname, unit, _ in COORD_PARTS:
            try:
                q = getattr(col, attr)
                values = q.to_value(unit)
            except (AttributeError, TypeError, ValueError, u.UnitsError):
                continue  # a component the coordinate does not have
            target = f"{prefix}{cname}"
            candidates = [target] + [c for c in plain.colnames if c != target
                                     and plain[c].dtype.kind == "f" and plain[c].unit == unit]
            for c in candidates:
                if c in plain.colnames and _same(np.ma.filled(
                        np.ma.asarray(plain[c], dtype=float), np.nan), values):
                    parts[attr] = c
                    if c not in table.colnames:
                        added.append(c)
                    break
        coords.append({"name": name, "index": table.colnames.index(name),
                       "frame": col.frame.name, "parts": parts, "added": added})
    units = {}
    for name in table.colnames:
        unit = getattr(table[name], "unit", None)
        if unit is not None and name in plain.colnames and plain[name].unit != unit:
            units[name] = u.Unit(unit).to_string()
    return json.dumps({"coords": coords, "units": units,
                       "schema": table.meta.get("schema")}, separators=(",", ":"))


def read_votable_cds(path, **kwargs):
    """Read a VOTable written by :func:`write_votable_cds` back into the table as built.

    Registered with `astropy.io.registry` as ``format="votable.cds"``:
    ``QTable.read("clusters.vot", format="votable.cds")`` gives the CDS column
    names, the units (including ``dex`` and ``dex(cm/s2)``, which VOTable
    writes unitless), the ``SkyCoord`` column (position, distance, proper
    motions and radial velocity, from the columns that held them) and the
    provenance (INFO elements) in ``meta``. A plain VOTable without the
    package's INFO is read with its CDS names and nothing else changed.

    Plain ``QTable.read(path)`` names the columns by their XML IDs, which
    astropy's parser derives from the names (``[Fe/H]med`` -> ``__Fe_H_med``)
    whatever the file says; ``use_names_over_ids=True`` gives the CDS names
    there too.

    Parameters
    ----------
    path : str or `~pathlib.Path`
    **kwargs
        Passed to ``astropy.io.votable.parse``.

    Returns
    -------
    `~astropy.table.QTable`
    """
    path = Path(path)
    if not path.is_file() or path.stat().st_size == 0:
        why = ("a directory, not a VOTable" if path.is_dir() else
               "empty file" if path.exists() else "input file does not exist")
        raise InputDataError(why, source=str(path))
    try:
        vot = parse(str(path), **kwargs)
    except Exception as exc:
        raise InputDataError(f"cannot read VOTable: {type(exc).__name__}: {exc}",
                             source=str(path)) from exc
    vtable = vot.get_first_table()
    table = QTable(vtable.to_table(use_names_over_ids=True))
    restore = {}
    meta = {}
    for info in vot.resources[0].infos:
        if info.name == RESTORE_INFO:
            restore = json.loads(info.value)
        elif info.name not in ("reference", "bibcode", "software"):
            meta[info.name] = _typed(info.value)
    for name, unit in restore.get("units", {}).items():
        if name in table.colnames:
            unit = u.Unit(unit)
            data = np.ma.filled(np.ma.asarray(table[name], dtype=float), np.nan)
            desc = table[name].info.description
            table[name] = _function_quantity(data, unit)
            table[name].info.description = desc
    for spec in restore.get("coords", []):
        parts = {attr: u.Quantity(table[c]) for attr, c in spec["parts"].items()}
        if "ra" not in parts or "dec" not in parts:
            continue
        for attr in ("distance", "pm_ra_cosdec", "pm_dec", "radial_velocity"):
            if attr in parts:
                parts[attr] = u.Quantity(np.ma.filled(np.ma.asarray(parts[attr].value,
                                                                    dtype=float), np.nan),
                                         parts[attr].unit)
        coord = SkyCoord(frame=spec["frame"], **parts)
        table.remove_columns([c for c in spec["added"] if c in table.colnames])
        table.add_column(coord, name=spec["name"], index=min(spec["index"], len(table.columns)))
    table.meta.update(meta)
    if restore.get("schema"):
        table.meta["schema"] = restore["schema"]
    table.meta["name"] = vtable.name
    return table


def _function_quantity(data, unit):
    """``data`` with ``unit``: a plain or a logarithmic (``dex``) quantity."""
    if isinstance(unit, u.FunctionUnitBase):
        return unit._quantity_class(data, unit)
    return u.Quantity(data, unit)


def _typed(text):
    """An INFO value as int or float when it is one, else the string."""
    for kind in (int, float):
        try:
            return kind(text)
        except (TypeError, ValueError):
            pass
    return text
