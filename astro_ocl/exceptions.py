"""The exceptions and warnings of ``astro_ocl``: one hierarchy.

Every error the package raises on purpose is an :class:`AstroOCLError`; every
warning is an :class:`AstroOCLWarning` (an `astropy.utils.exceptions.AstropyWarning`).
Input-data errors carry the file, column, row and value they are about.
"""
from astropy.utils.exceptions import AstropyWarning

__all__ = [
    "AstroOCLError", "InputDataError", "MissingColumnError", "UnknownClusterError",
    "NoUsableDataError", "OutputExistsError", "OutputPathError", "ParameterError",
    "UnknownNameError",
    "ArchiveError", "ServiceError", "QueryTimeoutError", "RowLimitError",
    "DeadlinePassedError", "SAMPError", "NoHubError", "ScaleError", "OptionalDependencyError",
    "AstroOCLWarning", "DroppedRowsWarning", "RowLimitWarning",
    "OrbitWarning", "ConvergenceWarning",
]


class AstroOCLError(Exception):
    """Base class of every error raised by astro_ocl."""


class InputDataError(AstroOCLError, ValueError):
    """Bad input data: names where it is (file, column, row) and what (value).

    Parameters
    ----------
    message : str
        What is wrong.
    source, column, row, value : optional
        The file (or table name), the column, the row index (0-based) and the
        offending value. Each one given is appended to the message.
    """

    def __init__(self, message, *, source=None, column=None, row=None, value=None):
        self.source, self.column, self.row, self.value = source, column, row, value
        self.message = message
        where = []
        if source is not None:
            where.append(f"file {source}")
        if column is not None:
            where.append(f"column {column!r}")
        if row is not None:
            where.append(f"row {row}")
        if value is not None:
            where.append(f"value {value!r}")
        super().__init__(message + (f" ({', '.join(where)})" if where else ""))


class MissingColumnError(InputDataError, KeyError):
    """A required column is absent (and none of its known aliases is present)."""

    def __str__(self):  # KeyError would repr() the message
        return self.args[0]


class UnknownClusterError(AstroOCLError, KeyError):
    """A cluster name that is not in the reference catalogue."""

    def __str__(self):
        return self.args[0]


class NoUsableDataError(AstroOCLError):
    """A step has no usable rows left (e.g. no member with a radial velocity)."""


class OutputExistsError(AstroOCLError, FileExistsError):
    """An output already exists and overwriting was not asked for.

    Parameters
    ----------
    path : str or `~pathlib.Path`
        The existing output.
    message : str, optional
        Replaces the default message (which names the Python keyword
        ``overwrite=True``; the command line names ``--overwrite`` instead,
        see :meth:`cli_message`).
    """

    def __init__(self, path, message=None):
        self.path = path
        super().__init__(message or f"{path} exists; pass overwrite=True to replace it")

    def __str__(self):
        return self.args[0]

    def cli_message(self):
        """The message in command-line words."""
        return (f"{self.path} exists; add --overwrite to replace it "
                "(or write elsewhere with --out)")


class OutputPathError(AstroOCLError, ValueError):
    """An output path that cannot or must not be written (checked before any work).

    Parameters
    ----------
    path : str or `~pathlib.Path`
        The output path.
    reason : str
        Why (e.g. "is the working folder", "cannot write into /proc").
    option : str, optional
        The option or keyword that named it (``"out"``, ``"--out"``).
    """

    def __init__(self, path, reason, *, option=None):
        self.path, self.reason, self.option = path, reason, option
        named = f"{option}={path}" if option else str(path)
        super().__init__(f"{named}: {reason}")


class ParameterError(AstroOCLError, ValueError):
    """An option has a value it cannot take (names the option and the value).

    Parameters
    ----------
    name : str
        The option (keyword argument) name.
    value
        The value given.
    expected : str
        What the option accepts.
    """

    def __init__(self, name, value, expected):
        self.name, self.value, self.expected = name, value, expected
        shown = repr(value) if isinstance(value, str) else str(value)
        super().__init__(f"{name}={shown}: {expected}")


class UnknownNameError(AstroOCLError, KeyError):
    """A name (literature catalogue, format, quantity) that is not known."""

    def __str__(self):
        return self.args[0]


class ArchiveError(AstroOCLError):
    """Base class of errors talking to a service (TAP, VizieR, Gaia archive).

    Parameters
    ----------
    message : str
        What went wrong.
    url : str, optional
        The service URL.
    query : str, optional
        The ADQL that was sent.
    server_message : str, optional
        What the server said.
    """

    def __init__(self, message, *, url=None, query=None, server_message=None):
        self.url, self.query, self.server_message = url, query, server_message
        parts = [message]
        if url:
            parts.append(f"service: {url}")
        if server_message:
            parts.append(f"server said: {server_message}")
        if query:
            parts.append(f"query: {query}")
        super().__init__("\n  ".join(parts))


class ServiceError(ArchiveError):
    """The service answered with an error (bad ADQL, HTTP error, job in ERROR)."""


class QueryTimeoutError(ArchiveError, TimeoutError):
    """The service did not answer within the timeout (after all retries)."""


class RowLimitError(ArchiveError):
    """A result reached the row limit (MAXREC): it may be truncated."""


class DeadlinePassedError(QueryTimeoutError):
    """The overall deadline of a query passed (never retried: the time is up)."""


class SAMPError(AstroOCLError):
    """A SAMP call failed or was answered with samp.error."""


class NoHubError(SAMPError):
    """No SAMP hub is running."""


class ScaleError(AstroOCLError, RuntimeError):
    """The survey-scale engine could not finish: a Dask worker or the scheduler was lost.

    Nothing was written (the build writes nothing; writers are atomic).
    """


class OptionalDependencyError(AstroOCLError, ImportError):
    """A feature needs a package of an optional extra that is not installed.

    The message names the feature, the missing package and the ``pip install``
    line of the extra.
    """


class AstroOCLWarning(AstropyWarning):
    """Base class of every warning issued by astro_ocl."""


class DroppedRowsWarning(AstroOCLWarning):
    """Rows were dropped from a table; the message says how many and why."""


class RowLimitWarning(AstroOCLWarning):
    """A capped sample was asked for and the result reached the cap."""


class OrbitWarning(AstroOCLWarning):
    """An orbit could not be integrated as asked (unbound, or outside the grid)."""


class ConvergenceWarning(AstroOCLWarning):
    """An MCMC chain is shorter than 50 autocorrelation times."""
