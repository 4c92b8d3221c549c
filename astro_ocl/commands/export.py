"""``astro-ocl export``: write a built catalogue for CDS, TOPCAT, DS9 and CASA.

The catalogue is read from a directory written by ``astro-ocl build``
(``--catalogue DIR``, its ``clusters.ecsv`` and ``members.ecsv``) or, without
it, built offline on the embedded sample (``--seed``, ``--realisations``).
"""
import argparse
import warnings
from pathlib import Path
from types import SimpleNamespace

__all__ = ["add_parser", "run", "load_catalogue", "add_catalogue_options", "FORMATS",
           "export"]

#: Export formats and what they write.
FORMATS = {
    "votable": "clusters.vot, members.vot (CDS VOTables: UCDs, VOUnits, COOSYS, provenance)",
    "cds": "cds/ (CDS submission: ReadMe, clusters.dat, members.dat, VOTables)",
    "ecsv": "clusters.ecsv, members.ecsv (astropy ECSV with SkyCoord and units)",
    "fits": "clusters.fits, members.fits (plain columns, SkyCoord split)",
    "ds9": "clusters.reg (DS9 circles of radius r50)",
    "crtf": "clusters.crtf (CASA region file, circles of radius r50)",
}


def add_catalogue_options(p):
    """Options saying where the catalogue comes from (shared with ``samp send``)."""
    p.add_argument("--catalogue", type=Path, metavar="DIR",
                   help="directory written by `astro-ocl build` (default: build offline now)")
    p.add_argument("--seed", type=int, default=1, help="random seed when building")
    p.add_argument("--realisations", type=int, default=5000,
                   help="Monte Carlo realisations when building")


def add_parser(sub):
    p = sub.add_parser(
        "export", help="export the catalogue: CDS VOTable/ReadMe bundle, ECSV, FITS, DS9/CRTF",
        description="Write the cluster and member tables of a built catalogue in the given "
                    "formats into --out. " + "; ".join(f"{k}: {v}" for k, v in FORMATS.items()),
        formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    p.add_argument("--format", nargs="+", choices=sorted(FORMATS), default=["votable", "cds"],
                   dest="formats", metavar="FORMAT",
                   help=f"one or more of {', '.join(FORMATS)}")
    p.add_argument("--out", type=Path, default=Path("export"), help="output directory")
    p.add_argument("--overwrite", action="store_true", help="replace existing outputs")
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


def load_catalogue(args):
    """The catalogue (an object with ``clusters``, ``members``, ``provenance``)."""
    from astropy.table import QTable

    from ..exceptions import InputDataError
    from ..sinks.votable_cds import default_provenance
    if getattr(args, "catalogue", None):
        d = Path(args.catalogue)
        tables = {}
        for label in ("clusters", "members"):
            f = d / f"{label}.ecsv"
            if not f.exists():
                raise InputDataError(f"no {label}.ecsv in the catalogue directory (written by "
                                     "`astro-ocl build --out DIR`)", source=str(d))
            tables[label] = QTable.read(f, format="ascii.ecsv")
        return SimpleNamespace(**tables, provenance=default_provenance(tables["clusters"].meta))
    from ..pipeline import build_catalogue
    # exports publish the cluster and member tables: the gradient fits are not needed
    return build_catalogue(seed=args.seed, n_realisations=args.realisations, gradients=False)


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
    radius, radius_scale
        Region radius column and scale (``ds9``/``crtf``).
    metadata : dict, optional
        CDS ReadMe fields (see `astro_ocl.sinks.cds_bundle.write_cds_bundle`).

    Returns
    -------
    list of `~pathlib.Path`
    """
    from astropy.io.fits.verify import VerifyWarning

    from ..sinks.cds_bundle import write_cds_bundle
    from ..sinks.regions import REGION_FORMATS, write_regions
    from ..sinks.tables import to_plain_table
    from ..sinks.votable_cds import write_votable_cds
    from ..utils import atomic_path
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    files = []
    tables = {"clusters": result.clusters, "members": result.members}
    for fmt in formats:
        if fmt == "votable":
            for label, t in tables.items():
                files.append(write_votable_cds(t, out / f"{label}.vot", overwrite=overwrite,
                                               provenance=result.provenance, table_name=label))
        elif fmt == "cds":
            files += write_cds_bundle(result, out / "cds", overwrite=overwrite,
                                      provenance=result.provenance, metadata=metadata)
        elif fmt in ("ecsv", "fits"):
            for label, t in tables.items():
                path = out / f"{label}.{fmt}"
                with atomic_path(path, overwrite=overwrite) as tmp:
                    if fmt == "ecsv":
                        t.write(tmp, format="ascii.ecsv")
                    else:
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
                            plain.write(tmp, format="fits")
                files.append(path)
        elif fmt in REGION_FORMATS:
            clusters = result.clusters
            if radius == "r_t" and "r_t" not in clusters.colnames:
                from ..sources.literature import read_tidal_radii
                from ..steps.compare import add_tidal_radii
                clusters = add_tidal_radii(clusters, read_tidal_radii())  # Hunt & Reffert 2023
            files.append(write_regions(clusters, out / f"clusters{REGION_FORMATS[fmt]}",
                                       format=fmt, radius=radius, scale=radius_scale,
                                       overwrite=overwrite, skip_missing=radius != "r50"))
        else:
            raise ValueError(f"unknown export format {fmt!r}")
    return files


def run(args):
    result = load_catalogue(args)
    metadata = {}
    if args.authors:
        metadata["authors"] = args.authors
        metadata["author"] = args.authors.split(",")[0].strip()
    for key, value in (("title", args.title), ("catalogue", args.designation),
                       ("bibcode", args.bibcode)):
        if value:
            metadata[key] = value
    files = export(result, args.out, formats=args.formats, overwrite=args.overwrite,
                   radius=args.radius, radius_scale=args.radius_scale, metadata=metadata)
    for f in files:
        print(f)
    print(f"wrote {len(files)} files to {args.out}")
    return 0
