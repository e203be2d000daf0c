"""From a demand curve to a price decision a pricing manager can act on: the one module that owns the decision.

`make_decision(request, source)` takes from a `DemandSource` (serving's Predictor, or a stand-in with a known
curve) only what a model knows: the product's facts (current price, sold list prices, unit cost), its demand curve
at given prices and the uncertainty of its price slopes. Everything else is decided here, in this order:

1. Candidates (`candidate_prices`): the prices a decision chooses among, in whole minor units (pence:
   pricing.serving.money): the swept grid snapped to the penny, each rule's boundary pence, the prices with the
   required ending inside the swept range, the current price, and the allowed prices nearest the current one on
   both sides even beyond the swept range (so a rule the current price breaks moves it to the best allowed price,
   not to whatever the range happened to hold). At most MAX_PRICES prices a request, counted before anything is
   allocated: a request beyond it is a RequestError that says how to narrow it.
2. Objective (per week in the data's currency): revenue p x units, or profit (p - c) x units with a unit cost c.
3. Rules (`rule_masks`): `floor`/`ceiling` (prices), `max_change` (at most this fraction from the current price),
   `price_ending` (the pence a price ends in: 0.99 admits 4.99 and 12.99), `min_margin` ((p - c) / p at least
   this). Every boundary rounds to the pence it admits. `support` (the list prices the product sold at, widened by
   SUPPORT_TOLERANCE) is a soft bound for models whose curves extrapolate flat (trees, kernels): it narrows the
   choice where a price the rules allow lies in the support, and is relaxed (said in the response) where none
   does; a model's support never turns a user's rule into a 400.
4. Choice (`choose`): the best candidate every rule admits; the unconstrained optimum over every candidate; the
   cost of each rule alone (the objective gained by lifting it, the others kept) and of the rules together (the
   gap to the unconstrained optimum), so the costs always explain the gap, also where rules bind only together.
5. Confidence (`confidence`): DRAWS draws of the curve (`draw_curves`: the product's price slopes moved by
   draws from their posterior, pricing.training.evidence) give the optimum of each draw, whose INTERVAL_LEVEL
   central interval is the interval for the optimal price, and the share of draws in which the recommended price
   beats the current one. Each slope's sd follows the product's own evidence, from the prior's whole width
   (PRIOR_SD_FLOOR at least) for a product with little data to less for one whose data pin it down. The draws
   stay finite for any allowed range (each draw's log shift is bounded).
6. Verdict (`verdict`): `hold` when the probability is below CHANGE_PROBABILITY or the expected gain at most
   MIN_RELATIVE_GAIN of the objective at the current price. Otherwise the draws favour the recommended price,
   and the verdict is `change` when the evidence carries it, else `test`: the recommendation lies outside the
   prices the product sold at, or fewer than TEST_CONFIDENT of the draws favour it, or the interval for the
   optimal price is wider than the test band (2 x TEST_BAND of the current price). A `test` keeps the current
   price and proposes a price test (`test_plan`): TEST_ARMS allowed prices within +-TEST_BAND of the current one,
   the current price among them, TEST_WEEKS_PER_ARM weeks each, with its expected cost (README, `decision`).
   A current price a rule forbids is never held or tested: it moves to the best allowed price, and the response
   says when every allowed price earns less than the current one (`rules_force_loss`).

Output formats (the JSON response, the batch CSV row) live in pricing.serving.decision_json; this module is the
arithmetic, testable on arrays without a model.
"""

from __future__ import annotations

import zlib
from dataclasses import dataclass, field
from typing import Protocol

import numpy as np

from pricing.models.registry import extrapolates_flat
from pricing.serving.errors import RequestError
from pricing.serving.money import MINOR_UNITS, ceil_minor, floor_minor, from_minor, is_whole_minor, to_minor
from pricing.serving.sweep import price_grid

