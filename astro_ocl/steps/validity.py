"""Survey validity domains applied to stars: which RVs and [Fe/H] are measurements.

Each survey adapter declares the domain in which its RV and its [Fe/H] can be
trusted (`astro_ocl.sources.surveys.domains`, e.g.
`astro_ocl.sources.surveys.lamost.MRS_DOMAIN`); :func:`survey_validity` applies the
declarations to a star table and says, star by star, whether the RV and the [Fe/H]
are inside their survey's domain and, when not, why. Stars outside stay in the
table (and in the member table of a build) with their reason; they leave the
cluster statistics (:func:`statistics_input`), and every such star is counted per
survey and reason (:func:`validity_counts`, :func:`log_validity`).

Three kinds of evidence, in this order:

1. the survey's own flags and documented limits (the domain's `Rule` objects:
   APOGEE STARFLAG/ASPCAPFLAG bits, GALAH ``flag_sp``/``flag_fe_h``, LAMOST S/N,
   a pipeline's temperature limit ...);
2. pile-ups at an edge of the pipeline's parameter grid: several stars of one
   cluster within the declared width of the same grid edge (their [Fe/H] are
   limits of the grid, not measurements);
3. the Gaia colour, where the survey's own Teff cannot be trusted: the star's
   BP-RP dereddened with its cluster's A_V (:func:`dereddened_colour`, the
   extinction coefficients of Gaia Collaboration, Babusiaux et al. 2018, A&A 616,
   A10, eq. 1 and Table 1) is compared with the main-sequence colour at the
   domain's temperature limit (Pecaut & Mamajek 2013, :func:`colour_at_teff`). A
   star bluer than that by more than the domain's margin is too hot for the
   pipeline's [Fe/H]; if the pipeline nevertheless fitted it with a template well
   below the limit (``cool_template``), its RV comes from a template of the wrong
   kind too.

Example: the LAMOST MRS stars of NGC 869 (h Per) have pipeline Teff 5900-6800 K
and [Fe/H] -2.27 to -2.49 (the metal-poor edge of the LAMOST template grid), but
dereddened Gaia colours of B stars ((BP-RP)_0 < 0.1, A_V = 1.69 mag from
Cantat-Gaudin et al. 2020): their [Fe/H] and RVs are outside the domain.
"""
import astropy.units as u
import numpy as np
from astropy.table import QTable

from .. import schema
from ..exceptions import InputDataError, ParameterError
from ..logger import log
from ..sources.literature import read_dwarf_colours
from ..sources.surveys import DOMAINS

__all__ = ["survey_validity", "validity_counts", "log_validity", "statistics_input",
           "dereddened_colour", "colour_at_teff", "BABUSIAUX2018", "NO_RV", "NO_FEH",
           "PILEUP", "HOT_BY_COLOUR", "TEMPLATE_MISMATCH"]

#: Extinction coefficients k_X = A_X / A_0 of Gaia Collaboration, Babusiaux et al. 2018
#: (A&A 616, A10, eq. 1, Table 1): c1 + c2 C + c3 C^2 + c4 C^3 + c5 A0 + c6 A0^2 + c7 C A0,
#: with C = (BP-RP)_0 and A0 the extinction at 550 nm (CG2020's A_V is used for it).
BABUSIAUX2018 = {
    "G": (0.9761, -0.1704, 0.0086, 0.0011, -0.0438, 0.0013, 0.0099),
    "BP": (1.1517, -0.0871, -0.0333, 0.0173, -0.0230, 0.0006, 0.0043),
    "RP": (0.6104, -0.0170, -0.0026, -0.0017, -0.0078, 0.00005, 0.0006),
}

#: Reasons written by the step itself (the domain rules write their own).
NO_RV = "no RV from the survey"
NO_FEH = "no [Fe/H] from the survey"
PILEUP = "pile-up at the {parameter} grid edge"
HOT_BY_COLOUR = "hotter than {teff:.0f} K by its Gaia colour"
TEMPLATE_MISMATCH = "hot star (Gaia colour) fitted with a template cooler than {teff:.0f} K"
_PARAMETER_NAMES = {"feh": "[Fe/H]", "teff": "Teff", "logg": "log g"}
_LABELS = {"rv": "RV", "feh": "[Fe/H]"}


