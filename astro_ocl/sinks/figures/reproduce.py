"""Figures of the reproducibility report: published against ours, one per column."""
import numpy as np

from .common import new_figure, save_figure, values

__all__ = ["plot_published_vs_ours"]


def _safe_stem(column):
    return column.replace("[", "").replace("]", "").replace("/", "")


def plot_published_vs_ours(clusters, columns, outdir, *, formats=("png",)):
    """One figure per column: published (x) against ours and the paper convention (y).

    Parameters
    ----------
    clusters : `~astropy.table.QTable`
        ``clusters.ecsv`` of `~astro_ocl.reproduce.ReproductionResult`: ``X_pub``,
        ``X_ours``, ``X_fu2022`` per column ``X``.
    columns : list of str
        The columns to draw (those without any finite pair are skipped).
    outdir : str or `~pathlib.Path`
    formats : tuple of str

    Returns
    -------
    list of `~pathlib.Path`
    """
    files = []
    for col in columns:
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
