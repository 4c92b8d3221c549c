"""The schema registry: one source of truth for every table and column of the package.

Each table the package reads or writes has a `TableDef` here: canonical input
tables (:data:`STARS`, :data:`MEMBERSHIP`, :data:`CG2020`, :data:`LITERATURE`),
output tables (:data:`MEMBERS`, :data:`CLUSTERS` with the orbit columns) and the
comparison tables (:data:`COMPARISON`, :data:`MATCHED_RV`, :data:`MATCHED_FEH`).
Each column (`ColumnSpec`) has its name, unit, UCD, description, CDS format and
unit, and the other spellings (aliases) readers accept. Readers find columns
through the aliases, :func:`apply_schema` sets descriptions, enforces units and
records the table's kind in ``meta["schema"]``; the exporters (VOTable, CDS
bundle) and the docs read it; nothing else keeps a second copy.

The meaning of the quality flags depends on the cuts a build used:
:func:`flag_descriptions` writes it from the cuts (or from the ``qc_*``
provenance a table carries), never from hard-coded numbers.

Logarithmic quantities: [Fe/H] is stored with the unit ``dex``, log g with
``dex(cm / s2)`` and log ages (``AgeNN``, any ``logAge``) with ``dex(yr)``
(`DEX_YR`; ``col.physical`` gives the age in years). None is a valid VOUnit;
the VOTable/CDS exporters write them unitless (CDS ``[-]``, ``[cm/s2]`` and
``[yr]``) and state the unit in the description; the package's readers give
the unit back.
"""
from collections.abc import Mapping
from dataclasses import dataclass, replace

import astropy.units as u
import numpy as np

from ..exceptions import InputDataError, MissingColumnError

__all__ = ["ColumnSpec", "TableDef", "TABLES", "STARS", "MEMBERSHIP", "MEMBERS", "CLUSTERS",
           "CG2020", "LITERATURE", "COMPARISON", "ORBIT_COLUMNS", "MATCHED_RV", "MATCHED_FEH",
           "VALIDITY", "VALIDATION", "VALIDATION_PAIRS", "VALIDATION_OUTLIERS",
           "table_def",
           "column_spec", "apply_schema", "flag_descriptions", "flag_note", "log_age",
           "VALUE_COLUMNS", "value_columns", "DEX",
           "DEX_G", "DEX_YR",
           "KMS", "MASYR", "KPC_KMS", "KM2S2"]

DEX = u.dex
DEX_G = u.dex(u.cm / u.s ** 2)
#: Unit of a log10 age in years (CG2020 ``AgeNN``, Hunt & Reffert ``logAge``): CDS ``[yr]``.
DEX_YR = u.dex(u.yr)
KMS = u.km / u.s
MASYR = u.mas / u.yr
KPC_KMS = u.kpc * KMS
KM2S2 = u.km ** 2 / u.s ** 2


@dataclass(frozen=True)
class ColumnSpec:
    """What one column means.

    Attributes
    ----------
    name : str
        Column name (a CDS label for the output tables).
    unit : `~astropy.units.UnitBase` or None
        Unit of the column in our QTables.
    ucd : str
        UCD1+ word(s).
    description : str
        One-line explanation (ends up in VOTable DESCRIPTION and CDS ReadMe).
    fmt : str
        CDS (Fortran-like) format used by the CDS exporter, e.g. ``F7.2``.
    cds_unit : str or None
        Unit string in CDS syntax when it differs from ``unit`` (log units).
    aliases : tuple of str
        Other spellings of the column in input files (LAMOST site, VizieR, Gaia),
        tried in order by the readers; the name itself is tried first.
    """

    name: str
    unit: object
    ucd: str
    description: str
    fmt: str
    cds_unit: str = None
    aliases: tuple = ()


class TableDef(Mapping):
    """The definition of one kind of table: a read-only mapping name -> `ColumnSpec`.

    Parameters
    ----------
    name : str
        Kind of the table (``"clusters"``, ``"members"`` ...), stored by
        :func:`apply_schema` in ``table.meta["schema"]``.
    columns : dict
        Mapping name -> `ColumnSpec`, in output order.
    description : str
        One line about the table.
    aliases : dict, optional
        ``{name: [other spellings]}`` added to the columns' specs.
    """

    def __init__(self, name, columns, *, description="", aliases=None):
        self.name = name
        self.description = description
        aliases = aliases or {}
        self._columns = {k: replace(v, aliases=tuple(a for a in aliases.get(k, ()) if a != k))
                         if k in aliases else v for k, v in columns.items()}
        missing = set(aliases) - set(self._columns)
        if missing:
            raise ValueError(f"aliases of unknown columns {sorted(missing)} in {name}")

    def __getitem__(self, key):
        return self._columns[key]

    def __iter__(self):
        return iter(self._columns)

    def __len__(self):
        return len(self._columns)

    def __repr__(self):
        return f"<TableDef {self.name}: {len(self)} columns>"

    def spellings(self, name):
        """The column name followed by its aliases."""
        return (name, *self._columns[name].aliases)

    def find(self, table, name):
        """The column of ``table`` holding ``name`` (any spelling, case-insensitive), or None.

        Parameters
        ----------
        table : `~astropy.table.Table`
        name : str
            Canonical column name.
        """
        names = self.spellings(name)
        for a in names:
            if a in table.colnames:
                return a
        lower = {c.lower(): c for c in table.colnames}
        for a in names:
            if a.lower() in lower:
                return lower[a.lower()]
        return None


def log_age(values, *, column="AgeNN"):
    """A log10 age as a `~astropy.units.Dex` quantity in ``dex(yr)`` (`DEX_YR`).

    Parameters
    ----------
    values : `~astropy.units.Dex`, `~astropy.units.Quantity`, array-like or column
        A log age with a logarithmic time unit (``dex(yr)``, ``dex(Myr)`` ...:
        converted), or plain numbers, which are read as log10(age / yr), the
        definition of CG2020 ``AgeNN`` (tables written before the unit existed).
        Masked entries become NaN.
    column : str
        Column name for the error message.

    Returns
    -------
    `~astropy.units.Dex`
        ``result.physical`` is the age in years.

    Raises
    ------
    InputDataError
        ``values`` has a unit that is not a logarithmic time.

    Examples
    --------
    >>> import astropy.units as u
    >>> log_age([9.0]).physical.to(u.Gyr)
    <Quantity [1.] Gyr>
    """
    unit = getattr(values, "unit", None)
    data = values
    if hasattr(values, "mask"):
        data = np.ma.filled(np.ma.masked_array(getattr(values, "value", values), dtype=float,
                                               mask=np.ma.getmaskarray(values)), np.nan)
    elif unit is not None:
        data = values.value
    data = np.array(data, dtype=float)
    if unit is None or unit == u.dimensionless_unscaled:
        return data * DEX_YR
    try:
        return (data * unit).to(DEX_YR)
    except (u.UnitsError, TypeError):
        raise InputDataError(f"unit {unit} is not a log age (dex(yr))", column=column) from None