OBJECTIVE_KINDS = ("revenue", "profit")
RULES = ("floor", "ceiling", "max_change", "price_ending", "min_margin", "support")
INTERVAL_LEVEL = 0.9
DRAWS = 400  # posterior draws of the curve per request
# The spread of products' price slopes around the pooled one is taken as at least this (log units per unit of log
# price, or of the network's price term): the prior a product's own data update (pricing.training.evidence), so
# a product with little data of its own is drawn with this whole width, and one whose data pin its slope down
# with less. The moment estimate of the spread collapses (0.09 and 0.01 per line on the generator's seeds 0 and 1,
# whose true slopes spread by 0.15-0.16), because each product's own price variation pins its slope down far less
# well than the spread to be measured. Chosen on seed 0 (docs/PRICING_QUALITY.md, "The interval").
PRIOR_SD_FLOOR = 0.16
# A draw moves the curve by at most e^MAX_LOG_SHIFT either way: far beyond any price effect a model could
# support, and finite whatever range is asked (a range of 0.0001..1,000,000 made half the draws NaN).
MAX_LOG_SHIFT = 30.0
CHANGE_PROBABILITY = 0.5  # change only where the draws favour the recommended price (docs/PRICING_QUALITY.md)
# A change must be expected to earn more than this share of the objective at the current price: a relabelling
# for less than 0.1% of a week's revenue or profit is not worth the shelf work (and reads as noise).
MIN_RELATIVE_GAIN = 0.001
SUPPORT_TOLERANCE = 0.05  # a price within 5% of the sold range counts as seen
# A change the evidence does not carry is a test (step 6): below this share of draws favouring the recommended
# price, outside the sold prices, or with an interval wider than the band, the model's own curve is not enough to
# act on; passive data cannot separate a price effect from the season and the customer mix (docs/REAL_DATA.md).
TEST_CONFIDENT = 0.9
# The test's arms: about five prices within +-20% of the current one, every customer seeing the same price all
# week (time-based tests, the band and the arms pricing teams use in practice), two weeks at each (the market
# simulator's minimum weeks at a price, docs/EXPERIMENTS.md).
TEST_BAND = 0.2
TEST_ARMS = 5
TEST_WEEKS_PER_ARM = 2
# The most prices one request may price (grid, rule boundaries, price endings and the current price together):
# with the largest num_samples (5,000 contexts) that is 5 million model rows, within a 4 GB server's memory
# (the memory test: tests/integration/test_decision_bounds.py).
MAX_PRICES = 1_000
# boundary prices a request adds besides the grid and the price endings: floor, ceiling and max_change's two
# ends, the min-margin price, the support's two ends (each on both sides of its penny), the current price and
# the two nearest allowed prices
_BOUNDARY_PRICES = 2 * 7 + 3


@dataclass(frozen=True)
class Rules:
    """Business rules for one request; None: not set. Prices in the data's currency, fractions in [0, 1)."""

    floor: float | None = None
    ceiling: float | None = None
    max_change: float | None = None
    price_ending: float | None = None
    min_margin: float | None = None

    def given(self) -> list[str]:
        return [name for name in RULES if name != "support" and getattr(self, name) is not None]


@dataclass(frozen=True)
class Context:
    """What the rules are judged against: the current price (the data's currency; read as whole pence), the unit
    cost (None: unknown) and the product's support (the lowest and highest list price it sold at)."""

    current_price: float
    unit_cost: float | None
    support_low: float
    support_high: float

    @property
    def current_minor(self) -> int:
        return int(to_minor(self.current_price))

    @property
    def support_range(self) -> tuple[float, float]:
        return self.support_low * (1 - SUPPORT_TOLERANCE), self.support_high * (1 + SUPPORT_TOLERANCE)


# -- candidates ------------------------------------------------------------------------------------------------
def rule_bounds(rules: Rules, context: Context) -> dict[str, tuple[int | None, int | None]]:
    """Each interval rule's admitted pence, (lowest, highest) with None for no bound: floor, ceiling, max_change
    (around the current price in pence) and min_margin (the price c / (1 - m), where a unit cost is known)."""
    bounds: dict[str, tuple[int | None, int | None]] = {}
    if rules.floor is not None:
        bounds["floor"] = (ceil_minor(rules.floor), None)
    if rules.ceiling is not None:
        bounds["ceiling"] = (None, floor_minor(rules.ceiling))
    if rules.max_change is not None:
        current = context.current_minor / MINOR_UNITS
        bounds["max_change"] = (
            ceil_minor(current * (1 - rules.max_change)),
            floor_minor(current * (1 + rules.max_change)),
        )
    if rules.min_margin is not None and context.unit_cost is not None:
        bounds["min_margin"] = (ceil_minor(context.unit_cost / (1 - rules.min_margin)), None)
    return bounds


