"""Helpers shared by the parts of the reproduction: tolerances, hypotheses, statistics, cited
numbers."""
from dataclasses import dataclass

import astropy.units as u
import numpy as np

__all__ = ["KMS", "KPC_KMS", "KM2S2", "Tolerance", "Hypothesis", "values", "column_stats",
           "Citations", "printed_precision", "truncate"]

KMS = u.km / u.s
KPC_KMS = u.kpc * KMS
KM2S2 = u.km ** 2 / u.s ** 2


def values(col):
    """A column (Quantity, masked, plain) as a float ndarray (masked -> NaN)."""
    data = getattr(col, "value", col)
    if hasattr(data, "filled"):
        data = data.astype(float).filled(np.nan)
    return np.asarray(data, float)


@dataclass(frozen=True)
class Tolerance:
    """When one of our values counts as reproducing a published one.

    ``|ours - pub| <= abs`` or ``|ours - pub| <= rel * |pub|``; a column agrees when
    at least ``fraction`` of the values with both numbers do.
    """

    abs: float = 0.0
    rel: float = 0.0
    fraction: float = 0.95
    #: How ``abs`` reads in another unit (e.g. ``"1 arcsec"`` for 1/3600 deg).
    words: str = ""

    def ok(self, ours, pub):
        d = np.abs(ours - pub)
        return (d <= self.abs) | (d <= self.rel * np.abs(pub))

    def text(self, unit=""):
        """The tolerance in words, e.g. ``0.5 % or 0.5 kpc km / s for >= 95 % of the values``."""
        parts = [] if (self.abs or self.rel) else ["equal"]
        if self.abs:
            parts.append(self.words or f"{self.abs:g} {unit}".strip())
        if self.rel:
            parts.append(f"{100 * self.rel:g} %")
        return " or ".join(parts) + f" for >= {100 * self.fraction:g} % of the values"


@dataclass
class Hypothesis:
    """One explicit guess at how published numbers were computed.

    Attributes
    ----------
    name : str
        Short name.
    columns : tuple of str
        Published columns it is about.
    description : str
        What was assumed.
    compute : callable
        ``compute(inputs, ours) -> dict`` of column -> values (same order as
        ``inputs``), given the published inputs and our default dynamics.
    """

    name: str
    columns: tuple
    description: str
    compute: object


def column_stats(ours, pub, tol):
    """n, median and largest (signed) difference, median relative difference, fraction ok."""
    ours, pub = values(ours), values(pub)
    ok = np.isfinite(ours) & np.isfinite(pub)
    n = int(ok.sum())
    if n == 0:
        return dict(n=0, median_diff=np.nan, max_diff=np.nan, median_reldiff=np.nan,
                    frac_ok=np.nan)
    d = ours[ok] - pub[ok]
    with np.errstate(divide="ignore", invalid="ignore"):
        rel = np.abs(d) / np.abs(pub[ok])
    rel = rel[np.isfinite(rel)]
    return dict(n=n, median_diff=float(np.median(d)), max_diff=float(d[np.argmax(np.abs(d))]),
                median_reldiff=float(np.median(rel)) if rel.size else np.nan,
                frac_ok=float(np.mean(tol.ok(ours[ok], pub[ok]))))


class Citations:
    """The numbers an explanation cites, kept beside it (``meta['cited']`` of its table).

    ``cite(name, value, fmt)`` formats ``value`` for the text and records it under
    ``name``, so that every number in the report's sentences can be found among
    the numbers of the output tables.
    """

    def __init__(self):
        self.numbers = {}

    def __call__(self, name, value, fmt="g"):
        value = float(getattr(value, "value", value))
        self.numbers[name] = value
        return format(int(round(value)), fmt) if fmt.endswith("d") else format(value, fmt)

    def pct(self, name, fraction, fmt=".1f"):
        """A fraction cited as a percentage (the fraction is recorded)."""
        fraction = float(getattr(fraction, "value", fraction))
        self.numbers[name] = fraction
        return format(100 * fraction, fmt) + " %"


def printed_precision(text):
    """The unit of the last printed digit of a number written as ``text`` (``"0.85"`` -> 0.01)."""
    text = str(text).strip().lstrip("+-~").lower()
    if "e" in text:
        mantissa, exponent = text.split("e")
        return printed_precision(mantissa) * 10.0 ** int(exponent)
    return 10.0 ** -(len(text.split(".")[1]) if "." in text else 0)


def truncate(x, decimals):
    """``x`` cut (towards zero) to ``decimals`` decimals, as a table printed by truncation."""
    f = 10.0 ** decimals
    return np.trunc(np.asarray(x, float) * f + np.sign(x) * 1e-9) / f
