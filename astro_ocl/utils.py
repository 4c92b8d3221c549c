"""Small shared helpers: progress bars, data paths, interrupts (outputs: `astro_ocl.outputs`)."""
import contextlib
import hashlib
import os
import signal
import sys
import threading
from importlib import resources
from pathlib import Path

from ._threads import signals_blocked, threads_taking_signals
from .config import conf
from .exceptions import OptionalDependencyError
from .logger import log

__all__ = ["progress", "data_path", "umask_mode", "file_sha256", "describe_input",
           "Terminated",
           "sigterm_as_interrupt", "worker_initializer", "restore_signal_handlers",
           "signals_blocked", "threads_taking_signals",
           "require"]


#: The optional extras of pyproject.toml: import name -> (distribution, extra).
EXTRAS = {
    "matplotlib": ("matplotlib", "plots"),
    "astroquery": ("astroquery", "vizier"),
    "tqdm": ("tqdm", "progress"),
    "pyarrow": ("pyarrow", "parquet"),
    "lsdb": ("lsdb", "scale"),
    "hats_import": ("hats-import", "scale"),
    "distributed": ("dask[distributed]", "scale"),
}


def require(module, *, feature):
    """Import an optional dependency, or raise `OptionalDependencyError`.

    Parameters
    ----------
    module : str
        Import name (a key of :data:`EXTRAS`, or a submodule of one).
    feature : str
        What needs it, for the message (e.g. ``"figures"``).

    Returns
    -------
    module

    Examples
    --------
    >>> from astro_ocl.utils import require
    >>> require("numpy", feature="everything").__name__
    'numpy'
    """
    import importlib
    try:
        return importlib.import_module(module)
    except ImportError as exc:
        top = module.split(".")[0]
        dist, extra = EXTRAS.get(top, (top, None))
        how = (f"pip install 'astro_ocl[{extra}]'" if extra else f"pip install {dist}")
        raise OptionalDependencyError(
            f"{feature}: needs {dist}, which is not installed; {how}") from exc


class Terminated(KeyboardInterrupt):
    """Raised in the main thread when the process receives SIGTERM.

    A `KeyboardInterrupt`, so SIGTERM (``kill``) unwinds exactly like Ctrl-C:
    ``finally`` blocks run, worker processes are ended, temporary outputs are
    removed and ``astro-ocl`` exits non-zero with a one-line message.
    """


def _raise_terminated(signum, frame):
    raise Terminated(f"terminated by signal {signum}")


@contextlib.contextmanager
def sigterm_as_interrupt():
    """Turn SIGTERM into `Terminated` (a `KeyboardInterrupt`) inside the block.

    Only in the main thread (elsewhere Python cannot install handlers, and the
    block is a no-op); the previous handler is restored on exit. Nested blocks are
    fine.
    """
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = signal.signal(signal.SIGTERM, _raise_terminated)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


@contextlib.contextmanager
def restore_signal_handlers():
    """Run a C extension that meddles with SIGINT, and put Python's handlers back.

    galpy's C orbit integrators install their own SIGINT handler and, when done,
    reset SIGINT to the operating system's default (``SIG_DFL``) behind Python's
    back: a Ctrl-C then would kill the process outright, with no clean-up and no
    message. Inside the block SIGINT and SIGTERM are held back (blocked, so also
    the threads the extension starts inherit the mask); Python's handlers are set
    again and only then the held signals are delivered, to them. So there is no
    moment with ``SIG_DFL``; an interrupt waits for the end of the block.

    That holds as long as no other thread of the process takes these signals
    either (the kernel hands a process's signal to any thread that does not block
    it): importing ``astro_ocl`` starts numpy's and scipy's thread pools with them
    blocked (`astro_ocl._threads`); a thread that does not block them is named in
    the debug log here.
    """
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    global _checked_threads
    if not _checked_threads:
        _checked_threads = True
        others = threads_taking_signals()
        if others:
            log.debug("threads that may take SIGINT/SIGTERM while galpy resets SIGINT "
                      "(numpy or scipy imported before astro_ocl?): %s", others)
    saved = {s: signal.getsignal(s) for s in (signal.SIGINT, signal.SIGTERM)}
    with _signals_blocked():
        try:
            yield
        finally:
            for signum, handler in saved.items():
                if handler is not None:
                    signal.signal(signum, handler)


