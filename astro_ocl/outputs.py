"""Output files and folders: checked before any work, written atomically, never deleting.

Every writer of the package goes through this module:

* :func:`check_output_folder` and :func:`check_output_file` run **before any
  work** (the command line calls them first) and refuse, with one clear error,
  an output that cannot be written or must never be a package output folder:
  ``/``, the home folder, the working folder or one of its parents, a path where
  a file stands, a folder that cannot be written (``/proc/...``);
* :func:`output_folder` stages a run's files in a temporary folder inside the
  destination and moves them in **file by file** when the run succeeds (all
  together: a failure restores every replaced file). Nothing else in the
  folder is touched: a user's own files and folders there stay. A manifest,
  :data:`MANIFEST`, lists the files the package wrote there (size, SHA-256,
  writer, time, what they hold); files an earlier run wrote that this run did
  not write again are kept and named in a warning, never deleted;
* :func:`atomic_path` writes one file atomically.

The package never deletes a file it did not write: the only files removed are
its own temporary files and, when a run fails, the files of that run.
"""
import contextlib
import datetime
import json
import os
import shutil
import tempfile
import warnings
from pathlib import Path

from ._threads import signals_blocked
from .exceptions import AstroOCLWarning, OutputExistsError, OutputPathError
from .utils import file_sha256, sigterm_as_interrupt

__all__ = ["MANIFEST", "check_output_folder", "check_output_file", "output_folder",
           "atomic_path", "read_manifest"]

#: The manifest the package writes into each output folder it writes: which files
#: it wrote there, with their size, SHA-256, writer, time and contents.
MANIFEST = "astro_ocl_manifest.json"

_STAGING_SUFFIX = ".part"
#: Staging folders of the `output_folder` blocks running in this process: a folder
#: written inside one of them is part of that block's output (no manifest of its own).
_ACTIVE = []


def _protected(path):
    """Why ``path`` (resolved) may never be an output folder, or None."""
    resolved = path.resolve()
    cwd = Path.cwd().resolve()
    if resolved == Path(resolved.anchor):
        return "is the root of the file system"
    if resolved == Path.home().resolve():
        return "is the home folder"
    if resolved == cwd:
        return "is the working folder"
    if resolved in cwd.parents:
        return "is a parent of the working folder"
    return None


def _nearest_existing(path):
    parent = path
    while not parent.exists() and parent != parent.parent:
        parent = parent.parent
    return parent


def _check_writable(path, option, *, folder):
    """Raise `OutputPathError` unless files can be created in ``folder`` (made if needed);
    ``path`` is the output named in the message."""
    existing = _nearest_existing(folder)
    if not existing.is_dir():
        raise OutputPathError(path, f"{existing} is a file, not a folder", option=option)
    try:  # a real probe: permissions, read-only mounts, /proc and /sys alike
        probe = tempfile.mkdtemp(prefix=".astro_ocl-probe.", dir=existing)
    except OSError as exc:
        raise OutputPathError(path, f"cannot write into {existing} "
                                    f"({exc.strerror or exc})", option=option) from None
    os.rmdir(probe)


def check_output_folder(path, *, names=(), overwrite=False, option="out"):
    """Check an output folder before any work; raise a clear error if it cannot be used.

    Parameters
    ----------
    path : str or `~pathlib.Path`
        The folder a run is going to write into (created if needed).
    names : iterable of str
        The files (paths relative to ``path``, glob patterns allowed) the run writes.
    overwrite : bool
        Whether existing files of these names may be replaced.
    option : str
        The option that named ``path`` (``"out"``, ``"--out"``), for the message.

    Raises
    ------
    astro_ocl.exceptions.OutputPathError
        ``path`` is ``/``, the home folder, the working folder or one of its
        parents; a file stands at ``path`` or where one of its parent folders
        should be; the folder cannot be written; or, ``overwrite`` or not, a
        folder stands at one of ``names`` or a file where one of their folders
        goes (``figures`` of ``figures/fig01_sky.png``).
    astro_ocl.exceptions.OutputExistsError
        Without ``overwrite``: one of ``names`` exists in ``path``.
    """
    path = Path(path)
    why = _protected(path)
    if why:
        raise OutputPathError(path, f"{why}; write into a new or package-made folder, "
                                    "e.g. ./catalogue", option=option)
    if path.exists() and not path.is_dir():
        raise OutputPathError(path, "is a file, not a folder", option=option)
    _check_writable(path, option, folder=path)
    if path.is_dir():
        _check_names(path, names, option)
        if not overwrite:
            for name in names:
                hits = _matches(path, name)
                if hits:
                    raise OutputExistsError(hits[0])


