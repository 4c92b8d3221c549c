"""Orbits in small batches and on several cores: the same numbers as before, faster.

* The interpolated McMillan17 hands galpy its spline coefficients as arrays (one
  item each) instead of a Python float per coefficient; galpy must pack exactly
  the same parameters for its C integrator, and the orbits must be bit for bit
  those of galpy's own path.
* The Monte Carlo orbits of `orbit_parameters` in worker processes give the same
  table as in one process.
"""
import copy

import astropy.units as u
import numpy as np
import pytest

from astro_ocl.exceptions import ParameterError
from astro_ocl.sources.clusters import read_cluster_dynamics_input
from astro_ocl.steps import dynamics as d
from astro_ocl.steps.dynamics import orbits as orbits_module
from astro_ocl.steps.dynamics import potential as potential_module

from helpers import value_in_daemon


@pytest.fixture(scope="module")
def zhong():
    """The Zhong et al. (2020) LAMOST clusters with distance and RV (embedded, real)."""
    z = read_cluster_dynamics_input()
    ok = np.isfinite(z["coord"].radial_velocity.value) & np.isfinite(z["coord"].distance.value)
    return z[ok]


def _plain(pot):
    """A copy of ``pot`` whose coefficients are plain arrays (galpy's own, slow, path)."""
    out = copy.copy(pot)
    for name in potential_module.SPLINE_COEFFICIENTS:
        setattr(out, name, np.asarray(getattr(pot, name)).copy())
    return out


def test_installed_galpy_takes_the_grid_as_arrays():
    assert potential_module.galpy_takes_arrays()
    for grid in ("plane", "full"):
        pot = d.interpolated_mcmillan17(grid)
        for name in potential_module.SPLINE_COEFFICIENTS:
            assert isinstance(getattr(pot, name), potential_module._OneChunk)


@pytest.mark.parametrize("grid", ["plane", "full"])
def test_galpy_packs_the_same_c_parameters(grid):
    """The parameters galpy hands its C code, with the shipped grids themselves."""
    from galpy.orbit.integrateFullOrbit import _parse_pot
    pot = d.interpolated_mcmillan17(grid)
    with d.potential.galpy_quiet():
        fast, slow = _parse_pot([pot]), _parse_pot([_plain(pot)])
    assert fast[0] == slow[0]
    np.testing.assert_array_equal(fast[1], slow[1])
    assert fast[2].dtype == slow[2].dtype == np.float64
    np.testing.assert_array_equal(fast[2], slow[2])
    # the coefficients themselves are in there (three grids of nr x nz values)
    nr, nz = len(pot._rgrid), len(pot._zgrid)
    assert fast[2].size > 3 * nr * nz


def test_orbits_identical_to_galpys_own_path(zhong):
    """Disc and halo orbits (both grids), integrated with and without the arrays."""
    from galpy.orbit import Orbit
    ps = d.phase_space(zhong["coord"])
    zmax = d.orbit_parameters(zhong, n_samples=0)["Zmax"].to_value(u.kpc)
    pick = np.concatenate([np.flatnonzero(zmax < 0.3)[:3], np.flatnonzero(zmax > 1.0)[:3]])
    assert len(pick) == 6
    ro, vo = d.natural_units()
    vxvv = np.column_stack([ps["RGC"].value[pick] / ro, ps["vR"].value[pick] / vo,
                            ps["vphi"].value[pick] / vo, ps["ZGC"].value[pick] / ro,
                            ps["vz"].value[pick] / vo, ps["phi"].value[pick]])
    ts = np.linspace(0, 0.5, 501) * u.Gyr
    for grid in ("plane", "full"):
        pot = d.interpolated_mcmillan17(grid)
        paths = []
        for p in (pot, _plain(pot)):
            o = Orbit(vxvv, ro=ro, vo=vo)
            with d.potential.galpy_quiet():
                o.integrate(ts, p, method="leapfrog_c", dt=0.25 * u.Myr, progressbar=False)
            paths.append(o.orbit.copy())
        np.testing.assert_array_equal(paths[0], paths[1])


def test_monte_carlo_the_same_in_one_or_two_processes(zhong):
    sub = zhong[:24]
    kw = dict(n_samples=30, seed=7, integration_time=0.5 * u.Gyr)
    one = d.orbit_parameters(sub, n_jobs=1, **kw)
    two = d.orbit_parameters(sub, n_jobs=2, **kw)
    assert one.colnames == two.colnames
    assert any(c.startswith("e_") for c in one.colnames)
    for c in one.colnames:
        if c == "Cluster":
            assert list(one[c]) == list(two[c])
        else:
            np.testing.assert_array_equal(np.asarray(one[c]), np.asarray(two[c]), err_msg=c)
    assert one.meta == two.meta
    assert np.all(np.asarray(one["e_Apo"]) > 0)


def test_generators_given_are_not_consumed_by_workers(zhong):
    sub = zhong[:6]
    rngs = [np.random.default_rng([3, i]) for i in range(len(sub))]
    before = [r.bit_generator.state for r in rngs]
    a = d.orbit_parameters(sub, n_samples=10, rngs=rngs, n_jobs=2,
                           integration_time=0.3 * u.Gyr)
    assert [r.bit_generator.state for r in rngs] == before
    b = d.orbit_parameters(sub, n_samples=10, seed=None, n_jobs=1,
                           rngs=[np.random.default_rng([3, i]) for i in range(len(sub))],
                           integration_time=0.3 * u.Gyr)
    np.testing.assert_array_equal(np.asarray(a["e_Energy"]), np.asarray(b["e_Energy"]))


def test_how_many_workers():
    assert d.orbit_jobs(10) == 1  # too few orbits to be worth processes
    assert d.orbit_jobs(10, 3) == 3  # asked for
    assert d.orbit_jobs(10 ** 6) >= 1
    with pytest.raises(ParameterError):
        d.orbit_jobs(100, 0)


def test_daemonic_worker_computes_in_process():
    """A daemonic process (a pool or Dask worker) may not start workers of its own."""
    assert value_in_daemon(orbits_module.orbit_jobs, 10 ** 6, 4) == 1
