"""Validation of a catalogue against independent data, in every build.

The cluster RVs are compared with Gaia DR3 cluster RVs (Hunt & Reffert 2023) and
Gaia DR2 RVs (Soubiran et al. 2018), the [Fe/H] with high-resolution
compilations (Netopil et al. 2022, Spina et al. 2021), separately for each *survey
mix* of our values (the surveys behind a cluster's RV or [Fe/H]: ``RVsurveys``,
``FeHsurveys``; "LAMOST only", "APOGEE only", "APOGEE+LAMOST" ...). For each
reference, quantity and mix: the number of clusters, the median offset (ours minus
reference) with its uncertainty, the robust scatter (1.4826 MAD), the robust scatter
of offset / sigma (about 1 when the quoted errors describe the offsets) and the outliers,
clusters with ``|offset| > nsigma * sigma + floor`` (sigma: both errors in
quadrature), each with its likely reason.

A comparison is a validation only if the reference is independent of our value:

* a reference value resting on data of a survey behind our value is not compared
  (``n_shared``): each literature table says which surveys its values rest on
  (``RVdata``/``FeHdata`` of `astro_ocl.sources.read_literature`: Spina et al.
  2021 use GALAH and APOGEE stars, Netopil et al. 2022 take part of their [Fe/H]
  from APOGEE, Gaia cluster RVs are not independent of Gaia RVS stars);
* when the catalogue's reference scale (its zero points) was fitted to one of the
  references, the clusters used in that fit are not compared with that reference
  (``n_in_fit``): only the held-out clusters validate it.

:func:`validate_catalogue` returns a `ValidationResult` (``table``: one row per
reference, quantity and mix, ready for ``validation.ecsv``; ``pairs``: every
cluster compared; ``outliers``) and :func:`validation_text` the block printed on
the console.
"""
from dataclasses import dataclass

import astropy.units as u
import numpy as np
from astropy.stats import mad_std
from astropy.table import QTable

from .. import schema
from ..exceptions import MissingColumnError, ParameterError
from ..sources.literature import LITERATURE
from ..sources.surveys import SURVEYS, survey_family

__all__ = ["validate_catalogue", "validation_text", "ValidationResult", "ReferenceSpec",
           "REFERENCES", "FLOORS", "survey_mix", "select_reference"]

# per quantity: the composition column of the cluster table and the unit (the value
# columns of either statistics method: astro_ocl.schema.value_columns)
_QUANTITIES = {"RV": ("RVsurveys", u.km / u.s), "[Fe/H]": ("FeHsurveys", u.dex)}
_DATA_COLUMN = {"RV": "RVdata", "[Fe/H]": "FeHdata"}

#: The fixed part of the outlier limit ``nsigma * sigma + floor``: 2 km/s for RVs (the
#: goal of the validation; room for the zero points of two scales and unrecognised
#: binaries), 0.1 dex for [Fe/H] (our choice: the scatter between high-resolution
#: compilations is of that order).
FLOORS = {"RV": 2.0 * u.km / u.s, "[Fe/H]": 0.1 * u.dex}


@dataclass(frozen=True)
class ReferenceSpec:
    """An independent reference: which quantities, and which of its values to trust.

    Attributes
    ----------
    quantities : tuple of str
        ``"RV"`` and/or ``"[Fe/H]"``.
    min_n : int
        Minimum stars behind a reference RV (``NRV``); 0: no such cut.
    max_error : `~astropy.units.Quantity` or None
        Maximum error of a reference RV.
    feh_classes : tuple of str or None
        Accepted values of the catalogue's ``r_[Fe/H]`` (source or quality class).
    label : str
        Short description for the console.
    """

    quantities: tuple
    min_n: int = 0
    max_error: object = None
    feh_classes: tuple = None
    label: str = ""

    def selection(self, quantity):
        """The selection as text."""
        parts = []
        if quantity == "RV":
            if self.min_n:
                parts.append(f"n_RV >= {self.min_n}")
            if self.max_error is not None:
                parts.append(f"e_RV < {self.max_error.to_value(u.km / u.s):g} km/s")
        elif self.feh_classes:
            parts.append("r_[Fe/H] in " + "/".join(self.feh_classes))
        return ", ".join(parts) or "finite values"


