"""Reading table files: any astropy format, delimited text, and value conversion.

The helpers every reader of :mod:`astro_ocl.sources` uses to turn a raw file into
canonical columns, raising `~astro_ocl.exceptions.InputDataError` that names the
file, column, row and value of bad input.
"""
import csv
import gzip
import warnings
from pathlib import Path

import astropy.units as u
import numpy as np
from astropy.io.votable.exceptions import VOWarning
from astropy.table import MaskedColumn, Table

from ..exceptions import InputDataError, MissingColumnError

__all__ = ["read_table_file", "unique_rows", "to_float", "to_int", "quantity_column",
           "check_errors", "check_unique", "check_input_file", "read_delimited",
           "delimited_floats", "READ_ERRORS"]

#: What reading a broken file raises besides a parser's own errors: a gzip stream
#: cut short (EOFError), bytes that are not UTF-8 (UnicodeDecodeError, a
#: ValueError), a file that cannot be opened (OSError), a malformed CSV (csv.Error).
READ_ERRORS = (OSError, EOFError, UnicodeDecodeError, csv.Error)


def check_input_file(path):
    """Raise `~astro_ocl.exceptions.InputDataError` unless ``path`` is a non-empty file.

    Parameters
    ----------
    path : str or `~pathlib.Path`

    Returns
    -------
    `~pathlib.Path`
    """
    path = Path(path)
    if not path.exists():
        raise InputDataError("input file does not exist", source=str(path))
    if path.is_dir():
        raise InputDataError("a directory, not a table file", source=str(path))
    if path.stat().st_size == 0:
        raise InputDataError("empty file", source=str(path))
    return path


def _first_line(exc):
    text = str(exc).strip()
    return f"{type(exc).__name__}: {text.splitlines()[0]}" if text else type(exc).__name__


def read_table_file(path, *, format=None, qtable=False):
    """Read any table file astropy can read (FITS, ECSV, CSV, VOTable), errors named.

    Parameters
    ----------
    path : str or `~pathlib.Path`
        The file.
    format : str, optional
        astropy format name; guessed from the extension by default.
    qtable : bool
        Return a `~astropy.table.QTable` (mixins such as ``SkyCoord`` and
        quantities kept, as written) instead of a `~astropy.table.Table`.

    Raises
    ------
    astro_ocl.exceptions.InputDataError
        The file does not exist, is a directory, is empty or cannot be parsed.
    """
    from astropy.table import QTable
    path = check_input_file(path)
    if format is None:
        name = path.name.lower().removesuffix(".gz")
        format = {".ecsv": "ascii.ecsv", ".csv": "ascii.csv", ".fits": "fits",
                  ".fit": "fits", ".vot": "votable", ".xml": "votable"}.get(
                      Path(name).suffix, None)
    cls = QTable if qtable else Table
    if format in ("ascii.csv", "csv"):
        _check_csv_rows(path)
    try:
        with warnings.catch_warnings():
            # unit strings astropy does not know are handled column by column below;
            # VOTables of the Gaia archive and VizieR write units and details astropy
            # warns about (W50 'log(cm.s**-2)', ...) in files that read correctly
            warnings.simplefilter("ignore", u.UnitsWarning)
            warnings.simplefilter("ignore", VOWarning)
            return cls.read(path, format=format) if format else cls.read(path)
    except Exception as exc:
        raise InputDataError(f"cannot read table: {_first_line(exc)}",
                             source=str(path)) from exc


def _check_csv_rows(path):
    """Raise at the first CSV row whose number of fields differs from the header's.

    astropy's CSV reader pads a short row with missing values: a file cut in the
    middle of its last row would read as a row of blanks.
    """
    opener = gzip.open if path.name.lower().endswith(".gz") else open
    try:
        with opener(path, "rt", encoding="utf-8", newline="") as f:
            reader = csv.reader(f)
            header = next((r for r in reader if r and not r[0].lstrip().startswith("#")), None)
            if header is None:
                return
            i = 0
            for r in reader:
                if not any(c.strip() for c in r):
                    continue
                if len(r) != len(header):
                    raise InputDataError(f"row has {len(r)} fields, header has {len(header)} "
                                         "(a truncated file?)", source=str(path), row=i)
                i += 1
    except READ_ERRORS as exc:
        raise InputDataError(f"cannot read file: {_first_line(exc)}",
                             source=str(path)) from exc


def to_float(col, *, source=None, column=None):
    """Convert a column to a float ndarray (masked -> NaN), naming any bad value.

    Parameters
    ----------
    col : array-like
        Column values (numbers, strings, masked).
    source, column : str, optional
        File and column name for the error message.
    """
    data = getattr(col, "value", col) if isinstance(col, u.Quantity) else col
    if isinstance(data, np.ma.MaskedArray) or hasattr(data, "mask"):
        mask = np.ma.getmaskarray(data)
        data = np.ma.getdata(data)
    else:
        mask = np.zeros(len(data), bool)
    try:
        out = np.asarray(data, dtype=float)
    except (TypeError, ValueError):
        out = np.empty(len(data))
        for i, v in enumerate(data):
            if mask[i]:
                out[i] = np.nan
                continue
            s = v.decode() if isinstance(v, bytes) else str(v)
            s = s.strip()
            if s in ("", "--", "nan", "NaN", "null", "NULL"):
                out[i] = np.nan
                continue
            try:
                out[i] = float(s)
            except ValueError:
                raise InputDataError("non-numeric value", source=source, column=column,
                                     row=i, value=s) from None
    out = out.copy()
    out[mask] = np.nan
    bad = np.flatnonzero(np.isinf(out))
    if bad.size:  # no catalogue value is infinite: a broken conversion upstream
        i = int(bad[0])
        raise InputDataError(f"infinite value ({bad.size} rows)", source=source,
                             column=column, row=i, value=str(out[i]))
    return out


