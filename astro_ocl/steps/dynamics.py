"""Orbits and integrals of motion of clusters in the McMillan (2017) potential.

Method step 7 of Fu et al. (2022): Galactocentric positions and velocities,
angular momentum, energy, pericentre, apocentre, eccentricity and z_max of
every cluster, with Monte Carlo uncertainties from the input errors, and
positions back in time.

Frame and potential
-------------------
* The coordinate transformation uses :class:`astro_ocl.config.galactic_parameters`
  (R0 = 8.2 kpc, z_sun, v_c = 232.8 km/s, (U, V, W)_sun = (11.1, 12.24, 7.25)
  km/s) through an astropy `~astropy.coordinates.Galactocentric` frame with
  ``galcen_distance = R0`` and ``galcen_v_sun = (U_sun, v_c + V_sun, W_sun)``.
* The potential is galpy's ``McMillan17``. galpy works in the potential's own
  natural units (``get_physical(McMillan17)``: ro = 8.21 kpc, vo = 233.1 km/s);
  these are only unit scales, not the Sun's parameters.
* Speed: orbits are integrated in an interpolated axisymmetric copy of
  McMillan17 (galpy `~galpy.potential.interpRZPotential` with its C code). It
  is McMillan17 split in two: the analytic disc terms of galpy's
  DiskSCFPotential (``4 pi G Sigma(r) H(z)`` of the HI, H2, thin and thick
  discs, `MCMILLAN17_DISCS`), evaluated exactly because they hold the 45 and
  85 pc gas discs, and a smooth remainder interpolated from the grid shipped in
  ``astro_ocl/data/mcmillan17_rz_grid.npz`` (201 x 201 nodes in ln R and z;
  evaluating McMillan17 on it takes ~30 CPU minutes, so it is computed once and
  shipped). Their sum is sampled on finer z grids (`GRIDS`) in well under a
  second without building galpy's McMillan17. ``benchmarks/bench_orbits.py``
  compares it with direct galpy integration of McMillan17.

Sign conventions
----------------
* ``XGC, YGC, ZGC`` (X, Y, Z) and ``U, V, W``: astropy's Galactocentric frame (right-handed): X
  from the Sun's projection towards the Galactic centre and beyond (the Sun is
  at X = -R0), Y towards Galactic rotation at the Sun (l = 90 deg), Z towards
  the North Galactic Pole. ``U = dX/dt`` (positive towards the Galactic centre
  as seen from the Sun), ``V = dY/dt``, ``W = dZ/dt``.
* ``ULSR, VLSR, WLSR``: velocity relative to the local standard of rest
  (heliocentric velocity plus the Sun's peculiar motion), same axes: U towards
  the Galactic centre, V towards rotation, W towards the NGP.
* ``vR`` positive away from the Galactic centre; ``vphi`` positive in the
  direction of Galactic rotation (galpy's convention, the Sun has vphi ~ 245
  km/s); ``vz`` towards the NGP.
* ``LX, LY, LZ``: angular momentum in galpy's (left-handed) frame, as galpy's
  ``Orbit.L()`` gives it and as Fu et al. (2022) publish it: LZ = RGC * vphi is
  positive for prograde (disc) orbits. In astropy's axes: LX = (r x v)_x,
  LY = -(r x v)_y, LZ = -(r x v)_z.
* ``Energy``: E = Phi(R, z) + v^2 / 2 with McMillan17's zero point
  (Phi -> 0 at infinity).
* ``Peri, Apo``: minimum and maximum of the spherical Galactocentric radius
  r = sqrt(R^2 + z^2) along the orbit (galpy's ``rperi/rap``); ``ecc = (Apo -
  Peri) / (Apo + Peri)``; ``Zmax`` the maximum of |z|.
"""
import dataclasses
import functools
import warnings
from dataclasses import dataclass, field

import astropy.units as u
import numpy as np
from astropy.coordinates import CartesianDifferential, Galactocentric, SkyCoord
from astropy.table import QTable

from .. import schema
from ..config import galactic_parameters
from ..exceptions import AstroOCLWarning, InputDataError, MissingColumnError, ParameterError
from ..logger import log
from ..utils import data_path, progress, restore_signal_handlers

__all__ = ["CONVENTIONS", "OrbitConvention", "K_365D", "GRID_FILE", "natural_units",
           "mcmillan17", "interpolated_mcmillan17", "MCMILLAN17_DISCS", "GRIDS",
           "PLANE_SWITCH_KPC",
           "galactocentric_frame", "phase_space", "integrate_orbits", "orbit_parameters",
           "positions_back_in_time", "orbital_energy", "OrbitWarning"]

#: The shipped McMillan17 grid (see ``astro_ocl/data/manifest.json``).
GRID_FILE = "mcmillan17_rz_grid.npz"

KMS = u.km / u.s
KPC_KMS = u.kpc * u.km / u.s
KM2S2 = u.km ** 2 / u.s ** 2

# galpy's SCFPotential (part of McMillan17) calls numpy.divide(..., where=...)
# without out=, and numpy >= 2.3 warns about it ("'where' used without 'out'").
# The values it returns are correct (galpy fills the masked entries itself); we
# silence exactly this message around direct evaluations of McMillan17.
_SCF_WHERE_MESSAGE = "'where' used without 'out'"


class OrbitWarning(AstroOCLWarning):
    """An orbit could not be integrated as asked (unbound, or outside the grid)."""


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


def _convention(name):
    if isinstance(name, OrbitConvention):
        return name
    try:
        return CONVENTIONS[name]
    except KeyError:
        raise ValueError(f"unknown convention {name!r}; choose from {sorted(CONVENTIONS)}") \
            from None


