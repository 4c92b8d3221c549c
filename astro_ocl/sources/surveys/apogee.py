"""APOGEE stars: the OCCAM DR16 member catalogue and allStar files (DR16/DR17).

OCCAM (Donor et al. 2020, AJ 159, 199) lists APOGEE DR16 stars in the fields of
open clusters with its own membership probabilities. Its member table has no
position columns in the equatorial frame, no RV error and no Teff/log g; the
adapter :func:`occam_dr16` makes the decisions explicit:

Positions
    From the ``APOGEE_ID`` 2MASS designation (``2MHHMMSSss+DDMMSSs``: 2MASS
    positions, J2000 equinox and ICRS-aligned, observed 1997-2001, so epoch
    ~J2000). The designation *truncates* the last digit; the adapter adds half a
    unit (0.005 s in RA, 0.05 arcsec in Dec). The catalogue's ``GLON``/``GLAT``
    carry 10 decimals but, converted with astropy's Galactic frame, lie a median
    0.31 arcsec from the Gaia positions of the CG2018 members they match, against
    0.08 arcsec for the designation (the ~2 100 OCCAM stars within 1 arcsec of
    a member, Gaia positions moved to J2000; ``tests/test_surveys.py``): the
    designation is used.
    ``coord.obstime`` = J2000.0 and ``meta["epoch"]`` = ``"J2000.0"``.
RV error
    OCCAM gives ``VHELIO_AVG`` and ``VSCATTER`` (the scatter of the visit RVs, 0 for
    one visit), no ``VERR`` and no ``NVISITS``: the error of the mean cannot be
    computed. ``e_rv`` = sqrt(VSCATTER² + floor²) with ``e_rv_floor`` = 0.1 km/s by
    default: an upper bound of the error of the mean for multi-visit stars (the
    per-visit scatter, not divided by sqrt(n)), and the floor for single visits. A
    binary with a large visit scatter therefore gets a large error and weighs
    little in the Monte Carlo. The column description says so.
Teff, log g
    Absent: NaN (never invented). The FLAG=12 cuts of
    `astro_ocl.steps.quality.parameter_flag` need them, so an OCCAM star never gets
    FLAG=12 from those cuts. The survey's own validation replaces them: OCCAM fills
    ``FE_H`` only where ASPCAP's calibrated [Fe/H] is valid (else -9999.99, -> NaN),
    and the adapter's boolean ``feh_ok`` column says so. A build that wants APOGEE
    [Fe/H] must use ``feh_ok`` in place of the Teff/log g cuts and say so in its
    provenance (the integration in the pipeline is not done here).
Sentinels
    ``VHELIO_AVG`` = 999999 and ``VSCATTER`` = -1 (no RV) -> NaN; ``FE_H``,
    ``FE_H_ERR``, ``CG_PROB`` = -9999.99 -> NaN; each counted in ``meta["sentinels"]``.
Membership
    ``Cluster`` is OCCAM's cluster (CG2018 naming with spaces, e.g. "NGC 2682");
    it is not used for membership, like every survey's cluster column: the
    pipeline matches the stars to Gaia members. ``cg_prob`` keeps OCCAM's
    Cantat-Gaudin probability for checks (it equals CG2018's ``PMemb``).
"""
from pathlib import Path

import astropy.units as u
import numpy as np
from astropy.table import MaskedColumn, QTable

from ... import schema
from ...exceptions import InputDataError, MissingColumnError
from ...utils import data_path
from ..files import to_float
from ._common import finish, flag_bits, ids, mask_values, numeric, radec_coord, read_rows
from .domains import Rule, ValidityDomain

__all__ = ["occam_dr16", "read_occam", "apogee_allstar", "read_apogee_allstar",
           "designation_coord", "APOGEE_EPOCH", "E_RV_FLOOR", "STAR_BAD_BIT", "APOGEE_DOMAIN",
           "STARFLAG_BITS", "ASPCAPFLAG_BITS"]

#: Epoch of the 2MASS positions behind APOGEE_ID and the allStar RA/DEC.
APOGEE_EPOCH = "J2000.0"
#: Default floor of the OCCAM e_rv (see the module notes).
E_RV_FLOOR = 0.1 * u.km / u.s
#: ASPCAPFLAG bit STAR_BAD (ASPCAP parameters unreliable), APOGEE DR16/DR17.
STAR_BAD_BIT = 23
_OCCAM_SENTINELS = (-9999.99, -9999.0, 999999.0)


