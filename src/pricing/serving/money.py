"""Prices as money: whole minor units (pence for the Online Retail file's pounds sterling), compared exactly.

A price a shop can charge is a whole number of minor units. The decision works on integer pence, so "the current
price" and "a candidate price" are equal exactly when they are the same number of pence (never by a relative
float tolerance, under which 10.7599 and 10.76 count as one price), every rule boundary rounds to the pence it
admits (a floor of 1.368 admits 1.37 and up; a ceiling of 1.368 admits 1.36 and down), and `price_to_set` is
always a whole penny. MINOR_UNITS is the currency's: 100 minor units per unit for GBP, EUR and USD (ISO 4217
exponent 2), the currencies the data set and this service are used with.
"""

from __future__ import annotations

import numpy as np

MINOR_UNITS = 100  # minor units (pence) per currency unit: ISO 4217 exponent 2
# float arithmetic on a boundary (1.37 x 100 = 137.00000000000003) must not move it by a penny: a boundary this
# close to a whole penny is that penny
_SNAP = 1e-6


def to_minor(prices) -> np.ndarray:
    """Prices (currency units, any shape) as the nearest whole minor units (int64, same shape)."""
    return np.rint(np.asarray(prices, dtype=float) * MINOR_UNITS).astype(np.int64)


def from_minor(minor) -> np.ndarray:
    """Whole minor units (any shape) as prices in currency units (float64, same shape)."""
    return np.asarray(minor, dtype=np.int64) / MINOR_UNITS


def ceil_minor(price: float) -> int:
    """The lowest whole minor unit at or above `price` (currency units): what a lower bound admits."""
    return int(np.ceil(price * MINOR_UNITS - _SNAP))


def floor_minor(price: float) -> int:
    """The highest whole minor unit at or below `price` (currency units): what an upper bound admits."""
    return int(np.floor(price * MINOR_UNITS + _SNAP))


def is_whole_minor(prices) -> np.ndarray:
    """Whether each price (currency units) is a whole number of minor units (booleans, same shape)."""
    scaled = np.asarray(prices, dtype=float) * MINOR_UNITS
    return np.abs(scaled - np.rint(scaled)) < _SNAP * MINOR_UNITS