def _specs(*rows):
    return {r[0]: ColumnSpec(*r) for r in rows}


# Per-star canonical input columns (readers of LAMOST-like tables return these).
_STAR_SPECS = _specs(
    ("source_id", None, "meta.id;meta.main", "Gaia DR2 source_id", "I19"),
    ("dr3_source_id", None, "meta.id.cross", "Gaia DR3 source_id", "I19"),
    ("obsid", None, "meta.id.cross", "LAMOST spectrum identifier (obsid)", "I12"),
    ("Cluster", None, "meta.id.parent",
     "Cluster named by the input table (not used for membership)", "A20"),
    ("ra", u.deg, "pos.eq.ra;meta.main", "Right ascension (ICRS)", "F11.7"),
    ("dec", u.deg, "pos.eq.dec;meta.main", "Declination (ICRS)", "F11.7"),
    ("parallax", u.mas, "pos.parallax.trig", "Gaia parallax", "F8.4"),
    ("e_parallax", u.mas, "stat.error;pos.parallax.trig", "Error of the Gaia parallax", "F7.4"),
    ("gmag", u.mag, "phot.mag;em.opt", "Gaia G magnitude", "F7.4"),
    ("bpmag", u.mag, "phot.mag;em.opt.B", "Gaia BP magnitude", "F7.4"),
    ("rpmag", u.mag, "phot.mag;em.opt.R", "Gaia RP magnitude", "F7.4"),
    ("rv", KMS, "spect.dopplerVeloc.opt", "LAMOST heliocentric radial velocity", "F8.2"),
    ("e_rv", KMS, "stat.error;spect.dopplerVeloc.opt", "Error of rv", "F7.2"),
    ("teff", u.K, "phys.temperature.effective", "LAMOST effective temperature", "F7.1"),
    ("e_teff", u.K, "stat.error;phys.temperature.effective", "Error of teff", "F6.1"),
    ("logg", DEX_G, "phys.gravity", "LAMOST surface gravity log10(g/(cm/s2))", "F6.3", "[cm/s2]"),
    ("e_logg", u.dex, "stat.error;phys.gravity", "Error of logg (dex)", "F6.3", "[-]"),
    ("feh", DEX, "phys.abund.Fe", "LAMOST metallicity [Fe/H] (dex)", "F7.3", "[-]"),
    ("e_feh", DEX, "stat.error;phys.abund.Fe", "Error of [Fe/H] (dex)", "F6.3", "[-]"),
    ("snrg", None, "stat.snr;em.opt.B", "LAMOST signal-to-noise ratio in the g band", "F7.2"),
    ("nobs", None, "meta.number", "Number of LAMOST observations combined", "I3"),
    # survey-agnostic columns of the survey adapters (astro_ocl.sources.surveys)
    ("survey", None, "meta.dataset", "Spectroscopic survey of the star (e.g. LAMOST-LRS, "
     "APOGEE)", "A12"),
    ("survey_id", None, "meta.id.cross",
     "The survey's own identifier of the star or spectrum (APOGEE_ID, sobject_id ...)", "A20"),
    ("snr", None, "stat.snr", "Signal-to-noise ratio of the spectrum (the survey's own "
     "measure: APOGEE SNR, GALAH CCD3, Gaia rv_expected_sig_to_noise)", "F7.1"),
)

# Member table (output): one row per spectroscopic star matched to a cluster member.
_MEMBER_SPECS = _specs(
    ("Cluster", None, "meta.id.parent", "Cluster name (Cantat-Gaudin et al. 2020)", "A20"),
    ("GaiaDR2", None, "meta.id;meta.main", "Gaia DR2 source_id", "I19"),
    ("RAdeg", u.deg, "pos.eq.ra;meta.main", "Right ascension (ICRS, Gaia DR2, Ep=2015.5)",
     "F11.7"),
    ("DEdeg", u.deg, "pos.eq.dec;meta.main", "Declination (ICRS, Gaia DR2, Ep=2015.5)", "F11.7"),
    ("plx", u.mas, "pos.parallax.trig", "Gaia DR2 parallax", "F8.4"),
    ("pmRA", MASYR, "pos.pm;pos.eq.ra", "Gaia DR2 proper motion in RA (pmRA*cos(DE))", "F8.3"),
    ("pmDE", MASYR, "pos.pm;pos.eq.dec", "Gaia DR2 proper motion in Dec", "F8.3"),
    ("Gmag", u.mag, "phot.mag;em.opt", "Gaia G magnitude", "F7.4"),
    ("BPmag", u.mag, "phot.mag;em.opt.B", "Gaia BP magnitude", "F7.4"),
    ("RPmag", u.mag, "phot.mag;em.opt.R", "Gaia RP magnitude", "F7.4"),
    ("PMemb", None, "stat.probability", "Membership probability (Cantat-Gaudin et al.)", "F4.2"),
    ("RV", KMS, "spect.dopplerVeloc.opt", "Heliocentric radial velocity (survey: Survey)",
     "F8.2"),
    ("e_RV", KMS, "stat.error;spect.dopplerVeloc.opt", "Error of RV", "F7.2"),
    ("Teff", u.K, "phys.temperature.effective", "Effective temperature (survey: Survey)", "F7.1"),
    ("e_Teff", u.K, "stat.error;phys.temperature.effective", "Error of Teff", "F6.1"),
    ("logg", DEX_G, "phys.gravity", "Surface gravity log10(g/(cm/s2)), survey: Survey", "F6.3",
     "[cm/s2]"),
    ("e_logg", u.dex, "stat.error;phys.gravity", "Error of logg (dex)", "F6.3", "[-]"),
    ("[Fe/H]", DEX, "phys.abund.Fe", "Metallicity [Fe/H] (dex), survey: Survey", "F7.3", "[-]"),
    ("e_[Fe/H]", DEX, "stat.error;phys.abund.Fe", "Error of [Fe/H] (dex)", "F6.3", "[-]"),
    ("SNRg", None, "stat.snr", "LAMOST signal-to-noise ratio in the g band (LAMOST stars)", "F7.2"),
    ("Survey", None, "meta.dataset", "Spectroscopic survey of the star's RV and parameters",
     "A12"),
    ("Flag", None, "meta.code.qual",
     "Quality flag: 0 = RV outlier, 1 = used for the cluster RV, 12 = used for the cluster "
     "RV and [Fe/H] (the cuts are in the Flag note and the provenance)", "I2"),
)