@functools.lru_cache(maxsize=1)
def mcmillan17():
    """galpy's ``McMillan17`` potential (imported lazily: galpy is slow to import)."""
    from galpy.potential.mwpotentials import McMillan17
    return McMillan17


def natural_units():
    """galpy's natural units of McMillan17, ``(ro [kpc], vo [km/s])`` = (8.21, 233.1).

    These are McMillan17's own unit scales (galpy's ``get_physical(McMillan17)``,
    stored with the shipped grid so that galpy's slow McMillan17 need not be
    built; the tests check they agree), used for every galpy call. They are not
    the Sun's distance and circular speed.
    """
    return _grid_units()


@functools.lru_cache(maxsize=1)
def _grid_units():
    with np.load(data_path(GRID_FILE)) as g:
        return float(g["ro_kpc"]), float(g["vo_kms"])


#: The four discs of McMillan (2017, MNRAS 465, 76, Table 2 and section 2.2) as galpy's
#: ``McMillan17`` builds them (a `~galpy.potential.DiskSCFPotential`): surface density
#: Sigma0 [Msun/pc2], scale length Rd [kpc], central hole Rm [kpc] (None: no hole),
#: vertical profile and scale height zd [kpc]. HI and H2 gas discs, thin and thick
#: stellar discs.
MCMILLAN17_DISCS = (
    (53.1, 7.0, 4.0, "sech2", 0.085),
    (2180.0, 1.5, 12.0, "sech2", 0.045),
    (896.0, 2.5, None, "exp", 0.3),
    (183.0, 3.02, None, "exp", 0.9),
)

#: The two grids of the interpolated McMillan17: name -> (R_min, R_max [kpc], number of
#: ln R nodes, |z| limit [kpc], z node spacing [kpc]). ``"plane"`` resolves the gas
#: discs (the H2 disc's F_z changes on ~0.09 kpc) for disc orbits, and is small
#: because galpy hands the grid to its C code as a Python list on every integration
#: (~0.1 s per 10^5 numbers); ``"full"`` covers the shipped grid's whole range.
GRIDS = {"plane": (0.5, 60.0, 81, 1.2, 0.02), "full": (0.01, 100.0, 201, 20.0, 0.05)}

#: Orbits whose sampled |z| exceeds this [kpc] (or whose R leaves the ``"plane"``
#: grid) are integrated again in the ``"full"`` grid.
PLANE_SWITCH_KPC = 1.0


def _disc_terms(R, z):
    """The analytic part of McMillan17's discs: potential, R force and z force.

    galpy's `~galpy.potential.DiskSCFPotential` (Kuijken & Dubinski 1995) writes
    the potential of each disc as ``4 pi G Sigma(r) H(z)`` (r the spherical
    radius, H the vertical profile integrated twice) plus a smooth remainder
    that it expands in SCF basis functions. These terms carry all the fine
    vertical structure of the discs (the 45 and 85 pc gas discs); here they are
    evaluated exactly, with the formulas of galpy's
    ``KuijkenDubinskiDiskExpansionPotential`` and the parameters
    `MCMILLAN17_DISCS`.

    Parameters
    ----------
    R, z : array-like
        Cylindrical radius and height in McMillan17's natural units (`natural_units`).

    Returns
    -------
    tuple of `~numpy.ndarray`
        Potential, R force and z force in natural units (G = 1).
    """
    from galpy.util.conversion import surfdens_in_msolpc2
    ro, vo = natural_units()
    sigo = surfdens_in_msolpc2(vo=vo, ro=ro)
    R, z = np.broadcast_arrays(np.asarray(R, float), np.asarray(z, float))
    r = np.hypot(R, z)
    with np.errstate(invalid="ignore", divide="ignore"):
        rr, zr = np.where(r > 0, R / r, 0.0), np.where(r > 0, z / r, 0.0)
    az = np.abs(z)
    pot, fr, fz = np.zeros(R.shape), np.zeros(R.shape), np.zeros(R.shape)
    for s0, rd, rm, vertical, zd in MCMILLAN17_DISCS:
        amp, rd, zd = 4.0 * np.pi * s0 / sigo, rd / ro, zd / ro
        with np.errstate(divide="ignore", over="ignore", invalid="ignore"):
            if rm is None:
                sig = np.exp(-r / rd)
                dsig = -sig / rd
            else:
                sig = np.where(r > 0, np.exp(-(rm / ro) / r - r / rd), 0.0)
                dsig = np.where(r > 0, ((rm / ro) / r ** 2 - 1.0 / rd) * sig, 0.0)
        if vertical == "exp":
            ez = np.exp(-az / zd)
            hh = (ez - 1.0 + az / zd) * zd / 2.0
            dh = 0.5 * np.sign(z) * (1.0 - ez)
        else:  # sech2: H = zd ln cosh(z / 2 zd), written without overflow
            x = az / (2.0 * zd)
            hh = zd * (x + np.log1p(np.exp(-2.0 * x)) - np.log(2.0))
            dh = 0.5 * np.tanh(z / (2.0 * zd))
        pot += amp * sig * hh
        fr -= amp * dsig * hh * rr
        fz -= amp * (dsig * hh * zr + sig * dh)
    return pot, fr, fz