def allowed_interval(rules: Rules, context: Context) -> tuple[int, int]:
    """The pence every interval rule admits together, (lowest, highest); lowest > highest when they conflict."""
    low, high = 1, None
    for lo, hi in rule_bounds(rules, context).values():
        low = max(low, lo) if lo is not None else low
        high = hi if high is None or (hi is not None and hi < high) else high
    return low, (high if high is not None else max(low, context.current_minor) + 100 * MINOR_UNITS)


def nearest_allowed(rules: Rules, context: Context) -> list[int]:
    """The allowed prices (every rule but support) nearest the current price, at or below it and at or above it,
    in pence: 0, 1 or 2 of them, wherever they lie (also beyond the swept range)."""
    low, high = allowed_interval(rules, context)
    if low > high:
        return []
    current = context.current_minor
    below, above = min(current, high), max(current, low)
    if rules.price_ending is not None:
        ending = round(rules.price_ending * MINOR_UNITS)
        below -= (below - ending) % MINOR_UNITS  # the highest price ending in `ending` at or below
        above += (ending - above) % MINOR_UNITS  # the lowest at or above
    return [p for p in (below, above) if low <= p <= high]


def swept_minor(grid: np.ndarray) -> tuple[int, int]:
    """The swept range in whole pence: the first penny at or above the grid's start, the last at or below its
    end (first > last for a range within one penny)."""
    return max(ceil_minor(float(grid[0])), 1), floor_minor(float(grid[-1]))


def count_prices(bins: int, low: float, high: float, rules: Rules) -> int:
    """An upper bound on the prices a request prices (the grid, every penny of a range narrower than the grid's
    step, the price endings inside the range, the boundaries), from its parameters alone: checked before any
    allocation, so a request that would exhaust memory is refused at no cost."""
    pennies = max(floor_minor(high) - ceil_minor(low) + 1, 0)
    endings = pennies // MINOR_UNITS + 1 if rules.price_ending is not None else 0
    every_penny = pennies if pennies <= bins else 0  # a range finer than a penny a bin: every penny of it
    return bins + every_penny + endings + _BOUNDARY_PRICES


def check_work(bins: int, low: float, high: float, rules: Rules) -> None:
    """RequestError when a request would price more than MAX_PRICES prices, saying how to narrow it."""
    count = count_prices(bins, low, high, rules)
    if count > MAX_PRICES:
        ending = (
            f" (price_ending adds one price per currency unit of the range: {high - low:,.0f})"
            if rules.price_ending is not None
            else ""
        )
        raise RequestError(
            f"unitprice_min..unitprice_max: {low:g}..{high:g} with these rules means pricing up to {count:,} prices, "
            f"more than the {MAX_PRICES:,} one request may{ending}: narrow unitprice_min..unitprice_max or lower "
            "num_price_bins"
        )


def candidate_prices(grid: np.ndarray, rules: Rules, context: Context) -> np.ndarray:
    """The prices a decision chooses among, in whole pence (int64, (K,), increasing; module docstring, step 1).
    `grid`: the swept prices (currency units, increasing). Call check_work first: this allocates."""
    low, high = swept_minor(grid)
    minor = to_minor(grid)
    parts = [minor[(minor >= low) & (minor <= high)]]
    if high - low + 1 <= len(grid):  # a range finer than a penny a bin: every penny of it
        parts.append(np.arange(low, high + 1, dtype=np.int64))
    edges = [context.current_minor, *nearest_allowed(rules, context)]
    inside = [ceil_minor(v) for v in context.support_range]
    for lo, hi in rule_bounds(rules, context).values():
        inside += [b for b in (lo, hi) if b is not None]
    # a boundary contributes the penny on each side of it: the rule's mask keeps the one it admits
    inside = [b + d for b in inside for d in (-1, 0)]
    if rules.price_ending is not None:
        ending = round(rules.price_ending * MINOR_UNITS)
        first = low + (ending - low) % MINOR_UNITS
        parts.append(np.arange(first, high + 1, MINOR_UNITS, dtype=np.int64))
    parts.append(np.array([b for b in inside if low <= b <= high], dtype=np.int64))
    parts.append(np.array([e for e in edges if e >= 1], dtype=np.int64))
    return np.unique(np.concatenate(parts))


