"""The registry of surveys: `Survey`, `SURVEYS` and the lookups by name or label.

Apart from the package's ``__init__`` so that the modules that take a survey by
name (`astro_ocl.sources.surveys.stream`) import the lookup without a cycle.
"""
from dataclasses import dataclass, field

import astropy.units as u

from ...exceptions import ParameterError
from .apogee import APOGEE_DOMAIN, apogee_allstar, occam_dr16
from .gaia_rvs import GAIA_RVS_DOMAIN, gaia_rvs
from .galah import GALAH_DOMAIN, galah
from .lamost import LRS_DOMAIN, MRS_DOMAIN, lamost_lrs, lamost_mrs

__all__ = ["Survey", "SURVEYS", "DOMAINS", "get_survey", "get_domain", "survey_family"]


@dataclass(frozen=True)
class Survey:
    """One spectroscopic survey of the registry.

    Attributes
    ----------
    name : str
        Registry key (``--surveys`` of the CLI).
    label : str
        Value of the ``survey`` column.
    adapter : callable
        ``adapter(table, *, source, **options)`` -> canonical star table.
    embedded : str or None
        File of ``astro_ocl/data`` read by default, or None (a path is needed).
    description : str
    match_radius : `~astropy.units.Quantity`
        Suggested radius of the positional cross-match for stars without a Gaia
        id: 3.5 arcsec for LAMOST (fibre 3.3 arcsec, Fu et al. 2022); 1.5 arcsec for
        APOGEE (2MASS positions good to ~0.1 arcsec, 2 arcsec fibres: on the OCCAM
        sample 1.5 arcsec recovers every CG_PROB >= 0.7 pair, 3.5 arcsec adds
        neighbours); 1 arcsec for Gaia positions (GALAH, Gaia RVS).
    family : str
        The survey behind the data ("LAMOST" for LRS and MRS): which literature
        values are not independent of it (`astro_ocl.steps.validation`).
    domain : `~astro_ocl.sources.surveys.domains.ValidityDomain`
        Where its RV and [Fe/H] can be trusted (declared with the adapter).
    """

    name: str
    label: str
    adapter: object = field(repr=False)
    embedded: str = None
    description: str = ""
    match_radius: object = field(default_factory=lambda: 3.5 * u.arcsec)
    family: str = None
    domain: object = field(default=None, repr=False)


#: The surveys by name.
SURVEYS = {s.name: s for s in (
    Survey("lamost_lrs", "LAMOST-LRS", lamost_lrs, "lamost_lrs_oc_members.ecsv",
           "LAMOST low-resolution stellar parameters (691 embedded stars, 15 clusters)",
           family="LAMOST", domain=LRS_DOMAIN),
    Survey("lamost_mrs", "LAMOST-MRS", lamost_mrs, "lamost_mrs_oc_members.ecsv",
           "LAMOST medium-resolution stellar parameters (555 embedded stars, 11 clusters)",
           family="LAMOST", domain=MRS_DOMAIN),
    Survey("apogee", "APOGEE", occam_dr16, "occam_dr16_members.ecsv.gz",
           "APOGEE DR16 stars of the OCCAM member catalogue (10 063 embedded rows)",
           1.5 * u.arcsec, family="APOGEE", domain=APOGEE_DOMAIN),
    Survey("apogee_allstar", "APOGEE", apogee_allstar, None,
           "APOGEE allStar files (DR16/DR17)", 1.5 * u.arcsec, family="APOGEE",
           domain=APOGEE_DOMAIN),
    Survey("galah", "GALAH", galah, None, "GALAH DR3/DR4 allstar files", 1.0 * u.arcsec,
           family="GALAH", domain=GALAH_DOMAIN),
    Survey("gaia_rvs", "Gaia-RVS", gaia_rvs, None,
           "Gaia DR3 RVS radial velocities (gaia_source, optional GSP-Spec)", 1.0 * u.arcsec,
           family="Gaia-RVS", domain=GAIA_RVS_DOMAIN),
)}

#: The validity domain of each value of the ``survey`` column (the adapters' declarations).
DOMAINS = {s.label: s.domain for s in SURVEYS.values() if s.domain is not None}
_FAMILIES = {s.label: s.family for s in SURVEYS.values() if s.family}


def get_domain(label):
    """The `ValidityDomain` declared for a ``survey`` label (e.g. "LAMOST-MRS"), or None."""
    return DOMAINS.get(str(label).strip())


def survey_family(label):
    """The survey a ``survey`` label belongs to ("LAMOST-LRS" -> "LAMOST"); unknown: the label."""
    label = str(label).strip()
    return _FAMILIES.get(label, label)


def get_survey(name):
    """The `Survey` of ``name`` (case-insensitive; ``-`` and ``_`` alike), or a `Survey` as is.

    Raises
    ------
    ParameterError
        An unknown name (the message lists the known ones).
    """
    if isinstance(name, Survey):
        return name
    key = str(name).strip().lower().replace("-", "_")
    if key not in SURVEYS:
        raise ParameterError("survey", name, f"must be one of {sorted(SURVEYS)}")
    return SURVEYS[key]
