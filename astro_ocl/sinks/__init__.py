"""Writers: CDS VOTable, CDS submission bundle, regions.

Importing this package (which ``import astro_ocl`` does) registers two formats
with `astropy.io.registry` for `~astropy.table.Table` and
`~astropy.table.QTable`:

``"votable.cds"``
    `astro_ocl.sinks.votable_cds.write_votable_cds`: a VOTable with UCDs,
    VOUnits, descriptions, COOSYS and provenance.
``"cds.submission"``
    `astro_ocl.sinks.cds_bundle.write_cds_bundle`: a directory with a CDS ReadMe,
    fixed-width ``.dat`` files and the VOTables.

Registration is cheap: the writer modules (and cdspyreadme) are imported only
when a table is written.
"""
from astropy.io import registry as _registry
from astropy.table import QTable as _QTable, Table as _Table

__all__ = ["register_formats"]


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


def register_formats():
    """Register ``votable.cds`` and ``cds.submission`` writers (idempotent)."""
    for cls in (_Table, _QTable):
        for name, func in (("votable.cds", _write_votable_cds),
                           ("cds.submission", _write_cds_submission)):
            try:
                _registry.register_writer(name, cls, func)
            except _registry.IORegistryError:  # already registered (module reloaded)
                pass


register_formats()
