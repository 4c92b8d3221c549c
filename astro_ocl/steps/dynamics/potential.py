"""McMillan (2017) for fast orbits: galpy's potential, its exact disc terms, the interpolated copy.

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
* ``Energy``: E = Phi(R, z) + v^2 / 2 with McMillan17's zero point
  (Phi -> 0 at infinity).
"""
import contextlib
import functools
import warnings

import numpy as np

from ...logger import log
from ...utils import data_path, restore_signal_handlers

__all__ = ["import_galpy", "GRID_FILE", "natural_units", "mcmillan17", "interpolated_mcmillan17",
           "MCMILLAN17_DISCS", "GRIDS", "PLANE_SWITCH_KPC", "disc_terms", "mcmillan17_exact",
           "orbital_energy", "galpy_quiet"]

#: The shipped McMillan17 grid (see ``astro_ocl/data/manifest.json``).
GRID_FILE = "mcmillan17_rz_grid.npz"

# galpy's SCFPotential (part of McMillan17) calls numpy.divide(..., where=...)
# without out=, and numpy >= 2.3 warns about it ("'where' used without 'out'").
# The values it returns are correct (galpy fills the masked entries itself); we
# silence exactly this message around direct evaluations of McMillan17 (galpy_quiet).
_SCF_WHERE_MESSAGE = "'where' used without 'out'"


@functools.lru_cache(maxsize=1)
def import_galpy():
    """Import galpy once, keeping the process's warning display as it was.

    galpy replaces `warnings.showwarning` with its own when first imported (a
    file:line and source display), and the astroquery it imports may install
    astropy's warnings logging; imported inside `warnings.catch_warnings` both are
    undone, so a warning looks the same before and after an orbit. Every function
    of the package that imports galpy calls this first.
    """
    with warnings.catch_warnings():
        import galpy.orbit  # noqa: F401
        import galpy.potential  # noqa: F401
        import galpy.util  # noqa: F401


@contextlib.contextmanager
def galpy_quiet():
    """Silence the two galpy messages that are not problems (warnings are errors in tests).

    * numpy >= 2.3's "'where' used without 'out'" from galpy's SCFPotential
      (part of McMillan17), whose values are correct (see ``_SCF_WHERE_MESSAGE``);
    * galpy's "Using C implementation to integrate orbits", a
      ``galpyWarningVerbose`` that galpy itself ignores unless its verbose
      option is set.
    """
    import_galpy()
    from galpy.util import galpyWarningVerbose
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message=_SCF_WHERE_MESSAGE, category=UserWarning)
        warnings.filterwarnings("ignore", category=galpyWarningVerbose)
        yield


@functools.lru_cache(maxsize=1)
def mcmillan17():
    """galpy's ``McMillan17`` potential (imported lazily: galpy is slow to import)."""
    import_galpy()
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
#: ln R nodes, ``|z|`` limit [kpc], z node spacing [kpc]). ``"plane"`` resolves the gas
#: discs (the H2 disc's F_z changes on ~0.09 kpc) for disc orbits, and is small
#: because galpy hands the grid to its C code as a Python list on every integration
#: (~0.1 s per 10^5 numbers); ``"full"`` covers the shipped grid's whole range.
GRIDS = {"plane": (0.5, 60.0, 81, 1.2, 0.02), "full": (0.01, 100.0, 201, 20.0, 0.05)}

#: Orbits whose sampled ``|z|`` exceeds this [kpc] (or whose R leaves the ``"plane"``
#: grid) are integrated again in the ``"full"`` grid.
PLANE_SWITCH_KPC = 1.0


def disc_terms(R, z):
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
    import_galpy()
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
    """Smooth remainder of McMillan17 (shipped grid minus `disc_terms`) as splines.

    Returns ``(lnr, splines)``: the ln R nodes (natural units) and bicubic
    splines in (ln R, ``|z|``) of the potential, R force and ``|z|`` force of the
    remainder.
    """
    import_galpy()
    from galpy.util.conversion import force_in_kmsMyr
    from scipy.interpolate import RectBivariateSpline
    with np.load(data_path(GRID_FILE)) as g:
        ro, vo = float(g["ro_kpc"]), float(g["vo_kms"])
        lnr = g["lnR_kpc"] - np.log(ro)
        zz = g["z_kpc"] / ro
        fscale = force_in_kmsMyr(vo, ro)
        total = (g["potential_km2_s2"].T / vo ** 2, g["Rforce_km_s_Myr"].T / fscale,
                 g["zforce_km_s_Myr"].T / fscale)
    discs = disc_terms(*np.meshgrid(np.exp(lnr), zz, indexing="ij"))
    return lnr, [RectBivariateSpline(lnr, zz, t - dd, kx=3, ky=3, s=0)
                 for t, dd in zip(total, discs)]


def mcmillan17_exact(R, z, k):
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
            _MESH_DISCS.update(key=key, terms=disc_terms(R, z))
        disc = _MESH_DISCS["terms"][k]
        return val + disc if k != 2 else np.sign(z) * val + disc
    else:
        val = rest[k].ev(lr, az)
    if k == 2:
        val = np.sign(z) * val
    return val + disc_terms(R, z)[k]


_MESH_DISCS = {}


#: The attributes of galpy's `~galpy.potential.interpRZPotential` that hold the
#: spline coefficients its C integrators read (see `galpy_takes_arrays`).
SPLINE_COEFFICIENTS = ("_potGrid_splinecoeffs", "_rforceGrid_splinecoeffs",
                       "_zforceGrid_splinecoeffs")


