"""The package logger, ``logging.getLogger("astro_ocl")``.

The library only logs; it configures no handler except a
`logging.NullHandler`, so applications decide where messages go. The
``astro-ocl`` command line attaches a stream handler (see :func:`enable_console`).
"""
import logging
import sys

__all__ = ["log", "enable_console"]

log = logging.getLogger("astro_ocl")
log.addHandler(logging.NullHandler())


class _StandardError(logging.StreamHandler):
    """A stream handler writing to whatever ``sys.stderr`` is when a record comes
    (pytest, notebooks and ``contextlib.redirect_stderr`` replace it)."""

    def __init__(self):
        super().__init__(sys.stderr)

    @property
    def stream(self):
        return sys.stderr

    @stream.setter
    def stream(self, value):
        pass


def enable_console(level=logging.INFO):
    """Send the package's log records to standard error (used by the CLI).

    One line per record, ``LEVEL: message``, to the current ``sys.stderr``.

    Parameters
    ----------
    level : int
        Logging level, e.g. ``logging.INFO``.
    """
    if not any(getattr(h, "_astro_ocl_console", False) for h in log.handlers):
        handler = _StandardError()
        handler.setFormatter(logging.Formatter("%(levelname)s: %(message)s"))
        handler._astro_ocl_console = True
        log.addHandler(handler)
    log.setLevel(level)
