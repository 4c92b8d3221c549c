"""Figures of the catalogue itself: stars, radial velocities, literature, clouds.

The figures of Fu et al. (2022) that the data of a
`~astro_ocl.result.CatalogueResult` allows:

===========  ===============================================================
Fig. 1       sky coverage of the members (Galactic Aitoff projection)
Fig. 2       per-cluster RV Gaussian profiles, 2 sigma band, FLAG colours
Fig. 3       Delta RV (this work - Gaia) histogram, when Gaia RVs are at hand
             (star-level ``RV_Gaia`` column, else the Gaia DR2 cluster RVs of
             Soubiran et al. 2018 from the literature comparison)
Fig. 4       Kiel diagram and [Fe/H]-Teff with the quality-control regions
Fig. 5       CMDs of the richest clusters coloured by RV and by [Fe/H]
Figs. 6, 7   comparison with literature RVs and [Fe/H]
Figs. 13-14  young clusters and molecular clouds (Zucker et al. 2020) in
             heliocentric Galactic X-Y and X-Z
===========  ===============================================================

Each ``fig_*`` function returns a `matplotlib.figure.Figure` (built without
pyplot, so no global state and no display needed) or None when the data do not
allow it; :func:`make_figures` writes them all as PNG and PDF.
"""
import re

import astropy.units as u
import numpy as np

from ... import schema
from ...logger import log
from ...result import survey_counts
from .common import new_figure, save_figures, values, writes_figures

__all__ = ["make_figures", "surveys_line", "fig_sky", "fig_rv_profiles", "fig_delta_rv", "fig_kiel",
           "fig_cmd", "fig_literature", "fig_clouds", "FLAG_COLOURS"]

#: Colours of the member quality flags (Fig. 2, 4).
FLAG_COLOURS = {0: "tab:red", 1: "tab:blue", 12: "tab:green"}
FLAG_LABELS = {0: "FLAG=0 (RV outlier)", 1: "FLAG=1 (RV only)", 12: "FLAG=12 (RV and [Fe/H])"}


def _prov_float(result, key, default):
    text = str((result.provenance or {}).get(key, default))
    m = re.match(r"\s*([-+0-9.eE]+)", text)
    return float(m.group(1)) if m else default


def surveys_line(result):
    """The member stars of each survey, for the titles of the star figures.

    E.g. ``LAMOST-LRS 537, LAMOST-MRS 320, APOGEE 1637 stars``.
    """
    counts = survey_counts(result.members, order=(result.provenance or {}).get("surveys"))
    if not counts:
        return f"{len(result.members)} stars"
    return ", ".join(f"{name} {n}" for name, n in counts.items()) + " stars"


def _member_groups(result):
    names = np.asarray(result.members["Cluster"]).astype(str)
    return {c: np.flatnonzero(names == c) for c in np.asarray(result.clusters["Cluster"])}


# -- Fig. 1 ------------------------------------------------------------------------
def fig_sky(result):
    """Fig. 1: sky coverage of the spectroscopic members (Galactic, Aitoff).

    One point per member star, coloured by its flag; the clusters are marked.
    """
    m = result.members
    gal = m["coord"].galactic
    lon = -gal.l.wrap_at(180 * u.deg).radian  # longitude increases to the left
    lat = gal.b.radian
    fig = new_figure(figsize=(7.5, 4.2))
    ax = fig.add_subplot(projection="aitoff")
    flags = np.asarray(m["Flag"])
    for flag, colour in FLAG_COLOURS.items():
        sel = flags == flag
        ax.scatter(lon[sel], lat[sel], s=4, c=colour, label=f"{FLAG_LABELS[flag]} "
                   f"(N={sel.sum()})", rasterized=True, gid=f"members-flag{flag}")
    cg = result.clusters["coord"].galactic
    ax.scatter(-cg.l.wrap_at(180 * u.deg).radian, cg.b.radian, s=60, facecolors="none",
               edgecolors="k", linewidths=0.8, label=f"clusters (N={len(cg)})", gid="clusters")
    ticks = np.arange(-150, 180, 30)
    ax.set_xticks(np.radians(ticks))
    ax.set_xticklabels([f"{(-t) % 360:d}°" for t in ticks], fontsize=7)
    ax.set_xlabel("Galactic longitude l (deg)", labelpad=14)
    ax.set_ylabel("Galactic latitude b (deg)")
    ax.grid(True, lw=0.3)
    ax.legend(loc="lower right", bbox_to_anchor=(1.05, -0.32), ncol=2, frameon=False)
    ax.set_title(f"Spectroscopic members of {len(result.clusters)} open clusters "
                 f"({len(m)} stars)\n{surveys_line(result)}", pad=22)
    return fig


