"""Subcommands of the ``astro-ocl`` command line (one module each)."""
