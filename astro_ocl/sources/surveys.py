"""Spectroscopic surveys: LAMOST stellar parameters as the canonical star table.

:func:`read_lamost` reads the embedded sample, a LAMOST catalogue file (FITS/CSV
as the LAMOST site distributes it) or a VizieR LAMOST table. LAMOST distributes
its catalogues (DR8 and later) as files of several GB: :func:`read_lamost_members`
streams such a file chunk by chunk (:func:`iter_chunks`) and keeps the rows of the
wanted stars, by Gaia ``source_id`` when the file has it, else the rows *near* the
members, so memory use is one chunk plus the kept rows. A source never
cross-matches: rows without a Gaia id are returned as plain stars and
`astro_ocl.steps.crossmatch.match_stars` matches them (epoch propagation, every
Gaia source inside the radius, one star per spectrum).
"""
import csv
import gzip
import io
from pathlib import Path

import astropy.units as u
import numpy as np
from astropy.coordinates import SkyCoord
from astropy.table import QTable, Table, vstack

from .. import schema
from ..accounting import StageLog
from ..exceptions import InputDataError, MissingColumnError
from ..logger import log
from ..utils import data_path, progress
from .files import (READ_ERRORS, check_errors, check_input_file, quantity_column,
                    read_table_file, to_float, to_int)

__all__ = ["read_lamost", "iter_chunks", "read_lamost_members", "NEAR_MARGIN"]

REQUIRED_STAR = ["rv", "e_rv", "teff", "logg", "feh"]
ERROR_COLUMNS = {"e_rv", "e_teff", "e_logg", "e_feh", "e_parallax"}

#: Rows of a file without Gaia ids are kept when they lie within the match radius plus
#: this margin of a member (room for proper motion between the epochs); the
#: cross-match step makes the real match.
NEAR_MARGIN = 5 * u.arcsec


def read_lamost(path=None, *, format=None, table=None):
    """Read LAMOST-like per-star parameters into the canonical star table.

    Accepts the embedded sample, a LAMOST catalogue file as the LAMOST site
    distributes it (FITS or CSV with ``rv, rv_err, teff, ..., gaia_source_id``),
    or a VizieR LAMOST table (``HRV, e_HRV, Teff, ...``): columns are found
    through the aliases of `astro_ocl.schema.STARS`.

    Parameters
    ----------
    path : str or `~pathlib.Path`, optional
        Input file; default the embedded sample (691 LAMOST LRS stars of 15
        clusters, see ``astro_ocl/data/manifest.json``).
    format : str, optional
        astropy format of ``path``.
    table : `~astropy.table.Table`, optional
        An in-memory table instead of a file (``path`` is then only a label).

    Returns
    -------
    `~astropy.table.QTable`
        Columns ``source_id`` (Gaia DR2, int64, masked where a row has none;
        absent when the input has no Gaia id), ``coord``
        (`~astropy.coordinates.SkyCoord`, ICRS), ``rv, e_rv``
        [km/s], ``teff, e_teff`` [K], ``logg`` [dex(cm/s2)], ``e_logg``,
        ``feh, e_feh`` [dex] and whatever optional columns are present.
        Missing values are NaN.

    Raises
    ------
    InputDataError
        Unreadable file, non-numeric value, negative uncertainty.
    MissingColumnError
        A required column (rv, e_rv, teff, logg, feh or a position) is absent.
    """
    if table is None:
        path = Path(path) if path is not None else data_path("lamost_lrs_oc_members.ecsv")
        table = read_table_file(path, format=format)
    source = str(path) if path is not None else "<table>"
    if len(table) == 0:
        raise InputDataError("no data rows (only a header)", source=source)
    out = QTable()
    found = {name: schema.STARS.find(table, name) for name in schema.STARS}
    missing = [n for n in REQUIRED_STAR if found[n] is None]
    if found["ra"] is None or found["dec"] is None:
        missing += ["ra", "dec"]
    if missing:
        raise MissingColumnError(
            f"required column(s) {missing} not found in {source}; known spellings: "
            + "; ".join(f"{m}: {list(schema.STARS.spellings(m))}" for m in missing)
            + f"; columns present: {table.colnames}", source=source)
    for name in ("source_id", "dr3_source_id", "obsid"):
        if found[name] is not None:
            # a row without an identifier stays (masked): the cross-match step matches
            # it by position or counts it as dropped
            out[name] = to_int(table[found[name]], source=source, column=found[name],
                               allow_missing=True)
    if found["Cluster"] is not None:
        out["Cluster"] = [str(c).strip() for c in table[found["Cluster"]]]
    ra = quantity_column(table, "ra", found["ra"], u.deg, source=source)
    dec = quantity_column(table, "dec", found["dec"], u.deg, source=source)
    for name, val in (("ra", ra), ("dec", dec)):
        bad = np.flatnonzero(~np.isfinite(val))
        if bad.size:
            raise InputDataError("missing position", source=source, column=found[name],
                                 row=int(bad[0]))
    if np.any(np.abs(dec.value) > 90):
        i = int(np.flatnonzero(np.abs(dec.value) > 90)[0])
        raise InputDataError("declination outside [-90, 90] deg", source=source,
                             column=found["dec"], row=i, value=float(dec.value[i]))
    out["coord"] = SkyCoord(ra=ra, dec=dec, frame="icrs")
    for name in ("parallax", "e_parallax", "gmag", "bpmag", "rpmag", "rv", "e_rv", "teff",
                 "e_teff", "logg", "e_logg", "feh", "e_feh", "snrg", "nobs"):
        if found[name] is None:
            continue
        spec = schema.STARS[name]
        q = quantity_column(table, name, found[name], spec.unit, source=source)
        if name in ERROR_COLUMNS:
            check_errors(np.asarray(getattr(q, "value", q)), source=source, column=found[name])
        out[name] = q
    schema.apply_schema(out, schema.STARS)
    out.meta["source"] = source
    return out