def designation_coord(apogee_ids, *, source="<table>", column="APOGEE_ID"):
    """Positions from 2MASS designations ``2MHHMMSSss+DDMMSSs`` (J2000, truncated digits).

    Parameters
    ----------
    apogee_ids : sequence of str
    source, column : str
        For the error message.

    Returns
    -------
    ra, dec : `~astropy.units.Quantity`
        Degrees, with half a unit of the truncated last digit added.

    Raises
    ------
    InputDataError
        An identifier that is not a 2MASS designation.
    """
    s = np.char.strip(np.asarray(apogee_ids).astype(str))
    ok = np.char.str_len(s) == 18
    # fixed-width bytes, one row of 18 characters per identifier (vectorised parsing)
    b = np.zeros((len(s), 18), np.uint8)
    if ok.any():
        try:
            raw = s[ok].astype("S18")
        except UnicodeEncodeError:          # a non-ASCII character: not a designation
            raw = np.array([x.encode("ascii", "replace") for x in s[ok]], "S18")
        b[ok] = np.frombuffer(raw.tobytes(), np.uint8).reshape(-1, 18)
    digit_pos = np.r_[2:10, 11:18]
    ok &= (b[:, 0] == ord("2")) & (b[:, 1] == ord("M")) \
        & np.isin(b[:, 10], [ord("+"), ord("-")]) \
        & np.all((b[:, digit_pos] >= ord("0")) & (b[:, digit_pos] <= ord("9")), axis=1)
    if not ok.all():
        i = int(np.flatnonzero(~ok)[0])
        raise InputDataError("not a 2MASS designation (2MHHMMSSss+DDMMSSs)", source=source,
                             column=column, row=i, value=str(s[i]))
    d = b.astype(float) - ord("0")

    def num(a, z):   # the number written in columns a..z-1
        return sum(d[:, k] * 10 ** (z - 1 - k) for k in range(a, z))

    ra = 15.0 * (num(2, 4) + num(4, 6) / 60 + (num(6, 8) + (num(8, 10) + 0.5) / 100) / 3600)
    dec = num(11, 13) + num(13, 15) / 60 + (num(15, 17) + (num(17, 18) + 0.5) / 10) / 3600
    sign = np.where(b[:, 10] == ord("-"), -1.0, 1.0)
    return ra * u.deg, sign * dec * u.deg


def _find(table, *names):
    lower = {c.lower(): c for c in table.colnames}
    for n in names:
        if n.lower() in lower:
            return lower[n.lower()]
    return None


def _require(table, names, source):
    cols = {n: _find(table, n) for n in names}
    missing = [n for n, c in cols.items() if c is None]
    if missing:
        raise MissingColumnError(f"required column(s) {missing} not found in {source}; "
                                 f"columns present: {table.colnames}", source=source)
    return cols


