"""The market: its products and their demand parameters, its customers, the trading calendar and the retailer's
historic list prices; and what it buys at a given price on a given day.

`Market.draw` draws one from a seed's streams without writing a single transaction. A market then answers, for
line slots on given days, which product each slot buys (`choose_products`: popularity, thinned by purchase
incidence at the list price in force), at what price a line's quantity is drawn (`price_at`: the list price, or
the wholesale tier's), how many units (`draw_quantities`, around `expected_quantity`) and what the line pays
(`recorded_price`: the within-day terms). The list prices come from `ListPrices`, the retailer's historic
schedule, a pricing policy held apart from demand. The model: pricing.data.generate's docstring.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

import numpy as np

from pricing.data.synthetic import catalogue
from pricing.data.synthetic.truth import (
    GUEST_QUANTITY_MULTIPLIER,
    MAX_PRICE_FACTOR,
    MIN_CONTEXT_MULTIPLIER,
    MIN_EXPECTED_QUANTITY,
    MIN_PRICE_FACTOR,
    SEGMENT_MULTIPLIER,
    SEGMENTS,
    relative_incidence,
    sample_quantity,
    true_expected_quantity,
    within_day_factor,
)

# the real file's size: a market for fewer rows has fewer products and customers (market_size)
REAL_ROWS = 541_909
REAL_PRODUCTS = 4_070
REAL_CUSTOMERS = 4_372
FIRST_DAY = date(2010, 12, 1)
LAST_DAY = date(2011, 12, 9)
CLOSED = (date(2010, 12, 24), date(2011, 1, 3))  # the shop shut over Christmas 2010
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

WHOLESALE_SHARE = {"home": 0.18, "abroad": 0.35}
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

# eta_j, the elasticity of a product's line count to its list price, is incidence x a draw from this range.
# With the within-day price terms and the guest multiplier below it calibrates the generator to the real file,
# both measured by `pricing report`'s fixed-effect elasticities (stock code, date, country): real file units
# per line -1.06, daily units -1.37 (docs/DATA.md has the table, the seeds and the command).
INCIDENCE_ELASTICITY = (0.275, 0.825)
# The wholesale tier discount is 0.3 x confounding. Off by default: in the real file 0.8% of known customers'
# lines of 1-5 units sit below the day's highest price for the product, where a tier (0.16: 4.8% off) put 8%;
# its discounts come with quantity (the breaks below). The versions before incidence used 0.5 (15% off);
# `--incidence 0 --confounding 0.5 --no-within-day-prices` writes their files byte for byte.
DEFAULT_CONFOUNDING = 0.0
# Within-day price terms (pricing.data.generate's docstring): share of products per break quantity (0: none)
# and the break discount; the share of products whose guests pay more and their log premium (ln 2 +
# Exponential(SPREAD) - SHIFT: median 0.71, 90th percentile 0.81; the real file's guests: 0.69 and 0.94). The
# break shares are a fifth of what the real file's share of discounted 100+ unit lines (59%) suggests: this
# generator's known customers buy more big lines (75th percentile 30 units against 12), and at the real rates the
# within-day slope for known customers reads -1.65 against the real file's -1.21 (docs/DATA.md).
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
# The markets a seed can draw (docs/DATA.md): `default`, and `confounded`, where an unobserved demand level per
# product moves slowly (a weekly AR(1) in log demand) and the retailer's historic list prices rise with it, so a
# passive estimate of the price effect (price and demand high together) is biased toward inelastic, as the real
# file's is (-1.4 passive against -1.8 to -2.9 in published controlled estimates). The level moves demand by
# LEVEL_SD (stationary sd of log demand) and a list price by LEVEL_PRICE_RESPONSE x the level (log price). Chosen
# so that the passive estimate reads the slope of weekly units at about 0.65 of the truth's, as the real file's
# -1.4 reads the published -1.8 to -2.9 (seeds 0 and 1, 300 best sellers: 0.99 and 1.10 against 1.59 and 1.61;
# pricing.experiments.prior.passive_prior).
MARKETS = ("default", "confounded")
LEVEL_SD = 0.2
LEVEL_PERSISTENCE = 0.9  # weekly autocorrelation of the level: a half-life of about 6.6 weeks
LEVEL_PRICE_RESPONSE = 0.15


@dataclass(frozen=True)
class Streams:
    """A seed's random streams. Incidence, within-day price and cost draws come from streams of their own: with
    incidence and the within-day terms off, the main stream, and so every file, is exactly what earlier versions
    wrote for the seed; and the cost file never moves the others."""

    main: np.random.Generator  # the catalogue, demand, list prices, customers, and every line of the history
    incidence: np.random.Generator  # the incidence elasticities and the thinning of line slots
    price: np.random.Generator  # the within-day price terms
    cost: np.random.Generator  # the unit costs
    level: np.random.Generator  # the confounded market's demand level (unused, so undrawn, in the default market)

    @classmethod
    def of(cls, seed: int) -> Streams:
        return cls(
            np.random.default_rng(seed),
            np.random.default_rng([seed, 14]),
            np.random.default_rng([seed, 15]),
            np.random.default_rng([seed, 16]),
            np.random.default_rng([seed, 17]),
        )


def check_settings(rows: int, confounding: float, incidence: float, market: str) -> None:
    """ValueError for a file's settings the generator cannot honour: fewer than 1,000 rows, confounding outside
    [0, 1], incidence outside [0, 5], a market not in MARKETS."""
    if rows < 1_000:
        raise ValueError(f"rows must be at least 1000, got {rows}")
    if not 0 <= confounding <= 1:
        raise ValueError(f"confounding must be within [0, 1], got {confounding}")
    if not 0 <= incidence <= 5:
        raise ValueError(f"incidence must be within [0, 5], got {incidence}")
    if market not in MARKETS:
        raise ValueError(f"market must be one of {', '.join(MARKETS)}, got {market!r}")


def market_size(rows: int) -> tuple[int, int]:
    """Products and customers for a file of `rows` lines: the real file's counts, scaled by the square root of
    rows / REAL_ROWS below it, and at least 30 products and 40 customers."""
    scale = min(1.0, rows / REAL_ROWS) ** 0.5
    return max(30, round(REAL_PRODUCTS * scale)), max(40, round(REAL_CUSTOMERS * scale))


@dataclass(frozen=True)
class Calendar:
    """The trading days (no Saturdays, closed over Christmas 2010) and each day's share of invoices."""

    days: np.ndarray  # datetime.date objects, FIRST_DAY to LAST_DAY; a day's index into it is its day number
    day_weight: np.ndarray  # (days,), sums to 1: MONTH_WEIGHT x WEEKDAY_WEIGHT

    @classmethod
    def trading(cls) -> Calendar:
        days, weights = [], []
        day = FIRST_DAY
        while day <= LAST_DAY:
            closed = CLOSED[0] <= day <= CLOSED[1]
            if day.weekday() != 5 and not closed:
                days.append(day)
                weights.append(MONTH_WEIGHT[(day.year, day.month)] * WEEKDAY_WEIGHT[day.weekday()])
            day += timedelta(days=1)
        w = np.array(weights)
        return cls(np.array(days, dtype=object), w / w.sum())

    def months(self) -> np.ndarray:
        """Each trading day's month (1-12), (days,)."""
        return np.array([d.month for d in self.days])

    def weekdays(self) -> np.ndarray:
        """Each trading day's weekday (Monday 0), (days,)."""
        return np.array([d.weekday() for d in self.days])


