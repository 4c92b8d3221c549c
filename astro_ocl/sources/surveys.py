"""LAMOST stellar parameters from a local catalogue file, streamed in chunks.

LAMOST distributes its catalogues (DR8 and later) as FITS or CSV files of
several GB. :func:`read_lamost_members` reads such a file chunk by chunk and
keeps only the rows of the wanted stars (by Gaia ``source_id`` when the file has
it, else by position near the members), so memory use is one chunk plus the
matches, whatever the file size.
"""
import csv
import gzip
import io
from pathlib import Path

import astropy.units as u
import numpy as np
from astropy.coordinates import SkyCoord
from astropy.table import Table, vstack

from . import files as readers
from ..config import conf
from ..exceptions import InputDataError, MissingColumnError
from ..logger import log
from ..utils import progress

__all__ = ["iter_chunks", "read_lamost_members"]


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
    path = Path(path)
    if not path.exists():
        raise InputDataError("input file does not exist", source=str(path))
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
    with opener(path, "rt", encoding="utf-8", newline="") as f:
        reader = csv.reader(f)
        try:
            header = next(reader)
        except StopIteration:
            raise InputDataError("empty file", source=str(path)) from None
        while True:
            rows = []
            for row in reader:
                rows.append(row)
                if len(rows) >= chunk_rows:
                    break
            if not rows:
                return
            buf = io.StringIO()
            w = csv.writer(buf)
            w.writerow(header)
            w.writerows(rows)
            yield Table.read(buf.getvalue(), format="ascii.csv", fast_reader=True)
            if len(rows) < chunk_rows:
                return


def read_lamost_members(path, members, *, radius=None, chunk_rows=100_000, show_progress=None):
    """The rows of a (large) LAMOST catalogue file that belong to ``members``.

    Parameters
    ----------
    path : str or `~pathlib.Path`
        LAMOST catalogue, FITS or CSV (as the LAMOST site distributes it).
    members : `~astropy.table.QTable`
        Canonical members (``source_id``, ``coord``).
    radius : `~astropy.units.Quantity`, optional
        Positional pre-selection radius when the file has no Gaia id (default
        ``conf.match_radius_arcsec``); the final match is
        `~astro_ocl.steps.crossmatch.attach_source_ids`.
    chunk_rows : int
    show_progress : bool, optional

    Returns
    -------
    `~astropy.table.QTable`
        The canonical star table (`~astro_ocl.sources.read_lamost`) of the kept rows.
    """
    ids = np.unique(np.asarray(members["source_id"], dtype=np.int64))
    r = u.Quantity(conf.match_radius_arcsec if radius is None else radius, u.arcsec)
    mcoord = members["coord"]
    kept, n_total, mode = [], 0, None
    for chunk in progress(iter_chunks(path, chunk_rows=chunk_rows), desc="LAMOST chunks",
                          enabled=show_progress):
        n_total += len(chunk)
        if mode is None:
            id_col = readers._find(chunk, readers.STAR_ALIASES["source_id"])
            ra_col = readers._find(chunk, readers.STAR_ALIASES["ra"])
            dec_col = readers._find(chunk, readers.STAR_ALIASES["dec"])
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
            ra = readers.to_float(chunk[ra_col], source=str(path), column=ra_col)
            dec = readers.to_float(chunk[dec_col], source=str(path), column=dec_col)
            ok = np.isfinite(ra) & np.isfinite(dec)
            keep = np.zeros(len(chunk), bool)
            if ok.any():
                c = SkyCoord(ra=ra[ok] * u.deg, dec=dec[ok] * u.deg)
                idx, sep, _ = c.match_to_catalog_sky(
                    SkyCoord(ra=mcoord.ra, dec=mcoord.dec))
                keep[np.flatnonzero(ok)[sep < r + 1 * u.arcsec]] = True
        if keep.any():
            kept.append(chunk[keep])
    log.info("%s: kept %d of %d rows (%s match)", path, sum(map(len, kept)), n_total, mode)
    if not kept:
        raise InputDataError("no row of the LAMOST file belongs to a requested member",
                             source=str(path))
    table = kept[0] if len(kept) == 1 else vstack(kept, metadata_conflicts="silent")
    stars = readers.read_lamost(table=table, path=str(path))
    if mode == "position":
        from ..steps.crossmatch import attach_source_ids
        from .archives.gaia import sources_with_motion
        src = sources_with_motion(_member_sources(members))
        stars = attach_source_ids(stars, src, radius=r)
    return stars


def _member_sources(members):
    out = Table()
    out["source_id"] = np.asarray(members["source_id"], np.int64)
    c = members["coord"]
    out["ra"], out["dec"] = c.ra.deg, c.dec.deg
    try:
        out["pmra"] = c.pm_ra_cosdec.to_value(u.mas / u.yr)
        out["pmdec"] = c.pm_dec.to_value(u.mas / u.yr)
    except (AttributeError, TypeError):
        out["pmra"] = out["pmdec"] = np.zeros(len(out))
    return out
