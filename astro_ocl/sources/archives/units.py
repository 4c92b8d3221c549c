"""Unit normalisation of archive results, in one place.

VizieR (CDS) and some TAP services write unit strings that astropy does not
parse, or parses into something unhelpful. :data:`UNIT_MAP` maps each such
string to the unit astro_ocl uses; :func:`normalise_unit` applies it and
:func:`normalise_units` does it for every column of a table.
"""
import warnings

import astropy.units as u

__all__ = ["UNIT_MAP", "normalise_unit", "normalise_units"]

#: Unit strings seen in VizieR/CDS and TAP results -> astropy unit (None: unitless).
#: Each entry is tested in tests/archives/test_units.py.
UNIT_MAP = {
    "---": None,               # CDS "no unit"
    "-": None,
    "": None,
    "[-]": u.dex,              # CDS: log of a dimensionless quantity ([Fe/H], [M/H])
    "[cm/s2]": u.dex(u.cm / u.s ** 2),   # log g
    "[cm.s-2]": u.dex(u.cm / u.s ** 2),
    "log(cm.s**-2)": u.dex(u.cm / u.s ** 2),   # Gaia DR3 logg_gspphot
    "[Sun]": u.dex,            # CDS: log in solar units (e.g. [M/H] relative to the Sun)
    "[yr]": u.dex(u.yr),       # log age
    "log(yr)": u.dex(u.yr),
    "[K]": u.dex(u.K),
    "'mag'": u.mag,            # quoted magnitudes in some VOTables
    "mag": u.mag,
    "km.s**-1": u.km / u.s,    # VOUnit spellings (Gaia archive)
    "km/s": u.km / u.s,
    "mas.yr**-1": u.mas / u.yr,
    "mas/yr": u.mas / u.yr,
    "mas/a": u.mas / u.yr,     # "a" (annum) in some CDS tables
    "electron.s**-1": u.electron / u.s,   # Gaia fluxes
    "e-/s": u.electron / u.s,
    "Angstrom": u.AA,
    "0.1nm": 0.1 * u.nm,       # CDS scaled unit
    "%": u.percent,
    '"h:m:s"': None,           # sexagesimal string columns
    '"d:m:s"': None,
    '"Y:M:D"': None,
    "Julian Date": u.day,      # Gaia epoch photometry
    "dex": u.dex,
    "'dex'": u.dex,            # Gaia DR3 mh_gspphot: quoted (custom) unit in VOUnit
    "'electron'.s**-1": u.electron / u.s,   # Gaia DR3 fluxes
    "Lsun": u.solLum,          # VizieR
    "Msun": u.solMass,
    "Rsun": u.solRad,
}


def normalise_unit(unit):
    """The astropy unit for a unit string or unit of a result column.

    Parameters
    ----------
    unit : str, `~astropy.units.UnitBase` or None

    Returns
    -------
    `~astropy.units.UnitBase` or None
        None for unitless columns and for strings nobody can parse (logged
        by the caller).
    """
    if unit is None:
        return None
    key = unit.name if isinstance(unit, u.UnrecognizedUnit) else (
        unit if isinstance(unit, str) else None)
    if key is not None:
        key = key.strip()
        if key in UNIT_MAP:
            return UNIT_MAP[key]
        for fmt in ("vounit", "cds", "generic"):
            try:
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore", u.UnitsWarning)
                    return u.Unit(key, format=fmt)
            except ValueError:
                continue
        return None
    if unit == u.dimensionless_unscaled:
        return None
    # VOUnit "custom" units ('dex', 'electron') parse into new named units that
    # are not astropy's: map them by name
    name = getattr(unit, "name", None)
    if isinstance(name, str) and name in UNIT_MAP and not isinstance(unit, u.FunctionUnitBase):
        return UNIT_MAP[name]
    if isinstance(unit, u.CompositeUnit) and not isinstance(unit, u.FunctionUnitBase):
        return _known_bases(unit)
    return unit


def _known_bases(unit):
    """Rebuild a composite unit with astropy's own units for same-named custom bases."""
    registry = u.get_current_unit_registry().registry
    out, changed = u.Unit(unit.scale), False
    for base, power in zip(unit.bases, unit.powers):
        known = registry.get(base.name)
        if known is None or known is base:
            mapped = UNIT_MAP.get(base.name)
            if known is None and mapped is not None:
                known = mapped
            else:
                known = base
        changed |= known is not base
        out = out * known ** power
    return out if changed else unit


def normalise_units(table):
    """Set every column's unit through :func:`normalise_unit` (in place).

    Parameters
    ----------
    table : `~astropy.table.Table`

    Returns
    -------
    list of (str, str)
        Columns whose unit string could not be understood (name, unit string);
        their unit is removed.
    """
    unknown = []
    for col in table.itercols():
        unit = getattr(col, "unit", None)
        if unit is None:
            continue
        new = normalise_unit(unit)
        if new is None and not (isinstance(unit, str) and unit.strip() in UNIT_MAP) and \
                not (isinstance(unit, u.UnrecognizedUnit) and unit.name.strip() in UNIT_MAP) and \
                unit != u.dimensionless_unscaled:
            unknown.append((col.info.name, str(unit)))
        if new is not unit and new != unit or type(new) is not type(unit):
            col.unit = new
    return unknown
