"""The orbit/gradient stage of the build, the gradients command and the figures."""
import logging

import astropy.units as u
import numpy as np
import pytest

from astro_ocl.cli import main
from astro_ocl.exceptions import AstroOCLWarning
from astro_ocl.pipeline import build_catalogue


@pytest.fixture(scope="module")
def small_result():
    # 3 clusters: too few for the gradients, which fall back to Zhong et al. 2020, loudly
    # galpy imports astroquery, which replaces warnings.showwarning on import: import it
    # first so that pytest.warns sees the warning
    import galpy.potential  # noqa: F401
    with pytest.warns(AstroOCLWarning, match="fitted on Zhong"):
        return build_catalogue(clusters=["NGC_2682", "NGC_2168", "IC_4665"],
                               n_realisations=200, surveys=["lamost_lrs"],
                               seed=7, orbit_samples=20, literature=False,
                               gradients=True)


def test_build_adds_orbit_columns(small_result):
    c = small_result.clusters
    for name in ("LX", "LY", "LZ", "ULSR", "VLSR", "WLSR", "ZGC", "RGC", "Peri", "Apo",
                 "Energy", "ecc", "vphi", "Zmax", "e_LZ", "e_Energy", "e_ecc"):
        assert name in c.colnames, name
    assert c["LZ"].unit == u.kpc * u.km / u.s
    assert np.all(c["e_RGC"] > 0 * u.kpc)
    m67 = c[list(c["Cluster"]).index("NGC_2682")]
    assert 8.5 < m67["RGC"].to_value(u.kpc) < 9.2
    assert 0.3 < m67["ZGC"].to_value(u.kpc) < 0.6
    assert "orbits" in [r["stage"] for r in small_result.stage_log]
    h = small_result.orbit_history
    assert len(h) == 6 * len(c)
    assert set(h["lookback"].to_value(u.Myr)) == {0, 100, 200, 300, 400, 500}


def test_orbit_draws_do_not_depend_on_other_clusters(small_result):
    one = build_catalogue(clusters=["NGC_2682"], n_realisations=200, seed=7, orbit_samples=20,
                          literature=False, surveys=["lamost_lrs"])
    full = small_result.clusters[list(small_result.clusters["Cluster"]).index("NGC_2682")]
    for name in ("e_RGC", "e_Apo", "e_ecc", "Peri"):
        assert one.clusters[name][0] == full[name]


def test_build_gradients_fall_back_to_zhong2020(small_result):
    g = small_result.gradients
    assert "Zhong" in g.source
    assert small_result.provenance["gradients_fitted_on"] == g.source
    assert small_result.clusters.meta["gradients_fitted_on"] == g.source
    assert len(g.table) == 21 and g.table["fitted"].sum() >= 15


def test_figures(small_result, tmp_path, caplog):
    from astro_ocl.sinks.figures import dynamics as pd
    with caplog.at_level(logging.INFO, logger="astro_ocl"):
        files = pd.make_figures(small_result, tmp_path, formats=("png",))
    names = {f.name for f in files}
    assert {"fig09_ecc_apo.png", "fig11_integrals.png", "fig12_z_rgc_vphi.png",
            "fig08_feh_rgc_zhong2020.png", "fig10_feh_lz_zhong2020.png",
            "fig10_feh_energy_zhong2020.png", "fig09_ecc_apo_zhong2020.png"} <= names
    assert all(f.stat().st_size > 1000 for f in files)
    # a result without orbits or gradients: figures skipped, and the log says so
    bare = build_catalogue(clusters=["NGC_2682"], n_realisations=50, seed=1, orbits=False,
                           literature=False, surveys=["lamost_lrs"])
    caplog.clear()
    with caplog.at_level(logging.INFO, logger="astro_ocl"):
        assert pd.make_figures(bare, tmp_path / "bare", formats=("png",)) == []
    text = caplog.text
    assert "Fig. 9 skipped" in text and "Figs. 8 and 10 skipped" in text


def test_gradients_command(tmp_path, capsys):
    out = tmp_path / "g.ecsv"
    assert main(["gradients", "--walkers", "8", "--steps", "3000", "--jobs", "1", "--seed",
                 "2", "--min-clusters", "40", "--out", str(out)]) == 0
    text = capsys.readouterr().out
    assert "RGC" in text and ">4 Gyr" in text
    from astropy.table import QTable
    t = QTable.read(out)
    assert len(t) == 21 and t.meta["nwalkers"] == 8
    assert main(["gradients", "--out", str(out), "--steps", "10"]) == 1  # exists


def test_catalogue_with_enough_clusters_is_fitted_itself():
    from astro_ocl.sources.clusters import read_cluster_dynamics_input
    from astro_ocl.steps.gradients import gradients_for_catalogue
    big = read_cluster_dynamics_input()
    res = gradients_for_catalogue(big, nwalkers=8, nsteps=3000, seed=1, min_clusters=100,
                                  n_jobs=1)
    assert res.source == "this catalogue"
    assert list(res.table["fitted"]).count(True) == 3  # only "all" has >= 100 clusters