def occam_dr16(table, *, source="<table>", e_rv_floor=E_RV_FLOOR):
    """Adapter: OCCAM DR16 member rows (a chunk) -> the canonical star table.

    Parameters
    ----------
    table : `~astropy.table.Table`
        Rows of ``occam_member-DR16.fits`` (``CLUSTER, APOGEE_ID, VHELIO_AVG,
        VSCATTER, FE_H, FE_H_ERR, CG_PROB`` ...).
    source : str
    e_rv_floor : `~astropy.units.Quantity`
        Added in quadrature to ``VSCATTER`` to make ``e_rv`` (module notes).

    Returns
    -------
    `~astropy.table.QTable`
        One row per input row: ``survey_id`` (APOGEE_ID), ``Cluster`` (OCCAM's),
        ``coord`` (from APOGEE_ID, obstime J2000), ``rv``, ``e_rv``, ``vscatter``,
        ``teff``/``logg`` (NaN: not in OCCAM), ``feh``, ``e_feh``, ``feh_ok``,
        ``cg_prob``, ``survey`` = ``"APOGEE"``; ``meta["sentinels"]``.
    """
    cols = _require(table, ["APOGEE_ID", "VHELIO_AVG", "VSCATTER", "FE_H", "FE_H_ERR"], source)
    floor = u.Quantity(e_rv_floor, u.km / u.s)
    if not floor.value >= 0:
        raise InputDataError("e_rv_floor must be >= 0", source=source, value=floor.value)
    sentinels = {}
    out = QTable()
    out["survey_id"] = np.char.strip(np.asarray(table[cols["APOGEE_ID"]]).astype(str))
    c = _find(table, "CLUSTER")
    if c is not None:
        out["Cluster"] = np.char.strip(np.asarray(table[c]).astype(str))
    ra, dec = designation_coord(out["survey_id"], source=source, column=cols["APOGEE_ID"])
    out["coord"] = radec_coord(ra, dec, obstime=APOGEE_EPOCH, source=source,
                               ra_col=cols["APOGEE_ID"], dec_col=cols["APOGEE_ID"])
    rv = numeric(table, cols["VHELIO_AVG"], "rv", source=source, sentinels=_OCCAM_SENTINELS,
                 counts=sentinels)
    vs = to_float(table[cols["VSCATTER"]], source=source, column=cols["VSCATTER"]) \
        * (u.km / u.s)
    vs = mask_values(vs, vs.value < 0, "vscatter", sentinels)     # -1: no RV
    out["rv"] = rv
    out["e_rv"] = np.hypot(vs, floor)
    out["e_rv"].info.description = (
        f"RV uncertainty: sqrt(VSCATTER^2 + {floor.value:g}^2) km/s; VSCATTER is the "
        "visit scatter (OCCAM gives no VERR/NVISITS): an upper bound of the error of "
        "the mean; NaN without RV")
    out["vscatter"] = vs
    out["vscatter"].info.description = "APOGEE VSCATTER: scatter of the visit RVs (km/s)"
    nan = np.full(len(table), np.nan)
    out["teff"] = nan * u.K
    out["e_teff"] = nan * u.K
    out["logg"] = nan * schema.DEX_G
    out["e_logg"] = nan * u.dex
    out["feh"] = numeric(table, cols["FE_H"], "feh", source=source, sentinels=_OCCAM_SENTINELS,
                         counts=sentinels)
    out["e_feh"] = numeric(table, cols["FE_H_ERR"], "e_feh", source=source,
                           sentinels=_OCCAM_SENTINELS, counts=sentinels, error=True)
    out["feh_ok"] = np.isfinite(out["feh"].value) & np.isfinite(out["e_feh"].value)
    c = _find(table, "CG_PROB")
    if c is not None:
        cg = to_float(table[c], source=source, column=c)
        cg = mask_values(cg, np.isin(cg, _OCCAM_SENTINELS), "cg_prob", sentinels)
        out["cg_prob"] = cg
        out["cg_prob"].info.description = ("OCCAM CG_PROB: Cantat-Gaudin et al. 2018 "
                                           "membership probability (NaN: not a CG member)")
    res = finish(out, survey="APOGEE", data_release="DR16 (OCCAM, Donor et al. 2020)",
                 source=source, sentinels=sentinels, epoch=APOGEE_EPOCH,
                 notes=["teff/logg not in OCCAM: FLAG=12 cuts cannot apply; use feh_ok",
                        f"e_rv = hypot(VSCATTER, {floor})"])
    res["feh_ok"].info.description = ("[Fe/H] validated by the survey (OCCAM FE_H present); "
                                      "replaces the Teff/logg FLAG=12 cuts for these stars")
    return res


def read_occam(path=None, *, format=None, table=None, e_rv_floor=E_RV_FLOOR):
    """Read the OCCAM DR16 member table (APOGEE stars) into the canonical star table.

    Parameters
    ----------
    path : str or `~pathlib.Path`, optional
        ``occam_member-DR16.fits`` or a copy; default the embedded copy (all
        10 063 rows, see ``astro_ocl/data/manifest.json``).
    format : str, optional
    table : `~astropy.table.Table`, optional
    e_rv_floor : `~astropy.units.Quantity`

    Returns
    -------
    `~astropy.table.QTable`
        See :func:`occam_dr16`.
    """
    if table is None:
        path = Path(path) if path is not None else data_path("occam_dr16_members.ecsv.gz")
        table = read_rows(path, format=format)
    source = str(path) if path is not None else "<table>"
    return occam_dr16(table, source=source, e_rv_floor=e_rv_floor)


