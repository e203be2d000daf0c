"""The demand truth: the expected quantity of an invoice line at any price and context, the purchase incidence of
a product at its list price, the within-day price terms a line pays on top, and the draw of an observed quantity
around its expectation.

Everything here is a function of the truth's parameters (a product's row of ground_truth.csv, or arrays of
them) and of a line's context, so it answers "what would the market buy at this price in this week" without a
generated history; pricing.data.generate's docstring has the model and its calibration.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

SEGMENTS = ("guest", "retail", "wholesale")
SEGMENT_MULTIPLIER = {"guest": 0.2, "retail": 1.0, "wholesale": 2.4}
# With the within-day price terms, a guest's line is GUEST_QUANTITY_MULTIPLIER of a retail customer's (not 0.2):
# the guest premium makes the guest-to-known contrast a within-day price contrast, and its slope, the gap in log
# quantity over the log premium, matches the real file's once the gap does (docs/DATA.md). ground_truth.csv
# records the multiplier a file was drawn with (guest_quantity_multiplier).
GUEST_QUANTITY_MULTIPLIER = 0.35
WEEKDAY_MULTIPLIER = (1.0, 1.04, 1.0, 1.06, 0.95, 1.0, 0.9)  # Monday..Sunday; no trade on Saturdays
FOREIGN_MULTIPLIER = 1.3  # customers abroad order in bigger lots
EIRE_MULTIPLIER = 1.5
SEASON_AMPLITUDE = 0.12  # line quantities peak in November
MAX_PRICE_FACTOR = 1.5  # prices stay within [0.6, 1.5] x the product's base price
MIN_PRICE_FACTOR = 0.6
# Observed quantity: a mixture with the truth as its mean. A share of lines (per segment) are small picks,
# 1 + Poisson(SMALL_PICK_EXTRA); the rest are 1 + NegativeBinomial(shape) with whatever mean makes the
# mixture's mean exactly E[q]. This gives the real file's shape: many lines of 1-3 units, a median of 6 for
# customers, a long tail of bulk lines.
SMALL_PICK_SHARE = np.array([0.6, 0.25, 0.25])  # guest, retail, wholesale
SMALL_PICK_EXTRA = 0.4
QUANTITY_DISPERSION = np.array([0.5, 0.5, 0.5])
MIN_EXPECTED_QUANTITY = 1.0 + SMALL_PICK_EXTRA * SMALL_PICK_SHARE.max() + 0.05  # keeps both parts >= 1
MIN_CONTEXT_MULTIPLIER = SEGMENT_MULTIPLIER["guest"] * min(WEEKDAY_MULTIPLIER) * (1 - SEASON_AMPLITUDE)


def country_multiplier(country: np.ndarray | str) -> np.ndarray:
    """The country's scale on expected quantity: 1 at home, EIRE_MULTIPLIER for EIRE, FOREIGN_MULTIPLIER elsewhere
    (country names, broadcasts)."""
    country = np.asarray(country, dtype=object)
    return np.where(country == "United Kingdom", 1.0, np.where(country == "EIRE", EIRE_MULTIPLIER, FOREIGN_MULTIPLIER))


def season_multiplier(month: np.ndarray | int) -> np.ndarray:
    """The month's scale on expected quantity (1-12, broadcasts): a cosine of SEASON_AMPLITUDE peaking in November."""
    return 1.0 + SEASON_AMPLITUDE * np.cos(2 * np.pi * (np.asarray(month) - 11) / 12)


def context_multiplier(segment, country, month, weekday, guest: float = SEGMENT_MULTIPLIER["guest"]) -> np.ndarray:
    """m(context): a product-free scale on expected quantity. `weekday` is Monday=0; `guest`: the guest segment's
    multiplier (ground_truth.csv's guest_quantity_multiplier)."""
    multipliers = {**SEGMENT_MULTIPLIER, "guest": guest}
    seg = np.vectorize(multipliers.__getitem__, otypes=[float])(np.asarray(segment, dtype=object))
    return (
        seg
        * country_multiplier(country)
        * season_multiplier(month)
        * np.asarray(WEEKDAY_MULTIPLIER)[np.asarray(weekday)]
    )


def relative_incidence(list_price, base_price, elasticity) -> np.ndarray:
    """The share of a product's line slots kept at this list price: (p / (0.6 base)) ** -eta, 1 at the lowest
    list price a product can have (broadcasts)."""
    return (np.asarray(list_price, dtype=float) / (MIN_PRICE_FACTOR * np.asarray(base_price))) ** -np.asarray(
        elasticity, dtype=float
    )


def true_expected_weekly_lines(list_price, truth, week_scale: float) -> np.ndarray:
    """E[order lines of the product per week] at this list price (broadcasts over prices).

    `truth`: the product's row of ground_truth.csv (popularity, base_price, incidence_elasticity); `week_scale`:
    the week's `lines_scale` in ground_truth_weeks.csv (its expected sale lines over the keep rate)."""
    return (
        week_scale
        * float(truth["popularity"])
        * relative_incidence(list_price, truth["base_price"], truth["incidence_elasticity"])
    )


