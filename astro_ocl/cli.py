"""The ``astro-ocl`` command line.

Each subcommand lives in a module of :mod:`astro_ocl.commands` with two
functions, ``add_parser(subparsers)`` and ``run(args)``; :data:`COMMANDS` lists
them. Errors of the package (`~astro_ocl.exceptions.AstroOCLError`) are printed
without a traceback and give exit status 1; bad usage gives 2.
"""
import argparse
import importlib
import logging
import sys
import warnings

from .exceptions import AstroOCLError, AstroOCLWarning
from .logger import enable_console

__all__ = ["main", "COMMANDS"]

#: Modules providing subcommands, in the order ``--help`` lists them.
COMMANDS = [
    "astro_ocl.commands.build",
    "astro_ocl.commands.export",
    "astro_ocl.commands.samp",
    "astro_ocl.commands.gradients",
    "astro_ocl.commands.reproduce",
    "astro_ocl.commands.query",
    "astro_ocl.commands.cache",
]


def _parser():
    from . import __version__
    parser = argparse.ArgumentParser(
        prog="astro-ocl",
        description="Galactic open clusters from Gaia and LAMOST (Fu et al. 2022 method): "
                    "build the catalogue, query the archives, export for CDS, TOPCAT and DS9.")
    parser.add_argument("--version", action="version", version=f"astro_ocl {__version__}")
    parser.add_argument("-v", "--verbose", action="count", default=0,
                        help="more log output (-vv for debug)")
    parser.add_argument("-q", "--quiet", action="store_true", help="only errors")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    sub.required = True
    for modname in COMMANDS:
        mod = importlib.import_module(modname)
        p = mod.add_parser(sub)
        p.set_defaults(_run=mod.run)
        # the global options are accepted after the subcommand too
        p.add_argument("-v", "--verbose", action="count", default=argparse.SUPPRESS,
                       help="more log output (-vv for debug)")
        p.add_argument("-q", "--quiet", action="store_true", default=argparse.SUPPRESS,
                       help="only errors")
    return parser


def main(argv=None):
    """Run the command line; returns the exit status.

    Parameters
    ----------
    argv : list of str, optional
        Arguments (default ``sys.argv[1:]``).
    """
    parser = _parser()
    args = parser.parse_args(argv)
    level = logging.ERROR if args.quiet else (
        logging.DEBUG if args.verbose > 1 else logging.INFO if args.verbose else logging.WARNING)
    enable_console(level)

    def showwarning(message, category, filename, lineno, file=None, line=None):
        print(f"WARNING: {category.__name__}: {message}", file=sys.stderr)

    try:
        with warnings.catch_warnings():
            warnings.simplefilter("always", AstroOCLWarning)
            warnings.showwarning = showwarning
            return int(args._run(args) or 0)
    except AstroOCLError as exc:
        print(f"astro-ocl {args.command}: error: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
