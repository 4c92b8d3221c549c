"""Turning our QTables into plain tables for file formats, and a VOTable writer.

* :func:`flatten_coords` replaces each `~astropy.coordinates.SkyCoord` column by
  plain columns (``RAdeg, DEdeg`` and, when the table lacks them, proper
  motions, distance and radial velocity).
* :func:`to_plain_table` also turns log quantities (``dex``, ``dex(cm/s2)``)
  into unitless floats, stating the unit in the description, since VOUnit has
  no valid spelling for them.
* :func:`auto_format` gives a CDS format to a column the schema does not know.
* :func:`write_ecsv` writes an ECSV file with the values as computed and the
  schema's display format of each float column in its ``format``.

The writers (:mod:`~astro_ocl.sinks.votable_cds`, :mod:`~astro_ocl.sinks.cds_bundle`)
build on these; this module imports none of them.
"""
import astropy.units as u
import numpy as np
from astropy.coordinates import SkyCoord
from astropy.table import Column, MaskedColumn, Table
from astropy.time import Time

from .. import schema

__all__ = ["flatten_coords", "to_plain_table", "is_log_unit", "auto_format", "COORD_PARTS",
           "schema_formats", "write_ecsv"]

#: How a SkyCoord column is split: (attribute, column name, unit, description).
COORD_PARTS = (
    ("ra", "RAdeg", u.deg, "Right ascension (ICRS)"),
    ("dec", "DEdeg", u.deg, "Declination (ICRS)"),
    ("pm_ra_cosdec", "pmRA", u.mas / u.yr, "Proper motion in RA (pmRA*cos(DE))"),
    ("pm_dec", "pmDE", u.mas / u.yr, "Proper motion in Dec"),
    ("distance", "Dist", u.pc, "Distance"),
    ("radial_velocity", "RV", u.km / u.s, "Radial velocity"),
)


def is_log_unit(unit):
    """True for dex-like units (``dex``, ``dex(cm/s2)``, ``mag`` function units excluded)."""
    if unit is None:
        return False
    return unit == u.dex or (isinstance(unit, u.FunctionUnitBase)
                             and isinstance(unit, u.DexUnit))


def flatten_coords(table):
    """Return a copy of ``table`` with SkyCoord columns split into plain Quantity columns.

    The first SkyCoord column is split into ``RAdeg`` and ``DEdeg`` at its place;
    proper motions, distance and radial velocity become ``pmRA, pmDE, Dist, RV``
    unless the table already has columns of those names. Further SkyCoord
    columns are prefixed with their name (``<name>_RAdeg`` ...).

    Parameters
    ----------
    table : `~astropy.table.Table` or `~astropy.table.QTable`
    """
    out = table.__class__(table, copy=True)
    first = True
    for name in list(out.colnames):
        col = out[name]
        if not isinstance(col, SkyCoord):
            continue
        icrs = col.icrs if col.frame.name != "icrs" else col
        pos = out.colnames.index(name)
        out.remove_column(name)
        prefix = "" if first else f"{name}_"
        diffs = icrs.data.differentials.get("s")
        for attr, cname, unit, desc in COORD_PARTS:
            cname = prefix + cname
            if cname in out.colnames:
                continue
            if attr in ("pm_ra_cosdec", "pm_dec", "radial_velocity"):
                if diffs is None:
                    continue
                try:
                    val = getattr(icrs, attr)
                except (TypeError, AttributeError, ValueError):
                    continue
            elif attr == "distance":
                if icrs.distance.unit == u.one:
                    continue
                val = icrs.distance
            else:
                val = getattr(icrs, attr)
            val = u.Quantity(val).to(unit)
            if _duplicates(out, val):  # e.g. RV of a cluster coord that is RVmed
                continue
            out.add_column(val, name=cname, index=pos)
            out[cname].info.description = desc
            pos += 1
        first = False
    return out


def _duplicates(table, value):
    """True when a Quantity column of ``table`` holds exactly ``value``."""
    for name in table.colnames:
        col = table[name]
        if not isinstance(col, u.Quantity) or col.shape != value.shape:
            continue
        try:
            other = col.to_value(value.unit)
        except u.UnitsError:
            continue
        if np.array_equal(other, value.value, equal_nan=True):
            return True
    return False


