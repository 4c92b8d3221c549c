"""GALAH DR3 and DR4 stellar parameters as the canonical star table.

Quality rules (GALAH's own recommendation, Buder et al. 2021 and the DR3/DR4
documentation): stellar parameters, including the radial velocity, are used only
where ``flag_sp == 0``; [Fe/H] only where also ``flag_fe_h == 0``. The adapter
turns the values those flags invalidate into NaN, counted per rule in
``meta["flagged"]``; no row is dropped.

DR3 (``GALAH_DR3_main_allstar``): ``sobject_id, dr2_source_id, dr3_source_id,
ra_dr2, dec_dr2`` (Gaia DR2 positions, J2015.5), ``rv_galah, e_rv_galah, teff,
e_teff, logg, e_logg, fe_h, e_fe_h, flag_sp, flag_fe_h, snr_c3_iraf``.
DR4 (``galah_dr4_allstar``): ``sobject_id, gaiadr3_source_id, ra, dec`` (Gaia DR3
positions propagated by GALAH; epoch not recorded: ``coord`` without obstime),
``rv_comp_1, e_rv_comp_1`` (``rv_gaia_dr3`` is Gaia's, not used), ``teff ...
fe_h, e_fe_h, flag_sp, flag_fe_h, snr_px_ccd3``.
No GALAH sample is stored here: the adapter is tested on a table with these
column names only (see the test module).
"""
from pathlib import Path

import numpy as np
from astropy.table import QTable

from ...exceptions import InputDataError, MissingColumnError
from ._common import finish, ids, mask_values, numeric, radec_coord, read_rows
from .domains import Rule, ValidityDomain

__all__ = ["galah", "read_galah", "GALAH_DOMAIN"]

_SENTINELS = (-9999.0, -9999.99)


def _find(table, *names):
    lower = {c.lower(): c for c in table.colnames}
    return next((lower[n.lower()] for n in names if n.lower() in lower), None)