#: The default references. Hunt & Reffert 2023 (Gaia DR3): n_RV >= 3 and e_RV < 2 km/s;
#: Soubiran et al. 2018 (Gaia DR2): the same cut on their selected stars (Nsele) and error;
#: Netopil et al. 2022: their high-quality class (HQ) and APOGEE values (LQ, their
#: low-quality class, left out); Spina et al. 2021: every cluster with a [Fe/H].
REFERENCES = {
    "Hunt2023": ReferenceSpec(("RV",), min_n=3, max_error=2.0 * u.km / u.s,
                              label="Gaia DR3 cluster RVs (Hunt & Reffert 2023)"),
    "Soubiran2018": ReferenceSpec(("RV",), min_n=3, max_error=2.0 * u.km / u.s,
                                  label="Gaia DR2 cluster RVs (Soubiran et al. 2018)"),
    "Netopil2022": ReferenceSpec(("[Fe/H]",), feh_classes=("HQ", "Apogee"),
                                 label="high-resolution [Fe/H] (Netopil et al. 2022)"),
    "Spina2021": ReferenceSpec(("[Fe/H]",),
                               label="GALAH/APOGEE [Fe/H] (Spina et al. 2021)"),
}


@dataclass(frozen=True)
class ValidationResult:
    """What :func:`validate_catalogue` returns.

    Attributes
    ----------
    table : `~astropy.table.QTable`
        One row per reference, quantity and survey mix (`astro_ocl.schema.VALIDATION`);
        the row ``mix == "all"`` covers every mix.
    pairs : `~astropy.table.QTable`
        Every cluster compared (`astro_ocl.schema.VALIDATION_PAIRS`).
    outliers : `~astropy.table.QTable`
        The outliers with their likely reason (`astro_ocl.schema.VALIDATION_OUTLIERS`).
    """

    table: QTable
    pairs: QTable
    outliers: QTable

    def text(self):
        """The console block (:func:`validation_text`)."""
        return validation_text(self)


def _families(composition):
    """``"APOGEE:5,LAMOST-LRS:12"`` -> the surveys' labels behind it."""
    text = "" if composition is None or np.ma.is_masked(composition) else str(composition)
    return sorted({part.split(":")[0].strip() for part in text.split(",") if part.strip()})


def survey_mix(composition, *, by="family"):
    """The survey mix of one cluster value from its composition (``RVsurveys``).

    Parameters
    ----------
    composition : str
        ``"survey:N"`` comma-separated (`astro_ocl.steps.multisurvey.survey_composition`).
    by : {"family", "survey"}
        Group LAMOST LRS and MRS as "LAMOST" (``"family"``) or keep each survey.

    Returns
    -------
    str
        ``"<survey> only"`` for one, ``"A+B"`` for several (sorted), ``"none"`` for
        an empty composition.
    """
    labels = _families(composition)
    if by == "family":
        labels = sorted({survey_family(x) for x in labels})
    elif by != "survey":
        raise ParameterError("by", by, "'family' or 'survey'")
    if not labels:
        return "none"
    return f"{labels[0]} only" if len(labels) == 1 else "+".join(labels)


def select_reference(table, spec, quantity):
    """Boolean mask of the reference values kept for ``quantity`` (finite and selected)."""
    value = u.Quantity(table[quantity]).value
    keep = np.isfinite(value)
    if quantity == "RV":
        if spec.min_n:
            if "NRV" not in table.colnames:
                raise MissingColumnError(f"{table.meta.get('name', 'reference')} has no NRV "
                                         "column for its selection", column="NRV")
            with np.errstate(invalid="ignore"):
                keep &= np.asarray(table["NRV"], float) >= spec.min_n
        if spec.max_error is not None:
            err = u.Quantity(table["e_RV"]).to_value(spec.max_error.unit)
            with np.errstate(invalid="ignore"):
                keep &= err < spec.max_error.value
    elif spec.feh_classes:
        if "r_[Fe/H]" not in table.colnames:
            raise MissingColumnError(f"{table.meta.get('name', 'reference')} has no r_[Fe/H] "
                                     "column for its selection", column="r_[Fe/H]")
        keep &= np.isin(np.asarray(table["r_[Fe/H]"]).astype(str), spec.feh_classes)
    return keep


def _our_surveys(clusters, column):
    """Per cluster, the labels of the surveys behind the value."""
    if column in clusters.colnames:
        return [_families(c) for c in clusters[column]]
    names = [s for s in str(clusters.meta.get("surveys", "")).split(",") if s.strip()]
    labels = sorted({SURVEYS[s.strip()].label for s in names if s.strip() in SURVEYS})
    return [labels] * len(clusters)