# -- rules and the choice ----------------------------------------------------------------------------------------
def check_cost(rules: Rules, context: Context) -> None:
    """RequestError for min_margin without a unit cost (a margin needs a cost to be judged by)."""
    if rules.min_margin is not None and context.unit_cost is None:
        raise RequestError("min_margin: needs a unit cost (pass unit_cost, or publish a cost file with the bundle)")


def rule_masks(minor: np.ndarray, rules: Rules, context: Context, restrict_support: bool) -> dict[str, np.ndarray]:
    """For each rule in force, which candidate prices (whole pence, (K,)) it admits ((K,) booleans), compared
    exactly in pence. RequestError for min_margin without a unit cost."""
    p = np.asarray(minor, dtype=np.int64)
    check_cost(rules, context)
    masks: dict[str, np.ndarray] = {}
    for name, (lo, hi) in rule_bounds(rules, context).items():
        masks[name] = (p >= (lo if lo is not None else 1)) & (p <= (hi if hi is not None else p.max(initial=0)))
    if rules.price_ending is not None:
        masks["price_ending"] = np.mod(p, MINOR_UNITS) == round(rules.price_ending * MINOR_UNITS)
    if restrict_support:
        low, high = context.support_range
        masks["support"] = (p >= ceil_minor(low)) & (p <= floor_minor(high))
    return {name: masks[name] for name in RULES if name in masks}  # a stable order: RULES'


def conflict_message(masks: dict[str, np.ndarray]) -> str:
    """Why no price is allowed: the first rule that admits no price on its own, else the smallest set of rules
    (pairs first) that admit none together."""
    for name, mask in masks.items():
        if not mask.any():
            return f"{name}: admits no price"
    names = list(masks)
    for i, a in enumerate(names):
        for b in names[i + 1 :]:
            if not (masks[a] & masks[b]).any():
                return f"{a} and {b} conflict: no price satisfies both"
    return f"{', '.join(names)} conflict: no price satisfies them all"


def best_index(values: np.ndarray, mask: np.ndarray) -> int | None:
    """Index of the largest value where mask is True (the lowest price among ties); None when none is."""
    if not mask.any():
        return None
    return int(np.flatnonzero(mask)[np.argmax(np.asarray(values)[mask])])


@dataclass(frozen=True)
class RuleCost:
    rule: str
    binding: bool
    cost_per_week: float  # objective units (currency per week) the rule gives up; 0 when it does not bind


@dataclass(frozen=True)
class Choice:
    """The constrained and unconstrained optima over the candidates, each rule's cost and the rules' joint cost.

    `joint_cost`: the objective at the unconstrained optimum less the objective at the chosen price (>= 0, and at
    least each rule's own cost): what the rules together give up. `support_relaxed`: the support rule was dropped
    because no price the user's rules allow lies in the support."""

    index: int
    unconstrained_index: int
    rule_costs: list[RuleCost] = field(default_factory=list)
    admitted: np.ndarray | None = None  # (K,): the candidates every rule admits
    joint_cost: float = 0.0
    support_relaxed: bool = False

    @property
    def binding(self) -> list[str]:
        return [c.rule for c in self.rule_costs if c.binding]


def choose(values: np.ndarray, masks: dict[str, np.ndarray], base: np.ndarray | None = None) -> Choice:
    """Constrained optimum of `values` (K,) among the prices `base` marks (default: all) under every mask, the
    unconstrained one (under `base` alone), per rule the objective gained by lifting that rule alone, and the
    joint cost. A `support` mask that admits none of the prices the other rules allow is relaxed. RequestError
    (naming the rules) when the user's rules admit no price."""
    base = np.ones(len(values), dtype=bool) if base is None else np.asarray(base, dtype=bool)
    masks = dict(masks)

    def admitted_by(selected: list[np.ndarray]) -> np.ndarray:
        return np.logical_and.reduce([base, *selected])

    every = admitted_by(list(masks.values()))
    relaxed = False
    if not every.any() and "support" in masks:
        del masks["support"]
        relaxed = True
        every = admitted_by(list(masks.values()))
    chosen = best_index(values, every)
    if chosen is None:
        raise RequestError(conflict_message({name: mask & base for name, mask in masks.items()}))
    unconstrained = best_index(values, base)
    costs = []
    for name in masks:
        lifted = best_index(values, admitted_by([mask for other, mask in masks.items() if other != name]))
        gain = float(values[lifted] - values[chosen])
        costs.append(RuleCost(name, gain > 1e-9, round(max(gain, 0.0), 4)))
    joint = max(float(values[unconstrained] - values[chosen]), 0.0)
    return Choice(chosen, unconstrained, costs, every, round(joint, 4), relaxed)