def apogee_allstar(table, *, source="<table>", star_bad_bit=STAR_BAD_BIT, data_release=None):
    """Adapter: APOGEE allStar rows (DR16/DR17, a chunk) -> the canonical star table.

    Parameters
    ----------
    table : `~astropy.table.Table`
        allStar columns: ``APOGEE_ID, RA, DEC, VHELIO_AVG, VERR, VSCATTER, TEFF,
        TEFF_ERR, LOGG, LOGG_ERR, FE_H, FE_H_ERR, SNR, ASPCAPFLAG`` and
        ``GAIAEDR3_SOURCE_ID`` (DR17, Gaia (E)DR3) or ``GAIA_SOURCE_ID`` (DR16,
        Gaia DR2).
    source : str
    star_bad_bit : int or None
        ASPCAPFLAG bit that invalidates Teff, log g and [Fe/H] (STAR_BAD, 23);
        None: no ASPCAPFLAG rule.
    data_release : str, optional
        Default: "DR17" when ``GAIAEDR3_SOURCE_ID`` is present, else "DR16".

    Returns
    -------
    `~astropy.table.QTable`
        ``survey`` = ``"APOGEE"``, ``survey_id``, ``source_id`` (DR16) or
        ``dr3_source_id`` (DR17), ``coord`` (2MASS RA/DEC, obstime J2000), ``rv``
        (VHELIO_AVG), ``e_rv`` (VERR: the error of the mean RV), ``teff, logg,
        feh`` and errors, ``snr`` (SNR); -9999 sentinels and VHELIO_AVG 999999
        -> NaN (``meta["sentinels"]``), STAR_BAD -> teff/logg/feh NaN
        (``meta["flagged"]``). Here the FLAG=12 Teff/log g cuts apply as for
        LAMOST.
    """
    cols = _require(table, ["APOGEE_ID", "RA", "DEC", "VHELIO_AVG", "VERR", "TEFF", "LOGG",
                            "FE_H"], source)
    sentinels, flagged = {}, {}
    out = QTable()
    out["survey_id"] = np.char.strip(np.asarray(table[cols["APOGEE_ID"]]).astype(str))
    g3 = _find(table, "GAIAEDR3_SOURCE_ID")
    g2 = _find(table, "GAIA_SOURCE_ID")
    if g3 is not None:
        out["dr3_source_id"] = ids(table, g3, source=source)
    elif g2 is not None:
        out["source_id"] = ids(table, g2, source=source)
    if data_release is None:
        data_release = "DR17" if g3 is not None else "DR16"
    out["coord"] = radec_coord(
        numeric(table, cols["RA"], "ra", source=source), numeric(table, cols["DEC"], "dec",
                                                                 source=source),
        obstime=APOGEE_EPOCH, source=source, ra_col=cols["RA"], dec_col=cols["DEC"])
    for name, col in (("rv", "VHELIO_AVG"), ("e_rv", "VERR"), ("teff", "TEFF"),
                      ("e_teff", "TEFF_ERR"), ("logg", "LOGG"), ("e_logg", "LOGG_ERR"),
                      ("feh", "FE_H"), ("e_feh", "FE_H_ERR"), ("snr", "SNR")):
        c = cols.get(col) or _find(table, col)
        out[name] = numeric(table, c, name, source=source, sentinels=_OCCAM_SENTINELS,
                            counts=sentinels, error=name.startswith("e_"))
    c = _find(table, "VSCATTER")
    if c is not None:
        vs = to_float(table[c], source=source, column=c) * (u.km / u.s)
        out["vscatter"] = mask_values(vs, vs.value < 0, "vscatter", sentinels)
    for name, col in (("starflag", "STARFLAG"), ("aspcapflag", "ASPCAPFLAG"),
                      ("fe_h_flag", "FE_H_FLAG")):
        c = _find(table, col)
        if c is not None:   # the survey's own flags, for the validity domain (APOGEE_DOMAIN)
            out[name] = _bitmask(table, c, source)
    c = _find(table, "ASPCAPFLAG")
    if c is not None and star_bad_bit is not None:
        bad = flag_bits(table, c, [star_bad_bit])
        for name in ("teff", "e_teff", "logg", "e_logg", "feh", "e_feh"):
            out[name] = mask_values(out[name], bad & np.isfinite(out[name].value),
                                    f"ASPCAPFLAG STAR_BAD: {name}", flagged)
    return finish(out, survey="APOGEE", data_release=data_release, source=source,
                  sentinels=sentinels, flagged=flagged, epoch=APOGEE_EPOCH)


def _bitmask(table, colname, source):
    """An integer bitmask column as masked int64 (DR17's 64-bit ASPCAPFLAG included)."""
    col = np.ma.asarray(table[colname])
    if col.dtype.kind not in "iub":
        raise InputDataError("not an integer bitmask", source=source, column=colname)
    data = np.asarray(np.ma.getdata(col))
    if data.dtype.kind == "u" and data.dtype.itemsize == 8:
        data = data.view(np.int64)     # the bit pattern kept (bit 63 is not used)
    return MaskedColumn(data.astype(np.int64), mask=np.ma.getmaskarray(col))