def _fit_set(clusters, fit_clusters):
    if fit_clusters is None:
        return set()
    if isinstance(fit_clusters, str):
        if fit_clusters not in clusters.colnames:
            raise MissingColumnError(f"no column {fit_clusters!r} marking the clusters of the "
                                     "fit", column=fit_clusters)
        flag = np.ma.filled(np.ma.asarray(clusters[fit_clusters]), False).astype(bool)
        return set(np.asarray(clusters["Cluster"]).astype(str)[flag])
    return {str(c) for c in fit_clusters}


def _reason(row, stats_by_mix, spread, unit):
    """Why a pair may be an outlier (the checks that apply, or that none does)."""
    reasons = []
    if row["n_ours"] == 1:
        reasons.append("one star behind our value")
    elif np.isfinite(spread) and row["e_ours"] > 0 and row["n_ours"] > 1 \
            and spread > 3 * row["e_ours"] * np.sqrt(row["n_ours"]):
        reasons.append(f"our stars disagree (dispersion {spread:.2f} {unit} against an "
                       f"error of {row['e_ours']:.2f}): binaries or non-members")
    if np.isfinite(row["n_ref"]) and row["n_ref"] < 5:
        reasons.append(f"reference from {int(row['n_ref'])} stars")
    median = stats_by_mix.get(row["mix"], np.nan)
    if np.isfinite(median) and abs(row["diff"] - median) <= row["limit"]:
        reasons.append(f"the {row['mix']} median offset ({median:+.2f} {unit}) explains it: "
                       "zero point of the survey mix")
    return "; ".join(reasons) or ("not explained by the number of stars, their dispersion "
                                  "or the survey mix's offset")


def _unit_text(unit):
    """``km / s`` -> ``km/s`` (for the console and the reasons)."""
    return str(unit).replace(" / ", "/")


def _stats(diff):
    d = np.asarray(diff, float)
    d = d[np.isfinite(d)]
    if d.size == 0:
        return 0, np.nan, np.nan, np.nan
    scatter = float(mad_std(d)) if d.size > 1 else np.nan
    return int(d.size), float(np.median(d)), 1.2533 * scatter / np.sqrt(d.size), scatter


