"""The published meaning of the flags follows the cuts a build used."""
import astropy.units as u

import astro_ocl
from astro_ocl.steps.quality import QualityCuts

FAST = dict(n_realisations=50, seed=1, orbits=False, literature=False)


def test_flag_meaning_follows_the_cuts(tmp_path):
    from astropy.io.votable import parse_single_table

    from astro_ocl.sinks.cds_bundle import write_cds_bundle
    cuts = QualityCuts(rv_nsigma=3, teff_min=4500 * u.K)
    res = astro_ocl.build_catalogue(clusters=["NGC_2682"], cuts=cuts, surveys=["lamost_lrs"],
                                    statistics="fu2022-montecarlo", **FAST)
    files = write_cds_bundle(res, tmp_path / "cds")
    readme = (tmp_path / "cds" / "ReadMe").read_text()
    flat = " ".join(readme.split())
    assert "beyond 3 sigma" in flat and "4500 K <= Teff <= 7500 K" in flat
    assert "2 sigma" not in flat and "4000 K" not in flat
    assert "50 Monte Carlo realisations" in flat          # not a hard-coded 5000
    members = parse_single_table(str(tmp_path / "cds" / "members.vot"))
    assert "3 sigma" in members.get_field_by_id("Flag").description
    clusters = parse_single_table(str(tmp_path / "cds" / "clusters.vot"))
    assert "3 sigma" in clusters.get_field_by_id("Nflag1").description
    assert "4500 K" in clusters.get_field_by_id("Nflag12").description
    assert res.members["Flag"].info.description.count("3 sigma") == 2
    assert len(files) == 5
