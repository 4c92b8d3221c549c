"""Comparison with literature cluster catalogues (Fu et al. 2022, Tables 1 and 3).

For each literature catalogue and quantity (RV, [Fe/H]) the clusters in common
(matched by normalised name) give a matched table and the statistics of the
difference ``ours - literature``: number, mean, median, standard deviation and
robust scatter (`astropy.stats.mad_std`). LAMOST RVs sit a few km/s
below Gaia's; the offset is reported, never removed.
"""
import astropy.units as u
import numpy as np
from astropy.stats import mad_std
from astropy.table import QTable, join

from .. import schema
from ..exceptions import MissingColumnError, ParameterError
from ..sources.names import name_key

__all__ = ["compare", "literature_comparison", "offset_statistics", "add_tidal_radii"]

_QUANTITIES = {"RV": u.km / u.s, "[Fe/H]": u.dex}


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
                robust_std=mad_std(d) * unit)


def compare(clusters, literature, *, quantity="RV"):
    """Match our clusters with one literature table and difference a quantity.

    Parameters
    ----------
    clusters : `~astropy.table.QTable`
        Our cluster table (``Cluster`` and the values of either statistics method,
        `astro_ocl.schema.value_columns`).
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
        raise ParameterError("quantity", quantity, f"one of {list(_QUANTITIES)}")
    unit = _QUANTITIES[quantity]
    ours_col, e_ours_col = schema.value_columns(clusters, quantity)[:2]
    if quantity not in literature.colnames:
        raise MissingColumnError(f"{literature.meta.get('name', 'literature table')} has no "
                                 f"{quantity} column", column=quantity)
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
    m.meta.update(literature.meta)
    schema.apply_schema(m, schema.MATCHED_RV if quantity == "RV" else schema.MATCHED_FEH)
    m["diff"].info.description = f"{quantity}: this catalogue minus {literature.meta.get('name')}"
    m.meta["quantity"] = quantity
    m.meta["statistics"] = offset_statistics(m["diff"])
    return m


def literature_comparison(clusters, catalogues, *, sample=None):
    """Compare with literature catalogues (paper Tables 1 and 3).

    Parameters
    ----------
    clusters : `~astropy.table.QTable`
        Our cluster table.
    catalogues : dict
        ``{name: QTable}`` of canonical literature tables
        (`~astro_ocl.sources.read_literature` reads the embedded ones).
    sample : str, optional
        What ``clusters`` is when it is not the catalogue itself (e.g. the
        cluster values of one survey's stars alone): written in the ``sample``
        column and added to the keys of ``matched``.

    Returns
    -------
    summary : `~astropy.table.QTable`
        One row per (catalogue, quantity): ``catalogue, quantity, N, mean,
        median, std, robust_std, reference, sample`` (values in km/s or dex).
    matched : dict
        ``{(catalogue, quantity): matched table}`` (``(catalogue, quantity,
        sample)`` with ``sample``).
    """
    if not isinstance(catalogues, dict):
        raise TypeError("catalogues must be {name: literature table} "
                        "(astro_ocl.sources.read_literature reads the embedded ones)")
    rows, matched = [], {}
    for name, lit in catalogues.items():
        for quantity, unit in _QUANTITIES.items():
            if quantity not in lit.colnames:
                continue
            m = compare(clusters, lit, quantity=quantity)
            matched[(name, quantity) if sample is None else (name, quantity, sample)] = m
            s = m.meta["statistics"]
            rows.append((name, quantity, s["N"], s["mean"].to_value(unit),
                         s["median"].to_value(unit), s["std"].to_value(unit),
                         s["robust_std"].to_value(unit), str(unit),
                         lit.meta.get("reference", ""), sample or "this catalogue"))
    summary = QTable(rows=rows, names=("catalogue", "quantity", "N", "mean", "median", "std",
                                       "robust_std", "unit", "reference", "sample"),
                     dtype=(str, str, int, float, float, float, float, str, str, str)) if rows \
        else QTable(names=("catalogue", "quantity", "N"), dtype=(str, str, int))
    schema.apply_schema(summary, schema.COMPARISON)
    summary.meta["description"] = schema.COMPARISON.description
    return summary, matched


def add_tidal_radii(clusters, tidal_radii):
    """A copy of ``clusters`` with the tidal radius ``r_t`` of another catalogue.

    Clusters are matched by name (the catalogue's main name first, then the other
    names it lists); unmatched clusters get NaN.

    Parameters
    ----------
    clusters : `~astropy.table.QTable`
        With a ``Cluster`` column (CG2020 names).
    tidal_radii : `~astropy.table.QTable`
        ``Name``, ``AllNames``, ``r_t``
        (`astro_ocl.sources.literature.read_tidal_radii`, Hunt & Reffert 2023).

    Returns
    -------
    `~astropy.table.QTable`
    """
    main, other = {}, {}
    for i, (name, alls) in enumerate(zip(tidal_radii["Name"], tidal_radii["AllNames"])):
        main.setdefault(name_key(name), i)
        for alias in str(alls).split(","):
            if alias.strip():
                other.setdefault(name_key(alias), i)
    rt = u.Quantity(tidal_radii["r_t"]).to_value(u.deg)
    values = np.full(len(clusters), np.nan)
    for j, name in enumerate(clusters["Cluster"]):
        k = name_key(name)
        i = main.get(k, other.get(k))
        if i is not None:
            values[j] = rt[i]
    out = clusters.copy()
    out["r_t"] = values * u.deg  # NaN where the catalogue has no such cluster
    out["r_t"].info.description = tidal_radii["r_t"].info.description
    return out