def _values(col, unit=None):
    """Plain float array of a column (Quantity, masked or not), NaN where masked/missing."""
    if isinstance(col, u.Quantity):
        arr = col.to_value(unit) if unit is not None else col.value
        return np.array(arr, dtype=float)
    if unit is not None and getattr(col, "unit", None) is not None:
        return np.array(u.Quantity(col).to_value(unit), dtype=float)
    return np.array(np.ma.filled(np.ma.asarray(col, dtype=float), np.nan), dtype=float)


def _k(coeffs, colour, a0):
    c1, c2, c3, c4, c5, c6, c7 = coeffs
    return (c1 + c2 * colour + c3 * colour ** 2 + c4 * colour ** 3 + c5 * a0 + c6 * a0 ** 2
            + c7 * colour * a0)


def dereddened_colour(bp_rp, a_v, *, iterations=10):
    """Gaia (BP-RP)_0 from the observed colour and the extinction A_V.

    E(BP-RP) = (k_BP - k_RP) A_0 with the colour- and extinction-dependent
    coefficients of Gaia Collaboration, Babusiaux et al. 2018 (`BABUSIAUX2018`),
    evaluated at the dereddened colour: solved by fixed-point iteration (the
    coefficients change slowly with colour, so a few steps converge to 1e-4 mag).
    For hot stars E(BP-RP) is about 0.53 A_V, for G dwarfs about 0.47 A_V.

    Parameters
    ----------
    bp_rp : `~astropy.units.Quantity` or array
        Observed BP-RP (mag).
    a_v : `~astropy.units.Quantity` or array
        Extinction A_V (mag), used for A_0.
    iterations : int

    Returns
    -------
    `~astropy.units.Quantity`
        (BP-RP)_0 in mag (NaN where an input is NaN).
    """
    observed = u.Quantity(bp_rp, u.mag).value
    a0 = u.Quantity(a_v, u.mag).value
    colour = np.array(observed, dtype=float, copy=True)
    for _ in range(int(iterations)):
        excess = (_k(BABUSIAUX2018["BP"], colour, a0) - _k(BABUSIAUX2018["RP"], colour, a0)) * a0
        colour = observed - excess
    return colour * u.mag


def colour_at_teff(teff, *, sequence=None):
    """The main-sequence (BP-RP)_0 at a temperature (Pecaut & Mamajek 2013, interpolated).

    Parameters
    ----------
    teff : `~astropy.units.Quantity`
        Between the sequence's coolest and hottest rows (3870-10700 K embedded).
    sequence : `~astropy.table.QTable`, optional
        ``Teff``, ``bp_rp0``; default `~astro_ocl.sources.literature.read_dwarf_colours`.

    Returns
    -------
    `~astropy.units.Quantity`

    Raises
    ------
    ParameterError
        A temperature outside the sequence.
    """
    seq = read_dwarf_colours() if sequence is None else sequence
    t = u.Quantity(seq["Teff"], u.K).value
    c = u.Quantity(seq["bp_rp0"], u.mag).value
    order = np.argsort(t)
    value = u.Quantity(teff, u.K).value
    if np.any(value < t.min()) or np.any(value > t.max()):
        raise ParameterError("teff", teff, f"within the colour sequence, {t.min():.0f}-"
                                           f"{t.max():.0f} K")
    return np.interp(value, t[order], c[order]) * u.mag


def _rule_outside(rule, table, rows):
    """(outside, not_applicable) boolean arrays over ``rows`` for one `Rule`."""
    n = rows.size
    if rule.kind == "never":
        return np.ones(n, bool), np.zeros(n, bool)
    if rule.column not in table.colnames:
        missing = np.ones(n, bool)
        return (missing if rule.missing == "outside" else np.zeros(n, bool),
                missing if rule.missing == "skip" else np.zeros(n, bool))
    col = table[rule.column][rows]
    if rule.kind == "bits":
        data = np.ma.asarray(col)
        missing = np.ma.getmaskarray(data)
        mask = 0
        for b in rule.value:
            mask |= 1 << int(b)
        values = np.asarray(np.ma.filled(data, 0)).astype(np.int64)
        outside = (values & np.int64(mask)) != 0
    elif rule.kind in ("nonzero", "required_true"):
        data = np.ma.asarray(col)
        missing = np.ma.getmaskarray(data)
        values = np.asarray(np.ma.filled(data, 0))
        if values.dtype.kind == "f":
            missing = missing | ~np.isfinite(values)
            values = np.nan_to_num(values)
        outside = values != 0 if rule.kind == "nonzero" else ~values.astype(bool)
    else:  # thresholds
        unit = rule.value.unit if isinstance(rule.value, u.Quantity) else None
        values = _values(col, unit)
        limit = rule.value.to_value(unit) if unit is not None else float(rule.value)
        missing = ~np.isfinite(values)
        with np.errstate(invalid="ignore"):
            if rule.kind == "at_least":
                outside = values < limit
            elif rule.kind == "at_most":
                outside = values > limit
            else:  # "below"
                outside = values >= limit
    outside = np.asarray(outside, bool) & ~missing
    if rule.missing == "outside":
        outside |= missing
        missing = np.zeros(n, bool)
    return outside, missing