def validate_catalogue(clusters, references, *, fitted_to=None, fit_clusters=None,
                       nsigma=3.0, floors=None, mix_by="family"):
    """Compare a cluster table with independent references, per survey mix.

    Parameters
    ----------
    clusters : `~astropy.table.QTable`
        A catalogue's cluster table: ``Cluster``, the values of either statistics
        method (`astro_ocl.schema.value_columns`: value, error, stars, spread) and,
        for the survey mix, ``RVsurveys``/``FeHsurveys`` (without them the surveys of
        ``meta["surveys"]``); the spread helps explain outliers.
    references : dict
        ``{name: canonical literature table}`` (`~astro_ocl.sources.read_literature`
        reads the embedded ones; `REFERENCES` names the default ones). A name of
        `REFERENCES` takes its selection; another table is used with its finite values.
    fitted_to : str, optional
        The reference the catalogue's scale (zero points) was fitted to.
    fit_clusters : iterable of str or str, optional
        The clusters used in that fit (names), or the name of a boolean column of
        ``clusters`` marking them: not compared with ``fitted_to``.
    nsigma : float
        Outlier limit in sigma (both errors in quadrature).
    floors : dict, optional
        ``{"RV": Quantity, "[Fe/H]": Quantity}`` added to the limit (default `FLOORS`).
    mix_by : {"family", "survey"}
        Survey mixes by survey family (LAMOST LRS and MRS together) or by survey.

    Returns
    -------
    `ValidationResult`

    Raises
    ------
    MissingColumnError
        A required column of ``clusters`` or a reference is missing.
    ParameterError
        ``fitted_to`` names no reference, or a bad option.
    """
    if not nsigma > 0:
        raise ParameterError("nsigma", nsigma, "must be positive")
    floors = {**FLOORS, **(floors or {})}
    if not isinstance(references, dict):
        raise TypeError("references must be {name: literature table} "
                        "(astro_ocl.sources.read_literature reads the embedded ones, "
                        "REFERENCES names the default ones)")
    if fitted_to is not None and fitted_to not in references:
        raise ParameterError("fitted_to", fitted_to, f"one of the references {list(references)}")
    for col in ("Cluster",):
        if col not in clusters.colnames:
            raise MissingColumnError(f"the cluster table has no {col!r} column", column=col)
    in_fit = _fit_set(clusters, fit_clusters)
    names = np.asarray(clusters["Cluster"]).astype(str)

    pair_rows, table_rows = [], []
    for ref_name, ref in references.items():
        spec = REFERENCES.get(ref_name, ReferenceSpec(
            tuple(q for q in _QUANTITIES if q in ref.colnames), label=ref_name))
        for quantity in spec.quantities:
            comp_c, unit = _QUANTITIES[quantity]
            ours_c, e_c, n_c, s_c = schema.value_columns(clusters, quantity)
            if e_c not in clusters.colnames:
                raise MissingColumnError(f"the cluster table has no {e_c!r} column", column=e_c)
            if quantity not in ref.colnames:
                raise MissingColumnError(f"{ref_name} has no {quantity} column", column=quantity)
            ours = u.Quantity(clusters[ours_c]).to_value(unit)
            e_ours = u.Quantity(clusters[e_c]).to_value(unit)
            n_ours = np.asarray(clusters[n_c], float) if n_c in clusters.colnames else \
                np.full(len(clusters), np.nan)
            spread = u.Quantity(clusters[s_c]).to_value(unit) if s_c in clusters.colnames \
                else np.full(len(clusters), np.nan)
            surveys = _our_surveys(clusters, comp_c)
            keep = select_reference(ref, spec, quantity)
            ref_names = np.asarray(ref["Cluster"]).astype(str)
            lookup = {}
            for i in np.flatnonzero(keep):          # first selected entry of a name
                lookup.setdefault(ref_names[i], i)
            ref_value = u.Quantity(ref[quantity]).to_value(unit)
            e_col = f"e_{quantity}"
            ref_err = u.Quantity(ref[e_col]).to_value(unit) if e_col in ref.colnames else \
                np.full(len(ref), np.nan)
            n_col = "NRV" if quantity == "RV" else "NFeH"
            ref_n = np.asarray(ref[n_col], float) if n_col in ref.colnames else \
                np.full(len(ref), np.nan)
            data_col = _DATA_COLUMN[quantity]
            ref_data = [_families(x) for x in ref[data_col]] if data_col in ref.colnames \
                else [[] for _ in range(len(ref))]
            floor = floors[quantity].to_value(unit)
            for k, name in enumerate(names):
                j = lookup.get(name)
                if j is None or not np.isfinite(ours[k]):
                    continue
                mine = {survey_family(s) for s in surveys[k]}
                theirs = {survey_family(s) for s in ref_data[j]}
                sigma = float(np.hypot(np.nan_to_num(e_ours[k]), np.nan_to_num(ref_err[j])))
                diff = float(ours[k] - ref_value[j])
                independent = not (mine & theirs)
                fit = fitted_to == ref_name and name in in_fit
                limit = nsigma * sigma + floor
                pair_rows.append(dict(
                    Cluster=name, reference=ref_name, quantity=quantity,
                    mix=survey_mix(",".join(surveys[k]), by=mix_by), ours=float(ours[k]),
                    e_ours=float(e_ours[k]), ref=float(ref_value[j]), e_ref=float(ref_err[j]),
                    diff=diff, sigma=sigma, limit=limit, n_ours=float(n_ours[k]),
                    n_ref=float(ref_n[j]), unit=str(unit), independent=independent,
                    in_fit=fit, outlier=bool(independent and not fit and abs(diff) > limit),
                    reason="", spread=float(spread[k])))
            rows = [r for r in pair_rows if r["reference"] == ref_name
                    and r["quantity"] == quantity]
            used = [r for r in rows if r["independent"] and not r["in_fit"]]
            mixes = sorted({r["mix"] for r in rows})
            medians = {}
            for mix in mixes + ["all"]:
                sel = [r for r in used if mix == "all" or r["mix"] == mix]
                n, med, e_med, scatter = _stats([r["diff"] for r in sel])
                z_scatter = _stats([r["diff"] / r["sigma"] for r in sel if r["sigma"] > 0])[3]
                medians[mix] = med
                n_out = sum(r["outlier"] for r in sel)
                table_rows.append(dict(
                    reference=ref_name, quantity=quantity, mix=mix, N=n, median=med,
                    e_median=e_med, robust_std=scatter, z_robust_std=z_scatter,
                    n_outliers=n_out,
                    f_outliers=n_out / n if n else np.nan,
                    n_shared=sum(not r["independent"] for r in rows
                                 if mix == "all" or r["mix"] == mix),
                    n_in_fit=sum(r["independent"] and r["in_fit"] for r in rows
                                 if mix == "all" or r["mix"] == mix),
                    unit=str(unit), selection=spec.selection(quantity),
                    citation=ref.meta.get("reference", LITERATURE[ref_name].reference
                                          if ref_name in LITERATURE else ref_name)))
            for r in rows:
                if r["outlier"]:
                    r["reason"] = _reason(r, medians, r["spread"], _unit_text(unit))

    table = _as_table(table_rows, schema.VALIDATION)
    pairs = _as_table(pair_rows, schema.VALIDATION_PAIRS)
    outliers = pairs[np.asarray(pairs["outlier"], bool)] if len(pairs) else pairs.copy()
    outliers = _as_table([{k: r[k] for k in schema.VALIDATION_OUTLIERS} for r in outliers],
                         schema.VALIDATION_OUTLIERS)
    meta = {"nsigma": float(nsigma),
            "floors": {k: str(v) for k, v in floors.items()},
            "fitted_to": fitted_to or "none",
            "n_fit_clusters": len(in_fit), "mix_by": mix_by,
            "references": {k: v.meta.get("reference", k) for k, v in references.items()},
            "independence": "a reference value resting on data of a survey behind our value "
                            "is not compared (n_shared)"}
    for t in (table, pairs, outliers):
        t.meta.update(meta)
    return ValidationResult(table=table, pairs=pairs, outliers=outliers)


