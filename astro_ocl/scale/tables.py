"""Canonical QTables <-> flat columnar frames (what a HATS catalogue stores).

A HATS catalogue is a set of Parquet files: plain columns only. A canonical
table of :mod:`astro_ocl.sources` has Quantities (also `~astropy.units.Dex`),
`~astropy.coordinates.SkyCoord` columns (positions, proper motions, obstime)
and masked columns. :func:`flatten` writes one plain column per component and a
JSON-able *spec* that :func:`unflatten` uses to rebuild the same table, value
for value (floats are stored as they are, never converted): so the steps of
:mod:`astro_ocl.steps` run on a partition exactly as on the whole table.

The spec is generic: it describes whatever canonical table it is given (stars of
any survey adapter, members of any membership adapter, Gaia sources).
"""
import astropy.units as u
import numpy as np
from astropy.coordinates import SkyCoord, UnitSphericalRepresentation
from astropy.table import Column, MaskedColumn, QTable
from astropy.time import Time

__all__ = ["ROW", "flatten", "unflatten", "position_columns"]

#: Column holding the row of the input table (its order, lost in a HATS partitioning).
ROW = "_astro_ocl_row"

_COORD_PARTS = (("ra", "deg"), ("dec", "deg"), ("pm_ra_cosdec", "mas / yr"),
                ("pm_dec", "mas / yr"), ("distance", "pc"), ("radial_velocity", "km / s"))


def position_columns(spec):
    """Names of the ``ra`` and ``dec`` columns of the first SkyCoord in ``spec``."""
    for c in spec["columns"]:
        if c["kind"] == "coord":
            return f"{c['name']}_ra", f"{c['name']}_dec"
    raise KeyError("the table has no SkyCoord column")


def flatten(table, *, row=True):
    """A canonical table as a `pandas.DataFrame` of plain columns, and its spec.

    Parameters
    ----------
    table : `~astropy.table.QTable`
        Canonical table (sources' layout).
    row : bool
        Add the column :data:`ROW` with the row number (the input order).

    Returns
    -------
    frame : `pandas.DataFrame`
    spec : dict
        JSON-able description (column kinds, units, coordinate frames and epochs).
    """
    import pandas as pd
    data, cols = {}, []
    for name in table.colnames:
        col = table[name]
        if isinstance(col, SkyCoord):
            c = col if col.frame.name == "icrs" else col.icrs
            rep = c.data
            diff = rep.differentials.get("s")
            comps = {"ra": rep.lon, "dec": rep.lat}
            if not isinstance(rep, UnitSphericalRepresentation) and hasattr(rep, "distance"):
                comps["distance"] = rep.distance
            if diff is not None:
                comps["pm_ra_cosdec"] = getattr(diff, "d_lon_coslat", None)
                comps["pm_dec"] = getattr(diff, "d_lat", None)
                comps["radial_velocity"] = getattr(diff, "d_distance", None)
            parts = []
            for attr, unit in _COORD_PARTS:
                value = comps.get(attr)
                if value is None:
                    continue
                data[f"{name}_{attr}"] = np.asarray(value.to_value(unit))
                parts.append(attr)
            obstime = None if c.obstime is None else (
                c.obstime.scale, c.obstime.format, str(c.obstime.value))
            if obstime is not None and c.obstime.shape:
                raise ValueError(f"column {name}: a per-row obstime is not supported")
            cols.append(dict(name=name, kind="coord", parts=parts, obstime=obstime))
            continue
        mask = None
        if getattr(col, "mask", None) is not None and np.any(col.mask):
            mask = np.asarray(col.mask)
        entry = dict(name=name, description=getattr(col.info, "description", None))
        if isinstance(col, u.Dex):
            entry.update(kind="dex", unit=str(col.unit))
            values = np.asarray(col.value)
        elif isinstance(col, u.Quantity):
            entry.update(kind="quantity", unit=str(col.unit))
            values = np.asarray(col.value)
        else:
            entry.update(kind="column", unit=None if col.unit is None else str(col.unit))
            values = np.asarray(np.ma.getdata(col))
        if values.dtype.kind == "U":
            values = values.astype(object)
        data[name] = values
        if mask is not None:
            data[f"{name}__mask"] = mask
            entry["masked"] = True
        cols.append(entry)
    if row:
        data[ROW] = np.arange(len(table), dtype=np.int64)
    meta = {k: v for k, v in table.meta.items() if isinstance(v, (str, int, float, bool))}
    return pd.DataFrame(data), {"columns": cols, "meta": meta}


def _array(series, dtype=None):
    """A numpy array of a pandas column (Arrow-backed or not); strings as unicode."""
    values = series.to_numpy()
    if values.dtype == object or dtype == "str":
        values = np.array([str(v) for v in values]) if len(values) else np.array([], str)
    return values


def unflatten(frame, spec):
    """The canonical `~astropy.table.QTable` of a frame written by :func:`flatten`.

    Parameters
    ----------
    frame : `pandas.DataFrame`
        All or part (one partition) of a flattened table; extra columns (HATS's
        ``_healpix_29``, :data:`ROW`, cross-match columns) are kept as plain columns.
    spec : dict
        From :func:`flatten`.

    Returns
    -------
    `~astropy.table.QTable`
    """
    t = QTable()
    used = set()
    for c in spec["columns"]:
        name = c["name"]
        if c["kind"] == "coord":
            kw = {}
            for attr in c["parts"]:
                key = f"{name}_{attr}"
                used.add(key)
                unit = dict(_COORD_PARTS)[attr]
                kw[attr] = np.asarray(frame[key].to_numpy(dtype=float)) * u.Unit(unit)
            obstime = None
            if c.get("obstime"):
                scale, fmt, value = c["obstime"]
                obstime = Time(float(value) if fmt in ("jyear", "decimalyear", "jd", "mjd")
                               else value, format=fmt, scale=scale)
            t[name] = SkyCoord(frame="icrs", obstime=obstime, **kw)
            continue
        used.add(name)
        series = frame[name]
        if c["kind"] in ("quantity", "dex"):
            values = series.to_numpy(dtype=float)
            col = (u.Dex(values, u.Unit(c["unit"])) if c["kind"] == "dex"
                   else u.Quantity(values, u.Unit(c["unit"])))
        else:
            values = _array(series)
            if values.dtype == object:
                values = values.astype(str)
            if c.get("masked"):
                used.add(f"{name}__mask")
                col = MaskedColumn(values, mask=frame[f"{name}__mask"].to_numpy(dtype=bool),
                                   unit=c.get("unit"))
            else:
                col = Column(values, unit=c.get("unit"))
        t[name] = col
        if c.get("description"):
            t[name].info.description = c["description"]
    for name in frame.columns:
        if name not in used and not name.endswith("__mask"):
            t[name] = _array(frame[name])
    t.meta.update(spec.get("meta", {}))
    return t
