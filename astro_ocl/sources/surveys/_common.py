"""Helpers shared by the survey adapters: sentinels, flags, the canonical finish."""
import astropy.units as u
import numpy as np
from astropy.coordinates import SkyCoord
from astropy.time import Time

from ... import schema
from ...exceptions import InputDataError
from ..files import check_errors, quantity_column, read_table_file, to_float, to_int

__all__ = ["mask_values", "finish", "numeric", "ids", "radec_coord", "flag_bits", "SENTINELS",
           "read_rows"]

#: Values that mean "no value" in the survey tables read here (APOGEE -9999/-9999.99,
#: OCCAM VHELIO_AVG 999999, LAMOST -9999); each adapter names the ones it applies.
SENTINELS = (-9999.0, -9999.99, 999999.0)
#: Columns whose schema description names LAMOST: the survey's name replaces it.
_MEASURED = ("rv", "teff", "logg", "feh", "snrg", "nobs")


def read_rows(path, *, format=None):
    """`~astro_ocl.sources.files.read_table_file`; a file with a header and no row raises.

    Raises
    ------
    InputDataError
        As `read_table_file`, or no data rows.
    """
    table = read_table_file(path, format=format)
    if len(table) == 0:
        raise InputDataError("no data rows (only a header)", source=str(path))
    return table


def mask_values(q, bad, name, counts):
    """``q`` with the rows ``bad`` set to NaN, the number added to ``counts[name]``."""
    bad = np.asarray(bad, bool)
    n = int(bad.sum())
    if not n:
        return q
    q = q.copy()
    q[bad] = np.nan * (q.unit if isinstance(q, u.Quantity) else 1)
    counts[name] = counts.get(name, 0) + n
    return q


def numeric(table, colname, name, *, source, sentinels=(), counts=None, error=False):
    """Column ``colname`` as a Quantity in the schema unit of ``name``, sentinels -> NaN.

    Parameters
    ----------
    table : `~astropy.table.Table`
    colname : str or None
        Column of ``table``; None gives an all-NaN column.
    name : str
        Canonical name (``schema.STARS``).
    source : str
    sentinels : sequence of float
        Values meaning "no value" (compared exactly, as the surveys write them).
    counts : dict, optional
        ``{name: n}`` of values turned into NaN, updated in place.
    error : bool
        An uncertainty: negative values (after the sentinels) raise.
    """
    spec = schema.STARS[name]
    if colname is None:
        return np.full(len(table), np.nan) * spec.unit if spec.unit is not None \
            else np.full(len(table), np.nan)
    q = quantity_column(table, name, colname, spec.unit, source=source)
    raw = to_float(table[colname], source=source, column=colname)   # as written
    bad = np.zeros(len(raw), bool)
    if len(sentinels):
        values = np.asarray(getattr(q, "value", q), float)
        # a sentinel as the survey writes it, or in the survey's unit (a copy of the
        # file in another unit, e.g. VHELIO_AVG 999999 km/s as 999999000 m/s)
        bad = np.isin(raw, np.asarray(sentinels, float)) | np.any(
            [np.isclose(values, s, rtol=1e-9, atol=0) for s in sentinels], axis=0)
    q = mask_values(q, bad, name, counts if counts is not None else {})
    if error:
        check_errors(np.asarray(getattr(q, "value", q)), source=source, column=colname)
    return q


def ids(table, colname, *, source, invalid=(0, -1, -9999)):
    """Identifiers as a masked int64 column; missing or ``invalid`` values masked."""
    col = to_int(table[colname], source=source, column=colname, allow_missing=True)
    values = np.asarray(np.ma.getdata(col), np.int64)
    mask = np.ma.getmaskarray(col) | np.isin(values, invalid)
    from astropy.table import MaskedColumn
    return MaskedColumn(values, mask=mask)


def radec_coord(ra, dec, *, obstime=None, source, ra_col="ra", dec_col="dec"):
    """ICRS `~astropy.coordinates.SkyCoord` at ``obstime``; a missing position raises."""
    for col, val in ((ra_col, ra), (dec_col, dec)):
        bad = np.flatnonzero(~np.isfinite(u.Quantity(val, u.deg).value))
        if bad.size:
            raise InputDataError("missing position", source=source, column=col,
                                 row=int(bad[0]))
    d = u.Quantity(dec, u.deg).value
    if np.any(np.abs(d) > 90):
        i = int(np.flatnonzero(np.abs(d) > 90)[0])
        raise InputDataError("declination outside [-90, 90] deg", source=source,
                             column=dec_col, row=i, value=float(d[i]))
    kw = {} if obstime is None else {"obstime": Time(obstime)}
    return SkyCoord(ra=u.Quantity(ra, u.deg), dec=u.Quantity(dec, u.deg), frame="icrs", **kw)


def flag_bits(table, colname, bits):
    """True where any of ``bits`` is set in the integer bitmask column ``colname``."""
    values = np.asarray(np.ma.filled(np.ma.asarray(table[colname]), 0)).astype(np.int64)
    mask = 0
    for b in bits:
        mask |= 1 << int(b)
    return (values & mask) != 0


def finish(out, *, survey, data_release, source, sentinels=None, flagged=None, epoch=None,
           notes=None):
    """Add the ``survey`` column and the metadata, apply the schema; returns ``out``.

    ``meta``: ``survey``, ``data_release``, ``source``, ``sentinels`` (values
    turned into NaN because the survey wrote a no-value sentinel, per column),
    ``flagged`` (values turned into NaN by the survey's quality rules, per rule),
    ``epoch`` (of the positions, or None when unknown or irrelevant).
    """
    out["survey"] = np.full(len(out), survey, dtype=f"U{max(len(survey), 1)}")
    own = {c: out[c].info.description for c in out.colnames
           if hasattr(out[c], "info") and out[c].info.description}
    schema.apply_schema(out, schema.STARS)
    for c in out.colnames:
        if c in own:                      # the adapter's own description wins
            out[c].info.description = own[c]
        elif c in _MEASURED and out[c].info.description:
            out[c].info.description = out[c].info.description.replace("LAMOST", survey)
    out.meta["source"] = source
    out.meta["survey"] = survey
    out.meta["data_release"] = data_release if data_release is not None else "unknown"
    out.meta["sentinels"] = dict(sentinels or {})
    out.meta["flagged"] = dict(flagged or {})
    out.meta["epoch"] = epoch
    if notes:
        out.meta["notes"] = list(notes)
    return out
