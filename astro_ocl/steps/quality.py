"""Quality flags of Fu et al. (2022): FLAG=1 (radial velocity) and FLAG=12 ([Fe/H]).

FLAG=1
    A first Monte Carlo pass over all matched stars of a cluster gives the
    pooled mean and standard deviation sigma of the realisations; stars with
    ``|rv_i - mean| <= nsigma * sigma`` (``nsigma = 2``) get FLAG=1.
FLAG=12
    Among FLAG=1 stars, those kept for [Fe/H]: ``teff_min <= Teff <= teff_max``
    (4000-7500 K) and not a cool dwarf (``Teff < 5000 K`` *and*
    ``logg >= dwarf_logg``; the dwarf/giant boundary ``dwarf_logg`` = 3.5 dex is
    our explicit choice: the paper says "dwarfs" without a number), with finite
    [Fe/H] and error. A survey that gives no Teff/log g but validates its own
    [Fe/H] (APOGEE stars of OCCAM DR16: ``feh_ok``) replaces these cuts for its
    stars (``survey_ok`` of :func:`parameter_flag`).
"""
from dataclasses import dataclass, field, asdict

import astropy.units as u
import numpy as np

from ..exceptions import ParameterError


__all__ = ["QualityCuts", "rv_flag", "parameter_flag"]


@dataclass(frozen=True)
class QualityCuts:
    """Thresholds of the quality control (all keyword-only, with units).

    Parameters
    ----------
    rv_nsigma : float
        Stars within ``rv_nsigma`` pooled standard deviations of the pooled
        mean get FLAG=1 (2 in Fu et al. 2022).
    teff_min, teff_max : `~astropy.units.Quantity`
        Stars outside [teff_min, teff_max] are not used for [Fe/H].
    cool_dwarf_teff : `~astropy.units.Quantity`
        Dwarfs cooler than this are not used for [Fe/H].
    dwarf_logg : float
        log g (dex, cgs) at and above which a star counts as a dwarf.
    """

    rv_nsigma: float = 2.0
    teff_min: u.Quantity = field(default_factory=lambda: 4000 * u.K)
    teff_max: u.Quantity = field(default_factory=lambda: 7500 * u.K)
    cool_dwarf_teff: u.Quantity = field(default_factory=lambda: 5000 * u.K)
    dwarf_logg: float = 3.5

    def __post_init__(self):
        for name in ("teff_min", "teff_max", "cool_dwarf_teff"):
            q = getattr(self, name)
            if not isinstance(q, u.Quantity) or not q.unit.is_equivalent(u.K):
                raise ParameterError(name, q, "must be a temperature Quantity")
        if not self.rv_nsigma > 0:
            raise ParameterError("rv_nsigma", self.rv_nsigma, "must be positive")
        if not self.teff_min < self.teff_max:
            raise ParameterError("teff_min", self.teff_min,
                                 f"must be below teff_max ({self.teff_max})")

    def as_meta(self):
        """The cuts as plain strings, for table metadata and provenance."""
        return {k: str(v) for k, v in asdict(self).items()}


def rv_flag(draws, *, nsigma=2.0, values=None):
    """FLAG=1 selection from the first, pooled Monte Carlo pass.

    Parameters
    ----------
    draws : ndarray, shape (K, n)
        RV realisations of the n stars (see `astro_ocl.steps.montecarlo.draw`).
    nsigma : float
        Width of the accepted band in pooled standard deviations.
    values : ndarray, shape (n,), optional
        The measured RVs compared with the band (default: the per-star mean of
        the draws).

    Returns
    -------
    flag1 : ndarray of bool, shape (n,)
    centre, sigma : float
        Pooled mean and standard deviation of the first pass.
    """
    centre, sigma = float(draws.mean()), float(draws.std())
    if values is None:
        values = draws.mean(axis=0)
    return np.abs(np.asarray(values) - centre) <= nsigma * sigma, centre, sigma


def parameter_flag(teff, logg, feh, e_feh, *, cuts=QualityCuts(), survey_ok=None):
    """Which stars may be used for the cluster [Fe/H] (before the FLAG=1 condition).

    Parameters
    ----------
    teff : `~astropy.units.Quantity`
        Effective temperatures.
    logg : `~astropy.units.Quantity` or ndarray
        Surface gravities, log10 of cgs (``dex(cm/s2)`` or plain numbers).
    feh, e_feh : `~astropy.units.Quantity` or ndarray
        [Fe/H] and its error (dex).
    cuts : QualityCuts
    survey_ok : array of bool, optional
        For stars whose survey gives no Teff and no log g (both NaN, e.g. APOGEE
        stars of the OCCAM catalogue), whether the survey validated their [Fe/H]
        (OCCAM: ``feh_ok``, ASPCAP's calibrated [Fe/H] present); such a star passes
        when it is True and [Fe/H] and its error are finite. Stars with a Teff or
        log g always take the cuts; masked values count as False.

    Returns
    -------
    ndarray of bool
    """
    teff = u.Quantity(teff, u.K).value
    logg = np.asarray(getattr(logg, "value", logg), float)
    feh = np.asarray(getattr(feh, "value", feh), float)
    e_feh = np.asarray(getattr(e_feh, "value", e_feh), float)
    with np.errstate(invalid="ignore"):
        in_range = (teff >= cuts.teff_min.to_value(u.K)) & (teff <= cuts.teff_max.to_value(u.K))
        cool_dwarf = (teff < cuts.cool_dwarf_teff.to_value(u.K)) & (logg >= cuts.dwarf_logg)
    ok = np.isfinite(teff) & np.isfinite(logg) & np.isfinite(feh) & np.isfinite(e_feh)
    flag = ok & in_range & ~cool_dwarf
    if survey_ok is not None:
        validated = np.asarray(np.ma.filled(np.ma.asarray(survey_ok), False), bool)
        no_params = ~np.isfinite(teff) & ~np.isfinite(logg)
        flag |= no_params & validated & np.isfinite(feh) & np.isfinite(e_feh)
    return flag
