"""``astro-ocl samp``: send the catalogue to TOPCAT over SAMP, or run a hub.

``astro-ocl samp send [--to topcat|all|ID] [--table clusters|members]`` sends
the CDS VOTable of the table (metadata included) and prints each recipient's
reply; ``astro-ocl samp hub`` runs a `pyvo.samp` hub on 127.0.0.1 until
interrupted (when no TOPCAT is around to provide one).
"""
from ..exceptions import UnknownClusterError
from ..sinks.samp import SAMPConnection, run_hub
from .common import HelpFormatter, describe, positive_float, say
from .export import add_catalogue_options, check_catalogue, load_catalogue

__all__ = ["add_parser", "run"]


def add_parser(sub):
    p = sub.add_parser("samp", help="send the catalogue to TOPCAT (SAMP) or run a SAMP hub",
                       description=describe(__doc__), formatter_class=HelpFormatter)
    ssub = p.add_subparsers(dest="samp_command", metavar="ACTION")
    ssub.required = True
    s = ssub.add_parser(
        "send", help="send a table (table.load.votable)", formatter_class=HelpFormatter,
        description="Send the CDS VOTable of the clusters and/or members table of a built "
                    "catalogue (default: ./catalogue, written by 'astro-ocl build') to a SAMP "
                    "client such as TOPCAT, and print each recipient's reply. The hub and the "
                    "recipient are checked before anything is read or built.")
    s.add_argument("--to", default="topcat",
                   help="recipient: a client name (topcat), a client id, or 'all' (broadcast)")
    s.add_argument("--table", choices=("clusters", "members"), nargs="+",
                   default=["clusters"], help="which table(s)")
    s.add_argument("--select", type=int, nargs="+", metavar="ROW",
                   help="then select these rows (0-based) in the recipient")
    s.add_argument("--point-at", metavar="CLUSTER",
                   help="then point the recipient at this cluster (coord.pointAt.sky)")
    s.add_argument("--timeout", type=positive_float, default=30.0,
                   help="seconds per SAMP call")
    add_catalogue_options(s)
    h = ssub.add_parser(
        "hub", help="run a pyvo.samp hub on 127.0.0.1 until interrupted",
        formatter_class=HelpFormatter,
        description="Run a SAMP hub (pyvo.samp) on 127.0.0.1 until Ctrl-C or --timeout, for "
                    "when no TOPCAT or other hub is running.")
    h.add_argument("--lockfile", help="private lockfile (clients need "
                                      "SAMP_HUB=std-lockurl:file://LOCKFILE)")
    h.add_argument("--timeout", type=float, default=0,
                   help="stop after this many seconds (0: run until Ctrl-C)")
    return p


def run(args):
    if args.samp_command == "hub":
        say(args, "SAMP hub on 127.0.0.1"
            + (f" (lockfile {args.lockfile})" if args.lockfile else "") + "; Ctrl-C to stop",
            flush=True)
        run_hub(lockfile=args.lockfile, timeout=args.timeout)
        return 0
    check_catalogue(args)
    with SAMPConnection(timeout=args.timeout) as samp:
        # the hub (connecting) and the recipient first, then read or build the catalogue
        samp.recipients(args.to, "table.load.votable")
        result = load_catalogue(args)
        if args.point_at and args.point_at not in list(result.clusters["Cluster"]):
            raise UnknownClusterError(f"no cluster {args.point_at!r} in the catalogue")
        for label in args.table:
            table = getattr(result, label)
            sent = samp.send_table(table, to=args.to, name=label, provenance=result.provenance)
            for cid, reply in sent.replies.items():
                say(args, f"{label}: {len(table)} rows -> {cid}: {reply.get('samp.status')}")
            if args.select:
                for cid, reply in samp.select_rows(sent, args.select, to=args.to).items():
                    say(args, f"{label}: select rows {args.select} -> {cid}: "
                        f"{reply.get('samp.status')}")
        if args.point_at:
            names = list(result.clusters["Cluster"])
            if args.point_at not in names:
                raise UnknownClusterError(f"no cluster {args.point_at!r} in the catalogue")
            coord = result.clusters["coord"][names.index(args.point_at)]
            for cid, reply in samp.point_at(coord, to=args.to).items():
                say(args, f"point at {args.point_at} -> {cid}: {reply.get('samp.status')}")
    return 0
