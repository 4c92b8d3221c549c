"""Several spectroscopic surveys in one catalogue: the combined stars and what made each value.

:func:`combine_matched`
    One table of matched stars from several surveys: a star (same Gaia
    ``source_id`` in the same cluster) measured by several surveys is kept once,
    with its best measurement (inside its survey's validity domain, then the
    smallest RV error); the others are counted.
:func:`survey_composition`
    For every cluster, which surveys and how many of their stars made the RV
    (FLAG=1) and [Fe/H] (FLAG=12) values.
:func:`cluster_provenance`
    For every cluster, which surveys with how many stars and which zero points
    (`astro_ocl.steps.zeropoints`) made its RV and [Fe/H].
"""
import numpy as np
from astropy.table import QTable

from .. import schema
from ..exceptions import ParameterError
from ..sources.surveys import stack_surveys

__all__ = ["combine_matched", "survey_composition", "cluster_provenance"]


def combine_matched(matched_by_survey, *, stage_log=None):
    """One table of matched stars from several surveys, each star counted once.

    A star (``Cluster``, ``source_id``) measured by several surveys keeps one
    measurement: the one inside its survey's validity domain for more quantities
    (``rv_valid``, ``feh_valid`` of `astro_ocl.steps.validity.survey_validity`,
    when present), then the one with the smallest RV error (``e_rv``), then the
    first in the order of ``matched_by_survey``. A measurement its own survey
    cannot vouch for never displaces one that another survey can, and a
    high-resolution velocity is not replaced by a low-resolution one.

    Parameters
    ----------
    matched_by_survey : dict of str to `~astropy.table.QTable`
        Matched stars of each survey (`astro_ocl.steps.crossmatch.match_stars`);
        the order only breaks ties.
    stage_log : `~astro_ocl.accounting.StageLog`, optional
        Records the duplicates left out, per survey.

    Returns
    -------
    `~astropy.table.QTable`
        With a ``survey`` column, in the order of ``matched_by_survey`` then of
        each survey's rows.
    """
    parts = []
    for survey, tab in matched_by_survey.items():
        t = tab.copy(copy_data=False)
        if "survey" not in t.colnames:
            t["survey"] = np.full(len(t), survey)
        parts.append(t)
    if not parts:
        raise ParameterError("surveys", [], "at least one survey is needed")
    # positions of different epochs, columns only some surveys have: NaN or masked there
    both = stack_surveys(parts) if len(parts) > 1 else parts[0]
    cluster = np.asarray(both["Cluster"]).astype(str)
    sid = np.ma.filled(np.ma.asarray(both["source_id"]), -1).astype(np.int64)
    key = np.char.add(np.char.add(cluster, "|"), sid.astype(str))
    keep = np.zeros(len(both), bool)
    keep[_best_rows(both, key)] = True
    keep |= sid < 0  # no Gaia id: never a duplicate
    surveys = np.asarray(both["survey"]).astype(str)
    if stage_log is not None:
        left, n_left = np.unique(surveys[~keep], return_counts=True)
        stage_log.stage("stars of several surveys", n_in=len(both), n_out=int(keep.sum()),
                        dropped={f"{s}: the same star measured better by another survey": int(n)
                                 for s, n in zip(left, n_left)},
                        note="a star of several surveys keeps the measurement inside its "
                             "survey's domain, then the smallest RV error")
    out = both[keep]
    out.meta["surveys"] = ",".join(matched_by_survey)
    return out


def _best_rows(stars, key):
    """The row of each ``key`` with the best measurement (see `combine_matched`)."""
    n = len(stars)
    valid = np.zeros(n)
    for name in ("rv_valid", "feh_valid"):
        if name in stars.colnames:
            valid += np.ma.filled(np.ma.asarray(stars[name]), False).astype(bool)
    if "e_rv" in stars.colnames:
        err = np.ma.filled(np.ma.asarray(getattr(stars["e_rv"], "value", stars["e_rv"]),
                                         float), np.nan)
        err = np.where(np.isfinite(err), err, np.inf)
    else:
        err = np.zeros(n)
    # lexsort: the last key is the primary one; stable, so row order breaks the last ties
    order = np.lexsort((np.arange(n), err, -valid, key))
    first = np.ones(n, bool)
    first[1:] = key[order][1:] != key[order][:-1]
    return order[first]