def true_expected_units_per_line(price, truth, contexts: pd.DataFrame, tiered: bool = True) -> np.ndarray:
    """E[units per order line] at each price, averaged over the given line contexts (columns segment, country,
    invoice_date): shape (len(price),). With `tiered`, wholesale lines pay the tier price of a list price (truth's
    wholesale_price_factor); without, every line pays `price` itself."""
    prices = np.atleast_1d(np.asarray(price, dtype=float))
    date = pd.to_datetime(contexts["invoice_date"])
    segment = contexts["segment"].to_numpy()
    factor = np.where(segment == "wholesale", float(truth["wholesale_price_factor"]), 1.0) if tiered else 1.0
    return true_expected_quantity(
        prices[:, None] * np.broadcast_to(factor, segment.shape)[None, :],
        truth["theta"],
        truth["amplitude"],
        segment[None, :],
        contexts["country"].to_numpy()[None, :],
        date.dt.month.to_numpy()[None, :],
        date.dt.day_of_week.to_numpy()[None, :],
        guest_multiplier_of(truth),
    ).mean(axis=1)


def guest_multiplier_of(truth) -> float:
    """The guest segment's quantity multiplier a truth was drawn with (files without the column: 0.2)."""
    value = truth.get("guest_quantity_multiplier") if hasattr(truth, "get") else None
    return SEGMENT_MULTIPLIER["guest"] if value is None or pd.isna(value) else float(value)


def true_expected_weekly_units(list_price, truth, contexts: pd.DataFrame, week_scale: float) -> np.ndarray:
    """E[units of the product per week] at each list price: E[lines per week] x E[units per line] over the given
    line contexts (columns segment, country, invoice_date), wholesale lines paying the tier price.

    Shape: (len(list_price),). Units per week; multiply by the price for weekly revenue (the data's currency)."""
    prices = np.atleast_1d(np.asarray(list_price, dtype=float))
    per_line = true_expected_units_per_line(prices, truth, contexts)
    return true_expected_weekly_lines(prices, truth, week_scale) * per_line


def within_day_factor(quantity, is_guest, guest_price_factor, break_quantity, break_price_factor) -> np.ndarray:
    """What a line pays over the price its quantity was drawn at (pricing.data.generate's docstring): the
    product's guest factor on guests' lines, its break factor on other lines of break_quantity units or more (0: no
    break), else 1. Every argument has one entry per line (the product's values repeated); the result too."""
    guest = np.asarray(is_guest, dtype=bool)
    breaks = np.asarray(break_quantity)
    broken = ~guest & (breaks > 0) & (np.asarray(quantity) >= breaks)
    return np.where(guest, guest_price_factor, np.where(broken, break_price_factor, 1.0))


def undo_within_day_prices(unit_price, quantity, is_guest, truth: pd.DataFrame) -> np.ndarray:
    """The price each sale line's quantity was drawn at (the list price, or the wholesale tier's price): the
    recorded `unit_price` without the guest premium and the quantity break (within 0.01 of rounding).

    `truth`: ground_truth.csv rows aligned with the lines (guest_price_factor, break_quantity,
    break_price_factor); all arguments have one entry per line."""
    factor = within_day_factor(
        quantity,
        is_guest,
        truth["guest_price_factor"].to_numpy(),
        truth["break_quantity"].to_numpy(),
        truth["break_price_factor"].to_numpy(),
    )
    return np.asarray(unit_price, dtype=float) / factor


def true_expected_quantity(
    price, theta, amplitude, segment, country, month, weekday, guest: float = SEGMENT_MULTIPLIER["guest"]
) -> np.ndarray:
    """The true E[quantity | invoice line] for any price and context (all arguments broadcast); `guest`: the
    truth's guest_quantity_multiplier."""
    price = np.asarray(price, dtype=float)
    return (
        np.asarray(amplitude)
        * np.exp(-price / np.asarray(theta))
        * context_multiplier(segment, country, month, weekday, guest)
    )


def sample_quantity(rng: np.random.Generator, mu: np.ndarray, segment: np.ndarray) -> np.ndarray:
    """Observed quantities >= 1 whose mean is exactly `mu` (see SMALL_PICK_SHARE); `segment`: each line's index
    into SEGMENTS. Draws, in this order: the small-pick coin, the negative binomial's gamma and Poisson, the small
    picks' Poisson (the order a seed's files depend on)."""
    small_share = SMALL_PICK_SHARE[segment]
    small = rng.random(len(mu)) < small_share
    bulk_mean = (mu - small_share * (1 + SMALL_PICK_EXTRA)) / (1 - small_share)
    bulk = 1 + negative_binomial(rng, np.maximum(bulk_mean - 1.0, 1e-9), QUANTITY_DISPERSION[segment])
    return np.where(small, 1 + rng.poisson(SMALL_PICK_EXTRA, len(mu)), bulk)


def negative_binomial(rng: np.random.Generator, mean: np.ndarray, shape: float) -> np.ndarray:
    """Gamma-Poisson draws with the given means (variance mean + mean^2 / shape)."""
    return rng.poisson(rng.gamma(shape, np.asarray(mean) / shape))
