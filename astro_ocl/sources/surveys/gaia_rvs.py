"""Gaia DR3 RVS radial velocities (and GSP-Spec parameters) as the canonical star table.

Columns: ``gaia_source`` ``source_id`` (a Gaia **DR3** id -> ``dr3_source_id``),
``ra, dec`` (ICRS, epoch J2016.0), ``radial_velocity, radial_velocity_error``,
``rv_expected_sig_to_noise`` (-> ``snr``); from ``astrophysical_parameters``
(joined by the user's query, optional) ``teff_gspspec, logg_gspspec,
mh_gspspec, fem_gspspec`` with their ``_lower``/``_upper`` percentiles.

Rules:

* no ``radial_velocity`` (null: no RVS spectrum) -> NaN, counted;
* [Fe/H] = ``mh_gspspec + fem_gspspec`` (GSP-Spec gives [M/H] and [Fe/M]); with no
  ``fem_gspspec`` the [Fe/H] is NaN, never [M/H] in its place;
* errors of the GSP-Spec values: half the 16-84 % range (``(upper - lower) / 2``),
  [Fe/H]'s the two in quadrature;
* not applied (documented choice, left to the user): the GSP-Spec ``flags_gspspec``
  string and the Katz et al. 2023 corrections of faint-star RVs; GSP-Phot
  parameters (``teff_gspphot`` ...) are photometric and not used.

The Gaia DR3 ids do not join the CG2018 (DR2) members directly: the cross-match
uses positions (or a DR2-DR3 neighbourhood table).
"""
from pathlib import Path

import astropy.units as u
import numpy as np
from astropy.table import QTable

from ... import schema
from ...exceptions import InputDataError, MissingColumnError
from ..files import to_float
from ._common import finish, ids, mask_values, numeric, radec_coord, read_rows
from .domains import Rule, ValidityDomain

__all__ = ["gaia_rvs", "read_gaia_rvs", "GAIA_DR3_EPOCH", "GAIA_RVS_DOMAIN"]

GAIA_DR3_EPOCH = "J2016.0"


def _find(table, *names):
    lower = {c.lower(): c for c in table.colnames}
    return next((lower[n.lower()] for n in names if n.lower() in lower), None)


def _half_range(table, name, source):
    lo, hi = _find(table, f"{name}_lower"), _find(table, f"{name}_upper")
    if lo is None or hi is None:
        return np.full(len(table), np.nan)
    return (to_float(table[hi], source=source, column=hi)
            - to_float(table[lo], source=source, column=lo)) / 2


def gaia_rvs(table, *, source="<table>"):
    """Adapter: Gaia DR3 rows (a chunk) -> the canonical star table.

    Parameters
    ----------
    table : `~astropy.table.Table`
        ``gaia_source`` rows (archive VOTable/ECSV/CSV, any column case), with
        optional GSP-Spec columns.
    source : str

    Returns
    -------
    `~astropy.table.QTable`
        ``survey`` = ``"Gaia-RVS"``, ``dr3_source_id``, ``coord`` (obstime
        J2016.0), ``rv, e_rv`` [km/s], ``snr``, ``teff, e_teff, logg, e_logg,
        feh, e_feh`` (GSP-Spec; NaN without them); ``meta["sentinels"]["rv"]``
        counts the rows without an RVS velocity.
    """
    names = ("source_id", "ra", "dec", "radial_velocity", "radial_velocity_error")
    cols = {k: _find(table, k) for k in names}
    missing = [k for k, v in cols.items() if v is None]
    if missing:
        raise MissingColumnError(f"required Gaia column(s) {missing} not found in {source}; "
                                 f"columns present: {table.colnames}", source=source)
    sentinels = {}
    out = QTable()
    out["dr3_source_id"] = ids(table, cols["source_id"], source=source)
    out["coord"] = radec_coord(numeric(table, cols["ra"], "ra", source=source),
                               numeric(table, cols["dec"], "dec", source=source),
                               obstime=GAIA_DR3_EPOCH, source=source)
    rv = numeric(table, cols["radial_velocity"], "rv", source=source)
    e_rv = numeric(table, cols["radial_velocity_error"], "e_rv", source=source, error=True)
    no_rv = ~np.isfinite(rv.value)
    if no_rv.any():
        sentinels["rv"] = int(no_rv.sum())    # null: no RVS velocity for this source
    out["rv"], out["e_rv"] = rv, mask_values(e_rv, no_rv & np.isfinite(e_rv.value), "e_rv", {})
    out["snr"] = numeric(table, _find(table, "rv_expected_sig_to_noise"), "snr", source=source)
    # the RV pipeline's own information, for the validity domain (GAIA_RVS_DOMAIN)
    c = _find(table, "rv_template_teff")
    if c is not None:
        out["rv_template_teff"] = to_float(table[c], source=source, column=c) * u.K
    c = _find(table, "rv_method_used")
    if c is not None:
        out["rv_method_used"] = to_float(table[c], source=source, column=c)
    c = _find(table, "grvs_mag")
    if c is not None:
        out["grvs_mag"] = to_float(table[c], source=source, column=c) * u.mag
    for name, col, unit in (("teff", "teff_gspspec", u.K), ("logg", "logg_gspspec",
                                                            schema.DEX_G)):
        c = _find(table, col)
        out[name] = numeric(table, c, name, source=source)
        out[f"e_{name}"] = _half_range(table, col, source) * (u.K if name == "teff" else u.dex)
    mh, fem = _find(table, "mh_gspspec"), _find(table, "fem_gspspec")
    if mh is not None and fem is not None:
        out["feh"] = (to_float(table[mh], source=source, column=mh)
                      + to_float(table[fem], source=source, column=fem)) * u.dex
        out["e_feh"] = np.hypot(_half_range(table, "mh_gspspec", source),
                                _half_range(table, "fem_gspspec", source)) * u.dex
    else:
        out["feh"] = np.full(len(table), np.nan) * u.dex
        out["e_feh"] = np.full(len(table), np.nan) * u.dex
    return finish(out, survey="Gaia-RVS", data_release="DR3", source=source,
                  sentinels=sentinels, epoch=GAIA_DR3_EPOCH)