class _OneChunk(np.ndarray):
    """Spline coefficients that galpy passes to C as one array instead of a list of floats.

    Before every orbit integration galpy packs the potential's parameters for its C
    code (``galpy.orbit.integrateFullOrbit._parse_pot``): for an
    `~galpy.potential.interpRZPotential` it extends a Python list with every
    spline coefficient, ``[x for x in coefficients.flatten(order="C")]``, and
    then converts the list (about 0.15 s for the 201 x 801 x 3 "full" grid, the
    same on every call, whatever the number of orbits). galpy (>= 1.12) also
    accepts numpy arrays among these parameters and concatenates them
    (``_finalize_pot_args``). Seen through this view, ``flatten`` yields the
    coefficients as one C-ordered array: galpy's list gets that array as a
    single item and the C code receives exactly the same numbers, without a
    Python float per coefficient. `galpy_takes_arrays` checks once per process
    that the installed galpy packs the same parameters this way; if it does not,
    the coefficients stay plain arrays (the slow path).
    """

    def flatten(self, order="C"):
        return [np.asarray(self).flatten(order=order)]


@functools.lru_cache(maxsize=1)
def galpy_takes_arrays():
    """True when galpy packs `_OneChunk` coefficients into the same C parameters.

    Builds a small `~galpy.potential.interpRZPotential` (a Miyamoto-Nagai disc on
    a 9 x 7 grid) and compares the parameters galpy hands to its C integrator
    with plain and with `_OneChunk` coefficients; any difference or error (a
    galpy that packs them another way) gives False, and `interpolated_mcmillan17`
    then leaves galpy's own path alone.
    """
    try:
        import_galpy()
        from galpy.orbit.integrateFullOrbit import _parse_pot
        from galpy.potential import MiyamotoNagaiPotential, interpRZPotential
        small = interpRZPotential(MiyamotoNagaiPotential(a=0.5, b=0.05, normalize=1.0),
                                  rgrid=(np.log(0.1), np.log(5.0), 9), zgrid=(-0.5, 0.5, 7),
                                  logR=True, interpPot=True, interpRforce=True,
                                  interpzforce=True, enable_c=True, zsym=False)
        with galpy_quiet():
            plain = _parse_pot([small])
            for name in SPLINE_COEFFICIENTS:
                setattr(small, name, getattr(small, name).view(_OneChunk))
            chunked = _parse_pot([small])
        same = (plain[0] == chunked[0] and np.array_equal(plain[1], chunked[1])
                and isinstance(chunked[2], np.ndarray) and chunked[2].dtype == np.float64
                and np.array_equal(plain[2], chunked[2]))
    except Exception as exc:  # another galpy: keep its own (slow) path
        log.debug("galpy does not take the interpolation grid as arrays (%s: %s)",
                  type(exc).__name__, exc)
        return False
    return bool(same)


@functools.lru_cache(maxsize=2)
def interpolated_mcmillan17(grid="full"):
    """McMillan17 as a galpy `~galpy.potential.interpRZPotential` that resolves the gas discs.

    McMillan17 is split into the analytic disc terms (`disc_terms`, which hold
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
        ``"full"``: 0.01 kpc <= R <= 100 kpc, ``|z|`` <= 20 kpc, 0.05 kpc apart in
        z; ``"plane"``: 0.5 kpc <= R <= 60 kpc, ``|z|`` <= 1.2 kpc, 0.02 kpc apart
        (smaller, so that galpy hands it to C faster; for the orbits that stay
        within `PLANE_SWITCH_KPC` of the plane). See `GRIDS`.

    Returns
    -------
    `~galpy.potential.interpRZPotential`
        In McMillan17's natural units (`natural_units`).
    """
    import_galpy()
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
            return mcmillan17_exact(R, z, 0)

        def _Rforce(self, R, z, phi=0.0, t=0.0):
            return mcmillan17_exact(R, z, 1)

        def _zforce(self, R, z, phi=0.0, t=0.0):
            return mcmillan17_exact(R, z, 2)

    pot = interpRZPotential(_McMillan17Nodes(), rgrid=(np.log(rlo / ro), np.log(rhi / ro), nr),
                            zgrid=(-zlim / ro, zlim / ro, nz), logR=True, interpPot=True,
                            interpRforce=True, interpzforce=True, enable_c=True, zsym=False,
                            ro=ro, vo=vo)
    _MESH_DISCS.clear()
    if galpy_takes_arrays():
        for name in SPLINE_COEFFICIENTS:
            if hasattr(pot, name):
                setattr(pot, name, getattr(pot, name).view(_OneChunk))
    # validity limits of the grid in kpc: R_min, R_max, |z|_max
    pot._astro_ocl_limits = (rlo, rhi, zlim)
    return pot


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
        import_galpy()
        from galpy.potential import evaluatePotentials
        with galpy_quiet(), restore_signal_handlers():
            phi = evaluatePotentials(mcmillan17(), R / ro, z / ro, use_physical=False)
    else:
        # the remainder splines plus the exact disc terms (what the grids sample; numpy,
        # no galpy C call)
        with np.errstate(invalid="ignore", divide="ignore"):
            phi = mcmillan17_exact(np.asarray(R, float) / ro, np.asarray(z, float) / ro, 0)
    return np.asarray(phi) * vo ** 2 + 0.5 * vsq
