"""``AgeNN`` (log10 age in yr) carries ``dex(yr)`` everywhere: the
schema, the readers, the steps and every written format read back with the unit."""
import astropy.units as u
import numpy as np
import pytest
from astropy.table import QTable, Table

from astro_ocl import schema
from astro_ocl.exceptions import InputDataError
from astro_ocl.sinks.cds_bundle import write_cds_bundle
from astro_ocl.sources import read_cg2020_clusters
from astro_ocl.steps import gradients as g


def _is_log_age(col):
    return isinstance(col, u.Dex) and col.unit == schema.DEX_YR


def test_schema_unit_of_log_ages():
    for tdef in (schema.CLUSTERS, schema.CG2020):
        spec = tdef["AgeNN"]
        assert spec.unit == u.dex(u.yr) and spec.cds_unit == "[yr]"
        # the CDS spelling of the unit is the schema unit (what ascii.cds reads back)
        assert u.Unit(spec.cds_unit, format="cds") == spec.unit
    assert schema.DEX_YR.physical_unit == u.yr


def test_cg2020_reader_gives_dex_yr():
    cg = read_cg2020_clusters()
    age = cg["AgeNN"]
    assert _is_log_age(age)
    years = age.physical.to_value(u.yr)
    ok = np.isfinite(years)
    assert ok.sum() > 0.9 * len(cg)
    # open clusters: a few Myr to the age of the Universe
    assert np.all((years[ok] > 1e6) & (years[ok] < 1.4e10))


def test_built_catalogue_and_round_trips(result, tmp_path):
    c = result.clusters
    assert _is_log_age(c["AgeNN"])
    ok = np.isfinite(c["AgeNN"].value)
    assert ok.any()
    c.write(tmp_path / "c.ecsv")
    ecsv = QTable.read(tmp_path / "c.ecsv")
    c.write(tmp_path / "c.vot", format="votable.cds")
    vot = QTable.read(tmp_path / "c.vot", format="votable.cds")
    for back in (ecsv, vot):
        assert _is_log_age(back["AgeNN"])
        # written at the schema precision (F5.2)
        assert np.allclose(back["AgeNN"].value[ok], c["AgeNN"].value[ok], atol=0.005, rtol=0)
    # VOTable: unitless (no VOUnit for dex), the unit said in the description
    from astropy.io.votable import parse
    field = next(f for f in parse(str(tmp_path / "c.vot")).get_first_table().fields
                 if f.name == "AgeNN")
    assert field.unit is None and "dex(yr)" in field.description
    # CDS bundle: "[yr]" in the ReadMe, ascii.cds gives dex(yr) back
    write_cds_bundle(result, tmp_path / "cds")
    readme = (tmp_path / "cds" / "ReadMe").read_text()
    line = next(x for x in readme.splitlines() if " AgeNN " in x)
    words = line.split()
    assert words[words.index("AgeNN") - 1] == "[yr]", line
    back = Table.read(tmp_path / "cds" / "clusters.dat", readme=str(tmp_path / "cds" / "ReadMe"),
                      format="ascii.cds")
    assert u.Unit(back["AgeNN"].unit) == u.dex(u.yr)
    assert np.allclose(np.asarray(back["AgeNN"], float)[ok], c["AgeNN"].value[ok], atol=0.005)


def test_log_age_helper():
    q = schema.log_age(np.array([9.0, np.nan]) * u.dex(u.yr))
    assert _is_log_age(q) and np.isnan(q.value[1])
    # another logarithmic time unit is converted, plain numbers are log10(age/yr)
    assert np.allclose(schema.log_age(np.array([3.0]) * u.dex(u.Myr)).value, [9.0])
    assert np.allclose(schema.log_age([8.5]).physical.to_value(u.yr), [10 ** 8.5])
    with pytest.raises(InputDataError, match="AgeNN"):
        schema.log_age(np.array([0.1]) * u.dex)  # [Fe/H]-like, not an age


def test_gradient_age_groups_follow_the_unit(result):
    """The age groups come from the age itself: dex(yr), dex(Myr) and plain log10 yr agree."""
    from astro_ocl.reproduce import published_inputs
    cl = published_inputs()
    assert _is_log_age(cl["AgeNN"])
    cols = ("Cluster", "RGC", "LZ", "Energy", "[Fe/H]med", "e_[Fe/H]med", "Nflag12", "AgeNN")
    if "RGC" not in cl.colnames:  # published table without the dynamical columns
        cols = ("Cluster", "coord", "[Fe/H]med", "e_[Fe/H]med", "Nflag12", "AgeNN")
    base = QTable([cl[c] for c in cols], names=cols)
    groups = []
    for age in (base["AgeNN"], base["AgeNN"].to(u.dex(u.Myr)), base["AgeNN"].value):
        t = base.copy()
        t["AgeNN"] = age
        res = g.gradient_table(t, include_all=False)
        groups.append(dict(zip(res.clusters["Cluster"], res.clusters["age_group"])))
        assert _is_log_age(res.clusters["AgeNN"])
    assert groups[0] == groups[1] == groups[2] and len(groups[0]) > 50
    # a cluster of 10**8.9 yr is in the 0.5-1 Gyr group, 10**9.1 yr in 1-2 Gyr
    ages = dict(zip(base["Cluster"], base["AgeNN"].value))
    for name, label in groups[0].items():
        gyr = 10 ** (ages[name] - 9)
        lo, hi = next((lo, hi) for lab, lo, hi in g.AGE_GROUPS if lab == label)
        assert lo <= gyr < hi, (name, gyr, label)