def _cluster_extinction(stars, cluster_params, column):
    """A_V of each star's cluster (NaN where unknown)."""
    a_v = np.full(len(stars), np.nan)
    if cluster_params is None or "Cluster" not in stars.colnames:
        return a_v
    if column not in cluster_params.colnames:
        raise InputDataError(f"cluster parameters have no {column!r} column (the cluster "
                             "extinction A_V)", column=column)
    names = np.asarray(cluster_params["Cluster"]).astype(str)
    values = _values(cluster_params[column], u.mag)
    lookup = dict(zip(names, values))
    star_clusters = np.asarray(stars["Cluster"]).astype(str)
    return np.array([lookup.get(c, np.nan) for c in star_clusters])


def survey_validity(stars, *, cluster_params=None, domains=None, extinction="AVNN"):
    """Whether each star's RV and [Fe/H] are inside their survey's validity domain.

    Parameters
    ----------
    stars : `~astropy.table.QTable`
        Canonical star table (one survey or several stacked) with a ``survey``
        column, or ``meta["survey"]``; usually the stars matched to cluster members
        (``Cluster``: needed for the pile-ups and the cluster extinction).
    cluster_params : `~astropy.table.QTable`, optional
        Cluster parameters with ``Cluster`` and the extinction column (CG2020
        table1, `~astro_ocl.sources.read_cg2020_clusters`). Without them the Gaia
        colour test is not applied (said in ``meta["validity"]``).
    domains : dict, optional
        ``{survey label: ValidityDomain}`` replacing or adding to the declared ones
        (`astro_ocl.sources.surveys.DOMAINS`); None for a label: no domain.
    extinction : str
        Column of ``cluster_params`` holding A_V (mag).

    Returns
    -------
    `~astropy.table.QTable`
        A copy of ``stars`` with ``rv_valid``, ``feh_valid`` (bool), ``rv_reason``,
        ``feh_reason`` (every reason, ``"; "``-separated, the first the most
        direct; empty when valid) and ``bp_rp0`` (mag, NaN where it cannot be
        computed). ``meta["validity"]``: per survey, the rules applied, the stars
        each rule could not judge (missing column or value), and surveys without a
        declared domain.

    Raises
    ------
    InputDataError
        No ``survey`` column or label, or cluster parameters without the
        extinction column.
    """
    out = QTable(stars, copy=True)
    n = len(out)
    if "survey" in out.colnames:
        labels = np.char.strip(np.asarray(out["survey"]).astype(str))
    elif out.meta.get("survey"):
        labels = np.full(n, str(out.meta["survey"]))
    else:
        raise InputDataError("the star table has no 'survey' column (the survey decides the "
                             "validity domain)", source=str(out.meta.get("source", "")),
                             column="survey")
    known = dict(DOMAINS)
    known.update(domains or {})
    # reason text -> stars it applies to, per quantity, in the order the rules run
    reasons = {"rv": {}, "feh": {}}

    def add(quantity, idx, text):
        mask = reasons[quantity].setdefault(text, np.zeros(n, bool))
        mask[np.asarray(idx, int)] = True

    # the Gaia colour of every star with BP, RP and a cluster extinction
    a_v = _cluster_extinction(out, cluster_params, extinction)
    if "bpmag" in out.colnames and "rpmag" in out.colnames:
        bp_rp = _values(out["bpmag"], u.mag) - _values(out["rpmag"], u.mag)
    else:
        bp_rp = np.full(n, np.nan)
    bp_rp0 = dereddened_colour(bp_rp, a_v).value
    teff = _values(out["teff"], u.K) if "teff" in out.colnames else np.full(n, np.nan)
    cluster = np.asarray(out["Cluster"]).astype(str) if "Cluster" in out.colnames else None

    report = {}
    for label in (str(x) for x in np.unique(labels)):
        rows = np.flatnonzero(labels == label)
        domain = known.get(label)
        if domain is None:
            report[label] = {"domain": "none declared: RV and [Fe/H] judged only by presence"}
            continue
        info = {"rules": [], "not judged": {}}
        for rule in domain.rules:
            outside, skipped = _rule_outside(rule, out, rows)
            for q in rule.applies:
                add(q, rows[outside], rule.reason)
            info["rules"].append(rule.reason)
            if skipped.any():
                info["not judged"][rule.reason] = int(skipped.sum())
        # pile-ups at a grid edge (the stars of one cluster, this survey)
        for edge in domain.grid_edges:
            what = PILEUP.format(parameter=_PARAMETER_NAMES.get(edge.parameter, edge.parameter))
            info["rules"].append(what)
            if cluster is None or edge.parameter not in out.colnames:
                info["not judged"][what] = int(rows.size)
                continue
            values = _values(out[edge.parameter][rows])
            for limit in (edge.low, edge.high):
                if limit is None:
                    continue
                near = np.abs(values - limit) <= edge.width
                for name in np.unique(cluster[rows][near]):
                    group = rows[near & (cluster[rows] == name)]
                    if group.size >= domain.min_pileup:
                        add("feh", group, what)
        # the Gaia colour: too hot for the pipeline's [Fe/H]; a template of the wrong kind
        hot_limit = domain.hot_star
        if hot_limit is not None:
            what = HOT_BY_COLOUR.format(teff=hot_limit.teff.to_value(u.K))
            info["rules"].append(what)
            limit = (colour_at_teff(hot_limit.teff) - hot_limit.colour_margin).to_value(u.mag)
            colour = bp_rp0[rows]
            judged = np.isfinite(colour)
            if (~judged).any():
                info["not judged"][what] = int((~judged).sum())
            with np.errstate(invalid="ignore"):
                hot = judged & (colour < limit)
            add("feh", rows[hot], what)
            if hot_limit.template_mismatch:
                mismatch = hot & (teff[rows] < hot_limit.cool_template.to_value(u.K))
                text = TEMPLATE_MISMATCH.format(teff=hot_limit.cool_template.to_value(u.K))
                info["rules"].append(text)
                add("rv", rows[mismatch], text)
                add("feh", rows[mismatch], text)
            info["colour limit"] = f"(BP-RP)_0 < {limit:.3f} mag"
        report[label] = info
    # the values themselves (a missing value a rule already explains keeps that reason)
    for q, cols, text in (("rv", ("rv", "e_rv"), NO_RV), ("feh", ("feh", "e_feh"), NO_FEH)):
        present = np.ones(n, bool)
        for c in cols:
            present &= np.isfinite(_values(out[c])) if c in out.colnames else False
        explained = np.zeros(n, bool)
        for mask in reasons[q].values():
            explained |= mask
        add(q, np.flatnonzero(~present & ~explained), text)

    for q in ("rv", "feh"):
        texts = list(reasons[q])
        hit = np.array([reasons[q][t] for t in texts]).reshape(len(texts), n)
        outside = hit.any(axis=0)
        column = np.full(n, "", dtype=object)
        for i in np.flatnonzero(outside):
            column[i] = "; ".join(t for t, h in zip(texts, hit[:, i]) if h)
        out[f"{q}_valid"] = ~outside
        out[f"{q}_reason"] = column.astype(str) if n else np.array([], dtype="U1")
    out["bp_rp0"] = bp_rp0 * u.mag
    for name in schema.VALIDITY:
        out[name].info.description = schema.VALIDITY[name].description
    out.meta["validity"] = report
    out.meta["validity_extinction"] = (
        "none: the Gaia colour test was not applied" if cluster_params is None else
        f"{extinction} of {cluster_params.meta.get('reference', 'the given cluster table')}")
    log.info("survey validity: %d of %d RVs and %d of %d [Fe/H] inside their survey's domain",
             int(out["rv_valid"].sum()), n, int(out["feh_valid"].sum()), n)
    return out


