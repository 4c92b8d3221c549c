"""Figures of astro_ocl.sinks.figures.catalogue:
content (labels with units, points = data) and files."""
import json

import astropy.units as u
import numpy as np
import pytest

from astro_ocl.outputs import MANIFEST
from astro_ocl.sinks.figures import catalogue as cat


def _by_gid(fig, gid):
    return [c for ax in fig.axes for c in list(ax.collections) + list(ax.lines)
            if c.get_gid() == gid]


def _npoints(fig, gid):
    return sum(len(c.get_offsets()) for c in _by_gid(fig, gid))


def _labels(fig):
    return [(ax.get_xlabel(), ax.get_ylabel()) for ax in fig.axes if ax.get_visible()
            and ax.get_xlabel()]


def test_fig1_sky(result):
    fig = cat.fig_sky(result)
    flags = np.asarray(result.members["Flag"])
    for f in (0, 1, 12):
        assert _npoints(fig, f"members-flag{f}") == (flags == f).sum()
    assert _npoints(fig, "clusters") == len(result.clusters)
    assert ("Galactic longitude l (deg)", "Galactic latitude b (deg)") in _labels(fig)
    assert fig.axes[0].get_legend() is not None


def test_fig2_rv_profiles(result):
    fig = cat.fig_rv_profiles(result)
    shown = min(16, len(result.clusters))
    n_stars = sum(sorted(np.asarray(result.clusters["Nall"]))[::-1][:shown])
    lines = sum(len(_by_gid(fig, f"star-flag{f}")) for f in (0, 1, 12))
    assert lines == n_stars
    assert all(x == "RV (km/s)" for x, _ in _labels(fig))
    assert fig.legends  # flag colours, band, RVmean
    one = cat.fig_rv_profiles(result, clusters=["NGC_2682"])
    assert len(_by_gid(one, "star-flag12")) == int(
        ((np.asarray(result.members["Cluster"]) == "NGC_2682")
         & (np.asarray(result.members["Flag"]) == 12)).sum())


def test_fig3_delta_rv(result):
    fig = cat.fig_delta_rv(result)
    t = result.matched[("Soubiran2018", "RV")]
    patches = [p for p in fig.axes[0].patches if p.get_gid() == "delta-rv"]
    assert patches
    counts = fig.axes[0].containers[0].datavalues if fig.axes[0].containers else None
    if counts is not None:
        assert counts.sum() == np.isfinite(np.asarray(u.Quantity(t["diff"]).value)).sum()
    assert "km/s" in fig.axes[0].get_xlabel()
    # star-level when the member table has Gaia RVs
    r = type(result)(clusters=result.clusters, members=result.members.copy(),
                     provenance=result.provenance)
    r.members["RV_Gaia"] = r.members["RV"] + 5 * u.km / u.s
    fig = cat.fig_delta_rv(r)
    assert "member stars" in fig.axes[0].get_title()
    assert str(len(r.members)) in fig.axes[0].get_title()
    # nothing to compare with: no figure
    r2 = type(result)(clusters=result.clusters, members=result.members)
    assert cat.fig_delta_rv(r2) is None


def test_fig4_kiel(result):
    fig = cat.fig_kiel(result)
    m = result.members
    flags = np.asarray(m["Flag"])
    ok = np.isfinite(m["Teff"].value) & np.isfinite(m["logg"].value)
    for f in (0, 1, 12):
        assert _npoints(fig, f"kiel-flag{f}") == ((flags == f) & ok).sum()
    labels = _labels(fig)
    assert labels[0] == ("Teff (K)", "log g (log10 of cm/s²)")
    assert labels[1] == ("Teff (K)", "[Fe/H] (dex)")
    assert fig.axes[0].xaxis_inverted() and fig.axes[0].yaxis_inverted()


def test_fig5_cmd(result):
    fig = cat.fig_cmd(result, n=3)
    top = sorted(np.asarray(result.clusters["Nall"]))[::-1][:3]
    # each cluster appears twice (RV row, [Fe/H] row); every member is plotted in each
    assert _npoints(fig, "cmd-coloured") + _npoints(fig, "cmd-other") == 2 * sum(top)
    cbar_labels = {ax.get_ylabel() for ax in fig.axes if ax.get_label() == "<colorbar>"}
    assert cbar_labels == {"RV (km/s)", "[Fe/H] (dex)"}
    assert ("BP − RP (mag)", "G (mag)") in _labels(fig)


