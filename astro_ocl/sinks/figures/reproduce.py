"""Figures of the reproducibility report: published against ours, Table 6 z, energy residuals."""
import numpy as np

from .common import new_figure, save_figure, values, writes_figures

__all__ = ["plot_published_vs_ours", "plot_table6_z", "plot_energy_residuals"]


def _safe_stem(column):
    return column.replace("[", "").replace("]", "").replace("/", "")


@writes_figures
def plot_published_vs_ours(clusters, columns, outdir, *, formats=("png",), overwrite=False):
    """One figure per column: published (x) against ours and the paper convention (y).

    Parameters
    ----------
    clusters : `~astropy.table.QTable`
        ``clusters.ecsv`` of `~astro_ocl.reproduce.ReproductionResult`: ``X_pub``,
        ``X_ours``, ``X_fu2022`` per column ``X``.
    columns : list of str
        The columns to draw (those without such columns or any finite pair are skipped).
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
    files = []
    for col in columns:
        if f"{col}_pub" not in clusters.colnames:
            continue
        pub = values(clusters[f"{col}_pub"])
        ours = values(clusters[f"{col}_ours"])
        fu = values(clusters[f"{col}_fu2022"])
        ok = np.isfinite(pub) & (np.isfinite(ours) | np.isfinite(fu))
        if not ok.any():
            continue
        fig = new_figure(figsize=(8.0, 3.2), layout="constrained")
        ax1, ax2 = fig.subplots(1, 2)
        unit = getattr(clusters[f"{col}_pub"], "unit", None)
        label = f"{col}" + (f" [{unit}]" if unit is not None else "")
        ax1.plot(pub[ok], ours[ok], "o", ms=3, alpha=0.6, label="ours (default)")
        ax1.plot(pub[ok], fu[ok], ".", ms=3, color="C3", alpha=0.8, label="fu2022 convention")
        lo, hi = np.nanmin(pub[ok]), np.nanmax(pub[ok])
        ax1.plot([lo, hi], [lo, hi], "k-", lw=0.6)
        ax1.set_xlabel(f"published {label}")
        ax1.set_ylabel(f"this package {label}")
        ax1.legend(loc="best")
        ax2.plot(pub[ok], ours[ok] - pub[ok], "o", ms=3, alpha=0.6)
        ax2.plot(pub[ok], fu[ok] - pub[ok], ".", ms=3, color="C3", alpha=0.8)
        ax2.axhline(0, color="k", lw=0.6)
        ax2.set_xlabel(f"published {label}")
        ax2.set_ylabel("this package - published")
        files += save_figure(fig, outdir, _safe_stem(col), formats=formats)
    return files


@writes_figures
def plot_table6_z(table6, outdir, *, formats=("png",), overwrite=False):
    """z = (ours - paper) / paper's error of every Table 6 coefficient, per uncertainty choice.

    Parameters
    ----------
    table6 : `~astropy.table.QTable`
        ``table6.ecsv`` of the report (``z_<choice>`` columns, ``meta['summary']``).
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
    labels = [c[2:] for c in table6.colnames if c.startswith("z_")]
    if not labels:
        return []
    summary = table6.meta.get("summary", {})
    tol = float(table6.meta.get("tolerance_abs_z", 0.5))
    fig = new_figure(figsize=(9.0, 3.6), layout="constrained")
    ax = fig.subplots()
    k = np.arange(len(table6))
    for j, label in enumerate(labels):
        unc = summary.get(label, {}).get("uncertainty", label)
        ax.plot(k + 0.2 * (j - 1), np.asarray(table6[f"z_{label}"], float), "o",
                ms=3.5, color=f"C{j}", label=f"sigma = {unc} ({label})")
    for y, style in ((tol, ":"), (1.0, "--")):
        ax.axhline(y, color="k", lw=0.6, ls=style)
        ax.axhline(-y, color="k", lw=0.6, ls=style)
    ax.axhline(0, color="k", lw=0.6)
    ticks = [f"{g} {x} {c}" for g, x, c in zip(table6["age_group"], table6["x"],
                                               table6["coefficient"])]
    ax.set_xticks(k[::3])
    ax.set_xticklabels(ticks[::3], rotation=90, fontsize=6)
    ax.set_ylabel("z = (ours - paper) / paper's error")
    ax.set_title(f"Table 6: dotted |z| = {tol:g}, dashed |z| = 1")
    ax.legend(loc="best", fontsize=7)
    return save_figure(fig, outdir, "table6_z", formats=formats)


@writes_figures
def plot_energy_residuals(clusters, outdir, *, formats=("png",), overwrite=False):
    """Computed minus published energy against RGC: paper convention (galpy) and GalPot.

    Parameters
    ----------
    clusters : `~astropy.table.QTable`
        ``clusters.ecsv`` of the report (``Energy_pub``, ``Energy_fu2022``,
        ``Energy_galpot``, ``RGC_pub``).
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
    need = ("Energy_pub", "Energy_fu2022", "Energy_galpot", "RGC_pub")
    if not all(c in clusters.colnames for c in need):
        return []
    pub, r = values(clusters["Energy_pub"]), values(clusters["RGC_pub"])
    fig = new_figure(figsize=(6.5, 3.6), layout="constrained")
    ax = fig.subplots()
    for col, style, label in (("Energy_fu2022", "o", "galpy McMillan17 rescaled (fu2022)"),
                              ("Energy_galpot", ".", "GalPot McMillan17 (PJM17_best)")):
        d = values(clusters[col]) - pub
        ok = np.isfinite(d) & np.isfinite(r)
        ax.plot(r[ok], d[ok], style, ms=3, alpha=0.7, label=label)
    ax.axhline(0, color="k", lw=0.6)
    ax.set_xlabel("published RGC [kpc]")
    ax.set_ylabel("computed - published Energy [km2/s2]")
    ax.legend(loc="best", fontsize=8)
    return save_figure(fig, outdir, "energy_residuals", formats=formats)