def _first(reason):
    return str(reason).split("; ")[0]


def _check_validity_columns(stars, columns):
    """`InputDataError` naming the first of ``columns`` that `survey_validity` did not add."""
    for c in columns:
        if c not in stars.colnames:
            raise InputDataError(f"no {c!r} column: run survey_validity first", column=c)


def validity_counts(stars):
    """Stars outside their survey's domain, per survey, quantity and (first) reason.

    Parameters
    ----------
    stars : `~astropy.table.QTable`
        Output of :func:`survey_validity`.

    Returns
    -------
    `~astropy.table.QTable`
        ``survey``, ``quantity`` ("RV" or "[Fe/H]"), ``reason`` (the first of a
        star's reasons), ``n``; sorted by survey, quantity and decreasing ``n``.
    """
    _check_validity_columns(stars, ("rv_valid", "feh_valid", "rv_reason", "feh_reason"))
    labels = np.asarray(stars["survey"]).astype(str) if "survey" in stars.colnames else \
        np.full(len(stars), str(stars.meta.get("survey", "")))
    rows = []
    for q in ("rv", "feh"):
        bad = ~np.asarray(stars[f"{q}_valid"], bool)
        first = np.array([_first(r) for r in np.asarray(stars[f"{q}_reason"])[bad]], dtype=str)
        for label in np.unique(labels[bad]):
            sel = labels[bad] == label
            reasons, counts = np.unique(first[sel], return_counts=True)
            for k in np.argsort(-counts, kind="stable"):
                rows.append((str(label), _LABELS[q], str(reasons[k]), int(counts[k])))
    return QTable(rows=rows or None, names=("survey", "quantity", "reason", "n"),
                  dtype=(str, str, str, int))