def survey_composition(matched, flags):
    """Which surveys, with how many stars, made each cluster's RV and [Fe/H].

    Parameters
    ----------
    matched : `~astropy.table.QTable`
        Combined matched stars (``Cluster``, ``survey``).
    flags : ndarray of int
        Their ``Flag`` (1: used for RV; 12: used for RV and [Fe/H]).

    Returns
    -------
    dict of str to tuple of str
        Cluster -> (``"APOGEE:5,LAMOST-LRS:12"`` for RV, the same for [Fe/H]);
        surveys in alphabetical order, empty when no star was used.
    """
    names = np.asarray(matched["Cluster"]).astype(str)
    surveys = np.asarray(matched["survey"]).astype(str)
    flags = np.asarray(flags)
    out = {}
    for name in np.unique(names):
        sel = names == name
        text = []
        for used in (flags[sel] >= 1, flags[sel] == 12):
            s, n = np.unique(surveys[sel][used], return_counts=True)
            text.append(",".join(f"{a}:{b}" for a, b in zip(s, n)))
        out[str(name)] = tuple(text)
    return out


def _zp_text(row, quantity):
    digits = 2 if quantity == "RV" else 3
    if row is None:
        return "none"
    if row["survey"] == row["reference"]:
        return "ref"
    if row["applied"]:
        return f"{row['offset']:+.{digits}f}+-{row['e_offset']:.{digits}f}"
    return "n.s." if np.isfinite(row["offset"]) else "none"


def cluster_provenance(matched, flags, zero_points=None):
    """Which surveys, with how many stars and which zero points, made each cluster value.

    Parameters
    ----------
    matched : `~astropy.table.QTable`
        Combined matched stars (``Cluster``, ``survey``).
    flags : ndarray of int
        Their ``Flag`` (1: used for RV; 12: used for RV and [Fe/H]), from either
        statistics method.
    zero_points : `~astropy.table.Table`, optional
        From :func:`fit_zero_points` (None: raw values, the zero-point columns say
        ``raw``).

    Returns
    -------
    `~astropy.table.QTable`
        ``Cluster, RVsurveys, FeHsurveys, RVzp, FeHzp`` sorted by cluster; the
        ``*surveys`` columns as :func:`survey_composition` (``APOGEE:5,LAMOST-LRS:12``),
        the ``*zp`` columns per survey of that value: ``+x.xx+-y.yy`` (subtracted),
        ``ref`` (the reference), ``n.s.`` (measured, not significant, not applied),
        ``none`` (not measured) or ``raw`` (no zero points). Empty strings where no
        star was used.
    """
    comp = survey_composition(matched, flags)
    table = {}
    if zero_points is not None:
        for row in zero_points:
            table[(str(row["survey"]), str(row["quantity"]))] = row
    names = sorted(comp)
    out = QTable()
    out["Cluster"] = np.array(names, dtype=str)
    out["RVsurveys"] = [comp[n][0] for n in names]
    out["FeHsurveys"] = [comp[n][1] for n in names]
    for col, source, quantity in (("RVzp", 0, "RV"), ("FeHzp", 1, "[Fe/H]")):
        texts = []
        for n in names:
            parts = [item.split(":")[0] for item in comp[n][source].split(",") if item]
            if zero_points is None:
                texts.append(",".join(f"{p}:raw" for p in parts))
            else:
                texts.append(",".join(f"{p}:{_zp_text(table.get((p, quantity)), quantity)}"
                                      for p in parts))
        out[col] = texts
    for name in out.colnames[1:]:
        out[name].info.description = schema.CLUSTERS[name].description
    return out
