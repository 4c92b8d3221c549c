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
    [Fe/H] and error. A survey without Teff and log g (APOGEE stars of the
    OCCAM catalogue) uses its own [Fe/H] validation instead (:func:`parameter_ok`).
"""
from dataclasses import dataclass, field, asdict

import astropy.units as u
import numpy as np

from ..exceptions import ParameterError


__all__ = ["QualityCuts", "rv_flag", "parameter_flag", "parameter_ok", "SURVEY_FEH_RULE"]

#: Star-table column by which a survey validates its own [Fe/H] when it gives no
#: Teff/log g for the FLAG=12 cuts (APOGEE in the OCCAM catalogue).
SURVEY_FEH_RULE = "feh_ok"


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


def parameter_flag(teff, logg, feh, e_feh, *, cuts=QualityCuts()):
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
    return ok & in_range & ~cool_dwarf


def parameter_ok(stars, *, cuts=QualityCuts()):
    """Which stars of one survey may be used for the cluster [Fe/H] (before FLAG=1).

    The Teff/log g cuts of :func:`parameter_flag` for a survey that gives Teff
    and log g; for a survey that does not (its star table has a
    :data:`SURVEY_FEH_RULE` column, e.g. APOGEE stars of the OCCAM catalogue) the
    survey's own validation of [Fe/H] in that column, with a finite [Fe/H] and error.

    Parameters
    ----------
    stars : `~astropy.table.QTable`
        Canonical stars of one survey (``teff, logg, feh, e_feh``).
    cuts : QualityCuts

    Returns
    -------
    ndarray of bool
    """
    if SURVEY_FEH_RULE in stars.colnames:
        feh = np.asarray(getattr(stars["feh"], "value", stars["feh"]), float)
        e_feh = np.asarray(getattr(stars["e_feh"], "value", stars["e_feh"]), float)
        ok = np.ma.filled(np.ma.asarray(stars[SURVEY_FEH_RULE]), False).astype(bool)
        return ok & np.isfinite(feh) & np.isfinite(e_feh)
    return parameter_flag(stars["teff"], stars["logg"], stars["feh"], stars["e_feh"],
                          cuts=cuts)
