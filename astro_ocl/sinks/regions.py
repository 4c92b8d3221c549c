"""Cluster footprints as `regions` sky regions, DS9/CRTF files, and ADQL constraints.

* :func:`cluster_regions` makes one `~regions.CircleSkyRegion` per cluster,
  centred on the CG2020 centre with radius ``r50`` (the radius containing half
  the members), or a tidal radius column such as ``r_t`` when the table has
  one, optionally scaled;
  (`astro_ocl.steps.compare.add_tidal_radii` adds the tidal radius ``r_t`` of
  Hunt & Reffert 2023 to a cluster table);
* :func:`write_regions` writes them as a DS9 or CRTF file (atomically) that
  `regions.Regions.read` reads back;
* :func:`region_adql` turns a circle or polygon sky region into an ADQL
  ``CONTAINS`` condition, so a footprint can restrict an archive query.
"""
import re

import astropy.units as u
import numpy as np

from ..exceptions import InputDataError, MissingColumnError, ParameterError
from ..outputs import atomic_path

__all__ = ["cluster_regions", "write_regions", "region_adql", "REGION_FORMATS"]

#: File formats of :func:`write_regions` (`regions` names) and their extensions.
REGION_FORMATS = {"ds9": ".reg", "crtf": ".crtf"}

_IDENT = re.compile(r"[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)*")


def cluster_regions(clusters, *, radius="r50", scale=1.0, color="green", skip_missing=False):
    """One circle sky region per cluster.

    Parameters
    ----------
    clusters : `~astropy.table.Table` or `~astropy.table.QTable`
        A cluster table with ``Cluster`` and either a ``coord`` SkyCoord or
        ``RAdeg``/``DEdeg`` columns, and the radius column.
    radius : str or `~astropy.units.Quantity`
        Column name (``"r50"``; ``"r_t"`` for tidal radii when available) or a
        fixed angle for every cluster.
    scale : float
        Multiply the radii (e.g. 2 for twice r50).
    color : str
        DS9 colour of the circles.
    skip_missing : bool
        Leave out clusters without a radius (e.g. no ``r_t``) instead of raising.

    Returns
    -------
    `regions.Regions`
        Each region's ``meta["text"]`` is the cluster name.
    """
    from astropy.coordinates import SkyCoord
    from regions import CircleSkyRegion, Regions
    if "coord" in clusters.colnames:
        centres = clusters["coord"]
    elif {"RAdeg", "DEdeg"} <= set(clusters.colnames):
        centres = SkyCoord(u.Quantity(clusters["RAdeg"], u.deg),
                           u.Quantity(clusters["DEdeg"], u.deg), frame="icrs")
    else:
        raise MissingColumnError("a cluster table needs a 'coord' column or RAdeg/DEdeg",
                                 column="coord")
    if isinstance(radius, str):
        if radius not in clusters.colnames:
            raise MissingColumnError(f"no radius column {radius!r} in the cluster table",
                                     column=radius)
        radii = u.Quantity(clusters[radius])
        if radii.unit == u.one:
            radii = radii * u.deg  # CG2020 r50 is in degrees
    else:
        radii = u.Quantity(radius) * np.ones(len(clusters))
    radii = radii.to(u.deg) * scale
    names = clusters["Cluster"] if "Cluster" in clusters.colnames else \
        [str(i) for i in range(len(clusters))]
    out = []
    for i in range(len(clusters)):
        r = radii[i]
        if not np.isfinite(r.value) or r.value <= 0:
            if skip_missing:
                continue
            raise InputDataError("radius must be positive and finite", column=str(radius),
                                 row=i, value=float(r.value))
        reg = CircleSkyRegion(center=centres[i].icrs, radius=r)
        reg.meta["text"] = str(names[i])   # DS9 label
        reg.meta["label"] = str(names[i])  # CRTF label
        reg.visual["color"] = color
        out.append(reg)
    return Regions(out)


def write_regions(clusters, path, *, format="ds9", radius="r50", scale=1.0, overwrite=False,
                  skip_missing=False):
    """Write the cluster footprints as a DS9 (``.reg``) or CRTF file, atomically.

    Parameters
    ----------
    clusters : `~astropy.table.Table` or `regions.Regions`
        A cluster table (see :func:`cluster_regions`) or ready regions.
    path : str or `~pathlib.Path`
    format : {"ds9", "crtf"}
    radius, scale, skip_missing
        See :func:`cluster_regions`.
    overwrite : bool

    Returns
    -------
    `~pathlib.Path`
    """
    from pathlib import Path

    from regions import Regions
    if format not in REGION_FORMATS:
        raise ParameterError("format", format, f"one of {sorted(REGION_FORMATS)}")
    regs = clusters if isinstance(clusters, Regions) else cluster_regions(
        clusters, radius=radius, scale=scale, skip_missing=skip_missing)
    with atomic_path(path, overwrite=overwrite) as tmp:
        regs.write(str(tmp), format=format)
    return Path(path)


def _ident(name):
    if not _IDENT.fullmatch(name):
        raise ParameterError("column", name, "not a plain ADQL column name")
    return name


def region_adql(region, *, ra="ra", dec="dec"):
    """An ADQL condition selecting the rows inside a sky region.

    Parameters
    ----------
    region : `regions.CircleSkyRegion` or `regions.PolygonSkyRegion`
        In any celestial frame (converted to ICRS).
    ra, dec : str
        Column names (plain identifiers, optionally ``table.column``).

    Returns
    -------
    str
        E.g. ``1 = CONTAINS(POINT('ICRS', ra, dec), CIRCLE('ICRS', 10.0, 20.0, 0.5))``.

    Examples
    --------
    >>> import astropy.units as u
    >>> from astropy.coordinates import SkyCoord
    >>> from regions import CircleSkyRegion
    >>> region_adql(CircleSkyRegion(SkyCoord(132.846, 11.814, unit="deg"), 0.5 * u.deg))
    "1 = CONTAINS(POINT('ICRS', ra, dec), CIRCLE('ICRS', 132.846000000, 11.814000000, 0.500000000))"
    """
    from regions import CircleSkyRegion, PolygonSkyRegion
    point = f"POINT('ICRS', {_ident(ra)}, {_ident(dec)})"
    if isinstance(region, CircleSkyRegion):
        c = region.center.icrs
        shape = (f"CIRCLE('ICRS', {c.ra.deg:.9f}, {c.dec.deg:.9f}, "
                 f"{region.radius.to_value(u.deg):.9f})")
    elif isinstance(region, PolygonSkyRegion):
        v = region.vertices.icrs
        coords = ", ".join(f"{a:.9f}, {d:.9f}" for a, d in zip(v.ra.deg, v.dec.deg))
        shape = f"POLYGON('ICRS', {coords})"
    else:
        raise TypeError(f"only circle and polygon sky regions translate to ADQL, not "
                        f"{type(region).__name__}")
    return f"1 = CONTAINS({point}, {shape})"