@functools.lru_cache(maxsize=1)
def _mcmillan17_splines():
    """Smooth remainder of McMillan17 (shipped grid minus `_disc_terms`) as splines.

    Returns ``(lnr, splines)``: the ln R nodes (natural units) and bicubic
    splines in (ln R, |z|) of the potential, R force and |z| force of the
    remainder.
    """
    from galpy.util.conversion import force_in_kmsMyr
    from scipy.interpolate import RectBivariateSpline
    with np.load(data_path(GRID_FILE)) as g:
        ro, vo = float(g["ro_kpc"]), float(g["vo_kms"])
        lnr = g["lnR_kpc"] - np.log(ro)
        zz = g["z_kpc"] / ro
        fscale = force_in_kmsMyr(vo, ro)
        total = (g["potential_km2_s2"].T / vo ** 2, g["Rforce_km_s_Myr"].T / fscale,
                 g["zforce_km_s_Myr"].T / fscale)
    discs = _disc_terms(*np.meshgrid(np.exp(lnr), zz, indexing="ij"))
    return lnr, [RectBivariateSpline(lnr, zz, t - dd, kx=3, ky=3, s=0)
                 for t, dd in zip(total, discs)]


def _mcmillan17_exact(R, z, k):
    """McMillan17 from the remainder splines plus the exact disc terms (natural units).

    ``k``: 0 potential, 1 R force, 2 z force. Exact at the shipped grid's
    nodes; between them the remainder is interpolated (it is smooth: bulge,
    halo and the SCF part of the discs) and the disc terms are exact.
    """
    lnr, rest = _mcmillan17_splines()
    R, z = np.broadcast_arrays(np.asarray(R, float), np.asarray(z, float))
    lr, az = np.log(R), np.abs(z)
    if R.ndim == 0:
        # as on a node mesh below (galpy checks a few grid nodes bit for bit)
        val = rest[k]([lr], [az], grid=True)[0, 0]
    elif (R.ndim == 2 and R.shape[0] > 1 and np.all(np.diff(R[:, 0]) > 0)
          and np.all(R == R[:, :1]) and np.all(z == z[:1])):
        # a node mesh (galpy's grid evaluation): the spline on the tensor grid
        uz, back = np.unique(az[0], return_inverse=True)
        val = rest[k](lr[:, 0], uz, grid=True)[:, back]
        key = (R.shape, R[0, 0], R[-1, 0], z[0, 0], z[0, -1])
        if _MESH_DISCS.get("key") != key:  # galpy asks for 3 quantities on one mesh
            _MESH_DISCS.update(key=key, terms=_disc_terms(R, z))
        disc = _MESH_DISCS["terms"][k]
        return val + disc if k != 2 else np.sign(z) * val + disc
    else:
        val = rest[k].ev(lr, az)
    if k == 2:
        val = np.sign(z) * val
    return val + _disc_terms(R, z)[k]


_MESH_DISCS = {}


@functools.lru_cache(maxsize=2)
def interpolated_mcmillan17(grid="full"):
    """McMillan17 as a galpy `~galpy.potential.interpRZPotential` that resolves the gas discs.

    McMillan17 is split into the analytic disc terms (`_disc_terms`, which hold
    the thin vertical structure of the 45 and 85 pc gas discs) and a smooth
    remainder (bulge, halo and the discs' SCF part): the shipped grid
    (``GRID_FILE``: McMillan17 at 201 x 201 nodes in ln R and z, 0.1 kpc apart
    in z) minus the disc terms at its nodes, interpolated with bicubic splines.
    Their sum is sampled on a finer grid (`GRIDS`; z through the plane, so that
    the odd F_z needs no boundary condition at z = 0) that galpy interpolates
    in C for its integrators. Built
    in well under a second, without galpy's (slow) McMillan17.

    Parameters
    ----------
    grid : {"full", "plane"}
        ``"full"``: 0.01 kpc <= R <= 100 kpc, |z| <= 20 kpc, 0.05 kpc apart in
        z; ``"plane"``: 0.5 kpc <= R <= 60 kpc, |z| <= 1.2 kpc, 0.02 kpc apart
        (smaller, so that galpy hands it to C faster; for the orbits that stay
        within `PLANE_SWITCH_KPC` of the plane). See `GRIDS`.

    Returns
    -------
    `~galpy.potential.interpRZPotential`
        In McMillan17's natural units (`natural_units`).
    """
    from galpy.potential import Potential, interpRZPotential
    if grid not in GRIDS:
        raise ValueError(f"grid must be one of {sorted(GRIDS)}, got {grid!r}")
    ro, vo = natural_units()
    rlo, rhi, nr, zlim, dz = GRIDS[grid]
    nz = 2 * int(round(zlim / dz)) + 1

    class _McMillan17Nodes(Potential):
        # McMillan17 from the remainder splines and the exact disc terms
        def __init__(self):
            # no ro/vo: galpy < 1.12.1 fills interpRZPotential's grid with
            # evaluatePotentials(pot, R, z) in physical units when pot has ro/vo,
            # which scaled the grid (and every energy) by vo**2
            Potential.__init__(self, amp=1.0)

        def _evaluate(self, R, z, phi=0.0, t=0.0):
            return _mcmillan17_exact(R, z, 0)

        def _Rforce(self, R, z, phi=0.0, t=0.0):
            return _mcmillan17_exact(R, z, 1)

        def _zforce(self, R, z, phi=0.0, t=0.0):
            return _mcmillan17_exact(R, z, 2)

    pot = interpRZPotential(_McMillan17Nodes(), rgrid=(np.log(rlo / ro), np.log(rhi / ro), nr),
                            zgrid=(-zlim / ro, zlim / ro, nz), logR=True, interpPot=True,
                            interpRforce=True, interpzforce=True, enable_c=True, zsym=False,
                            ro=ro, vo=vo)
    _MESH_DISCS.clear()
    # validity limits of the grid in kpc: R_min, R_max, |z|_max
    pot._astro_ocl_limits = (rlo, rhi, zlim)
    return pot


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
    conv = _convention(convention)
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


