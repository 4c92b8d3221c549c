"""Cluster memberships as the canonical member table.

* :func:`read_cg_members`: Cantat-Gaudin et al. (2018, 2020) members, Gaia DR2
  ``source_id`` (the embedded subset; online
  `astro_ocl.sources.archives.vizier.cg2020_members`);
* :func:`read_hr23_members`: Hunt & Reffert (2023) members, Gaia DR3
  ``source_id`` (a VizieR ``J/A+A/673/A114/members`` table or file; online
  `astro_ocl.sources.archives.vizier.hr23_members`).

Every member table says which Gaia release its ids are from
(``meta["gaia_release"]``, see :mod:`astro_ocl.sources.gaia_ids`), and its
positions carry that release's epoch (J2015.5 for DR2, J2016.0 for DR3).
"""
from pathlib import Path

import astropy.units as u
import numpy as np
from astropy.coordinates import SkyCoord
from astropy.table import QTable
from astropy.time import Time

from .. import schema
from ..exceptions import InputDataError, MissingColumnError
from ..utils import data_path
from .clusters import cluster_resolver, read_cluster_catalogue
from .files import quantity_column, read_table_file, to_float, to_int
from .gaia_ids import GAIA_RELEASES

__all__ = ["read_cg_members", "read_hr23_members", "HR23_MEMBER_COLUMNS", "MEMBERSHIPS"]

#: Gaia epoch of the positions of each release.
GAIA_EPOCHS = {"DR2": 2015.5, "DR3": 2016.0}

#: Spellings of the Hunt & Reffert (2023) member columns -> canonical names (the
#: VizieR labels and the paper's own column names).
HR23_MEMBER_COLUMNS = {
    "Cluster": ("Name", "name", "Cluster"),
    "source_id": ("GaiaDR3", "Source", "source_id", "DR3Name"),
    "proba": ("Prob", "probability", "Proba", "proba"),
}

#: The member catalogues: name -> (Gaia release, reference).
MEMBERSHIPS = {
    "cg2020": ("DR2", "Cantat-Gaudin et al. 2018, A&A 618, A93; 2020, A&A 640, A1"),
    "hr23": ("DR3", "Hunt & Reffert 2023, A&A 673, A114"),
}


def read_cg_members(path=None, *, format=None, table=None, resolver=None, gaia_release="DR2"):
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
    gaia_release : {"DR2", "DR3"}
        Release of the ids (DR2 for Cantat-Gaudin; another member file in this
        layout may be DR3).

    Returns
    -------
    `~astropy.table.QTable`
        ``Cluster`` (CG2020 spelling), ``source_id`` (Gaia DR2), ``coord``
        (ICRS with proper motions, Gaia epoch J2015.5), ``parallax, gmag,
        proba``; ``meta["gaia_release"]`` (``"DR2"``) and ``meta["reference"]``.
    """
    if table is None:
        path = Path(path) if path is not None else data_path("cg2018_members_subset.ecsv.gz")
        table = read_table_file(path, format=format)
    return _read_members(table, path, resolver=resolver or cluster_resolver(),
                         gaia_release=gaia_release, reference=MEMBERSHIPS["cg2020"][1])


def read_hr23_members(path=None, *, format=None, table=None, resolver=None):
    """Read Hunt & Reffert (2023) cluster members (VizieR ``J/A+A/673/A114/members``).

    Parameters
    ----------
    path : str or `~pathlib.Path`, optional
        A member file (VOTable, FITS, CSV, ECSV) in the VizieR layout. The
        package embeds none (the table has ~1.3 million rows): fetch members
        with `astro_ocl.sources.archives.vizier.hr23_members`.
    format : str, optional
        astropy format of ``path``.
    table : `~astropy.table.Table`, optional
        In-memory table instead of a file (e.g. a VizieR query result).
    resolver : `~astro_ocl.sources.names.NameResolver`, optional
        Default: the names and aliases of the Hunt & Reffert (2023) clusters,
        so ``"NGC 2682"`` becomes the canonical ``NGC_2682``.

    Returns
    -------
    `~astropy.table.QTable`
        As :func:`read_cg_members`, with ``source_id`` the Gaia **DR3** id,
        ``coord`` at the DR3 epoch J2016.0 and ``meta["gaia_release"] = "DR3"``.
        The cluster name, id and probability columns are found under the
        spellings of :data:`HR23_MEMBER_COLUMNS`.

    Raises
    ------
    InputDataError
        No path or table given.
    """
    if table is None:
        if path is None:
            raise InputDataError("no Hunt & Reffert (2023) member file is embedded: give a "
                                 "path or a table, or fetch them online "
                                 "(astro_ocl.sources.archives.vizier.hr23_members)")
        table = read_table_file(Path(path), format=format)
    table = _renamed(table, HR23_MEMBER_COLUMNS)
    if resolver is None:
        resolver = cluster_resolver(read_cluster_catalogue("hr23"))
    return _read_members(table, path, resolver=resolver, gaia_release="DR3",
                         reference=MEMBERSHIPS["hr23"][1])


def _renamed(table, spellings):
    """A shallow copy of ``table`` with the first known spelling of each column renamed."""
    out = table.copy(copy_data=False)
    lower = {c.lower(): c for c in out.colnames}
    for canonical, names in spellings.items():
        if canonical in out.colnames:
            continue
        for name in names:
            hit = name if name in out.colnames else lower.get(name.lower())
            if hit is not None:
                out.rename_column(hit, canonical)
                break
    return out


def _read_members(table, path, *, resolver, gaia_release, reference):
    if gaia_release not in GAIA_RELEASES:
        raise InputDataError(f"unknown Gaia release {gaia_release!r} (one of {GAIA_RELEASES})")
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
    t["coord"] = SkyCoord(ra=ra, dec=dec, frame="icrs",
                          obstime=Time(GAIA_EPOCHS[gaia_release], format="jyear"), **kw)
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
    t["source_id"].info.description = f"Gaia {gaia_release} source_id"
    t.meta["source"] = source
    t.meta["n_unknown_clusters"] = n_unknown
    t.meta["gaia_release"] = gaia_release
    t.meta["reference"] = reference
    return t
