"""What every figure shares: the publication style, values of columns, saving."""
from pathlib import Path

import astropy.units as u
import numpy as np

from ...outputs import atomic_path
from ...utils import require

__all__ = ["STYLE", "new_figure", "values", "save_figure", "save_figures"]

#: matplotlib rc settings of the figures (publication style).
STYLE = {
    "font.size": 10, "axes.labelsize": 10, "axes.titlesize": 10, "legend.fontsize": 8,
    "xtick.direction": "in", "ytick.direction": "in", "xtick.top": True, "ytick.right": True,
    "savefig.dpi": 150, "savefig.bbox": "tight", "figure.dpi": 100,
}


def new_figure(**kwargs):
    """A `matplotlib.figure.Figure` built without pyplot (no global state, no display).

    Raises `~astro_ocl.exceptions.OptionalDependencyError` naming the ``plots`` extra
    when matplotlib is not installed.
    """
    figure = require("matplotlib.figure", feature="figures")
    return figure.Figure(**kwargs)


def values(col, unit=None):
    """Plain float array of a (Quantity/masked) column, NaN where masked."""
    if hasattr(col, "unit") and isinstance(col, u.Quantity):
        arr = col.to_value(unit) if unit is not None else col.value
    else:
        arr = np.ma.filled(np.ma.asarray(col, dtype=float), np.nan)
    return np.asarray(arr, dtype=float)


def save_figure(fig, outdir, stem, *, formats=("png", "pdf")):
    """Save ``fig`` as ``outdir/stem.<format>`` for each format (atomically)."""
    import matplotlib
    files = []
    outdir = Path(outdir)
    outdir.mkdir(parents=True, exist_ok=True)
    with matplotlib.rc_context(STYLE):
        for fmt in formats:
            path = outdir / f"{stem}.{fmt}"
            with atomic_path(path, overwrite=True) as tmp:
                fig.savefig(tmp, format=fmt)
            files.append(path)
    return files


def save_figures(drawings, outdir, *, formats=("png", "pdf")):
    """Draw and save figures; a drawing that returns None (data do not allow it) is skipped.

    Parameters
    ----------
    drawings : iterable of (str, callable)
        File stem and a function of no argument returning a figure or None.
    outdir : str or `~pathlib.Path`
    formats : tuple of str

    Returns
    -------
    list of `~pathlib.Path`
    """
    import matplotlib
    files = []
    for stem, draw in drawings:
        with matplotlib.rc_context(STYLE):
            fig = draw()
        if fig is not None:
            files += save_figure(fig, outdir, stem, formats=formats)
    return files