@dataclass(frozen=True)
class Products:
    """Every product's truth, one entry a product (its index is its product number): ground_truth.csv's columns
    that do not depend on the history, and the unit cost."""

    codes: np.ndarray  # stock codes (str)
    descriptions: np.ndarray
    base_price: np.ndarray  # to the penny; list prices stay within [MIN_PRICE_FACTOR, MAX_PRICE_FACTOR] x it
    theta: np.ndarray  # E[q | line] = amplitude exp(-price / theta) m(context): the per-line revenue optimum
    amplitude: np.ndarray
    popularity: np.ndarray  # share of line slots before incidence, sums to 1
    incidence_elasticity: np.ndarray  # eta: line slots kept fall as (list price / (0.6 base)) ** -eta
    guest_price_factor: np.ndarray  # what guests' lines pay over the list price (1: no premium)
    break_quantity: np.ndarray  # units from which a known customer's line pays the break price (0: no break)
    break_price_factor: np.ndarray
    unit_cost: np.ndarray  # UNIT_COST_SHARE of the base price, to the penny

    @property
    def n(self) -> int:
        return len(self.codes)

    @classmethod
    def draw(cls, streams: Streams, n: int, incidence: float, within_day_prices: bool) -> Products:
        """`n` products: names, demand and popularity from the main stream, eta (`incidence` x a draw from
        INCIDENCE_ELASTICITY), the within-day terms (all neutral without `within_day_prices`) and the unit costs
        from streams of their own."""
        rng = streams.main
        codes = catalogue.stock_codes(rng, n)
        descriptions = catalogue.descriptions(rng, n)
        base = np.round(np.clip(rng.lognormal(np.log(2.9), 0.85, n), 0.19, 250.0), 2)
        theta = base * rng.uniform(0.78, 1.1, n)
        # smallest amplitude keeping E[q] >= MIN_EXPECTED_QUANTITY at the highest price in the quietest context
        amp_min = MIN_EXPECTED_QUANTITY / (np.exp(-MAX_PRICE_FACTOR * base / theta) * MIN_CONTEXT_MULTIPLIER)
        amplitude = amp_min * rng.uniform(*AMPLITUDE_HEADROOM, n)
        popularity = rng.lognormal(0.0, 1.1, n) * base**-0.5
        within_day = _within_day_terms(streams.price, n) if within_day_prices else _no_within_day_terms(n)
        return cls(
            codes,
            descriptions,
            base,
            theta,
            amplitude,
            popularity / popularity.sum(),
            incidence * streams.incidence.uniform(*INCIDENCE_ELASTICITY, n),
            *within_day,
            unit_cost=np.maximum(np.round(base * streams.cost.uniform(*UNIT_COST_SHARE, n), 2), 0.01),
        )

    def relative_incidence(self, product: np.ndarray, list_price: np.ndarray) -> np.ndarray:
        """The share of each product's line slots kept at its list price (truth.relative_incidence)."""
        return relative_incidence(list_price, self.base_price[product], self.incidence_elasticity[product])