@pytest.mark.parametrize("quantity,unit", [("RV", "km/s"), ("[Fe/H]", "dex")])
def test_fig6_7_literature(result, quantity, unit):
    fig = cat.fig_literature(result, quantity)
    matched = [t for (c, q), t in result.matched.items() if q == quantity and len(t)]
    assert _npoints(fig, "literature") == sum(len(t) for t in matched)
    assert all(unit in x and unit in y for x, y in _labels(fig))


def test_fig13_clouds(result):
    from astro_ocl.sources.literature import read_zucker2020
    clouds = read_zucker2020()
    fig = cat.fig_clouds(result, clouds=clouds)
    assert len(clouds) == 326
    young = (np.asarray(result.clusters["AgeNN"], float) < 8).sum()
    assert young > 0
    assert _npoints(fig, "young-clusters") == 2 * young  # X-Y and X-Z panels
    assert _npoints(fig, "clouds") == 2 * len(clouds)
    assert ("X (pc, towards the Galactic centre)", "Y (pc)") in _labels(fig)
    assert cat.fig_clouds(result, max_log_age=5, clouds=clouds) is None
    assert cat.fig_clouds(result) is None  # figures read no file: no clouds, no figure


def test_make_figures_png_pdf(result, tmp_path):
    from astro_ocl.sources.literature import read_zucker2020
    files = cat.make_figures(result, tmp_path / "figs", clouds=read_zucker2020())
    stems = {p.stem for p in files}
    assert {"fig01_sky", "fig02_rv_profiles", "fig03_delta_rv", "fig04_kiel_feh_teff",
            "fig05_cmd_rv_feh", "fig06_literature_rv", "fig07_literature_feh",
            "fig13_14_young_clusters_clouds"} == stems
    for p in files:
        head = p.read_bytes()[:8]
        assert head.startswith(b"\x89PNG") if p.suffix == ".png" else head.startswith(b"%PDF")
    only_png = cat.make_figures(result, tmp_path / "png", formats=("png",))
    assert {p.suffix for p in only_png} == {".png"}


def test_make_figures_replaces_a_users_file_only_when_asked(result, tmp_path):
    """The library call writes into a folder of the user's: a file there of a figure's
    name is refused, named, and left as it was; only ``overwrite=True`` replaces it."""
    from astro_ocl.exceptions import OutputExistsError
    out = tmp_path / "paper"
    out.mkdir()
    mine = {"fig01_sky.png": b"my own Fig. 1", "notes.txt": b"mine"}
    for name, content in mine.items():
        (out / name).write_bytes(content)
    with pytest.raises(OutputExistsError, match=r"fig01_sky\.png exists; pass overwrite=True"):
        cat.make_figures(result, out, formats=("png",))
    assert {p.name: p.read_bytes() for p in out.iterdir()} == mine  # nothing moved in
    files = cat.make_figures(result, out, formats=("png",), overwrite=True)
    assert out / "fig01_sky.png" in files and all(p.parent == out for p in files)
    assert (out / "fig01_sky.png").read_bytes().startswith(b"\x89PNG")
    assert (out / "notes.txt").read_bytes() == b"mine"
    written = json.loads((out / MANIFEST).read_text())["files"]
    assert sorted(written) == sorted(p.name for p in files)  # not the user's notes


def test_build_figures_option(tmp_path, capsys):
    """``astro-ocl build --figures`` writes every figure into OUT/figures (atomically,
    with the tables): the catalogue figures and the orbit/gradient ones."""
    from astro_ocl.cli import main
    out = tmp_path / "cat"
    assert main(["build", "--out", str(out), "--realisations", "50", "--seed", "3",
                 "--orbit-samples", "5", "--figures"]) == 0
    figs = {p.name for p in (out / "figures").iterdir()}
    assert {"fig01_sky.png", "fig04_kiel_feh_teff.pdf"} <= figs
    assert any(n.startswith("fig09") for n in figs)   # eccentricity vs apocentre
    assert any(n.startswith("fig08") for n in figs)   # [Fe/H] gradients with the fits
    assert "wrote" in capsys.readouterr().out
    assert [p.name for p in tmp_path.iterdir()] == ["cat"]  # no temporary directory left