def orbital_energy(R, z, vsq, *, potential="interpolated", units=None):
    """Energy per unit mass E = Phi(R, z) + v^2/2 in McMillan17.

    Parameters
    ----------
    R, z : array-like
        Galactocentric cylindrical radius and height in kpc.
    vsq : array-like
        Squared speed in km^2/s^2 (0 for the potential alone).
    potential : {"interpolated", "direct"}
        McMillan17 from the shipped grid and its exact disc terms (see
        `interpolated_mcmillan17`), or galpy's own.
    units : tuple of float, optional
        ``(ro [kpc], vo [km/s])`` with which the dimensionless McMillan17 is
        evaluated; default its natural units (the potential in physical units).
        Other units rescale the potential (the ``fu2022`` convention).

    Returns
    -------
    `~numpy.ndarray`
        E in km^2/s^2.
    """
    ro, vo = natural_units() if units is None else units
    # galpy evaluates in C through ctypes, which turns a Ctrl-C that lands in its
    # argument conversion into a ctypes.ArgumentError: signals wait for the end
    if potential == "direct":
        from galpy.potential import evaluatePotentials
        with warnings.catch_warnings(), restore_signal_handlers():
            warnings.filterwarnings("ignore", message=_SCF_WHERE_MESSAGE, category=UserWarning)
            phi = evaluatePotentials(mcmillan17(), R / ro, z / ro, use_physical=False)
    else:
        # the remainder splines plus the exact disc terms (what the grids sample; numpy,
        # no galpy C call)
        with np.errstate(invalid="ignore", divide="ignore"):
            phi = _mcmillan17_exact(np.asarray(R, float) / ro, np.asarray(z, float) / ro, 0)
    return np.asarray(phi) * vo ** 2 + 0.5 * vsq


def integrate_orbits(R, vR, vphi, z, vz, phi, *, times, potential="interpolated", dt=None,
                     chunk=1000, show_progress=None):
    """Integrate many orbits in McMillan17 and return their extremes and snapshots.

    Parameters
    ----------
    R, vR, vphi, z, vz, phi : array-like
        Galactocentric cylindrical initial conditions in kpc, km/s and rad
        (galpy's convention: ``vphi`` positive along Galactic rotation).
    times : `~astropy.units.Quantity`
        Output times (increasing or decreasing from 0).
    potential : {"interpolated", "direct"}
        The fast interpolated McMillan17 (leapfrog in C, step ``dt``; orbits
        first in the ``"plane"`` grid of `interpolated_mcmillan17`, those that
        rise above `PLANE_SWITCH_KPC` again in the ``"full"`` grid) or galpy's
        McMillan17 itself (DOP853 in C, adaptive) for reference.
    dt : `~astropy.units.Quantity`, optional
        Integration step of the interpolated potential (default: half the
        output spacing).
    chunk : int
        Orbits per galpy call (bounds the memory of the stored orbits).
    show_progress : bool, optional
        Progress bar over chunks.

    Returns
    -------
    dict
        ``Peri, Apo, Zmax`` [kpc] (extremes over the output times), ``R, z, phi``
        of shape (N, len(times)) only when ``len(times) <= 1001``, and ``outside``
        (bool per orbit: left the "full" grid of the interpolated potential).
    """
    from galpy.util.conversion import time_in_Gyr
    ro, vo = natural_units()
    R, vR, vphi, z, vz, phi = (np.atleast_1d(np.asarray(a, float)) for a in
                               (R, vR, vphi, z, vz, phi))
    n = R.size
    ts = (u.Quantity(times).to_value(u.Gyr)) / time_in_Gyr(vo, ro)
    keep_path = ts.size <= 1001
    if potential == "interpolated":
        step = 0.5 * (ts[1] - ts[0]) if dt is None else \
            np.sign(ts[1] - ts[0]) * u.Quantity(dt).to_value(u.Gyr) / time_in_Gyr(vo, ro)
    elif potential != "direct":
        raise ValueError(f"potential must be 'interpolated' or 'direct', got {potential!r}")
    vxvv = np.column_stack([R / ro, vR / vo, vphi / vo, z / ro, vz / vo, phi])
    out = {k: np.full(n, np.nan) for k in ("Peri", "Apo", "Zmax")}
    out["outside"] = np.zeros(n, bool)
    if keep_path:
        for k in ("R", "z", "phi"):
            out[k] = np.full((n, ts.size), np.nan)
    todo = np.flatnonzero(np.all(np.isfinite(vxvv), axis=1))
    if potential == "direct":
        passes = [(mcmillan17, "dop853_c", None, False)]
    else:
        # orbits near the plane in the finely resolved "plane" grid, the others
        # (those that rise above PLANE_SWITCH_KPC) again in the "full" grid,
        # which is only built when needed
        passes = [(functools.partial(interpolated_mcmillan17, "plane"), "leapfrog_c", step, True),
                  (functools.partial(interpolated_mcmillan17, "full"), "leapfrog_c", step, False)]
    for get_pot, method, stp, is_plane in passes:
        if not todo.size:
            break
        pot = get_pot()
        limits = getattr(pot, "_astro_ocl_limits", (0.0, np.inf, np.inf))
        if is_plane:
            limits = limits[:2] + (PLANE_SWITCH_KPC,)
        _integrate_chunks(vxvv, todo, ts, pot, method, stp, limits, out, keep_path,
                          chunk, show_progress)
        todo = todo[out["outside"][todo]]
    return out


