"""LAMOST LRS and MRS stellar parameters as the canonical star table.

:func:`read_lamost` reads the embedded LRS sample, a LAMOST catalogue file (FITS/CSV
as the LAMOST site distributes it) or a VizieR LAMOST table; :func:`read_lamost_mrs`
the embedded MRS sample. :func:`lamost_lrs` and :func:`lamost_mrs` are the adapters
(pure functions of a table chunk). LAMOST distributes its catalogues (DR8 and
later) as files of several GB: `astro_ocl.sources.surveys.read_lamost_members`
streams such a file chunk by chunk and keeps the rows of the wanted stars, by Gaia
``source_id`` when the file has it, else the rows *near* the
members, so memory use is one chunk plus the kept rows. A source never
cross-matches: rows without a Gaia id are returned as plain stars and
`astro_ocl.steps.crossmatch.match_stars` matches them (epoch propagation, every
Gaia source inside the radius, one star per spectrum).
"""
from pathlib import Path

import astropy.units as u
import numpy as np
from astropy.coordinates import SkyCoord
from astropy.table import QTable

from ... import schema
from ...exceptions import InputDataError, MissingColumnError
from ...utils import data_path
from ..files import check_errors, quantity_column, read_table_file, to_int
from ._common import finish, mask_values
from .domains import GridEdge, HotStarLimit, Rule, ValidityDomain

__all__ = ["read_lamost", "read_lamost_mrs", "lamost_lrs", "lamost_mrs", "LAMOST_SENTINEL",
           "LRS_DOMAIN", "MRS_DOMAIN"]

REQUIRED_STAR = ["rv", "e_rv", "teff", "logg", "feh"]
ERROR_COLUMNS = {"e_rv", "e_teff", "e_logg", "e_feh", "e_parallax"}
#: LAMOST catalogues write -9999 where the pipeline (LASP) gave no value.
LAMOST_SENTINEL = -9999.0
#: The LAMOST MRS sample writes rv_err = 9999 where it has no RV error.
MRS_RV_ERR_SENTINEL = 9999.0
_SENTINEL_COLUMNS = ("rv", "e_rv", "teff", "e_teff", "logg", "e_logg", "feh", "e_feh", "snrg")


def read_lamost(path=None, *, format=None, table=None, data_release=None):
    """Read LAMOST-like per-star parameters into the canonical star table.

    Accepts the embedded sample, a LAMOST catalogue file as the LAMOST site
    distributes it (FITS or CSV with ``rv, rv_err, teff, ..., gaia_source_id``),
    or a VizieR LAMOST table (``HRV, e_HRV, Teff, ...``): columns are found
    through the aliases of `astro_ocl.schema.STARS`.

    Parameters
    ----------
    path : str or `~pathlib.Path`, optional
        Input file; default the embedded sample (691 LAMOST LRS stars of 15
        clusters, see ``astro_ocl/data/manifest.json``).
    format : str, optional
        astropy format of ``path``.
    table : `~astropy.table.Table`, optional
        An in-memory table instead of a file (``path`` is then only a label).
    data_release : str, optional
        LAMOST data release of the input, recorded in ``meta["data_release"]``
        (the embedded sample does not state it).

    Returns
    -------
    `~astropy.table.QTable`
        Columns ``source_id`` (Gaia DR2, int64, masked where a row has none;
        absent when the input has no Gaia id), ``coord``
        (`~astropy.coordinates.SkyCoord`, ICRS), ``rv, e_rv``
        [km/s], ``teff, e_teff`` [K], ``logg`` [dex(cm/s2)], ``e_logg``,
        ``feh, e_feh`` [dex] and whatever optional columns are present,
        ``survey`` = ``"LAMOST-LRS"``. Missing values are NaN: LAMOST's -9999
        sentinel becomes NaN, counted per column in ``meta["sentinels"]``.
        ``meta["survey"]``, ``meta["data_release"]``.

    Notes
    -----
    Quality rules of the LAMOST LRS adapter: none beyond the sentinels (the
    method's own FLAG=1/FLAG=12 apply downstream); no row is dropped here.

    Raises
    ------
    InputDataError
        Unreadable file, non-numeric value, negative uncertainty.
    MissingColumnError
        A required column (rv, e_rv, teff, logg, feh or a position) is absent.
    """
    return _read(lamost_lrs, "lamost_lrs_oc_members.ecsv", path, format=format, table=table,
                 data_release=data_release)