def read_apogee_allstar(path, *, format=None, table=None, **kw):
    """Read an APOGEE allStar table whole (big files: stream them, see `.read_survey_members`).

    Parameters
    ----------
    path : str or `~pathlib.Path`
    format : str, optional
    table : `~astropy.table.Table`, optional
    **kw
        Passed to :func:`apogee_allstar`.

    Returns
    -------
    `~astropy.table.QTable`
    """
    if table is None:
        if path is None:
            raise InputDataError("no embedded APOGEE allStar sample: pass a file path")
        table = read_rows(Path(path), format=format)
    return apogee_allstar(table, source=str(path) if path is not None else "<table>", **kw)


# --- validity domain (applied by astro_ocl.steps.validity) ----------------------------------
_BITMASKS = ("SDSS DR16/DR17 APOGEE bitmasks (sdss.org/dr17/irspec/apogee-bitmasks); "
             "Jonsson et al. 2020, AJ 160, 120; Abdurro'uf et al. 2022, ApJS 259, 35")
#: STARFLAG bits (APOGEE DR16/DR17) that put a star's RV outside the domain:
#: BAD_RV_COMBINATION (18: RVs from the synthetic and the combined template differ by
#: ~10 km/s; the pipeline recommends STAR_BAD), MULTIPLE_SUSPECT (21: several components in
#: the cross-correlation, a composite spectrum), RV_FAIL (22).
STARFLAG_BITS = {"BAD_RV_COMBINATION": 18, "MULTIPLE_SUSPECT": 21, "RV_FAIL": 22}
#: ASPCAPFLAG bits (DR16/DR17) that put [Fe/H] outside the domain: TEFF_BAD (16),
#: LOGG_BAD (17), M_H_BAD (19), STAR_BAD (23: any parameter bad, grid edges included),
#: NO_ASPCAP_RESULT (31), NO_GRID (33), FERRE_FAIL (36), MULTIPLE_SUSPECT (41).
ASPCAPFLAG_BITS = {"TEFF_BAD": 16, "LOGG_BAD": 17, "M_H_BAD": 19, "STAR_BAD": 23,
                   "NO_ASPCAP_RESULT": 31, "NO_GRID": 33, "FERRE_FAIL": 36,
                   "MULTIPLE_SUSPECT": 41}

#: APOGEE domain, for both adapters (the ``survey`` column is "APOGEE" for both): a rule
#: on a column one adapter does not give is not applied to its rows.
#: allStar rows: the STARFLAG and ASPCAPFLAG bits above, and FE_H_FLAG == 0 for [Fe/H]
#: (DR16/DR17 per-element flag). OCCAM rows: [Fe/H] only where OCCAM gives it
#: (``feh_ok``: ASPCAP's calibrated [Fe/H] present). ASPCAP flags its own grid edges
#: (GRIDEDGE_BAD in PARAMFLAG -> the *_BAD bits, STAR_BAD): no separate pile-up rule.
APOGEE_DOMAIN = ValidityDomain(
    "APOGEE",
    rules=(Rule("bits", "starflag", tuple(STARFLAG_BITS.values()), applies=("rv",),
                reason="APOGEE STARFLAG BAD_RV_COMBINATION/MULTIPLE_SUSPECT/RV_FAIL",
                reference=_BITMASKS),
           Rule("bits", "starflag", (STARFLAG_BITS["BAD_RV_COMBINATION"],), applies=("feh",),
                reason="APOGEE STARFLAG BAD_RV_COMBINATION (the pipeline recommends STAR_BAD)",
                reference=_BITMASKS),
           Rule("bits", "aspcapflag", tuple(ASPCAPFLAG_BITS.values()), applies=("feh",),
                reason="APOGEE ASPCAPFLAG " + "/".join(ASPCAPFLAG_BITS), reference=_BITMASKS),
           Rule("nonzero", "fe_h_flag", applies=("feh",), reason="APOGEE FE_H_FLAG != 0",
                reference=_BITMASKS),
           Rule("required_true", "feh_ok", applies=("feh",),
                reason="OCCAM gives no [Fe/H] for this star (ASPCAP [Fe/H] not valid)",
                reference="Donor et al. 2020, AJ 159, 199 (OCCAM DR16)")),
    references=(_BITMASKS, "Donor et al. 2020, AJ 159, 199"),
    notes=("STARFLAG warnings (SUSPECT_RV_COMBINATION 16, SUSPECT_BROAD_LINES 17, "
           "RV_SUSPECT 20) and ASPCAPFLAG *_WARN bits do not put a star outside the domain",
           "a large VSCATTER (a binary) is not a domain rule: the cluster statistics weigh it",
           "OCCAM rows carry no STARFLAG/ASPCAPFLAG: OCCAM's own [Fe/H] validation (feh_ok) "
           "is the rule for them"))
