"""The ``astro-ocl`` command line.

Each subcommand lives in a module of :mod:`astro_ocl.commands` with two
functions, ``add_parser(subparsers)`` and ``run(args)``; :data:`COMMANDS` lists
them. Every user mistake gives one line on standard error naming the problem,
no traceback: errors of the package (`~astro_ocl.exceptions.AstroOCLError`) and
unreadable or unwritable files (`OSError`) give exit status 1; bad usage (an
unknown option, an option value out of range) gives 2.

Messages go to standard error in one format, the package logger's
(``WARNING: ...``): warnings of any library raised during the run are logged
through `astro_ocl.logger.log` (``WARNING: DroppedRowsWarning: ...``), and
astropy's warnings logging (which astroquery, imported by galpy, would
otherwise install half-way through a run, with its own format) is off while
the command runs; galpy, which replaces `warnings.showwarning` when it is first
imported (printing Python's two-line format to standard output), is imported
before the package's handler is installed. ``-v`` adds INFO (``-vv`` DEBUG)
messages. ``-q`` leaves only errors: no warnings, no progress bars, and no
report on standard output (the summaries, tables and "wrote N files" lines; the
exit status says the run succeeded, and the output folder's
``astro_ocl_manifest.json`` lists what it wrote). What a command is asked to
print instead of writing a file (``query`` without ``--out``, ``cache list``)
is still printed.
"""
import argparse
import contextlib
import importlib
import logging
import sys
import warnings

from astropy.logger import conf as astropy_log_conf

from .version import __version__
from .commands.common import HelpFormatter
from .config import conf
from .exceptions import AstroOCLError, AstroOCLWarning, OutputExistsError
from .logger import enable_console, log
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
                   default=argparse.SUPPRESS if suppress else False,
                   help="only errors: no warnings, progress or report (summaries, 'wrote N "
                        "files'); what a command prints instead of writing a file (query "
                        "without --out, cache list) is still printed")


def _subparsers(parser):
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            yield from action.choices.values()


def _parser():
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


def _log_warning(message, category, filename, lineno, file=None, line=None):
    """`warnings.showwarning` of the command line: one line through the package logger."""
    log.warning("%s: %s", category.__name__, message)


def main(argv=None):
    """Run the command line; returns the exit status.

    Parameters
    ----------
    argv : list of str, optional
        Arguments (default ``sys.argv[1:]``).
    """
    # every warning of the run, from the first import on, through the package logger;
    # no AstropyLogger (astropy's, astroquery's) takes them over half-way through
    with warnings.catch_warnings(), astropy_log_conf.set_temp("log_warnings", False):
        # galpy.util replaces warnings.showwarning when it is first imported (its own
        # handler prints Python's two-line format to standard output): import it now,
        # before ours is installed (cheap: a few ms), not half-way through the run
        with contextlib.suppress(ImportError):
            importlib.import_module("galpy.util")
        warnings.simplefilter("always", AstroOCLWarning)
        warnings.showwarning = _log_warning
        parser = _parser()
        args = parser.parse_args(argv)
        level = logging.ERROR if args.quiet else (
            logging.DEBUG if args.verbose > 1 else logging.INFO if args.verbose
            else logging.WARNING)
        enable_console(level)
        try:
            # SIGTERM (kill) unwinds like Ctrl-C: clean-up runs, one line, non-zero exit
            with sigterm_as_interrupt(), conf.set_temp(
                    "show_progress", conf.show_progress and not args.quiet):
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
