"""The article's Tables 6 and 7 (shipped) against their rebuild, recomputed independently.

The expected values are computed here with numpy alone (weighted least squares, the
spherical-to-Cartesian formulae), not with the package's gradient or comparison code.
"""
import csv
import gzip
import hashlib
import json

import numpy as np
import pytest

from astro_ocl.sources.clusters import read_fu2022_table6, read_fu2022_table7
from astro_ocl.utils import data_path

AGE_GROUPS = {"<0.1 Gyr": (0.0, 0.1), "0.1-0.5 Gyr": (0.1, 0.5), "0.5-1 Gyr": (0.5, 1.0),
              "1-2 Gyr": (1.0, 2.0), "2-4 Gyr": (2.0, 4.0), ">4 Gyr": (4.0, np.inf)}
X = {"RGC": ("RGC", 1.0), "LZ/1e3": ("LZ", 1e3), "E/1e5": ("Energy", 1e5)}


def _rows(name):
    with gzip.open(data_path(name), "rt", encoding="utf-8", newline="") as f:
        return [{k.strip(): v.strip() for k, v in r.items()} for r in csv.DictReader(f)]


def _float(s):
    try:
        return float(s)
    except ValueError:
        return np.nan


@pytest.fixture(scope="module")
def catalogue():
    """The published catalogue and the CG2020 ages/positions, read with the csv module."""
    fu = _rows("fu2022_clusters.csv.gz")
    with gzip.open(data_path("cantat_gaudin_2020_table1.tsv.gz"), "rt", encoding="utf-8") as f:
        lines = [ln for ln in f if ln.strip() and not ln.startswith("#")]
    header = [h.strip() for h in lines[0].split("|")]
    cg = {}
    for ln in lines[1:]:
        parts = [p.strip() for p in ln.rstrip("\n").split("|")]
        if len(parts) != len(header) or not parts[0] or parts[0].startswith("-"):
            continue
        row = dict(zip(header, parts))
        cg[row["Cluster"]] = row
    return fu, cg


def test_shipped_tables_are_the_articles():
    manifest = {e["file"]: e for e in json.loads(data_path("manifest.json").read_text())["files"]}
    for name, rows in (("fu2022_table6.ecsv", 54), ("fu2022_table7.ecsv", 24)):
        e = manifest[name]
        assert e["rows"] == rows and "Fu X. et al. 2022" in e["citation"]
        assert hashlib.sha256(data_path(name).read_bytes()).hexdigest() == e["sha256"]
    t6, t7 = read_fu2022_table6(), read_fu2022_table7()
    assert len(t6) == 54 and len(t7) == 24
    # values as printed in the article
    r = t6[(t6["age_group"] == ">4 Gyr") & (t6["x"] == "RGC") & (t6["coefficient"] == "a")][0]
    assert (r["paper"], r["paper_plus"], r["paper_minus"]) == (0.066, 0.102, 0.101)
    r = t6[(t6["age_group"] == "0.5-1 Gyr") & (t6["x"] == "E/1e5") & (t6["coefficient"] == "b")][0]
    assert (r["paper"], r["paper_plus"], r["paper_minus"]) == (-21.9, 9.621, 9.671)
    assert np.all(t6["N"] == -1)                       # the article prints no N
    r = t7[t7["Cluster"] == "ASCC_16"][0]
    assert (r["X"].value, r["Y"].value, r["Z"].value, r["Age"].value) == (-305, -118, -108, 13.48)