def objective_values(prices: np.ndarray, units: np.ndarray, unit_cost: float | None, kind: str) -> np.ndarray:
    """Revenue p x units or profit (p - c) x units, per candidate (broadcasts over leading draw axes)."""
    margin = prices - unit_cost if kind == "profit" and unit_cost is not None else prices
    return margin * units


# -- confidence --------------------------------------------------------------------------------------------------
def draw_curves(units: np.ndarray, terms: list[tuple[float, np.ndarray]], seed: int) -> np.ndarray | None:
    """DRAWS draws of a units curve (S, K): log units moved by -b x x for each (sd, x) in `terms`, one
    b ~ N(0, sd) per draw and term (sd: the slope's posterior sd); x (K,) is the price term the slope multiplies,
    0 at the current price, where the data pin the level. Each draw's log shift is clipped to +-MAX_LOG_SHIFT, so the
    draws are finite for any range. None without any term (no slope uncertainty to draw from)."""
    if not terms:
        return None
    rng = np.random.default_rng(seed)
    shift = sum(rng.normal(0.0, sd, (DRAWS, 1)) * np.asarray(x)[None, :] for sd, x in terms)
    return np.asarray(units, dtype=float)[None, :] * np.exp(-np.clip(shift, -MAX_LOG_SHIFT, MAX_LOG_SHIFT))


@dataclass(frozen=True)
class Confidence:
    """The interval for the optimal price and for the objective at the recommended price (INTERVAL_LEVEL), and the
    probability that the recommended price beats the current one, from S draws of the curve."""

    price_interval: tuple[float, float]
    objective_interval: tuple[float, float]
    probability_beats_current: float
    draws: int


def confidence(
    prices: np.ndarray, draw_values: np.ndarray, admitted: np.ndarray, chosen: int, current: int
) -> Confidence:
    """draw_values (S, K): the objective of each draw at each candidate; `admitted` (K,): the candidates every rule
    admits; `chosen`, `current`: candidate indices of the recommended and the current price. The price interval's
    bounds are the draws' best prices at the tails (the lower and the higher order statistic: candidate prices, so
    whole pence where the candidates are)."""
    masked = np.where(admitted[None, :], draw_values, -np.inf)
    optimum = prices[np.argmax(masked, axis=1)]
    tail = (1 - INTERVAL_LEVEL) / 2
    # the bounds are candidate prices (whole pence), the draws' own: an interpolated quantile lies between two
    # candidates (2.385 between 2.38 and 2.39), which no shelf shows and a dashboard and a CSV round differently
    price_lo = np.quantile(optimum, tail, method="lower")
    price_hi = np.quantile(optimum, 1 - tail, method="higher")
    value_lo, value_hi = np.quantile(draw_values[:, chosen], [tail, 1 - tail])
    beats = float(np.mean(draw_values[:, chosen] > draw_values[:, current])) if chosen != current else 0.0
    return Confidence(
        (round(float(price_lo), 4), round(float(price_hi), 4)),
        (round(float(value_lo), 4), round(float(value_hi), 4)),
        round(beats, 4),
        len(draw_values),
    )


