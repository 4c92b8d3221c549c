"""Sinks: everything that writes or sends a result; nothing here computes science.

Importing this package (which ``import astro_ocl`` does) registers two formats
with `astropy.io.registry` for `~astropy.table.Table` and
`~astropy.table.QTable` (ECSV and FITS are astropy's own):

``"votable.cds"``
    `astro_ocl.sinks.votable_cds.write_votable_cds`: a VOTable with UCDs,
    VOUnits, descriptions, COOSYS and provenance.
``"cds.submission"``
    `astro_ocl.sinks.cds_bundle.write_cds_bundle`: a directory with a CDS ReadMe,
    fixed-width ``.dat`` files and the VOTables.

and one for `~astro_ocl.result.CatalogueResult` (``result.write(folder)``):

``"astro_ocl.catalogue"``
    `astro_ocl.sinks.catalogue.write_catalogue`: the tables, logs and figures of a
    build into a folder.

Registration is cheap (the writer modules and cdspyreadme are imported only when
a table is written), never replaces a format someone else registered, and lets
any error of a writer through.

Modules: :mod:`~.sinks.tables` (plain tables for file formats),
:mod:`~.sinks.votable_cds`, :mod:`~.sinks.cds_bundle`, :mod:`~.sinks.catalogue`
(a whole result into a directory, atomically), :mod:`~.sinks.regions`,
:mod:`~.sinks.samp`, :mod:`~.sinks.figures` (figures only draw what they are given).
"""
from astropy.io import registry as _registry
from astropy.table import QTable as _QTable, Table as _Table

from ..result import CATALOGUE_FORMAT as _CATALOGUE_FORMAT, CatalogueResult as _Result

__all__ = ["register_formats", "FORMATS"]


def _write_votable_cds(table, path, **kwargs):
    from .votable_cds import write_votable_cds
    return write_votable_cds(table, path, **kwargs)


_write_votable_cds.__doc__ = (
    "Write a CDS-ready VOTable (see `astro_ocl.sinks.votable_cds.write_votable_cds`).")


def _write_cds_submission(table, path, **kwargs):
    from .cds_bundle import write_cds_bundle
    return write_cds_bundle(table, path, **kwargs)


_write_cds_submission.__doc__ = (
    "Write a CDS submission directory (see `astro_ocl.sinks.cds_bundle.write_cds_bundle`).")


def _read_votable_cds(path, **kwargs):
    from .votable_cds import read_votable_cds
    table = read_votable_cds(path, **kwargs)
    return table


def _write_catalogue(result, path, **kwargs):
    from .catalogue import write_catalogue
    return write_catalogue(result, path, **kwargs)


_write_catalogue.__doc__ = (
    "Write a build into a folder (see `astro_ocl.sinks.catalogue.write_catalogue`).")


_read_votable_cds.__doc__ = (
    "Read a VOTable written by ``votable.cds`` back as built (see "
    "`astro_ocl.sinks.votable_cds.read_votable_cds`).")

#: The formats this package adds to `astropy.io.registry` and their writers.
FORMATS = {"votable.cds": _write_votable_cds, "cds.submission": _write_cds_submission}

#: The readers it adds (``Table.read(path, format="votable.cds")``).
READERS = {"votable.cds": _read_votable_cds}


def _as(cls, func):
    """``func`` returning a ``cls`` (a QTable reader also serves ``Table.read``)."""
    def reader(path, **kwargs):
        table = func(path, **kwargs)
        return table if cls is _QTable else _Table(table)
    reader.__doc__ = func.__doc__
    reader.__module__ = __name__
    return reader


def _ours(func):
    return getattr(func, "__module__", None) == __name__


def _register(kind, name, cls, func, *, what=None):
    """Register ``func`` as the ``kind`` (``"writer"``, ``"reader"``) of ``name`` for ``cls``.

    Nothing happens when one is registered already: ours (idempotent), or, with
    ``what`` None, anyone's. With ``what`` (how the message names it), another
    package's raises `~astropy.io.registry.IORegistryError`: it is never replaced.
    """
    try:
        existing = getattr(_registry, f"get_{kind}")(name, cls)
    except _registry.IORegistryError:  # not registered yet
        existing = None
    if existing is None:
        getattr(_registry, f"register_{kind}")(name, cls, func)
    elif what is not None and not _ours(existing):
        raise _registry.IORegistryError(
            f"{what} {name!r} of {cls.__name__} is already registered by "
            f"{existing.__module__}; astro_ocl does not replace it")


def register_formats():
    """Register the ``votable.cds`` and ``cds.submission`` writers (idempotent).

    Raises
    ------
    astropy.io.registry.IORegistryError
        When another package already registered one of these names: it is never
        replaced.
    """
    for cls in (_Table, _QTable):
        for name, func in FORMATS.items():
            _register("writer", name, cls, func, what="format")
        for name, func in READERS.items():
            _register("reader", name, cls, _as(cls, func), what="reader")
    _register("writer", _CATALOGUE_FORMAT, _Result, _write_catalogue)


register_formats()
