"""Survey files of any size: read in chunks, adapt each chunk, keep the member rows.

A survey catalogue (LAMOST DR8+ several GB, APOGEE allStar, GALAH, a Gaia
export) is never loaded whole: :func:`iter_chunks` yields raw chunks of a FITS
(memory-mapped), CSV (optionally gzipped) or Parquet (``pyarrow``, the
``parquet`` extra) file; :func:`iter_survey` maps the survey's adapter (a pure
function of a chunk) over them; :func:`read_survey_members` keeps, per chunk,
the rows of the wanted members: by Gaia id when the canonical chunk has the
members' kind of id, else by position (every row within the match radius plus
`NEAR_MARGIN` of a member). The real cross-match is the step's
(`astro_ocl.steps.crossmatch.match_stars`): a source never cross-matches.
"""
import csv
import gzip
import io

import astropy.units as u
import numpy as np
from astropy.coordinates import SkyCoord
from astropy.io import fits
from astropy.table import Table, vstack

from ...accounting import StageLog
from ...exceptions import InputDataError, MissingColumnError
from ...logger import log
from ...utils import progress, require
from ..files import READ_ERRORS, check_input_file
from .registry import get_survey

__all__ = ["iter_chunks", "iter_survey", "read_survey_members", "read_lamost_members",
           "NEAR_MARGIN"]

#: Rows of a file without Gaia ids are kept when they lie within the match radius plus
#: this margin of a member (room for proper motion between the epochs); the
#: cross-match step makes the real match.
NEAR_MARGIN = 5 * u.arcsec
_PARQUET = (".parquet", ".parq", ".pq")


def iter_chunks(path, *, chunk_rows=100_000):
    """Yield the rows of a FITS, CSV or Parquet table file as `~astropy.table.Table` chunks.

    Parameters
    ----------
    path : str or `~pathlib.Path`
        ``.fits``/``.fit`` (first table HDU, memory-mapped), ``.csv`` (optionally
        ``.gz``) or ``.parquet`` (needs ``pyarrow``: ``pip install
        'astro_ocl[parquet]'``; read one row group at a time, so memory is
        bounded by the file's row-group size).
    chunk_rows : int
        Rows per chunk.

    Raises
    ------
    InputDataError
        Missing file, no table, unsupported format.
    astro_ocl.exceptions.OptionalDependencyError
        A Parquet file without ``pyarrow``.
    """
    path = check_input_file(path)
    if int(chunk_rows) < 1:
        raise InputDataError(f"chunk_rows must be >= 1, not {chunk_rows}", source=str(path))
    chunk_rows = int(chunk_rows)
    name = path.name.lower().removesuffix(".gz")
    if name.endswith((".fits", ".fit", ".fits.fz")):
        with fits.open(path, memmap=True) as hdul:
            hdu = next((h for h in hdul if isinstance(h, fits.BinTableHDU)), None)
            if hdu is None:
                raise InputDataError("no binary table in the FITS file", source=str(path))
            n = hdu.header["NAXIS2"]
            for start in range(0, n, chunk_rows):
                t = Table(hdu.data[start:start + chunk_rows])
                yield t
        return
    if name.endswith(_PARQUET):
        pq = require("pyarrow.parquet", feature="reading Parquet survey files")
        try:
            pf = pq.ParquetFile(path)
        except Exception as exc:
            raise InputDataError(f"cannot read Parquet file: {type(exc).__name__}: {exc}",
                                 source=str(path)) from exc
        for batch in pf.iter_batches(batch_size=chunk_rows):
            yield _arrow_to_table(batch)
        return
    if not name.endswith(".csv"):
        raise InputDataError("streamed reading supports FITS, CSV and Parquet files",
                             source=str(path))
    opener = gzip.open if path.name.lower().endswith(".gz") else open
    start = 0  # data row (0-based) of the first row of the chunk
    try:
        with opener(path, "rt", encoding="utf-8", newline="") as f:
            reader = csv.reader(f)
            try:
                header = next(reader)
            except StopIteration:
                raise InputDataError("empty file", source=str(path)) from None
            while True:
                rows = []
                for row in reader:
                    if not any(c.strip() for c in row):
                        continue
                    if len(row) != len(header):
                        raise InputDataError(
                            f"row has {len(row)} fields, header has {len(header)} "
                            "(a truncated file?)", source=str(path), row=start + len(rows))
                    rows.append(row)
                    if len(rows) >= chunk_rows:
                        break
                if not rows:
                    return
                buf = io.StringIO()
                w = csv.writer(buf)
                w.writerow(header)
                w.writerows(rows)
                chunk = Table.read(buf.getvalue(), format="ascii.csv", fast_reader=True)
                chunk.meta["first_row"] = start
                yield chunk
                start += len(rows)
                if len(rows) < chunk_rows:
                    return
    except READ_ERRORS as exc:
        raise InputDataError(f"cannot read file after data row {start}: "
                             f"{type(exc).__name__}: {exc}", source=str(path)) from exc