def _glob(text):
    return any(c in text for c in "*?[")


def _matches(folder, name):
    """What stands in ``folder`` at ``name`` (a relative path, maybe a glob pattern)."""
    if _glob(name):
        return sorted(folder.glob(name))
    return [folder / name] if (folder / name).exists() else []


def _check_names(folder, names, option):
    """Raise `OutputPathError` where a folder stands at a file name of ``names`` or a
    file where one of their folders goes (a run could replace neither)."""
    where = f"{option}={folder}"
    for name in names:
        sub = folder
        for part in Path(name).parts[:-1]:  # the folders the run makes or writes into
            if _glob(part):
                break
            sub = sub / part
            if sub.exists() and not sub.is_dir():
                raise OutputPathError(sub, f"is a file; the run writes a folder of this name "
                                           f"(into {where})")
        for hit in _matches(folder, name):
            if hit.is_dir():
                raise OutputPathError(hit, f"is a folder; the run writes a file of this name "
                                           f"(into {where})")


def check_output_file(path, *, overwrite=False, option="out"):
    """Check an output file before any work (see `check_output_folder`).

    Raises
    ------
    astro_ocl.exceptions.OutputPathError
        ``path`` is a folder, or its folder cannot be written.
    astro_ocl.exceptions.OutputExistsError
        ``path`` exists and ``overwrite`` is false.
    """
    path = Path(path)
    if path.is_dir():
        raise OutputPathError(path, "is a folder, not a file", option=option)
    _check_writable(path, option, folder=path.parent)
    if path.exists() and not overwrite:
        raise OutputExistsError(path)


def read_manifest(folder):
    """The manifest of an output folder as a dict (``{"files": {}}`` when there is none).

    Parameters
    ----------
    folder : str or `~pathlib.Path`
    """
    path = Path(folder) / MANIFEST
    if not path.is_file():
        return {"files": {}}
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {"files": {}}
    return data if isinstance(data.get("files"), dict) else {"files": {}}


@contextlib.contextmanager
def output_folder(path, *, overwrite=False, writer="astro_ocl", contents=None, manifest=True):
    """Stage a run's files; move them into ``path`` file by file when the block succeeds.

    Write every output into the yielded folder (subfolders allowed). On success
    each staged file replaces the file of the same name in ``path`` (existing
    ones only with ``overwrite``) and the manifest (:data:`MANIFEST`) is
    updated; nothing else in ``path`` is touched. On failure, Ctrl-C or SIGTERM
    the files replaced so far are restored, new ones removed, and folders this
    block created removed when empty: the outputs change all together or not at
    all. A folder written inside another `output_folder` block is part of that
    block's output (it gets no manifest of its own).

    Parameters
    ----------
    path : str or `~pathlib.Path`
        Destination folder (created if needed); checked with `check_output_folder`.
    overwrite : bool
        Replace existing files of the same names; otherwise
        `~astro_ocl.exceptions.OutputExistsError` names the first one (checked
        before anything is moved).
    writer : str
        Who writes (``"astro-ocl build"``, ``"write_cds_bundle"``), for the manifest.
    contents : dict, optional
        ``{relative file name: what it holds}`` for the manifest.
    manifest : bool
        Write the manifest (a CDS submission folder holds only what CDS receives).
        A block that writes no file leaves the manifest as it was.
    """
    path = Path(path)
    resolved = path.resolve()
    if any(a == resolved or a in resolved.parents for a in _ACTIVE):
        path.mkdir(parents=True, exist_ok=True)  # inside a staged output: the outer block owns it
        yield path
        return
    check_output_folder(path, overwrite=overwrite)
    made = []  # folders this block creates, deepest last
    for parent in reversed([path, *path.parents]):
        if not parent.exists():
            made.append(parent)
    path.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=".astro_ocl.", suffix=_STAGING_SUFFIX, dir=path))
    _ACTIVE.append(tmp.resolve())
    moved, backups, new_dirs = [], [], []
    try:
        with sigterm_as_interrupt():
            yield tmp
        staged = sorted(p.relative_to(tmp) for p in tmp.rglob("*") if not p.is_dir())
        if not overwrite:
            for rel in staged:
                if (path / rel).exists():
                    raise OutputExistsError(path / rel)
        listed = read_manifest(path)
        with signals_blocked():  # the swap is not interrupted half-way
            for rel in staged:
                target = path / rel
                for d in reversed([p for p in target.parents if p != path and path in p.parents]):
                    if d.exists() and not d.is_dir():
                        raise OutputPathError(d, "is a file; the run writes a folder of this name")
                    if not d.exists():
                        d.mkdir()
                        new_dirs.append(d)
                if target.is_dir():
                    raise OutputPathError(target, "is a folder; the run writes a file there")
                if target.exists():
                    backup = target.with_name(f".{target.name}.astro_ocl-old")
                    os.replace(target, backup)
                    backups.append((backup, target))
                os.replace(tmp / rel, target)
                moved.append(target)
            if manifest and staged:
                _write_manifest(path, listed, staged, writer=writer, contents=contents or {})
    except BaseException:
        with signals_blocked():
            backed = {t for _, t in backups}
            for target in moved:
                if target not in backed and target.exists():
                    target.unlink()
            for backup, target in backups:
                os.replace(backup, target)
            shutil.rmtree(tmp, ignore_errors=True)
            for d in reversed(new_dirs + made):  # only folders this block made, when empty
                with contextlib.suppress(OSError):
                    d.rmdir()
        raise
    else:
        for backup, _ in backups:
            backup.unlink()
    finally:
        _ACTIVE.remove(tmp.resolve())
        shutil.rmtree(tmp, ignore_errors=True)


