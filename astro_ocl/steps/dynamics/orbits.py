"""Orbits and integrals of motion of clusters, with Monte Carlo uncertainties (method step 7).

`orbit_parameters` gives every cluster's Galactocentric position and velocity,
angular momentum, energy, pericentre, apocentre, eccentricity and z_max, with
Monte Carlo errors from the input errors; `positions_back_in_time` integrates
backwards for the gradient snapshots; `integrate_orbits` is the integrator
both use (the interpolated McMillan17 of `astro_ocl.steps.dynamics.potential`,
or galpy's own for reference).
"""
import dataclasses
import functools
import gc
import multiprocessing
import os
import warnings

import astropy.units as u
import numpy as np
from astropy.coordinates import SkyCoord
from astropy.table import QTable
from threadpoolctl import threadpool_limits

from ... import schema
from ...config import galactic_parameters
from ...exceptions import InputDataError, MissingColumnError, OrbitWarning, ParameterError
from ...logger import log
from ...utils import (progress, restore_signal_handlers, sigterm_as_interrupt,
                      worker_initializer)
from .frames import CONVENTIONS, KM2S2, KMS, KPC_KMS, get_convention, phase_space
from .potential import (PLANE_SWITCH_KPC, galpy_quiet, import_galpy, interpolated_mcmillan17,
                        mcmillan17, natural_units, orbital_energy)
from .sampling import draw_inputs, input_errors

__all__ = ["integrate_orbits", "orbit_parameters", "positions_back_in_time", "ORBIT_OUTPUT",
           "orbit_jobs", "MIN_PARALLEL_ORBITS"]


