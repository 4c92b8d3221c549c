"""Small shared helpers: progress bars, atomic output, data paths."""
import contextlib
import os
import shutil
import sys
import tempfile
from importlib import resources
from pathlib import Path

from .config import conf
from .exceptions import OutputExistsError

__all__ = ["progress", "atomic_path", "atomic_directory", "data_path"]


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
    return tqdm(iterable, total=total, desc=desc, leave=False)


def data_path(name):
    """Path of a file shipped in ``astro_ocl/data``.

    Parameters
    ----------
    name : str
        File name inside the package's data directory.
    """
    return Path(resources.files("astro_ocl") / "data" / name)


@contextlib.contextmanager
def atomic_path(path, *, overwrite=False):
    """Yield a temporary path next to ``path``; move it onto ``path`` on success.

    A failure inside the block leaves neither a partial ``path`` nor the
    temporary file behind.

    Parameters
    ----------
    path : str or `~pathlib.Path`
        Final file name.
    overwrite : bool
        Replace an existing file; otherwise `~astro_ocl.exceptions.OutputExistsError`.
    """
    path = Path(path)
    if path.exists() and not overwrite:
        raise OutputExistsError(f"{path} exists; pass overwrite=True (--overwrite) to replace it")
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".part", dir=path.parent)
    os.close(fd)
    os.unlink(tmp)  # writers (astropy) want to create the file themselves
    try:
        yield Path(tmp)
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)


@contextlib.contextmanager
def atomic_directory(path, *, overwrite=False):
    """Yield a temporary directory; it replaces ``path`` only when the block succeeds.

    Parameters
    ----------
    path : str or `~pathlib.Path`
        Final directory.
    overwrite : bool
        Replace an existing directory; otherwise
        `~astro_ocl.exceptions.OutputExistsError`.
    """
    path = Path(path)
    if path.exists() and not overwrite:
        raise OutputExistsError(f"{path} exists; pass overwrite=True (--overwrite) to replace it")
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{path.name}.", suffix=".part", dir=path.parent))
    try:
        yield tmp
        if path.exists():
            old = path.with_name(f".{path.name}.old")
            if old.exists():
                shutil.rmtree(old)
            os.replace(path, old)
            os.replace(tmp, path)
            shutil.rmtree(old)
        else:
            os.replace(tmp, path)
    finally:
        if tmp.exists():
            shutil.rmtree(tmp)
