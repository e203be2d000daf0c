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

The code lives in pricing.data.synthetic, a module a job: `truth` (the demand truth above, as functions of a
product's parameters), `market` (drawing the products, customers, calendar and historic list prices, and what
the market buys at a price on a day), `catalogue` (stock codes and descriptions), `ledger` (documents, lines
and the export's format), `sales` (the sale invoices), `history` (every other line of the file and their
counts), `files` (the truth tables and the CSV files) and `by_day` (the history written a day at a time, for
files of tens of millions of lines). This module keeps the entry points, `generate`, `write` and `write_by_day`,
and every name callers import from it.
"""

from __future__ import annotations

import numpy as np

from pricing.data.synthetic.by_day import BY_DAY_FROM_ROWS, BY_DAY_MIN_ROWS, write_by_day
from pricing.data.synthetic.files import Generated, load_ground_truth, tables, write
from pricing.data.synthetic.history import (
    ADJUSTMENT_RATE,
    ADJUSTMENT_REASONS,
    CANCELLATION_RATE,
    CANCELLED_LINES_PER_INVOICE,
    DUPLICATE_RATE,
    NO_DESCRIPTION_RATE,
    NON_PRODUCT,
    write_history,
)
from pricing.data.synthetic.ledger import FIRST_INVOICE, HOUR_WEIGHT, Ledger, Lines
from pricing.data.synthetic.market import (
    AMPLITUDE_HEADROOM,
    BREAK_PRICE_FACTOR,
    BREAK_QUANTITIES,
    BREAK_SHARES,
    CLOSED,
    COUNTRIES,
    COUNTRY_NAMES,
    CUSTOMER_ID_RANGE,
    DEFAULT_CONFOUNDING,
    FIRST_DAY,
    GUEST_COUNTRIES,
    GUEST_PREMIUM_SHARE,
    GUEST_PREMIUM_SHIFT,
    GUEST_PREMIUM_SPREAD,
    INCIDENCE_ELASTICITY,
    LAST_DAY,
    MARKETS,
    MONTH_WEIGHT,
    REAL_CUSTOMERS,
    REAL_PRODUCTS,
    REAL_ROWS,
    UK,
    UNIT_COST_SHARE,
    WEEKDAY_WEIGHT,
    WHOLESALE_SHARE,
    Market,
    Streams,
    check_settings,
    market_size,
)
from pricing.data.synthetic.sales import (
    CUSTOMER_INVOICE_MEAN_LINES,
    GUEST_INVOICE_MEAN_LINES,
    GUEST_LINE_SHARE,
    Sales,
)
from pricing.data.synthetic.truth import (
    EIRE_MULTIPLIER,
    FOREIGN_MULTIPLIER,
    GUEST_QUANTITY_MULTIPLIER,
    MAX_PRICE_FACTOR,
    MIN_CONTEXT_MULTIPLIER,
    MIN_EXPECTED_QUANTITY,
    MIN_PRICE_FACTOR,
    QUANTITY_DISPERSION,
    SEASON_AMPLITUDE,
    SEGMENT_MULTIPLIER,
    SEGMENTS,
    SMALL_PICK_EXTRA,
    SMALL_PICK_SHARE,
    WEEKDAY_MULTIPLIER,
    context_multiplier,
    country_multiplier,
    guest_multiplier_of,
    relative_incidence,
    season_multiplier,
    true_expected_quantity,
    true_expected_units_per_line,
    true_expected_weekly_lines,
    true_expected_weekly_units,
    undo_within_day_prices,
    within_day_factor,
)

__all__ = [
    "ADJUSTMENT_RATE",
    "ADJUSTMENT_REASONS",
    "AMPLITUDE_HEADROOM",
    "BREAK_PRICE_FACTOR",
    "BREAK_QUANTITIES",
    "BREAK_SHARES",
    "BY_DAY_FROM_ROWS",
    "BY_DAY_MIN_ROWS",
    "CANCELLATION_RATE",
    "CANCELLED_LINES_PER_INVOICE",
    "CLOSED",
    "COUNTRIES",
    "COUNTRY_NAMES",
    "CUSTOMER_ID_RANGE",
    "CUSTOMER_INVOICE_MEAN_LINES",
    "DEFAULT_CONFOUNDING",
    "DUPLICATE_RATE",
    "EIRE_MULTIPLIER",
    "FIRST_DAY",
    "FIRST_INVOICE",
    "FOREIGN_MULTIPLIER",
    "GUEST_COUNTRIES",
    "GUEST_INVOICE_MEAN_LINES",
    "GUEST_LINE_SHARE",
    "GUEST_PREMIUM_SHARE",
    "GUEST_PREMIUM_SHIFT",
    "GUEST_PREMIUM_SPREAD",
    "GUEST_QUANTITY_MULTIPLIER",
    "HOUR_WEIGHT",
    "INCIDENCE_ELASTICITY",
    "LAST_DAY",
    "MARKETS",
    "MAX_PRICE_FACTOR",
    "MIN_CONTEXT_MULTIPLIER",
    "MIN_EXPECTED_QUANTITY",
    "MIN_PRICE_FACTOR",
    "MONTH_WEIGHT",
    "NON_PRODUCT",
    "NO_DESCRIPTION_RATE",
    "QUANTITY_DISPERSION",
    "REAL_CUSTOMERS",
    "REAL_PRODUCTS",
    "REAL_ROWS",
    "SEASON_AMPLITUDE",
    "SEGMENTS",
    "SEGMENT_MULTIPLIER",
    "SMALL_PICK_EXTRA",
    "SMALL_PICK_SHARE",
    "UK",
    "UNIT_COST_SHARE",
    "WEEKDAY_MULTIPLIER",
    "WEEKDAY_WEIGHT",
    "WHOLESALE_SHARE",
    "Generated",
    "context_multiplier",
    "country_multiplier",
    "generate",
    "guest_multiplier_of",
    "load_ground_truth",
    "relative_incidence",
    "season_multiplier",
    "true_expected_quantity",
    "true_expected_units_per_line",
    "true_expected_weekly_lines",
    "true_expected_weekly_units",
    "undo_within_day_prices",
    "within_day_factor",
    "write",
    "write_by_day",
]


def generate(
    rows: int = REAL_ROWS,
    seed: int = 0,
    confounding: float = DEFAULT_CONFOUNDING,
    incidence: float = 1.0,
    within_day_prices: bool = True,
    market: str = "default",
) -> Generated:
    """Transactions, the truth per product and per week, and the customers' hidden segments.

    `confounding` in [0, 1] scales the wholesale tier discount; `incidence` >= 0 scales every product's
    elasticity of line counts to its list price (0: line counts ignore price); `within_day_prices` writes the
    quantity breaks and the guest premium (and the guest quantity multiplier). `incidence=0, confounding=0.5,
    within_day_prices=False` writes the files of the versions before incidence byte for byte. `market`: one of
    MARKETS, `confounded` for the market whose historic prices rose with an unobserved demand level (docs/DATA.md;
    the default market's files are unchanged by it). ValueError for settings outside those ranges, an unknown
    market or fewer than 1,000 rows."""
    check_settings(rows, confounding, incidence, market)
    return _Builder(rows, seed, confounding, incidence, within_day_prices, market).build()


class _Builder:
    """One `generate` call: the market drawn from the seed, then its history written into a ledger, then the
    tables. An object rather than a function so that a test can read the world behind a file: the list price in
    force on a day, the sale lines (the ledger's first block) and their documents' days."""

    def __init__(
        self,
        rows: int,
        seed: int,
        confounding: float,
        incidence: float = 0.0,
        within_day_prices: bool = True,
        market: str = "default",
    ) -> None:
        self.rows = rows
        self.streams = Streams.of(seed)
        n_products, n_customers = market_size(rows)
        self.market = Market.draw(
            self.streams, n_products, n_customers, confounding, incidence, within_day_prices, market
        )
        self.ledger = Ledger(self.streams.main, self.market.calendar)
        self.sales: Sales | None = None

    def build(self) -> Generated:
        self.sales = write_history(self.market, self.ledger, self.streams, self.rows)
        return tables(self.market, self.ledger, self.sales)

    # -- what tests read of the world behind a file ------------------------------------------------------
    @property
    def lines(self) -> Lines:
        return self.ledger.lines

    @property
    def doc_day(self) -> list[np.ndarray]:
        return self.ledger.doc_day

    @property
    def sale_count(self) -> int:
        return self.sales.count

    @property
    def days(self) -> np.ndarray:
        return self.market.calendar.days

    @property
    def day_weight(self) -> np.ndarray:
        return self.market.calendar.day_weight

    @property
    def n_products(self) -> int:
        return self.market.products.n

    @property
    def base_price(self) -> np.ndarray:
        return self.market.products.base_price

    @property
    def popularity(self) -> np.ndarray:
        return self.market.products.popularity

    @property
    def incidence_elasticity(self) -> np.ndarray:
        return self.market.products.incidence_elasticity

    def list_price(self, product: np.ndarray, day: np.ndarray) -> np.ndarray:
        return self.market.list_price(product, day)

    def keep_rate(self) -> np.ndarray:
        return self.market.keep_rate()