# Cluster table (output): labels of Fu et al. 2022 (J/A+A/668/A4) plus CG2020 context.
_CLUSTER_SPECS = _specs(
    ("Cluster", None, "meta.id;meta.main", "Cluster name (Cantat-Gaudin et al. 2020)", "A20"),
    ("RAdeg", u.deg, "pos.eq.ra;meta.main", "Right ascension of the centre (ICRS), CG2020",
     "F8.3"),
    ("DEdeg", u.deg, "pos.eq.dec;meta.main", "Declination of the centre (ICRS), CG2020", "F8.3"),
    ("GLON", u.deg, "pos.galactic.lon", "Galactic longitude, CG2020", "F8.3"),
    ("GLAT", u.deg, "pos.galactic.lat", "Galactic latitude, CG2020", "F7.3"),
    ("r50", u.deg, "phys.angSize;src", "Radius containing half the members, CG2020", "F6.3"),
    ("plx", u.mas, "pos.parallax.trig", "Mean parallax of the members, CG2020", "F6.3"),
    ("e_plx", u.mas, "stat.error;pos.parallax.trig", "Standard error of plx, CG2020", "F5.3"),
    ("pmRA", MASYR, "pos.pm;pos.eq.ra", "Mean proper motion in RA (pmRA*cos(DE)), CG2020", "F7.3"),
    ("e_pmRA", MASYR, "stat.error;pos.pm;pos.eq.ra", "Standard error of pmRA, CG2020", "F5.3"),
    ("pmDE", MASYR, "pos.pm;pos.eq.dec", "Mean proper motion in Dec, CG2020", "F7.3"),
    ("e_pmDE", MASYR, "stat.error;pos.pm;pos.eq.dec", "Standard error of pmDE, CG2020", "F5.3"),
    ("Dist", u.pc, "pos.distance", "Distance (mode of the parallax likelihood), CG2020",
     "I5"),
    ("AgeNN", DEX_YR, "time.age", "log10 of the age in years (neural network), CG2020",
     "F5.2", "[yr]"),
    ("Nall", None, "meta.number", "Number of spectroscopic members with a radial velocity",
     "I4"),
    ("Nflag1", None, "meta.number", "Number of members with FLAG=1 (used for the cluster RV)",
     "I4"),
    ("RVmed", KMS, "spect.dopplerVeloc.opt;stat.median",
     "Cluster radial velocity: median over Monte Carlo realisations of the median", "F8.2"),
    ("e_RVmed", KMS, "stat.error;spect.dopplerVeloc.opt",
     "Uncertainty of RVmed (spread over the realisations)", "F6.2"),
    ("RVmean", KMS, "spect.dopplerVeloc.opt;stat.mean",
     "Cluster radial velocity: mean over Monte Carlo realisations of the mean", "F8.2"),
    ("e_RVmean", KMS, "stat.error;spect.dopplerVeloc.opt", "Uncertainty of RVmean", "F6.2"),
    ("s_RV", KMS, "phys.veloc.dispersion",
     "Radial velocity dispersion (standard deviation of the pooled samples)", "F6.2"),
    ("Nflag12", None, "meta.number", "Number of members with FLAG=12 (used for [Fe/H])", "I4"),
    ("[Fe/H]med", DEX, "phys.abund.Fe;stat.median",
     "Cluster [Fe/H] (dex): median over realisations of the median", "F6.3", "[-]"),
    ("e_[Fe/H]med", DEX, "stat.error;phys.abund.Fe", "Uncertainty of [Fe/H]med (dex)", "F5.3",
     "[-]"),
    ("[Fe/H]mean", DEX, "phys.abund.Fe;stat.mean",
     "Cluster [Fe/H] (dex): mean over realisations of the mean", "F6.3", "[-]"),
    ("e_[Fe/H]mean", DEX, "stat.error;phys.abund.Fe", "Uncertainty of [Fe/H]mean (dex)", "F5.3",
     "[-]"),
    ("s_[Fe/H]", DEX, "stat.stdev;phys.abund.Fe",
     "[Fe/H] dispersion (dex, standard deviation of the pooled samples)", "F5.3", "[-]"),
    ("RVsurveys", None, "meta.dataset",
     "Surveys behind RVmed and their FLAG=1 stars (survey:N, comma-separated)", "A40"),
    ("FeHsurveys", None, "meta.dataset",
     "Surveys behind [Fe/H]med and their FLAG=12 stars (survey:N, comma-separated)", "A40"),
)

# --- Cluster statistics of the likelihood method (astro_ocl.steps.likelihood) -----------------
# The paper's Monte Carlo columns above (RVmed ... s_[Fe/H]) are the method
# "fu2022-montecarlo"; these are the method "likelihood": per cluster, a core of stars
# N(v, e_i^2 + sigma_int^2) with a Cauchy outlier/binary component (RV), on the scale of
# the zero-point reference (RVzp, FeHzp say which offsets were subtracted).
_FLAG_CODES = ("codes: 0 no usable star; 1 single star; b multimodal posterior; s intrinsic "
               "dispersion at the prior edge; c core of fewer than 1.5 stars; z a survey's zero "
               "point not measured; empty: constrained")
