"""Archive access: Gaia and VizieR through TAP.

Every query goes through :class:`~astro_ocl.sources.archives.tap.TAPClient` (pyvo, with
timeouts, retries, a row-limit guard and a result cache); ADQL is built with
:mod:`astro_ocl.sources.archives.adql`; units are normalised by
:mod:`astro_ocl.sources.archives.units`. Service modules: :mod:`~astro_ocl.sources.archives.gaia`,
:mod:`~astro_ocl.sources.archives.vizier`, :mod:`~astro_ocl.sources.surveys` (local LAMOST
files), :mod:`~astro_ocl.sources.archives.online` (inputs of the online build).
Importing this package makes no network request.
"""
from .adql import in_list, quote_identifier, quote_literal, quote_table
from .cache import QueryCache
from .tap import TAPClient

__all__ = ["TAPClient", "QueryCache", "quote_identifier", "quote_literal", "quote_table",
           "in_list"]
