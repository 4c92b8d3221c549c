"""The explanations of the reproduction, each written once, and the verdicts that cite them.

A column, a paper table or a claim gives its verdict and a short finding (what its
numbers show, with the tolerance) and cites notes by key; each note is written once
(``notes.ecsv`` and the report's Notes section). Every number a note cites is taken
from the computed tables or recorded through `~astro_ocl.reproduce.common.Citations`.
"""
import astropy.units as u
import numpy as np
from astropy.table import QTable

from ..config import galactic_parameters
from ..steps.dynamics import CONVENTIONS, K_365D
from .columns import COMPARED
from .common import Citations, values
from .tables import TABLE6_TOLERANCE, TABLE7_COLUMNS

__all__ = ["Notes", "paper_table_rows"]


def _k_julian():
    """astropy's km/s per (kpc mas/yr): 1 au per Julian year."""
    return (1 * u.kpc * u.mas / u.yr).to_value(u.km / u.s, u.dimensionless_angles())


class Notes:
    """The notes of one reproduction and the verdict logic of the published columns.

    Parameters
    ----------
    inputs : `~astropy.table.QTable`
        `~astro_ocl.reproduce.published_inputs`.
    hypotheses : `~astropy.table.QTable`
        `~astro_ocl.reproduce.evaluate_hypotheses`.
    energy : `~astropy.table.QTable`
        `~astro_ocl.reproduce.energy.energy_residuals`.
    ours : `~astropy.table.QTable`
        Our default dynamics.
    star_cols : dict
        `~astro_ocl.reproduce.columns.star_statistics` values.
    cite : `Citations`, optional
    """

    def __init__(self, *, inputs, hypotheses, energy, ours, star_cols, cite=None):
        self.inputs, self.hyp, self.energy = inputs, hypotheses, energy
        self.ours, self.star_cols = ours, star_cols
        self.cite = cite or Citations()
        self.texts = {}

    # -- bookkeeping ---------------------------------------------------------------

    def use(self, key):
        """Write note ``key`` if it is not written yet; return the key."""
        if key not in self.texts:
            title, text = getattr(self, "_" + key)()
            self.texts[key] = (title, text)
        return key

    def add(self, key, title, text):
        """Write a note given as text (once); return its key."""
        self.texts.setdefault(key, (title, text))
        return key

    def table(self):
        """The notes as a table (``key, title, text``); ``meta['cited']`` their numbers."""
        t = QTable(rows=[(k, ti, tx) for k, (ti, tx) in self.texts.items()],
                   names=("key", "title", "text"), dtype=(str, str, str))
        t.meta["cited"] = dict(self.cite.numbers)
        return t

    def _h(self, hypothesis, column):
        h = self.hyp
        m = (np.asarray(h["hypothesis"]) == hypothesis) & (np.asarray(h["column"]) == column)
        if not m.any():
            raise KeyError(f"no hypothesis {hypothesis!r} for {column!r}")
        return h[np.flatnonzero(m)[0]]

    def _all_energy(self):
        return self.energy[np.flatnonzero(np.asarray(self.energy["R_bin"]) == "all")[0]]

    # -- verdicts ------------------------------------------------------------------

    def column_verdict(self, col, group, tol, s, sf, *, inputs, ours, pub, mask, hypotheses):
        """(verdict, finding, note keys) of one published column."""
        agrees = s["n"] > 0 and s["frac_ok"] >= tol.fraction
        agrees_fu = sf["n"] > 0 and sf["frac_ok"] >= tol.fraction
        within = f"{100 * s['frac_ok']:.1f} % of {s['n']} within the tolerance"
        if group == "stars":
            return self._star_verdict(col, s, ours, pub, mask, agrees)
        if group == "positions":
            return (("reproduced" if agrees else "not reproduced"),
                    within + " (CG2020 centre)", [self.use("positions")])
        if agrees:
            return "reproduced", within, []
        key = {"ZGC": "frame", "LX": "frame", "LY": "frame", "ULSR": "frame", "WLSR": "frame",
               "VLSR": "vlsr", "Energy": "energy", "Peri": "orbits", "Apo": "orbits",
               "ecc": "orbits"}.get(col)
        if agrees_fu and key:
            verdict = "published error" if key == "orbits" else "convention"
            finding = (f"default: {within}; convention='fu2022': "
                       f"{100 * sf['frac_ok']:.1f} % (largest difference "
                       f"{sf['max_diff']:+.3g})")
            return verdict, finding, [self.use(key)]
        return "not reproduced", within, [self.use("unexplained")]

    def _star_verdict(self, col, s, ours, pub, mask, agrees):
        ok = mask & np.isfinite(pub) & (np.abs(ours - pub) <= self._tol(col))
        names = [str(n) for n in np.asarray(self.inputs["Cluster"])[ok]]
        finding = (f"{int(ok.sum())} of {s['n']} clusters within the tolerance"
                   + (f" ({', '.join(names)})" if names else ""))
        keys = [self.use("stars")]
        if col == "s_RV":
            keys.append(self.use("s_rv_blank"))
        if col == "e_RVmed":
            keys.append(self.use("single_err"))
        return ("reproduced" if agrees else "different input"), finding, keys

    @staticmethod
    def _tol(col):
        return next(t for c, _, t, _ in COMPARED if c == col).abs

    def names_verdict(self, *, n, n_same, frac, malformed):
        """(verdict, finding, note keys) of the ``Cluster`` column."""
        same = self.cite("n_names_cg2020", n_same, "d")
        finding = f"{same} of {n} published names are CG2020 names"
        return ("reproduced" if frac >= 0.95 else "not reproduced"), finding, [self.use("names")]

    # -- the notes -----------------------------------------------------------------

    def _frame(self):
        c = self.cite
        fu = CONVENTIONS["fu2022"]
        z = fu.galactic_parameters["z_sun"].to_value("pc")
        name = "untilted, Sun +14 pc, k = 4.743717 (365-day year)"
        rows = [self._h(name, col) for col in ("ZGC", "LX", "LY", "ULSR", "WLSR")]
        julian = self._h("untilted, Sun +14 pc, k = 4.740470 (Julian year)", "LX")
        tilted = max(float(self._h(f"z_sun = {zs:g} pc", "ZGC")["frac_ok"])
                     for zs in (0.0, 20.8, 25.0))
        text = (
            "The published positions and velocities are in heliocentric Galactic Cartesian "
            f"axes translated by (-R0, 0, +{c('z_sun_pc', z, 'g')} pc) with R0 = "
            f"{c('R0_kpc', galactic_parameters.get()['R0'].to_value('kpc'), 'g')} kpc, without "
            "the tilt of astropy's Galactocentric frame, and their proper motions become "
            f"velocities with k = {c('k_365d', K_365D, '.6f')} km/s per (kpc mas/yr) (1 au "
            f"per {c('days_per_year', 365, 'g')} days) instead of "
            f"{c('k_julian', _k_julian(), '.6f')} (1 au per Julian year). Tested "
            f"(hypothesis '{name}'): ZGC, LX, LY, ULSR and WLSR then agree for "
            f"{c.pct('frame_frac', min(float(r['frac_ok']) for r in rows))} of the "
            f"{int(rows[0]['n'])} clusters with a distance, the largest ZGC difference being "
            f"{c('frame_zgc_max', abs(float(rows[0]['max_diff'])), '.2g')} kpc and the largest "
            f"LX difference {c('frame_lx_max', abs(float(rows[1]['max_diff'])), '.2g')} kpc "
            "km/s (with the Julian-year k: "
            f"{c('frame_lx_julian', abs(float(julian['max_diff'])), '.2g')}). "
            "astropy's Galactocentric frame reproduces at most "
            f"{c.pct('tilted_frac', tilted)} of ZGC for a Sun 0, 20.8 or 25 pc above the "
            "plane (its tilt makes the difference grow with distance). The article does not "
            "state the Sun's height.")
        return "Frame of the published positions and velocities", text

    def _vlsr(self):
        c = self.cite
        v = self._h("VLSR = Galactocentric v_y", "VLSR")
        lsr = self._h("VLSR relative to the LSR", "VLSR")
        text = (
            "The published 'VLSR' is the Galactocentric Cartesian v_y (heliocentric V + V_sun + "
            "v_c; published median "
            f"{c('vlsr_median', np.nanmedian(values(self.inputs['VLSR'])), '.1f')} km/s), not "
            "the velocity relative to the LSR that its label means: that reading agrees for "
            f"{c.pct('vlsr_vy_frac', v['frac_ok'])} of the clusters (largest difference "
            f"{c('vlsr_vy_max', abs(float(v['max_diff'])), '.2g')} km/s), the LSR reading for "
            f"{c.pct('vlsr_lsr_frac', lsr['frac_ok'])}. The package's VLSR is LSR-relative; "
            "the Galactocentric value is its column V. ULSR and WLSR equal the package's U and "
            "W, since the LSR moves only along y.")
        return "VLSR is the Galactocentric v_y", text

    def _energy(self):
        c = self.cite
        a = self._all_energy()
        bins = self.energy[np.asarray(self.energy["R_bin"]) != "all"]
        gmg = values(bins["galpy_minus_galpot"])
        gp = self._h("energy: GalPot McMillan17 (PJM17_best), at d sin b", "Energy")
        fu_bins = "; ".join(
            "{}: {}".format(r["R_bin"], c("fu2022_residual_" + str(r["R_bin"]), r["fu2022"],
                                          "+.1f"))
            for r in bins)
        text = (
            "The article computed its energies and orbits with GalPot (its section 4.1) in "
            "McMillan's (2017) potential. GalPot is not part of this package: its McMillan17 "
            "(PJM17_best) was evaluated once at the published clusters and the numbers are "
            "shipped (galpot_mcmillan17_fu2022.ecsv; commit, calls and units in its meta). "
            "GalPot's potential at (R, d sin b) plus v^2/2 in the paper's frame reproduces "
            f"every published energy within {c('galpot_energy_max', a['max_abs_galpot'], '.2f')} "
            f"km2/s2 ({int(gp['n'])} clusters, {c.pct('galpot_energy_frac', gp['frac_ok'])} "
            "within the tolerance); with the potential at ZGC instead the largest difference is "
            f"{c('galpot_zgc_max', a['max_abs_galpot_ZGC'], '.1f')} km2/s2. The package uses "
            "galpy's McMillan17, which lies "
            f"{c('galpy_minus_galpot', -a['galpy_minus_galpot'], '.0f')} km2/s2 below GalPot's "
            f"(median over the clusters; {c('gmg_lo', -np.max(gmg), '.0f')} to "
            f"{c('gmg_hi', -np.min(gmg), '.0f')} by radius bin): the main part of the default's "
            f"difference from the published energies (median "
            f"{c('energy_default_median', a['default'], '+.0f')} km2/s2). "
            "convention='fu2022' has no GalPot: it evaluates galpy's McMillan17 with ro = "
            f"{c('fu_ro', 8.2, 'g')} kpc and vo = {c('fu_vo', 232.8, 'g')} km/s (the Sun's R0 "
            "and v_c) instead of the potential's own scales, which raises it by about as much. "
            "That is a stand-in, not what the paper did; it leaves a residual smooth in R "
            f"(median, fu2022 minus published, by R bin in km2/s2: {fu_bins}; largest "
            f"{c('fu2022_energy_max', a['max_abs_fu2022'], '.1f')}), inside the column's "
            "tolerance.")
        return "Energy: the paper's potential is GalPot's McMillan17", text

    def _orbits(self):
        c = self.cite
        gp = {k: self._h("orbits: GalPot, (U, V, W) taken as (v_R, v_phi, v_z), from d sin b",
                         k) for k in ("Peri", "Apo", "ecc")}
        gy = {k: self._h("orbits: galpy, (U, V, W) taken as (v_R, v_phi, v_z)", k)
              for k in ("Peri", "Apo", "ecc")}
        correct = [float(self._h(h, k)["frac_ok"]) for k in ("Peri", "Apo", "ecc")
                   for h in ("orbits: galpy, cylindrical start, paper frame",
                             "orbits: galpy, cylindrical start, 0.5 Gyr",
                             "orbits: GalPot, cylindrical start, from d sin b")]
        correct += [float(np.mean(np.abs(values(self.ours[k]) - values(self.inputs[k]))
                                  <= t.rel * np.abs(values(self.inputs[k])) + t.abs))
                    for k, t in self._orbit_tols()]
        i = np.flatnonzero(np.asarray(self.inputs["Cluster"]) == "Berkeley_29")
        ex = ""
        if i.size:
            i = int(i[0])
            pub = "/".join(c(f"b29_{k}_pub", values(self.inputs[k])[i], '.3f')
                           for k in ("Peri", "Apo", "ecc"))
            cor = "/".join(c(f"b29_{k}_correct", values(self.ours[k])[i], '.3f')
                           for k in ("Peri", "Apo", "ecc"))
            ex = f" Example, Berkeley_29: published Peri/Apo/ecc {pub}, correct {cor}."
        text = (
            "The published Peri, Apo and ecc are orbits started with the Galactocentric "
            "Cartesian velocities (U, V, W) passed as the cylindrical (v_R, v_phi, v_z), i.e. "
            "without the rotation to each cluster's azimuth, from the height d sin b. GalPot "
            "(shipped evaluation, "
            f"{c('galpot_t_end_Gyr', 13.8, 'g')} Gyr) with that start reproduces all "
            f"{int(gp['Peri']['n'])} within "
            f"{c('gp_peri_max', abs(float(gp['Peri']['max_diff'])), '.1g')} kpc "
            f"in Peri, {c('gp_apo_max', abs(float(gp['Apo']['max_diff'])), '.1g')} kpc in Apo and "
            f"{c('gp_ecc_max', abs(float(gp['ecc']['max_diff'])), '.1g')} in ecc. galpy with that "
            "start "
            "(convention='fu2022', the package's interpolated McMillan17) agrees within the "
            f"0.5 % tolerance for {c.pct('gy_peri_frac', gy['Peri']['frac_ok'])} of them (Peri: "
            f"median {c('gy_peri_median', gy['Peri']['median_diff'], '+.4f')} kpc, largest "
            f"{c('gy_peri_max', gy['Peri']['max_diff'], '+.3f')} kpc). The correct start "
            f"reproduces {c('correct_lo', 100 * min(correct), '.0f')} to "
            f"{c('correct_hi', 100 * max(correct), '.0f')} % of them, in GalPot or galpy, in "
            f"the paper's frame or in ours, integrated {c('short_span_Gyr', 0.5, 'g')} or "
            f"{c('long_span_Gyr', 3, 'g')} Gyr: the error is in the initial velocities, not in "
            "the code or the potential." + ex + " The default output keeps the correct orbits; "
            "convention='fu2022' repeats the mistake on request and its column descriptions "
            "say so.")
        return "Orbits: the published Peri, Apo and ecc are wrong", text

    @staticmethod
    def _orbit_tols():
        return [(c, t) for c, _, t, _ in COMPARED if c in ("Peri", "Apo", "ecc")]

    def _stars(self):
        c = self.cite
        covered = np.isfinite(self.star_cols["Nall"])
        one = covered & (values(self.inputs["Nall"]) == 1)
        same = one & (np.abs(self.star_cols["RVmed"] - values(self.inputs["RVmed"])) <= 0.01)
        names = ", ".join(str(n) for n in np.asarray(self.inputs["Cluster"])[same]) or "none"
        i = np.flatnonzero(np.asarray(self.inputs["Cluster"]) == "NGC_2682")
        ex = ""
        if i.size and covered[i[0]]:
            ex = (f" (NGC_2682: {c('ngc2682_nall_here', self.star_cols['Nall'][i[0]], 'g')} "
                  f"stars here, {c('ngc2682_nall_pub', values(self.inputs['Nall'])[i[0]], 'g')} "
                  "in the paper)")
        text = (
            f"The embedded LAMOST sample ({c('n_star_clusters', covered.sum(), 'd')} of the "
            "published clusters; from the KeyiDing/ISO_Open_Clusters repository, LAMOST data "
            "release not stated there) is not the paper's LAMOST DR8 selection, and the "
            "paper's per-star table is not available here; the clusters with several stars "
            "therefore have other stars here" + ex + ". What was tested: in the "
            f"{c('n_single_same', same.sum(), 'd')} single-star clusters ({names}) the "
            "published RVmed equals the star's RV here within the RVmed tolerance, so the same "
            "LAMOST star is in both samples. What was not tested: the Monte Carlo statistics "
            "and the FLAG=1 and FLAG=12 selections against the paper. With one star, RVmed is "
            "that star's RV whatever the method, and no cluster with several stars has the "
            "paper's stars here.")
        return "Per-star columns: a different input", text

    def _s_rv_blank(self):
        c = self.cite
        one = values(self.inputs["Nall"]) == 1
        blank = one & ~np.isfinite(values(self.inputs["s_RV"]))
        text = (f"The published s_RV is blank for the {c('n_srv_blank', blank.sum(), 'd')} "
                "single-star clusters (the dispersion of one star is undefined); the package "
                "gives the star's own error there.")
        return "s_RV of single-star clusters", text

    def _single_err(self):
        c = self.cite
        one = (values(self.inputs["Nall"]) == 1) & np.isfinite(self.star_cols["e_RVmed"])
        parts = "; ".join(
            f"{n} {c(f'e_rvmed_pub_{n}', p, '.2f')} published, {c(f'e_rvmed_here_{n}', h, '.2f')} "
            "here"
            for n, p, h in zip(np.asarray(self.inputs["Cluster"])[one],
                               values(self.inputs["e_RVmed"])[one],
                               self.star_cols["e_RVmed"][one])) or "none"
        text = ("For a single-star cluster the published e_RVmed is the star's LAMOST DR8 "
                "error, and the embedded sample gives the same star another error (km/s): "
                + parts + ".")
        return "e_RVmed of single-star clusters", text

    def _positions(self):
        c = self.cite
        known = np.array([bool(n) for n in self.inputs["CG_name"]])
        sep = self.inputs["coord_pub"][known].separation(self.inputs["coord"][known]).arcsec
        close = sep <= 1.0
        text = (
            "The published _RA, _DE (VizieR's positions of the table) are the CG2020 centre "
            f"within {c('position_tol_arcsec', 1, 'g')} arcsec for "
            f"{c('n_positions_cg', close.sum(), 'd')} of {c('n_positions', known.sum(), 'd')} "
            f"clusters; {c('n_positions_other', (~close).sum(), 'd')} differ by up to "
            f"{c('position_max_arcsec', sep.max(), '.0f')} arcsec. Their source is not "
            "identified here (not CG2020).")
        return "Positions _RA, _DE", text

    def _names(self):
        text = ("One published name field holds two names "
                + ", ".join(repr(n) for n in self.inputs.meta.get("malformed_names", []))
                + "; the reproduction resolves it to its CG2020 name. Every other published "
                  "name is the CG2020 name.")
        return "Cluster names", text

    def _unexplained(self):
        return ("Not reproduced", "No tested hypothesis reproduces this column; the "
                "hypotheses tested and their agreement are in hypotheses.ecsv.")

    def add_table6(self, table6, table7):
        """Write the note on Table 6 (the per-cluster uncertainty of the fits)."""
        c = self.cite
        s = table6.meta["summary"]
        chk = table7.meta["checks"]["e_[Fe/H]"]
        f, d, m = s["fu2022"], s["default"], s["mean_error"]
        tol = table6.meta["tolerance_abs_z"]
        text = (
            "Which per-cluster [Fe/H] error entered the Table 6 fits is not said with the "
            "table, but the article's section 2.2 takes the star-to-star dispersion s_[Fe/H] "
            "as the cluster [Fe/H] uncertainty, and its Table 7 prints s_[Fe/H] as the +/- "
            f"of [Fe/H] ({c('t7_s_match', chk['s_[Fe/H] rounded'], 'd')} of "
            f"{c('t7_n', len(table7), 'd')} clusters; e_[Fe/H]med: "
            f"{c('t7_e_match', chk['e_[Fe/H]med rounded'], 'd')}). The printed Table 6 is the "
            f"direct evidence: with sigma = s_[Fe/H] all {f['n']} coefficients lie within "
            f"{c('t6_tol', tol, 'g')} of the paper's error (max abs(z) "
            f"{c('t6_fu_max', f['max_abs_z'], '.2f')}; error bars "
            f"{c('t6_fu_width', f['median_width_ratio'], '.2f')} times the paper's). With "
            f"e_[Fe/H]med, the package's default, {c('t6_def_n1', d['n_over_1'], 'd')} lie "
            f"beyond 1 sigma (max abs(z) {c('t6_def_max', d['max_abs_z'], '.2f')}; error bars "
            f"{c('t6_def_width', d['median_width_ratio'], '.2f')} times the paper's); with "
            f"e_[Fe/H]mean {c('t6_mean_n1', m['n_over_1'], 'd')} (max abs(z) "
            f"{c('t6_mean_max', m['max_abs_z'], '.2f')}). The paper used s_[Fe/H] "
            "(astro_ocl.steps.gradients.FU2022_UNCERTAINTY); the package's default stays "
            "e_[Fe/H]med, the error of the value fitted.")
        self.texts["table6"] = ("Table 6: the paper's fits used s_[Fe/H]", text)
        return "table6"

    def add_table7(self, table7):
        """Write the note on how Table 7's printed numbers were made."""
        c = self.cite
        k = table7.meta["checks"]
        n = len(table7)
        lb_icrs = max(k["GLON"]["max_abs_icrs_transform_deg"],
                      k["GLAT"]["max_abs_icrs_transform_deg"])
        text = (
            "GLON, GLAT and X, Y, Z of Table 7 are CG2020's own columns: GLON and GLAT rounded "
            f"({c('t7_glon_cg', k['GLON']['CG2020 rounded'], 'd')} and "
            f"{c('t7_glat_cg', k['GLAT']['CG2020 rounded'], 'd')} of {n}), X, Y, Z equal "
            f"({c('t7_x_cg', k['X']['CG2020 column equal'], 'd')}, "
            f"{c('t7_y_cg', k['Y']['CG2020 column equal'], 'd')}, "
            f"{c('t7_z_cg', k['Z']['CG2020 column equal'], 'd')}). Ours computes X, Y, Z from "
            "CG2020's GLON, GLAT and DistPc; from the transform of CG2020's ICRS centre "
            "instead they would differ by up to "
            f"{c('t7_xyz_icrs', max(k[x]['max_abs_icrs_transform_pc'] for x in 'XYZ'), '.1f')} "
            "pc, since CG2020's GLON, GLAT differ from that transform by up to "
            f"{c('t7_lb_icrs', lb_icrs, '.3f')} "
            "deg. The ages are 10**AgeNN truncated, not rounded, to 0.01 Myr (truncation "
            f"gives {c('t7_age_trunc', k['Age']['truncated'], 'd')} of {n}, rounding "
            f"{c('t7_age_round', k['Age']['rounded'], 'd')}); [Fe/H] is [Fe/H]med rounded "
            f"({c('t7_feh_round', k['[Fe/H]']['rounded'], 'd')} of {n}); its +/- is s_[Fe/H] "
            "(note 'table6').")
        self.texts["table7"] = ("Table 7: how its printed numbers were made", text)
        return "table7"