def to_plain_table(table, *, specs=None):
    """A plain `~astropy.table.Table`: SkyCoord split, log units dropped, descriptions set.

    Parameters
    ----------
    table : `~astropy.table.Table` or `~astropy.table.QTable`
    specs : dict, optional
        Column specs (default: the schema's, looked up by name).

    Returns
    -------
    `~astropy.table.Table`
        NaN values become masked entries.
    """
    flat = flatten_coords(table)
    out = Table(meta=dict(flat.meta))
    for name in flat.colnames:
        col = flat[name]
        spec = specs.get(name) if specs is not None else schema.column_spec(name)
        desc = getattr(col.info, "description", None) or (spec.description if spec else None)
        if spec is not None and name not in table.colnames:  # made by flatten_coords
            desc = spec.description
        if isinstance(col, Time):  # epochs: MJD in the column's time scale
            out.add_column(Column(np.asarray(col.mjd, float), name=name, unit=u.d,
                                  description=(desc or "Epoch") + f" (MJD, {col.scale.upper()})",
                                  meta={"ucd": "time.epoch", "timescale": col.scale.upper()}))
            continue
        unit = getattr(col, "unit", None)
        # masks of MaskedColumn and of astropy Masked quantities (MaskedQuantity)
        mask = np.ma.getmaskarray(col) if np.ma.isMaskedArray(col) else (
            np.asarray(col.mask, bool) if getattr(col, "mask", None) is not None else None)
        base = getattr(col, "unmasked", col)  # Masked quantity -> plain Quantity
        data = np.asarray(getattr(base, "value", base))
        if hasattr(col, "filled") and not isinstance(col, u.Quantity) \
                and not hasattr(col, "unmasked"):
            data = np.asarray(col.filled())
        if is_log_unit(unit):
            note = f" [{unit.to_string()}, logarithmic: no VOUnit; written unitless]"
            desc = (desc or name) + note
            unit = None
        bad = np.zeros(len(data), bool) if mask is None else np.asarray(mask, bool).copy()
        if data.dtype.kind == "f":
            bad |= ~np.isfinite(data)
        if bad.any():
            newcol = MaskedColumn(data, name=name, mask=bad, unit=unit, description=desc)
        else:
            newcol = Column(data, name=name, unit=unit, description=desc)
        out.add_column(newcol)
    return out


def auto_format(col):
    """A CDS-like format for a column the schema does not know.

    Parameters
    ----------
    col : array-like
    """
    data = np.ma.asarray(col)
    kind = data.dtype.kind
    if kind in "iu":
        vals = data.compressed() if np.ma.isMaskedArray(data) else data
        width = max([len(str(int(v))) for v in vals] or [1])
        return f"I{width}"
    if kind == "f":
        vals = np.asarray(data.compressed() if np.ma.isMaskedArray(data) else data, float)
        vals = vals[np.isfinite(vals)]
        return f"E{12}.6" if vals.size and (np.abs(vals).max() > 1e7) else "F12.6"
    if kind == "b":
        return "I1"
    strs = [str(v) for v in np.asarray(data)]
    return f"A{max([len(s) for s in strs] or [1])}"


def _python_format(fmt):
    """``F7.2`` -> ``{:.2f}``, ``E12.6`` -> ``{:.6e}``; None for other CDS formats."""
    import re
    m = re.fullmatch(r"([FE])\d+\.(\d+)", str(fmt or ""))
    if not m:
        return None
    return "{:.%s%s}" % (m.group(2), "f" if m.group(1) == "F" else "e")


def schema_formats(table):
    """``{column: python format}`` for the float columns the schema gives an F/E format.

    Parameters
    ----------
    table : `~astropy.table.Table`
        A table marked by `astro_ocl.schema.apply_schema` (``meta["schema"]``);
        for others the columns are looked up in the whole registry.
    """
    tdef = schema.table_def(table)
    out = {}
    for name in table.colnames:
        col = table[name]
        if getattr(getattr(col, "dtype", None), "kind", None) != "f":
            continue
        spec = schema.column_spec(name, table=tdef)
        pyfmt = _python_format(spec.fmt) if spec is not None else None
        if pyfmt:
            out[name] = pyfmt
    return out


def write_ecsv(table, path, **kwargs):
    """Write ``table`` as ECSV: full-precision values, the schema's display formats.

    Every value is written as computed, so that the file reads back to the same
    float64 numbers (a gradient fitted on the written catalogue is the build's
    own). Each float column the schema gives an F/E format carries it as its
    ``format`` (``F6.2`` -> ``{:.2f}``), which astropy uses to print the table;
    the CDS fixed-width ``.dat`` files (`astro_ocl.sinks.cds_bundle`) are the
    ones written at those formats. ``table`` is not changed.

    Parameters
    ----------
    table : `~astropy.table.Table` or `~astropy.table.QTable`
    path : str or `~pathlib.Path`
    **kwargs
        Passed to ``table.write`` (e.g. ``overwrite``).
    """
    out = table.copy(copy_data=False)
    for name, pyfmt in schema_formats(table).items():
        out[name].info.format = pyfmt
    out.write(path, format="ascii.ecsv", **kwargs)
