"""Figures of the orbits and gradients (Fu et al. 2022 Figs. 8-12).

* Fig. 8: [Fe/H] against RGC per age group, with the fitted quadratics;
* Fig. 9: eccentricity against apocentre;
* Fig. 10: [Fe/H] against LZ/10^3 and E/10^5 per age group, with the fits;
* Fig. 11: integrals of motion (E against LZ, coloured by [Fe/H]);
* Fig. 12: ZGC against RGC coloured by v_phi.

:func:`make_figures` draws the orbit figures (9, 11, 12) for the catalogue's
own clusters and, when the gradients were fitted on another sample (the
embedded Zhong et al. 2020 clusters), all five for that sample too; figures the
data cannot support are skipped with a log message.
"""
from pathlib import Path

import astropy.units as u
import numpy as np

from ... import schema
from ...exceptions import MissingColumnError
from ...logger import log
from .common import new_figure, save_figures, values, writes_figures

__all__ = ["make_figures", "gradient_figures", "gradient_figure_files", "GRADIENT_FIGURES",
           "fig_feh_gradient", "fig_ecc_apo", "fig_integrals", "fig_z_rgc"]

#: The figures of `gradient_figures`: file stem -> abscissa of the fit drawn.
GRADIENT_FIGURES = {"fig08_feh_rgc": "RGC", "fig10_feh_lz": "LZ/1e3",
                    "fig10_feh_energy": "E/1e5"}

KMS = u.km / u.s
MIN_POINTS = 3

#: The abscissae of a gradient fit as drawn: label -> (column, unit, scale, axis label).
_GRADIENT_AXES = {"RGC": ("RGC", u.kpc, 1.0, r"$R_{GC}$ (kpc)"),
                  "LZ/1e3": ("LZ", u.kpc * KMS, 1e3, r"$L_Z$ ($10^3$ kpc km s$^{-1}$)"),
                  "E/1e5": ("Energy", u.km ** 2 / u.s ** 2, 1e5, r"$E$ ($10^5$ km$^2$ s$^{-2}$)")}


def _has(table, *cols):
    return table is not None and all(c in table.colnames for c in cols)


def _finite(*arrays):
    ok = np.ones(len(arrays[0]), bool)
    for a in arrays:
        ok &= np.isfinite(a)
    return ok


def _cluster_feh(clusters):
    """The clusters' [Fe/H] of either statistics method, or None."""
    try:
        return values(clusters[schema.value_columns(clusters, "[Fe/H]")[0]])
    except MissingColumnError:
        return None


def fig_ecc_apo(clusters, *, title=""):
    """Fig. 9: eccentricity against apocentre, coloured by [Fe/H] when known."""
    if not _has(clusters, "Apo", "ecc"):
        log.info("Fig. 9 skipped%s: no orbits (Apo, ecc)", f" ({title})" if title else "")
        return None
    apo, ecc = values(clusters["Apo"], u.kpc), values(clusters["ecc"])
    ok = _finite(apo, ecc)
    if ok.sum() < MIN_POINTS:
        log.info("Fig. 9 skipped%s: %d clusters with an orbit", f" ({title})" if title else "",
                 int(ok.sum()))
        return None
    fig = new_figure(figsize=(4.5, 3.6))
    ax = fig.add_subplot()
    feh = _cluster_feh(clusters)
    if feh is not None and np.isfinite(feh[ok]).sum() >= MIN_POINTS:
        sc = ax.scatter(apo[ok], ecc[ok], c=feh[ok], s=12, cmap="coolwarm", vmin=-0.5,
                        vmax=0.3)
        fig.colorbar(sc, ax=ax, label="[Fe/H] (dex)")
    else:
        ax.scatter(apo[ok], ecc[ok], s=12, color="k")
    if "e_ecc" in clusters.colnames and "e_Apo" in clusters.colnames:
        ax.errorbar(apo[ok], ecc[ok], xerr=values(clusters["e_Apo"], u.kpc)[ok],
                    yerr=values(clusters["e_ecc"])[ok], fmt="none", ecolor="0.6", lw=0.6,
                    zorder=0)
    ax.set_xlabel("Apocentre (kpc)")
    ax.set_ylabel("Eccentricity")
    ax.set_title(f"Fig. 9 {title}".strip())
    return fig