_checked_threads = False


def worker_initializer():
    """Initializer of the package's worker processes: they die with their parent.

    * SIGINT is ignored: on Ctrl-C the parent, which gets it too, decides and ends
      the workers (`multiprocessing.pool.Pool.terminate`).
    * SIGTERM gets its default action back (a forked worker would otherwise inherit
      the parent's `sigterm_as_interrupt` handler).
    * On Linux the kernel sends the worker SIGKILL when its parent dies for any
      reason, ``kill -9`` included (``prctl(PR_SET_PDEATHSIG)``); a worker whose
      parent already died exits at once.
    """
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    if hasattr(signal, "pthread_sigmask"):  # forked from a thread that blocked them
        signal.pthread_sigmask(signal.SIG_UNBLOCK, (signal.SIGINT, signal.SIGTERM))
    if sys.platform.startswith("linux"):
        try:
            import ctypes
            libc = ctypes.CDLL(None, use_errno=True)
            libc.prctl(1, int(signal.SIGKILL), 0, 0, 0)  # 1 = PR_SET_PDEATHSIG
        except (OSError, AttributeError):  # pragma: no cover - no libc prctl
            pass
    if os.getppid() == 1:  # pragma: no cover - the parent died while we started
        os._exit(1)


def progress(iterable=None, *, total=None, desc=None, enabled=None):
    """Wrap an iterable in a tqdm progress bar, or return it unchanged.

    Parameters
    ----------
    iterable : iterable
        What to iterate over.
    total : int, optional
        Length, when ``iterable`` has none.
    desc : str, optional
        Label of the bar.
    enabled : bool, optional
        Force the bar on or off. By default it is shown when
        ``conf.show_progress`` is true and standard error is a terminal.
    """
    if enabled is None:
        enabled = conf.show_progress and sys.stderr.isatty()
    if not enabled:
        return iterable
    try:
        from tqdm.auto import tqdm
    except ImportError:  # tqdm is optional at run time: no bar then
        return iterable
    with signals_blocked():  # tqdm's monitor thread never takes SIGINT/SIGTERM
        return tqdm(iterable, total=total, desc=desc, leave=False)


def umask_mode(directory=False):
    """The mode a new file (or directory) gets from the process's umask.

    `tempfile.mkstemp` and `tempfile.mkdtemp` create private files (0600) and
    folders (0700) whatever the umask; an output made from one gets this mode,
    as every other file the package writes.
    """
    mask = os.umask(0)
    os.umask(mask)
    return (0o777 if directory else 0o666) & ~mask


def file_sha256(path):
    """The SHA-256 of a file's bytes (hex), read in blocks of 1 MiB."""
    h = hashlib.sha256()
    with open(path, "rb") as fd:
        for block in iter(lambda: fd.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def data_path(name):
    """Path of a file shipped in ``astro_ocl/data``.

    Parameters
    ----------
    name : str
        File name inside the package's data directory.
    """
    return Path(resources.files("astro_ocl") / "data" / name)


def describe_input(source):
    """How provenance names an input: package-relative for embedded data, with a checksum.

    A file shipped in ``astro_ocl/data`` is named ``astro_ocl/data/<name>``
    (never the absolute ``site-packages`` path of one machine); any existing
    file gets its SHA-256 (first 16 hex digits), so that a reader can check
    which bytes were used. Anything else (a table given in memory, a query) is
    returned as it is.

    Parameters
    ----------
    source : str or `~pathlib.Path` or None
    """
    if source is None:
        return "<table>"
    text = str(source)
    path = Path(text)
    try:
        if not path.is_file():
            return text
    except OSError:  # not a path at all (a query, a long description)
        return text
    digest = file_sha256(path)[:16]
    data_dir = data_path("").resolve()
    try:
        name = f"astro_ocl/data/{path.resolve().relative_to(data_dir).as_posix()}"
    except ValueError:
        name = text
    return f"{name} (sha256 {digest})"


#: SIGINT and SIGTERM held back (delivered after the block) in the main thread.
_signals_blocked = signals_blocked
