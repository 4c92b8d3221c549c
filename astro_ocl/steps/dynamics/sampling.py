"""Monte Carlo draws of the orbit inputs from their errors (method step 7).

`input_errors` gathers and checks the errors of the proper motions, radial
velocity and parallax or distance; `draw_inputs` draws each cluster's samples
from its own generator (a truncated normal for the distance), so that a
cluster's orbits do not depend on which other clusters are computed with it.
`astro_ocl.steps.dynamics.orbits` integrates the draws.
"""
import astropy.units as u
import numpy as np
from astropy.coordinates import SkyCoord
from scipy.stats import norm, truncnorm

from ...exceptions import InputDataError
from ...logger import log
from .frames import KMS

__all__ = ["input_errors", "draw_inputs"]


def _get(table, names):
    for n in names:
        if n in table.colnames:
            return table[n]
    return None


def input_errors(coords, table, errors, n):
    """The input errors of the Monte Carlo, checked, as plain arrays.

    Parameters
    ----------
    coords : `~astropy.coordinates.SkyCoord`
        The clusters (only their number matters here).
    table : `~astropy.table.Table` or None
        Where to find the error columns when ``errors`` is None (``e_pmRA``,
        ``e_pmDE``, ``e_RV`` or ``e_RVmed``, ``e_plx``, ``e_Dist`` and their
        other spellings).
    errors : dict or None
        ``{"pm_ra_cosdec", "pm_dec", "radial_velocity", "parallax" or "distance"}``
        to quantities (scalars or one per cluster).
    n : int
        Number of clusters.

    Returns
    -------
    dict or None
        Key to float array in mas/yr, km/s, mas or kpc; a missing (NaN) error
        is taken as zero with a warning. None when there is no error at all.

    Raises
    ------
    InputDataError
        A negative error (its key and row named).
    """
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


def draw_inputs(coords, errs, n_samples, rngs):
    """Monte Carlo draws of the inputs, row by row: shape (N, n_samples), flattened.

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