_LIKELIHOOD_SPECS = _specs(
    ("NRV", None, "meta.number", "Number of stars in the RV fit (valid for RV)", "I4"),
    ("RV", KMS, "spect.dopplerVeloc.opt",
     "Cluster radial velocity on the reference scale: posterior median of the core velocity "
     "(likelihood with intrinsic dispersion and outlier/binary component)", "F8.2"),
    ("e_RV", KMS, "stat.error;spect.dopplerVeloc.opt",
     "Uncertainty of RV: half the 16-84% posterior interval, with the zero points' "
     "uncertainty in quadrature", "F6.2"),
    ("sRVint", KMS, "phys.veloc.dispersion",
     "Intrinsic RV dispersion of the core (posterior median; includes errors the survey "
     "under-states)", "F6.2"),
    ("e_sRVint", KMS, "stat.error;phys.veloc.dispersion",
     "Uncertainty of sRVint (half the 16-84% posterior interval)", "F6.2"),
    ("NRVcore", None, "meta.number",
     "Stars in the RV core: sum of the stars' core probabilities", "F6.1"),
    ("f_RV", None, "meta.code.qual", "Flag on RV, " + _FLAG_CODES, "A4"),
    ("RVnote", None, "meta.note", "Why RV is flagged (empty: not flagged)", "A120"),
    ("NFeH", None, "meta.number",
     "Number of stars in the [Fe/H] fit (RV core, Teff/logg cuts, valid for [Fe/H])", "I4"),
    ("[Fe/H]", DEX, "phys.abund.Fe",
     "Cluster [Fe/H] (dex) on the reference scale: posterior median (likelihood with "
     "intrinsic dispersion)", "F6.3", "[-]"),
    ("e_[Fe/H]", DEX, "stat.error;phys.abund.Fe",
     "Uncertainty of [Fe/H] (dex): half the 16-84% posterior interval, with the zero "
     "points' uncertainty in quadrature", "F5.3", "[-]"),
    ("sFeHint", DEX, "stat.stdev;phys.abund.Fe",
     "Intrinsic [Fe/H] dispersion (dex, posterior median)", "F5.3", "[-]"),
    ("e_sFeHint", DEX, "stat.error;phys.abund.Fe",
     "Uncertainty of sFeHint (dex, half the 16-84% posterior interval)", "F5.3", "[-]"),
    ("NFeHcore", None, "meta.number",
     "Stars in the [Fe/H] core: sum of the stars' core probabilities", "F6.1"),
    ("f_[Fe/H]", None, "meta.code.qual", "Flag on [Fe/H], " + _FLAG_CODES, "A4"),
    ("FeHnote", None, "meta.note", "Why [Fe/H] is flagged (empty: not flagged)", "A120"),
    ("RVzp", None, "meta.note",
     "Zero points subtracted from the RVs of each survey in RV (survey:offset+-error km/s, "
     "or survey:ref for the reference, comma-separated)", "A80"),
    ("FeHzp", None, "meta.note",
     "Zero points subtracted from the [Fe/H] of each survey in [Fe/H] (survey:offset+-error "
     "dex, survey:ref, or survey:0 when not significant)", "A80"),
)
_MEMBER_LIKELIHOOD_SPECS = _specs(
    ("Pcore", None, "stat.probability",
     "Posterior probability that the star's RV belongs to the cluster core (not an outlier "
     "or a binary away from its systemic velocity); likelihood method", "F4.2"),
)

# Canonical literature cluster tables (comparison).
_LITERATURE_SPECS = _specs(
    ("Cluster", None, "meta.id;meta.main", "Cluster name, normalised to CG2020 naming", "A20"),
    ("RV", KMS, "spect.dopplerVeloc.opt", "Literature cluster radial velocity", "F8.2"),
    ("e_RV", KMS, "stat.error;spect.dopplerVeloc.opt", "Error of RV", "F6.2"),
    ("NRV", None, "meta.number", "Number of stars behind RV", "I5"),
    ("[Fe/H]", DEX, "phys.abund.Fe", "Literature cluster [Fe/H] (dex)", "F6.3", "[-]"),
    ("e_[Fe/H]", DEX, "stat.error;phys.abund.Fe", "Error of [Fe/H] (dex)", "F5.3", "[-]"),
)

# --- Orbits and integrals of motion (astro_ocl.steps.dynamics, method step 7) ----------------
# Frame: astropy Galactocentric with R0, z_sun, v_c and the solar motion of
# astro_ocl.config.galactic_parameters; potential McMillan (2017) in galpy. Sign
# conventions are in each description (see also astro_ocl.steps.dynamics). The galactocentric
# Cartesian coordinates are named XGC, YGC, ZGC: X, Y, Z already name CG2020's
# heliocentric coordinates.
KPC_KMS = u.kpc * KMS
KM2S2 = u.km ** 2 / u.s ** 2
_ORBIT = [
    # name, unit, ucd, description, fmt
    ("XGC", u.kpc, "pos.cartesian.x;pos.galactocentric",
     "Galactocentric X (Sun at X = -R0; positive from the Sun towards the Galactic centre)",
     "F8.3"),
    ("YGC", u.kpc, "pos.cartesian.y;pos.galactocentric",
     "Galactocentric Y (positive towards Galactic rotation at the Sun)", "F8.3"),
    ("ZGC", u.kpc, "pos.cartesian.z;pos.galactocentric",
     "Galactocentric Z, height above the Galactic plane (positive towards the NGP)", "F7.3"),
    ("RGC", u.kpc, "pos.distance;pos.galactocentric",
     "Galactocentric radius in the plane, sqrt(X^2 + Y^2)", "F7.3"),
    ("U", KMS, "phys.veloc;pos.cartesian.x;pos.galactocentric",
     "Galactocentric velocity dX/dt (positive towards the Galactic centre as seen from "
     "the Sun)", "F8.2"),
    ("V", KMS, "phys.veloc;pos.cartesian.y;pos.galactocentric",
     "Galactocentric velocity dY/dt (positive towards Galactic rotation)", "F8.2"),
    ("W", KMS, "phys.veloc;pos.cartesian.z;pos.galactocentric",
     "Galactocentric velocity dZ/dt (positive towards the NGP)", "F8.2"),
    ("ULSR", KMS, "phys.veloc;pos.cartesian.x",
     "Velocity relative to the LSR, U (positive towards the Galactic centre)", "F8.2"),
    ("VLSR", KMS, "phys.veloc;pos.cartesian.y",
     "Velocity relative to the LSR, V (positive towards Galactic rotation; not the 'VLSR' "
     "of J/A+A/668/A4, which is the Galactocentric V, column V here)", "F8.2"),
    ("WLSR", KMS, "phys.veloc;pos.cartesian.z",
     "Velocity relative to the LSR, W (positive towards the NGP)", "F8.2"),
    ("vR", KMS, "phys.veloc;pos.cylindrical.r",
     "Galactocentric radial velocity (positive away from the Galactic centre)", "F8.2"),
    ("vphi", KMS, "phys.veloc;pos.cylindrical.azi",
     "Galactocentric azimuthal velocity (positive along Galactic rotation)", "F8.2"),
    ("vz", KMS, "phys.veloc;pos.cylindrical.z",
     "Galactocentric vertical velocity (positive towards the NGP)", "F8.2"),
    ("LX", KPC_KMS, "phys.angMomentum;pos.cartesian.x",
     "Angular momentum, X component (galpy frame)", "F9.1"),
    ("LY", KPC_KMS, "phys.angMomentum;pos.cartesian.y",
     "Angular momentum, Y component (galpy frame)", "F9.1"),
    ("LZ", KPC_KMS, "phys.angMomentum;pos.cartesian.z",
     "Angular momentum, Z component (positive for prograde orbits)", "F9.1"),
    ("Energy", KM2S2, "phys.energy",
     "Orbital energy per unit mass in McMillan (2017), Phi(infinity) = 0", "F10.1"),
    ("Peri", u.kpc, "pos.distance;stat.min",
     "Pericentre (minimum Galactocentric spherical radius), McMillan (2017)", "F7.3"),
    ("Apo", u.kpc, "pos.distance;stat.max",
     "Apocentre (maximum Galactocentric spherical radius), McMillan (2017)", "F7.3"),
    ("Zmax", u.kpc, "pos.cartesian.z;stat.max",
     "Maximum height |Z| above the plane along the orbit, McMillan (2017)", "F7.3"),
    ("ecc", None, "src.orbital.eccentricity",
     "Orbital eccentricity (Apo - Peri) / (Apo + Peri)", "F6.4"),
]
_ORBIT_SPECS = _specs(*_ORBIT, *[
    (f"e_{name}", unit, f"stat.error;{ucd.split(';')[0]}" if name != "ecc" else
     "stat.error;src.orbital.eccentricity",
     f"Uncertainty of {name} (half the 16-84% range of the Monte Carlo orbits)", fmt)
    for name, unit, ucd, _, fmt in _ORBIT])

