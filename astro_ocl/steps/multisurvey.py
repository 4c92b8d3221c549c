"""Several spectroscopic surveys in one catalogue: zero points and the combined stars.

Surveys measure radial velocities and [Fe/H] on their own scales: LAMOST LRS
velocities sit a few km/s below Gaia's and APOGEE's, and low-resolution [Fe/H]
differs from high-resolution [Fe/H] by some hundredths of a dex. A catalogue that
mixes surveys must say by how much, and correct only when asked.

:func:`measure_zero_points`
    Each survey's offset from a reference survey, measured on the clusters both
    observed: the median of the differences of the cluster medians
    (``survey - reference``), its uncertainty the bootstrap standard deviation of
    that median over the shared clusters (a seeded generator: the same seed, the
    same uncertainty). The inverse-variance weighted mean and the robust scatter
    (`astropy.stats.mad_std`) of the differences are reported beside it.
:func:`apply_zero_points`
    Subtracts the measured offsets from the stars of each survey (only when the
    build is asked to), and says so in the table's metadata.
:func:`combine_matched`
    One table of matched stars from several surveys: a star (same Gaia
    ``source_id`` in the same cluster) measured by several surveys is kept once,
    from the first survey in the given priority order; the others are counted.
:func:`survey_composition`
    For every cluster, which surveys and how many of their stars made the RV
    (FLAG=1) and [Fe/H] (FLAG=12) values.
"""
import warnings

import astropy.units as u
import numpy as np
from astropy.stats import mad_std
from astropy.table import QTable

from ..exceptions import DroppedRowsWarning, ParameterError
from ..logger import log
from ..sources.surveys import stack_surveys

__all__ = ["QUANTITIES", "measure_zero_points", "apply_zero_points", "combine_matched",
           "survey_composition"]

#: The quantities with a zero point: cluster column, its error, star column, unit.
QUANTITIES = {"RV": ("RVmed", "e_RVmed", "rv", u.km / u.s),
              "[Fe/H]": ("[Fe/H]med", "e_[Fe/H]med", "feh", u.dex)}


def _value(col, unit):
    return np.asarray(u.Quantity(col, unit).value, float) if hasattr(col, "unit") \
        and col.unit is not None else np.asarray(col, float)


def measure_zero_points(per_survey, *, reference, min_clusters=3, n_bootstrap=2000, seed=None):
    """Each survey's RV and [Fe/H] offset from a reference survey.

    Parameters
    ----------
    per_survey : dict of str to `~astropy.table.QTable`
        For every survey, its cluster table built from its own stars
        (``Cluster``, ``RVmed``, ``e_RVmed``, ``[Fe/H]med``, ``e_[Fe/H]med``).
    reference : str
        The survey the others are measured against (a key of ``per_survey``).
    min_clusters : int
        Fewer shared clusters with a finite value on both sides give no zero
        point (NaN, with the reason in ``status``).
    n_bootstrap : int
        Bootstrap resamplings of the shared clusters for ``e_offset``.
    seed : int, optional
        Seed of the bootstrap.

    Returns
    -------
    `~astropy.table.QTable`
        One row per (survey, quantity), surveys other than the reference:
        ``survey, reference, quantity, N`` (shared clusters), ``offset`` (median of
        ``survey - reference``), ``e_offset`` (bootstrap), ``wmean, e_wmean``
        (inverse-variance weighted mean of the differences and its formal error),
        ``scatter`` (robust standard deviation of the differences), ``status``.
        Offsets are in km/s (RV) and dex ([Fe/H]), as Quantities in ``offset_RV``
        style columns would mix units: the ``unit`` column names the unit.

    Raises
    ------
    ParameterError
        ``reference`` is not one of the surveys, or ``min_clusters`` < 1.
    """
    if reference not in per_survey:
        raise ParameterError("reference_survey", reference,
                             f"not one of the surveys built: {sorted(per_survey)}")
    if int(min_clusters) < 1:
        raise ParameterError("min_clusters", min_clusters, "must be at least 1")
    ref = per_survey[reference]
    ref_names = np.asarray(ref["Cluster"]).astype(str)
    rows = []
    for survey in per_survey:
        if survey == reference:
            continue
        tab = per_survey[survey]
        names = np.asarray(tab["Cluster"]).astype(str)
        common, i_s, i_r = np.intersect1d(names, ref_names, return_indices=True)
        for quantity, (col, ecol, _, unit) in QUANTITIES.items():
            x, ex = _value(tab[col], unit)[i_s], _value(tab[ecol], unit)[i_s]
            y, ey = _value(ref[col], unit)[i_r], _value(ref[ecol], unit)[i_r]
            ok = np.isfinite(x) & np.isfinite(y)
            diff = (x - y)[ok]
            var = (ex ** 2 + ey ** 2)[ok]
            row = dict(survey=survey, reference=reference, quantity=quantity,
                       unit=unit.to_string(), N=int(ok.sum()), offset=np.nan,
                       e_offset=np.nan, wmean=np.nan, e_wmean=np.nan, scatter=np.nan,
                       clusters=",".join(common[ok]))
            if diff.size < int(min_clusters):
                row["status"] = (f"not measured: {diff.size} shared clusters with "
                                 f"{quantity} (fewer than {int(min_clusters)})")
            else:
                rng = np.random.default_rng(None if seed is None else
                                            [int(seed), len(survey), ord(quantity[0])])
                boot = np.median(diff[rng.integers(0, diff.size, (int(n_bootstrap),
                                                                  diff.size))], axis=1)
                w = np.where(np.isfinite(var) & (var > 0), 1 / np.where(var > 0, var, 1), 0)
                row.update(offset=float(np.median(diff)), e_offset=float(boot.std()),
                           scatter=float(mad_std(diff)) if diff.size > 1 else np.nan,
                           status="measured")
                if w.sum() > 0:
                    row.update(wmean=float((w * diff).sum() / w.sum()),
                               e_wmean=float(1 / np.sqrt(w.sum())))
            rows.append(row)
    names = ["survey", "reference", "quantity", "unit", "N", "offset", "e_offset", "wmean",
             "e_wmean", "scatter", "status", "clusters"]
    out = QTable(rows=[[r[n] for n in names] for r in rows], names=names) if rows else \
        QTable(names=names, dtype=[str, str, str, str, int] + [float] * 5 + [str, str])
    descriptions = {
        "survey": "Survey whose zero point is measured",
        "reference": "Reference survey",
        "quantity": "Quantity (RV: cluster RVmed; [Fe/H]: cluster [Fe/H]med)",
        "unit": "Unit of offset, e_offset, wmean, e_wmean, scatter",
        "N": "Clusters shared by the survey and the reference with the quantity on both",
        "offset": "Zero point: median over shared clusters of (survey - reference)",
        "e_offset": f"Bootstrap standard deviation of offset ({int(n_bootstrap)} resamplings "
                    "of the shared clusters)",
        "wmean": "Inverse-variance weighted mean of (survey - reference)",
        "e_wmean": "Formal error of wmean (measurement errors only)",
        "scatter": "Robust standard deviation (MAD) of (survey - reference)",
        "status": "measured, or why not",
        "clusters": "The shared clusters used",
    }
    for name, text in descriptions.items():
        out[name].info.description = text
    out.meta.update(reference=reference, min_clusters=int(min_clusters),
                    n_bootstrap=int(n_bootstrap), seed="none" if seed is None else int(seed))
    return out


