"""astro_ocl: Galactic open clusters from Gaia and spectroscopic surveys.

Rebuilds and extends the homogeneous open-cluster catalogue of Fu et al. (2022,
A&A 668, A4): cluster radial velocities and [Fe/H] from LAMOST members of
Cantat-Gaudin et al. clusters, with Monte Carlo uncertainties and quality flags,
compared with the literature and published for CDS, TOPCAT and DS9.

Importing the package never touches the network.
"""
# first of all: numpy's and scipy's OpenBLAS thread pools start with SIGINT/SIGTERM
# blocked, so that Ctrl-C and kill always reach the main thread (astro_ocl._threads)
from ._threads import start_thread_pools as _start_thread_pools

_start_thread_pools()

from .version import __version__  # noqa: E402
from .config import conf, galactic_parameters  # noqa: F401,E402
from .logger import log  # noqa: F401,E402
from .pipeline import build_catalogue  # noqa: F401,E402  (network-free, no heavy imports)
# importing sinks registers the "votable.cds" and "cds.submission" writers
from . import sinks as _sinks  # noqa: F401,E402

__all__ = ["__version__", "conf", "galactic_parameters", "log", "build_catalogue"]
