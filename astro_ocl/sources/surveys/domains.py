"""Validity domains: where a survey's radial velocity and [Fe/H] can be trusted.

A survey pipeline measures some stars well and returns numbers for others that
are not measurements: a B star fitted with FGK templates, a parameter pinned at
the edge of the pipeline's grid, a spectrum its own flags call bad. Each survey
adapter module declares its survey's `ValidityDomain` next to the adapter (the
survey's own flags and documented limits, with the references they come from);
`astro_ocl.steps.validity.survey_validity` applies the declarations to a star
table. A source never applies a domain: it only declares one.

A domain is made of

* `Rule` objects: conditions on one column of the canonical star table (a
  bitmask, a flag that must be zero, a boolean that must be true, a minimum S/N,
  a maximum temperature ...), each for the RV, the [Fe/H] or both;
* `GridEdge` objects: the limits of the pipeline's parameter grid, used to find
  *pile-ups*, several stars of one cluster sitting at the same grid edge;
* an optional `HotStarLimit`: the temperature above which the pipeline's [Fe/H]
  is not a measurement, applied to the Gaia colour of the star dereddened with its
  cluster's extinction (where the pipeline's own Teff cannot be trusted), and
  whether a star whose colour is hotter than that while the pipeline fitted a
  cooler template has its RV outside the domain too (template mismatch).

Every number comes with its reference in the declaring module; a number that is
our choice says so.
"""
from dataclasses import dataclass, field

import astropy.units as u

__all__ = ["Rule", "GridEdge", "HotStarLimit", "ValidityDomain", "RULE_KINDS", "QUANTITIES"]

#: The quantities a rule can concern.
QUANTITIES = ("rv", "feh")

#: What each rule kind requires of a star (``column`` its value, ``value`` the rule's).
RULE_KINDS = {
    "bits": "none of the bits `value` set in the integer bitmask `column`",
    "nonzero": "`column` == 0 (a survey flag where any other value means a problem)",
    "required_true": "`column` is true (a survey's own validation)",
    "at_least": "`column` >= `value`",
    "at_most": "`column` <= `value`",
    "below": "`column` < `value`",
    "never": "nothing: every star is outside (a quantity the survey's table gives "
             "without the flags needed to trust it)",
}


@dataclass(frozen=True)
class Rule:
    """One condition of a validity domain.

    Attributes
    ----------
    kind : str
        One of `RULE_KINDS`.
    column : str or None
        Column of the canonical star table the rule reads (None for ``"never"``).
    value : object
        The bits (sequence of int), the threshold (float or
        `~astropy.units.Quantity` in the column's unit) or None.
    applies : tuple of str
        ``("rv",)``, ``("feh",)`` or ``("rv", "feh")``.
    reason : str
        Short text written in the ``rv_reason``/``feh_reason`` column of a star
        the rule puts outside the domain.
    reference : str
        Where the rule comes from (a paper, a data-release document), or "our
        choice" with the argument.
    missing : {"skip", "outside"}
        What a missing column or a missing (NaN, masked) value means: the rule
        cannot be applied to that star (``"skip"``, counted as not applicable), or
        the star is outside the domain (``"outside"``).
    """

    kind: str
    column: str
    value: object = None
    applies: tuple = ("rv", "feh")
    reason: str = ""
    reference: str = ""
    missing: str = "skip"

    def __post_init__(self):
        if self.kind not in RULE_KINDS:
            raise ValueError(f"unknown rule kind {self.kind!r}; one of {sorted(RULE_KINDS)}")
        if not set(self.applies) <= set(QUANTITIES) or not self.applies:
            raise ValueError(f"applies must be a non-empty subset of {QUANTITIES}")
        if self.missing not in ("skip", "outside"):
            raise ValueError("missing must be 'skip' or 'outside'")


@dataclass(frozen=True)
class GridEdge:
    """A limit of a pipeline's parameter grid, for the pile-up detection.

    Several stars of one cluster within ``width`` of the same edge are a pile-up:
    the fit ran into the grid's limit, and the values there are limits of the grid,
    not measurements (`astro_ocl.steps.validity.survey_validity`).

    Attributes
    ----------
    parameter : str
        Column of the canonical star table (``"feh"``, ``"teff"``, ``"logg"``).
    low, high : float or None
        The grid's limits in the column's unit (None: no such limit declared).
    width : float
        How close to a limit a value counts as at the edge.
    reference : str
    """

    parameter: str
    low: float = None
    high: float = None
    width: float = 0.0
    reference: str = ""


@dataclass(frozen=True)
class HotStarLimit:
    """The temperature above which the survey's [Fe/H] is not a measurement.

    Applied to the star's Gaia colour dereddened with its cluster's extinction,
    so that it also finds hot stars the pipeline fitted with a cool template
    (`astro_ocl.steps.validity.dereddened_colour`).

    Attributes
    ----------
    teff : `~astropy.units.Quantity`
        The limit.
    colour_margin : `~astropy.units.Quantity`
        A star is photometrically hotter than ``teff`` when its (BP-RP)_0 is bluer
        than the main-sequence colour at ``teff`` by more than this margin (room for
        the error of the cluster's extinction and differential reddening).
    template_mismatch : bool
        A star photometrically hotter than ``teff`` whose spectroscopic Teff is
        below ``cool_template`` was fitted with a template of the wrong kind: its RV
        is outside the domain too.
    cool_template : `~astropy.units.Quantity`
        See ``template_mismatch``; below ``teff`` by more than the pipeline's Teff
        errors for such stars, so that a late-A star fitted a little cool keeps its RV.
    reference : str
    """

    teff: u.Quantity
    colour_margin: u.Quantity = field(default_factory=lambda: 0.1 * u.mag)
    template_mismatch: bool = True
    cool_template: u.Quantity = field(default_factory=lambda: 7000 * u.K)
    reference: str = ""


@dataclass(frozen=True)
class ValidityDomain:
    """The domain in which one survey's RV and [Fe/H] can be trusted.

    Attributes
    ----------
    survey : str
        Value of the star table's ``survey`` column the domain is for.
    rules : tuple of `Rule`
        Applied in this order; a star's reason lists every rule it breaks.
    grid_edges : tuple of `GridEdge`
    min_pileup : int
        Stars of one cluster at one grid edge that make a pile-up.
    hot_star : `HotStarLimit` or None
    references : tuple of str
        The documents the declaration rests on.
    notes : tuple of str
        What the domain does not check, and why.
    """

    survey: str
    rules: tuple = ()
    grid_edges: tuple = ()
    min_pileup: int = 2
    hot_star: HotStarLimit = None
    references: tuple = ()
    notes: tuple = ()

    def describe(self):
        """The declaration as lines of text (docs, provenance)."""
        lines = [f"{self.survey}:"]
        for r in self.rules:
            what = "RV and [Fe/H]" if len(r.applies) == 2 else \
                ("RV" if r.applies == ("rv",) else "[Fe/H]")
            lines.append(f"  {what}: {r.reason} [{r.reference}]")
        for g in self.grid_edges:
            lines.append(f"  grid edge {g.parameter}: [{g.low}, {g.high}] within {g.width} "
                         f"({self.min_pileup}+ stars of a cluster: pile-up) [{g.reference}]")
        if self.hot_star is not None:
            h = self.hot_star
            lines.append(f"  [Fe/H]: Gaia colour hotter than {h.teff} (margin {h.colour_margin})"
                         + (f"; RV too when the pipeline fitted a template cooler than "
                            f"{h.cool_template}" if h.template_mismatch else "")
                         + f" [{h.reference}]")
        lines += [f"  note: {n}" for n in self.notes]
        return lines
