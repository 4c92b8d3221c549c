"""Several surveys' star tables as one: positions at their own epochs, columns aligned."""
import astropy.units as u
import numpy as np
from astropy.coordinates import SkyCoord
from astropy.table import MaskedColumn, QTable, vstack

from ...exceptions import InputDataError

__all__ = ["stack_surveys"]


def _filler(col, n):
    """A column of ``n`` missing values shaped like ``col`` (NaN, masked or "")."""
    if isinstance(col, u.Quantity):
        return np.full(n, np.nan) * col.unit
    data = np.asarray(col)
    if data.dtype.kind in "iub":
        return MaskedColumn(np.zeros(n, data.dtype), mask=np.ones(n, bool))
    if data.dtype.kind == "f":
        return np.full(n, np.nan)
    return np.full(n, "", dtype=data.dtype)


def stack_surveys(tables):
    """Concatenate canonical star tables of different surveys into one.

    SkyCoord columns of different epochs cannot be stacked: ``coord`` becomes
    plain ICRS and the epoch of each row goes to an ``epoch`` column (Julian year,
    NaN where the survey's epoch is unknown). A column one survey lacks is NaN
    (quantities, floats), masked (identifiers, booleans such as ``feh_ok``) or
    empty (strings) in its rows. Per-survey metadata is kept under ``meta["surveys"]``.

    Parameters
    ----------
    tables : sequence of `~astropy.table.QTable`
        Canonical star tables (`astro_ocl.sources.surveys.read_survey`).

    Returns
    -------
    `~astropy.table.QTable`

    Raises
    ------
    InputDataError
        No table, or a table without ``coord`` or ``survey``.
    """
    tables = list(tables)
    if not tables:
        raise InputDataError("no star table to stack")
    parts, meta, columns = [], {}, {}
    for i, t in enumerate(tables):
        for need in ("coord", "survey"):
            if need not in t.colnames:
                raise InputDataError(f"star table {i} has no {need!r} column",
                                     source=str(t.meta.get("source", f"table {i}")))
        t = QTable(t, copy=True)
        c = t["coord"]
        epoch = np.nan if c.obstime is None else float(np.mean(c.obstime.jyear))
        t["coord"] = SkyCoord(ra=c.ra, dec=c.dec, frame="icrs")
        t["epoch"] = np.full(len(t), epoch)
        t["epoch"].info.description = "Epoch of the position (Julian year; NaN: unknown)"
        label = str(t.meta.get("survey", t["survey"][0] if len(t) else f"table {i}"))
        meta.setdefault(label, []).append({k: v for k, v in t.meta.items()
                                           if k in ("source", "data_release", "epoch",
                                                    "sentinels", "flagged")})
        for name in t.colnames:
            columns.setdefault(name, t[name])
        parts.append(t)
    for t in parts:
        for name, ref in columns.items():
            if name not in t.colnames:
                t[name] = _filler(ref, len(t))
                if getattr(ref.info, "description", None):
                    t[name].info.description = ref.info.description
    out = vstack([t[list(columns)] for t in parts], join_type="exact",
                 metadata_conflicts="silent")
    out.meta = {"schema": "stars", "surveys": meta,
                "source": "; ".join(str(t.meta.get("source", "")) for t in tables)}
    return out