def lamost_lrs(table, *, source="<table>", data_release=None, survey="LAMOST-LRS",
               rv_err_sentinel=None):
    """Adapter: a LAMOST table (chunk) -> the canonical star table (pure function).

    Parameters
    ----------
    table : `~astropy.table.Table`
        Rows of a LAMOST catalogue (LAMOST site, VizieR or the embedded layout).
    source : str
        Label of the input for messages and ``meta["source"]``.
    data_release : str, optional
    survey : str
        Value of the ``survey`` column.
    rv_err_sentinel : float, optional
        A positive value of the RV error that means "none" (LAMOST MRS sample:
        9999; also ``9999 / sqrt(nobs)``, the sentinel averaged over ``nobs``
        repeat observations).

    Returns
    -------
    `~astropy.table.QTable`
        As :func:`read_lamost`, one row per input row.
    """
    out = QTable()
    found = {name: schema.STARS.find(table, name) for name in schema.STARS}
    missing = [n for n in REQUIRED_STAR if found[n] is None]
    if found["ra"] is None or found["dec"] is None:
        missing += ["ra", "dec"]
    if missing:
        raise MissingColumnError(
            f"required column(s) {missing} not found in {source}; known spellings: "
            + "; ".join(f"{m}: {list(schema.STARS.spellings(m))}" for m in missing)
            + f"; columns present: {table.colnames}", source=source)
    for name in ("source_id", "dr3_source_id", "obsid"):
        if found[name] is not None:
            # a row without an identifier stays (masked): the cross-match step matches
            # it by position or counts it as dropped
            out[name] = to_int(table[found[name]], source=source, column=found[name],
                               allow_missing=True)
    if found["Cluster"] is not None:
        out["Cluster"] = [str(c).strip() for c in table[found["Cluster"]]]
    ra = quantity_column(table, "ra", found["ra"], u.deg, source=source)
    dec = quantity_column(table, "dec", found["dec"], u.deg, source=source)
    for name, val in (("ra", ra), ("dec", dec)):
        bad = np.flatnonzero(~np.isfinite(val))
        if bad.size:
            raise InputDataError("missing position", source=source, column=found[name],
                                 row=int(bad[0]))
    if np.any(np.abs(dec.value) > 90):
        i = int(np.flatnonzero(np.abs(dec.value) > 90)[0])
        raise InputDataError("declination outside [-90, 90] deg", source=source,
                             column=found["dec"], row=i, value=float(dec.value[i]))
    out["coord"] = SkyCoord(ra=ra, dec=dec, frame="icrs")
    sentinels = {}
    for name in ("parallax", "e_parallax", "gmag", "bpmag", "rpmag", "rv", "e_rv", "teff",
                 "e_teff", "logg", "e_logg", "feh", "e_feh", "snrg", "nobs"):
        if found[name] is None:
            continue
        spec = schema.STARS[name]
        q = quantity_column(table, name, found[name], spec.unit, source=source)
        if name in _SENTINEL_COLUMNS:
            values = np.asarray(getattr(q, "value", q))
            bad = values == LAMOST_SENTINEL
            if name == "e_rv" and rv_err_sentinel is not None:
                # the sample averages repeat observations: a 9999 among n of them
                # gives rv_err = 9999 / sqrt(n) (nobs); both mean "no RV error"
                nobs = np.ones(len(values)) if found["nobs"] is None else np.nan_to_num(
                    quantity_column(table, "nobs", found["nobs"], None, source=source),
                    nan=1.0)
                with np.errstate(invalid="ignore"):
                    bad |= np.abs(values * np.sqrt(np.maximum(nobs, 1)) - rv_err_sentinel) < 0.5
            q = mask_values(q, bad, name, sentinels)
        if name in ERROR_COLUMNS:
            check_errors(np.asarray(getattr(q, "value", q)), source=source, column=found[name])
        out[name] = q
    return finish(out, survey=survey, data_release=data_release, source=source,
                  sentinels=sentinels)


def lamost_mrs(table, *, source="<table>", data_release=None):
    """Adapter for LAMOST MRS tables (chunks): as :func:`lamost_lrs`, ``rv_err = 9999`` -> NaN.

    The embedded sample writes ``rv_err = 9999`` where a spectrum has no RV error,
    and ``9999 / sqrt(nobs)`` where such a spectrum was averaged with ``nobs - 1``
    others (5 stars); both become NaN. Large but finite errors (two stars, 61 and
    95 km/s) are kept as published: the Monte Carlo weighs them accordingly.

    Parameters
    ----------
    table : `~astropy.table.Table`
    source : str
    data_release : str, optional

    Returns
    -------
    `~astropy.table.QTable`
        ``survey`` = ``"LAMOST-MRS"``; the RV error sentinel 9999 and LAMOST's -9999
        become NaN, counted in ``meta["sentinels"]``.
    """
    return lamost_lrs(table, source=source, data_release=data_release, survey="LAMOST-MRS",
                      rv_err_sentinel=MRS_RV_ERR_SENTINEL)


def read_lamost_mrs(path=None, *, format=None, table=None, data_release=None):
    """Read LAMOST medium-resolution (MRS) stellar parameters.

    Parameters
    ----------
    path : str or `~pathlib.Path`, optional
        Input file; default the embedded sample (555 LAMOST MRS stars of 11
        clusters, see ``astro_ocl/data/manifest.json``).
    format : str, optional
        astropy format of ``path``.
    table : `~astropy.table.Table`, optional
        An in-memory table instead of a file.
    data_release : str, optional

    Returns
    -------
    `~astropy.table.QTable`
        As :func:`read_lamost`, ``survey`` = ``"LAMOST-MRS"``. The sample's
        ``rv_err = 9999`` (no RV error; ``9999 / sqrt(nobs)`` after averaging
        repeats) is NaN and counted in
        ``meta["sentinels"]["e_rv"]``: the pipeline then drops those stars as
        "missing rv error" (`astro_ocl.steps.statistics.clean_stars`).
    """
    return _read(lamost_mrs, "lamost_mrs_oc_members.ecsv", path, format=format, table=table,
                 data_release=data_release)


