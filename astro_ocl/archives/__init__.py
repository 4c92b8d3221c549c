"""Archive access: Gaia and VizieR through TAP.

Every query goes through :class:`~astro_ocl.archives.tap.TAPClient` (pyvo, with
timeouts, retries, a row-limit guard and a result cache); ADQL is built with
:mod:`astro_ocl.archives.adql`; units are normalised by
:mod:`astro_ocl.archives.units`. Service modules: :mod:`~astro_ocl.archives.gaia`,
:mod:`~astro_ocl.archives.vizier`, :mod:`~astro_ocl.archives.lamost` (local LAMOST
files), :mod:`~astro_ocl.archives.online` (inputs of the online build).
Importing this package makes no network request.
"""
from .adql import in_list, quote_identifier, quote_literal, quote_table
from .cache import QueryCache
from .tap import TAPClient

__all__ = ["TAPClient", "QueryCache", "quote_identifier", "quote_literal", "quote_table",
           "in_list"]