def _integrate_chunks(vxvv, todo, ts, pot, method, step, limits, out, keep_path, chunk,
                      show_progress):
    """Integrate the orbits ``todo`` in chunks and fill ``out`` (see `integrate_orbits`)."""
    from galpy.orbit import Orbit
    from galpy.util import galpyWarningVerbose
    ro, vo = natural_units()
    rmin, rmax, zlim = limits
    starts = range(0, todo.size, chunk)
    for s in progress(starts, total=len(starts), desc="orbits", enabled=show_progress):
        idx = todo[s:s + chunk]
        o = Orbit(vxvv[idx], ro=ro, vo=vo)
        with warnings.catch_warnings():
            # see _SCF_WHERE_MESSAGE: only reached with potential="direct"
            warnings.filterwarnings("ignore", message=_SCF_WHERE_MESSAGE, category=UserWarning)
            # galpy announces "Using C implementation to integrate orbits" as a
            # galpyWarningVerbose, which galpy itself ignores unless its verbose
            # option is set; keep it ignored when warnings are errors (tests).
            warnings.filterwarnings("ignore", category=galpyWarningVerbose)
            # galpy's C code resets SIGINT to SIG_DFL: signals wait for the handlers
            with restore_signal_handlers():
                o.integrate(ts, pot, method=method, dt=step, progressbar=False)
        # galpy's (n, nt, 6) array of (R, vR, vphi, z, vz, phi), without a copy
        orb = o.orbit
        rc, zc = orb[..., 0] * ro, orb[..., 3] * ro
        r = np.hypot(rc, zc)
        out["Peri"][idx] = r.min(axis=1)
        out["Apo"][idx] = r.max(axis=1)
        out["Zmax"][idx] = np.abs(zc).max(axis=1)
        out["outside"][idx] = ((rc.min(axis=1) < rmin) | (rc.max(axis=1) > rmax)
                               | (out["Zmax"][idx] > zlim))
        if keep_path:
            out["R"][idx], out["z"][idx], out["phi"][idx] = rc, zc, orb[..., 5]
        del o, orb, rc, zc, r


def _get(table, names):
    for n in names:
        if n in table.colnames:
            return table[n]
    return None


def _input_errors(coords, table, errors, n):
    """Errors of pm_ra_cosdec, pm_dec, radial_velocity, and parallax or distance."""
    if errors is None and table is not None:
        errors = {
            "pm_ra_cosdec": _get(table, ("e_pmRA", "e_pmra", "e_pm_ra_cosdec")),
            "pm_dec": _get(table, ("e_pmDE", "e_pmdec", "e_pm_dec")),
            "radial_velocity": _get(table, ("e_RVmed", "e_RV", "e_rv", "e_radial_velocity")),
            "parallax": _get(table, ("e_plx", "e_parallax")),
            "distance": _get(table, ("e_Dist", "e_distance")),
        }
    if errors is None:
        return None
    units = {"pm_ra_cosdec": u.mas / u.yr, "pm_dec": u.mas / u.yr, "radial_velocity": KMS,
             "parallax": u.mas, "distance": u.kpc}
    unknown = set(errors) - set(units)
    if unknown:
        raise ValueError(f"unknown error keys {sorted(unknown)}; use {sorted(units)}")
    out = {}
    for key, unit in units.items():
        val = errors.get(key)
        if val is None:
            continue
        q = u.Quantity(val, unit).to_value(unit) * np.ones(n)
        if np.any(q < 0):
            raise InputDataError("negative uncertainty", column=key,
                                 row=int(np.flatnonzero(q < 0)[0]))
        bad = ~np.isfinite(q)
        if bad.any():
            log.warning("%d clusters have no %s uncertainty: it is taken as zero in the "
                        "Monte Carlo", int(bad.sum()), key)
            q = np.where(bad, 0.0, q)
        out[key] = q
    return out or None


def _draw(coords, errs, n_samples, rngs):
    """Monte Carlo draws of the inputs, row by row: shape (N, n_samples).

    Row i uses only ``rngs[i]`` (four normal deviates per sample, in the order
    pmRA, pmDE, RV, parallax/distance), so a cluster gets the same draws whatever
    other clusters are computed with it.
    """
    n = len(coords)
    shape = (n, n_samples)
    gauss = np.stack([rng.standard_normal((4, n_samples)) for rng in rngs], axis=1)

    def normal(val, key, k):
        sig = errs.get(key)
        val = np.broadcast_to(val[:, None], shape)
        if sig is None:
            return val.copy()
        return val + sig[:, None] * gauss[k]

    pmra = normal(coords.pm_ra_cosdec.to_value(u.mas / u.yr), "pm_ra_cosdec", 0)
    pmde = normal(coords.pm_dec.to_value(u.mas / u.yr), "pm_dec", 1)
    rv = normal(coords.radial_velocity.to_value(KMS), "radial_velocity", 2)
    d = coords.distance.to_value(u.kpc)
    if "distance" in errs:
        key, centre = "distance", d
    elif "parallax" in errs:
        # Draw the parallax around the one implied by the distance (which may include
        # a zero-point correction, as CG2020's DistPc does) and invert it.
        key, centre = "parallax", 1.0 / d  # mas, since d is in kpc
    else:
        key, centre = None, d
    vals = normal(centre, key, 3)
    if key is not None:
        # Truncated normal (scipy.stats.truncnorm): distances below 0.2 d (or parallaxes
        # below 0.2 / d, i.e. distances beyond 5 d) are excluded, so a poorly known
        # parallax cannot give a negative or infinite distance (docs/dynamics.rst). The
        # same normal deviates are mapped through the truncated distribution's inverse
        # CDF, so each row still depends only on its own generator.
        from scipy.stats import norm, truncnorm
        sig = errs[key]
        with np.errstate(divide="ignore", invalid="ignore"):
            a = np.where(sig > 0, -0.8 * centre / sig, -np.inf)
        cut = np.isfinite(a) & (a > -8.0)  # elsewhere the truncation is below 1e-15
        if cut.any():
            q = norm.cdf(gauss[3][cut])
            vals[cut] = centre[cut, None] + sig[cut, None] * truncnorm.ppf(
                q, a[cut, None], np.inf)
    dist = 1.0 / vals if key == "parallax" else vals
    icrs = coords.icrs
    ra = np.broadcast_to(icrs.ra.deg[:, None], shape)
    dec = np.broadcast_to(icrs.dec.deg[:, None], shape)
    return SkyCoord(ra=ra.ravel() * u.deg, dec=dec.ravel() * u.deg,
                    distance=dist.ravel() * u.kpc, pm_ra_cosdec=pmra.ravel() * u.mas / u.yr,
                    pm_dec=pmde.ravel() * u.mas / u.yr, radial_velocity=rv.ravel() * KMS,
                    frame="icrs")