def _arrow_to_table(batch):
    """A pyarrow RecordBatch as an astropy Table (nulls masked, strings as str)."""
    t = Table()
    for name, col in zip(batch.schema.names, batch.columns):
        values = col.to_numpy(zero_copy_only=False)
        if col.null_count:
            mask = col.is_null().to_numpy(zero_copy_only=False)
            if values.dtype.kind == "O":
                values = np.array(["" if m else v for v, m in zip(values, mask)])
            t[name] = np.ma.MaskedArray(values, mask=mask)
        else:
            t[name] = values.astype(str) if values.dtype.kind == "O" else values
    return t


def iter_survey(survey, path, *, chunk_rows=100_000, **adapter_options):
    """Yield canonical star tables, one per chunk of a survey file.

    Parameters
    ----------
    survey : str or `~astro_ocl.sources.surveys.Survey`
        A name of `~astro_ocl.sources.surveys.SURVEYS`.
    path : str or `~pathlib.Path`
    chunk_rows : int
    **adapter_options
        Passed to the survey's adapter.
    """
    s = get_survey(survey)
    for chunk in iter_chunks(path, chunk_rows=chunk_rows):
        yield s.adapter(chunk, source=str(path), **adapter_options)


def _member_ids(members, column):
    if column not in members.colnames:
        return None
    col = members[column]
    return np.unique(np.asarray(np.ma.getdata(col), np.int64)[~np.ma.getmaskarray(col)])


