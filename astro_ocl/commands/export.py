"""``astro-ocl export``: write a built catalogue for CDS, TOPCAT, DS9 and CASA.

The catalogue is the one ``astro-ocl build`` wrote: by default its default
output folder ``catalogue/``, or ``--catalogue DIR``. Only with ``--rebuild``
is a catalogue built now (offline on the embedded sample, ``--seed``,
``--realisations``), and the command says so.
"""
import sys
import warnings
from pathlib import Path
from types import SimpleNamespace

from astropy.io.fits.verify import VerifyWarning

from ..exceptions import InputDataError, ParameterError, UnknownNameError
from ..outputs import check_output_folder, output_folder
from ..pipeline import build_catalogue
from ..sinks.cds_bundle import write_cds_bundle
from ..sinks.labels import catalogue_descriptions
from ..sinks.regions import REGION_FORMATS, write_regions
from ..sinks.tables import to_plain_table, write_ecsv
from ..sinks.votable_cds import default_provenance, write_votable_cds
from ..sources.files import read_table_file
from ..sources.literature import read_tidal_radii
from ..steps.compare import add_tidal_radii
from .common import HelpFormatter, positive_int, say

__all__ = ["add_parser", "run", "load_catalogue", "check_catalogue", "add_catalogue_options",
           "FORMATS", "export", "export_names", "DEFAULT_CATALOGUE"]

#: Export formats and what they write.
FORMATS = {
    "votable": "clusters.vot, members.vot (CDS VOTables: UCDs, VOUnits, COOSYS, provenance)",
    "cds": "cds/ (CDS submission: ReadMe, clusters.dat, members.dat, VOTables)",
    "ecsv": "clusters.ecsv, members.ecsv (astropy ECSV with SkyCoord and units)",
    "fits": "clusters.fits, members.fits (plain columns, SkyCoord split)",
    "ds9": "clusters.reg (DS9 circles of radius r50)",
    "crtf": "clusters.crtf (CASA region file, circles of radius r50)",
}

#: The folder ``astro-ocl build`` writes by default, which ``export`` and
#: ``samp send`` publish by default.
DEFAULT_CATALOGUE = Path("catalogue")

_FILES = {
    "votable": ["clusters.vot", "members.vot"],
    "cds": ["cds/ReadMe", "cds/clusters.dat", "cds/members.dat", "cds/clusters.vot",
            "cds/members.vot"],
    "ecsv": ["clusters.ecsv", "members.ecsv"],
    "fits": ["clusters.fits", "members.fits"],
    "ds9": ["clusters.reg"],
    "crtf": ["clusters.crtf"],
}


def export_names(formats):
    """The file names (relative to the output directory) ``formats`` write.

    Parameters
    ----------
    formats : sequence of str
        Keys of :data:`FORMATS`.
    """
    names = []
    for fmt in formats:
        if fmt not in _FILES:
            raise UnknownNameError(f"unknown export format {fmt!r} (one of "
                                   f"{', '.join(FORMATS)})")
        names += [n for n in _FILES[fmt] if n not in names]
    return names


def add_catalogue_options(p):
    """Options saying which catalogue to publish (shared with ``samp send``)."""
    p.add_argument("--catalogue", type=Path, metavar="DIR", default=None,
                   help="directory written by `astro-ocl build` (default: catalogue, the "
                        "folder it writes by default)")
    p.add_argument("--rebuild", action="store_true",
                   help="publish no built catalogue: build one now, offline on the embedded "
                        "sample, without gradients (with --seed, --realisations)")
    p.add_argument("--seed", type=int, default=None,
                   help="with --rebuild: random seed (as `astro-ocl build --seed`; default: "
                        "none, not reproducible)")
    p.add_argument("--realisations", type=positive_int(2), default=None,
                   help="with --rebuild: Monte Carlo realisations per cluster (default 5000)")


