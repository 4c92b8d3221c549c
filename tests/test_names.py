import pytest

from astro_ocl.sources import NameResolver, cluster_resolver, name_key, normalise_name
from astro_ocl.exceptions import UnknownClusterError


@pytest.mark.parametrize("spelling", ["NGC2682", "NGC_2682", "NGC 2682", "ngc 2682",
                                      " NGC  2682 ", "NGC-2682", "M67"])
def test_spellings_resolve_to_cg2020(spelling):
    assert cluster_resolver().resolve(spelling) == "NGC_2682"


@pytest.mark.parametrize("raw, expected", [
    ("NGC0752", "NGC_752"), ("Trump02", "Trumpler_2"), ("IC4665", "IC_4665"),
    ("Stock2", "Stock_2"), ("Pleiades", "Melotte_22"), ("Berkeley 29", "Berkeley_29"),
    ("NGC0869", "NGC_869"),
])
def test_survey_names_from_the_embedded_lamost_file(raw, expected):
    assert cluster_resolver().resolve(raw) == expected


def test_leading_zeros_kept_where_catalogue_has_them():
    r = NameResolver(["FSR_0133"])
    assert r.resolve("FSR 133") == "FSR_0133"
    assert name_key("FSR_0133") == name_key("FSR133")


def test_unknown_name_raises_with_suggestions():
    with pytest.raises(UnknownClusterError, match=r"unknown cluster 'NGC_26820'.*NGC_2682"):
        cluster_resolver().resolve("NGC_26820")


def test_resolve_many_counts_unknown():
    names, n = cluster_resolver().resolve_many(["NGC2682", "Not A Cluster 1"])
    assert names == ["NGC_2682", "Not_A_Cluster_1"]
    assert n == 1


def test_normalise_name_without_reference():
    assert normalise_name("UBC 1") == "UBC_1"