def log_validity(stars, stage_log, *, name="survey validity domain"):
    """Record the stars outside their survey's domain in a stage log, per survey and reason.

    Two stages, ``"<name>: RV"`` and ``"<name>: [Fe/H]"``: all stars in, those
    inside the domain out, the others dropped as ``"<survey>: <first reason>"``
    (they stay in the member table; they leave that quantity's statistics).

    Parameters
    ----------
    stars : `~astropy.table.QTable`
        Output of :func:`survey_validity`.
    stage_log : `~astro_ocl.accounting.StageLog`
    name : str

    Returns
    -------
    `~astropy.table.QTable`
        :func:`validity_counts`.
    """
    counts = validity_counts(stars)
    for q, label in (("rv", "RV"), ("feh", "[Fe/H]")):
        sel = counts["quantity"] == label
        dropped = {f"{s}: {r}": int(k) for s, r, k in
                   zip(counts["survey"][sel], counts["reason"][sel], counts["n"][sel])}
        stage_log.stage(f"{name}: {label}", n_in=len(stars),
                        n_out=int(np.sum(stars[f"{q}_valid"])), dropped=dropped,
                        note="outside their survey's domain: kept in the member table, "
                             "left out of the statistics")
    return counts


def statistics_input(stars):
    """The stars the cluster statistics may use, and where they are in ``stars``.

    Stars whose RV is outside the domain are left out; stars whose [Fe/H] is
    outside keep their RV but their ``feh``/``e_feh`` become NaN, so that the
    [Fe/H] statistics (`astro_ocl.steps.quality.parameter_flag`) do not use them.

    Parameters
    ----------
    stars : `~astropy.table.QTable`
        Output of :func:`survey_validity`.

    Returns
    -------
    table : `~astropy.table.QTable`
        The rows with ``rv_valid`` (a copy).
    index : ndarray of int
        Their row numbers in ``stars`` (to put the statistics' flags back).
    """
    _check_validity_columns(stars, ("rv_valid", "feh_valid"))
    index = np.flatnonzero(np.asarray(stars["rv_valid"], bool))
    table = stars[index]
    bad = ~np.asarray(table["feh_valid"], bool)
    for c in ("feh", "e_feh"):
        if c in table.colnames and bad.any():
            col = table[c].copy()
            col[bad] = np.nan * (col.unit if isinstance(col, u.Quantity) else 1)
            table[c] = col
    return table, index