# -- Fig. 2 ------------------------------------------------------------------------
def fig_rv_profiles(result, *, clusters=None, ncols=4, max_clusters=16, nsigma=None):
    """Fig. 2: each member's RV as a Gaussian N(RV, e_RV), coloured by flag.

    The shaded band is the FLAG=1 window mean +- ``nsigma`` sigma of the first
    (all-star) pass, sigma being the spread of the pooled Monte Carlo samples,
    estimated as sqrt(var(RV) + mean(e_RV^2)); the line is ``RVmean``.

    Parameters
    ----------
    clusters : list of str, optional
        Clusters to show (default: the richest ``max_clusters``).
    ncols : int
        Panels per row.
    nsigma : float, optional
        Band half-width (default the run's ``qc_rv_nsigma``, 2).
    """
    nsigma = nsigma or _prov_float(result, "qc_rv_nsigma", 2.0)
    c = result.clusters
    rv_col = "RVmean" if "RVmean" in c.colnames else schema.value_columns(c, "RV")[0]
    paper = "RVmean" in c.colnames
    groups = _member_groups(result)
    if clusters is None:
        order = np.argsort(-np.asarray(c["Nall"]), kind="stable")
        clusters = [str(c["Cluster"][i]) for i in order[:max_clusters]]
    nrows = int(np.ceil(len(clusters) / ncols))
    fig = new_figure(figsize=(2.6 * ncols, 2.1 * nrows), layout="constrained")
    axes = fig.subplots(nrows, ncols, squeeze=False)
    rv_all = values(result.members["RV"], u.km / u.s)
    erv_all = values(result.members["e_RV"], u.km / u.s)
    flags = np.asarray(result.members["Flag"])
    names = list(np.asarray(c["Cluster"]).astype(str))
    for ax, name in zip(axes.flat, clusters):
        idx = groups[name]
        rv, erv = rv_all[idx], np.maximum(erv_all[idx], 0.1)
        mean0 = rv.mean()
        sigma0 = np.sqrt(rv.var() + np.mean(erv ** 2))
        lo, hi = mean0 - nsigma * sigma0, mean0 + nsigma * sigma0
        x = np.linspace(min(rv.min() - 3 * erv.max(), lo), max(rv.max() + 3 * erv.max(), hi),
                        400)
        if paper:  # the paper's first-pass band; the likelihood selects by core probability
            ax.axvspan(lo, hi, color="0.9", zorder=0, label=f"±{nsigma:g}σ")
        for r, e, f in zip(rv, erv, flags[idx]):
            ax.plot(x, np.exp(-0.5 * ((x - r) / e) ** 2) / (e * np.sqrt(2 * np.pi)),
                    color=FLAG_COLOURS.get(int(f), "k"), lw=0.7, gid=f"star-flag{int(f)}")
        row = names.index(name)
        ax.axvline(values(c[rv_col], u.km / u.s)[row], color="k", ls="--", lw=0.8)
        ax.set_title(f"{name.replace('_', ' ')} (N={len(idx)})", fontsize=8)
        ax.set_xlabel("RV (km/s)")
        ax.set_ylabel("probability density (s/km)", fontsize=7)
        ax.tick_params(labelsize=7)
    for ax in list(axes.flat)[len(clusters):]:
        ax.set_visible(False)
    from matplotlib.lines import Line2D
    from matplotlib.patches import Patch
    handles = [Line2D([], [], color=col, label=FLAG_LABELS[f]) for f, col in FLAG_COLOURS.items()]
    handles += ([Patch(color="0.9", label=f"±{nsigma:g}σ first pass")] if paper else [])
    handles += [Line2D([], [], color="k", ls="--", label=rv_col)]
    fig.legend(handles=handles, loc="outside lower center", ncol=5, frameon=False)
    return fig


