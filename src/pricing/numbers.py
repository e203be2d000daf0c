"""Strict numbers: what a person types, read the way a person means it, everywhere a number comes in (query
parameters, batch rows, environment settings).

Python's own `float()` and `int()` read far more than people write: `1_0` is 10, `1e3` is 1000, `nan` and
`inf` are numbers, and `int('١٢')` reads Arabic-Indic digits. A price or a count written that way is a typo or
a probe, not a request; each is refused here with a message naming the parameter, instead of being taken as
something the user did not mean.
"""

from __future__ import annotations

import math
import re

# Plain decimal notation, ASCII digits only (re.ASCII: `\d` would match any Unicode digit): an optional sign,
# digits with an optional fraction, or a bare fraction (`.5`). No exponent, no underscores, no inf/nan.
_DECIMAL = re.compile(r"[+-]?(?:\d+(?:\.\d*)?|\.\d+)", re.ASCII)
# An integer may carry a fraction of zeros only: spreadsheets and pandas write whole numbers held as floats
# that way (CustomerID `17850.0` in exports of the Online Retail file); `13122.9` is not a customer.
_INTEGER = re.compile(r"([+-]?\d+)(?:\.0*)?", re.ASCII)


class NumberError(ValueError):
    """A value is not a plain number or lies outside its bounds; the message starts with the parameter's name."""


def parse_decimal(name: str, text: str, low: float | None = None, high: float | None = None) -> float:
    """`text` as a finite float in plain decimal notation, within [low, high] when given.

    Raises NumberError naming `name` for anything else (`1_0`, `1e3`, `nan`, non-ASCII digits, out of bounds)."""
    stripped = text.strip()
    if not _DECIMAL.fullmatch(stripped):
        raise NumberError(f"{name}: not a number: {text[:40]!r}")
    value = float(stripped)
    if not math.isfinite(value):  # only a value beyond float's range gets here (hundreds of digits)
        raise NumberError(f"{name}: must be finite")
    _check_bounds(name, value, low, high)
    return value


def parse_integer(name: str, text: str, low: int | None = None, high: int | None = None) -> int:
    """`text` as an int (ASCII digits; a fraction of zeros, `17850.0`, is allowed), within [low, high] when given.

    Raises NumberError naming `name` for a fraction (`13122.9`), underscores, exponents or non-ASCII digits."""
    match = _INTEGER.fullmatch(text.strip())
    if match is None:
        raise NumberError(f"{name}: not an integer: {text[:40]!r}")
    value = int(match.group(1))
    _check_bounds(name, value, low, high)
    return value


def _check_bounds(name: str, value: float, low: float | None, high: float | None) -> None:
    if low is not None and high is not None and not low <= value <= high:
        raise NumberError(f"{name}: must be within {low:g}..{high:g}, got {value:g}")
    if low is not None and value < low:
        raise NumberError(f"{name}: must be at least {low:g}, got {value:g}")
    if high is not None and value > high:
        raise NumberError(f"{name}: must be at most {high:g}, got {value:g}")