def galah(table, *, source="<table>", data_release=None):
    """Adapter: GALAH DR3/DR4 rows (a chunk) -> the canonical star table.

    Parameters
    ----------
    table : `~astropy.table.Table`
    source : str
    data_release : str, optional
        "DR3" or "DR4"; default from the columns (``rv_galah`` -> DR3,
        ``rv_comp_1`` -> DR4).

    Returns
    -------
    `~astropy.table.QTable`
        ``survey`` = ``"GALAH"``, ``survey_id`` (sobject_id), ``source_id`` (DR2,
        DR3 only) and ``dr3_source_id``, ``coord``, ``rv, e_rv, teff, e_teff,
        logg, e_logg, feh, e_feh, snr``.
    """
    rv_c = _find(table, "rv_galah", "rv_comp_1")
    if data_release is None:
        data_release = "DR3" if rv_c is not None and rv_c.lower() == "rv_galah" else "DR4"
    e_rv_c = _find(table, "e_rv_galah", "e_rv_comp_1")
    ra_c, dec_c = _find(table, "ra_dr2", "ra"), _find(table, "dec_dr2", "dec")
    required = {"sobject_id": _find(table, "sobject_id"), "rv_galah/rv_comp_1": rv_c,
                "e_rv_galah/e_rv_comp_1": e_rv_c, "ra": ra_c, "dec": dec_c,
                "teff": _find(table, "teff"), "logg": _find(table, "logg"),
                "fe_h": _find(table, "fe_h"), "flag_sp": _find(table, "flag_sp")}
    missing = [k for k, v in required.items() if v is None]
    if missing:
        raise MissingColumnError(f"required GALAH column(s) {missing} not found in {source}; "
                                 f"columns present: {table.colnames}", source=source)
    sentinels, flagged = {}, {}
    out = QTable()
    out["survey_id"] = np.asarray(table[required["sobject_id"]]).astype(str)
    c = _find(table, "dr2_source_id")
    if c is not None:
        out["source_id"] = ids(table, c, source=source)
    c = _find(table, "dr3_source_id", "gaiadr3_source_id")
    if c is not None:
        out["dr3_source_id"] = ids(table, c, source=source)
    epoch = "J2015.5" if ra_c.lower() == "ra_dr2" else None
    out["coord"] = radec_coord(numeric(table, ra_c, "ra", source=source),
                               numeric(table, dec_c, "dec", source=source), obstime=epoch,
                               source=source, ra_col=ra_c, dec_col=dec_c)
    for name, col in (("rv", rv_c), ("e_rv", e_rv_c), ("teff", required["teff"]),
                      ("e_teff", _find(table, "e_teff")), ("logg", required["logg"]),
                      ("e_logg", _find(table, "e_logg")), ("feh", required["fe_h"]),
                      ("e_feh", _find(table, "e_fe_h")),
                      ("snr", _find(table, "snr_c3_iraf", "snr_px_ccd3"))):
        out[name] = numeric(table, col, name, source=source, sentinels=_SENTINELS,
                            counts=sentinels, error=name.startswith("e_"))
    flag_sp = np.asarray(np.ma.filled(np.ma.asarray(table[required["flag_sp"]]), 1))
    try:
        bad_sp = flag_sp.astype(np.int64) != 0
    except (TypeError, ValueError):
        raise InputDataError("flag_sp is not an integer bitmask", source=source,
                             column=required["flag_sp"]) from None
    for name in ("rv", "e_rv", "teff", "e_teff", "logg", "e_logg", "feh", "e_feh"):
        out[name] = mask_values(out[name], bad_sp & np.isfinite(out[name].value),
                                f"flag_sp != 0: {name}", flagged)
    out["flag_sp"] = flag_sp.astype(np.int64)        # kept for the validity domain
    c = _find(table, "flag_fe_h")
    if c is not None:
        out["flag_fe_h"] = np.asarray(np.ma.filled(np.ma.asarray(table[c]), 1)).astype(np.int64)
        bad_fe = out["flag_fe_h"] != 0
        for name in ("feh", "e_feh"):
            out[name] = mask_values(out[name], bad_fe & np.isfinite(out[name].value),
                                    f"flag_fe_h != 0: {name}", flagged)
    return finish(out, survey="GALAH", data_release=data_release, source=source,
                  sentinels=sentinels, flagged=flagged, epoch=epoch)


def read_galah(path, *, format=None, table=None, **kw):
    """Read a GALAH DR3/DR4 allstar table whole (big files: stream them).

    Parameters
    ----------
    path : str or `~pathlib.Path`
    format : str, optional
    table : `~astropy.table.Table`, optional
    **kw
        Passed to :func:`galah`.
    """
    if table is None:
        if path is None:
            raise InputDataError("no embedded GALAH sample: pass a file path")
        table = read_rows(Path(path), format=format)
    return galah(table, source=str(path) if path is not None else "<table>", **kw)


# --- validity domain (applied by astro_ocl.steps.validity) ----------------------------------
_GALAH_DOC = ("Buder et al. 2021, MNRAS 506, 150 (GALAH DR3) and the GALAH DR3/DR4 "
              "recommendations: flag_sp == 0 for the stellar parameters, flag_fe_h == 0 for "
              "[Fe/H]")
#: GALAH domain: flag_sp == 0 for the RV and the parameters, flag_fe_h == 0 for [Fe/H]. The
#: adapter already sets the values these flags invalidate to NaN; the domain gives the stars
#: their reason.
GALAH_DOMAIN = ValidityDomain(
    "GALAH",
    rules=(Rule("nonzero", "flag_sp", applies=("rv", "feh"), reason="GALAH flag_sp != 0",
                reference=_GALAH_DOC),
           Rule("nonzero", "flag_fe_h", applies=("feh",), reason="GALAH flag_fe_h != 0",
                reference=_GALAH_DOC)),
    references=(_GALAH_DOC,),
    notes=("no S/N threshold: GALAH's S/N recommendation differs between DR3 (snr_c3_iraf) "
           "and DR4 (snr_px_ccd3) and the release is not in each row",))
