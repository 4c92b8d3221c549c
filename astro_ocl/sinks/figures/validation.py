"""Figures of the validation against independent data (they only draw the tables given).

:func:`validation_figure` draws the offsets of our cluster values from one
reference (e.g. the RVs against Gaia DR3 cluster RVs, Hunt & Reffert 2023), one
panel per survey mix, from the ``pairs`` and ``table`` of
`astro_ocl.steps.validation.ValidationResult`; :func:`save_validation_figures`
writes one figure per reference and quantity.
"""
import numpy as np

from .common import new_figure, save_figures, values, writes_figures

__all__ = ["validation_figure", "save_validation_figures"]

_COLOURS = ("#1f77b4", "#2ca02c", "#9467bd", "#ff7f0e", "#8c564b", "#17becf")


def _unit(text):
    return str(text).replace(" / ", "/")


def validation_figure(pairs, *, table=None, reference="Hunt2023", quantity="RV"):
    """Offsets (ours minus reference) against the reference value, one panel per survey mix.

    Only the pairs the statistics use are drawn (independent of our surveys, not
    in a fit of the reference scale); outliers in red with their cluster's name.

    Parameters
    ----------
    pairs : `~astropy.table.QTable`
        ``ValidationResult.pairs``.
    table : `~astropy.table.QTable`, optional
        ``ValidationResult.table``: its median offset and robust scatter are drawn
        (a line and a band) and written in each panel's title.
    reference : str
    quantity : {"RV", "[Fe/H]"}

    Returns
    -------
    `matplotlib.figure.Figure` or None
        None when no pair is left to draw.
    """
    sel = (np.asarray(pairs["reference"]).astype(str) == reference) \
        & (np.asarray(pairs["quantity"]).astype(str) == quantity) \
        & np.asarray(pairs["independent"], bool) & ~np.asarray(pairs["in_fit"], bool)
    p = pairs[sel]
    if len(p) == 0:
        return None
    mixes = sorted(set(np.asarray(p["mix"]).astype(str)))
    unit = _unit(p["unit"][0])
    fig = new_figure(figsize=(3.3 * len(mixes), 3.2))
    axes = fig.subplots(1, len(mixes), sharey=True, squeeze=False)[0]
    for k, (ax, mix) in enumerate(zip(axes, mixes)):
        q = p[np.asarray(p["mix"]).astype(str) == mix]
        x, y, e = values(q["ref"]), values(q["diff"]), values(q["sigma"])
        out = np.asarray(q["outlier"], bool)
        colour = _COLOURS[k % len(_COLOURS)]
        ax.errorbar(x[~out], y[~out], yerr=e[~out], fmt="o", ms=3, lw=0.8, color=colour,
                    label="clusters")
        if out.any():
            ax.errorbar(x[out], y[out], yerr=e[out], fmt="s", ms=4, lw=0.8, color="#d62728",
                        label="outliers")
            for xi, yi, name in zip(x[out], y[out], q["Cluster"][out]):
                ax.annotate(str(name).replace("_", " "), (xi, yi), fontsize=6,
                            xytext=(3, 3), textcoords="offset points")
        ax.axhline(0.0, color="0.6", lw=0.6, ls=":")
        title = f"{mix} (N={len(q)})"
        if table is not None:
            row = table[(np.asarray(table["reference"]).astype(str) == reference)
                        & (np.asarray(table["quantity"]).astype(str) == quantity)
                        & (np.asarray(table["mix"]).astype(str) == mix)]
            if len(row) and np.isfinite(row["median"][0]):
                med, scatter = float(row["median"][0]), float(row["robust_std"][0])
                ax.axhline(med, color=colour, lw=1.0)
                if np.isfinite(scatter):
                    ax.axhspan(med - scatter, med + scatter, color=colour, alpha=0.12, lw=0)
                title += f"\nmedian {med:+.2f}, scatter {scatter:.2f} {unit}"
        ax.set_title(title, fontsize=8)
        ax.set_xlabel(f"{quantity} of {reference} [{unit}]")
        if k == 0 or out.any():
            ax.legend(loc="best", fontsize=7)
    axes[0].set_ylabel(f"{quantity}: this catalogue - {reference} [{unit}]")
    return fig


@writes_figures
def save_validation_figures(result, outdir, *, formats=("png", "pdf"), overwrite=False):
    """Write one validation figure per reference and quantity.

    Parameters
    ----------
    result : `~astro_ocl.steps.validation.ValidationResult`
        Anything with ``pairs`` and ``table``.
    outdir : str or `~pathlib.Path`
    formats : tuple of str
    overwrite : bool
        Replace files of the names written in ``outdir`` (only those); otherwise an
        existing one raises `~astro_ocl.exceptions.OutputExistsError` and no file is
        moved in (`~astro_ocl.sinks.figures.common.writes_figures`).

    Returns
    -------
    list of `~pathlib.Path`
        ``validation_<quantity>_<reference>.<format>`` (e.g. ``validation_rv_hunt2023.png``).
    """
    pairs = result.pairs
    keys = dict.fromkeys(zip(np.asarray(pairs["reference"]).astype(str),
                             np.asarray(pairs["quantity"]).astype(str)))
    drawings = []
    for ref, quantity in keys:
        stem = f"validation_{'rv' if quantity == 'RV' else 'feh'}_{ref.lower()}"
        drawings.append((stem, lambda r=ref, q=quantity: validation_figure(
            pairs, table=result.table, reference=r, quantity=q)))
    return save_figures(drawings, outdir, formats=formats)