def _as_table(rows, tdef):
    names = list(tdef)
    if not rows:
        t = QTable(names=names, dtype=[_dtype(tdef, n) for n in names])
    else:
        t = QTable(rows=[[r[n] for n in names] for r in rows], names=names,
                   dtype=[_dtype(tdef, n) for n in names])
    schema.apply_schema(t, tdef)
    t.meta["description"] = tdef.description
    return t


def _dtype(tdef, name):
    fmt = tdef[name].fmt
    return {"A": str, "I": int, "F": float, "L": bool}[fmt[0]]


def validation_text(result, *, max_outliers=10):
    """The console block of a validation.

    Parameters
    ----------
    result : `ValidationResult`
    max_outliers : int
        Outliers listed (the largest ``|offset| / sigma`` first).

    Returns
    -------
    str
    """
    t = result.table
    lines = ["Validation against independent data (this catalogue minus reference):"]
    for ref in dict.fromkeys(t["reference"]):
        for q in dict.fromkeys(t["quantity"][t["reference"] == ref]):
            sel = t[(t["reference"] == ref) & (t["quantity"] == q)]
            spec = REFERENCES.get(ref)
            label = spec.label if spec else ref
            lines.append(f"  {q} vs {label} [{sel['selection'][0]}]:")
            for r in sel:
                if r["N"] == 0:
                    lines.append(f"    {r['mix']:<16} no independent cluster in common "
                                 f"({r['n_shared']} not independent, {r['n_in_fit']} in the "
                                 "fit)")
                    continue
                extra = []
                if r["n_shared"]:
                    extra.append(f"{r['n_shared']} not independent")
                if r["n_in_fit"]:
                    extra.append(f"{r['n_in_fit']} in the fit")
                lines.append(
                    f"    {r['mix']:<16} N={r['N']:<4d} median {r['median']:+7.2f} "
                    f"+- {r['e_median']:.2f} {_unit_text(r['unit']):<4} robust scatter "
                    f"{r['robust_std']:6.2f} ({r['z_robust_std']:4.1f} sigma)  outliers "
                    f"{r['n_outliers']}"
                    + (f" ({', '.join(extra)})" if extra else ""))
    o = result.outliers
    total = t[t["mix"] == "all"]
    n_all = int(np.sum(total["N"]))
    lines.append(f"  outliers (|offset| > {result.table.meta.get('nsigma', 3):g} sigma + floor): "
                 f"{len(o)} of {n_all} comparisons")
    if len(o):
        order = np.argsort(-np.abs(o["diff"]) / np.maximum(o["sigma"], 1e-9), kind="stable")
        for r in o[order][:max_outliers]:
            lines.append(f"    {r['Cluster']:<14} {r['quantity']:<6} vs {r['reference']:<12} "
                         f"{r['diff']:+8.2f} {_unit_text(r['unit'])} ({r['mix']}): "
                         f"{r['reason']}")
        if len(o) > max_outliers:
            lines.append(f"    ... and {len(o) - max_outliers} more (validation outliers table)")
    return "\n".join(lines)