# -- the verdict -------------------------------------------------------------------------------------------------
def verdict(
    probability: float | None,
    expected_gain: float,
    current_value: float,
    same_price: bool,
    min_probability: float = CHANGE_PROBABILITY,
    min_gain: float = MIN_RELATIVE_GAIN,
    outside_support: bool = False,
    interval_wide: bool = False,
) -> tuple[str, str]:
    """`change`, `test` or `hold`, and why (module docstring, step 6). `probability`: the share of draws in which
    the recommended price beats the current one, None for a bundle without an uncertainty estimate (judged on the
    expected gain alone); `expected_gain`, `current_value`: the objective's gain and its value at the current
    price (per week); `min_probability`, `min_gain` (a fraction of the current value's size): the hold thresholds;
    `outside_support`: the recommended price lies outside the prices the product sold at; `interval_wide`: the
    interval for the optimal price is wider than the test band. A change the draws favour is a `test` when it is
    outside the support, or favoured by fewer than TEST_CONFIDENT (at least `min_probability`) of the draws, or
    its interval is wide."""
    if same_price:
        return "hold", "the recommended price is the current price"
    if probability is not None and probability < min_probability:
        return "hold", (
            f"the recommended price beats the current one in {probability:.0%} of the model's draws, below the "
            f"{min_probability:.0%} a change needs"
        )
    if expected_gain <= min_gain * abs(current_value):
        return "hold", (
            "the recommended price is not expected to earn more than the current one"
            if min_gain == 0
            else f"the expected gain is not above {min_gain:.1%} of the current weekly figure"
        )
    weak = []
    if outside_support:
        weak.append("the recommended price lies outside the prices the product sold at")
    confident = max(TEST_CONFIDENT, min_probability)
    if probability is not None and probability < confident:
        weak.append(f"it beats the current one in {probability:.0%} of the model's draws, below {confident:.0%}")
    if interval_wide:
        weak.append(f"the 90% interval for the best price is wider than +-{TEST_BAND:.0%} of the current one")
    if weak:
        return "test", "; ".join(weak) + ": test prices around the current one before changing"
    if probability is None:
        return "change", "this bundle carries no uncertainty estimate: judged on the expected gain alone"
    return "change", f"the recommended price beats the current one in {probability:.0%} of the model's draws"


@dataclass(frozen=True)
class PriceTest:
    """A price test for a `test` verdict: `arms` (increasing prices, whole pence, the current price among them),
    `weeks_per_arm` at each, and the model's expected cost against holding the current price: per week on
    average over the arms and over the whole test (currency; negative: the arms are expected to earn more)."""

    arms: tuple[float, ...]
    weeks_per_arm: int
    expected_weekly_cost: float
    expected_cost: float

    @property
    def weeks(self) -> int:
        return self.weeks_per_arm * len(self.arms)


def price_test_arms(prices: np.ndarray, admitted: np.ndarray, current: int, recommended: int) -> list[int]:
    """Indices (increasing price) of up to TEST_ARMS prices for a test: the current price, the recommended one
    when it lies within +-TEST_BAND of the current price (and at least a quarter of the band from it), and, for
    each of TEST_ARMS evenly spaced points across the band that no arm lies within half a spacing of, the
    admitted price nearest to it within half a spacing (`admitted` (K,): the prices every rule admits). Fewer
    arms where the rules leave fewer."""
    price = float(prices[current])
    inside = admitted & (prices >= price * (1 - TEST_BAND) - 1e-9) & (prices <= price * (1 + TEST_BAND) + 1e-9)
    chosen = {current}
    # the recommended price is an arm of its own where it lies inside the band and is not a mere penny or two
    # from the current price (an arm that close measures nothing the current one does not)
    if inside[recommended] and abs(prices[recommended] - price) >= TEST_BAND / 4 * price:
        chosen.add(recommended)
    pool = np.flatnonzero(inside)
    # each evenly spaced point of the band is an arm's target, reached by an admitted price within half a spacing;
    # a point an arm already covers (the current price, the recommended one) adds none, so no two arms sit a
    # penny apart
    half_spacing = TEST_BAND * price / (TEST_ARMS - 1)
    for target in price * (1 + TEST_BAND * np.linspace(-1, 1, TEST_ARMS)):
        if len(chosen) >= TEST_ARMS:
            break
        if np.min(np.abs(prices[list(chosen)] - target)) < half_spacing - 1e-9:
            continue
        near = pool[np.abs(prices[pool] - target) < half_spacing - 1e-9]
        if len(near):
            chosen.add(int(near[np.argmin(np.abs(prices[near] - target))]))
    return sorted(chosen, key=lambda i: prices[i])