# -- Fig. 3 ------------------------------------------------------------------------
def fig_delta_rv(result, *, bins=None):
    """Fig. 3: histogram of RV(this work) - RV(Gaia), or None without Gaia RVs.

    Star by star when the member table has a Gaia RV column (``RV_Gaia``,
    ``RVGaia`` or ``rv_gaia``); otherwise cluster by cluster against the Gaia
    DR2 cluster RVs of Soubiran et al. (2018) from the literature comparison.
    """
    m = result.members
    gaia_col = next((n for n in ("RV_Gaia", "RVGaia", "rv_gaia") if n in m.colnames), None)
    if gaia_col is not None:
        d = values(m["RV"], u.km / u.s) - values(m[gaia_col], u.km / u.s)
        what, unit_label = "member stars", "stars"
    elif ("Soubiran2018", "RV") in (result.matched or {}):
        t = result.matched[("Soubiran2018", "RV")]
        d = values(t["diff"], u.km / u.s) if isinstance(t["diff"], u.Quantity) \
            else values(t["diff"])
        what, unit_label = "clusters (Gaia DR2, Soubiran et al. 2018)", "clusters"
    else:
        log.info("Fig. 3 skipped: no Gaia radial velocities in the result")
        return None
    d = d[np.isfinite(d)]
    fig = new_figure(figsize=(4.5, 3.5), layout="constrained")
    ax = fig.add_subplot()
    if bins is None:
        nb = max(5, int(np.sqrt(d.size)) + 2)
        lo, hi = (d.min(), d.max()) if d.size else (-1.0, 1.0)
        if hi - lo < 1e-6:  # identical differences: a 2 km/s window around them
            lo, hi = lo - 1.0, hi + 1.0
        bins = np.linspace(lo, hi, nb + 1)
    ax.hist(d, bins=bins, color="tab:blue",
            histtype="stepfilled", alpha=0.6, edgecolor="k", gid="delta-rv")
    med = np.median(d)
    ax.axvline(med, color="k", ls="--", label=f"median {med:+.2f} km/s")
    ax.axvline(0, color="0.5", lw=0.8)
    ax.set_xlabel("ΔRV = RV(this work) − RV(Gaia) (km/s)")
    ax.set_ylabel(f"number of {unit_label}")
    ax.set_title(f"ΔRV for {d.size} {what}", fontsize=9)
    ax.legend(frameon=False)
    return fig