#: Output columns of `orbit_parameters`, in order.
ORBIT_OUTPUT = ["XGC", "YGC", "ZGC", "RGC", "U", "V", "W", "ULSR", "VLSR", "WLSR", "vR",
                "vphi", "vz", "LX", "LY", "LZ", "Energy", "Peri", "Apo", "Zmax", "ecc"]


def _compute(coords, *, integration_time, dt, potential, show_progress, chunk,
             outside="direct", convention=CONVENTIONS["standard"]):
    ps = phase_space(coords, convention=convention)
    vals = {k: ps[k].value for k in ps}
    vsq = vals["U"] ** 2 + vals["V"] ** 2 + vals["W"] ** 2
    zpot = vals["ZGC"]
    if convention.energy_height == "heliocentric":
        zpot = zpot - galactic_parameters.get()["z_sun"].to_value(u.kpc)
    vals["Energy"] = orbital_energy(vals["RGC"], zpot, vsq, potential=potential,
                                    units=convention.potential_units)
    step = u.Quantity(dt, u.Myr).to_value(u.Myr)
    nt = int(round(u.Quantity(integration_time, u.Myr).to_value(u.Myr) / (2 * step))) + 1
    times = np.linspace(0, u.Quantity(integration_time, u.Myr).to_value(u.Myr), nt) * u.Myr
    start = ("vR", "vphi", "vz") if convention.orbit_start == "cylindrical" else ("U", "V", "W")
    orb = integrate_orbits(vals["RGC"], vals[start[0]], vals[start[1]], vals["ZGC"],
                           vals[start[2]], vals["phi"], times=times, potential=potential, dt=dt,
                           chunk=chunk, show_progress=show_progress)
    for k in ("Peri", "Apo", "Zmax"):
        vals[k] = orb[k]
    # bound in the potential the orbit is integrated in (McMillan17 in physical units)
    unbound = ~(orbital_energy(vals["RGC"], vals["ZGC"], vsq, potential=potential) < 0) \
        if convention.potential_units is not None else ~(vals["Energy"] < 0)
    left = orb["outside"] | unbound
    if potential == "interpolated" and left.any():
        todo = np.flatnonzero(orb["outside"] & ~unbound & np.isfinite(vals["RGC"]))
        if todo.size and outside == "nan":
            log.info("%d orbits leave the interpolation grid (R > 100 kpc or |z| > 20 kpc): "
                     "their Peri, Apo, Zmax and ecc are NaN", todo.size)
            for k in ("Peri", "Apo", "Zmax"):
                vals[k][todo] = np.nan
            vals["n_outside"] = int(todo.size)
        elif todo.size:
            log.info("%d orbits leave the interpolation grid (R > 100 kpc or |z| > 20 kpc): "
                     "integrating them in McMillan17 directly", todo.size)
            init = [vals[k][todo] for k in ("RGC", start[0], start[1], "ZGC", start[2], "phi")]
            ref = integrate_orbits(*init, times=times, potential="direct", chunk=chunk)
            for k in ("Peri", "Apo", "Zmax"):
                vals[k][todo] = ref[k]
    for k in ("Peri", "Apo", "Zmax"):
        vals[k][unbound] = np.nan
    with np.errstate(invalid="ignore"):
        vals["ecc"] = (vals["Apo"] - vals["Peri"]) / (vals["Apo"] + vals["Peri"])
    return vals, unbound


_UNITS = {**{k: u.kpc for k in ("XGC", "YGC", "ZGC", "RGC", "Peri", "Apo", "Zmax")},
          **{k: KMS for k in ("U", "V", "W", "ULSR", "VLSR", "WLSR", "vR", "vphi", "vz")},
          **{k: KPC_KMS for k in ("LX", "LY", "LZ")}, "Energy": KM2S2,
          "ecc": None}