# -- the decision ------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class ProductFacts:
    """What a decision needs to know of a product besides its curve (prices in the data's currency).

    `current_price`: today's list price, `current_date` (YYYY-MM-DD or None) and `current_source` (where it was
    read); `support`: the lowest and highest list price it sold at; `unit_cost` and `unit_cost_source` (None:
    unknown); `observed`: its observed weekly history by list-price level (the response's `observed`);
    `learnt`: what a price test taught of its weekly elasticity (pricing.serving.learnt.LearntSlope), None when
    it was not tested."""

    description: str
    current_price: float
    current_date: str | None
    current_source: str
    support: tuple[float, float]
    unit_cost: float | None
    unit_cost_source: str | None
    observed: list[dict]
    learnt: object | None = None


class DemandSource(Protocol):
    """What the decision takes from a model: facts, the curve at given prices, and the slopes' uncertainty."""

    def facts(self, request) -> ProductFacts: ...

    def curve(self, request, prices: np.ndarray, only=None, monotone=False, only_incidence=None): ...

    def slope_terms(
        self, stockcode: str, prices: np.ndarray, pivot: float, weekly: bool
    ) -> list[tuple[float, np.ndarray]]: ...


@dataclass(frozen=True)
class Decision:
    """Everything a price decision reports, over the evaluated prices (K,): the candidates (whole pence) and the
    swept grid (`grid` marks its bins; on a range finer than a penny a bin its prices are not whole pence).

    `current`: (price, date or None, source, index); `values`: the objective at each price (currency per week,
    or per order line for optimise=sales_per_line); `support`: the sold range with its tolerance; `restricted`:
    whether the support rule applied (a flat-extrapolating model answered)."""

    stockcode: str
    facts: ProductFacts
    request: object  # the PriceRequest
    objective: str
    current: tuple
    prices: np.ndarray
    grid: np.ndarray
    result: object  # the SweepResult over the prices
    values: np.ndarray
    choice: Choice
    confidence: Confidence | None
    support: tuple[float, float]
    restricted: bool
    model: str
    incidence_model: str | None
    current_breaks: tuple[str, ...] = ()  # the rules the current price breaks: holding it is not an option
    segment_share: float = 1.0  # the share of the product's order lines the request's country/customer places

    @property
    def unit_cost(self) -> float | None:
        return self.facts.unit_cost

    @property
    def recommended_price(self) -> float:
        return float(self.prices[self.choice.index])

    @property
    def expected_gain(self) -> float:
        """The objective gained per week (or per order line) by the recommended price over the current one."""
        return float(self.values[self.choice.index] - self.values[self.current[3]])

    @property
    def rules_force_loss(self) -> bool:
        """The current price breaks a rule and every allowed price earns less than it."""
        return bool(self.current_breaks) and self.expected_gain < 0

    @property
    def verdict(self) -> tuple[str, str]:
        """(`change`, `test` or `hold`, the reason)."""
        chosen, current = self.choice.index, self.current[3]
        if self.current_breaks:
            reason = f"the current price breaks {', '.join(self.current_breaks)}: the rules require a move"
            if self.rules_force_loss:
                reason += (
                    f"; every allowed price earns less than the current one (the best allowed loses "
                    f"{-self.expected_gain:,.2f} a {'week' if self.result.weekly else 'line'})"
                )
            return "change", reason
        probability = None if self.confidence is None else self.confidence.probability_beats_current
        request = self.request
        return verdict(
            probability,
            self.expected_gain,
            float(self.values[current]),
            chosen == current,
            CHANGE_PROBABILITY if request.min_probability is None else request.min_probability,
            MIN_RELATIVE_GAIN if request.min_gain is None else request.min_gain,
            outside_support=self.outside_support,
            interval_wide=self.interval_wide,
        )

    @property
    def outside_support(self) -> bool:
        """The recommended price lies outside the prices the product sold at (with SUPPORT_TOLERANCE)."""
        chosen = self.choice.index
        return not bool(self.in_support(self.prices[chosen : chosen + 1])[0])

    @property
    def interval_wide(self) -> bool:
        """The interval for the optimal price is wider than the test band, 2 x TEST_BAND of the current price."""
        if self.confidence is None:
            return False
        low, high = self.confidence.price_interval
        return high - low > 2 * TEST_BAND * float(self.current[0])

    @property
    def test_plan(self) -> PriceTest | None:
        """The price test a `test` verdict proposes (None for change and hold): arms among the prices every rule
        admits (price_test_arms), TEST_WEEKS_PER_ARM weeks each, the expected cost from the model's curve."""
        if self.verdict[0] != "test":
            return None
        current = self.current[3]
        arms = price_test_arms(self.prices, self.choice.admitted, current, self.choice.index)
        weekly_cost = float(self.values[current] - np.mean(self.values[arms]))
        return PriceTest(
            tuple(float(from_minor(to_minor(self.prices[i]))) for i in arms),
            TEST_WEEKS_PER_ARM,
            round(weekly_cost, 4),
            round(weekly_cost * TEST_WEEKS_PER_ARM * len(arms), 4),
        )

    @property
    def price_to_set(self) -> float:
        """The recommended price when the verdict is change, else (hold, test) the current price: whole pence."""
        index = self.choice.index if self.verdict[0] == "change" else self.current[3]
        return float(from_minor(to_minor(self.prices[index])))

    def in_support(self, prices: np.ndarray) -> np.ndarray:
        low, high = self.support
        return (prices >= low - 1e-9) & (prices <= high + 1e-9)