def _table6_fit(catalogue, sigma_col):
    """Weighted least squares per cell, numpy only: {(group, x): (coef, sigma)}."""
    fu, cg = catalogue
    out = {}
    for group, (lo, hi) in AGE_GROUPS.items():
        for xlabel, (col, scale) in X.items():
            x, y, s = [], [], []
            for r in fu:
                name = r["Cluster"].split(",")[-1].strip()
                age = _float(cg.get(name, {}).get("AgeNN", ""))
                vals = [_float(r[k]) for k in (col, "[Fe/H]med", sigma_col, "Nflag12")]
                if not np.isfinite(age) or not all(np.isfinite(vals)) or vals[3] < 3:
                    continue
                gyr = 10 ** (age - 9)
                if not lo <= gyr < hi:
                    continue
                x.append(vals[0] / scale)
                y.append(vals[1])
                s.append(max(vals[2], 0.01))  # the fits' error floor, 0.01 dex
            x, y, w = np.array(x), np.array(y), 1 / np.array(s) ** 2
            a = np.vstack([x ** 2, x, np.ones_like(x)]).T
            cov = np.linalg.inv(a.T @ (a * w[:, None]))
            coef = cov @ (a.T @ (w * y))
            out[(group, xlabel)] = (coef, np.sqrt(np.diag(cov)), len(x))
    return out


def _z(fits, t6):
    z = []
    for r in t6:
        coef, _, _ = fits[(str(r["age_group"]), str(r["x"]))]
        v = coef["abc".index(str(r["coefficient"]))]
        z.append((v - r["paper"]) / (r["paper_plus"] if v > r["paper"] else r["paper_minus"]))
    return np.array(z)


def test_table6_paper_convention_within_half_sigma(catalogue, result):
    t6 = read_fu2022_table6()
    fits = _table6_fit(catalogue, "s_[Fe/H]")
    z = _z(fits, t6)
    # every coefficient of the article's Table 6 within half its error with sigma = s_[Fe/H]
    assert np.all(np.abs(z) <= 0.5), np.max(np.abs(z))
    # and the widths agree: our sigma over the paper's mean half width, median ~1
    ratio = [fits[(str(r["age_group"]), str(r["x"]))][1]["abc".index(str(r["coefficient"]))]
             / (0.5 * (r["paper_plus"] + r["paper_minus"])) for r in t6]
    assert 0.8 < np.median(ratio) < 1.2
    # the package's default sigma (e_[Fe/H]med) does not reproduce the article
    zd = _z(_table6_fit(catalogue, "e_[Fe/H]med"), t6)
    assert np.sum(np.abs(zd) > 1) >= 5
    # the report's z are these (independent computations agree)
    rep = result.table6
    assert list(rep["coefficient"]) == list(t6["coefficient"])
    np.testing.assert_allclose(rep["z_fu2022"], z, atol=1e-6)
    np.testing.assert_allclose(rep["z_default"], zd, atol=1e-6)
    # N per group: 202 clusters in all (Teutsch_52 has no CG2020 age)
    n = {g: fits[(g, "RGC")][2] for g in AGE_GROUPS}
    assert sum(n.values()) == 202
    s = rep.meta["summary"]
    assert s["fu2022"]["n_within_0.5"] == 54 and s["fu2022"]["max_abs_z"] == pytest.approx(
        np.max(np.abs(z)))
    assert s["default"]["n_over_1"] == int(np.sum(np.abs(zd) > 1))
    v = {r["column"]: r["verdict"] for r in result.paper_tables if r["table"] == "6"}
    assert v == {"RGC": "convention", "LZ/1e3": "convention", "E/1e5": "convention"}


@pytest.mark.slow
def test_table6_emcee_agrees_with_the_article(published):
    """The paper's own method (emcee), lighter than its 300 walkers x 10000 steps."""
    from astro_ocl.steps.gradients import compare_with_table6, gradient_table
    t = gradient_table(published, uncertainty="s_[Fe/H]", method="emcee", include_all=False,
                       nwalkers=24, nsteps=2500, seed=3).table
    cmp = compare_with_table6(t, read_fu2022_table6())
    assert cmp.meta["n_compared"] == 54
    assert cmp.meta["max_abs_z"] <= 0.5
    assert 0.8 < cmp.meta["median_width_ratio"] < 1.2


