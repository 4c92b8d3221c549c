"""The installed version of astro_ocl (``astro_ocl.__version__``).

In a module of its own so that the package's modules can name it without importing
the package's ``__init__`` (which imports them).
"""
from importlib.metadata import PackageNotFoundError, version as _version

try:
    __version__ = _version("astro_ocl")
except PackageNotFoundError:  # running from a source tree that is not installed
    __version__ = "0.0.0+unknown"

__all__ = ["__version__"]