def to_int(col, *, source, column, allow_missing=False):
    """Identifiers as int64; a non-integer value raises, naming its row.

    Parameters
    ----------
    col : array-like
    source, column : str
        File and column name for the error message.
    allow_missing : bool
        Return a `~astropy.table.MaskedColumn` masked where a value is missing
        (masked or blank) instead of raising.
    """
    data = np.ma.getdata(col)
    mask = np.ma.getmaskarray(col).copy()
    if data.dtype.kind not in "iu":
        text = np.array([(v.decode() if isinstance(v, bytes) else str(v)).strip()
                         for v in data]) if len(data) else np.array([], str)
        mask |= np.isin(text, ("", "--", "nan", "NaN", "null", "NULL"))
        data = np.where(mask, "0", text) if data.dtype.kind in "USO" else data
    if mask.any() and not allow_missing:
        raise InputDataError("missing identifier", source=source, column=column,
                             row=int(np.flatnonzero(mask)[0]))
    try:
        values = np.asarray(data, dtype=np.int64) if data.dtype.kind != "f" \
            else np.where(mask, 0, np.nan_to_num(data)).astype(np.int64)
    except (TypeError, ValueError):
        for i, v in enumerate(data):
            try:
                int(v)
            except (TypeError, ValueError):
                raise InputDataError("non-integer identifier", source=source, column=column,
                                     row=i, value=v) from None
        raise
    if mask.any():
        return MaskedColumn(values, mask=mask)
    return values


def quantity_column(table, name, colname, unit, *, source):
    """Column as a Quantity in ``unit``; a column unit is converted, none assumed."""
    col = table[colname]
    values = to_float(col, source=source, column=colname)
    col_unit = getattr(col, "unit", None)
    if unit is None:
        return values
    if col_unit is not None and not isinstance(col_unit, u.UnrecognizedUnit) \
            and str(col_unit) not in ("", "-"):
        try:
            return (values * col_unit).to(unit)
        except u.UnitConversionError:
            if isinstance(unit, u.FunctionUnitBase) or unit == u.dex:
                return values * unit  # log quantities: VizieR writes [-], [cm/s2]
            raise InputDataError(f"unit {col_unit} cannot be converted to {unit}",
                                 source=source, column=colname) from None
    return values * unit


def check_errors(values, *, source, column):
    """Raise `~astro_ocl.exceptions.InputDataError` at the first negative uncertainty.

    Zero is allowed here (catalogues write 0 where a cluster has one star); the
    steps that weight by an uncertainty drop and count such rows.
    """
    bad = np.flatnonzero(np.asarray(values, float) < 0)
    if bad.size:
        i = int(bad[0])
        raise InputDataError(f"negative uncertainty ({bad.size} rows)", source=source,
                             column=column, row=i, value=float(values[i]))


def check_unique(values, *, source, column):
    """Raise `~astro_ocl.exceptions.InputDataError` at the first repeated value.

    Parameters
    ----------
    values : sequence
        E.g. the cluster names of a cluster catalogue (one row per cluster).
    source, column : str
        File and column for the message.
    """
    seen = {}
    for i, v in enumerate(values):
        key = str(v).strip()
        if key in seen:
            raise InputDataError(f"duplicate value (also in row {seen[key]})", source=source,
                                 column=column, row=i, value=key)
        seen[key] = i


def read_delimited(path, delimiter):
    """Columns of a delimited text file (optionally gzipped) as lists of stripped strings.

    Raises `~astro_ocl.exceptions.InputDataError` (naming the file, and the row
    where it is about one) for a missing, empty, truncated or undecodable file, a
    row whose number of fields differs from the header's, a header without data rows.
    """
    path = check_input_file(path)
    opener = gzip.open if str(path).endswith(".gz") else open
    try:
        with opener(path, "rt", encoding="utf-8", newline="") as f:
            rows = list(csv.reader(f, delimiter=delimiter))
    except READ_ERRORS as exc:
        raise InputDataError(f"cannot read file: {_first_line(exc)}",
                             source=str(path)) from exc
    if not rows:
        raise InputDataError("empty file", source=str(path))
    header = [h.strip() for h in rows[0]]
    body = [r for r in rows[1:] if any(c.strip() for c in r)]
    if not body:
        raise InputDataError("no data rows (only a header)", source=str(path))
    for i, r in enumerate(body):
        if len(r) != len(header):
            raise InputDataError(f"row has {len(r)} fields, header has {len(header)} "
                                 "(a truncated file?)", source=str(path), row=i)
    cols = {h: [r[j].strip() for r in body] for j, h in enumerate(header)}
    return cols


def delimited_floats(cols, name, path):
    """Column ``name`` of `read_delimited` output as floats, errors named.

    A column named ``e_*`` (the VizieR name of an uncertainty) must not be
    negative.
    """
    if name not in cols:
        raise MissingColumnError(f"column {name!r} not found in {path}", source=str(path),
                                 column=name)
    values = to_float(np.array(cols[name], dtype=object), source=str(path), column=name)
    if name.startswith("e_"):
        check_errors(values, source=str(path), column=name)
    return values


def unique_rows(path, name, *, delimiter=","):
    """The columns of a delimited table with one row per value of ``name`` (a catalogue).

    Raises
    ------
    MissingColumnError
        No column ``name``.
    InputDataError
        A value of ``name`` twice (file, column, row and value named).
    """
    cols = read_delimited(path, delimiter)
    if name not in cols:
        raise MissingColumnError(f"column {name!r} not found in {path}", source=str(path),
                                 column=name)
    check_unique(cols[name], source=str(path), column=name)
    return cols
