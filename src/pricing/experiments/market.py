"""The simulated market: the generator's demand truth (pricing.data.synthetic) as weekly demand a pricing policy
sets list prices against.

`SimMarket` draws the same market a `pricing generate --seed S --rows R [--market M]` file was written from
(same products, customers, costs, historic list prices and, in the confounded market, demand level), picks the N
best sellers at their current price (the list price on the history's last day, to the penny) and answers, for any
list prices in a simulated week:

- the expected weekly order lines, E[lines_j | p] = s_w x popularity_j(w) x relative_incidence_j(p) (the truth's
  incidence, pricing.data.synthetic.truth.true_expected_weekly_lines, with the confounded market's demand level
  moving popularity_j(w) as it moved the history's line slots);
- the expected units per line, the truth's E[q | line] averaged over the week's line contexts (a fixed sample of
  CONTEXTS_PER_WEEK contexts a week: who buys, from where, on which trading day), wholesale lines paying the tier
  price (truth.true_expected_units_per_line); weekly units are their product, and profit (p - unit cost) x units,
  revenue p x units, in the data's currency (pounds) per week;
- the realised week (`draw`): Poisson order lines, each a context of the week's sample and a quantity drawn around
  its truth (truth.sample_quantity, the generator's over-dispersed quantities), and optionally those lines as an
  Online Retail export (`lines_frame`: the within-day price terms on top, as the generator records them).

The simulated weeks replay the season of the history's full trading weeks from SIM_FIRST_WEEK on (s_w, the
week's line scale, and its months and weekdays), one year later: week t of the simulation is history week t's
calendar week plus 364 days, cycling through the year for long horizons. The confounded market's level goes on
moving (its AR(1) from the history's last week), unseen by any policy.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

import numpy as np
import pandas as pd

from pricing.data.synthetic.history import LineCounts
from pricing.data.synthetic.market import (
    COUNTRY_NAMES,
    DEFAULT_CONFOUNDING,
    GUEST_COUNTRIES,
    MARKETS,
    REAL_ROWS,
    Market,
    Streams,
    ar1,
    market_size,
)
from pricing.data.synthetic.sales import GUEST_LINE_SHARE
from pricing.data.synthetic.truth import SEGMENTS, context_multiplier, relative_incidence, sample_quantity

SIM_FIRST_WEEK = date(2011, 1, 10)  # the history's first full trading week after the Christmas closure
CONTEXTS_PER_WEEK = 400  # line contexts a simulated week's units per line are averaged over
MIN_TRADING_DAYS = 5  # a history week with fewer trading days (the closure) is not replayed
YEAR = timedelta(days=364)  # a simulated week is its history week one year (52 weeks) on


@dataclass(frozen=True)
class WeekContexts:
    """One simulated week's line contexts (C,): segment (index into SEGMENTS), country (index into COUNTRY_NAMES),
    customer id (0: a guest), trading day (index into the history's calendar) and m(context), the truth's
    context multiplier; `lines_scale`: s_w; `history_week`: the history week it replays (its Monday)."""

    segment: np.ndarray
    country: np.ndarray
    customer: np.ndarray
    day: np.ndarray
    multiplier: np.ndarray
    lines_scale: float
    history_week: date

    def frame(self, calendar_days: np.ndarray) -> pd.DataFrame:
        """The contexts as the truth's functions take them: segment, country (names) and invoice_date."""
        return pd.DataFrame(
            {
                "segment": np.array(SEGMENTS, dtype=object)[self.segment],
                "country": np.array(COUNTRY_NAMES, dtype=object)[self.country],
                "invoice_date": pd.to_datetime(pd.Series(calendar_days[self.day])),
            }
        )


@dataclass(frozen=True)
class RealisedWeek:
    """A week's realised demand per product (N,): order lines, units, and the sum of squared line quantities
    (for the units' over-dispersion); `lines` (optional): the product index, context index and quantity of each
    order line, for `SimMarket.lines_frame`."""

    orders: np.ndarray
    units: np.ndarray
    squared_units: np.ndarray
    lines: dict[str, np.ndarray] | None = None


class SimMarket:
    """The generator's market for one seed as a weekly market (module docstring).

    `seed`, `rows`, `market`: as `pricing generate --seed --rows --market` (the wholesale tier confounder, the
    incidence scale and the within-day terms at generate's defaults); `n_products`: the best sellers simulated
    (expected order lines a week at the current price); `weeks`: how many simulated weeks to prepare. ValueError
    for an unknown market, fewer than 1 product or week, or more products than the market has."""

    def __init__(self, seed: int, n_products: int, weeks: int, market: str = "default", rows: int = REAL_ROWS):
        if market not in MARKETS:
            raise ValueError(f"market must be one of {', '.join(MARKETS)}, got {market!r}")
        if n_products < 1 or weeks < 1:
            raise ValueError(f"products and weeks must be at least 1, got {n_products} and {weeks}")
        self.seed, self.rows, self.kind = seed, rows, market
        streams = Streams.of(seed)
        n_all, n_customers = market_size(rows)
        if n_products > n_all:
            raise ValueError(f"a market of {rows:,} rows has {n_all:,} products, fewer than the {n_products:,} asked")
        self.market = Market.draw(streams, n_all, n_customers, DEFAULT_CONFOUNDING, 1.0, True, market)
        self.rng = np.random.default_rng([seed, 100])  # the simulation's own stream: contexts, levels
        counts = LineCounts.of(rows)
        self.sale_lines = counts.guest + counts.customer
        calendar = self.market.calendar
        self.calendar_days = calendar.days
        self.last_day = len(calendar.days) - 1
        products = self.market.products
        every = np.arange(n_all)
        current = np.maximum(np.round(self.market.list_price(every, np.full(n_all, self.last_day)), 2), 0.01)
        rate = self.market.popularity_on(self.last_day // 6) * products.relative_incidence(every, current)
        self.index = np.sort(np.argsort(-rate, kind="stable")[:n_products])  # product numbers of the best sellers
        self.codes = products.codes[self.index]
        self.descriptions = products.descriptions[self.index]
        self.current_price = current[self.index]
        self.unit_cost = products.unit_cost[self.index]
        self.theta = products.theta[self.index]
        self.amplitude = products.amplitude[self.index]
        self.base_price = products.base_price[self.index]
        self.elasticity = products.incidence_elasticity[self.index]
        self.weeks = self._weeks(weeks)
        self.popularity = self._popularity(weeks)  # (N, weeks)
        self.history, self.history_popularity, self.history_price = self._history()

    @property
    def n(self) -> int:
        return len(self.index)

    # -- the weeks -----------------------------------------------------------------------------------------------
    def history_weeks(self) -> list[tuple[date, np.ndarray]]:
        """The history's full trading weeks (Monday, trading-day indices), in order."""
        monday = np.array([d - timedelta(days=d.weekday()) for d in self.calendar_days])
        weeks = []
        for start in sorted(set(monday)):
            days = np.flatnonzero(monday == start)
            if len(days) >= MIN_TRADING_DAYS:
                weeks.append((start, days))
        return weeks

    def _weeks(self, n: int) -> list[WeekContexts]:
        full = self.history_weeks()
        first = next(i for i, (start, _) in enumerate(full) if start >= SIM_FIRST_WEEK)
        replay = full[first:] + full[:first]
        daily_scale = self.market.daily_lines_scale(self.sale_lines)
        weight = self.market.calendar.day_weight
        return [self._contexts(*replay[t % len(replay)], daily_scale, weight) for t in range(n)]

    def _contexts(self, start: date, days: np.ndarray, daily_scale: np.ndarray, weight: np.ndarray) -> WeekContexts:
        """A week's line contexts: a guest's line with the guests' share of lines (country by GUEST_COUNTRIES),
        else a known customer's by activity (segment and country theirs); the day by the calendar's weights."""
        rng, customers, c = self.rng, self.market.customers, CONTEXTS_PER_WEEK
        guest = rng.random(c) < GUEST_LINE_SHARE
        names = list(GUEST_COUNTRIES)
        shares = np.array(list(GUEST_COUNTRIES.values()))
        guest_country = np.array([COUNTRY_NAMES.index(n) for n in names])[
            rng.choice(len(names), c, p=shares / shares.sum())
        ]
        who = rng.choice(customers.n, c, p=customers.activity / customers.activity.sum())
        segment = np.where(guest, 0, customers.segment[who])
        country = np.where(guest, guest_country, customers.country[who])
        customer = np.where(guest, 0, customers.ids[who])
        day = rng.choice(days, c, p=weight[days] / weight[days].sum())
        calendar = self.market.calendar
        multiplier = context_multiplier(
            np.array(SEGMENTS, dtype=object)[segment],
            np.array(COUNTRY_NAMES, dtype=object)[country],
            calendar.months()[day],
            calendar.weekdays()[day],
            self.market.guest_multiplier,
        )
        return WeekContexts(segment, country, customer, day, multiplier, float(daily_scale[days].sum()), start)

    def _popularity(self, n: int) -> np.ndarray:
        """Each simulated product's share of line slots per simulated week (N, weeks): its popularity, and in the
        confounded market the level's weights, the level going on from the history's last list-price week."""
        level = self.market.demand_level
        if level is None:
            return np.repeat(self.market.products.popularity[self.index][:, None], n, axis=1)
        path = ar1(self.rng, level.log_level[:, self.last_day // 6], n)
        weight = self.market.products.popularity[:, None] * np.exp(path)
        return (weight / weight.sum(axis=0, keepdims=True))[self.index]

    def _history(self) -> tuple[list[WeekContexts], np.ndarray, np.ndarray]:
        """The history's full weeks as the simulated products lived them: each week's contexts, the products'
        share of line slots (N, H) and their list price (N, H), the mean of the week's daily list prices to the
        penny (in the confounded market raised with the level, as the retailer did)."""
        daily_scale = self.market.daily_lines_scale(self.sale_lines)
        weight = self.market.calendar.day_weight
        contexts, popularity, price = [], [], []
        for start, days in self.history_weeks():
            contexts.append(self._contexts(start, days, daily_scale, weight))
            popularity.append(self.market.popularity_on(int(days[len(days) // 2]) // 6)[self.index])
            grid = self.market.list_price(np.repeat(self.index, len(days)), np.tile(days, self.n))
            price.append(np.round(grid.reshape(self.n, len(days)).mean(axis=1), 2))
        return contexts, np.column_stack(popularity), np.column_stack(price)

    def week_offset(self, history: bool = False) -> np.ndarray:
        """log of each simulated week's volume for an average product, (weeks,) (with `history`: each history
        week's, (H,)): s_w x the mean context multiplier, relative to simulated week 0. What a shop knows of a week
        without pricing anything (its total order lines, and the season its model has): the learning's offset
        (pricing.experiments.learning)."""
        weeks = self.history if history else self.weeks
        volume = np.array([w.lines_scale * w.multiplier.mean() for w in weeks])
        first = self.weeks[0].lines_scale * self.weeks[0].multiplier.mean()
        return np.log(volume / first)

    def _week(self, week: int, history: bool) -> tuple[WeekContexts, np.ndarray]:
        if history:
            return self.history[week], self.history_popularity[:, week]
        return self.weeks[week], self.popularity[:, week]

    # -- the truth at given prices -------------------------------------------------------------------------------
    def expected_orders(self, week: int, prices: np.ndarray, history: bool = False) -> np.ndarray:
        """E[order lines per week] at list prices (N,) or (N, K) in simulated week `week` (same shape); with
        `history`, in history week `week` instead."""
        prices = np.asarray(prices, dtype=float)
        shape = (-1,) + (1,) * (prices.ndim - 1)
        contexts, popularity = self._week(week, history)
        incidence = relative_incidence(prices, self.base_price.reshape(shape), self.elasticity.reshape(shape))
        return contexts.lines_scale * popularity.reshape(shape) * incidence

    def expected_units_per_line(self, week: int, prices: np.ndarray, history: bool = False) -> np.ndarray:
        """E[units per order line] at list prices (N,) or (N, K), over the week's contexts, wholesale lines at the
        tier price (same shape)."""
        prices = np.asarray(prices, dtype=float)
        shape = (-1,) + (1,) * (prices.ndim - 1)
        contexts, _ = self._week(week, history)
        wholesale = contexts.segment == 2
        full = contexts.multiplier[~wholesale].sum() / len(wholesale)
        tier = contexts.multiplier[wholesale].sum() / len(wholesale)
        theta = self.theta.reshape(shape)
        per_line = full * np.exp(-prices / theta) + tier * np.exp(-self.market.tier * prices / theta)
        return self.amplitude.reshape(shape) * per_line

    def expected_units(self, week: int, prices: np.ndarray, history: bool = False) -> np.ndarray:
        """E[units per week] at list prices (N,) or (N, K) (same shape)."""
        return self.expected_orders(week, prices, history) * self.expected_units_per_line(week, prices, history)

    def expected_profit(self, week: int, prices: np.ndarray) -> np.ndarray:
        """E[profit per week] = (p - unit cost) x E[units per week], currency per week (same shape as prices)."""
        prices = np.asarray(prices, dtype=float)
        cost = self.unit_cost.reshape((-1,) + (1,) * (prices.ndim - 1))
        return (prices - cost) * self.expected_units(week, prices)

    def truth_row(self, j: int, week: int | None = None) -> pd.Series:
        """Product j's truth as a ground_truth.csv row (what the truth's functions take); with `week`, its
        popularity that week (the confounded market's level included)."""
        number = self.index[j]
        products = self.market.products
        return pd.Series(
            {
                "popularity": products.popularity[number] if week is None else self.popularity[j, week],
                "base_price": products.base_price[number],
                "incidence_elasticity": products.incidence_elasticity[number],
                "theta": products.theta[number],
                "amplitude": products.amplitude[number],
                "wholesale_price_factor": self.market.tier,
                "guest_quantity_multiplier": self.market.guest_multiplier,
            }
        )

    # -- a realised week -----------------------------------------------------------------------------------------
    def draw(
        self, rng: np.random.Generator, week: int, prices: np.ndarray, keep_lines: bool = False, history: bool = False
    ) -> RealisedWeek:
        """The week's realised demand at list prices (N,): Poisson order lines per product, each line a context
        drawn from the week's sample and a quantity around its truth (truth.sample_quantity)."""
        prices = np.asarray(prices, dtype=float)
        orders = rng.poisson(self.expected_orders(week, prices, history))
        product = np.repeat(np.arange(self.n), orders)
        contexts, _ = self._week(week, history)
        which = rng.integers(0, CONTEXTS_PER_WEEK, len(product))
        segment = contexts.segment[which]
        paid = prices[product] * np.where(segment == 2, self.market.tier, 1.0)
        mean = self.amplitude[product] * np.exp(-paid / self.theta[product]) * contexts.multiplier[which]
        quantity = sample_quantity(rng, mean, segment) if len(product) else np.zeros(0, dtype=np.int64)
        units = np.bincount(product, quantity, minlength=self.n)
        squared = np.bincount(product, quantity.astype(float) ** 2, minlength=self.n)
        lines = {"product": product, "context": which, "quantity": quantity} if keep_lines else None
        return RealisedWeek(orders, units, squared, lines)

    def lines_frame(self, week: int, prices: np.ndarray, realised: RealisedWeek) -> pd.DataFrame:
        """A realised week's order lines as an Online Retail export (InvoiceNo, StockCode, Description, Quantity,
        InvoiceDate, UnitPrice, CustomerID, Country), dated one year after the history week it replays: one invoice
        per context (a customer's or guest's order on its day; a product bought twice in one context goes on a
        second invoice, so no line is an exact duplicate), every line paying its list price with the generator's
        within-day terms (quantity breaks, the guest premium) on top."""
        if realised.lines is None:
            raise ValueError("the week was drawn without its lines: draw(..., keep_lines=True)")
        lines, contexts = realised.lines, self.weeks[week]
        product, which, quantity = lines["product"], lines["context"], lines["quantity"]
        number = self.index[product]
        segment = contexts.segment[which]
        list_price = np.asarray(prices, dtype=float)[product]
        price = np.maximum(np.round(list_price * np.where(segment == 2, self.market.tier, 1.0), 2), 0.01)
        customer = contexts.customer[which]
        paid = self.market.recorded_price(number, price, quantity, customer == 0)
        day = self.calendar_days[contexts.day[which]]
        stamp = np.array([f"{(d + YEAR).month}/{(d + YEAR).day}/{(d + YEAR).year} 12:00" for d in day], dtype=object)
        # a context buying the same product twice writes the second line on an invoice of its own (the cleaning
        # drops exact duplicate lines as export errors); past three repeats, invoices of later weeks' range
        repeat = pd.DataFrame({"c": which, "p": product}).groupby(["c", "p"]).cumcount().to_numpy()
        invoice = which + CONTEXTS_PER_WEEK * np.minimum(repeat, 3)
        customer_id = pd.array(np.where(customer > 0, customer, 0), dtype="Int64")
        customer_id[customer <= 0] = pd.NA
        return pd.DataFrame(
            {
                "InvoiceNo": [f"{800_000 + 4 * CONTEXTS_PER_WEEK * week + c}" for c in invoice],
                "StockCode": self.codes[product],
                "Description": self.descriptions[product],
                "Quantity": quantity.astype(np.int64),
                "InvoiceDate": stamp,
                "UnitPrice": paid.astype(float),
                "CustomerID": customer_id,
                "Country": np.array(COUNTRY_NAMES, dtype=object)[contexts.country[which]],
            }
        )
