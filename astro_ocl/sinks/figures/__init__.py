"""Figures of the catalogue (Fu et al. 2022 Figs. 1-14 where the data allows).

:func:`make_figures` writes every figure the result's data allows; the figure
functions themselves live in :mod:`astro_ocl.sinks.figures.catalogue` (stars, RVs,
literature, clouds), :mod:`astro_ocl.sinks.figures.dynamics` (orbits, gradients) and
:mod:`astro_ocl.sinks.figures.validation` (offsets from independent references).
"""

from .common import writes_figures

__all__ = ["make_figures", "FIGURE_FILES"]

#: The files `make_figures` may write into its folder (glob patterns): ``figNN_*``
#: (Figs. 1-14) and ``validation_*``.
FIGURE_FILES = ("fig[0-9][0-9]_*", "validation_*")


@writes_figures
def make_figures(result, outdir, *, formats=("png", "pdf"), clouds=None, overwrite=False):
    """Write all figures of a `~astro_ocl.result.CatalogueResult` into ``outdir``.

    Figures only draw the data they are given: they read no file and compute no
    orbit. The figures are moved into ``outdir`` together when all are drawn;
    nothing else there is touched.

    Parameters
    ----------
    result : `~astro_ocl.result.CatalogueResult`
    outdir : str or `~pathlib.Path`
    formats : tuple of str
        File formats (matplotlib names).
    clouds : `~astropy.table.QTable`, optional
        Molecular clouds for Figs. 13-14
        (`astro_ocl.sources.literature.read_zucker2020`).
    overwrite : bool
        Replace files of the names written in ``outdir`` (only those); otherwise an
        existing one raises `~astro_ocl.exceptions.OutputExistsError` and no file is
        moved in (`~astro_ocl.sinks.figures.common.writes_figures`).

    Returns
    -------
    list of `~pathlib.Path`
    """
    from . import catalogue, dynamics, validation
    files = catalogue.make_figures(result, outdir, formats=formats, clouds=clouds)
    files += dynamics.make_figures(result, outdir, formats=formats)
    if getattr(result, "validation", None) is not None:  # offsets from independent data
        files += validation.save_validation_figures(result.validation, outdir, formats=formats)
    return files