def test_table7_rebuilt_independently(catalogue, result):
    fu, cg = catalogue
    t7 = read_fu2022_table7()
    pub = {r["Cluster"]: r for r in fu}
    for r in t7:
        g, f = cg[str(r["Cluster"])], pub[str(r["Cluster"])]
        lon, lat, d = (np.radians(_float(g["GLON"])), np.radians(_float(g["GLAT"])),
                       _float(g["DistPc"]))
        xyz = d * np.array([np.cos(lat) * np.cos(lon), np.cos(lat) * np.sin(lon), np.sin(lat)])
        printed = np.array([r["X"].value, r["Y"].value, r["Z"].value])
        assert np.all(np.abs(xyz - printed) <= 1.0), r["Cluster"]
        # the printed X, Y, Z are CG2020's own columns
        assert [_float(g[k]) for k in "XYZ"] == list(printed)
        # ages: 10**AgeNN in Myr, truncated to 0.01 Myr
        age = 10 ** (_float(g["AgeNN"]) - 6)
        assert np.trunc(age * 100 + 1e-7) / 100 == pytest.approx(r["Age"].value, abs=1e-9)
        # [Fe/H]: [Fe/H]med rounded; its +/- is s_[Fe/H], not e_[Fe/H]med
        assert round(_float(f["[Fe/H]med"]), 2) == pytest.approx(r["[Fe/H]"].value)
        assert round(_float(f["s_[Fe/H]"]), 2) == pytest.approx(r["e_[Fe/H]"].value)
        assert round(_float(f["e_[Fe/H]med"]), 2) != pytest.approx(r["e_[Fe/H]"].value)
        assert _float(f["Nflag12"]) >= 3 and age < 100
    v = {r["column"]: r["verdict"] for r in result.paper_tables if r["table"] == "7"}
    assert v == {"GLON": "reproduced", "GLAT": "reproduced", "Age": "reproduced",
                 "X": "reproduced", "Y": "reproduced", "Z": "reproduced",
                 "[Fe/H]": "reproduced", "e_[Fe/H]": "convention"}
    checks = result.table7.meta["checks"]
    assert checks["Age"] == {"truncated": 24, "rounded": 13}


def test_other_transcriptions(tmp_path, published):
    """paper_table6= reads another transcription; its z follow its values."""
    from astro_ocl.reproduce import table6_comparison
    t6 = read_fu2022_table6()
    t6["paper"] = t6["paper"] + 2 * t6["paper_minus"]   # every coefficient 2 sigma higher
    path = tmp_path / "t6.ecsv"
    t6.write(path, format="ascii.ecsv")
    cmp = table6_comparison(published, read_fu2022_table6(path))
    assert cmp.meta["summary"]["fu2022"]["n_within_0.5"] == 0
    assert cmp.meta["paper_values"] == str(path)


def test_table7_reader_units_and_bad_values(tmp_path):
    import astropy.units as u
    from astropy.table import Table

    from astro_ocl.exceptions import InputDataError
    raw = Table.read(data_path("fu2022_table7.ecsv"), format="ascii.ecsv")
    ref = read_fu2022_table7()
    raw["X"] = u.Quantity(raw["X"]).to(u.kpc)         # another unit is converted
    path = tmp_path / "t7.ecsv"
    raw.write(path, format="ascii.ecsv")
    got = read_fu2022_table7(path)
    np.testing.assert_allclose(got["X"].to_value(u.pc), ref["X"].to_value(u.pc))
    raw["X"].unit = u.km / u.s                       # a wrong one is refused, column named
    raw.write(path, format="ascii.ecsv", overwrite=True)
    with pytest.raises(InputDataError, match="km / s") as err:
        read_fu2022_table7(path)
    assert err.value.column == "X"
    raw = Table.read(data_path("fu2022_table7.ecsv"), format="ascii.ecsv")
    raw["e_[Fe/H]"][3] = -0.1                        # a negative uncertainty: row named
    raw.write(path, format="ascii.ecsv", overwrite=True)
    with pytest.raises(InputDataError, match="negative") as err:
        read_fu2022_table7(path)
    assert err.value.row == 3 and err.value.column == "e_[Fe/H]"
