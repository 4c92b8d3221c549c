"""Cluster memberships: Cantat-Gaudin et al. members as the canonical member table."""
from pathlib import Path

import astropy.units as u
import numpy as np
from astropy.coordinates import SkyCoord
from astropy.table import QTable
from astropy.time import Time

from .. import schema
from ..exceptions import InputDataError, MissingColumnError
from ..utils import data_path
from .clusters import cluster_resolver
from .files import quantity_column, read_table_file, to_float, to_int

__all__ = ["read_cg_members"]


def read_cg_members(path=None, *, format=None, table=None, resolver=None):
    """Read Cantat-Gaudin cluster members (CG2018 members / CG2020 nodup layout).

    Parameters
    ----------
    path : str or `~pathlib.Path`, optional
        Member file; default the embedded CG2018 subset (19 clusters, 13 504 stars
        with PMemb >= 0.5).
    format : str, optional
        astropy format of ``path``.
    table : `~astropy.table.Table`, optional
        In-memory table instead of a file.
    resolver : `~astro_ocl.sources.names.NameResolver`, optional
        Name resolver (default: CG2020 names).

    Returns
    -------
    `~astropy.table.QTable`
        ``Cluster`` (CG2020 spelling), ``source_id`` (Gaia DR2), ``coord``
        (ICRS with proper motions, Gaia epoch J2015.5), ``parallax, gmag,
        proba``.
    """
    if table is None:
        path = Path(path) if path is not None else data_path("cg2018_members_subset.ecsv.gz")
        table = read_table_file(path, format=format)
    source = str(path) if path is not None else "<table>"
    if len(table) == 0:
        raise InputDataError("no data rows (only a header)", source=source)
    found = {k: schema.MEMBERSHIP.find(table, k) for k in schema.MEMBERSHIP}
    missing = [k for k in ("Cluster", "source_id", "ra", "dec", "proba") if found[k] is None]
    if missing:
        raise MissingColumnError(
            f"required member column(s) {missing} not found in {source}; known spellings: "
            + "; ".join(f"{m}: {list(schema.MEMBERSHIP.spellings(m))}" for m in missing),
            source=source)
    resolver = resolver or cluster_resolver()
    t = QTable()
    names, n_unknown = resolver.resolve_many([str(c).strip() for c in table[found["Cluster"]]])
    t["Cluster"] = names
    t["source_id"] = to_int(table[found["source_id"]], source=source, column=found["source_id"])
    ra = quantity_column(table, "ra", found["ra"], u.deg, source=source)
    dec = quantity_column(table, "dec", found["dec"], u.deg, source=source)
    kw = {}
    if found["pmra"] is not None and found["pmdec"] is not None:
        pmra = quantity_column(table, "pmra", found["pmra"], schema.MASYR, source=source)
        pmdec = quantity_column(table, "pmdec", found["pmdec"], schema.MASYR, source=source)
        # a missing proper motion stays NaN (never 0): the cross-match leaves
        # such a source at its Gaia position
        kw = dict(pm_ra_cosdec=pmra, pm_dec=pmdec)
    t["coord"] = SkyCoord(ra=ra, dec=dec, frame="icrs", obstime=Time(2015.5, format="jyear"),
                          **kw)
    if found["parallax"] is not None:
        t["parallax"] = quantity_column(table, "parallax", found["parallax"], u.mas, source=source)
    if found["gmag"] is not None:
        t["gmag"] = quantity_column(table, "gmag", found["gmag"], u.mag, source=source)
    proba = to_float(table[found["proba"]], source=source, column=found["proba"])
    bad = np.flatnonzero((proba < 0) | (proba > 1))
    if bad.size:
        raise InputDataError("membership probability outside [0, 1]", source=source,
                             column=found["proba"], row=int(bad[0]), value=float(proba[bad[0]]))
    t["proba"] = proba
    t["proba"].info.description = "Membership probability"
    t.meta["source"] = source
    t.meta["n_unknown_clusters"] = n_unknown
    return t
