"""Fixtures of the reproduction tests: one reproduction, written once."""
import pytest


@pytest.fixture(scope="package")
def result():
    """`reproduce_fu2022` with fewer realisations than the paper's 5000 (the per-star part
    is not what these tests check)."""
    from astro_ocl.reproduce import reproduce_fu2022
    return reproduce_fu2022(seed=1, n_realisations=500)


@pytest.fixture(scope="package")
def written(result, tmp_path_factory):
    """The report written to a folder, and its tables read back from the files."""
    from astropy.table import QTable
    out = tmp_path_factory.mktemp("reproduce") / "rep"
    files = result.write(out, figures=True)
    tables = {p.stem: QTable.read(p, format="ascii.ecsv") for p in files if p.suffix == ".ecsv"}
    return out, files, tables


@pytest.fixture(scope="package")
def published():
    from astro_ocl.reproduce import published_inputs
    return published_inputs()
