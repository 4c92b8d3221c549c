"""The published energies and orbits against GalPot, the code the article used.

The article (section 4.1) integrated its orbits with GalPot (Dehnen & Binney 1998) in
McMillan's (2017) potential. GalPot is not part of this package; its McMillan17
(``pot/PJM17_best.Tpot``) was evaluated once, outside the package, at the published
clusters, and only the numbers are shipped (``astro_ocl/data/galpot_mcmillan17_fu2022.ecsv``;
its meta and the data manifest record the GalPot commit, the calls and the units).
This module turns them into hypotheses (`galpot_hypotheses`) and the energy residuals
by Galactocentric radius (`energy_residuals`).
"""
import functools

import astropy.units as u
import numpy as np
from astropy.table import QTable

from ..config import galactic_parameters
from ..steps.dynamics import get_convention, orbital_energy, phase_space
from ..utils import data_path
from .common import KM2S2, Hypothesis, values

__all__ = ["GALPOT_FILE", "R_BINS", "read_galpot_evaluation", "galpot_hypotheses",
           "galpot_columns", "galpot_input_check", "paper_frame", "energy_residuals"]

#: The shipped GalPot evaluation (see the data manifest).
GALPOT_FILE = "galpot_mcmillan17_fu2022.ecsv"

#: Galactocentric radius bins [kpc] of `energy_residuals`.
R_BINS = ((0.0, 7.0), (7.0, 8.0), (8.0, 9.0), (9.0, 10.0), (10.0, 12.0), (12.0, 15.0),
          (15.0, 25.0))


@functools.lru_cache(maxsize=1)
def _galpot():
    return QTable.read(data_path(GALPOT_FILE), format="ascii.ecsv")


def read_galpot_evaluation():
    """The shipped GalPot evaluation of McMillan17 at the published clusters.

    Returns
    -------
    `~astropy.table.QTable`
        One row per published cluster with a CG2020 distance (372): the start
        point (``R``, ``z_start`` = d sin b, ``phi``) and velocities (``U, V, W``) of
        the paper's frame, GalPot's potential there (``Phi``) and at ZGC
        (``Phi_ZGC``), and the GalPot orbits started with (U, V, W) as
        (v_R, v_phi, v_z) (``Energy, Peri, Apo, Zmax, ecc``) and with the
        cylindrical velocities (``*_cyl``). ``meta`` records how it was made.
    """
    return _galpot().copy()


def paper_frame(inputs):
    """Phase space of the published clusters in the paper's frame (``convention='fu2022'``)."""
    conv = get_convention("fu2022")
    with galactic_parameters.set(dict(galactic_parameters.get(), **conv.galactic_parameters)):
        return phase_space(inputs["coord"], convention=conv), conv


def _aligned(inputs, column):
    """A GalPot column aligned with ``inputs`` (NaN for clusters it does not have)."""
    g = _galpot()
    pos = {str(n): i for i, n in enumerate(g["Cluster"])}
    idx = np.array([pos.get(str(n), -1) for n in inputs["Cluster"]])
    out = np.full(len(inputs), np.nan)
    out[idx >= 0] = values(g[column])[idx[idx >= 0]]
    return out


def _kinetic(inputs):
    ps, _ = paper_frame(inputs)
    return 0.5 * sum(ps[k].to_value(u.km / u.s) ** 2 for k in ("U", "V", "W"))


def galpot_hypotheses():
    """Hypotheses that the published energies and orbits are GalPot's (shipped evaluation)."""
    def energy(column):
        return lambda inputs, ours: {"Energy": _aligned(inputs, column) + _kinetic(inputs)}

    def orbit(suffix):
        return lambda inputs, ours: {k: _aligned(inputs, k + suffix)
                                     for k in ("Peri", "Apo", "ecc")}
    return [
        Hypothesis("energy: GalPot McMillan17 (PJM17_best), at d sin b", ("Energy",),
                   "GalPot's McMillan17 potential at (R, d sin b) in GalPot's units, plus "
                   "v^2/2 in the paper's frame (shipped GalPot evaluation)",
                   energy("Phi")),
        Hypothesis("energy: GalPot McMillan17 (PJM17_best), at ZGC", ("Energy",),
                   "as above, the potential at ZGC (with the Sun's 14 pc)", energy("Phi_ZGC")),
        Hypothesis("orbits: GalPot, (U, V, W) taken as (v_R, v_phi, v_z), from d sin b",
                   ("Peri", "Apo", "ecc"),
                   "GalPot orbits (13.8 Gyr, spherical radii) started at (R, d sin b) with the "
                   "Cartesian (U, V, W) passed as (v_R, v_phi, v_z) (shipped evaluation)",
                   orbit("")),
        Hypothesis("orbits: GalPot, cylindrical start, from d sin b", ("Peri", "Apo", "ecc"),
                   "as above with the correct cylindrical velocities (v_R, v_phi, v_z)",
                   orbit("_cyl")),
    ]


def galpot_columns(inputs):
    """GalPot's energy and orbit of each published cluster, aligned with ``inputs``.

    Returns
    -------
    dict
        ``Energy`` (GalPot's potential at (R, d sin b) plus v^2/2 in the paper's frame,
        km2/s2), ``Peri``, ``Apo`` (kpc) and ``ecc`` of the GalPot orbits started as the
        published ones; NaN for the clusters without a CG2020 distance.
    """
    out = {"Energy": (_aligned(inputs, "Phi") + _kinetic(inputs)) * KM2S2}
    for k in ("Peri", "Apo"):
        out[k] = _aligned(inputs, k) * u.kpc
    out["ecc"] = _aligned(inputs, "ecc")
    return out