def orbit_parameters(coords, *, n_samples=100, errors=None, seed=None, rngs=None,
                     progress=None, integration_time=3 * u.Gyr, dt=0.5 * u.Myr,
                     potential="interpolated", chunk=1000, outside="direct",
                     samples_outside="nan", convention="standard"):
    """Positions, velocities, integrals of motion and orbits of clusters (with MC errors).

    Parameters
    ----------
    coords : `~astropy.coordinates.SkyCoord` or `~astropy.table.QTable`
        ICRS coordinates with distance, proper motions and radial velocity, one
        per cluster; or a table with such a ``coord`` column (e.g.
        `~astro_ocl.pipeline.CatalogueResult.clusters`), whose error columns
        (``e_pmRA, e_pmDE, e_plx`` or ``e_Dist``, ``e_RVmed`` or ``e_RV``) are used
        when ``errors`` is not given.
    n_samples : int
        Monte Carlo samples per cluster for the uncertainties; 0 for none.
    errors : dict, optional
        Uncertainties (`~astropy.units.Quantity`, one per cluster or scalar) with
        keys ``pm_ra_cosdec, pm_dec, radial_velocity`` and ``parallax`` or
        ``distance``. Parallax draws are made around 1/distance and inverted; the
        draws are a truncated normal (`scipy.stats.truncnorm`) that excludes
        distances beyond 5 times (or below 0.2 times) the distance.
    seed : int, optional
        Seed of the Monte Carlo (same seed, same result); row i draws from
        ``numpy.random.default_rng([seed, i])``.
    rngs : sequence of `numpy.random.Generator`, optional
        One generator per row instead of ``seed`` (the catalogue build passes
        generators derived from the cluster names).
    progress : bool, optional
        Progress bar.
    integration_time : `~astropy.units.Quantity`
        Length of the orbit integration (default 3 Gyr, forward in time).
    dt : `~astropy.units.Quantity`
        Leapfrog step of the fast integration (0.5 Myr; orbits are sampled every
        2 dt for Peri, Apo and Zmax).
    potential : {"interpolated", "direct"}
        The fast interpolated McMillan17 (default) or galpy's McMillan17 itself
        (~100x slower; for validation).
    chunk : int
        Orbits integrated per galpy call.
    outside : {"direct", "nan"}
        Orbits that leave the grid of the interpolated potential (R > 100 kpc or
        |z| > 20 kpc) are integrated in McMillan17 directly (building it takes
        ~10 s once) or get NaN Peri, Apo, Zmax and ecc.
    samples_outside : {"nan", "direct"}
        The same for the Monte Carlo orbits: by default a sample that leaves the
        grid (a nearly unbound orbit of a distant cluster with a large distance
        error) is left out of the ``e_`` errors of Peri, Apo, Zmax and ecc, as an
        unbound sample is, and counted (``meta["samples_outside_grid"]``); with
        ``"direct"`` it is integrated in McMillan17 itself (exact, ~10-20 s to
        build galpy's McMillan17 once per process).
    convention : {"standard", "fu2022"} or `OrbitConvention`
        ``"standard"`` (default): the physically correct computation in the
        frame of `~astro_ocl.config.galactic_parameters`. ``"fu2022"``: the
        choices behind the published catalogue of Fu et al. (2022), see
        ``CONVENTIONS["fu2022"]`` and the docs page "Reproducing Fu et al.
        2022". The table's ``meta['convention']`` and the descriptions of the
        columns that differ say which convention made them.

    Returns
    -------
    `~astropy.table.QTable`
        One row per input: ``XGC, YGC, ZGC, RGC`` [kpc], ``U, V, W, ULSR, VLSR,
        WLSR, vR, vphi, vz`` [km/s], ``LX, LY, LZ`` [kpc km/s], ``Energy``
        [km2/s2], ``Peri, Apo, Zmax`` [kpc], ``ecc``, and with Monte Carlo
        errors an ``e_<name>`` column each: half the 16-84 percentile range of
        the samples. Unbound orbits (E >= 0) have NaN Peri, Apo, Zmax, ecc.
        Sign conventions: see the module docstring and the column descriptions.
    """
    conv = _convention(convention)
    if conv.galactic_parameters:
        with galactic_parameters.set(dict(galactic_parameters.get(),
                                          **conv.galactic_parameters)):
            return orbit_parameters(
                coords, n_samples=n_samples, errors=errors, seed=seed, rngs=rngs,
                progress=progress, integration_time=integration_time, dt=dt,
                potential=potential, chunk=chunk, outside=outside,
                samples_outside=samples_outside,
                convention=dataclasses.replace(conv, galactic_parameters={}))
    table = None
    if isinstance(coords, QTable):
        table = coords
        if "coord" not in table.colnames:
            raise MissingColumnError("the table has no 'coord' column", column="coord")
        coords = table["coord"]
    if not isinstance(coords, SkyCoord):
        raise TypeError(f"coords must be a SkyCoord or a QTable with one, got {type(coords)}")
    coords = coords.icrs if coords.isscalar is False else coords.icrs.reshape((1,))
    try:
        coords.distance.to(u.kpc), coords.pm_ra_cosdec, coords.radial_velocity
    except (AttributeError, TypeError, u.UnitConversionError) as exc:
        raise InputDataError("coords need a distance, proper motions and a radial velocity "
                             f"({exc})") from exc
    if coords.distance.unit.physical_type != "length":
        raise InputDataError("coords have no distance (only a direction)", column="distance")
    n = len(coords)
    n_samples = int(n_samples)
    for name, value in (("outside", outside), ("samples_outside", samples_outside)):
        if value not in ("direct", "nan"):
            raise ParameterError(name, value, "one of 'direct', 'nan'")
    kw = dict(integration_time=integration_time, dt=dt, potential=potential,
              show_progress=progress, chunk=chunk, outside=outside, convention=conv)
    nominal, unbound = _compute(coords, **kw)
    if unbound.any():
        names = (np.asarray(table["Cluster"])[unbound][:5] if table is not None and
                 "Cluster" in table.colnames else np.flatnonzero(unbound)[:5])
        fin = unbound & np.isfinite(nominal["RGC"])
        if fin.any():
            warnings.warn(f"{int(fin.sum())} clusters are unbound in McMillan17 (E >= 0), "
                          f"e.g. {', '.join(map(str, names))}: no Peri, Apo, Zmax, ecc",
                          OrbitWarning)
    out = QTable()
    if table is not None and "Cluster" in table.colnames:
        out["Cluster"] = table["Cluster"]
    for k in ORBIT_OUTPUT:
        out[k] = nominal[k] if _UNITS[k] is None else nominal[k] * _UNITS[k]
    errs = _input_errors(coords, table, errors, n) if n_samples > 0 else None
    n_outside = 0
    if errs:
        if rngs is None:
            rngs = ([np.random.default_rng([int(seed), i]) for i in range(n)] if seed is not None
                    else np.random.default_rng().spawn(n))
        elif len(rngs) != n:
            raise ValueError(f"rngs has {len(rngs)} generators for {n} rows")
        draws = _draw(coords, errs, n_samples, rngs)
        samples, _ = _compute(draws, **dict(kw, outside=samples_outside))
        n_outside = int(samples.get("n_outside", 0))
        for k in ORBIT_OUTPUT:
            s = samples[k].reshape(n, n_samples)
            with warnings.catch_warnings():
                # all-NaN rows (clusters without input) give NaN, as they should
                warnings.filterwarnings("ignore", message="All-NaN slice encountered",
                                        category=RuntimeWarning)
                p16, p84 = np.nanpercentile(s, [16, 84], axis=1)
            err = 0.5 * (p84 - p16)
            out[f"e_{k}"] = err if _UNITS[k] is None else err * _UNITS[k]
        n_unb = int((~(samples["Energy"] < 0) & np.isfinite(samples["Energy"])).sum())
        if n_unb:
            log.info("%d of %d Monte Carlo orbits are unbound and left out of the "
                     "Peri/Apo/Zmax/ecc errors", n_unb, n * n_samples)
    schema.apply_schema(out, schema.ORBIT_COLUMNS)
    for name, change in conv.changes.items():
        for col in (name, f"e_{name}"):
            if col in out.colnames:
                out[col].info.description += f" [convention {conv.name}: {change}]"
    p = galactic_parameters.get()
    out.meta.update({
        "convention": conv.name, "convention_description": conv.description,
        "potential": "McMillan17 (galpy)"
        + (", interpolated (ln R, z) grid" if potential == "interpolated" else ""),
        "R0": str(p["R0"]), "z_sun": str(p["z_sun"]), "v_circ": str(p["v_circ"]),
        "solar_motion": str(p["solar_motion"]), "galpy_ro_vo": str(natural_units()),
        "integration_time": str(u.Quantity(integration_time, u.Gyr)), "dt": str(dt),
        "n_samples": n_samples if errs else 0, "seed": "none" if seed is None else int(seed),
        "samples_outside_grid": n_outside if errs else 0})
    return out


