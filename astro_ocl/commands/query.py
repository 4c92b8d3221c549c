"""``astro-ocl query``: an ad-hoc ADQL query to the Gaia archive or VizieR.

``astro-ocl query gaia|vizier "ADQL" [--upload NAME=FILE] [--out FILE]`` runs the
query through the package's TAP client (timeouts, retries, row-limit guard,
cache) and prints the result or writes it (format from the extension: .vot,
.xml, .ecsv, .csv, .fits). Uploaded tables are TAP_UPLOAD.NAME (default name
``upload``).
"""
import sys
import warnings
from pathlib import Path

import astropy.units as u
from astropy.io.votable import from_table
from astropy.io.votable.tree import Info
from astropy.table import Table

from ..exceptions import ParameterError
from ..outputs import atomic_path, check_output_file
from ..sources.archives.gaia import gaia_client
from ..sources.archives.vizier import vizier_client
from ..sources.files import read_table_file
from .common import HelpFormatter, describe, positive_float, positive_int, say

__all__ = ["add_parser", "run"]


def add_parser(sub):
    p = sub.add_parser("query", help="run an ADQL query on the Gaia archive or VizieR (TAP)",
                       description=describe(__doc__), formatter_class=HelpFormatter)
    p.add_argument("service", choices=("gaia", "vizier"), help="which TAP service")
    p.add_argument("adql", help="the ADQL query")
    p.add_argument("--upload", action="append", default=[], metavar="[NAME=]FILE",
                   help="table file uploaded as TAP_UPLOAD.NAME (repeatable)")
    p.add_argument("--out", type=Path, help="write the result here instead of printing it")
    p.add_argument("--overwrite", action="store_true", help="replace an existing --out")
    p.add_argument("--maxrec", type=positive_int(1), default=None,
                   help="row limit (default conf.row_limit); reaching it is an error")
    p.add_argument("--capped", action="store_true",
                   help="a result cut at --maxrec is fine (warning instead of error)")
    p.add_argument("--mode", choices=("auto", "sync", "async"), default="auto",
                   help="TAP mode (auto: async above 2000 rows)")
    p.add_argument("--url", help="TAP URL (default conf.gaia_tap_url / conf.vizier_tap_url)")
    p.add_argument("--timeout", type=positive_float, default=None,
                   help="seconds per request (default conf.timeout)")
    p.add_argument("--no-cache", action="store_true", help="neither read nor write the cache")
    return p


def _read_upload(spec):
    name, sep, path = spec.partition("=")
    if not sep:
        name, path = "upload", spec
    return name, read_table_file(path)


def _vounits(table):
    """Drop units VOTable cannot express (dex, [Fe/H]); name them in the description."""
    for col in table.itercols():
        unit = getattr(col, "unit", None)
        if unit is None:
            continue
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("error")
                text = u.Unit(unit).to_string("vounit")
                u.Unit(text, format="vounit")
        except (ValueError, TypeError, UserWarning):
            col.info.description = f"{col.info.description or ''} [unit: {unit}]".strip()
            col.unit = None


_OUT_FORMATS = {".vot": "votable", ".xml": "votable", ".ecsv": "ascii.ecsv",
                ".csv": "ascii.csv", ".fits": "fits"}


def run(args):
    # preconditions first: the output name and format, the upload files
    fmt = None
    if args.out is not None:
        check_output_file(args.out, overwrite=args.overwrite, option="--out")
        fmt = _OUT_FORMATS.get(args.out.suffix.lower())
        if fmt is None:
            raise ParameterError("--out", str(args.out), "unknown output format (use .vot, "
                                 ".xml, .ecsv, .csv or .fits)")
    uploads = dict(_read_upload(s) for s in args.upload)
    factory = gaia_client if args.service == "gaia" else vizier_client
    client = factory(url=args.url, timeout=args.timeout,
                     cache=False if args.no_cache else None)
    result = client.query(args.adql, uploads=uploads or None, maxrec=args.maxrec,
                          capped=args.capped, mode=args.mode,
                          use_cache=False if args.no_cache else None)
    table = Table(result, copy=True)  # plain columns with units (writable anywhere)
    if "coord" in table.colnames:
        table.remove_column("coord")
    prov = table.meta.pop("provenance", {})
    table.meta.update({f"query_{k}": str(v) for k, v in prov.items()})
    if args.out is None:
        table.pprint(max_lines=-1 if len(table) <= 200 else 60, max_width=-1)
        say(args, f"{len(table)} rows", file=sys.stderr)
        return 0
    with atomic_path(args.out, overwrite=args.overwrite) as tmp:
        if fmt == "votable":
            _vounits(table)
            meta = {k: v for k, v in table.meta.items() if k.startswith("query_")}
            table.meta = {}
            vt = from_table(table)
            for k, v in meta.items():  # provenance as INFO elements
                vt.resources[0].infos.append(Info(name=k, value=v))
            vt.to_xml(str(tmp))
        else:
            table.write(tmp, format=fmt)
    say(args, f"wrote {len(table)} rows to {args.out}")
    return 0
