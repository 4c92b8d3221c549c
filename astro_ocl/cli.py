"""The ``astro-ocl`` command line.

Each subcommand lives in a module of :mod:`astro_ocl.commands` with two
functions, ``add_parser(subparsers)`` and ``run(args)``; :data:`COMMANDS` lists
them. Every user mistake gives one line on standard error naming the problem,
no traceback: errors of the package (`~astro_ocl.exceptions.AstroOCLError`) and
unreadable or unwritable files (`OSError`) give exit status 1; bad usage (an
unknown option, an option value out of range) gives 2.
"""
import argparse
import importlib
import logging
import sys
import warnings

from .exceptions import AstroOCLError, AstroOCLWarning, OutputExistsError
from .logger import enable_console
from .utils import sigterm_as_interrupt

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


class _Parser(argparse.ArgumentParser):
    """An argument parser whose usage errors are one line (and exit status 2)."""

    def error(self, message):
        self.exit(2, f"{self.prog}: error: {message} (see {self.prog} --help)\n")


def _add_logging_options(p, *, suppress):
    p.add_argument("-v", "--verbose", action="count",
                   default=argparse.SUPPRESS if suppress else 0,
                   help="more log output (-vv for debug)")
    p.add_argument("-q", "--quiet", action="store_true",
                   default=argparse.SUPPRESS if suppress else False, help="only errors")


def _subparsers(parser):
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            yield from action.choices.values()


def _parser():
    from . import __version__
    from .commands.common import HelpFormatter
    parser = _Parser(
        prog="astro-ocl", formatter_class=HelpFormatter,
        description="Galactic open clusters from Gaia and LAMOST (Fu et al. 2022 method): "
                    "build the catalogue, query the archives, export for CDS, TOPCAT and DS9.")
    parser.add_argument("--version", action="version", version=f"astro_ocl {__version__}")
    _add_logging_options(parser, suppress=False)
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    sub.required = True
    for modname in COMMANDS:
        mod = importlib.import_module(modname)
        p = mod.add_parser(sub)
        p.set_defaults(_run=mod.run)
        # the global options are accepted after the subcommand (and its action) too
        todo = [p]
        while todo:
            q = todo.pop()
            _add_logging_options(q, suppress=True)
            todo.extend(_subparsers(q))
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
        # SIGTERM (kill) unwinds like Ctrl-C: clean-up runs, one line, non-zero exit
        with warnings.catch_warnings(), sigterm_as_interrupt():
            warnings.simplefilter("always", AstroOCLWarning)
            warnings.showwarning = showwarning
            return int(args._run(args) or 0)
    except OutputExistsError as exc:
        print(f"astro-ocl {args.command}: error: {exc.cli_message()}", file=sys.stderr)
        return 1
    except AstroOCLError as exc:
        print(f"astro-ocl {args.command}: error: {exc}", file=sys.stderr)
        return 1
    except OSError as exc:  # a file that cannot be read or written, a full disk
        where = f"{exc.filename}: " if getattr(exc, "filename", None) else ""
        print(f"astro-ocl {args.command}: error: {where}{exc.strerror or exc}",
              file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
