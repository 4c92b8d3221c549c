"""Science defaults are keyword defaults recorded in the provenance, never configuration;
the provenance is complete before it is copied into the tables."""
import astropy.units as u

import astro_ocl


def test_provenance_complete_before_it_is_copied():
    res = astro_ocl.build_catalogue(clusters=["NGC_2682"], n_realisations=50, seed=1,
                                    surveys=["lamost_lrs"],
                                    orbit_samples=3, literature=False)
    for key, value in res.provenance.items():
        assert res.clusters.meta[key] == value and res.members.meta[key] == value
    assert res.clusters.meta["orbit_samples"] == 3


def test_science_defaults_are_not_config():
    import inspect
    sig = inspect.signature(astro_ocl.build_catalogue)
    assert sig.parameters["membership_threshold"].default == 0.7
    assert sig.parameters["n_realisations"].default == 5000
    # the radius is each survey's own unless given (LAMOST: 3.5 arcsec, the fibre is 3.3)
    assert sig.parameters["match_radius"].default is None
    from astro_ocl.sources import SURVEYS
    assert SURVEYS["lamost_lrs"].match_radius == 3.5 * u.arcsec
    for name in ("membership_threshold", "n_realisations", "match_radius_arcsec"):
        assert not hasattr(astro_ocl.conf, name)
    res = astro_ocl.build_catalogue(clusters=["NGC_2682"], seed=1, orbits=False,
                                    surveys=["lamost_lrs"],
                                    literature=False)
    assert res.provenance["membership_threshold"] == 0.7
    assert res.provenance["n_realisations"] == 5000
    assert res.provenance["match_radius"] == "LAMOST-LRS: 3.5 arcsec"