def fig_integrals(clusters, *, title=""):
    """Fig. 11: orbital energy against LZ, coloured by [Fe/H]."""
    if not _has(clusters, "LZ", "Energy"):
        log.info("Fig. 11 skipped%s: no integrals of motion", f" ({title})" if title else "")
        return None
    lz = values(clusters["LZ"], u.kpc * KMS)
    en = values(clusters["Energy"], KMS ** 2)
    ok = _finite(lz, en)
    if ok.sum() < MIN_POINTS:
        log.info("Fig. 11 skipped%s: %d clusters", f" ({title})" if title else "", int(ok.sum()))
        return None
    fig = new_figure(figsize=(4.5, 3.6))
    ax = fig.add_subplot()
    feh = _cluster_feh(clusters)
    if feh is not None and np.isfinite(feh[ok]).sum() >= MIN_POINTS:
        sc = ax.scatter(lz[ok] / 1e3, en[ok] / 1e5, c=feh[ok], s=12, cmap="coolwarm",
                        vmin=-0.5, vmax=0.3)
        fig.colorbar(sc, ax=ax, label="[Fe/H] (dex)")
    else:
        ax.scatter(lz[ok] / 1e3, en[ok] / 1e5, s=12, color="k")
    ax.set_xlabel(r"$L_Z$ ($10^3$ kpc km s$^{-1}$)")
    ax.set_ylabel(r"$E$ ($10^5$ km$^2$ s$^{-2}$)")
    ax.set_title(f"Fig. 11 {title}".strip())
    return fig


def fig_z_rgc(clusters, *, title=""):
    """Fig. 12: height ZGC against RGC, coloured by v_phi."""
    if not _has(clusters, "RGC", "ZGC", "vphi"):
        log.info("Fig. 12 skipped%s: no Galactocentric positions and velocities",
                 f" ({title})" if title else "")
        return None
    rr, zz = values(clusters["RGC"], u.kpc), values(clusters["ZGC"], u.kpc)
    vphi = values(clusters["vphi"], KMS)
    ok = _finite(rr, zz, vphi)
    if ok.sum() < MIN_POINTS:
        log.info("Fig. 12 skipped%s: %d clusters", f" ({title})" if title else "", int(ok.sum()))
        return None
    fig = new_figure(figsize=(5.0, 3.4))
    ax = fig.add_subplot()
    sc = ax.scatter(rr[ok], zz[ok], c=vphi[ok], s=12, cmap="viridis", vmin=150, vmax=280)
    fig.colorbar(sc, ax=ax, label=r"$v_\phi$ (km s$^{-1}$)")
    ax.set_xlabel(r"$R_{GC}$ (kpc)")
    ax.set_ylabel(r"$Z_{GC}$ (kpc)")
    ax.set_title(f"Fig. 12 {title}".strip())
    return fig


def fig_feh_gradient(gradients, *, x="RGC", title=""):
    """Figs. 8 and 10: [Fe/H] against ``x`` per age group, with the median fits.

    Parameters
    ----------
    gradients : `~astro_ocl.steps.gradients.GradientResult`
    x : {"RGC", "LZ/1e3", "E/1e5"}
    """
    spec = {lab: axis[:3] for lab, axis in _GRADIENT_AXES.items()}
    if gradients is None or x not in spec:
        log.info("Fig. %s skipped: no gradient fits", "8" if x == "RGC" else "10")
        return None
    col, unit, scale = spec[x]
    cl = gradients.clusters
    if len(cl) < MIN_POINTS:
        log.info("Fig. %s skipped: %d clusters", "8" if x == "RGC" else "10", len(cl))
        return None
    xv = values(cl[col], unit) / scale
    feh = values(cl["[Fe/H]"])
    efeh = values(cl["e_[Fe/H]"])
    table = gradients.table
    # the age groups of the fit, in its order (the last row group "all" is not a panel)
    groups = [g for g in dict.fromkeys(np.asarray(table["age_group"]).astype(str)) if g != "all"]
    fig = new_figure(figsize=(9.0, 5.4))
    axes = fig.subplots(2, 3, sharex=True, sharey=True).ravel()
    for ax, label in zip(axes, groups):
        sel = np.asarray(cl["age_group"]) == label
        ax.errorbar(xv[sel], feh[sel], yerr=efeh[sel], fmt="o", ms=3, color="k",
                    ecolor="0.6", lw=0.6)
        row = table[(table["age_group"] == label) & (table["x"] == x)]
        if len(row) and row["fitted"][0]:
            r = row[0]
            grid = np.linspace(np.nanmin(xv[sel]), np.nanmax(xv[sel]), 200)
            coef = [r["a_50"], r["b_50"], r["c_50"]]
            ax.plot(grid, np.polyval(coef, grid), color="tab:red", lw=1.2)
            ax.text(0.03, 0.05, f"a={r['a_50']:+.3g} b={r['b_50']:+.3g} c={r['c_50']:+.3g}",
                    transform=ax.transAxes, fontsize=6)
        else:
            ax.text(0.03, 0.05, "not fitted", transform=ax.transAxes, fontsize=7)
        ax.set_title(f"{label} (N={int(sel.sum())})", fontsize=8)
    xlabels = {lab: axis[3] for lab, axis in _GRADIENT_AXES.items()}
    for ax in axes[3:]:
        ax.set_xlabel(xlabels[x])
    for ax in axes[::3]:
        ax.set_ylabel("[Fe/H] (dex)")
    fig.suptitle(f"Fig. {'8' if x == 'RGC' else '10'}: {gradients.source} {title}".strip(),
                 fontsize=9)
    return fig