def _write_manifest(folder, manifest, staged, *, writer, contents):
    """Record the files just written (and keep what earlier runs wrote, flagged)."""
    now = datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds")
    files = manifest.get("files", {})
    written = {rel.as_posix() for rel in staged}
    earlier = sorted(name for name, entry in files.items()
                     if name not in written and entry.get("writer") == writer
                     and (folder / name).is_file())
    for name in list(files):
        if name not in written and not (folder / name).is_file():
            del files[name]  # gone (removed by the user): not listed any more
    for name in earlier:
        files[name]["this_run"] = False
    for rel in staged:
        name = rel.as_posix()
        target = folder / rel
        files[name] = {"bytes": target.stat().st_size, "sha256": file_sha256(target),
                       "writer": writer, "written": now, "this_run": True,
                       "contents": contents.get(name, "")}
    for name, entry in files.items():
        if entry.get("writer") != writer:
            entry["this_run"] = False
    data = {"about": "files astro_ocl wrote into this folder; files not listed here are "
                     "not the package's and are never changed or removed by it",
            "writer": writer, "written": now, "files": dict(sorted(files.items()))}
    with atomic_path(folder / MANIFEST, overwrite=True) as tmp:
        tmp.write_text(json.dumps(data, indent=1) + "\n", encoding="utf-8")
    if earlier:
        n = len(earlier)
        warnings.warn(f"{n} file{'s' if n != 1 else ''} that an earlier run of {writer} wrote "
                      f"in {folder} {'were' if n != 1 else 'was'} not written by this run and "
                      f"stay{'s' if n == 1 else ''} as before: "
                      f"{', '.join(earlier[:5])}{' ...' if len(earlier) > 5 else ''} "
                      f"(see {MANIFEST})", AstroOCLWarning)


@contextlib.contextmanager
def atomic_path(path, *, overwrite=False):
    """Yield a temporary path next to ``path``; move it onto ``path`` on success.

    A failure inside the block, Ctrl-C or SIGTERM leaves neither a partial
    ``path`` nor the temporary file behind. The file gets the modes of any new
    file (the umask), like the package's other outputs.

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
    if path.is_dir():
        raise OutputPathError(path, "is a folder, not a file")
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=_STAGING_SUFFIX, dir=path.parent)
    os.close(fd)
    os.unlink(tmp)  # writers (astropy) want to create the file themselves
    try:
        with sigterm_as_interrupt():
            yield Path(tmp)
            os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)
