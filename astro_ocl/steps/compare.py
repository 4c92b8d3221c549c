"""Comparison with literature cluster catalogues (Fu et al. 2022, Tables 1 and 3).

For each literature catalogue and quantity (RV, [Fe/H]) the clusters in common
(matched by normalised name) give a matched table and the statistics of the
difference ``ours - literature``: number, mean, median, standard deviation and
robust scatter (1.4826 x median absolute deviation). LAMOST RVs sit a few km/s
below Gaia's; the offset is reported, never removed.
"""
import astropy.units as u
import numpy as np
from astropy.table import QTable, join

from ..sources.files import LITERATURE, read_literature

__all__ = ["compare", "literature_comparison", "offset_statistics"]

_QUANTITIES = {"RV": ("RVmed", "e_RVmed", u.km / u.s),
               "[Fe/H]": ("[Fe/H]med", "e_[Fe/H]med", u.dex)}


def offset_statistics(diff):
    """Statistics of differences: N, mean, median, std, robust scatter.

    Parameters
    ----------
    diff : `~astropy.units.Quantity`
        Differences (NaN ignored).

    Returns
    -------
    dict
    """
    diff = u.Quantity(diff)
    d = diff.value[np.isfinite(diff.value)]
    unit = diff.unit
    if d.size == 0:
        nan = np.nan * unit
        return dict(N=0, mean=nan, median=nan, std=nan, robust_std=nan)
    med = np.median(d)
    return dict(N=int(d.size), mean=d.mean() * unit, median=med * unit,
                std=(d.std(ddof=1) if d.size > 1 else np.nan) * unit,
                robust_std=1.4826 * np.median(np.abs(d - med)) * unit)


def compare(clusters, literature, *, quantity="RV"):
    """Match our clusters with one literature table and difference a quantity.

    Parameters
    ----------
    clusters : `~astropy.table.QTable`
        Our cluster table (``Cluster``, ``RVmed``, ``[Fe/H]med`` ...).
    literature : `~astropy.table.QTable`
        Canonical literature table (`~astro_ocl.sources.read_literature`).
    quantity : {"RV", "[Fe/H]"}
        What to compare.

    Returns
    -------
    `~astropy.table.QTable`
        ``Cluster, ours, e_ours, lit, e_lit, diff`` for clusters where both
        values are finite; ``meta`` holds the statistics of ``diff``.
    """
    if quantity not in _QUANTITIES:
        raise ValueError(f"quantity must be one of {list(_QUANTITIES)}, got {quantity!r}")
    ours_col, e_ours_col, unit = _QUANTITIES[quantity]
    if quantity not in literature.colnames:
        raise KeyError(f"{literature.meta.get('name', 'literature table')} has no {quantity}")
    a = QTable({"Cluster": np.asarray(clusters["Cluster"]).astype(str), "ours": clusters[ours_col],
                "e_ours": clusters[e_ours_col]})
    e_lit = literature["e_" + quantity] if "e_" + quantity in literature.colnames \
        else np.full(len(literature), np.nan) * unit
    b = QTable({"Cluster": np.asarray(literature["Cluster"]).astype(str),
                "lit": literature[quantity], "e_lit": e_lit})
    # a literature table may list a cluster twice: keep the first finite entry
    ok = np.isfinite(u.Quantity(b["lit"]).value)
    b = b[ok]
    _, first = np.unique(np.asarray(b["Cluster"]), return_index=True)
    b = b[np.sort(first)]
    m = join(a, b, keys="Cluster", join_type="inner")
    m = m[np.isfinite(u.Quantity(m["ours"]).value)]
    m["diff"] = u.Quantity(m["ours"]) - u.Quantity(m["lit"])
    m["diff"].info.description = f"{quantity}: this catalogue minus {literature.meta.get('name')}"
    m.meta.update(literature.meta)
    m.meta["quantity"] = quantity
    m.meta["statistics"] = offset_statistics(m["diff"])
    return m


def literature_comparison(clusters, catalogues=None):
    """Compare with every embedded literature catalogue (paper Tables 1 and 3).

    Parameters
    ----------
    clusters : `~astropy.table.QTable`
        Our cluster table.
    catalogues : dict or list, optional
        ``{name: QTable}`` of canonical literature tables, or names of the
        embedded ones (default: all of `~astro_ocl.sources.LITERATURE`).

    Returns
    -------
    summary : `~astropy.table.QTable`
        One row per (catalogue, quantity): ``catalogue, quantity, N, mean,
        median, std, robust_std, reference`` (values in km/s or dex).
    matched : dict
        ``{(catalogue, quantity): matched table}``.
    """
    if catalogues is None:
        catalogues = list(LITERATURE)
    if not isinstance(catalogues, dict):
        catalogues = {name: read_literature(name) for name in catalogues}
    rows, matched = [], {}
    for name, lit in catalogues.items():
        for quantity, (_, _, unit) in _QUANTITIES.items():
            if quantity not in lit.colnames:
                continue
            m = compare(clusters, lit, quantity=quantity)
            matched[(name, quantity)] = m
            s = m.meta["statistics"]
            rows.append((name, quantity, s["N"], s["mean"].to_value(unit),
                         s["median"].to_value(unit), s["std"].to_value(unit),
                         s["robust_std"].to_value(unit), str(unit),
                         lit.meta.get("reference", "")))
    summary = QTable(rows=rows, names=("catalogue", "quantity", "N", "mean", "median", "std",
                                       "robust_std", "unit", "reference"),
                     dtype=(str, str, int, float, float, float, float, str, str)) if rows \
        else QTable(names=("catalogue", "quantity", "N"), dtype=(str, str, int))
    summary.meta["description"] = ("Offsets this catalogue minus literature "
                                   "(cf. Fu+2022 Tables 1, 3)")
    return summary, matched
