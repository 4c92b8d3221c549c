"""Orbits and integrals of motion of clusters in the McMillan (2017) potential.

Method step 7 of Fu et al. (2022): Galactocentric positions and velocities,
angular momentum, energy, pericentre, apocentre, eccentricity and z_max of
every cluster, with Monte Carlo uncertainties from the input errors, and
positions back in time.

The sub-modules: `~astro_ocl.steps.dynamics.potential` (McMillan17 and its fast
interpolated copy), `~astro_ocl.steps.dynamics.frames` (Galactocentric frames
and the conventions), `~astro_ocl.steps.dynamics.sampling` (the Monte Carlo
draws of the inputs), `~astro_ocl.steps.dynamics.orbits` (the orbits and their
Monte Carlo errors); their public names are importable from here.

Frame and potential
-------------------
* The frame: an astropy `~astropy.coordinates.Galactocentric` frame of
  :class:`astro_ocl.config.galactic_parameters` (`frames`).
* The potential: galpy's ``McMillan17``; orbits are integrated in an
  interpolated copy that evaluates McMillan17's disc terms exactly and
  interpolates the smooth remainder from the shipped grid (`potential`).

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
  Peri) / (Apo + Peri)``; ``Zmax`` the maximum of ``|z|``.
"""
from ...exceptions import OrbitWarning
from .frames import (CONVENTIONS, K_365D, OrbitConvention, galactocentric_frame, get_convention,
                     phase_space)
from .orbits import (MIN_PARALLEL_ORBITS, ORBIT_OUTPUT, integrate_orbits, orbit_jobs,
                     orbit_parameters, positions_back_in_time)
from .potential import (GRID_FILE, GRIDS, MCMILLAN17_DISCS, PLANE_SWITCH_KPC, disc_terms,
                        interpolated_mcmillan17, mcmillan17, mcmillan17_exact, natural_units,
                        orbital_energy)

__all__ = ["CONVENTIONS", "OrbitConvention", "K_365D", "GRID_FILE", "natural_units",
           "mcmillan17", "interpolated_mcmillan17", "MCMILLAN17_DISCS", "GRIDS",
           "PLANE_SWITCH_KPC", "disc_terms", "mcmillan17_exact", "get_convention",
           "galactocentric_frame", "phase_space", "integrate_orbits", "orbit_parameters",
           "positions_back_in_time", "orbital_energy", "OrbitWarning", "ORBIT_OUTPUT",
           "orbit_jobs", "MIN_PARALLEL_ORBITS"]
