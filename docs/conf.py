# Sphinx configuration of the astro_ocl documentation (sphinx-astropy).
import os
from importlib.metadata import version as _version

from sphinx_astropy.conf.v2 import *  # noqa: F401,F403

project = "astro_ocl"
author = "The astro_ocl developers"
copyright = "2026, The astro_ocl developers"
release = _version("astro_ocl")
version = ".".join(release.split(".")[:2])

extensions += ["numpydoc"]  # noqa: F405
numpydoc_show_class_members = False
exclude_patterns = ["_build", "**.ipynb_checkpoints"]
html_title = f"astro_ocl {release}"

# Intersphinx needs the network; offline builds (the default here) skip it so that
# `sphinx-build -W` does not fail on unreachable inventories.
if not os.environ.get("ASTRO_OCL_DOCS_ONLINE"):
    intersphinx_mapping = {}