# -- Fig. 4 ------------------------------------------------------------------------
def fig_kiel(result):
    """Fig. 4: Kiel diagram (Teff-log g) and [Fe/H]-Teff with the QC regions.

    Grey zones are excluded from the [Fe/H] determination (FLAG=12): Teff
    below ``qc_teff_min`` or above ``qc_teff_max``, and dwarfs (log g at or above
    ``qc_dwarf_logg``) cooler than ``qc_cool_dwarf_teff``.
    """
    m = result.members
    teff = values(m["Teff"], u.K)
    logg = np.asarray(m["logg"].value if hasattr(m["logg"], "value") else m["logg"], float)
    feh = values(m["[Fe/H]"])
    flags = np.asarray(m["Flag"])
    tmin = _prov_float(result, "qc_teff_min", 4000.0)
    tmax = _prov_float(result, "qc_teff_max", 7500.0)
    tcool = _prov_float(result, "qc_cool_dwarf_teff", 5000.0)
    gdwarf = _prov_float(result, "qc_dwarf_logg", 3.5)
    fig = new_figure(figsize=(9, 3.8), layout="constrained")
    ax1, ax2 = fig.subplots(1, 2)
    tlo, thi = min(np.nanmin(teff), tmin) - 300, max(np.nanmax(teff), tmax) + 300
    for ax in (ax1, ax2):
        ax.axvspan(tlo, tmin, color="0.88", zorder=0)
        ax.axvspan(tmax, thi, color="0.88", zorder=0)
    ax1.fill_between([tmin, tcool], gdwarf, 6, color="0.88", zorder=0,
                     label="excluded from [Fe/H]")
    for flag, colour in FLAG_COLOURS.items():
        sel = (flags == flag) & np.isfinite(teff) & np.isfinite(logg)
        ax1.scatter(teff[sel], logg[sel], s=6, c=colour, label=FLAG_LABELS[flag],
                    gid=f"kiel-flag{flag}")
        sel = (flags == flag) & np.isfinite(teff) & np.isfinite(feh)
        ax2.scatter(teff[sel], feh[sel], s=6, c=colour, gid=f"feh-flag{flag}")
    ax1.set_xlim(thi, tlo)
    ax1.set_ylim(6, 0)
    ax1.set_xlabel("Teff (K)")
    ax1.set_ylabel("log g (log10 of cm/s²)")
    ax1.legend(frameon=False, loc="upper left")
    ax2.set_xlim(thi, tlo)
    ax2.set_xlabel("Teff (K)")
    ax2.set_ylabel("[Fe/H] (dex)")
    ax1.set_title("Kiel diagram", fontsize=9)
    ax2.set_title("[Fe/H] against Teff", fontsize=9)
    fig.suptitle(f"Member stars: {surveys_line(result)}", fontsize=9)
    return fig


# -- Fig. 5 ------------------------------------------------------------------------
def fig_cmd(result, *, clusters=None, n=4):
    """Fig. 5: Gaia CMDs (G against BP-RP) of the richest clusters.

    Top row coloured by RV, bottom row by [Fe/H] (FLAG=12 stars only; the
    others are open symbols).

    Parameters
    ----------
    clusters : list of str, optional
    n : int
        Number of clusters when ``clusters`` is not given.
    """
    c = result.clusters
    if clusters is None:
        order = np.argsort(-np.asarray(c["Nall"]), kind="stable")
        clusters = [str(c["Cluster"][i]) for i in order[:n]]
    groups = _member_groups(result)
    m = result.members
    g, bp, rp = (values(m[k], u.mag) for k in ("Gmag", "BPmag", "RPmag"))
    rv, feh = values(m["RV"], u.km / u.s), values(m["[Fe/H]"])
    flags = np.asarray(m["Flag"])
    fig = new_figure(figsize=(2.8 * len(clusters) + 1, 6), layout="constrained")
    axes = fig.subplots(2, len(clusters), squeeze=False)
    for j, name in enumerate(clusters):
        idx = groups[name]
        colour = bp[idx] - rp[idx]
        for i, (quantity, label, cmap) in enumerate(((rv, "RV (km/s)", "coolwarm"),
                                                     (feh, "[Fe/H] (dex)", "viridis"))):
            ax = axes[i, j]
            v = quantity[idx]
            use = np.isfinite(v) & (flags[idx] == 12 if i == 1 else np.isin(flags[idx], (1, 12)))
            sc = ax.scatter(colour[use], g[idx][use], c=v[use], s=12, cmap=cmap,
                            gid="cmd-coloured")
            ax.scatter(colour[~use], g[idx][~use], s=12, facecolors="none", edgecolors="0.5",
                       lw=0.6, gid="cmd-other")
            ax.invert_yaxis()
            ax.set_xlabel("BP − RP (mag)")
            ax.set_ylabel("G (mag)")
            ax.set_title(name.replace("_", " "), fontsize=9)
            fig.colorbar(sc, ax=ax, label=label, pad=0.01)
    return fig