_STAR_ALIASES = {
    "source_id": ["dr2_source_id", "gaia_source_id", "GaiaDR2", "Gaia", "gaia_dr2_source_id",
                  "Source", "SOURCE_ID"],
    "dr3_source_id": ["GaiaDR3", "gaia_dr3_source_id"],
    "obsid": ["ObsID", "OBSID"],
    "Cluster": ["cluster"],
    "ra": ["ra2000", "RAJ2000", "RA_ICRS", "RAdeg", "ra_obs", "RA"],
    "dec": ["dec2000", "DEJ2000", "DE_ICRS", "DEdeg", "dec_obs", "DEC", "Dec"],
    "parallax": ["plx", "Plx"],
    "e_parallax": ["parallax_error", "e_plx", "e_Plx"],
    "gmag": ["phot_g_mean_mag", "Gmag"],
    "bpmag": ["phot_bp_mean_mag", "BPmag"],
    "rpmag": ["phot_rp_mean_mag", "RPmag"],
    "rv": ["RV", "HRV", "rv_lasp"],
    "e_rv": ["rv_err", "e_RV", "e_HRV", "rv_lasp_err"],
    "teff": ["Teff", "teff_lasp"],
    "e_teff": ["teff_err", "e_Teff", "teff_lasp_err"],
    "logg": ["log(g)", "logg_lasp"],
    "e_logg": ["logg_err", "e_log(g)", "logg_lasp_err"],
    "feh": ["[Fe/H]", "FeH", "feh_lasp"],
    "e_feh": ["feh_err", "e_[Fe/H]", "e_FeH", "feh_lasp_err"],
    "snrg": ["SNRg", "snr_g"],
}

# --- Survey validity domains and validation against independent data ------------------------
# (astro_ocl.sources.surveys.domains, astro_ocl.steps.validity, astro_ocl.steps.validation)
# The survey's own flags the adapters carry for the validity domains.
_DOMAIN_STAR_SPECS = _specs(
    ("starflag", None, "meta.code.qual", "APOGEE STARFLAG bitmask (allStar)", "I20"),
    ("aspcapflag", None, "meta.code.qual", "APOGEE ASPCAPFLAG bitmask (allStar, 64 bits in "
     "DR17)", "I20"),
    ("fe_h_flag", None, "meta.code.qual", "APOGEE FE_H_FLAG (allStar; 0: [Fe/H] usable)", "I11"),
    ("flag_sp", None, "meta.code.qual", "GALAH flag_sp (0: stellar parameters and RV usable)",
     "I11"),
    ("flag_fe_h", None, "meta.code.qual", "GALAH flag_fe_h (0: [Fe/H] usable)", "I11"),
    ("rv_template_teff", u.K, "phys.temperature.effective",
     "Gaia DR3 rv_template_teff: Teff of the template of the RVS velocity", "F7.1"),
    ("rv_method_used", None, "meta.code", "Gaia DR3 rv_method_used (1: bright, epoch RVs; "
     "2: faint, combined cross-correlation)", "I1"),
    ("grvs_mag", u.mag, "phot.mag", "Gaia DR3 G_RVS magnitude", "F6.3"),
)
# What survey_validity adds to a star table.
_VALIDITY_SPECS = _specs(
    ("rv_valid", None, "meta.code.qual",
     "The RV is inside its survey's validity domain (astro_ocl.steps.validity)", "L1"),
    ("feh_valid", None, "meta.code.qual",
     "The [Fe/H] is inside its survey's validity domain (astro_ocl.steps.validity)", "L1"),
    ("rv_reason", None, "meta.note",
     "Why the RV is outside its survey's validity domain (empty: inside)", "A80"),
    ("feh_reason", None, "meta.note",
     "Why the [Fe/H] is outside its survey's validity domain (empty: inside)", "A80"),
    ("bp_rp0", u.mag, "phot.color.excess;em.opt.B;em.opt.R",
     "(BP-RP)_0: Gaia colour dereddened with the cluster's A_V (Gaia Collaboration, "
     "Babusiaux et al. 2018, eq. 1)", "F6.3"),
)
# The member table's copy of the reasons (empty: inside the domain).
_DOMAIN_MEMBER_SPECS = _specs(
    ("RVdomain", None, "meta.note",
     "Why the star's RV is outside its survey's validity domain (empty: inside)", "A80"),
    ("FeHdomain", None, "meta.note",
     "Why the star's [Fe/H] is outside its survey's validity domain (empty: inside)", "A80"),
)
# The literature tables' provenance for the validation (independence of the references).
_DOMAIN_LITERATURE_SPECS = _specs(
    ("NFeH", None, "meta.number", "Number of stars behind [Fe/H]", "I5"),
    ("r_[Fe/H]", None, "meta.ref", "Source or quality class of [Fe/H] in the catalogue", "A20"),
    ("r_RV", None, "meta.ref", "Source of RV in the catalogue", "A20"),
    ("RVdata", None, "meta.dataset", "Spectroscopic surveys whose data RV rests on "
     "(comma-separated; empty: none of the package's surveys)", "A30"),
    ("FeHdata", None, "meta.dataset", "Spectroscopic surveys whose data [Fe/H] rests on "
     "(comma-separated; empty: none of the package's surveys)", "A30"),
)

