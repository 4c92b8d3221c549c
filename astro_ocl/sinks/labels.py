"""What a written catalogue says about itself: its surveys and their star counts.

The CDS ReadMe (title, abstract, description, file summary), the VOTable
DESCRIPTION and the figure titles name the surveys that made the result and how
many of their stars it holds, generated from the data (the member table's
``Survey`` column; a cluster table alone: its ``RVsurveys`` column; the
provenance's ``surveys`` when neither is there), never a fixed "LAMOST".
"""
import re

from ..result import describe_surveys, survey_counts

__all__ = ["SURVEY_SPECTRA", "SURVEY_REFERENCES", "catalogue_survey_counts", "spectra_phrase",
           "table_description", "catalogue_descriptions", "survey_references",
           "zero_point_sentence"]

#: What the spectra of each survey (``Survey`` label) are, for the ReadMe's abstract.
SURVEY_SPECTRA = {
    "LAMOST-LRS": "LAMOST low-resolution spectra",
    "LAMOST-MRS": "LAMOST medium-resolution spectra",
    "APOGEE": "APOGEE high-resolution near-infrared spectra",
    "GALAH": "GALAH high-resolution spectra",
    "Gaia-RVS": "Gaia RVS spectra",
}

#: References of each survey's data (``Survey`` label), for the ReadMe.
SURVEY_REFERENCES = {
    "LAMOST-LRS": ["Luo A.-L. et al. 2015, RAA 15, 1095 (LAMOST data releases)"],
    "LAMOST-MRS": ["Luo A.-L. et al. 2015, RAA 15, 1095 (LAMOST data releases)"],
    "APOGEE": ["Majewski S.R. et al. 2017, AJ 154, 94 (APOGEE)"],
    "GALAH": ["Buder S. et al. 2021, MNRAS 506, 150 (GALAH DR3)"],
    "Gaia-RVS": ["Katz D. et al. 2023, A&A 674, A5 (Gaia DR3 radial velocities)"],
}

_OCCAM = "Donor J. et al. 2020, AJ 159, 199 (OCCAM, APOGEE DR16 cluster members)"


def catalogue_survey_counts(*, members=None, clusters=None, provenance=None):
    """The surveys of a catalogue with their numbers of stars.

    Parameters
    ----------
    members, clusters : `~astropy.table.Table`, optional
        The member table (every star of its ``Survey`` column counted) and the
        cluster table (used alone: the FLAG=1 stars of its ``RVsurveys``).
    provenance : dict, optional
        Its ``surveys`` give the order, and the names when no table says them.

    Returns
    -------
    counts : dict
        ``{survey: number}`` (numbers None when only the provenance names the surveys).
    noun : str
        What is counted: ``"stars"`` or ``"FLAG=1 stars"``.
    """
    order = (provenance or {}).get("surveys")
    if members is not None and "Survey" in members.colnames:
        return survey_counts(members, order=order), "stars"
    if clusters is not None and "RVsurveys" in clusters.colnames:
        counts = survey_counts(clusters, order=order)
        if counts:
            return counts, "FLAG=1 stars"
    names = [s.strip() for s in str(order or "").split(",") if s.strip()]
    return {name: None for name in names}, "stars"


def _names(counts):
    names = list(counts)
    return names[0] if len(names) == 1 else ", ".join(names[:-1]) + " and " + names[-1]


def spectra_phrase(counts, *, noun="stars"):
    """Each survey's spectra with its number of stars, as a phrase of the ReadMe.

    E.g. ``LAMOST low-resolution spectra (LAMOST-LRS, 537 stars) and APOGEE ...
    (APOGEE, 1637 stars)``; ``spectroscopic surveys`` when no survey is known.

    Parameters
    ----------
    counts : dict
        From :func:`catalogue_survey_counts`.
    noun : str
        What the counts count.
    """
    if not counts:
        return "spectroscopic surveys"
    parts = []
    for name, n in counts.items():
        what = SURVEY_SPECTRA.get(name, f"{name} spectra")
        parts.append(f"{what} ({name}" + (f", {n} {noun})" if n is not None else ")"))
    return parts[0] if len(parts) == 1 else ", ".join(parts[:-1]) + " and " + parts[-1]