def read_survey_members(survey, path, members, *, near=None, chunk_rows=100_000,
                        show_progress=None, stage_log=None, **adapter_options):
    """The rows of a (large) survey file that may belong to ``members``, canonical.

    Each chunk goes through the survey's adapter; a chunk whose canonical table has
    the members' Gaia id (``source_id`` = DR2, or ``dr3_source_id`` when the members
    have it) keeps the rows of those ids; a chunk without keeps every row within
    ``near`` + `NEAR_MARGIN` of a member (member positions as given, star positions
    at their own epoch: the margin covers the proper motion in between), as plain
    stars for the cross-match step. Memory is one chunk plus the kept rows.

    Parameters
    ----------
    survey : str or `~astro_ocl.sources.surveys.Survey`
        A name of `~astro_ocl.sources.surveys.SURVEYS` (``"lamost_lrs"``,
        ``"apogee_allstar"`` ...).
    path : str or `~pathlib.Path`
        FITS, CSV(.gz) or Parquet.
    members : `~astropy.table.QTable`
        Canonical members (``source_id``, ``coord``).
    near : `~astropy.units.Quantity`, optional
        The match radius the cross-match will use; default the survey's
        ``match_radius`` (3.5 arcsec for LAMOST, 1.5 for APOGEE, 1 for Gaia positions).
    chunk_rows : int
    show_progress : bool, optional
    stage_log : `~astro_ocl.accounting.StageLog`, optional
        Records ``survey file rows``: rows read, kept, and the rows left out.
    **adapter_options
        Passed to the survey's adapter.

    Returns
    -------
    `~astropy.table.QTable`
        The canonical star table of the kept rows; ``meta["sentinels"]`` and
        ``meta["flagged"]`` summed over the chunks.

    Raises
    ------
    InputDataError
        No row belongs to a requested member.
    """
    s = get_survey(survey)
    stage_log = stage_log if stage_log is not None else StageLog()
    limit = u.Quantity(s.match_radius if near is None else near, u.arcsec) + NEAR_MARGIN
    mcoord = SkyCoord(ra=members["coord"].ra, dec=members["coord"].dec)
    id_sets = {k: _member_ids(members, k) for k in ("source_id", "dr3_source_id")}
    kept, n_total, modes = [], 0, set()
    sentinels, flagged = {}, {}
    for chunk in progress(iter_chunks(path, chunk_rows=chunk_rows),
                          desc=f"{s.label} chunks", enabled=show_progress):
        n_total += len(chunk)
        try:
            stars = s.adapter(chunk, source=str(path), **adapter_options)
        except InputDataError as exc:
            if exc.row is None:
                raise
            # the row of the file, not of the chunk
            raise type(exc)(exc.message, source=str(path), column=exc.column,
                            row=int(exc.row) + n_total - len(chunk), value=exc.value) from None
        for key, acc in (("sentinels", sentinels), ("flagged", flagged)):
            for k, v in stars.meta.get(key, {}).items():
                acc[k] = acc.get(k, 0) + v
        id_col = next((k for k in ("source_id", "dr3_source_id")
                       if k in stars.colnames and id_sets[k] is not None), None)
        keep = np.zeros(len(stars), bool)
        if id_col is not None:
            modes.add("id")
            col = stars[id_col]
            has = ~np.ma.getmaskarray(col)
            keep[has] = np.isin(np.asarray(np.ma.getdata(col), np.int64)[has], id_sets[id_col])
        else:
            modes.add("position")
            if "coord" not in stars.colnames:
                raise MissingColumnError(f"the {s.label} file has neither a Gaia id nor a "
                                         "position", source=str(path))
            c = SkyCoord(ra=stars["coord"].ra, dec=stars["coord"].dec)
            if len(c) and len(mcoord):
                _, sep, _ = c.match_to_catalog_sky(mcoord)
                keep = sep < limit
        if keep.any():
            kept.append(stars[keep])
    n_kept = sum(map(len, kept))
    mode = "+".join(sorted(modes)) or "empty"
    reason = ("Gaia id of no requested member" if mode == "id"
              else f"farther than {limit} from every requested member" if mode == "position"
              else "not a requested member (by Gaia id or position)")
    stage_log.stage("survey file rows", n_in=n_total, n_out=n_kept,
                    dropped={reason: n_total - n_kept}, note=f"{path} ({s.label}, {mode})")
    log.info("%s: kept %d of %d rows (%s, %s)", path, n_kept, n_total, s.label, mode)
    if not kept:
        raise InputDataError(f"no row of the {s.label} file belongs to a requested member",
                             source=str(path))
    out = kept[0] if len(kept) == 1 else vstack(kept, metadata_conflicts="silent")
    out.meta.update(kept[0].meta)
    out.meta["source"] = str(path)
    out.meta["sentinels"], out.meta["flagged"] = sentinels, flagged
    out.meta["rows_read"] = n_total
    return out


def read_lamost_members(path, members, *, near=3.5 * u.arcsec, chunk_rows=100_000,
                        show_progress=None, stage_log=None):
    """The rows of a (large) LAMOST LRS catalogue file that may belong to ``members``.

    `read_survey_members` for ``"lamost_lrs"``: a file with Gaia ids keeps the
    rows of the members' ``source_id``; a file without keeps every row within
    ``near`` + `NEAR_MARGIN` of a member, as plain stars (no ``source_id``).

    Parameters
    ----------
    path : str or `~pathlib.Path`
        LAMOST catalogue, FITS, CSV or Parquet (as the LAMOST site distributes it).
    members : `~astropy.table.QTable`
        Canonical members (``source_id``, ``coord``).
    near : `~astropy.units.Quantity`
    chunk_rows : int
    show_progress : bool, optional
    stage_log : `~astro_ocl.accounting.StageLog`, optional

    Returns
    -------
    `~astropy.table.QTable`
        The canonical star table (`~astro_ocl.sources.read_lamost`) of the kept rows.
    """
    return read_survey_members("lamost_lrs", path, members, near=near, chunk_rows=chunk_rows,
                               show_progress=show_progress, stage_log=stage_log)