#: Per-star spectroscopic parameters (LAMOST-like surveys), as the readers return them.
STARS = TableDef("stars", {**_STAR_SPECS, **_DOMAIN_STAR_SPECS}, aliases=_STAR_ALIASES,
                 description="Spectroscopic stars: survey parameters and Gaia identifiers")

#: Cluster memberships (Cantat-Gaudin et al.) as input of the cross-match.
MEMBERSHIP = TableDef("membership", _specs(
    ("Cluster", None, "meta.id.parent", "Cluster name (Cantat-Gaudin et al. 2020)", "A20"),
    ("source_id", None, "meta.id;meta.main", "Gaia DR2 source_id", "I19"),
    ("ra", u.deg, "pos.eq.ra;meta.main", "Right ascension (ICRS, Gaia DR2, Ep=2015.5)", "F11.7"),
    ("dec", u.deg, "pos.eq.dec;meta.main", "Declination (ICRS, Gaia DR2, Ep=2015.5)", "F11.7"),
    ("pmra", MASYR, "pos.pm;pos.eq.ra", "Gaia DR2 proper motion in RA (pmRA*cos(DE))", "F8.3"),
    ("pmdec", MASYR, "pos.pm;pos.eq.dec", "Gaia DR2 proper motion in Dec", "F8.3"),
    ("parallax", u.mas, "pos.parallax.trig", "Gaia DR2 parallax", "F8.4"),
    ("gmag", u.mag, "phot.mag;em.opt", "Gaia G magnitude", "F7.4"),
    ("proba", None, "stat.probability", "Membership probability", "F4.2"),
), aliases={
    "Cluster": ["cluster"], "source_id": ["Source", "GaiaDR2", "dr2_source_id"],
    "ra": ["RA_ICRS", "RAdeg"], "dec": ["DE_ICRS", "DEdeg"], "pmra": ["pmRA", "pmRA*"],
    "pmdec": ["pmDE"], "parallax": ["plx", "Plx"], "gmag": ["phot_g_mean_mag", "Gmag"],
    "proba": ["PMemb", "Proba", "PMem"],
}, description="Cluster members with their membership probability")

#: Member table of a build: one row per spectroscopic star matched to a cluster member.
MEMBERS = TableDef("members", {**_MEMBER_SPECS, **_DOMAIN_MEMBER_SPECS,
                               **_MEMBER_LIKELIHOOD_SPECS},
                   description="Spectroscopic member stars of the clusters, with quality flags")

#: Cluster table of a build: labels of Fu et al. 2022 (J/A+A/668/A4), CG2020
#: context and the orbit columns of method step 7.
CLUSTERS = TableDef("clusters", {**_CLUSTER_SPECS, **_LIKELIHOOD_SPECS, **_ORBIT_SPECS},
                    description="Open clusters: spectroscopic radial velocities and [Fe/H]")

#: Cantat-Gaudin et al. (2020) table1, the cluster parameters.
CG2020 = TableDef("cg2020", {**{k: v for k, v in _CLUSTER_SPECS.items()
                                if k in ("Cluster", "GLON", "GLAT", "r50", "plx", "e_plx",
                                         "pmRA", "e_pmRA", "pmDE", "e_pmDE", "Dist",
                                         "AgeNN")},
                             **_specs(
    ("nbstars07", None, "meta.number", "Number of members with probability >= 0.7, CG2020",
     "I5"),
    ("AVNN", u.mag, "phys.absorption;em.opt.V", "Extinction A_V (neural network), CG2020",
     "F5.2"),
    ("DMNN", u.mag, "phot.mag.distMod", "Distance modulus (neural network), CG2020", "F5.2"),
    ("X", u.pc, "pos.cartesian.x", "Heliocentric Galactic X, CG2020", "F8.1"),
    ("Y", u.pc, "pos.cartesian.y", "Heliocentric Galactic Y, CG2020", "F8.1"),
    ("Z", u.pc, "pos.cartesian.z", "Heliocentric Galactic Z, CG2020", "F8.1"),
    ("Rgc", u.pc, "pos.distance;pos.galactocentric",
     "Galactocentric radius (R0 = 8340 pc), CG2020", "F8.1"))},
    description="Cantat-Gaudin et al. 2020 cluster parameters")

#: Canonical literature cluster tables (comparison).
LITERATURE = TableDef("literature", {**_LITERATURE_SPECS, **_DOMAIN_LITERATURE_SPECS},
                      description="Literature cluster radial velocities and [Fe/H]")

#: Offsets against each literature catalogue (paper Tables 1 and 3).
COMPARISON = TableDef("comparison", _specs(
    ("catalogue", None, "meta.id;meta.main", "Literature catalogue", "A12"),
    ("quantity", None, "meta.code", "Quantity compared (RV or [Fe/H])", "A6"),
    ("N", None, "meta.number", "Number of clusters in common", "I4"),
    ("mean", None, "stat.value;stat.mean",
     "Mean of the differences, this catalogue minus literature (unit in column unit)", "F8.3"),
    ("median", None, "stat.value;stat.median",
     "Median of the differences (unit in column unit)", "F8.3"),
    ("std", None, "stat.stdev;arith.diff",
     "Standard deviation of the differences (unit in column unit)", "F8.3"),
    ("robust_std", None, "stat.stdev;arith.diff",
     "Robust standard deviation (astropy.stats.mad_std) of the differences "
     "(unit in column unit)", "F8.3"),
    ("unit", None, "meta.unit", "Unit of mean, median, std and robust_std", "A6"),
    ("reference", None, "meta.bib", "Reference of the literature catalogue", "A40"),
    ("sample", None, "meta.dataset",
     "Our values compared: this catalogue, or one survey's stars alone", "A24"),
), description="Offsets this catalogue minus literature (cf. Fu+2022 Tables 1, 3)")


def _matched(name, unit, quantity, ucd, fmt):
    return TableDef(name, _specs(
        ("Cluster", None, "meta.id;meta.main", "Cluster name (Cantat-Gaudin et al. 2020)", "A20"),
        ("ours", unit, ucd, f"{quantity} of this catalogue", fmt),
        ("e_ours", unit, f"stat.error;{ucd}", f"Error of our {quantity}", fmt),
        ("lit", unit, ucd, f"{quantity} of the literature catalogue", fmt),
        ("e_lit", unit, f"stat.error;{ucd}", f"Error of the literature {quantity}", fmt),
        ("diff", unit, f"{ucd};arith.diff", f"{quantity}: this catalogue minus literature", fmt),
    ), description=f"Clusters in common with a literature catalogue: {quantity}")