# -- Figs. 6, 7 --------------------------------------------------------------------
def fig_literature(result, quantity="RV"):
    """Figs. 6 (``"RV"``) and 7 (``"[Fe/H]"``): this work against the literature.

    One panel per literature catalogue: points with error bars, the 1:1 line and
    the median offset and robust scatter of the comparison. None when nothing
    matched.
    """
    # the catalogue's own matches ((catalogue, quantity)); one survey's alone carry a
    # third key element, the sample
    matched = {key[0]: t for key, t in (result.matched or {}).items()
               if len(key) == 2 and key[1] == quantity and len(t)}
    if not matched:
        log.info("Fig. %s skipped: no literature match", "6" if quantity == "RV" else "7")
        return None
    unit = "km/s" if quantity == "RV" else "dex"
    ncols = min(3, len(matched))
    nrows = int(np.ceil(len(matched) / ncols))
    fig = new_figure(figsize=(3.2 * ncols, 3.0 * nrows), layout="constrained")
    axes = fig.subplots(nrows, ncols, squeeze=False)
    comp = result.comparison
    for ax, (cat, t) in zip(axes.flat, matched.items()):
        x, y = values(t["lit"]), values(t["ours"])
        ex, ey = values(t["e_lit"]), values(t["e_ours"])
        ax.errorbar(x, y, xerr=np.where(np.isfinite(ex), ex, 0),
                    yerr=np.where(np.isfinite(ey), ey, 0), fmt="none", ecolor="0.6", lw=0.6)
        ax.scatter(x, y, s=14, c="tab:blue", zorder=3, gid="literature")
        lim = [np.nanmin([x, y]), np.nanmax([x, y])]
        pad = 0.05 * (lim[1] - lim[0] or 1)
        ax.plot([lim[0] - pad, lim[1] + pad], [lim[0] - pad, lim[1] + pad], "k--", lw=0.7)
        text = f"N={len(t)}"
        if comp is not None:
            row = [r for r in comp if r["catalogue"] == cat and r["quantity"] == quantity]
            if row:
                text += f"\nΔ={row[0]['median']:+.2f}, σ={row[0]['robust_std']:.2f} {unit}"
        ax.text(0.04, 0.96, text, transform=ax.transAxes, va="top", fontsize=8)
        ax.set_xlabel(f"{quantity} {cat} ({unit})")
        ax.set_ylabel(f"{quantity} this work ({unit})")
    for ax in list(axes.flat)[len(matched):]:
        ax.set_visible(False)
    return fig


