"""Galactocentric frames and the conventions of the orbit computation.

* The coordinate transformation uses :class:`astro_ocl.config.galactic_parameters`
  (R0 = 8.2 kpc, z_sun, v_c = 232.8 km/s, (U, V, W)_sun = (11.1, 12.24, 7.25)
  km/s) through an astropy `~astropy.coordinates.Galactocentric` frame with
  ``galcen_distance = R0`` and ``galcen_v_sun = (U_sun, v_c + V_sun, W_sun)``.
* `CONVENTIONS`: the physically correct ``"standard"`` computation and the
  ``"fu2022"`` choices behind the published catalogue of Fu et al. (2022).
* Sign conventions of the columns: see `astro_ocl.steps.dynamics`.
"""
from dataclasses import dataclass, field

import astropy.units as u
import numpy as np
from astropy.coordinates import CartesianDifferential, Galactocentric

from ...config import galactic_parameters

__all__ = ["CONVENTIONS", "OrbitConvention", "K_365D", "get_convention", "galactocentric_frame",
           "phase_space", "KMS", "KPC_KMS", "KM2S2"]

KMS = u.km / u.s
KPC_KMS = u.kpc * u.km / u.s
KM2S2 = u.km ** 2 / u.s ** 2


@dataclass(frozen=True)
class OrbitConvention:
    """How `orbit_parameters` computes its columns: a named set of choices.

    The default, ``"standard"``, is the physically correct computation in the
    frame of `~astro_ocl.config.galactic_parameters`. ``"fu2022"`` reproduces
    the published catalogue of Fu et al. (2022, J/A+A/668/A4), whose numbers
    were computed differently (found by testing hypotheses against all 371
    clusters with a distance; see the docs page "Reproducing Fu et al. 2022"
    and ``astro-ocl reproduce``). Every output table says which convention
    made it (``meta['convention']`` and the descriptions of the columns that
    differ).

    Attributes
    ----------
    name : str
    description : str
        One line for provenance and docs.
    frame : {"galactocentric", "galactic-shifted"}
        ``"galactocentric"``: astropy's `~astropy.coordinates.Galactocentric`
        (the Sun at height ``z_sun`` above the plane, the frame tilted so that
        the Galactic centre lies in the plane). ``"galactic-shifted"``:
        heliocentric Galactic Cartesian axes translated by ``(-R0, 0, +z_sun)``,
        no tilt.
    km_s_per_kpc_mas : float or None
        Conversion of proper motion times distance to velocity; None: astropy's
        exact value (1 au per Julian year, 4.740470...). Fu et al. used 1 au per
        365 days (4.743717).
    energy_height : {"ZGC", "heliocentric"}
        Height at which the potential enters the energy: the Galactocentric
        ``ZGC``, or d sin b (without the Sun's height).
    potential_units : tuple of float or None
        ``(ro [kpc], vo [km/s])`` in which galpy's McMillan17 is evaluated for the
        energy; None: its own natural units (8.21 kpc, 233.1 km/s), i.e. the
        potential in physical units. ``(8.2, 232.8)`` (R0 and v_c of the paper)
        rescales the potential.
    orbit_start : {"cylindrical", "cartesian"}
        Initial velocities of the orbit integration: the Galactocentric
        cylindrical (v_R, v_phi, v_z) (correct), or the Cartesian (U, V, W)
        passed as if they were (v_R, v_phi, v_z), without the rotation to the
        cluster's azimuth (the published orbits).
    galactic_parameters : dict
        Overrides of `~astro_ocl.config.galactic_parameters` (e.g. ``z_sun``).
    changes : dict
        Column name -> what differs from ``"standard"`` (appended to the column
        description).
    """

    name: str
    description: str
    frame: str = "galactocentric"
    km_s_per_kpc_mas: float = None
    energy_height: str = "ZGC"
    potential_units: tuple = None
    orbit_start: str = "cylindrical"
    galactic_parameters: dict = field(default_factory=dict)
    changes: dict = field(default_factory=dict)


#: 1 au per 365 days in km/s per (kpc mas/yr): the conversion behind J/A+A/668/A4.
K_365D = 149597870.7 / (365.0 * 86400.0)

_FU2022_FRAME = "Galactic axes translated by (-R0, 0, +14 pc), no tilt; k = 4.743717"

#: The conventions of `orbit_parameters` (see `OrbitConvention`).
CONVENTIONS = {
    "standard": OrbitConvention(
        "standard", "astro_ocl default: physically correct; astropy Galactocentric frame of "
        "galactic_parameters, McMillan17 in physical units, orbits from the cylindrical "
        "velocities"),
    "fu2022": OrbitConvention(
        "fu2022", "as the published catalogue of Fu et al. 2022 (J/A+A/668/A4) was computed: "
        "untilted Galactic frame with the Sun 14 pc above the plane, k = 4.743717 km/s per "
        "kpc mas/yr, energy at d sin b in McMillan17 rescaled to (R0, v_c) = (8.2 kpc, "
        "232.8 km/s), orbits started with (U, V, W) taken as (v_R, v_phi, v_z)",
        frame="galactic-shifted", km_s_per_kpc_mas=K_365D, energy_height="heliocentric",
        potential_units=(8.2, 232.8), orbit_start="cartesian",
        galactic_parameters={"z_sun": 14.0 * u.pc},
        changes={**{k: _FU2022_FRAME for k in (
                     "XGC", "YGC", "ZGC", "RGC", "U", "V", "W", "ULSR", "VLSR", "WLSR", "vR",
                     "vphi", "vz", "LX", "LY", "LZ")},
                 "Energy": "potential at d sin b in McMillan17 rescaled to 8.2 kpc, "
                           "232.8 km/s",
                 **{k: "orbit started with (U, V, W) as (v_R, v_phi, v_z): not a physical "
                       "orbit" for k in ("Peri", "Apo", "Zmax", "ecc")}}),
}