def integrate_orbits(R, vR, vphi, z, vz, phi, *, times, potential="interpolated", dt=None,
                     chunk=250, show_progress=None):
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
        Orbits per galpy call: bounds the memory of the stored orbits (about 150 kB
        an orbit of 3001 outputs); a call costs well under a millisecond beyond its
        orbits, so small chunks are nearly free.
    show_progress : bool, optional
        Progress bar over chunks.

    Returns
    -------
    dict
        ``Peri, Apo, Zmax`` [kpc] (extremes over the output times), ``R, z, phi``
        of shape (N, len(times)) only when ``len(times) <= 1001``, and ``outside``
        (bool per orbit: left the "full" grid of the interpolated potential).
    """
    import_galpy()
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
    import_galpy()
    from galpy.orbit import Orbit
    ro, vo = natural_units()
    rmin, rmax, zlim = limits
    starts = range(0, todo.size, chunk)
    for s in progress(starts, total=len(starts), desc="orbits", enabled=show_progress):
        idx = todo[s:s + chunk]
        o = Orbit(vxvv[idx], ro=ro, vo=vo)
        # galpy's C code resets SIGINT to SIG_DFL: signals wait for the handlers
        with galpy_quiet(), restore_signal_handlers():
            o.integrate(ts, pot, method=method, dt=step, progressbar=False)
        # galpy's (n, nt, 6) array of (R, vR, vphi, z, vz, phi), read in place: the
        # extremes of r^2 = R^2 + z^2 and of z (natural units), scaled at the end
        orb = o.orbit
        rr, zz = np.ascontiguousarray(orb[..., 0]), np.ascontiguousarray(orb[..., 3])
        r2 = rr * rr
        r2 += zz * zz
        out["Peri"][idx] = np.sqrt(r2.min(axis=1)) * ro
        out["Apo"][idx] = np.sqrt(r2.max(axis=1)) * ro
        del r2
        out["Zmax"][idx] = np.maximum(zz.max(axis=1), -zz.min(axis=1)) * ro
        out["outside"][idx] = ((rr.min(axis=1) * ro < rmin) | (rr.max(axis=1) * ro > rmax)
                               | (out["Zmax"][idx] > zlim))
        if keep_path:
            out["R"][idx], out["z"][idx], out["phi"][idx] = rr * ro, zz * ro, orb[..., 5]
        del o, orb, rr, zz


def _samples_of(coords, errs, n_samples, rngs, kw):
    """The Monte Carlo orbits of ``coords`` (one generator per row): ``(values, n_outside)``."""
    draws = draw_inputs(coords, errs, n_samples, rngs)
    samples, _ = _compute(draws, **kw)
    n_out = int(samples.pop("n_outside", 0))
    return {k: samples[k] for k in ORBIT_OUTPUT}, n_out


def _samples_job(job):
    """`_samples_of` for one group of rows, in a worker process."""
    return _samples_of(*job)


#: Fewest Monte Carlo orbits worth worker processes (below, `orbit_jobs` gives 1).
MIN_PARALLEL_ORBITS = 2000


def orbit_jobs(n_orbits, n_jobs=None):
    """Worker processes `orbit_parameters` uses for ``n_orbits`` Monte Carlo orbits.

    Parameters
    ----------
    n_orbits : int
        Monte Carlo orbits to integrate.
    n_jobs : int, optional
        Requested number (None: every core this process may use,
        ``os.sched_getaffinity``).

    Returns
    -------
    int
        1 (in this process) when only one core is usable, when there are fewer
        than `MIN_PARALLEL_ORBITS` orbits and ``n_jobs`` was not given, or when
        this process is itself a daemonic worker (a pool worker or a Dask
        worker: daemonic processes may not have children, and their parent
        already spreads the work); otherwise ``n_jobs`` (at most one per row
        group).
    """
    if n_jobs is not None:
        n_jobs = int(n_jobs)
        if n_jobs < 1:
            raise ParameterError("n_jobs", n_jobs, "a positive number of processes")
    if multiprocessing.current_process().daemon:
        return 1
    if n_jobs is None:
        if n_orbits < MIN_PARALLEL_ORBITS:
            return 1
        try:
            n_jobs = len(os.sched_getaffinity(0))
        except AttributeError:  # not on Linux
            n_jobs = os.cpu_count() or 1
    return max(1, n_jobs)


def _orbit_worker():
    """Initializer of the Monte Carlo workers: `worker_initializer`, galpy on one thread.

    The processes share the cores: galpy's OpenMP threads inside each would only
    contend for them (on a loaded machine OpenMP's waiting threads slow every
    integration down). ``threadpoolctl`` sets OpenMP (and BLAS) to one thread.
    """
    worker_initializer()
    global _THREAD_LIMITS
    _THREAD_LIMITS = threadpool_limits(limits=1)


_THREAD_LIMITS = None


def _monte_carlo(coords, errs, n_samples, rngs, kw, n_jobs):
    """All Monte Carlo orbits, row group by row group, in this process or in workers.

    Returns ``(samples, n_outside)``: each value of ``samples`` has the N x
    n_samples draws row by row, as `_compute` of all draws at once would give them.
    """
    n = len(coords)
    jobs = orbit_jobs(n * n_samples, n_jobs)
    show = kw.get("show_progress")
    kw = dict(kw, show_progress=False if jobs > 1 else show)
    if jobs == 1:
        return _samples_of(coords, errs, n_samples, rngs, kw)
    # about four groups per worker (they finish unevenly), each of whole rows
    n_groups = min(n, 4 * jobs)
    bounds = np.linspace(0, n, n_groups + 1).astype(int)
    groups = [slice(a, b) for a, b in zip(bounds[:-1], bounds[1:]) if b > a]
    work = [(coords[g], {k: v[g] for k, v in errs.items()}, n_samples, list(rngs[g]), kw)
            for g in groups]
    # the interpolated grids are built before the workers fork, which inherit them
    if kw["potential"] == "interpolated":
        interpolated_mcmillan17("plane"), interpolated_mcmillan17("full")
    methods = multiprocessing.get_all_start_methods()
    ctx = multiprocessing.get_context("fork" if "fork" in methods else None)
    # as astro_ocl.steps.gradients.run_fits: the workers end with the block whatever
    # happens (error, Ctrl-C, SIGTERM) and die with this process (worker_initializer)
    with sigterm_as_interrupt():
        # objects that exist now are left out of the workers' garbage collections,
        # which would otherwise write to (and so copy) every page holding one
        gc.freeze()
        try:
            pool = ctx.Pool(min(jobs, len(work)), initializer=_orbit_worker)
        finally:
            gc.unfreeze()
        try:
            log.debug("orbits: %d Monte Carlo orbits in %d worker processes",
                      n * n_samples, min(jobs, len(work)))
            parts = list(progress(pool.imap(_samples_job, work), total=len(work),
                                  desc="orbits", enabled=show))
            pool.close()
        finally:
            pool.terminate()
            pool.join()
    samples = {k: np.concatenate([p[0][k] for p in parts]) for k in parts[0][0]}
    return samples, sum(p[1] for p in parts)


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
                     potential="interpolated", chunk=250, outside="direct",
                     samples_outside="nan", convention="standard", n_jobs=None):
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
        generators derived from the cluster names). With worker processes
        (``n_jobs``) the workers draw from copies: the generators given are
        left as they were.
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
        Orbits integrated per galpy call (see `integrate_orbits`; in each worker
        process).
    outside : {"direct", "nan"}
        Orbits that leave the grid of the interpolated potential (R > 100 kpc or
        ``|z|`` > 20 kpc) are integrated in McMillan17 directly (building it takes
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
    n_jobs : int, optional
        Worker processes for the Monte Carlo orbits (default: every core this
        process may use, see `orbit_jobs`; 1: in this process). The result is
        the same whatever ``n_jobs``: each cluster's samples come from its own
        generator and every orbit is integrated on its own. The workers end with
        this call, on an error, Ctrl-C or SIGTERM, and die with this process
        (`~astro_ocl.utils.worker_initializer`); each runs galpy's C integrator
        on one thread.

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
    conv = get_convention(convention)
    if conv.galactic_parameters:
        with galactic_parameters.set(dict(galactic_parameters.get(),
                                          **conv.galactic_parameters)):
            return orbit_parameters(
                coords, n_samples=n_samples, errors=errors, seed=seed, rngs=rngs,
                progress=progress, integration_time=integration_time, dt=dt,
                potential=potential, chunk=chunk, outside=outside,
                samples_outside=samples_outside,
                convention=dataclasses.replace(conv, galactic_parameters={}), n_jobs=n_jobs)
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
    errs = input_errors(coords, table, errors, n) if n_samples > 0 else None
    n_outside = 0
    if errs:
        if rngs is None:
            rngs = ([np.random.default_rng([int(seed), i]) for i in range(n)] if seed is not None
                    else np.random.default_rng().spawn(n))
        elif len(rngs) != n:
            raise ValueError(f"rngs has {len(rngs)} generators for {n} rows")
        samples, n_outside = _monte_carlo(coords, errs, n_samples, rngs,
                                          dict(kw, outside=samples_outside), n_jobs)
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
