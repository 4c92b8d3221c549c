"""What every figure shares: the publication style, values of columns, saving.

Every function that writes figures into a folder (``outdir``) is a
`writes_figures` function: it never replaces a file there unless asked
(``overwrite=True``), and then only the files of the names it writes.
"""
import functools
import inspect
from pathlib import Path

import astropy.units as u
import numpy as np

from ...outputs import atomic_path, output_folder
from ...utils import require

__all__ = ["STYLE", "new_figure", "values", "save_figure", "save_figures", "writes_figures"]

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


def writes_figures(function):
    """Give a function that writes figures into ``outdir`` the package's output rule.

    ``function`` takes the arguments ``outdir`` and ``overwrite`` (keyword-only)
    and returns the files it wrote. It runs inside one
    `astro_ocl.outputs.output_folder` block of ``outdir``: its files are staged
    and moved in together when it succeeds, a file of the same name already in
    ``outdir`` is replaced only with ``overwrite=True`` (otherwise
    `~astro_ocl.exceptions.OutputExistsError` names it and no file is moved),
    nothing else in ``outdir`` is touched, and the folder's manifest lists the
    figures. Inside another such block (the staged folder of a writer such as
    ``astro-ocl build --figures``) it writes straight into that block's folder.

    Parameters
    ----------
    function : callable

    Returns
    -------
    callable
        ``function`` with that behaviour (same signature); the files it returns
        are at their final place.
    """
    signature = inspect.signature(function)
    writer = f"{function.__module__}.{function.__qualname__}"

    @functools.wraps(function)
    def write(*args, **kwargs):
        bound = signature.bind(*args, **kwargs)
        bound.apply_defaults()
        outdir = Path(bound.arguments["outdir"])
        with output_folder(outdir, overwrite=bound.arguments["overwrite"],
                           writer=writer) as tmp:
            bound.arguments["outdir"] = tmp
            files = function(*bound.args, **bound.kwargs)
        return [outdir / Path(f).relative_to(tmp) for f in files]

    return write


@writes_figures
def save_figure(fig, outdir, stem, *, formats=("png", "pdf"), overwrite=False):
    """Save ``fig`` as ``outdir/stem.<format>`` for each format.

    Parameters
    ----------
    fig : `matplotlib.figure.Figure`
    outdir : str or `~pathlib.Path`
    stem : str
        File name without the extension.
    formats : tuple of str
        matplotlib file formats.
    overwrite : bool
        Replace files of these names in ``outdir`` (only those); otherwise an
        existing one raises `~astro_ocl.exceptions.OutputExistsError` and no
        file is written (see `writes_figures`).

    Returns
    -------
    list of `~pathlib.Path`
    """
    import matplotlib
    files = []
    outdir = Path(outdir)
    outdir.mkdir(parents=True, exist_ok=True)
    with matplotlib.rc_context(STYLE):
        for fmt in formats:
            path = outdir / f"{stem}.{fmt}"
            with atomic_path(path, overwrite=True) as tmp:  # in the staged folder
                fig.savefig(tmp, format=fmt)
            files.append(path)
    return files


@writes_figures
def save_figures(drawings, outdir, *, formats=("png", "pdf"), overwrite=False):
    """Draw and save figures; a drawing that returns None (data do not allow it) is skipped.

    Parameters
    ----------
    drawings : iterable of (str, callable)
        File stem and a function of no argument returning a figure or None.
    outdir : str or `~pathlib.Path`
    formats : tuple of str
    overwrite : bool
        Replace files of the names written in ``outdir`` (only those); otherwise
        an existing one raises `~astro_ocl.exceptions.OutputExistsError` and no
        file is moved in (see `writes_figures`).

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