def paper_table_rows(table6, table7, notes):
    """One row per printed column of Tables 6 and 7: agreement, verdict, finding, notes.

    Returns
    -------
    `~astropy.table.QTable`
        ``table, column, unit, measure, n, frac_ok, frac_ok_fu2022, max_abs,
        max_abs_fu2022, tol_abs, tol_fraction, tolerance, verdict, finding, notes``
        (Table 6: the measure is abs(z), ours minus paper in units of the paper's error;
        ``frac_ok`` is sigma = e_[Fe/H]med, ``frac_ok_fu2022`` sigma = s_[Fe/H]).
    """
    k6 = notes.add_table6(table6, table7)
    k7 = notes.add_table7(table7)
    rows = []
    for x in dict.fromkeys(np.asarray(table6["x"]).tolist()):
        m = np.asarray(table6["x"]) == x
        zd = np.abs(np.asarray(table6["z_default"], float)[m])
        zf = np.abs(np.asarray(table6["z_fu2022"], float)[m])
        s = table6.meta["summary"]
        fd, ff = float(np.mean(zd <= TABLE6_TOLERANCE)), float(np.mean(zf <= TABLE6_TOLERANCE))
        verdict = ("reproduced" if fd == 1.0 else "convention" if ff == 1.0
                   else "not reproduced")
        finding = (f"sigma = s_[Fe/H] (paper): {int(np.sum(zf <= TABLE6_TOLERANCE))} of "
                   f"{int(m.sum())} within the tolerance, max abs(z) {zf.max():.2f}, widths "
                   f"{s['fu2022'][x]['median_width_ratio']:.2f} of the paper's; sigma = "
                   f"e_[Fe/H]med (default): {int(np.sum(zd <= TABLE6_TOLERANCE))} within, "
                   f"{int(np.sum(zd > 1))} beyond 1 sigma, max abs(z) {zd.max():.2f}")
        rows.append(dict(table="6", column=x, unit="", measure="abs(z)", n=int(m.sum()),
                         frac_ok=fd, frac_ok_fu2022=ff, max_abs=float(zd.max()),
                         max_abs_fu2022=float(zf.max()), tol_abs=TABLE6_TOLERANCE,
                         tol_fraction=1.0, tolerance=f"abs(z) <= {TABLE6_TOLERANCE:g} for all "
                                                     "coefficients",
                         verdict=verdict, finding=finding, notes=k6))
    for col, unit, tol, decimals in TABLE7_COLUMNS:
        pub = values(table7[f"{col}_pub"])
        d = np.abs(values(table7[f"{col}_ours"]) - pub)
        f = np.abs(values(table7[f"{col}_fu2022"]) - pub)
        fd = float(np.mean(d <= tol.abs * (1 + 1e-9)))
        ff = float(np.mean(f <= tol.abs * (1 + 1e-9)))
        verdict = ("reproduced" if fd >= tol.fraction else "convention" if ff >= tol.fraction
                   else "not reproduced")
        ustr = unit.to_string()
        finding = (f"{int(round(fd * len(pub)))} of {len(pub)} within the tolerance (largest "
                   f"difference {d.max():.3g} {ustr})")
        if verdict == "convention":
            finding += (f"; as s_[Fe/H] (paper): {int(round(ff * len(pub)))} of {len(pub)} "
                        f"(largest {f.max():.3g})")
        rows.append(dict(table="7", column=col, unit=ustr, measure=f"abs(diff) [{ustr}]",
                         n=len(pub), frac_ok=fd, frac_ok_fu2022=ff, max_abs=float(d.max()),
                         max_abs_fu2022=float(f.max()), tol_abs=tol.abs,
                         tol_fraction=tol.fraction, tolerance=tol.text(ustr), verdict=verdict,
                         finding=finding,
                         notes=", ".join([k7] + ([k6] if col == "e_[Fe/H]" else []))))
    t = QTable(rows=rows)
    t["frac_ok"].info.description = ("Fraction within the tolerance, default (Table 6: sigma = "
                                     "e_[Fe/H]med; Table 7: e_[Fe/H] = e_[Fe/H]med)")
    t["frac_ok_fu2022"].info.description = ("Fraction within the tolerance, paper convention "
                                            "(Table 6: sigma = s_[Fe/H]; Table 7: e_[Fe/H] = "
                                            "s_[Fe/H])")
    t["max_abs"].info.description = ("Largest abs(z) (Table 6) or abs(ours - paper) (Table 7), "
                                     "default")
    return t
