"""Write a `~astro_ocl.result.CatalogueResult` into a directory, atomically."""
from pathlib import Path

from ..outputs import output_folder
from .figures import FIGURE_FILES
from .labels import catalogue_descriptions
from .tables import write_ecsv
from .votable_cds import write_votable_cds

__all__ = ["write_catalogue", "catalogue_files", "CATALOGUE_FILES"]


def catalogue_files(*, figures=False):
    """The files `write_catalogue` may write into its folder (glob patterns).

    Checked before a build (`astro_ocl.outputs.check_output_folder`): without
    ``overwrite`` none may exist, and in any case none may be a folder (nor
    ``figures`` a file, with figures).

    Parameters
    ----------
    figures : bool
        With the figures (``figures/``).

    Returns
    -------
    tuple of str
    """
    names = ("clusters.ecsv", "clusters.vot", "members.ecsv", "members.vot",
             "literature_comparison.ecsv", "zero_points.ecsv", "clusters_*.ecsv",
             "stage_log.ecsv", "gradients.ecsv", "orbit_history.ecsv", "validation.ecsv",
             "validation_pairs.ecsv")
    return names + tuple(f"figures/{name}" for name in FIGURE_FILES) if figures else names


#: Every file `write_catalogue` may write, figures included (`catalogue_files`).
CATALOGUE_FILES = catalogue_files(figures=True)


def write_catalogue(result, outdir, *, overwrite=False, formats=("ecsv", "votable"),
                    figures=False, clouds=None):
    """Write the catalogue into ``outdir``.

    ``clusters`` and ``members`` (in ``formats``), ``literature_comparison.ecsv``,
    ``stage_log.ecsv``, and when the result has them ``gradients.ecsv`` (paper
    Table 6), ``orbit_history.ecsv`` (positions 0-500 Myr ago),
    ``zero_points.ecsv`` and ``clusters_<survey>.ecsv`` (several surveys: the
    zero points and each survey's own cluster values); with
    ``figures=True`` the paper's figures in ``figures/``. The files are written
    atomically as a set (`astro_ocl.outputs.output_folder`): a failure leaves
    every earlier file as it was, never a half-written one. Only the files of
    this run are written or replaced; anything else in ``outdir`` stays, and
    ``astro_ocl_manifest.json`` lists what the package wrote there.

    Parameters
    ----------
    result : `~astro_ocl.result.CatalogueResult`
    outdir : str or `~pathlib.Path`
        Output directory.
    overwrite : bool
        Replace the files of the same names in ``outdir`` (nothing else there);
        otherwise an existing one raises `~astro_ocl.exceptions.OutputExistsError`.
    formats : tuple of str
        Any of ``"ecsv"``, ``"votable"``.
    figures : bool
        Also draw the figures (`astro_ocl.sinks.figures.make_figures`, PNG and PDF).
    clouds : `~astropy.table.QTable`, optional
        Molecular clouds for Figs. 13-14 (`astro_ocl.sources.literature.read_zucker2020`).

    Returns
    -------
    list of `~pathlib.Path`
        The files written (at their final place).
    """
    names = []
    tables = {"clusters": result.clusters, "members": result.members}
    # the VOTable DESCRIPTIONs name the surveys and their numbers of member stars
    descriptions = catalogue_descriptions(tables, result.provenance)
    with output_folder(outdir, overwrite=overwrite, writer="astro_ocl build") as tmp:
        for label, table in tables.items():
            if "ecsv" in formats:
                write_ecsv(table, tmp / f"{label}.ecsv")  # full precision, display formats
                names.append(f"{label}.ecsv")
            if "votable" in formats:
                write_votable_cds(table, tmp / f"{label}.vot", provenance=result.provenance,
                                  overwrite=True, strict=False,
                                  table_description=descriptions.get(label))
                names.append(f"{label}.vot")
        if result.comparison is not None:
            result.comparison.write(tmp / "literature_comparison.ecsv", format="ascii.ecsv")
            names.append("literature_comparison.ecsv")
        if result.zero_points is not None:
            result.zero_points.write(tmp / "zero_points.ecsv", format="ascii.ecsv")
            names.append("zero_points.ecsv")
        for survey, table in result.by_survey.items():
            name = f"clusters_{survey}.ecsv"
            write_ecsv(table, tmp / name)
            names.append(name)
        result.stage_log.as_table().write(tmp / "stage_log.ecsv", format="ascii.ecsv")
        names.append("stage_log.ecsv")
        if result.gradients is not None:
            result.gradients.table.write(tmp / "gradients.ecsv", format="ascii.ecsv")
            names.append("gradients.ecsv")
        if result.orbit_history is not None:
            result.orbit_history.write(tmp / "orbit_history.ecsv", format="ascii.ecsv")
            names.append("orbit_history.ecsv")
        validation = getattr(result, "validation", None)
        if validation is not None:  # against independent references: the offsets per
            # survey mix, and every cluster compared (with the outliers and their reason)
            validation.table.write(tmp / "validation.ecsv", format="ascii.ecsv")
            validation.pairs.write(tmp / "validation_pairs.ecsv", format="ascii.ecsv")
            names += ["validation.ecsv", "validation_pairs.ecsv"]
        if figures:
            # plots are an optional extra (matplotlib), slow to import: only when asked
            from .figures import make_figures
            names += [str(f.relative_to(tmp)) for f in
                      make_figures(result, tmp / "figures", clouds=clouds)]
    return [Path(outdir) / n for n in names]