#: Matched tables behind :data:`COMPARISON` (one per quantity).
MATCHED_RV = _matched("matched_rv", KMS, "RV", "spect.dopplerVeloc.opt", "F8.2")
MATCHED_FEH = _matched("matched_feh", DEX, "[Fe/H]", "phys.abund.Fe", "F7.3")

#: Orbit columns of method step 7 (`astro_ocl.steps.dynamics.orbit_parameters`).
ORBIT_COLUMNS = TableDef("orbits", _ORBIT_SPECS,
                         description="Galactocentric phase space and orbits of the clusters")

# --- Survey validity domains and validation against independent data (continued) ----------
#: The columns `astro_ocl.steps.validity.survey_validity` adds to a star table.
VALIDITY = TableDef("validity", _VALIDITY_SPECS,
                    description="Survey validity domain of each star's RV and [Fe/H]")

#: Validation against independent data (`astro_ocl.steps.validation`): one row per
#: reference, quantity and survey mix. Values in the unit of column ``unit``.
VALIDATION = TableDef("validation", _specs(
    ("reference", None, "meta.id;meta.main", "Independent reference catalogue", "A14"),
    ("quantity", None, "meta.code", "Quantity compared (RV or [Fe/H])", "A6"),
    ("mix", None, "meta.dataset", "Survey mix of our cluster values (e.g. 'LAMOST only', "
     "'APOGEE+LAMOST'; 'all': every mix)", "A24"),
    ("N", None, "meta.number", "Clusters compared (independent pairs, held out of any fit)",
     "I4"),
    ("median", None, "stat.median;arith.diff",
     "Median offset, this catalogue minus reference (unit in column unit)", "F8.3"),
    ("e_median", None, "stat.error;stat.median",
     "Uncertainty of the median offset: 1.2533 robust_std / sqrt(N)", "F8.3"),
    ("robust_std", None, "stat.stdev;arith.diff",
     "Robust scatter of the offsets: 1.4826 MAD (astropy.stats.mad_std)", "F8.3"),
    ("z_robust_std", None, "stat.stdev;stat.error",
     "Robust scatter of offset / sigma (sigma: both errors in quadrature): about 1 when "
     "the quoted errors describe the offsets, above 1 when they are too small", "F6.2"),
    ("n_outliers", None, "meta.number",
     "Clusters with |offset| > nsigma * sigma + floor (sigma: both errors in quadrature)",
     "I4"),
    ("f_outliers", None, "stat.fit.residual", "Fraction of outliers (n_outliers / N)", "F6.3"),
    ("n_shared", None, "meta.number", "Clusters not compared: the reference value rests on "
     "data of a survey behind ours (not independent)", "I4"),
    ("n_in_fit", None, "meta.number", "Clusters not compared: used to fit the reference "
     "scale to this reference (validated on the held-out clusters only)", "I4"),
    ("unit", None, "meta.unit", "Unit of median, e_median and robust_std", "A6"),
    ("selection", None, "meta.note", "Selection of the reference values", "A40"),
    ("citation", None, "meta.bib", "Reference of the catalogue", "A40"),
), description="Validation of the catalogue against independent cluster RVs and [Fe/H]")


def _pair_specs(*extra):
    return _specs(
        ("Cluster", None, "meta.id;meta.main", "Cluster name (Cantat-Gaudin et al. 2020)",
         "A20"),
        ("reference", None, "meta.id", "Reference catalogue", "A14"),
        ("quantity", None, "meta.code", "Quantity compared (RV or [Fe/H])", "A6"),
        ("mix", None, "meta.dataset", "Survey mix of our value", "A24"),
        ("ours", None, "stat.value", "Our value (unit in column unit)", "F8.3"),
        ("e_ours", None, "stat.error", "Error of our value", "F8.3"),
        ("ref", None, "stat.value", "Reference value", "F8.3"),
        ("e_ref", None, "stat.error", "Error of the reference value", "F8.3"),
        ("diff", None, "arith.diff", "Ours minus reference", "F8.3"),
        ("sigma", None, "stat.error", "Both errors in quadrature", "F8.3"),
        ("limit", None, "stat.value", "Outlier limit: nsigma * sigma + floor", "F8.3"),
        ("n_ours", None, "meta.number", "Stars behind our value (Nflag1 or Nflag12; NaN: not "
         "given)", "F6.0"),
        ("n_ref", None, "meta.number", "Stars behind the reference value (NaN: not given)",
         "F6.0"),
        ("unit", None, "meta.unit", "Unit of the values", "A6"),
        *extra)


#: Every cluster compared (`astro_ocl.steps.validation`): what the statistics are made of.
VALIDATION_PAIRS = TableDef("validation_pairs", _pair_specs(
    ("independent", None, "meta.code.qual",
     "The reference value rests on none of the surveys behind ours", "L1"),
    ("in_fit", None, "meta.code.qual",
     "Used to fit the reference scale to this reference: not in the statistics", "L1"),
    ("outlier", None, "meta.code.qual", "|diff| > limit", "L1"),
    ("reason", None, "meta.note", "Why an outlier may be one (empty: not an outlier)", "A80"),
), description="Clusters compared with independent references")

#: The outliers of the validation, each with its likely reason.
VALIDATION_OUTLIERS = TableDef("validation_outliers", _pair_specs(
    ("reason", None, "meta.note", "Why the cluster may be an outlier", "A80"),
), description="Clusters whose value differs from an independent reference beyond the errors")

#: Every table definition by kind (``table.meta["schema"]``).
TABLES = {t.name: t for t in (STARS, MEMBERSHIP, MEMBERS, CLUSTERS, CG2020, LITERATURE,
                              COMPARISON, MATCHED_RV, MATCHED_FEH, ORBIT_COLUMNS, VALIDITY,
                              VALIDATION, VALIDATION_PAIRS, VALIDATION_OUTLIERS)}

# Lookup of a column by name alone, for tables of no known kind: a later table wins
# (star-level precision of the member table last, e.g. RAdeg F11.7).
_ANY = {}
for _t in (STARS, MEMBERSHIP, LITERATURE, CG2020, COMPARISON, CLUSTERS, MEMBERS):
    _ANY.update(_t)