def gradient_figure_files(*, formats=("png", "pdf"), suffix=""):
    """The files `gradient_figures` writes (names in its folder).

    Parameters
    ----------
    formats : tuple of str
    suffix : str
        Added to each file stem.

    Returns
    -------
    list of str
    """
    return [f"{stem}{suffix}.{fmt}" for stem in GRADIENT_FIGURES for fmt in formats]


@writes_figures
def gradient_figures(gradients, outdir, *, formats=("png", "pdf"), suffix="", overwrite=False):
    """Figs. 8 and 10 of a `~astro_ocl.steps.gradients.GradientResult` into ``outdir``.

    Parameters
    ----------
    gradients : `~astro_ocl.steps.gradients.GradientResult`
    outdir : str or `~pathlib.Path`
    formats : tuple of str
    suffix : str
        Added to each file stem (`GRADIENT_FIGURES`).
    overwrite : bool
        Replace files of the names written in ``outdir`` (only those); otherwise an
        existing one raises `~astro_ocl.exceptions.OutputExistsError` and no file is
        moved in (`~astro_ocl.sinks.figures.common.writes_figures`).

    Returns
    -------
    list of `~pathlib.Path`
    """
    return save_figures([(stem + suffix, (lambda x=x: fig_feh_gradient(gradients, x=x)))
                         for stem, x in GRADIENT_FIGURES.items()], outdir, formats=formats)


def _orbit_figures(clusters, outdir, *, formats, suffix, title):
    return save_figures([(stem + suffix, (lambda f=func: f(clusters, title=title)))
                         for stem, func in (("fig09_ecc_apo", fig_ecc_apo),
                                            ("fig11_integrals", fig_integrals),
                                            ("fig12_z_rgc_vphi", fig_z_rgc))],
                        outdir, formats=formats)


@writes_figures
def make_figures(result, outdir, *, formats=("png", "pdf"), overwrite=False):
    """Write the orbit and gradient figures a result allows into ``outdir``.

    The orbit figures of the sample the gradients were fitted on, when it is not
    this catalogue, are drawn from ``result.gradient_sample`` (the build gives
    that sample its orbit columns; nothing is integrated here).

    Parameters
    ----------
    result : `~astro_ocl.result.CatalogueResult`
    outdir : str or `~pathlib.Path`
    formats : tuple of str
    overwrite : bool
        Replace files of the names written in ``outdir`` (only those); otherwise an
        existing one raises `~astro_ocl.exceptions.OutputExistsError` and no file is
        moved in (`~astro_ocl.sinks.figures.common.writes_figures`).

    Returns
    -------
    list of `~pathlib.Path`
    """
    outdir = Path(outdir)
    files = _orbit_figures(result.clusters, outdir, formats=formats, suffix="",
                           title="(this catalogue)")
    grad = getattr(result, "gradients", None)
    if grad is None:
        log.info("Figs. 8 and 10 skipped: no gradients in the result "
                 "(build_catalogue(gradients=True) or astro-ocl build)")
        return files
    own = grad.source == "this catalogue"
    suffix = "" if own else "_zhong2020"
    files += gradient_figures(grad, outdir, formats=formats, suffix=suffix)
    sample = getattr(result, "gradient_sample", None)
    if not own and sample is not None:
        files += _orbit_figures(sample, outdir, formats=formats, suffix=suffix,
                                title="(Zhong et al. 2020)")
    log.info("wrote %d orbit/gradient figure files to %s", len(files), outdir)
    return files
