"""Outputs say what they hold: the ReadMe, the VOTable DESCRIPTIONs, the figure titles and
the console summary of a build name its surveys with their numbers of stars, and the
summary says which survey zero points were applied."""
import re
import warnings

import numpy as np
import pytest
from astropy.io import votable

import astro_ocl
from astro_ocl.exceptions import DroppedRowsWarning
from astro_ocl.sinks.cds_bundle import write_cds_bundle
from astro_ocl.sinks.figures import catalogue as figs
from astro_ocl.sinks.labels import zero_point_sentence
from astro_ocl.utils import data_path

SURVEYS = ("LAMOST-LRS", "LAMOST-MRS", "APOGEE")


def _counts(result):
    """The member stars of each survey, counted here from the member table."""
    names, n = np.unique(np.asarray(result.members["Survey"]).astype(str), return_counts=True)
    return dict(zip(names, n.tolist()))


def _flat(text):
    """Text without its line breaks (hyphenated words joined again)."""
    return " ".join(re.sub(r"-\n\s+", "-", text).split())


def _section(readme, name):
    return readme.split(f"{name}:")[1].split("\n\n")[0]


@pytest.fixture(scope="module")
def default_readme(multi_survey_result, tmp_path_factory):
    path = tmp_path_factory.mktemp("labels") / "cds"
    write_cds_bundle(multi_survey_result, path)
    return path


def test_default_build_has_three_surveys(multi_survey_result):
    counts = _counts(multi_survey_result)
    assert set(counts) == set(SURVEYS)
    # every member star is counted once: the total is the last stage's output
    assert sum(counts.values()) == len(multi_survey_result.members) \
        == multi_survey_result.stage_log["stars of several surveys"]["n_out"]


def test_summary_names_the_surveys_with_their_stars(multi_survey_result):
    text = multi_survey_result.summary()
    line = next(x for x in text.splitlines() if x.startswith("member stars by survey:"))
    for survey, n in _counts(multi_survey_result).items():
        assert f"{survey} {n}" in line, line


def test_readme_names_the_surveys_with_their_stars(multi_survey_result, default_readme):
    readme = (default_readme / "ReadMe").read_text("ascii")
    abstract = _flat(_section(readme, "Abstract"))
    for survey, n in _counts(multi_survey_result).items():
        assert f"({survey}, {n} stars)" in abstract, abstract
    assert "LAMOST low-resolution spectra (LAMOST-LRS" in abstract
    assert "APOGEE high-resolution near-infrared spectra (APOGEE" in abstract
    assert f"{len(multi_survey_result.clusters)} Galactic open clusters" in abstract
    assert f"{len(multi_survey_result.members)} stars in all" in abstract
    # the RV zero points were applied (the default), and the abstract says which
    zp = multi_survey_result.zero_points
    applied = [f"{r['survey']} {r['quantity']}" for r in zp if r["applied"]]
    assert applied == ["LAMOST-LRS RV", "LAMOST-MRS RV"]
    assert f"were subtracted from the stars ({', '.join(applied)})" in abstract
    title = _flat(readme.split("=" * 80)[1])
    assert "LAMOST-LRS, LAMOST-MRS and APOGEE spectra" in title
    summary = _flat(_section(readme, "File Summary"))
    assert "from LAMOST-LRS, LAMOST-MRS and APOGEE members" in summary
    assert "LAMOST-LRS, LAMOST-MRS and APOGEE stars matched" in summary
    refs = _section(readme, "References")
    assert "Majewski S.R. et al. 2017, AJ 154, 94" in refs      # APOGEE
    assert "Donor J. et al. 2020, AJ 159, 199" in refs          # its OCCAM sample
    assert "Luo A.-L. et al. 2015, RAA 15, 1095" in refs        # LAMOST
    assert all(len(x) <= 80 for x in readme.splitlines())


@pytest.mark.parametrize("stem", ["clusters", "members"])
def test_votable_description_names_the_surveys(multi_survey_result, default_readme, stem):
    table = votable.parse(str(default_readme / f"{stem}.vot")).get_first_table()
    text = " ".join(table.description.split())
    for survey, n in _counts(multi_survey_result).items():
        assert f"{survey} ({n} stars)" in text, text
    if stem == "clusters":
        assert f"of {len(multi_survey_result.clusters)} open clusters" in text


