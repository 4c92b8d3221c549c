"""The package logger, ``logging.getLogger("astro_ocl")``.

The library only logs; it configures no handler except a
`logging.NullHandler`, so applications decide where messages go. The
``astro-ocl`` command line attaches a stream handler (see :func:`enable_console`).
"""
import logging

__all__ = ["log", "enable_console"]

log = logging.getLogger("astro_ocl")
log.addHandler(logging.NullHandler())


def enable_console(level=logging.INFO):
    """Send the package's log records to standard error (used by the CLI).

    Parameters
    ----------
    level : int
        Logging level, e.g. ``logging.INFO``.
    """
    if not any(getattr(h, "_astro_ocl_console", False) for h in log.handlers):
        handler = logging.StreamHandler()
        handler.setFormatter(logging.Formatter("%(levelname)s: %(message)s"))
        handler._astro_ocl_console = True
        log.addHandler(handler)
    log.setLevel(level)