def iter_chunks(path, *, chunk_rows=100_000):
    """Yield the rows of a FITS or CSV table file as `~astropy.table.Table` chunks.

    Parameters
    ----------
    path : str or `~pathlib.Path`
        ``.fits``/``.fit`` (first table HDU, memory-mapped) or ``.csv`` (optionally
        ``.gz``).
    chunk_rows : int
        Rows per chunk.
    """
    path = check_input_file(path)
    name = path.name.lower().removesuffix(".gz")
    if name.endswith((".fits", ".fit", ".fits.fz")):
        from astropy.io import fits
        with fits.open(path, memmap=True) as hdul:
            hdu = next((h for h in hdul if isinstance(h, fits.BinTableHDU)), None)
            if hdu is None:
                raise InputDataError("no binary table in the FITS file", source=str(path))
            n = hdu.header["NAXIS2"]
            for start in range(0, n, chunk_rows):
                t = Table(hdu.data[start:start + chunk_rows])
                yield t
        return
    if not name.endswith(".csv"):
        raise InputDataError("streamed reading supports FITS and CSV files", source=str(path))
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


def read_lamost_members(path, members, *, near=3.5 * u.arcsec, chunk_rows=100_000,
                        show_progress=None, stage_log=None):
    """The rows of a (large) LAMOST catalogue file that may belong to ``members``.

    A file with Gaia ids keeps the rows of the members' ``source_id``; a file
    without keeps every row within ``near`` + `NEAR_MARGIN` of a member, as
    plain stars (no ``source_id``): the cross-match step
    (`astro_ocl.steps.crossmatch.match_stars`) matches them.

    Parameters
    ----------
    path : str or `~pathlib.Path`
        LAMOST catalogue, FITS or CSV (as the LAMOST site distributes it).
    members : `~astropy.table.QTable`
        Canonical members (``source_id``, ``coord``).
    near : `~astropy.units.Quantity`
        The match radius the cross-match will use.
    chunk_rows : int
    show_progress : bool, optional
    stage_log : `~astro_ocl.accounting.StageLog`, optional
        Records the rows read and the rows left out.

    Returns
    -------
    `~astropy.table.QTable`
        The canonical star table (:func:`read_lamost`) of the kept rows.
    """
    stage_log = stage_log if stage_log is not None else StageLog()
    ids = np.unique(np.asarray(members["source_id"], dtype=np.int64))
    limit = u.Quantity(near, u.arcsec) + NEAR_MARGIN
    mcoord = SkyCoord(ra=members["coord"].ra, dec=members["coord"].dec)
    kept, kept_rows, n_total, mode = [], [], 0, None
    for chunk in progress(iter_chunks(path, chunk_rows=chunk_rows), desc="LAMOST chunks",
                          enabled=show_progress):
        n_total += len(chunk)
        if mode is None:
            id_col = schema.STARS.find(chunk, "source_id")
            ra_col = schema.STARS.find(chunk, "ra")
            dec_col = schema.STARS.find(chunk, "dec")
            mode = "id" if id_col else "position"
            if mode == "position" and (ra_col is None or dec_col is None):
                raise MissingColumnError("the LAMOST file has neither a Gaia source_id nor "
                                         "a position column", source=str(path))
        if mode == "id":
            col = chunk[id_col]
            vals = np.ma.filled(np.ma.asarray(col), -1).astype(np.int64) \
                if col.dtype.kind in "iuf" else np.array(
                    [int(v) if str(v).strip().lstrip("-").isdigit() else -1 for v in col])
            keep = np.isin(vals, ids)
        else:
            ra = to_float(chunk[ra_col], source=str(path), column=ra_col)
            dec = to_float(chunk[dec_col], source=str(path), column=dec_col)
            ok = np.isfinite(ra) & np.isfinite(dec)
            keep = np.zeros(len(chunk), bool)
            if ok.any():
                c = SkyCoord(ra=ra[ok] * u.deg, dec=dec[ok] * u.deg)
                _, sep, _ = c.match_to_catalog_sky(mcoord)
                keep[np.flatnonzero(ok)[sep < limit]] = True
        if keep.any():
            kept.append(chunk[keep])
            kept_rows.append(n_total - len(chunk) + np.flatnonzero(keep))
    n_kept = sum(map(len, kept))
    reason = ("Gaia source_id of no requested member" if mode == "id"
              else f"farther than {limit} from every requested member")
    stage_log.stage("survey file rows", n_in=n_total, n_out=n_kept,
                    dropped={reason: n_total - n_kept},
                    note=f"{path} ({mode})")
    log.info("%s: kept %d of %d rows (%s)", path, n_kept, n_total, mode)
    if not kept:
        raise InputDataError("no row of the LAMOST file belongs to a requested member",
                             source=str(path))
    if len(kept) > 1:
        # a column read as text in one chunk (a bad value there) and as numbers in
        # another: stack it as text, read_lamost then names the bad value and its row
        for name in kept[0].colnames:
            kinds = {k[name].dtype.kind for k in kept if name in k.colnames}
            if len(kinds) > 1 and kinds & set("USO"):
                for k in kept:
                    if name in k.colnames:
                        k[name] = k[name].astype(str)
    table = kept[0] if len(kept) == 1 else vstack(kept, metadata_conflicts="silent")
    try:
        return read_lamost(table=table, path=str(path))
    except InputDataError as exc:
        if exc.row is None:
            raise
        # the row of the file, not of the kept rows
        rows = np.concatenate(kept_rows)
        raise type(exc)(exc.message, source=str(path),
                        column=exc.column, row=int(rows[exc.row]), value=exc.value) from None