def _read(adapter, embedded_file, path, *, format, table, data_release):
    """A LAMOST file (default: the embedded sample) or table through its adapter."""
    if table is None:
        embedded = path is None
        path = Path(path) if path is not None else data_path(embedded_file)
        table = read_table_file(path, format=format)
        if len(table) == 0:
            raise InputDataError("no data rows (only a header)", source=str(path))
        if embedded and data_release is None:
            data_release = "not stated (KeyiDing/ISO_Open_Clusters sample)"
    source = str(path) if path is not None else "<table>"
    return adapter(table, source=source, data_release=data_release)


# --- validity domains (applied by astro_ocl.steps.validity) ---------------------------------
_FU2022 = "Fu et al. 2022, A&A 668, A4, Sect. 2"
_XIANG2022 = ("Xiang et al. 2022, A&A 662, A66 (HotPayne: the LAMOST pipelines give no "
              "reliable labels for OBA stars with Teff >~ 7500 K); cut adopted by Fu et al. "
              "2022, Sect. 2.2")
_DU2019 = ("Du et al. 2019, ApJS 240, 10: the LAMOST stellar template library for FGK and "
           "late-A stars spans [Fe/H] -2.5 to +1.0 dex")
#: [Fe/H] grid of the LAMOST templates; width: our choice, about twice LAMOST's typical
#: [Fe/H] uncertainty (0.1-0.15 dex), so that a fit pinned at the edge is caught.
_FEH_EDGE = GridEdge("feh", low=-2.5, high=1.0, width=0.3, reference=_DU2019)
_HOT = HotStarLimit(7500 * u.K, colour_margin=0.1 * u.mag, template_mismatch=True,
                    cool_template=7000 * u.K,
                    reference=_XIANG2022 + "; colour of a 7500 K dwarf: Pecaut & Mamajek 2013; "
                    "margin 0.1 mag (our allowance for the error of the cluster's A_V) and "
                    "cool template below 7000 K (ours: 500 K below the limit)")
_TEFF_FEH = Rule("at_most", "teff", 7500 * u.K, applies=("feh",),
                 reason="Teff > 7500 K: hotter than LAMOST's [Fe/H] domain",
                 reference=_XIANG2022)

#: LAMOST LRS (LASP) domain. RV and [Fe/H]: g-band S/N >= 6, the threshold of the LRS
#: A, F, G and K star catalogue (6 for dark nights, 15 for bright nights: the night is
#: not in the star table, the lower one is applied). [Fe/H]: Teff <= 7500 K, not hotter
#: by its Gaia colour, not in a pile-up at the template grid's [Fe/H] edge; RV: not a hot
#: star fitted with a cool template.
LRS_DOMAIN = ValidityDomain(
    "LAMOST-LRS",
    rules=(Rule("at_least", "snrg", 6.0, applies=("rv", "feh"),
                reason="S/N(g) < 6: below the LAMOST LRS AFGK catalogue threshold",
                reference="LAMOST DR8 LRS A, F, G and K star catalogue (S/N_g > 6 dark, > 15 "
                          "bright nights), as quoted by " + _FU2022),
           _TEFF_FEH),
    grid_edges=(_FEH_EDGE,), min_pileup=2, hot_star=_HOT,
    references=(_FU2022, _XIANG2022, _DU2019,
                "Wu et al. 2014, IAU Symp. 306, 340 (LASP); Luo et al. 2015, RAA 15, 1095"),
    notes=("the bright-night threshold (S/N_g > 15) is not applied: the star table does not "
           "say when a spectrum was taken",
           "stars without snrg (sentinel -9999) are not judged by the S/N rule"))

#: LAMOST MRS domain: as the LRS one for Teff, colour and the [Fe/H] grid edge. The
#: embedded MRS sample has no S/N column and no MRS threshold is documented here, so no
#: S/N rule; its [Fe/H] stops at -2.49 dex, 6 of its 7 lowest values in one cluster
#: (NGC 869) whose stars are B stars by their Gaia colours.
MRS_DOMAIN = ValidityDomain(
    "LAMOST-MRS", rules=(_TEFF_FEH,), grid_edges=(_FEH_EDGE,), min_pileup=2, hot_star=_HOT,
    references=(_XIANG2022, _DU2019, "Li X. et al. 2023, arXiv:2312.15989: parameters from "
                "LAMOST MRS spectra are least reliable for hot, cool and metal-poor stars"),
    notes=("no S/N rule: the embedded MRS sample has no S/N column and no MRS S/N threshold "
           "is documented in the references used here",
           "the [Fe/H] grid edge is the LAMOST template library's (-2.5 dex); the MRS "
           "pipeline's own grid is not documented in the references used here"))