def table_description(kind, *, counts, noun="stars", n_clusters=None, counts_in_text=True):
    """A one-line description of a catalogue table naming its surveys.

    Parameters
    ----------
    kind : {"clusters", "members"}
    counts : dict
        From :func:`catalogue_survey_counts`.
    noun : str
        What the counts count.
    n_clusters : int, optional
        Number of clusters (cluster table).
    counts_in_text : bool
        Give the numbers of stars (the VOTable DESCRIPTION) or only the names
        (the short File Summary line of a CDS ReadMe).

    Returns
    -------
    str or None
        None for another kind of table.
    """
    names = _names(counts) if counts else "spectroscopic survey"
    with_counts = counts_in_text and counts and all(n is not None for n in counts.values())
    n = f" of {n_clusters}" if n_clusters is not None else " of"
    if kind == "clusters":
        if with_counts:
            return (f"Radial velocities and [Fe/H]{n} open clusters from their spectroscopic "
                    f"members: {describe_surveys(counts, noun=noun)}")
        return f"Radial velocities and [Fe/H]{n} open clusters from {names} members"
    if kind == "members":
        if with_counts:
            total = sum(counts.values())
            return (f"{total} spectroscopic stars matched to open-cluster members, with "
                    f"quality flags: {describe_surveys(counts, noun=noun)}")
        return f"{names} stars matched to open-cluster members, with quality flags"
    return None


def catalogue_descriptions(named, provenance=None, *, counts_in_text=True):
    """:func:`table_description` of the ``clusters`` and ``members`` tables of ``named``.

    Parameters
    ----------
    named : dict
        ``{stem: table}``; the stems ``clusters`` and ``members`` are described
        (from the member table's counts when it is there).
    provenance : dict, optional
    counts_in_text : bool
        See :func:`table_description`.

    Returns
    -------
    dict
        ``{stem: description}``; empty when no survey is known (the caller keeps
        its own description then).
    """
    counts, noun = catalogue_survey_counts(members=named.get("members"),
                                           clusters=named.get("clusters"),
                                           provenance=provenance)
    if not counts:
        return {}
    return {stem: table_description(stem, counts=counts, noun=noun,
                                    n_clusters=len(t) if stem == "clusters" else None,
                                    counts_in_text=counts_in_text)
            for stem, t in named.items() if stem in ("clusters", "members")}


def survey_references(counts, provenance=None):
    """The references of the surveys in ``counts`` (each once, in order)."""
    refs = []
    for name in counts:
        refs += SURVEY_REFERENCES.get(name, [])
    if "APOGEE" in counts and "occam" in str((provenance or {}).get("stars", "")).lower():
        refs.append(_OCCAM)
    return list(dict.fromkeys(refs))


def zero_point_sentence(provenance):
    """What the build did with the survey zero points, as a sentence ("" with one survey)."""
    provenance = provenance or {}
    if "zero_points" not in provenance:
        return ""
    mode = str(provenance["zero_points"])
    ref = provenance.get("zero_point_reference", "the reference survey")
    if mode == "off":
        return ""
    applied = [m.group(1) for part in str(provenance.get("zero_points_applied", "")).split(";")
               if (m := re.match(r"\s*(\S+ (?:RV|\[Fe/H\])) ", part))]
    if applied:
        return (f"The zero points of the surveys against {ref} were subtracted from the "
                f"stars ({', '.join(applied)}).")
    if mode == "apply":
        return (f"No zero point against {ref} could be applied (too few shared "
                "clusters); the surveys are on their own scales.")
    return (f"The zero points of the surveys against {ref} were measured on the "
            "clusters they share and not applied: each survey is on its own scale.")