def make_decision(
    request, source: DemandSource, only: str | None = None, monotone: bool = False, only_incidence: str | None = None
) -> Decision:
    """The price decision for `request` (a PriceRequest) from `source` (module docstring, steps 1-6); `only`,
    `only_incidence`: answer with that model alone (evaluation), `monotone`: a non-increasing per-line curve.
    RequestError when the request would price too many prices, the rules admit no price, or min_margin comes
    without a cost; UnknownStockcode, NoContexts or NoUsableModel from the source."""
    code = request.stockcode
    facts = source.facts(request)
    context = Context(float(from_minor(to_minor(facts.current_price))), facts.unit_cost, *facts.support)
    rules = request.rules
    check_work(request.num_price_bins, request.unitprice_min, request.unitprice_max, rules)
    check_cost(rules, context)  # a 400 before any work
    grid = price_grid(request.unitprice_min, request.unitprice_max, request.num_price_bins)
    candidates = candidate_prices(grid, rules, context)
    prices = np.unique(np.concatenate([grid, from_minor(candidates)]))
    rec = source.curve(request, prices, only, monotone, only_incidence)
    result = rec.result
    units = result.units_per_week if result.weekly else result.quantity
    kind = request.objective if facts.unit_cost is not None else "revenue"
    values = objective_values(prices, units, facts.unit_cost, kind)
    minor = to_minor(prices)
    is_candidate = np.isin(minor, candidates) & is_whole_minor(prices)
    restrict = extrapolates_flat(rec.model) or (result.weekly and extrapolates_flat(rec.incidence_model))
    masks = rule_masks(minor, rules, context, restrict)
    # only whole-penny candidates can be chosen: the grid's finer prices are the curve's, for display
    choice = choose(values, masks, base=is_candidate)
    current_index = int(np.flatnonzero(is_candidate & (minor == context.current_minor))[0])
    breaks = tuple(n for n, mask in masks.items() if n != "support" and not mask[current_index])
    seed = zlib.crc32(f"{code}|{request.num_samples}|{request.country}|{request.customerid}".encode())
    terms = source.slope_terms(code, prices, context.current_price, result.weekly)
    draws = draw_curves(units, terms, seed)
    confidence_ = None
    if draws is not None:
        draw_values = objective_values(prices, draws, facts.unit_cost, kind)
        confidence_ = confidence(prices, draw_values, choice.admitted, choice.index, current_index)
    return Decision(
        stockcode=code,
        facts=facts,
        request=request,
        objective=kind,
        current=(context.current_price, facts.current_date, facts.current_source, current_index),
        prices=prices,
        grid=np.isin(prices, grid),
        result=result,
        values=values,
        choice=choice,
        confidence=confidence_,
        support=context.support_range,
        restricted=restrict,
        model=rec.model,
        incidence_model=rec.incidence_model,
        current_breaks=breaks,
        segment_share=rec.segment_share,
    )