def _within_day_terms(rng: np.random.Generator, n: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Guest price factor, break quantity and break price factor per product, as the constants above describe."""
    premium = np.log(2.0) + rng.exponential(GUEST_PREMIUM_SPREAD, n) - GUEST_PREMIUM_SHIFT
    guest_price_factor = np.where(rng.random(n) < GUEST_PREMIUM_SHARE, np.round(np.exp(premium), 4), 1.0)
    break_quantity = rng.choice(np.array(BREAK_QUANTITIES), n, p=np.array(BREAK_SHARES))
    break_price_factor = np.where(break_quantity > 0, np.round(rng.uniform(*BREAK_PRICE_FACTOR, n), 4), 1.0)
    return guest_price_factor, break_quantity, break_price_factor


def _no_within_day_terms(n: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    return np.ones(n), np.zeros(n, dtype=np.int64), np.ones(n)


@dataclass(frozen=True)
class ListPrices:
    """The retailer's historic list prices, as factors of each product's base price: a starting level, up to
    three changes on random days, and promotion weeks (six trading days a week). A pricing policy, not demand:
    the market reads the list price in force from it (`Market.list_price`)."""

    start: np.ndarray  # (products,)
    change_day: np.ndarray  # (products, 3): trading day of each change; past the last day for none
    change_factor: np.ndarray  # (products, 3)
    promo_weeks: np.ndarray  # (products, weeks) bool
    promo_depth: np.ndarray  # (products,): the factor in a promotion week

    @classmethod
    def draw(cls, rng: np.random.Generator, n: int, n_days: int) -> ListPrices:
        start = rng.uniform(0.9, 1.1, n)
        change_day = np.where(
            rng.random((n, 3)) < np.array([0.7, 0.45, 0.2]), rng.integers(0, n_days, (n, 3)), n_days + 1
        )
        change_factor = rng.uniform(0.85, 1.2, (n, 3))
        n_weeks = n_days // 6 + 2
        promo_weeks = rng.random((n, n_weeks)) < rng.uniform(0.03, 0.15, n)[:, None]
        return cls(start, change_day, change_factor, promo_weeks, rng.uniform(0.65, 0.9, n))

    def factor(self, product: np.ndarray, day: np.ndarray) -> np.ndarray:
        """The list price over the base price for each (product, trading day) pair, before the band's clip."""
        factor = self.start[product] * np.prod(
            np.where(day[:, None] >= self.change_day[product], self.change_factor[product], 1.0), axis=1
        )
        promo = self.promo_weeks[product, day // 6]
        return factor * np.where(promo, self.promo_depth[product], 1.0)


@dataclass(frozen=True)
class DemandLevel:
    """The confounded market's unobserved demand level: per product and list-price week (six trading days, as
    ListPrices' promotion weeks), a log level z following a stationary AR(1) of sd LEVEL_SD and autocorrelation
    LEVEL_PERSISTENCE. A product's line slots are drawn by popularity x exp(z) that week (`weights`), and its
    historic list price is raised by exp(price_response x z) (`ConfoundedListPrices`)."""

    log_level: np.ndarray  # (products, weeks)
    price_response: float = LEVEL_PRICE_RESPONSE

    @classmethod
    def draw(cls, rng: np.random.Generator, n: int, n_weeks: int) -> DemandLevel:
        return cls(ar1(rng, np.zeros(n), n_weeks, start_stationary=True))

    def weights(self, popularity: np.ndarray, week: int) -> np.ndarray:
        """Each product's share of line slots in `week` (products,), sums to 1: popularity x exp(z), normalised."""
        weight = popularity * np.exp(self.log_level[:, week])
        return weight / weight.sum()


def ar1(rng: np.random.Generator, start: np.ndarray, weeks: int, start_stationary: bool = False) -> np.ndarray:
    """A (len(start), weeks) path of the demand level's AR(1): z_t = LEVEL_PERSISTENCE z_(t-1) + e_t, e_t ~ N(0,
    LEVEL_SD^2 (1 - LEVEL_PERSISTENCE^2)), from `start` (or from a stationary draw, with `start_stationary`)."""
    innovation_sd = LEVEL_SD * np.sqrt(1 - LEVEL_PERSISTENCE**2)
    path = np.empty((len(start), weeks))
    z = rng.normal(0.0, LEVEL_SD, len(start)) if start_stationary else np.asarray(start, dtype=float)
    for week in range(weeks):
        z = z if week == 0 and start_stationary else LEVEL_PERSISTENCE * z + rng.normal(0, innovation_sd, len(z))
        path[:, week] = z
    return path


@dataclass(frozen=True)
class ConfoundedListPrices(ListPrices):
    """The confounded market's historic list prices: ListPrices' schedule raised by exp(price_response x z) in a
    week of demand level z (DemandLevel): the retailer charged more when a product sold well."""

    level: DemandLevel | None = None

    def factor(self, product: np.ndarray, day: np.ndarray) -> np.ndarray:
        level = self.level.log_level[product, day // 6]
        return super().factor(product, day) * np.exp(self.level.price_response * level)


@dataclass(frozen=True)
class Customers:
    """The known customers, one entry each, ids ascending. Segment: an index into SEGMENTS (1 retail,
    2 wholesale; guests, 0, have no customer id)."""

    ids: np.ndarray
    country: np.ndarray  # index into COUNTRY_NAMES
    segment: np.ndarray
    activity: np.ndarray  # relative rate of invoices beyond a customer's first

    @property
    def n(self) -> int:
        return len(self.ids)

    @classmethod
    def draw(cls, rng: np.random.Generator, n: int) -> Customers:
        """`n` customers spread over the countries by the real file's customer shares (every country keeps at
        least one, taken from the largest); more wholesale abroad (WHOLESALE_SHARE), and wholesale more active."""
        low, high = CUSTOMER_ID_RANGE
        ids = np.sort(rng.choice(np.arange(low, high + 1), size=n, replace=False))
        shares = np.array([c for _, _, c in COUNTRIES])
        counts = _largest_remainder(shares, n)
        short = (shares > 0) & (counts == 0)
        counts[short] = 1
        counts[np.argmax(counts)] -= short.sum()
        country = rng.permutation(np.repeat(np.arange(len(COUNTRIES)), counts))
        abroad = country != UK
        wholesale = rng.random(n) < np.where(abroad, WHOLESALE_SHARE["abroad"], WHOLESALE_SHARE["home"])
        activity = rng.lognormal(0.0, 1.0, n) * np.where(wholesale, 1.5, 1.0)
        return cls(ids, country, np.where(wholesale, 2, 1), activity)

    def index_of(self, customer_id: np.ndarray) -> np.ndarray:
        """Positions of known customer ids in `ids`."""
        return np.searchsorted(self.ids, customer_id)

    def segment_of(self, customer_id: np.ndarray) -> np.ndarray:
        """Each line's segment from its customer id (0 or less: a guest, segment 0)."""
        return np.where(customer_id > 0, self.segment[self.index_of(customer_id)], 0)


def _largest_remainder(shares: np.ndarray, total: int) -> np.ndarray:
    raw = shares / shares.sum() * total
    counts = np.floor(raw).astype(np.int64)
    counts[np.argsort(counts - raw, kind="stable")[: total - counts.sum()]] += 1
    return counts


@dataclass(frozen=True)
class Market:
    """A drawn market (module docstring). Arguments named `product`, `day`, `segment`, `country` are arrays of
    one entry a line: product numbers, trading-day numbers, indices into SEGMENTS and into COUNTRY_NAMES."""

    calendar: Calendar
    products: Products
    list_prices: ListPrices
    customers: Customers
    confounding: float  # the wholesale tier discount is 0.3 x it
    incidence: float  # 0: line slots ignore the list price
    within_day_prices: bool
    guest_multiplier: float  # the guest segment's quantity multiplier (ground_truth.csv's)
    demand_level: DemandLevel | None = None  # the confounded market's; None in the default market

    @classmethod
    def draw(
        cls,
        streams: Streams,
        n_products: int,
        n_customers: int,
        confounding: float,
        incidence: float,
        within_day_prices: bool,
        market: str = "default",
    ) -> Market:
        """A market of `n_products` and `n_customers` from the seed's streams; `market` one of MARKETS (the
        confounded market's level is drawn from a stream of its own, so every other draw is the default's).
        ValueError for an unknown market."""
        if market not in MARKETS:
            raise ValueError(f"market must be one of {', '.join(MARKETS)}, got {market!r}")
        calendar = Calendar.trading()
        products = Products.draw(streams, n_products, incidence, within_day_prices)
        list_prices = ListPrices.draw(streams.main, n_products, len(calendar.days))
        level = None
        if market == "confounded":
            level = DemandLevel.draw(streams.level, n_products, list_prices.promo_weeks.shape[1])
            list_prices = ConfoundedListPrices(**vars(list_prices), level=level)
        customers = Customers.draw(streams.main, n_customers)
        guest = GUEST_QUANTITY_MULTIPLIER if within_day_prices else SEGMENT_MULTIPLIER["guest"]
        return cls(calendar, products, list_prices, customers, confounding, incidence, within_day_prices, guest, level)

    @property
    def kind(self) -> str:
        """The market's name in MARKETS."""
        return "default" if self.demand_level is None else "confounded"

    def popularity_on(self, week: int) -> np.ndarray:
        """Each product's share of line slots in list-price week `week` (day // 6), before incidence (products,):
        its popularity, moved by the demand level in the confounded market."""
        if self.demand_level is None:
            return self.products.popularity
        return self.demand_level.weights(self.products.popularity, week)

    def by_popularity(self, rng: np.random.Generator, day: np.ndarray) -> np.ndarray:
        """A product for each line slot on the given days, drawn by `popularity_on` each slot's week."""
        if self.demand_level is None:
            return rng.choice(self.products.n, len(day), p=self.products.popularity)
        product = np.empty(len(day), dtype=np.int64)
        week = day // 6
        for k in np.unique(week):
            where = np.flatnonzero(week == k)
            product[where] = rng.choice(self.products.n, len(where), p=self.popularity_on(int(k)))
        return product

    @property
    def tier(self) -> float:
        return 1.0 - 0.3 * self.confounding  # bulk buyers' discount: the confounder

    def list_price(self, product: np.ndarray, day: np.ndarray) -> np.ndarray:
        """The list price in force (promotions included, before the wholesale tier), clipped to the band."""
        base = self.products.base_price[product]
        factor = self.list_prices.factor(product, day)
        return np.clip(base * factor, MIN_PRICE_FACTOR * base, MAX_PRICE_FACTOR * base)

    def price_at(self, product: np.ndarray, day: np.ndarray, segment: np.ndarray) -> np.ndarray:
        """The price a line's quantity is drawn at: the list price, the tier's for wholesale, to the penny."""
        factor = self.list_prices.factor(product, day) * np.where(segment == 2, self.tier, 1.0)
        base = self.products.base_price[product]
        return np.maximum(np.round(np.clip(base * factor, MIN_PRICE_FACTOR * base, MAX_PRICE_FACTOR * base), 2), 0.01)

    def recorded_price(
        self, product: np.ndarray, price: np.ndarray, quantity: np.ndarray, guest: np.ndarray
    ) -> np.ndarray:
        """What a line pays once its quantity is known: the guest premium on guests' lines, the product's
        quantity break on other lines of break_quantity units or more, rounded to pence; without the within-day
        terms, `price` itself."""
        if not self.within_day_prices:
            return price
        products = self.products
        factor = within_day_factor(
            quantity,
            guest,
            products.guest_price_factor[product],
            products.break_quantity[product],
            products.break_price_factor[product],
        )
        return np.maximum(np.round(price * factor, 2), 0.01)

    def expected_quantity(
        self, product: np.ndarray, price: np.ndarray, segment: np.ndarray, country: np.ndarray, day: np.ndarray
    ) -> np.ndarray:
        """E[quantity | line] of each line at its price and context (truth.true_expected_quantity)."""
        return true_expected_quantity(
            price,
            self.products.theta[product],
            self.products.amplitude[product],
            np.array(SEGMENTS, dtype=object)[segment],
            np.array(COUNTRY_NAMES, dtype=object)[country],
            self.calendar.months()[day],
            self.calendar.weekdays()[day],
            self.guest_multiplier,
        )

    def draw_quantities(
        self,
        rng: np.random.Generator,
        product: np.ndarray,
        price: np.ndarray,
        segment: np.ndarray,
        country: np.ndarray,
        day: np.ndarray,
    ) -> np.ndarray:
        """Observed quantities of the lines, around `expected_quantity` (truth.sample_quantity)."""
        return sample_quantity(rng, self.expected_quantity(product, price, segment, country, day), segment)

    def choose_products(self, streams: Streams, day: np.ndarray) -> np.ndarray:
        """The product each line slot buys: drawn by popularity (main stream), then, with incidence, thinned at
        the list price in force on the slot's day (`thin_by_list_price`)."""
        product = self.by_popularity(streams.main, day)
        return self.thin_by_list_price(streams.incidence, product, day) if self.incidence > 0 else product

    def thin_by_list_price(self, rng: np.random.Generator, product: np.ndarray, day: np.ndarray) -> np.ndarray:
        """Each line slot keeps its product with probability relative_incidence(list price that day) and draws
        again (by popularity) otherwise, until every slot has kept one: a product's share of a day's lines is
        popularity x relative incidence over that day's popularity-weighted mean keep rate (`keep_rate`)."""
        product = product.copy()
        pending = np.arange(len(product))
        while len(pending):
            listed = self.list_price(product[pending], day[pending])
            kept = rng.random(len(pending)) < self.products.relative_incidence(product[pending], listed)
            pending = pending[~kept]
            product[pending] = self.by_popularity(rng, day[pending])
        return product

    def daily_lines_scale(self, sale_lines: int) -> np.ndarray:
        """s per trading day for a year of `sale_lines` sale lines, (days,): the day's expected sale lines over its
        keep rate, so that E[lines of product j that day | list price p] = s x popularity_j x relative incidence."""
        expected_lines = sale_lines * self.calendar.day_weight
        return expected_lines / (self.keep_rate() if self.incidence > 0 else 1.0)

    def keep_rate(self) -> np.ndarray:
        """Per trading day, the popularity-weighted mean of every product's relative incidence, (days,)."""
        n = self.products.n
        rates = np.empty(len(self.calendar.days))
        every = np.arange(n)
        for d in range(len(self.calendar.days)):
            listed = self.list_price(every, np.full(n, d))
            rates[d] = self.popularity_on(d // 6) @ self.products.relative_incidence(every, listed)
        return rates
