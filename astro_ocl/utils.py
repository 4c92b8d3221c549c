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

__all__ = ["progress", "atomic_path", "atomic_directory", "atomic_files", "check_outputs",
           "data_path", "describe_input"]


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
        raise OutputExistsError(path)
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
        raise OutputExistsError(path)
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


def check_outputs(paths, *, overwrite=False):
    """Raise `~astro_ocl.exceptions.OutputExistsError` for the first existing path.

    Meant to run before any work, so that a run refuses at once rather than
    after minutes of computing.

    Parameters
    ----------
    paths : iterable of str or `~pathlib.Path`
        Files (or directories) a run is going to write.
    overwrite : bool
        When true, nothing is checked.
    """
    if overwrite:
        return
    for p in paths:
        if Path(p).exists():
            raise OutputExistsError(p)


@contextlib.contextmanager
def atomic_files(directory, *, overwrite=False):
    """Stage files in a temporary directory; move them into ``directory`` as a set.

    Write every output into the yielded directory (subdirectories allowed). When
    the block succeeds, each staged file replaces the file of the same relative
    name in ``directory`` and nothing else there is touched: unrelated files
    stay. When the block or a move fails, the files replaced so far are
    restored, new ones removed, and the staging directory deleted: the
    outputs change all together or not at all.

    Parameters
    ----------
    directory : str or `~pathlib.Path`
        Destination (created if needed).
    overwrite : bool
        Replace existing files of the same names; otherwise
        `~astro_ocl.exceptions.OutputExistsError` names the first one (checked
        before anything is moved).
    """
    directory = Path(directory)
    if directory.exists() and not directory.is_dir():
        raise OutputExistsError(directory, f"{directory} exists and is not a directory")
    created = not directory.exists()
    directory.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=".astro_ocl.", suffix=".part", dir=directory))
    moved, backups = [], []
    try:
        yield tmp
        staged = sorted(p.relative_to(tmp) for p in tmp.rglob("*") if not p.is_dir())
        check_outputs([directory / r for r in staged], overwrite=overwrite)
        for rel in staged:
            target = directory / rel
            target.parent.mkdir(parents=True, exist_ok=True)
            if target.exists():
                backup = target.with_name(f".{target.name}.old")
                os.replace(target, backup)
                backups.append((backup, target))
            os.replace(tmp / rel, target)
            moved.append(target)
    except BaseException:
        backed = {t for _, t in backups}
        for target in moved:
            if target not in backed and target.exists():
                target.unlink()
        for backup, target in backups:
            os.replace(backup, target)
        shutil.rmtree(tmp, ignore_errors=True)
        if created:  # a directory this call made is removed again (with any subfolders)
            shutil.rmtree(directory, ignore_errors=True)
        raise
    else:
        for backup, _ in backups:
            backup.unlink()
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


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
    import hashlib
    if source is None:
        return "<table>"
    text = str(source)
    path = Path(text)
    try:
        if not path.is_file():
            return text
    except OSError:  # not a path at all (a query, a long description)
        return text
    digest = hashlib.sha256(path.read_bytes()).hexdigest()[:16]
    data_dir = data_path("").resolve()
    try:
        name = f"astro_ocl/data/{path.resolve().relative_to(data_dir).as_posix()}"
    except ValueError:
        name = text
    return f"{name} (sha256 {digest})"