def check_catalogue(args):
    """Check, before any work, that the catalogue to publish exists (or ``--rebuild``).

    Raises `~astro_ocl.exceptions.InputDataError` naming the directory or file
    that is missing, or `~astro_ocl.exceptions.ParameterError` for options that
    go only with ``--rebuild``.
    """
    if args.rebuild:
        if args.catalogue is not None:
            raise ParameterError("--catalogue", str(args.catalogue),
                                 "not with --rebuild (publish a built catalogue or build one "
                                 "now, not both)")
        return
    for option in ("seed", "realisations"):
        if getattr(args, option) is not None:
            raise ParameterError(f"--{option}", getattr(args, option),
                                 "only with --rebuild (a built catalogue is published as "
                                 "it was built)")
    d = Path(args.catalogue if args.catalogue is not None else DEFAULT_CATALOGUE)
    if not d.is_dir():
        raise InputDataError(
            f"no built catalogue in {d}/: run `astro-ocl build` first (it writes "
            f"{DEFAULT_CATALOGUE}/), give --catalogue DIR, or --rebuild to build one now")
    for label in ("clusters", "members"):
        if not (d / f"{label}.ecsv").is_file():
            raise InputDataError(f"{d}/ is not a catalogue directory (written by `astro-ocl "
                                 f"build --out DIR`): no {label}.ecsv")


def load_catalogue(args):
    """The catalogue to publish (an object with ``clusters``, ``members``, ``provenance``).

    Reads the directory of ``--catalogue`` (default ``catalogue``); with
    ``--rebuild`` builds one offline instead and says so on standard error.
    """
    check_catalogue(args)
    if args.rebuild:
        n = args.realisations if args.realisations is not None else 5000
        say(args, f"rebuilding the catalogue now, offline on the embedded sample (seed "
            f"{args.seed}, {n} realisations, no gradients); not reading a built one",
            file=sys.stderr)
        # exports publish the cluster and member tables: the gradient fits are not needed
        return build_catalogue(seed=args.seed, n_realisations=n, gradients=False)
    d = Path(args.catalogue if args.catalogue is not None else DEFAULT_CATALOGUE)
    tables = {label: read_table_file(d / f"{label}.ecsv", format="ascii.ecsv", qtable=True)
              for label in ("clusters", "members")}
    return SimpleNamespace(**tables, provenance=default_provenance(tables["clusters"].meta))


def add_parser(sub):
    p = sub.add_parser(
        "export", help="export the catalogue: CDS VOTable/ReadMe bundle, ECSV, FITS, DS9/CRTF",
        description="Write the cluster and member tables of a built catalogue in the given "
                    "formats into --out. " + "; ".join(f"{k}: {v}" for k, v in FORMATS.items()),
        formatter_class=HelpFormatter)
    p.add_argument("--format", nargs="+", choices=sorted(FORMATS), default=["votable", "cds"],
                   dest="formats", metavar="FORMAT",
                   help=f"one or more of {', '.join(FORMATS)}")
    p.add_argument("--out", type=Path, default=Path("export"),
                   help="output directory (created if needed; the files of all formats are "
                        "written together or not at all)")
    p.add_argument("--overwrite", action="store_true",
                   help="replace existing outputs of the same names; only the files this run "
                        "writes are replaced (other files in --out stay), all together or "
                        "none")
    p.add_argument("--radius", default="r50",
                   help="region radius column: r50 (CG2020) or r_t (tidal radius of Hunt & "
                        "Reffert 2023; clusters they lack are left out)")
    p.add_argument("--radius-scale", type=float, default=1.0, help="multiply region radii")
    p.add_argument("--authors", help="CDS ReadMe: authors of the catalogue, e.g. "
                                     "'Doe J., Roe R.' (the first one names the catalogue)")
    p.add_argument("--title", help="CDS ReadMe: title")
    p.add_argument("--designation", help="CDS ReadMe: catalogue designation "
                                         "(default J/???/???, CDS assigns it)")
    p.add_argument("--bibcode", help="CDS ReadMe: bibcode of the paper describing the catalogue")
    add_catalogue_options(p)
    return p