def get_convention(name):
    """The `OrbitConvention` of a name of `CONVENTIONS` (a convention is returned as it is)."""
    if isinstance(name, OrbitConvention):
        return name
    try:
        return CONVENTIONS[name]
    except KeyError:
        raise ValueError(f"unknown convention {name!r}; choose from {sorted(CONVENTIONS)}") \
            from None


def galactocentric_frame():
    """The astropy Galactocentric frame of `~astro_ocl.config.galactic_parameters`.

    Returns
    -------
    `~astropy.coordinates.Galactocentric`
        ``galcen_distance = R0``, ``z_sun``, ``galcen_v_sun = (U_sun, v_c +
        V_sun, W_sun)``.
    """
    p = galactic_parameters.get()
    usun, vsun, wsun = p["solar_motion"].to_value(KMS)
    vc = p["v_circ"].to_value(KMS)
    return Galactocentric(galcen_distance=p["R0"], z_sun=p["z_sun"],
                          galcen_v_sun=CartesianDifferential([usun, vc + vsun, wsun] * KMS))


def _galactic_shifted(coords, k):
    """Heliocentric Galactic Cartesian axes translated to the Galactic centre, no tilt."""
    p = galactic_parameters.get()
    g = coords.galactic
    lon, lat = g.l.rad, g.b.rad
    d = g.distance.to_value(u.kpc)
    vl = k * d * g.pm_l_cosb.to_value(u.mas / u.yr)
    vb = k * d * g.pm_b.to_value(u.mas / u.yr)
    rv = g.radial_velocity.to_value(KMS)
    cl, sl, cb, sb = np.cos(lon), np.sin(lon), np.cos(lat), np.sin(lat)
    usun, vsun, wsun = p["solar_motion"].to_value(KMS)
    vx = rv * cb * cl - vl * sl - vb * sb * cl + usun
    vy = rv * cb * sl + vl * cl - vb * sb * sl + vsun + p["v_circ"].to_value(KMS)
    vz = rv * sb + vb * cb + wsun
    x = d * cb * cl - p["R0"].to_value(u.kpc)
    y = d * cb * sl
    z = d * sb + p["z_sun"].to_value(u.kpc)
    return x, y, z, vx, vy, vz


def phase_space(coords, *, convention="standard"):
    """Galactocentric positions and velocities of ICRS coordinates (see module conventions).

    Parameters
    ----------
    coords : `~astropy.coordinates.SkyCoord`
        With distance, proper motions and radial velocity.
    convention : str or `OrbitConvention`
        The frame (``"standard"``: astropy's Galactocentric frame; see `CONVENTIONS`).

    Returns
    -------
    dict of `~astropy.units.Quantity`
        ``XGC, YGC, ZGC, RGC`` [kpc], ``U, V, W, ULSR, VLSR, WLSR, vR, vphi, vz``
        [km/s], ``LX, LY, LZ`` [kpc km/s], and ``phi`` (galpy azimuth, rad).
    """
    conv = get_convention(convention)
    if conv.frame == "galactic-shifted":
        x, y, z, vx, vy, vz = _galactic_shifted(coords, conv.km_s_per_kpc_mas or 4.740470463533348)
    elif conv.frame == "galactocentric":
        g = coords.transform_to(galactocentric_frame())
        x, y, z = (getattr(g, a).to_value(u.kpc) for a in "xyz")
        vx, vy, vz = (getattr(g, f"v_{a}").to_value(KMS) for a in "xyz")
        if conv.km_s_per_kpc_mas is not None:
            raise ValueError("km_s_per_kpc_mas needs frame='galactic-shifted'")
    else:
        raise ValueError(f"unknown frame {conv.frame!r}")
    p = galactic_parameters.get()
    vc = p["v_circ"].to_value(KMS)
    # heliocentric velocity + solar peculiar motion = velocity relative to the LSR
    rr = np.hypot(x, y)
    with np.errstate(invalid="ignore", divide="ignore"):
        vr = (x * vx + y * vy) / rr
        vphi = (y * vx - x * vy) / rr
    out = {
        "XGC": x * u.kpc, "YGC": y * u.kpc, "ZGC": z * u.kpc, "RGC": rr * u.kpc,
        "U": vx * KMS, "V": vy * KMS, "W": vz * KMS,
        "ULSR": vx * KMS, "VLSR": (vy - vc) * KMS, "WLSR": vz * KMS,
        "vR": vr * KMS, "vphi": vphi * KMS, "vz": vz * KMS,
        "LX": (y * vz - z * vy) * KPC_KMS,
        "LY": -(z * vx - x * vz) * KPC_KMS,
        "LZ": -(x * vy - y * vx) * KPC_KMS,
        "phi": np.arctan2(y, -x) * u.rad,
    }
    return out