def test_votable_written_alone_describes_itself(multi_survey_result, tmp_path):
    # a cluster table written on its own: the FLAG=1 stars its RVsurveys name
    multi_survey_result.clusters.write(tmp_path / "c.vot", format="votable.cds",
                                       provenance=multi_survey_result.provenance)
    text = " ".join(votable.parse(str(tmp_path / "c.vot")).get_first_table()
                    .description.split())
    c = multi_survey_result.clusters
    lrs = sum(int(part.split(":")[1]) for cell in c["RVsurveys"].filled("")
              for part in str(cell).split(",") if part.startswith("LAMOST-LRS:"))
    assert f"LAMOST-LRS ({lrs} FLAG=1 stars)" in text, text
    assert all(s in text for s in SURVEYS)


def test_figure_titles_name_the_surveys(multi_survey_result):
    counts = _counts(multi_survey_result)
    title = figs.fig_sky(multi_survey_result).axes[0].get_title()
    kiel = figs.fig_kiel(multi_survey_result)._suptitle.get_text()
    for text in (title, kiel):
        for survey, n in counts.items():
            assert f"{survey} {n}" in text, text
    assert "LAMOST members" not in title
    assert f"{len(multi_survey_result.members)} stars" in title
    fig3 = figs.fig_delta_rv(multi_survey_result)
    assert "LAMOST" not in fig3.axes[0].get_xlabel()


def test_one_survey_is_named_alone(embedded_result, tmp_path):
    write_cds_bundle(embedded_result, tmp_path / "cds", votables=False)
    abstract = _flat(_section((tmp_path / "cds" / "ReadMe").read_text("ascii"), "Abstract"))
    n = len(embedded_result.members)
    assert f"from LAMOST low-resolution spectra (LAMOST-LRS, {n} stars) of Gaia" in abstract
    refs = (tmp_path / "cds" / "ReadMe").read_text("ascii")
    assert "Majewski" not in refs and "Donor" not in refs
    assert "member stars by survey: LAMOST-LRS " + str(n) in embedded_result.summary()


def test_summary_says_which_zero_points_were_applied():
    kw = dict(seed=1, orbits=False, literature=False)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DroppedRowsWarning)
        applied = astro_ocl.build_catalogue(**kw)
        measured = astro_ocl.build_catalogue(zero_points="measure", **kw)
        # the README's example: a file of 4 clusters shares one with APOGEE
        example = astro_ocl.build_catalogue(
            surveys={"apogee": None, "lamost_lrs": data_path(
                "examples/lamost_lrs_example.csv")}, **kw)
    lines = applied.summary().splitlines()
    zp = applied.zero_points
    for survey in ("LAMOST-LRS", "LAMOST-MRS"):
        for quantity in ("RV", "[Fe/H]"):
            row = next(x for x in lines if x.split()[:2] == [survey, quantity])
            fit = zp[(zp["survey"] == survey) & (zp["quantity"] == quantity)][0]
            if fit["applied"]:   # RV: applied when measured
                assert quantity == "RV" and row.endswith(" applied"), row
                assert f"{survey} {quantity} " in applied.provenance["zero_points_applied"]
                assert f"{fit['offset']:+8.3f} +- {fit['e_offset']:.3f}" in row
            else:                # [Fe/H]: not significant here
                assert quantity == "[Fe/H]" and "not applied" in row and "sigma" in row, row
    for row in measured.summary().splitlines():
        if row.split()[:1] in (["LAMOST-LRS"], ["LAMOST-MRS"]):
            assert "not applied" in row, row
    assert measured.provenance["zero_points_applied"].startswith("none")
    rows = [x for x in example.summary().splitlines() if x.split()[:1] == ["LAMOST-LRS"]]
    assert len(rows) == 2
    for row in rows:
        assert "not applied" in row and "shared" in row, row
    assert example.provenance["zero_points_applied"] == "none"
    # the ReadMe's abstract says the same
    assert "were subtracted from the stars (LAMOST-LRS RV, LAMOST-MRS RV)" in \
        zero_point_sentence(applied.provenance)
    assert "No zero point against APOGEE could be applied" in \
        zero_point_sentence(example.provenance)
    assert "measured on the clusters they share and not applied" in \
        zero_point_sentence(measured.provenance)
