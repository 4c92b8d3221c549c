"""Publication tests (CDS VOTable/bundle, SAMP with TOPCAT, regions, figures).

A package, so that its conftest is imported as ``publish.conftest`` and does not
shadow ``tests/conftest.py`` (whose helpers other tests import as ``conftest``).
"""
