"""Synthetic "Online Retail" transactions with a known demand truth.

The real UCI file cannot be downloaded here, so this module writes data of the same schema, the same kinds
of dirt and a similar shape, where every product's expected quantity per invoice line is known exactly:

    E[quantity | line] = amplitude * exp(-price / theta) * m(context)
    m(context)         = SEGMENT[segment] * country_multiplier(country) * season(month) * WEEKDAY[weekday]

Revenue per line, price * E[quantity], is maximised at price = theta whatever the context (the context
scales demand, it does not bend it), so a product's true optimum within its historical price range is
clip(theta, price_min, price_max). Observed quantities are 1 + NegativeBinomial with mean E[q] - 1, which
keeps every line at one unit or more and the mean exact; amplitudes are drawn so E[q] >= 1 over the whole
price range a product can reach.

Purchase incidence (`incidence`, on by default; 0 with confounding 0.5 writes the earlier files byte for byte): a
product's order lines arrive at a rate that falls with its list price, with a per-product elasticity eta_j,

    E[lines of product j in week w | list price p] = s_w * popularity_j * (p / (0.6 * base_j)) ** -eta_j
    eta_j = incidence * U(INCIDENCE_ELASTICITY)

(a line slot picks a product by popularity and keeps it with probability (p / (0.6 base)) ** -eta, so the
lowest list price a product can reach, 0.6 x base, is always kept; s_w is the week's expected sale lines over
the popularity-weighted keep rate, in `ground_truth_weeks.csv`). A retailer's weekly units are lines x units
per line, and the weekly revenue p x E[lines | p] x E[units per line | p] is maximised at the price in
`optimal_weekly_price`: with eta > 0 that lies below the per-line optimum theta, most often at the bottom of the
historical range: demand this elastic (about -1.4 for daily units, as measured on the real file) rewards the
lowest price with more revenue, and a finite optimum needs a cost (profit, the next issue).

Prices move for reasons a model can learn: list-price changes, promotion weeks and, as a confounder
(`confounding`, 0 turns it off; DEFAULT_CONFOUNDING), a wholesale tier discount, so bulk buyers pay less per
unit and buy more. Within a day (`within_day_prices`, on by default), two price terms of the real file are
written on top, after each line's quantity is drawn, so they record what a line paid and never move its
expected quantity:

- quantity breaks: a product with a break quantity B_j charges break_price_factor_j x the price on lines of
  B_j units or more (a lower unit price for a bigger line; the real file: 59% of known customers' lines of
  100+ units sit below the day's highest price, 0.8% of lines of 1-5 units; here, at a fifth of the rate, as
  BREAK_SHARES says why);
- a guest channel: lines without a customer pay guest_price_factor_j x the list price (the real file: 89% of
  guests' lines pay more than known customers that day, median log premium 0.69, a doubled price), and a
  guest's line is GUEST_QUANTITY_MULTIPLIER of a retail customer's in the truth.

`undo_within_day_prices` recovers the price a line's quantity was drawn at from the recorded one; the truth's
optimum is on the list price, and weekly revenue is valued at it (p x weekly units: both terms scale with p).

Customers' segments (guest, retail, wholesale) are hidden in the transactions and written to
`ground_truth_customers.csv` for the evaluator.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path

import numpy as np
import pandas as pd

REAL_ROWS = 541_909
REAL_PRODUCTS = 4_070
REAL_CUSTOMERS = 4_372
FIRST_DAY = date(2010, 12, 1)
LAST_DAY = date(2011, 12, 9)
CLOSED = (date(2010, 12, 24), date(2011, 1, 3))  # the shop shut over Christmas 2010
FIRST_INVOICE = 536_365
CUSTOMER_ID_RANGE = (12_346, 18_287)

# name, share of lines, share of customers (the real file's figures, rounded)
COUNTRIES: tuple[tuple[str, float, float], ...] = (
    ("United Kingdom", 0.9143, 0.9035),
    ("Germany", 0.0175, 0.0217),
    ("France", 0.0158, 0.0199),
    ("EIRE", 0.0151, 0.0007),
    ("Spain", 0.0047, 0.0071),
    ("Netherlands", 0.0044, 0.0021),
    ("Belgium", 0.0038, 0.0057),
    ("Switzerland", 0.0037, 0.0048),
    ("Portugal", 0.0028, 0.0043),
    ("Australia", 0.0023, 0.0021),
    ("Norway", 0.0020, 0.0023),
    ("Italy", 0.0015, 0.0034),
    ("Channel Islands", 0.0014, 0.0021),
    ("Finland", 0.0013, 0.0027),
    ("Cyprus", 0.0011, 0.0018),
    ("Sweden", 0.00085, 0.0018),
    ("Unspecified", 0.00082, 0.0009),
    ("Austria", 0.00074, 0.0025),
    ("Denmark", 0.00072, 0.0021),
    ("Japan", 0.00066, 0.0018),
    ("Poland", 0.00063, 0.0014),
    ("Israel", 0.00055, 0.0009),
    ("USA", 0.00054, 0.0009),
    ("Hong Kong", 0.00053, 0.0),
    ("Singapore", 0.00042, 0.0002),
    ("Iceland", 0.00034, 0.0002),
    ("Canada", 0.00028, 0.0009),
    ("Greece", 0.00027, 0.0009),
    ("Malta", 0.00023, 0.0005),
    ("United Arab Emirates", 0.00013, 0.0005),
    ("European Community", 0.00011, 0.0002),
    ("RSA", 0.00011, 0.0002),
    ("Lebanon", 0.00008, 0.0002),
    ("Lithuania", 0.00007, 0.0002),
    ("Brazil", 0.00006, 0.0002),
    ("Czech Republic", 0.00006, 0.0002),
    ("Bahrain", 0.00004, 0.0005),
    ("Saudi Arabia", 0.00002, 0.0002),
)
COUNTRY_NAMES = tuple(name for name, _, _ in COUNTRIES)
UK = 0
# where guests (no CustomerID) shop from
GUEST_COUNTRIES = {
    "United Kingdom": 0.95,
    "EIRE": 0.015,
    "Hong Kong": 0.012,
    "Unspecified": 0.008,
    "France": 0.008,
    "Switzerland": 0.004,
    "Israel": 0.003,
}

# ---- the demand truth -------------------------------------------------------------------------------
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
# eta_j, the elasticity of a product's line count to its list price, is incidence x a draw from this range.
# With the within-day price terms and the guest multiplier below it calibrates the generator to the real file,
# both measured by `pricing report`'s fixed-effect elasticities (stock code, date, country): real file units
# per line -1.06, daily units -1.37 (docs/DATA.md has the table, the seeds and the command).
INCIDENCE_ELASTICITY = (0.275, 0.825)
# The wholesale tier discount is 0.3 x confounding. Off by default: in the real file 0.8% of known customers'
# lines of 1-5 units sit below the day's highest price for the product, where a tier (0.16: 4.8% off) put 8%;
# its discounts come with quantity (the breaks above). The versions before incidence used 0.5 (15% off);
# `--incidence 0 --confounding 0.5 --no-within-day-prices` writes their files byte for byte.
DEFAULT_CONFOUNDING = 0.0
# Within-day price terms (module docstring): share of products per break quantity (0: none) and the break
# discount; the share of products whose guests pay more and their log premium (ln 2 + Exponential(SPREAD) -
# SHIFT: median 0.71, 90th percentile 0.81; the real file's guests: 0.69 and 0.94). The break shares are a
# fifth of what the real file's share of discounted 100+ unit lines (59%) suggests: this generator's known
# customers buy more big lines (75th percentile 30 units against 12), and at the real rates the within-day
# slope for known customers reads -1.65 against the real file's -1.21 (docs/DATA.md).
BREAK_QUANTITIES = (0, 12, 24, 48, 100)
BREAK_SHARES = (0.87, 0.006, 0.016, 0.048, 0.06)
BREAK_PRICE_FACTOR = (0.75, 0.9)
GUEST_PREMIUM_SHARE = 0.9
GUEST_PREMIUM_SPREAD = 0.06
GUEST_PREMIUM_SHIFT = 0.02
# unit cost / base price: with weekly elasticities of -1.5 to -2.5 the profit optimum, c e / (e + 1), then lies
# at 0.6-1.8 x base, mostly inside the historical range (revenue's sits at its bottom)
UNIT_COST_SHARE = (0.35, 0.6)
AMPLITUDE_HEADROOM = (1.15, 1.6)  # amplitude over its floor: sets the typical line quantity
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
    country = np.asarray(country, dtype=object)
    return np.where(country == "United Kingdom", 1.0, np.where(country == "EIRE", EIRE_MULTIPLIER, FOREIGN_MULTIPLIER))


def season_multiplier(month: np.ndarray | int) -> np.ndarray:
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
    """What a line pays over the price its quantity was drawn at (module docstring): the product's guest factor
    on guests' lines, its break factor on other lines of break_quantity units or more (0: no break), else 1.
    Every argument has one entry per line (the product's values repeated); the result too."""
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


# ---- shape of the file ------------------------------------------------------------------------------
DUPLICATE_RATE = 0.006  # plus ~0.4% that repeat by chance: ~1% exact duplicate lines in all
CANCELLATION_RATE = 0.017
ADJUSTMENT_RATE = 0.0025
NO_DESCRIPTION_RATE = 0.003
GUEST_LINE_SHARE = 0.25
GUEST_INVOICE_MEAN_LINES = 42
CUSTOMER_INVOICE_MEAN_LINES = 23
CANCELLED_LINES_PER_INVOICE = 2.4
WHOLESALE_SHARE = {"home": 0.18, "abroad": 0.35}
# stockcode: (description, share of lines); prices and placement are in _non_product_lines
NON_PRODUCT = {
    "POST": ("POSTAGE", 0.00232),
    "DOT": ("DOTCOM POSTAGE", 0.00131),
    "M": ("Manual", 0.00105),
    "C2": ("CARRIAGE", 0.000266),
    "D": ("Discount", 0.000142),
    "S": ("SAMPLES", 0.000116),
    "BANK CHARGES": ("Bank Charges", 0.0000683),
    "AMAZONFEE": ("AMAZON FEE", 0.0000627),
    "CRUK": ("CRUK Commission", 0.0000295),
    "PADS": ("PADS TO MATCH ALL CUSHIONS", 0.0000074),
}
ADJUSTMENT_REASONS = (
    "damaged",
    "lost",
    "check",
    "?",
    "wet damaged",
    "smashed",
    "thrown away",
    "missing",
    "sold as set on dotcom",
    "crushed",
)
# lines per day, relative to February (per trading day; November is ~2.9x February over the month)
MONTH_WEIGHT = {
    (2010, 12): 1.45,
    (2011, 1): 1.25,
    (2011, 2): 1.0,
    (2011, 3): 1.2,
    (2011, 4): 1.15,
    (2011, 5): 1.25,
    (2011, 6): 1.25,
    (2011, 7): 1.3,
    (2011, 8): 1.2,
    (2011, 9): 1.8,
    (2011, 10): 2.1,
    (2011, 11): 2.68,
    (2011, 12): 2.6,
}
WEEKDAY_WEIGHT = (0.95, 1.05, 1.0, 1.15, 0.85, 0.0, 0.75)
HOUR_WEIGHT = {
    7: 0.01,
    8: 0.05,
    9: 0.08,
    10: 0.12,
    11: 0.14,
    12: 0.16,
    13: 0.14,
    14: 0.12,
    15: 0.09,
    16: 0.05,
    17: 0.02,
    18: 0.01,
    19: 0.006,
    20: 0.004,
}

_COLOURS = (
    "WHITE",
    "RED",
    "PINK",
    "BLUE",
    "GREEN",
    "IVORY",
    "CREAM",
    "BLACK",
    "SILVER",
    "GOLD",
    "PURPLE",
    "ORANGE",
    "YELLOW",
    "PASTEL",
    "VINTAGE",
    "RETRO",
)
_THEMES = (
    "HANGING HEART",
    "POLKADOT",
    "REGENCY",
    "SPACEBOY",
    "DOLLY GIRL",
    "CIRCUS PARADE",
    "UNION FLAG",
    "PAISLEY PARK",
    "WOODLAND",
    "SKULLS",
    "BIRDIE",
    "CHRISTMAS",
    "STRAWBERRY",
    "ROSE",
    "DAISY",
    "LOVE",
    "HEART OF WICKER",
    "GINGHAM",
    "SCANDINAVIAN",
    "ENGLISH ROSE",
    "JAM MAKING",
    "DOILY",
    "BAROQUE",
    "APOTHECARY",
)
_NOUNS = (
    "T-LIGHT HOLDER",
    "METAL LANTERN",
    "COAT HANGER",
    "HOT WATER BOTTLE",
    "CAKE STAND",
    "TEA CUP AND SAUCER",
    "LUNCH BAG",
    "JUMBO BAG",
    "MUG",
    "CANDLE",
    "PHOTO FRAME",
    "CLOCK",
    "NOTEBOOK",
    "WRAP",
    "BUNTING",
    "CUSHION COVER",
    "DOORMAT",
    "STORAGE JAR",
    "TRINKET BOX",
    "PARASOL",
    "PAPER NAPKINS",
    "CAKE CASES",
    "CHOPPING BOARD",
    "LUGGAGE TAG",
    "PURSE",
    "WALL ART",
    "SIGN",
    "PLATE",
    "BOWL",
    "JUG",
    "MIRROR",
    "GARLAND",
    "BELL",
    "KEY RING",
    "ALARM CLOCK",
    "SHOPPING BAG",
    "HAND WARMER",
    "PENCILS",
    "STICKER SHEET",
    "BIRD ORNAMENT",
    "DRAWER KNOB",
    "TISSUES",
    "PARTY BAG",
    "BAKING SET",
    "TEA TOWEL",
    "APRON",
    "BOTTLE",
    "FRIDGE MAGNETS",
    "PICNIC BASKET",
    "WATERING CAN",
    "PLACEMATS",
    "COASTER",
    "SPOTTY BUNTING",
    "GIFT TAPE",
    "JIGSAW",
    "PAINT SET",
    "PLAYING CARDS",
    "CHALKBOARD",
    "DOOR STOP",
    "SOAP DISH",
)


@dataclass(frozen=True)
class Generated:
    transactions: pd.DataFrame  # the real CSV export's columns, already formatted
    ground_truth: pd.DataFrame  # one row per stock code
    customers: pd.DataFrame  # customer_id, country, segment
    weeks: pd.DataFrame  # week (Monday), lines_scale: s_w of the incidence truth
    unit_costs: pd.DataFrame | None = None  # stockcode, unit_cost: a retailer's cost file for the profit objective


def generate(
    rows: int = REAL_ROWS,
    seed: int = 0,
    confounding: float = DEFAULT_CONFOUNDING,
    incidence: float = 1.0,
    within_day_prices: bool = True,
) -> Generated:
    """Transactions, the truth per product and per week, and the customers' hidden segments.

    `confounding` in [0, 1] scales the wholesale tier discount; `incidence` >= 0 scales every product's
    elasticity of line counts to its list price (0: line counts ignore price); `within_day_prices` writes the
    quantity breaks and the guest premium (and the guest quantity multiplier). `incidence=0, confounding=0.5,
    within_day_prices=False` writes the files of the versions before incidence byte for byte. ValueError for
    settings outside those ranges or fewer than 1,000 rows."""
    if rows < 1_000:
        raise ValueError(f"rows must be at least 1000, got {rows}")
    if not 0 <= confounding <= 1:
        raise ValueError(f"confounding must be within [0, 1], got {confounding}")
    if not 0 <= incidence <= 5:
        raise ValueError(f"incidence must be within [0, 5], got {incidence}")
    return _Builder(rows, seed, confounding, incidence, within_day_prices).build()


def write(generated: Generated, out_dir: Path) -> dict[str, Path]:
    out_dir.mkdir(parents=True, exist_ok=True)
    paths = {
        "transactions": out_dir / "online_retail.csv",
        "ground_truth": out_dir / "ground_truth.csv",
        "customers": out_dir / "ground_truth_customers.csv",
        "weeks": out_dir / "ground_truth_weeks.csv",
    }
    if generated.unit_costs is not None:
        paths["unit_costs"] = out_dir / "unit_costs.csv"
        generated.unit_costs.to_csv(paths["unit_costs"], index=False, float_format="%.15g", lineterminator="\n")
    # %.15g prints 2.55 as "2.55" and 18.0 as "18", as the real export does
    generated.transactions.to_csv(paths["transactions"], index=False, float_format="%.15g", lineterminator="\n")
    generated.ground_truth.to_csv(paths["ground_truth"], index=False, float_format="%.15g", lineterminator="\n")
    generated.customers.to_csv(paths["customers"], index=False, lineterminator="\n")
    generated.weeks.to_csv(paths["weeks"], index=False, float_format="%.15g", lineterminator="\n")
    return paths


def load_ground_truth(path: Path) -> pd.DataFrame:
    return pd.read_csv(path, dtype={"stockcode": str}).set_index("stockcode")


class _Lines:
    """Column-wise accumulator of invoice lines, joined once at the end."""

    COLUMNS = ("doc", "pos", "sub", "product", "stockcode", "description", "quantity", "price", "customer", "country")

    def __init__(self) -> None:
        self.blocks: list[dict[str, np.ndarray]] = []

    def add(self, n: int, **columns) -> None:
        block = {}
        for name in self.COLUMNS:
            value = columns[name] if name in columns else _DEFAULTS[name]
            arr = np.asarray(value)
            block[name] = (
                np.full(n, value, dtype=arr.dtype if arr.dtype != object else object) if arr.ndim == 0 else arr
            )
        self.blocks.append(block)

    def concat(self) -> dict[str, np.ndarray]:
        return {name: np.concatenate([b[name] for b in self.blocks]) for name in self.COLUMNS}


_DEFAULTS = {"pos": 0, "sub": 0, "product": -1, "stockcode": None, "description": None, "customer": 0, "country": UK}


class _Builder:
    def __init__(
        self, rows: int, seed: int, confounding: float, incidence: float = 0.0, within_day_prices: bool = True
    ) -> None:
        self.rows = rows
        self.seed = seed
        self.rng = np.random.default_rng(seed)
        # incidence and within-day price draws come from streams of their own: with both off the main stream,
        # and so every file, is exactly what earlier versions wrote for the seed
        self.incidence_rng = np.random.default_rng([seed, 14])
        self.price_rng = np.random.default_rng([seed, 15])
        self.confounding = confounding
        self.incidence = incidence
        self.within_day_prices = within_day_prices
        self.guest_multiplier = GUEST_QUANTITY_MULTIPLIER if within_day_prices else SEGMENT_MULTIPLIER["guest"]
        scale = min(1.0, rows / REAL_ROWS) ** 0.5
        self.n_products = max(30, round(REAL_PRODUCTS * scale))
        self.n_customers = max(40, round(REAL_CUSTOMERS * scale))
        self.days, self.day_weight = _calendar()
        # documents (invoices): day index, minute of day, prefix ("", "C", "A")
        self.doc_day: list[np.ndarray] = []
        self.doc_minute: list[np.ndarray] = []
        self.doc_prefix: list[np.ndarray] = []
        self.n_docs = 0
        self.lines = _Lines()

    # -- documents ---------------------------------------------------------------------------------
    def new_docs(self, day: np.ndarray, minute: np.ndarray | None = None, prefix: str = "") -> np.ndarray:
        day = np.asarray(day, dtype=np.int64)
        if minute is None:
            minute = self.random_minutes(len(day))
        ids = np.arange(self.n_docs, self.n_docs + len(day))
        self.doc_day.append(day)
        self.doc_minute.append(np.asarray(minute, dtype=np.int64))
        self.doc_prefix.append(np.full(len(day), prefix, dtype=object))
        self.n_docs += len(day)
        return ids

    def random_days(self, n: int) -> np.ndarray:
        return self.rng.choice(len(self.days), size=n, p=self.day_weight)

    def random_minutes(self, n: int) -> np.ndarray:
        hours = np.array(list(HOUR_WEIGHT))
        p = np.array(list(HOUR_WEIGHT.values()))
        return self.rng.choice(hours, size=n, p=p / p.sum()) * 60 + self.rng.integers(0, 60, n)

    # -- the build ---------------------------------------------------------------------------------
    def build(self) -> Generated:
        self.make_products()
        self.make_customers()
        n = self.rows
        counts = {
            "duplicate": round(DUPLICATE_RATE * n),
            "cancel": round(CANCELLATION_RATE * n),
            "adjust": max(1, round(ADJUSTMENT_RATE * n)),
            "nodesc": max(1, round(NO_DESCRIPTION_RATE * n)),
            "baddebt": 3,
            "huge": 2 * max(1, round(n / 270_000)),
        }
        non_product = {code: max(1, round(rate * n)) for code, (_, rate) in NON_PRODUCT.items()}
        guestless_extras = (
            counts["adjust"]
            + counts["nodesc"]
            + counts["baddebt"]
            + non_product["DOT"]
            + non_product["AMAZONFEE"]
            + non_product["S"]
        )
        sale_lines = n - sum(counts.values()) - sum(non_product.values())
        guest_lines = max(1, round(GUEST_LINE_SHARE * n) - guestless_extras)
        customer_lines = sale_lines - guest_lines

        self.sale_invoices(guest_lines, customer_lines)
        self.huge_pairs(counts["huge"] // 2)
        self.cancellations(counts["cancel"])
        self.stock_adjustments(counts["adjust"], counts["nodesc"])
        self.bad_debt()
        self.non_product_lines(non_product)
        self.duplicates(counts["duplicate"])
        return self.assemble()

    def make_products(self) -> None:
        rng, n = self.rng, self.n_products
        base_numbers = rng.choice(np.arange(10_002, 90_215), size=n, replace=False)
        letters = np.array(list("ABCDEFGHJKLMNPRSTW"))
        suffix = np.where(rng.random(n) < 0.3, rng.choice(letters, n), "")
        self.codes = np.array([f"{b}{s}" for b, s in zip(base_numbers, suffix, strict=True)], dtype=object)
        names = rng.choice(len(_COLOURS) * len(_THEMES) * len(_NOUNS), size=n, replace=False)
        c, rest = np.divmod(names, len(_THEMES) * len(_NOUNS))
        t, o = np.divmod(rest, len(_NOUNS))
        self.descriptions = np.array(
            [f"{_COLOURS[i]} {_THEMES[j]} {_NOUNS[k]}" for i, j, k in zip(c, t, o, strict=True)], dtype=object
        )
        base = np.round(np.clip(rng.lognormal(np.log(2.9), 0.85, n), 0.19, 250.0), 2)
        self.base_price = base
        self.theta = base * rng.uniform(0.78, 1.1, n)
        # smallest amplitude keeping E[q] >= MIN_EXPECTED_QUANTITY at the highest price in the quietest context
        amp_min = MIN_EXPECTED_QUANTITY / (np.exp(-MAX_PRICE_FACTOR * base / self.theta) * MIN_CONTEXT_MULTIPLIER)
        self.amplitude = amp_min * rng.uniform(*AMPLITUDE_HEADROOM, n)
        popularity = rng.lognormal(0.0, 1.1, n) * base**-0.5
        self.popularity = popularity / popularity.sum()
        # price schedule: list-price changes on random days, promotion weeks, all within [0.6, 1.5] x base
        n_days = len(self.days)
        self.list_start = rng.uniform(0.9, 1.1, n)
        self.change_day = np.where(
            rng.random((n, 3)) < np.array([0.7, 0.45, 0.2]), rng.integers(0, n_days, (n, 3)), n_days + 1
        )
        self.change_factor = rng.uniform(0.85, 1.2, (n, 3))
        n_weeks = n_days // 6 + 2
        self.promo_weeks = rng.random((n, n_weeks)) < rng.uniform(0.03, 0.15, n)[:, None]
        self.promo_depth = rng.uniform(0.65, 0.9, n)
        self.incidence_elasticity = self.incidence * self.incidence_rng.uniform(*INCIDENCE_ELASTICITY, n)
        self.guest_price_factor = np.ones(n)
        self.break_quantity = np.zeros(n, dtype=np.int64)
        self.break_price_factor = np.ones(n)
        if self.within_day_prices:
            rng = self.price_rng
            premium = np.log(2.0) + rng.exponential(GUEST_PREMIUM_SPREAD, n) - GUEST_PREMIUM_SHIFT
            self.guest_price_factor = np.where(rng.random(n) < GUEST_PREMIUM_SHARE, np.round(np.exp(premium), 4), 1.0)
            self.break_quantity = rng.choice(np.array(BREAK_QUANTITIES), n, p=np.array(BREAK_SHARES))
            self.break_price_factor = np.where(
                self.break_quantity > 0, np.round(rng.uniform(*BREAK_PRICE_FACTOR, n), 4), 1.0
            )

    def make_customers(self) -> None:
        rng, n = self.rng, self.n_customers
        low, high = CUSTOMER_ID_RANGE
        self.customer_ids = np.sort(rng.choice(np.arange(low, high + 1), size=n, replace=False))
        shares = np.array([c for _, _, c in COUNTRIES])
        counts = _largest_remainder(shares, n)
        # every country keeps at least one customer (taken from the largest), as in the real file
        short = (shares > 0) & (counts == 0)
        counts[short] = 1
        counts[np.argmax(counts)] -= short.sum()
        self.customer_country = rng.permutation(np.repeat(np.arange(len(COUNTRIES)), counts))
        abroad = self.customer_country != UK
        wholesale = rng.random(n) < np.where(abroad, WHOLESALE_SHARE["abroad"], WHOLESALE_SHARE["home"])
        self.customer_segment = np.where(wholesale, 2, 1)  # index into SEGMENTS
        self.customer_activity = rng.lognormal(0.0, 1.0, n) * np.where(wholesale, 1.5, 1.0)

    def invoice_sizes(self, total: int, mean: float) -> np.ndarray:
        if total <= 0:
            return np.zeros(0, dtype=np.int64)
        draws = 1 + _negative_binomial(self.rng, np.full(int(total / mean * 1.3) + 10, mean - 1.0), 0.9)
        cut = int(np.searchsorted(np.cumsum(draws), total))
        sizes = draws[: cut + 1].copy()
        sizes[-1] -= sizes.sum() - total
        return sizes[sizes > 0]

    def sale_invoices(self, guest_lines: int, customer_lines: int) -> None:
        rng = self.rng
        guest_sizes = self.invoice_sizes(guest_lines, GUEST_INVOICE_MEAN_LINES)
        cust_sizes = self.invoice_sizes(customer_lines, CUSTOMER_INVOICE_MEAN_LINES)
        n_guest, n_cust = len(guest_sizes), len(cust_sizes)
        # guests
        guest_names = list(GUEST_COUNTRIES)
        gp = np.array(list(GUEST_COUNTRIES.values()))
        guest_country = np.array([COUNTRY_NAMES.index(c) for c in guest_names])[
            rng.choice(len(guest_names), n_guest, p=gp / gp.sum())
        ]
        # customers: each invoice's country by the real line shares; within a country every customer
        # shops at least once where there are invoices enough, then by activity
        line_share = np.array([s for _, s, _ in COUNTRIES])
        guest_share = np.array([GUEST_COUNTRIES.get(c, 0.0) for c in COUNTRY_NAMES])
        has_customers = np.bincount(self.customer_country, minlength=len(COUNTRIES)) > 0
        weight = np.clip(line_share - GUEST_LINE_SHARE * guest_share, 0, None) * has_customers
        cust_country = rng.choice(len(COUNTRIES), n_cust, p=weight / weight.sum())
        absent = np.flatnonzero(has_customers & (np.bincount(cust_country, minlength=len(COUNTRIES)) == 0))
        cust_country[rng.choice(np.flatnonzero(cust_country == UK), len(absent), replace=False)] = absent
        customer = np.empty(n_cust, dtype=np.int64)
        for c in np.unique(cust_country):
            pool = rng.permutation(np.flatnonzero(self.customer_country == c))
            where = np.flatnonzero(cust_country == c)
            first = min(len(pool), len(where))
            customer[where[:first]] = pool[:first]
            act = self.customer_activity[pool]
            customer[where[first:]] = pool[rng.choice(len(pool), len(where) - first, p=act / act.sum())]
        order = rng.permutation(n_cust)  # first visits spread over the year
        customer = customer[order]

        sizes = np.concatenate([guest_sizes, cust_sizes])
        inv_customer = np.concatenate([np.full(n_guest, -1), customer])
        inv_country = np.concatenate([guest_country, self.customer_country[customer]])
        inv_segment = np.concatenate([np.zeros(n_guest, dtype=np.int64), self.customer_segment[customer]])
        docs = self.new_docs(self.random_days(len(sizes)))
        day = np.concatenate(self.doc_day)[docs]

        line_doc = np.repeat(docs, sizes)
        line_inv = np.repeat(np.arange(len(sizes)), sizes)
        starts = np.repeat(np.cumsum(sizes) - sizes, sizes)
        pos = np.arange(sizes.sum()) - starts
        product = rng.choice(self.n_products, size=len(line_doc), p=self.popularity)
        line_day = day[line_inv]
        if self.incidence > 0:
            product = self.thin_by_list_price(product, line_day)
        segment = inv_segment[line_inv]
        country = inv_country[line_inv]
        price = self.price_at(product, line_day, segment)
        months = np.array([d.month for d in self.days])[line_day]
        weekdays = np.array([d.weekday() for d in self.days])[line_day]
        mu = true_expected_quantity(
            price,
            self.theta[product],
            self.amplitude[product],
            np.array(SEGMENTS, dtype=object)[segment],
            np.array(COUNTRY_NAMES, dtype=object)[country],
            months,
            weekdays,
            self.guest_multiplier,
        )
        quantity = _sample_quantity(rng, mu, segment)
        if self.within_day_prices:
            price = self.recorded_price(product, price, quantity, inv_customer[line_inv] < 0)
        cust_id = np.where(inv_customer[line_inv] >= 0, self.customer_ids[np.maximum(inv_customer[line_inv], 0)], 0)
        self.lines.add(
            len(line_doc),
            doc=line_doc,
            pos=pos,
            product=product,
            quantity=quantity,
            price=price,
            customer=cust_id,
            country=country,
        )
        self.sale_count = len(line_doc)
        self.sale_sizes = sizes
        self.sale_docs = docs
        self.sale_is_guest = inv_customer < 0
        self.sale_country = inv_country

    @property
    def tier(self) -> float:
        return 1.0 - 0.3 * self.confounding  # bulk buyers' discount: the confounder

    def list_factor(self, product: np.ndarray, day: np.ndarray) -> np.ndarray:
        factor = self.list_start[product] * np.prod(
            np.where(day[:, None] >= self.change_day[product], self.change_factor[product], 1.0), axis=1
        )
        promo = self.promo_weeks[product, day // 6]
        return factor * np.where(promo, self.promo_depth[product], 1.0)

    def list_price(self, product: np.ndarray, day: np.ndarray) -> np.ndarray:
        """The list price in force (promotions included, before the wholesale tier), clipped to the band."""
        base = self.base_price[product]
        return np.clip(base * self.list_factor(product, day), MIN_PRICE_FACTOR * base, MAX_PRICE_FACTOR * base)

    def price_at(self, product: np.ndarray, day: np.ndarray, segment: np.ndarray) -> np.ndarray:
        factor = self.list_factor(product, day) * np.where(segment == 2, self.tier, 1.0)
        base = self.base_price[product]
        return np.maximum(np.round(np.clip(base * factor, MIN_PRICE_FACTOR * base, MAX_PRICE_FACTOR * base), 2), 0.01)

    def recorded_price(
        self, product: np.ndarray, price: np.ndarray, quantity: np.ndarray, guest: np.ndarray
    ) -> np.ndarray:
        """What a line pays once its quantity is known: the guest premium on guests' lines, the product's
        quantity break on other lines of break_quantity units or more (module docstring), rounded to pence."""
        factor = within_day_factor(
            quantity,
            guest,
            self.guest_price_factor[product],
            self.break_quantity[product],
            self.break_price_factor[product],
        )
        return np.maximum(np.round(price * factor, 2), 0.01)

    def thin_by_list_price(self, product: np.ndarray, day: np.ndarray) -> np.ndarray:
        """Each line slot keeps its product with probability relative_incidence(list price that day) and draws
        again (by popularity) otherwise, until every slot has kept one: a product's share of a day's lines is
        popularity x relative incidence over that day's popularity-weighted mean keep rate (`keep_rate`)."""
        product = product.copy()
        pending = np.arange(len(product))
        while len(pending):
            listed = self.list_price(product[pending], day[pending])
            kept = self.incidence_rng.random(len(pending)) < relative_incidence(
                listed, self.base_price[product[pending]], self.incidence_elasticity[product[pending]]
            )
            pending = pending[~kept]
            product[pending] = self.incidence_rng.choice(self.n_products, len(pending), p=self.popularity)
        return product

    def keep_rate(self) -> np.ndarray:
        """Per trading day, the popularity-weighted mean of every product's relative incidence, (days,)."""
        rates = np.empty(len(self.days))
        every = np.arange(self.n_products)
        for d in range(len(self.days)):
            listed = self.list_price(every, np.full(self.n_products, d))
            rates[d] = self.popularity @ relative_incidence(listed, self.base_price, self.incidence_elasticity)
        return rates

    def weeks(self) -> pd.DataFrame:
        """s_w per week (Monday): the expected sale lines of its days over their keep rate, summed."""
        expected_lines = self.sale_count * self.day_weight
        per_day = expected_lines / (self.keep_rate() if self.incidence > 0 else 1.0)
        monday = pd.to_datetime(pd.Series(self.days)).dt.to_period("W-SUN").dt.start_time
        frame = pd.DataFrame({"week": monday.dt.date, "lines_scale": per_day})
        return frame.groupby("week", as_index=False)["lines_scale"].sum()

    def _sale_line_table(self) -> dict[str, np.ndarray]:
        block = self.lines.blocks[0]
        return {k: v[: self.sale_count] for k, v in block.items()}

    def huge_pairs(self, pairs: int) -> None:
        """A sale of tens of thousands of units, cancelled the same day (the real file has two)."""
        rng = self.rng
        cheap = np.flatnonzero(self.base_price < 3)
        product = rng.choice(cheap if len(cheap) else np.arange(self.n_products), pairs)
        customer = self.customer_ids[rng.integers(0, self.n_customers, pairs)]
        country = self.customer_country[np.searchsorted(self.customer_ids, customer)]
        day = self.random_days(pairs)
        minute = rng.integers(9 * 60, 12 * 60, pairs)
        qty = rng.integers(12_000, 81_000, pairs)
        price = np.round(self.base_price[product] * 0.6, 2)
        sale = self.new_docs(day, minute)
        cancel = self.new_docs(day, minute + rng.integers(5, 120, pairs), prefix="C")
        for docs, sign in ((sale, 1), (cancel, -1)):
            self.lines.add(
                pairs, doc=docs, product=product, quantity=sign * qty, price=price, customer=customer, country=country
            )

    def cancellations(self, n: int) -> None:
        """Cancel lines mirroring earlier customer sales, grouped into C-invoices per source invoice."""
        rng = self.rng
        sales = self._sale_line_table()
        # cancel a few lines of each chosen invoice, as customers do
        customer_docs = np.unique(sales["doc"][sales["customer"] > 0])
        chosen = rng.choice(
            customer_docs, size=max(1, min(len(customer_docs), round(n / CANCELLED_LINES_PER_INVOICE))), replace=False
        )
        candidates = np.flatnonzero(np.isin(sales["doc"], chosen))
        src = np.sort(rng.choice(candidates, size=min(n, len(candidates)), replace=False))
        src_doc = sales["doc"][src]
        uniq, inverse = np.unique(src_doc, return_inverse=True)
        doc_day = np.concatenate(self.doc_day)
        doc_minute = np.concatenate(self.doc_minute)
        offset = rng.geometric(0.35, len(uniq)) - 1
        day = np.minimum(doc_day[uniq] + offset, len(self.days) - 1)
        minute = np.where(
            offset == 0,
            np.minimum(doc_minute[uniq] + rng.integers(5, 240, len(uniq)), 20 * 60 + 59),
            self.random_minutes(len(uniq)),
        )
        docs = self.new_docs(day, minute, prefix="C")
        qty = sales["quantity"][src]
        partial = rng.random(len(src)) < 0.2
        cancelled = np.where(partial, rng.integers(1, qty + 1), qty)
        self.lines.add(
            len(src),
            doc=docs[inverse],
            pos=sales["pos"][src],
            product=sales["product"][src],
            quantity=-cancelled,
            price=sales["price"][src],
            customer=sales["customer"][src],
            country=sales["country"][src],
        )

    def stock_adjustments(self, n_adjust: int, n_nodesc: int) -> None:
        """Warehouse write-offs: own invoice, price 0, no customer; some with no description at all."""
        rng = self.rng
        product = rng.integers(0, self.n_products, n_adjust)
        self.lines.add(
            n_adjust,
            doc=self.new_docs(self.random_days(n_adjust)),
            product=product,
            description=rng.choice(np.array(ADJUSTMENT_REASONS, dtype=object), n_adjust),
            quantity=-(rng.geometric(0.08, n_adjust)),
            price=0.0,
        )
        product = rng.integers(0, self.n_products, n_nodesc)
        sign = np.where(rng.random(n_nodesc) < 0.7, -1, 1)
        self.lines.add(
            n_nodesc,
            doc=self.new_docs(self.random_days(n_nodesc)),
            product=product,
            description=np.full(n_nodesc, "", dtype=object),
            quantity=sign * rng.geometric(0.05, n_nodesc),
            price=0.0,
        )

    def bad_debt(self) -> None:
        day = int(np.searchsorted(np.array(self.days), date(2011, 8, 12)))
        amount = round(float(self.rng.uniform(5_000, 15_000)), 2)
        docs = self.new_docs(np.full(3, day), np.array([14 * 60 + 50, 14 * 60 + 51, 14 * 60 + 52]), prefix="A")
        self.lines.add(
            3,
            doc=docs,
            stockcode=np.full(3, "B", dtype=object),
            description=np.full(3, "Adjust bad debt", dtype=object),
            quantity=np.ones(3, np.int64),
            price=np.array([amount, -amount, -amount]),
        )

    def non_product_lines(self, counts: dict[str, int]) -> None:
        rng = self.rng
        sizes, docs = self.sale_sizes, self.sale_docs
        guest = np.flatnonzero(self.sale_is_guest)
        customer_inv = np.flatnonzero(~self.sale_is_guest)
        abroad = customer_inv[self.sale_country[customer_inv] != UK]
        customers = self._sale_line_table()

        def attach(code: str, n: int, pool: np.ndarray, quantity, price) -> None:
            pool = pool if len(pool) else np.arange(len(docs))
            inv = rng.choice(pool, n)
            first_line = np.cumsum(sizes) - sizes
            self.lines.add(
                n,
                doc=docs[inv],
                pos=sizes[inv],
                stockcode=np.full(n, code, dtype=object),
                description=np.full(n, NON_PRODUCT[code][0], dtype=object),
                quantity=quantity,
                price=np.round(price, 2),
                customer=customers["customer"][first_line[inv]],
                country=self.sale_country[inv],
            )

        def own_invoice(code: str, n: int, quantity, price, with_customer: bool, prefix: str) -> None:
            pick = rng.integers(0, self.n_customers, n)
            self.lines.add(
                n,
                doc=self.new_docs(self.random_days(n), prefix=prefix),
                stockcode=np.full(n, code, dtype=object),
                description=np.full(n, NON_PRODUCT[code][0], dtype=object),
                quantity=quantity,
                price=np.round(price, 2),
                customer=self.customer_ids[pick] if with_customer else 0,
                country=self.customer_country[pick] if with_customer else UK,
            )

        n = counts["POST"]
        attach("POST", n, abroad, rng.integers(1, 7, n), rng.choice([15.0, 18.0, 28.0, 40.0], n))
        n = counts["DOT"]
        attach("DOT", n, guest, np.ones(n, np.int64), rng.lognormal(np.log(120), 0.9, n))
        n_manual = counts["M"]
        n_refund = n_manual // 5
        attach(
            "M",
            n_manual - n_refund,
            customer_inv,
            rng.integers(1, 13, n_manual - n_refund),
            rng.lognormal(np.log(2.5), 1.3, n_manual - n_refund),
        )
        own_invoice("M", n_refund, -np.ones(n_refund, np.int64), rng.lognormal(np.log(5), 1.3, n_refund), True, "C")
        eire = customer_inv[self.sale_country[customer_inv] == COUNTRY_NAMES.index("EIRE")]
        n = counts["C2"]
        attach("C2", n, eire, np.ones(n, np.int64), np.full(n, 50.0))
        n = counts["PADS"]
        attach("PADS", n, customer_inv, np.ones(n, np.int64), np.full(n, 0.001))
        n = counts["D"]
        own_invoice("D", n, -np.ones(n, np.int64), rng.lognormal(np.log(15), 1.0, n), True, "C")
        n = counts["S"]
        own_invoice("S", n, -np.ones(n, np.int64), rng.lognormal(np.log(30), 1.0, n), False, "C")
        n = counts["BANK CHARGES"]
        own_invoice("BANK CHARGES", n, np.ones(n, np.int64), np.full(n, 15.0), True, "")
        n = counts["AMAZONFEE"]
        own_invoice("AMAZONFEE", n, -np.ones(n, np.int64), rng.uniform(500, 17_000, n), False, "C")
        n = counts["CRUK"]
        own_invoice("CRUK", n, -np.ones(n, np.int64), rng.uniform(1, 1_100, n), True, "C")

    def duplicates(self, n: int) -> None:
        """Exact copies of sale lines, printed right after the original (as the real export has them)."""
        sales = self._sale_line_table()
        src = self.rng.choice(self.sale_count, size=min(n, self.sale_count), replace=False)
        self.lines.add(len(src), **{k: v[src] for k, v in sales.items() if k != "sub"}, sub=1)

    # -- output ------------------------------------------------------------------------------------
    def assemble(self) -> Generated:
        rng = self.rng
        lines = self.lines.concat()
        day = np.concatenate(self.doc_day)
        minute = np.concatenate(self.doc_minute)
        prefix = np.concatenate(self.doc_prefix)
        # number documents in time order, with the real file's occasional gaps in the sequence
        order = np.lexsort((np.arange(self.n_docs), minute, day))
        number = np.empty(self.n_docs, dtype=np.int64)
        number[order] = FIRST_INVOICE + np.cumsum(1 + (rng.random(self.n_docs) < 0.4)) - 1
        invoice = np.array([f"{p}{n}" for p, n in zip(prefix, number, strict=True)], dtype=object)
        stamp = np.array([_format_stamp(self.days[d], m) for d, m in zip(day, minute, strict=True)], dtype=object)

        is_product = lines["product"] >= 0
        product = np.maximum(lines["product"], 0)
        stockcode = np.where(is_product & pd.isna(lines["stockcode"]), self.codes[product], lines["stockcode"])
        description = np.where(
            is_product & pd.isna(lines["description"]),
            self.descriptions[product],
            lines["description"],
        )
        description = np.where(description == "", None, description)
        row_order = np.lexsort((lines["sub"], lines["pos"], number[lines["doc"]]))
        customer = pd.array(np.where(lines["customer"] > 0, lines["customer"], 0), dtype="Int64")
        customer[lines["customer"] <= 0] = pd.NA
        frame = (
            pd.DataFrame(
                {
                    "InvoiceNo": invoice[lines["doc"]],
                    "StockCode": stockcode,
                    "Description": description,
                    "Quantity": lines["quantity"].astype(np.int64),
                    "InvoiceDate": stamp[lines["doc"]],
                    "UnitPrice": lines["price"].astype(float),
                    "CustomerID": customer,
                    "Country": np.array(COUNTRY_NAMES, dtype=object)[lines["country"]],
                }
            )
            .iloc[row_order]
            .reset_index(drop=True)
        )
        return Generated(frame, self.ground_truth(lines), self.customers(), self.weeks(), self.unit_costs())

    def ground_truth(self, lines: dict[str, np.ndarray]) -> pd.DataFrame:
        sale = (lines["product"] >= 0) & (lines["quantity"] > 0) & (lines["price"] > 0)
        sale[self.sale_count :] = False  # only genuine sale lines define the historical range
        frame = pd.DataFrame({"product": lines["product"][sale], "price": lines["price"][sale]})
        stats = frame.groupby("product")["price"].agg(["min", "max", "size"]).reindex(range(self.n_products))
        lo = stats["min"].to_numpy()
        hi = stats["max"].to_numpy()
        unseen = np.isnan(lo)
        lo = np.where(unseen, np.round(MIN_PRICE_FACTOR * self.base_price, 2), lo)
        hi = np.where(unseen, np.round(MAX_PRICE_FACTOR * self.base_price, 2), hi)
        optimum = np.clip(self.theta, lo, hi)
        weekly = self.weekly_optimum(lines, sale, lo, hi)
        return pd.DataFrame(
            {
                "stockcode": self.codes,
                "description": self.descriptions,
                "base_price": self.base_price,
                "theta": np.round(self.theta, 6),
                "amplitude": np.round(self.amplitude, 6),
                "price_min": lo,
                "price_max": hi,
                "optimal_price": np.round(optimum, 6),
                "optimum_interior": (self.theta > lo) & (self.theta < hi),
                "sale_lines": stats["size"].fillna(0).astype(np.int64).to_numpy(),
                "popularity": self.popularity,
                "incidence_elasticity": np.round(self.incidence_elasticity, 6),
                "wholesale_price_factor": self.tier,
                "guest_quantity_multiplier": self.guest_multiplier,
                "guest_price_factor": self.guest_price_factor,
                "break_quantity": self.break_quantity,
                "break_price_factor": self.break_price_factor,
                "optimal_weekly_price": np.round(weekly, 6),
                "weekly_optimum_interior": (weekly > lo + 1e-9) & (weekly < hi - 1e-9),
            }
        )

    def weekly_optimum(self, lines: dict, sale: np.ndarray, lo: np.ndarray, hi: np.ndarray) -> np.ndarray:
        """Per product, the list price within [lo, hi] maximising p x E[lines | p] x E[units per line | p] over
        the product's own sale lines' contexts (a 400-point grid, then the grid's best point)."""
        product = lines["product"][sale]
        customer = lines["customer"][sale]
        segment = np.where(customer > 0, self.customer_segment[np.searchsorted(self.customer_ids, customer)], 0)
        doc_day = np.concatenate(self.doc_day)[lines["doc"][sale]]
        months = np.array([d.month for d in self.days])[doc_day]
        weekdays = np.array([d.weekday() for d in self.days])[doc_day]
        country = np.array(COUNTRY_NAMES, dtype=object)[lines["country"][sale]]
        multiplier = context_multiplier(
            np.array(SEGMENTS, dtype=object)[segment], country, months, weekdays, self.guest_multiplier
        )
        wholesale = segment == 2
        # E[units per line | p] = amplitude x (M1 exp(-p / theta) + Mt exp(-tier p / theta)): two sums per product
        m_full = np.bincount(product, multiplier * ~wholesale, minlength=self.n_products)
        m_tier = np.bincount(product, multiplier * wholesale, minlength=self.n_products)
        seen = (m_full + m_tier) > 0
        m_full = np.where(seen, m_full, multiplier[~wholesale].sum())  # unseen: the population's mix
        m_tier = np.where(seen, m_tier, multiplier[wholesale].sum())
        grid = lo[:, None] + (hi - lo)[:, None] * np.linspace(0.0, 1.0, 400)[None, :]
        theta = self.theta[:, None]
        units = m_full[:, None] * np.exp(-grid / theta) + m_tier[:, None] * np.exp(-self.tier * grid / theta)
        revenue = grid * relative_incidence(grid, self.base_price[:, None], self.incidence_elasticity[:, None]) * units
        return grid[np.arange(self.n_products), np.argmax(revenue, axis=1)]

    def unit_costs(self) -> pd.DataFrame:
        """A cost file as a retailer would keep one: each product's unit cost, UNIT_COST_SHARE of its base price
        (drawn from a stream of its own: the other files do not change with it), to the penny."""
        share = np.random.default_rng([self.seed, 16]).uniform(*UNIT_COST_SHARE, self.n_products)
        cost = np.maximum(np.round(self.base_price * share, 2), 0.01)
        return pd.DataFrame({"stockcode": self.codes, "unit_cost": cost})

    def customers(self) -> pd.DataFrame:
        return pd.DataFrame(
            {
                "customer_id": self.customer_ids,
                "country": np.array(COUNTRY_NAMES, dtype=object)[self.customer_country],
                "segment": np.array(SEGMENTS, dtype=object)[self.customer_segment],
            }
        )


def _sample_quantity(rng: np.random.Generator, mu: np.ndarray, segment: np.ndarray) -> np.ndarray:
    """Quantities >= 1 whose mean is exactly `mu` (see SMALL_PICK_SHARE)."""
    small_share = SMALL_PICK_SHARE[segment]
    small = rng.random(len(mu)) < small_share
    bulk_mean = (mu - small_share * (1 + SMALL_PICK_EXTRA)) / (1 - small_share)
    bulk = 1 + _negative_binomial(rng, np.maximum(bulk_mean - 1.0, 1e-9), QUANTITY_DISPERSION[segment])
    return np.where(small, 1 + rng.poisson(SMALL_PICK_EXTRA, len(mu)), bulk)


def _negative_binomial(rng: np.random.Generator, mean: np.ndarray, shape: float) -> np.ndarray:
    """Gamma-Poisson draws with the given means (variance mean + mean^2 / shape)."""
    return rng.poisson(rng.gamma(shape, np.asarray(mean) / shape))


def _largest_remainder(shares: np.ndarray, total: int) -> np.ndarray:
    raw = shares / shares.sum() * total
    counts = np.floor(raw).astype(np.int64)
    counts[np.argsort(counts - raw, kind="stable")[: total - counts.sum()]] += 1
    return counts


def _calendar() -> tuple[np.ndarray, np.ndarray]:
    """Trading days (no Saturdays, closed over Christmas 2010) and each day's share of invoices."""
    days, weights = [], []
    day = FIRST_DAY
    while day <= LAST_DAY:
        closed = CLOSED[0] <= day <= CLOSED[1]
        if day.weekday() != 5 and not closed:
            days.append(day)
            weights.append(MONTH_WEIGHT[(day.year, day.month)] * WEEKDAY_WEIGHT[day.weekday()])
        day += timedelta(days=1)
    w = np.array(weights)
    return np.array(days, dtype=object), w / w.sum()


def _format_stamp(day: date, minute: int) -> str:
    return f"{day.month}/{day.day}/{day.year} {minute // 60}:{minute % 60:02d}"
