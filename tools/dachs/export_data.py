#!/usr/bin/env python3
"""Export the embedded sample of astro_ocl as CSV files for the local DaCHS TAP server.

    python tools/dachs/export_data.py OUTDIR

Writes, from ``astro_ocl/data`` (the same files the offline build reads):

``gaiadr2/gaia_source.csv``
    Gaia DR2-like astrometry of every Cantat-Gaudin member star (one row per
    ``source_id``): ``source_id, ra, dec, parallax, pmra, pmdec, phot_g_mean_mag,
    ref_epoch``.
``cg2020/nodup.csv``
    The member table as VizieR serves J/A+A/640/A1/nodup (``Cluster, GaiaDR2,
    RA_ICRS, DE_ICRS, pmRA, pmDE, plx, Gmag, proba``), every row of the embedded
    member file (a star listed in two clusters stays listed twice).
``cg2020/table1.csv``
    CG2020 table1 with its VizieR labels (``pmRA*`` becomes ``pmRA``, ``e_pmRA*``
    becomes ``e_pmRA``: DaCHS column names are regular identifiers).
``lamost/lrs_stellar.csv``
    The LAMOST LRS sample with its own column names plus ``obsid`` = 1..N in
    file order (LAMOST catalogues have a unique ``obsid``; the online fetch
    orders by it, so the star order equals the offline one).

Values are written with ``repr`` (round-trip exact); missing values are empty.
"""
import csv
import gzip
import math
import sys
from pathlib import Path

import numpy as np
from astropy.table import Table

from astro_ocl.utils import data_path


def _fmt(v):
    if v is None or v is np.ma.masked:
        return ""
    if isinstance(v, (float, np.floating)):
        return "" if not math.isfinite(v) else repr(float(v))
    if isinstance(v, (np.integer,)):
        return str(int(v))
    return str(v).strip()


def _write(path, header, rows):
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "w", newline="", encoding="utf-8") as f:
        w = csv.writer(f)
        w.writerow(header)
        n = 0
        for r in rows:
            w.writerow([_fmt(v) for v in r])
            n += 1
    print(f"wrote {n} rows to {path}")


def _column(t, name):
    col = t[name]
    data = np.ma.getdata(col)
    mask = np.ma.getmaskarray(col)
    return [None if m else d for d, m in zip(data.tolist(), mask)]


def main(outdir):
    out = Path(outdir)
    mem = Table.read(data_path("cg2018_members_subset.ecsv.gz"), format="ascii.ecsv")
    names = ["Cluster", "Source", "ra", "dec", "pmra", "pmdec", "parallax",
             "phot_g_mean_mag", "PMemb"]
    cols = [_column(mem, n) for n in names]
    _write(out / "cg2020" / "nodup.csv",
           ["Cluster", "GaiaDR2", "RA_ICRS", "DE_ICRS", "pmRA", "pmDE", "plx", "Gmag",
            "proba"], zip(*cols))
    _, first = np.unique(np.asarray(mem["Source"]), return_index=True)
    first = np.sort(first)
    gaia = [[c[i] for c in cols[1:8]] + [2015.5] for i in first]
    _write(out / "gaiadr2" / "gaia_source.csv",
           ["source_id", "ra", "dec", "pmra", "pmdec", "parallax", "phot_g_mean_mag",
            "ref_epoch"], gaia)

    with gzip.open(data_path("cantat_gaudin_2020_table1.tsv.gz"), "rt", encoding="utf-8") as f:
        rows = [r for r in csv.reader(f, delimiter="|") if any(c.strip() for c in r)]
    header = [h.strip() for h in rows[0]]
    keep = ["Cluster", "RA_ICRS", "DE_ICRS", "GLON", "GLAT", "r50", "nbstars07", "pmRA*",
            "e_pmRA*", "pmDE", "e_pmDE", "plx", "e_plx", "AgeNN", "AVNN", "DMNN", "DistPc",
            "X", "Y", "Z", "Rgc"]
    idx = [header.index(k) for k in keep]
    _write(out / "cg2020" / "table1.csv", [k.rstrip("*") for k in keep],
           ([r[i].strip() for i in idx] for r in rows[1:]))

    lam = Table.read(data_path("lamost_lrs_oc_members.ecsv"))
    lam.remove_column("imputed_uncertainties_flag")
    lcols = [_column(lam, n) for n in lam.colnames]
    _write(out / "lamost" / "lrs_stellar.csv", ["obsid"] + lam.colnames,
           ([i + 1] + list(r) for i, r in enumerate(zip(*lcols))))


if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.exit(__doc__)
    main(sys.argv[1])