# -- Figs. 13-14 -------------------------------------------------------------------
def fig_clouds(result, *, max_log_age=8.0, clouds=None):
    """Figs. 13-14: young clusters with molecular clouds (Zucker et al. 2020).

    Heliocentric Galactic X-Y and X-Z (pc) of the clusters younger than
    ``max_log_age`` (log10 of the age in years, or a ``dex(yr)`` quantity;
    coloured by ``AgeNN``, sized by their number of spectroscopic members) and of the
    cloud sightlines ``clouds`` (`astro_ocl.sources.literature.read_zucker2020`).
    None without young clusters or without clouds.
    """
    c = result.clusters
    max_log_age = float(schema.log_age(np.atleast_1d(max_log_age), column="max_log_age")
                        .value[0])
    age = schema.log_age(c["AgeNN"]).value
    young = np.isfinite(age) & (age < max_log_age)
    if not young.any():
        log.info("Figs. 13-14 skipped: no cluster younger than 10^%g yr", max_log_age)
        return None
    if clouds is None:
        log.info("Figs. 13-14 skipped: no molecular clouds given "
                 "(astro_ocl.sources.literature.read_zucker2020)")
        return None
    lon, lat = values(c["GLON"], u.deg)[young], values(c["GLAT"], u.deg)[young]
    dist = values(c["Dist"], u.pc)[young]
    lr, br = np.radians(lon), np.radians(lat)
    X, Y, Z = dist * np.cos(br) * np.cos(lr), dist * np.cos(br) * np.sin(lr), dist * np.sin(br)
    fig = new_figure(figsize=(10, 4.4), layout="constrained")
    axes = fig.subplots(1, 2)
    for ax, (cy, yname) in zip(axes, ((Y, "Y"), (Z, "Z"))):
        ax.scatter(values(clouds["X"], u.pc), values(clouds[yname], u.pc), s=8, c="0.6",
                   marker="s", alpha=0.6, label=f"clouds, Zucker+2020 (N={len(clouds)})",
                   gid="clouds")
        sc = ax.scatter(X, cy, c=age[young], s=20 + 2 * np.asarray(c["Nall"])[young],
                        cmap="plasma_r", edgecolors="k", lw=0.5, vmin=6, vmax=max_log_age,
                        label=f"clusters, log(age/yr) < {max_log_age:g} (N={young.sum()})",
                        gid="young-clusters", zorder=3)
        for x, y, name in zip(X, cy, np.asarray(c["Cluster"])[young]):
            ax.annotate(str(name).replace("_", " "), (x, y), fontsize=7,
                        xytext=(3, 3), textcoords="offset points")
        ax.scatter([0], [0], marker="*", c="gold", edgecolors="k", s=120, zorder=4,
                   label="Sun", gid="sun")
        ax.set_xlabel("X (pc, towards the Galactic centre)")
        ax.set_ylabel(f"{yname} (pc)")
        ax.set_aspect("equal", adjustable="datalim")
    axes[0].legend(fontsize=7, frameon=False, loc="lower left")
    fig.colorbar(sc, ax=axes, label="log10(age / yr)")
    return fig


# -- all ---------------------------------------------------------------------------
_FIGURES = (
    ("fig01_sky", fig_sky, {}),
    ("fig02_rv_profiles", fig_rv_profiles, {}),
    ("fig03_delta_rv", fig_delta_rv, {}),
    ("fig04_kiel_feh_teff", fig_kiel, {}),
    ("fig05_cmd_rv_feh", fig_cmd, {}),
    ("fig06_literature_rv", fig_literature, {"quantity": "RV"}),
    ("fig07_literature_feh", fig_literature, {"quantity": "[Fe/H]"}),
)


@writes_figures
def make_figures(result, outdir, *, formats=("png", "pdf"), clouds=None, overwrite=False):
    """Write every catalogue figure the data allows into ``outdir``.

    Parameters
    ----------
    result : `~astro_ocl.result.CatalogueResult`
    outdir : str or `~pathlib.Path`
    formats : tuple of str
        matplotlib file formats.
    clouds : `~astropy.table.QTable`, optional
        Molecular clouds of Figs. 13-14 (skipped without).
    overwrite : bool
        Replace files of the names written in ``outdir`` (only those); otherwise an
        existing one raises `~astro_ocl.exceptions.OutputExistsError` and no file is
        moved in (`~astro_ocl.sinks.figures.common.writes_figures`).

    Returns
    -------
    list of `~pathlib.Path`
    """
    files = save_figures(
        [(stem, (lambda f=func, k=kwargs: f(result, **k))) for stem, func, kwargs in _FIGURES]
        + [("fig13_14_young_clusters_clouds", lambda: fig_clouds(result, clouds=clouds))],
        outdir, formats=formats)
    log.info("wrote %d figure files to %s", len(files), outdir)
    return files
