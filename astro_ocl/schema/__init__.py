"""Column definitions: the one source of truth for names, units, UCDs, descriptions.

Readers use :data:`STAR_COLUMNS` (canonical names of per-star input tables),
the pipeline writes :data:`CLUSTER_COLUMNS` and :data:`MEMBER_COLUMNS` (labels
of Fu et al. 2022, CDS J/A+A/668/A4), and the exporters take UCDs, units,
descriptions and CDS formats from here.

Logarithmic quantities: [Fe/H] is stored with the unit ``dex`` and log g with
``dex(cm / s2)``. Neither is a valid VOUnit; the VOTable/CDS exporters write
them unitless (CDS ``[-]`` and ``[cm/s2]``) and state the unit in the description.
"""
from dataclasses import dataclass

import astropy.units as u

__all__ = ["ColumnSpec", "STAR_COLUMNS", "MEMBER_COLUMNS", "CLUSTER_COLUMNS",
           "LITERATURE_COLUMNS", "ALL_COLUMNS", "column_spec", "apply_schema", "DEX",
           "DEX_G"]

DEX = u.dex
DEX_G = u.dex(u.cm / u.s ** 2)
KMS = u.km / u.s
MASYR = u.mas / u.yr


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
    """

    name: str
    unit: object
    ucd: str
    description: str
    fmt: str
    cds_unit: str = None


def _specs(*rows):
    return {r[0]: ColumnSpec(*r) for r in rows}


# Per-star canonical input columns (readers of LAMOST-like tables return these).
STAR_COLUMNS = _specs(
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
)

# Member table (output): one row per LAMOST star matched to a cluster member.
MEMBER_COLUMNS = _specs(
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
    ("RV", KMS, "spect.dopplerVeloc.opt", "LAMOST heliocentric radial velocity", "F8.2"),
    ("e_RV", KMS, "stat.error;spect.dopplerVeloc.opt", "Error of RV", "F7.2"),
    ("Teff", u.K, "phys.temperature.effective", "LAMOST effective temperature", "F7.1"),
    ("e_Teff", u.K, "stat.error;phys.temperature.effective", "Error of Teff", "F6.1"),
    ("logg", DEX_G, "phys.gravity", "LAMOST surface gravity log10(g/(cm/s2))", "F6.3", "[cm/s2]"),
    ("e_logg", u.dex, "stat.error;phys.gravity", "Error of logg (dex)", "F6.3", "[-]"),
    ("[Fe/H]", DEX, "phys.abund.Fe", "LAMOST metallicity [Fe/H] (dex)", "F7.3", "[-]"),
    ("e_[Fe/H]", DEX, "stat.error;phys.abund.Fe", "Error of [Fe/H] (dex)", "F6.3", "[-]"),
    ("SNRg", None, "stat.snr", "LAMOST signal-to-noise ratio in the g band", "F7.2"),
    ("Flag", None, "meta.code.qual",
     "Quality flag: 0 = RV outlier (beyond 2 sigma), 1 = used for the cluster RV, "
     "12 = used for the cluster RV and [Fe/H]", "I2"),
)

# Cluster table (output): labels of Fu et al. 2022 (J/A+A/668/A4) plus CG2020 context.
CLUSTER_COLUMNS = _specs(
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
    ("AgeNN", None, "time.age", "log10 of the age in years (neural network), CG2020", "F5.2",
     "[yr]"),
    ("Nall", None, "meta.number", "Number of LAMOST members with a radial velocity", "I4"),
    ("Nflag1", None, "meta.number", "Number of members with FLAG=1 (RV within 2 sigma)", "I4"),
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
)

# Canonical literature cluster tables (comparison).
LITERATURE_COLUMNS = _specs(
    ("Cluster", None, "meta.id;meta.main", "Cluster name, normalised to CG2020 naming", "A20"),
    ("RV", KMS, "spect.dopplerVeloc.opt", "Literature cluster radial velocity", "F8.2"),
    ("e_RV", KMS, "stat.error;spect.dopplerVeloc.opt", "Error of RV", "F6.2"),
    ("NRV", None, "meta.number", "Number of stars behind RV", "I5"),
    ("[Fe/H]", DEX, "phys.abund.Fe", "Literature cluster [Fe/H] (dex)", "F6.3", "[-]"),
    ("e_[Fe/H]", DEX, "stat.error;phys.abund.Fe", "Error of [Fe/H] (dex)", "F5.3", "[-]"),
)

ALL_COLUMNS = {**STAR_COLUMNS, **LITERATURE_COLUMNS, **MEMBER_COLUMNS, **CLUSTER_COLUMNS}


def column_spec(name, *, table=None):
    """Return the `ColumnSpec` of a column, or None when the schema does not know it.

    Parameters
    ----------
    name : str
        Column name.
    table : dict, optional
        One of the ``*_COLUMNS`` dicts to look in first.
    """
    if table is not None and name in table:
        return table[name]
    return ALL_COLUMNS.get(name)


def apply_schema(table, specs):
    """Set descriptions (and check units) of ``table``'s columns from ``specs``, in place.

    Parameters
    ----------
    table : `~astropy.table.QTable`
        Table whose columns are named as in ``specs``.
    specs : dict
        Mapping name -> `ColumnSpec`.
    """
    for name in table.colnames:
        spec = specs.get(name)
        if spec is None:
            continue
        col = table[name]
        if hasattr(col, "info"):
            col.info.description = spec.description
    return table


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
     "Velocity relative to the LSR, V (positive towards Galactic rotation)", "F8.2"),
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
ORBIT_COLUMNS = _specs(*_ORBIT, *[
    (f"e_{name}", unit, f"stat.error;{ucd.split(';')[0]}" if name != "ecc" else
     "stat.error;src.orbital.eccentricity",
     f"Uncertainty of {name} (half the 16-84% range of the Monte Carlo orbits)", fmt)
    for name, unit, ucd, _, fmt in _ORBIT])
__all__.append("ORBIT_COLUMNS")
CLUSTER_COLUMNS.update(ORBIT_COLUMNS)
ALL_COLUMNS.update(ORBIT_COLUMNS)