def apply_zero_points(stars, zero_points):
    """Put the stars of every survey on the reference survey's scale.

    Subtracts each measured ``offset`` from the ``rv`` or ``feh`` of the stars of
    that survey (column ``survey``). Offsets that were not measured are not
    applied (a `~astro_ocl.exceptions.DroppedRowsWarning` names them). The
    uncertainty of an offset is not added to the stars' errors (it is common
    to all the stars of a survey, not a per-star error); it is reported in the
    zero-point table.

    Parameters
    ----------
    stars : `~astropy.table.QTable`
        Stars with a ``survey`` column.
    zero_points : `~astropy.table.QTable`
        From :func:`measure_zero_points`.

    Returns
    -------
    `~astropy.table.QTable`
        A copy; ``meta['zero_points_applied']`` lists what was subtracted.
    """
    out = stars.copy()
    surveys = np.asarray(out["survey"]).astype(str)
    applied, skipped = [], []
    for row in zero_points:
        col, unit = QUANTITIES[str(row["quantity"])][2:]
        if col not in out.colnames:
            continue
        rows = surveys == str(row["survey"])
        if not rows.any():
            continue
        if not np.isfinite(row["offset"]):
            skipped.append(f"{row['survey']} {row['quantity']}")
            continue
        out[col][rows] = out[col][rows] - row["offset"] * unit
        applied.append(f"{row['survey']} {row['quantity']} {-row['offset']:+.4g} {unit} "
                       f"(+-{row['e_offset']:.2g}, {row['N']} clusters, vs {row['reference']})")
    if skipped:
        warnings.warn(f"zero points not applied (not measured): {', '.join(skipped)}",
                      DroppedRowsWarning)
    out.meta["zero_points_applied"] = "; ".join(applied) if applied else "none"
    log.info("zero points applied: %s", out.meta["zero_points_applied"])
    return out


def combine_matched(matched_by_survey, *, stage_log=None):
    """One table of matched stars from several surveys, each star counted once.

    Parameters
    ----------
    matched_by_survey : dict of str to `~astropy.table.QTable`
        Matched stars of each survey (`astro_ocl.steps.crossmatch.match_stars`),
        in priority order: a star (``Cluster``, ``source_id``) present in several
        surveys keeps the measurement of the first.
    stage_log : `~astro_ocl.accounting.StageLog`, optional
        Records the duplicates left out.

    Returns
    -------
    `~astropy.table.QTable`
        With a ``survey`` column.
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
    # the first occurrence wins (vstack keeps the priority order); no id, no duplicate
    _, first = np.unique(key, return_index=True)
    keep = np.zeros(len(both), bool)
    keep[first] = True
    keep |= sid < 0
    n_dup = int((~keep).sum())
    if stage_log is not None:
        stage_log.stage("stars of several surveys", n_in=len(both), n_out=int(keep.sum()),
                        dropped={"same star in a survey earlier in the priority order":
                                 n_dup},
                        note="priority: " + ", ".join(matched_by_survey))
    out = both[keep]
    out.meta["surveys"] = ",".join(matched_by_survey)
    return out


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