def positions_back_in_time(coords, *, times=np.arange(0, 501, 100) * u.Myr,
                           potential="interpolated"):
    """Galactocentric positions of clusters at look-back times (integrated backwards).

    Parameters
    ----------
    coords : `~astropy.coordinates.SkyCoord` or `~astropy.table.QTable`
        As for `orbit_parameters`.
    times : `~astropy.units.Quantity`
        Look-back times (>= 0, increasing), default 0, 100, ..., 500 Myr.
    potential : {"interpolated", "direct"}

    Returns
    -------
    `~astropy.table.QTable`
        One row per (cluster, look-back time): ``Cluster`` (if known), ``lookback``
        [Myr], ``XGC, YGC, ZGC, RGC`` [kpc] in the frame of `phase_space`.
    """
    names = None
    if isinstance(coords, QTable):
        names = coords["Cluster"] if "Cluster" in coords.colnames else None
        coords = coords["coord"]
    times = u.Quantity(times, u.Myr)
    if np.any(times < 0) or np.any(np.diff(times) <= 0):
        raise ValueError("look-back times must be >= 0 and increasing")
    ps = phase_space(coords)
    v = {k: ps[k].value for k in ps}
    orb = integrate_orbits(v["RGC"], v["vR"], v["vphi"], v["ZGC"], v["vz"], v["phi"],
                           times=-times, potential=potential, dt=0.5 * u.Myr)
    n, nt = orb["R"].shape
    rr, zz, ph = orb["R"], orb["z"], orb["phi"]
    out = QTable()
    if names is not None:
        out["Cluster"] = np.repeat(np.asarray(names), nt)
    out["lookback"] = np.tile(times.value, n) * u.Myr
    # back from galpy's azimuth (X = -R cos phi, Y = R sin phi) to astropy's axes
    out["XGC"] = (-rr * np.cos(ph)).ravel() * u.kpc
    out["YGC"] = (rr * np.sin(ph)).ravel() * u.kpc
    out["ZGC"] = zz.ravel() * u.kpc
    out["RGC"] = rr.ravel() * u.kpc
    out["lookback"].info.description = "Look-back time"
    for k in ("XGC", "YGC", "ZGC", "RGC"):
        out[k].info.description = schema.ORBIT_COLUMNS[k].description + " at the look-back time"
    return out