def galpot_input_check(inputs):
    """Largest differences between the shipped GalPot inputs and today's paper frame.

    Returns
    -------
    dict
        ``R_kpc, z_kpc, v_km_s``: largest abs(difference) of the start radius, height and
        velocities (the shipped evaluation was made from the same inputs when small).
    """
    ps, conv = paper_frame(inputs)
    z_sun = conv.galactic_parameters["z_sun"].to_value(u.kpc)
    out = {"R_kpc": np.nanmax(np.abs(_aligned(inputs, "R") - ps["RGC"].to_value(u.kpc))),
           "z_kpc": np.nanmax(np.abs(_aligned(inputs, "z_start")
                                     - (ps["ZGC"].to_value(u.kpc) - z_sun)))}
    out["v_km_s"] = max(np.nanmax(np.abs(_aligned(inputs, k) - ps[k].to_value(u.km / u.s)))
                        for k in ("U", "V", "W"))
    return {k: float(v) for k, v in out.items()}


def energy_residuals(inputs, ours, fu2022):
    """Published energies against each way of computing them, by Galactocentric radius.

    Parameters
    ----------
    inputs : `~astropy.table.QTable`
        `~astro_ocl.reproduce.published_inputs`.
    ours, fu2022 : `~astropy.table.QTable`
        Our dynamics in the default convention and in ``convention="fu2022"``.

    Returns
    -------
    `~astropy.table.QTable`
        One row per radius bin (`R_BINS`, the paper frame's RGC) and a last row
        ``all``: ``R_min, R_max, n`` and the medians of ``default`` (galpy
        McMillan17, physical units, at ZGC), ``fu2022`` (galpy McMillan17 rescaled
        to (8.2 kpc, 232.8 km/s), at d sin b), ``galpot`` (GalPot, at d sin b) and
        ``galpot_ZGC`` minus the published energy, with ``max_abs_*`` the largest
        abs(difference) of each, and ``galpy_minus_galpot`` (the two potentials'
        difference at (R, d sin b)). ``meta['input_check']``: `galpot_input_check`.
    """
    sel = np.asarray(inputs["has_distance"], bool)
    pub = values(inputs["Energy"])
    ps, conv = paper_frame(inputs)
    R = ps["RGC"].to_value(u.kpc)
    zh = ps["ZGC"].to_value(u.kpc) - conv.galactic_parameters["z_sun"].to_value(u.kpc)
    kin = _kinetic(inputs)
    phi_galpot = _aligned(inputs, "Phi")
    with np.errstate(invalid="ignore"):
        galpy = orbital_energy(np.where(sel, R, 1.0), np.where(sel, zh, 0.0), 0.0)
    diffs = {"default": values(ours["Energy"]) - pub, "fu2022": values(fu2022["Energy"]) - pub,
             "galpot": phi_galpot + kin - pub,
             "galpot_ZGC": _aligned(inputs, "Phi_ZGC") + kin - pub,
             "galpy_minus_galpot": np.where(sel, galpy, np.nan) - phi_galpot}
    rows = []
    for lo, hi in list(R_BINS) + [(0.0, np.inf)]:
        m = sel & (R >= lo) & (R < hi) & np.isfinite(diffs["galpot"])
        if not m.any():
            continue
        row = {"R_bin": "all" if np.isinf(hi) else f"{lo:g}-{hi:g} kpc", "R_min": lo,
               "R_max": hi, "n": int(m.sum())}
        for k, d in diffs.items():
            row[k] = float(np.median(d[m]))
            row[f"max_abs_{k}"] = float(np.max(np.abs(d[m])))
        rows.append(row)
    t = QTable(rows=rows)
    for k in ("R_min", "R_max"):
        t[k].unit = u.kpc
    for k in diffs:
        t[k].unit = t[f"max_abs_{k}"].unit = KM2S2
    t["R_bin"].info.description = "Galactocentric radius bin (paper frame RGC)"
    t["default"].info.description = ("Median of ours (galpy McMillan17 in physical units, at "
                                     "ZGC, default frame) minus published")
    t["fu2022"].info.description = ("Median of convention='fu2022' (galpy McMillan17 rescaled "
                                    "to ro = 8.2 kpc, vo = 232.8 km/s, at d sin b) minus "
                                    "published")
    t["galpot"].info.description = ("Median of GalPot's McMillan17 (PJM17_best) at d sin b "
                                    "plus v^2/2 minus published")
    t["galpot_ZGC"].info.description = "As galpot, the potential at ZGC"
    t["galpy_minus_galpot"].info.description = ("Median of galpy's McMillan17 (physical units) "
                                                "minus GalPot's, at (R, d sin b)")
    g = _galpot()
    t.meta.update(galpot=g.meta.get("code", ""), potential_file=g.meta.get("potential_file", ""),
                  galpot_km_s_in_kpc_Myr=float(g.meta.get("km_s_in_kpc_Myr", np.nan)),
                  input_check=galpot_input_check(inputs))
    return t
