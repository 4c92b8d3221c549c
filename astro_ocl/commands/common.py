"""What every subcommand shares: the help formatter and option-value checkers.

The checkers are ``type=`` functions for `argparse`: a bad value gives one
line naming the option and the value (``astro-ocl build: error: argument
--threshold: 1.5 is not in [0, 1]``) and exit status 2.
"""
import argparse
import math
import re

from ..exceptions import ParameterError

__all__ = ["HelpFormatter", "positive_int", "non_negative_int", "positive_float",
           "float_range", "describe", "option_type", "say"]


def say(args, *values, **kwargs):
    """``print`` a command's report (summaries, tables of results, "wrote N files"),
    unless ``-q``.

    ``-q`` (``--quiet``) leaves only errors: no warnings, no progress, no report.
    What a command is asked to print instead of writing a file (``query`` without
    ``--out``, ``cache list``) is its output, not a report: it is printed with
    ``print``, ``-q`` or not.

    Parameters
    ----------
    args : `argparse.Namespace`
        The parsed command line (its ``quiet``).
    *values, **kwargs
        Passed to `print`.
    """
    if not getattr(args, "quiet", False):
        print(*values, **kwargs)


class HelpFormatter(argparse.ArgumentDefaultsHelpFormatter):
    """Show a default once: not when it is None or False, nor when the help names it."""

    def _get_help_string(self, action):
        text = action.help or ""
        if ("default" in text.lower() or action.default is None or action.default is False
                or action.default is argparse.SUPPRESS):
            return text
        return super()._get_help_string(action)


def describe(docstring):
    """The second paragraph of a command module's docstring, as plain text for ``--help``.

    RST literals (````x````) and roles lose their markup.
    """
    text = docstring.split("\n\n")[1].replace("\n", " ")
    text = re.sub(r":\w+:`~?([^`]+)`", r"\1", text)
    text = text.replace("``", "'")
    return re.sub(r"`([^`]+)`", r"\1", text)


def _number(kind, text, check, expected):
    try:
        value = kind(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number") from None
    if not check(value):
        raise argparse.ArgumentTypeError(f"{text} is not {expected}")
    return value


def positive_int(minimum=1):
    """An integer option of at least ``minimum``."""
    def check(text):
        return _number(int, text, lambda v: v >= minimum, f"an integer >= {minimum}")
    check.__name__ = "integer"
    return check


def non_negative_int(text):
    """An integer option >= 0."""
    return _number(int, text, lambda v: v >= 0, "an integer >= 0")


def positive_float(text):
    """A finite float option > 0."""
    return _number(float, text, lambda v: math.isfinite(v) and v > 0, "a positive number")


def float_range(low, high):
    """A float option in the closed interval [low, high]."""
    def check(text):
        return _number(float, text, lambda v: low <= v <= high, f"in [{low:g}, {high:g}]")
    check.__name__ = "number"
    return check


def option_type(check, name=None):
    """An `argparse` ``type=`` from a checker of `astro_ocl.options` (the library's own).

    The command line then refuses a value exactly as the library does, with the
    checker's message (exit status 2, one line).

    Parameters
    ----------
    check : callable
        ``check(text) -> value``, raising `~astro_ocl.exceptions.ParameterError`.
    name : str, optional
        Name of the type in argparse's messages (default the checker's).
    """

    def convert(text):
        try:
            return check(text)
        except ParameterError as exc:
            raise argparse.ArgumentTypeError(exc.expected) from None
    convert.__name__ = name or check.__name__
    return convert