def table_def(table):
    """The `TableDef` of ``table`` (its ``meta["schema"]``), or None.

    Parameters
    ----------
    table : `~astropy.table.Table` or str
        A table (as :func:`apply_schema` marked it) or a kind name.
    """
    kind = table if isinstance(table, str) else table.meta.get("schema")
    return TABLES.get(kind)


def column_spec(name, *, table=None):
    """The `ColumnSpec` of a column, or None when the schema does not know it.

    Parameters
    ----------
    name : str
        Column name.
    table : `TableDef`, optional
        The table definition to look in first.
    """
    if table is not None and name in table:
        return table[name]
    return _ANY.get(name)


def apply_schema(table, tdef, *, cuts=None):
    """Enforce units, set descriptions and mark ``table`` as a ``tdef`` table, in place.

    Parameters
    ----------
    table : `~astropy.table.QTable`
        Table whose columns are named as in ``tdef`` (other columns are left alone).
    tdef : `TableDef`
        The table definition.
    cuts : `~astro_ocl.steps.quality.QualityCuts` or dict, optional
        The quality cuts the flags were computed with: the flag columns' descriptions
        are generated from them (:func:`flag_descriptions`).

    Returns
    -------
    table

    Raises
    ------
    InputDataError
        A column has a unit that cannot be converted to the schema's, or a column
        the schema gives a unit has none.
    """
    flags = flag_descriptions(cuts) if cuts is not None else {}
    for name in table.colnames:
        spec = tdef.get(name)
        if spec is None:
            continue
        col = table[name]
        if spec.unit is not None and hasattr(col, "unit") and not hasattr(col, "frame"):
            if not isinstance(col, u.Quantity):
                if col.dtype.kind in "iuf":
                    raise InputDataError(f"column has no unit, the schema requires {spec.unit}",
                                         column=name)
            elif col.unit != spec.unit:
                try:
                    table[name] = col.to(spec.unit)
                except u.UnitsError:
                    raise InputDataError(f"unit {col.unit} cannot be converted to "
                                         f"{spec.unit}", column=name) from None
                col = table[name]
        if hasattr(col, "info"):
            col.info.description = flags.get(name, spec.description)
    table.meta["schema"] = tdef.name
    return table


_CUT_NAMES = ("rv_nsigma", "teff_min", "teff_max", "cool_dwarf_teff", "dwarf_logg")


def _cut_values(cuts):
    """The cuts as ``{name: str}`` from QualityCuts, its ``as_meta()``, or ``qc_*`` provenance."""
    if hasattr(cuts, "as_meta"):
        cuts = cuts.as_meta()
    values = {}
    for name in _CUT_NAMES:
        value = cuts.get(name, cuts.get(f"qc_{name}"))
        if value is None:
            return None
        try:
            q = u.Quantity(str(value))
            value = f"{q.value:g} {q.unit}".strip() if q.unit != u.one else f"{q.value:g}"
        except (TypeError, ValueError):
            value = str(value)
        values[name] = value
    return values


def flag_descriptions(cuts):
    """Descriptions of ``Flag``, ``Nflag1`` and ``Nflag12`` for the cuts a build used.

    Parameters
    ----------
    cuts : `~astro_ocl.steps.quality.QualityCuts`, dict
        The cuts, their ``as_meta()``, or a table's metadata / provenance with the
        ``qc_*`` items a build records.

    Returns
    -------
    dict
        ``{column: description}``; empty when ``cuts`` does not give every cut.

    Examples
    --------
    >>> flag_descriptions({"qc_rv_nsigma": "3", "qc_teff_min": "4500 K",
    ...                    "qc_teff_max": "7500 K", "qc_cool_dwarf_teff": "5000 K",
    ...                    "qc_dwarf_logg": "3.5"})["Nflag1"]
    'Number of members with FLAG=1 (RV within 3 sigma of the cluster mean)'
    """
    c = _cut_values(cuts)
    if c is None:
        return {}
    rv = f"RV within {c['rv_nsigma']} sigma of the cluster mean"
    feh = (f"{c['teff_min']} <= Teff <= {c['teff_max']}, not a dwarf (logg >= "
           f"{c['dwarf_logg']}) cooler than {c['cool_dwarf_teff']}; stars without Teff "
           "and logg (APOGEE-OCCAM): the survey's own [Fe/H] validation")
    return {
        "Flag": (f"Quality flag: 0 = RV outlier (beyond {c['rv_nsigma']} sigma of the cluster "
                 f"mean, not used); 1 = used for the cluster RV ({rv}); 12 = used for the "
                 f"cluster RV and [Fe/H] ({feh})"),
        "Nflag1": f"Number of members with FLAG=1 ({rv})",
        "Nflag12": f"Number of members with FLAG=12 (used for [Fe/H]: {feh})",
    }


def flag_note(cuts):
    """The CDS ReadMe note of the ``Flag`` column for ``cuts`` (see `flag_descriptions`).

    Returns None when ``cuts`` does not give every cut.
    """
    text = flag_descriptions(cuts).get("Flag")
    return None if text is None else "Flag: " + text[len("Quality flag: "):] + "."


#: Where a cluster table holds each quantity's value, per statistics method: ``(value,
#: error, stars used, star-to-star spread)`` of the likelihood method, then of the
#: Monte Carlo medians of Fu et al. (2022). The steps and sinks that read a cluster
#: value (comparison, validation, gradients, figures) find it through `value_columns`.
VALUE_COLUMNS = {
    "RV": (("RV", "e_RV", "NRV", "sRVint"), ("RVmed", "e_RVmed", "Nflag1", "s_RV")),
    "[Fe/H]": (("[Fe/H]", "e_[Fe/H]", "NFeH", "sFeHint"),
               ("[Fe/H]med", "e_[Fe/H]med", "Nflag12", "s_[Fe/H]")),
}


def value_columns(table, quantity):
    """The ``(value, error, stars, spread)`` columns of ``quantity`` in a cluster table.

    Parameters
    ----------
    table : `~astropy.table.Table`
        A cluster table of either statistics method (`VALUE_COLUMNS`).
    quantity : {"RV", "[Fe/H]"}

    Raises
    ------
    MissingColumnError
        The table has neither method's value column.
    """
    for cols in VALUE_COLUMNS[quantity]:
        if cols[0] in table.colnames:
            return cols
    options = " or ".join(repr(c[0]) for c in VALUE_COLUMNS[quantity])
    raise MissingColumnError(f"the cluster table has no {quantity} value ({options})",
                             column=VALUE_COLUMNS[quantity][0][0])