def read_gaia_rvs(path, *, format=None, table=None):
    """Read a Gaia DR3 table with RVS velocities whole (big files: stream them).

    Parameters
    ----------
    path : str or `~pathlib.Path`
    format : str, optional
    table : `~astropy.table.Table`, optional
    """
    if table is None:
        if path is None:
            raise InputDataError("no embedded Gaia RVS sample: pass a file path")
        table = read_rows(Path(path), format=format)
    return gaia_rvs(table, source=str(path) if path is not None else "<table>")


# --- validity domain (applied by astro_ocl.steps.validity) ----------------------------------
_KATZ = ("Katz et al. 2023, A&A 674, A5: DR3 RVs cover template Teff 3100-14500 K for "
         "G_RVS <= 12 and 3100-6750 K for fainter stars; a zero-point trend with G_RVS from "
         "11 mag (0.4 km/s at 14 mag, correction formula given)")
_BLOMME = ("Blomme et al. 2023, A&A 674, A7: hot-star RVs (rv_template_teff >= 7000 K) carry "
           "template-mismatch offsets and larger errors; corrections given there")
#: Gaia DR3 RVS domain. RV: not a hot-star RV (rv_template_teff >= 7000 K; their offsets
#: are not corrected by the adapter). [Fe/H]: outside by default, because the adapter does
#: not read the GSP-Spec quality flags (flags_gspspec) that GSP-Spec values need
#: (Recio-Blanco et al. 2023, A&A 674, A29); a build that applies them passes its own
#: domain to `astro_ocl.steps.validity.survey_validity`.
GAIA_RVS_DOMAIN = ValidityDomain(
    "Gaia-RVS",
    rules=(Rule("below", "rv_template_teff", 7000 * u.K, applies=("rv",),
                reason="Gaia hot-star RV (rv_template_teff >= 7000 K), offsets not corrected",
                reference=_BLOMME),
           Rule("never", None, applies=("feh",),
                reason="Gaia GSP-Spec [Fe/H] without its flags_gspspec quality flags",
                reference="Recio-Blanco et al. 2023, A&A 674, A29")),
    references=(_KATZ, _BLOMME, "Recio-Blanco et al. 2023, A&A 674, A29"),
    notes=("rv_expected_sig_to_noise is carried as snr; published DR3 RVs passed the DR3 "
           "filters (Gaia DR3 documentation, Sect. 6.5.2) and no further threshold is "
           "documented: none is applied",
           "faint-star RVs (rv_method_used = 2) keep their documented zero-point trend "
           "(<= 0.4 km/s): inside the domain, not corrected",
           "a table without rv_template_teff cannot be judged by the hot-star rule"))