def export(result, out, *, formats=("votable", "cds"), overwrite=False, radius="r50",
           radius_scale=1.0, metadata=None):
    """Write ``result`` in ``formats`` into the directory ``out``.

    Parameters
    ----------
    result : `~astro_ocl.result.CatalogueResult` or similar
        Anything with ``clusters``, ``members`` and ``provenance``.
    out : str or `~pathlib.Path`
    formats : sequence of str
        Keys of :data:`FORMATS`.
    overwrite : bool
        Replace existing files of the same names. Only the files this call
        writes are replaced (other files in ``out`` stay), all together: a
        failure leaves every previous output as it was.
    radius, radius_scale
        Region radius column and scale (``ds9``/``crtf``).
    metadata : dict, optional
        CDS ReadMe fields (see `astro_ocl.sinks.cds_bundle.write_cds_bundle`).

    Returns
    -------
    list of `~pathlib.Path`
    """
    out = Path(out)
    names = export_names(formats)
    check_output_folder(out, names=names, overwrite=overwrite)  # before any work
    tables = {"clusters": result.clusters, "members": result.members}
    descriptions = catalogue_descriptions(tables, result.provenance)  # surveys, star counts
    with output_folder(out, overwrite=overwrite, writer="astro_ocl export") as tmp:
        for fmt in formats:
            if fmt == "votable":
                for label, t in tables.items():
                    write_votable_cds(t, tmp / f"{label}.vot", provenance=result.provenance,
                                      table_name=label,
                                      table_description=descriptions.get(label))
            elif fmt == "cds":
                write_cds_bundle(result, tmp / "cds", provenance=result.provenance,
                                 metadata=metadata)
            elif fmt in ("ecsv", "fits"):
                for label, t in tables.items():
                    path = tmp / f"{label}.{fmt}"
                    if fmt == "ecsv":
                        write_ecsv(t, path)  # full precision, the schema's display formats
                        continue
                    plain = to_plain_table(t)
                    plain.meta.clear()
                    # provenance as HISTORY cards (keys longer than 8 characters
                    # would collide once truncated)
                    plain.meta["history"] = [f"{k} = {v}" for k, v in
                                             result.provenance.items()]
                    with warnings.catch_warnings():
                        # CDS labels such as "[Fe/H]med" are legal FITS TTYPEs but
                        # astropy recommends plain identifiers: keep the labels
                        warnings.filterwarnings("ignore", category=VerifyWarning,
                                                message=".*column names contain only")
                        plain.write(path, format="fits")
            elif fmt in REGION_FORMATS:
                clusters = result.clusters
                if radius == "r_t" and "r_t" not in clusters.colnames:
                    # Hunt & Reffert 2023
                    clusters = add_tidal_radii(clusters, read_tidal_radii())
                write_regions(clusters, tmp / f"clusters{REGION_FORMATS[fmt]}", format=fmt,
                              radius=radius, scale=radius_scale,
                              skip_missing=radius != "r50")
    return [out / n for n in names]


def run(args):
    # every precondition first: the outputs, then the catalogue, then the work
    check_output_folder(args.out, names=export_names(args.formats), overwrite=args.overwrite,
                        option="--out")
    check_catalogue(args)
    result = load_catalogue(args)
    metadata = {}
    if args.authors:
        metadata["authors"] = args.authors
    for key, value in (("title", args.title), ("catalogue", args.designation),
                       ("bibcode", args.bibcode)):
        if value:
            metadata[key] = value
    files = export(result, args.out, formats=args.formats, overwrite=args.overwrite,
                   radius=args.radius, radius_scale=args.radius_scale, metadata=metadata)
    for f in files:
        say(args, f)
    say(args, f"wrote {len(files)} files to {args.out}")
    return 0
