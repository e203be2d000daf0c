"""From a demand curve to a price decision a pricing manager can act on: objective, business rules, support,
confidence, the current price and the gain.

Pure functions on arrays over candidate prices (shape (K,), increasing), so every rule and figure is testable
without a model; `pricing.serving.predictor.Predictor.decide` feeds them a product's curve and its draws.

- Objective (per week, the data's currency): revenue p x units, or profit (p - c) x units with a unit cost c.
- Rules: `floor`/`ceiling` (prices), `max_change` (at most this fraction from the current price),
  `price_ending` (the pence a price ends in: 0.99 admits 4.99, 12.99), `min_margin` ((p - c) / p at least
  this), and `support` (only list prices the product was sold at, widened by SUPPORT_TOLERANCE; applied to
  fallback models whose curves extrapolate flat). The constrained optimum maximises the objective over the
  candidates every rule admits; each binding rule's cost is what the objective gains when that rule alone is
  lifted (the others kept), so a manager sees what each rule costs.
- Confidence: the curve's draws (S, K) (the posterior of the product's price slopes: pricing.training.evidence,
  at least SLOPE_SD_FLOOR) give the optimum of each draw, whose INTERVAL_LEVEL central interval is the
  interval for the optimal price; the objective at the recommended price likewise; and the share of draws in
  which the recommended price beats the current one.
- Decision: `change` when that probability is at least CHANGE_PROBABILITY and the expected gain at least
  MIN_RELATIVE_GAIN of the objective at the current price; otherwise `hold` the current price (the evidence
  does not support a change). A request may ask for stricter thresholds (`min_probability`, `min_gain`). The
  defaults are the strictest rule that did not raise the decisions' median regret on the generator's data
  (`pricing evaluate` reports the regret of each threshold: docs/PRICING_QUALITY.md); a stricter rule trades
  regret for fewer changes.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from pricing.serving.errors import RequestError
from pricing.serving.sweep import PRICE_BIN_FIELDS

OBJECTIVE_KINDS = ("revenue", "profit")
# each bin of a decision's curve: the sweep's fields, whether the price lies in the product's support, and the
# weekly profit there (null without a unit cost)
BIN_FIELDS = (*PRICE_BIN_FIELDS, "in_support", "profit_per_week")
# the decision's top-level fields (Decision.to_json), for the OpenAPI document and its test
DECISION_FIELDS = (
    "stockcode",
    "description",
    "per",
    "objective",
    "objective_note",
    "unit_cost",
    "unit_cost_source",
    "current",
    "recommended",
    "unconstrained",
    "rules",
    "interval",
    "probability_beats_current",
    "expected_change",
    "decision",
    "decision_reason",
    "price_to_set",
    "support",
    "model",
    "incidence_model",
    "observed",
    "curve",
)
RULES = ("floor", "ceiling", "max_change", "price_ending", "min_margin", "support")
INTERVAL_LEVEL = 0.9
DRAWS = 400  # posterior draws of the curve per request
# The slopes are drawn with an sd of at least this (log units per unit of log price, or of the network's price
# term): the spread of products' slopes that their own data cannot resolve. The posterior sds in evidence.parquet
# rest on a DerSimonian-Laird estimate of that spread, and it collapses: each product's own price variation pins
# its slope down far less well (standard error 0.35 for the 300 best sellers) than the spread to be measured, so
# the estimate came out at 0.09 and 0.01 (per line) on the generator's seeds 0 and 1, while the true slopes spread
# by 0.15-0.16 around the network's. Chosen on seed 0 as the floor whose 90% interval covered the true profit
# optimum for 85-95% of the 300 best sellers, checked on seed 1 (docs/PRICING_QUALITY.md, "The interval").
SLOPE_SD_FLOOR = 0.16
CHANGE_PROBABILITY = 0.5  # change only where the draws favour the recommended price (docs/PRICING_QUALITY.md)
MIN_RELATIVE_GAIN = 0.0
SUPPORT_TOLERANCE = 0.05  # a price within 5% of the sold range counts as seen


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
    """What the rules are judged against: the current price, the unit cost (None: unknown) and the product's
    support (the lowest and highest list price it sold at: Predictor.support), all in the data's currency."""

    current_price: float
    unit_cost: float | None
    support_low: float
    support_high: float

    @property
    def support_range(self) -> tuple[float, float]:
        return self.support_low * (1 - SUPPORT_TOLERANCE), self.support_high * (1 + SUPPORT_TOLERANCE)


def candidate_prices(grid: np.ndarray, rules: Rules, context: Context) -> np.ndarray:
    """The prices a decision chooses among (K,), increasing: the swept grid, the rules' boundaries inside it
    (floor, ceiling, current x (1 +- max_change), the min-margin price, the support's ends), the prices with the
    required ending and the current price, all within the grid's range, to 4 decimals."""
    low, high = float(grid[0]), float(grid[-1])
    extra = [context.current_price, rules.floor, rules.ceiling, *context.support_range]
    if rules.max_change is not None:
        extra += [context.current_price * (1 - rules.max_change), context.current_price * (1 + rules.max_change)]
    if rules.min_margin is not None and context.unit_cost is not None:
        extra.append(context.unit_cost / (1 - rules.min_margin))
    if rules.price_ending is not None:
        whole = np.arange(np.floor(low), np.ceil(high) + 1)
        extra += list(whole + rules.price_ending)
    values = np.array([v for v in extra if v is not None], dtype=float)
    # a boundary between two 4-decimal prices contributes both: the rule's mask keeps the one it admits
    values = np.concatenate([np.floor(values * 1e4 + 1e-6) / 1e4, np.ceil(values * 1e4 - 1e-6) / 1e4])
    values = values[(values >= low - 1e-9) & (values <= high + 1e-9)]
    return np.unique(np.round(np.concatenate([np.asarray(grid, dtype=float), values]), 4))


def rule_masks(prices: np.ndarray, rules: Rules, context: Context, restrict_support: bool) -> dict[str, np.ndarray]:
    """For each rule in force, which candidate prices it admits ((K,) booleans). RequestError for min_margin
    without a unit cost."""
    p = np.asarray(prices, dtype=float)
    masks: dict[str, np.ndarray] = {}
    if rules.floor is not None:
        masks["floor"] = p >= rules.floor - 1e-9
    if rules.ceiling is not None:
        masks["ceiling"] = p <= rules.ceiling + 1e-9
    if rules.max_change is not None:
        masks["max_change"] = np.abs(p - context.current_price) <= rules.max_change * context.current_price + 1e-9
    if rules.price_ending is not None:
        cents = np.round(p * 100)
        whole_penny = np.abs(p * 100 - cents) < 1e-6  # 2.9884 does not end in .99: only whole-penny prices do
        masks["price_ending"] = whole_penny & (np.mod(cents, 100) == round(rules.price_ending * 100))
    if rules.min_margin is not None:
        if context.unit_cost is None:
            raise RequestError("min_margin: needs a unit cost (pass unit_cost, or publish a cost file with the bundle)")
        masks["min_margin"] = (p - context.unit_cost) >= rules.min_margin * p - 1e-9
    if restrict_support:
        low, high = context.support_range
        masks["support"] = (p >= low - 1e-9) & (p <= high + 1e-9)
    return masks


def conflict_message(masks: dict[str, np.ndarray], low: float, high: float) -> str:
    """Why no candidate survives: the first rule that admits nothing in the swept range on its own, else the
    smallest set of rules (pairs first) that admit nothing together."""
    for name, mask in masks.items():
        if not mask.any():
            return f"{name}: admits no price within {low:g}..{high:g}"
    names = list(masks)
    for i, a in enumerate(names):
        for b in names[i + 1 :]:
            if not (masks[a] & masks[b]).any():
                return f"{a} and {b} conflict: no price within {low:g}..{high:g} satisfies both"
    return f"{', '.join(names)} conflict: no price within {low:g}..{high:g} satisfies them all"


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
    """The constrained and unconstrained optima over the candidates, and each rule's cost."""

    index: int
    unconstrained_index: int
    rule_costs: list[RuleCost] = field(default_factory=list)
    admitted: np.ndarray | None = None  # (K,): the candidates the range and every rule admit

    @property
    def binding(self) -> list[str]:
        return [c.rule for c in self.rule_costs if c.binding]


def choose(
    values: np.ndarray, masks: dict[str, np.ndarray], low: float, high: float, base: np.ndarray | None = None
) -> Choice:
    """Constrained optimum of `values` (K,) under every mask, the unconstrained one (under `base` alone: the
    swept range), and per rule the objective gained by lifting that rule alone. RequestError (naming the rules)
    when the rules admit no price."""
    base = np.ones(len(values), dtype=bool) if base is None else base
    every = base.copy()
    for mask in masks.values():
        every &= mask
    chosen = best_index(values, every)
    if chosen is None:
        raise RequestError(conflict_message({k: m & base for k, m in masks.items()}, low, high))
    costs = []
    for name in masks:
        others = base.copy()
        for other, mask in masks.items():
            if other != name:
                others &= mask
        lifted = best_index(values, others)
        gain = float(values[lifted] - values[chosen])
        costs.append(RuleCost(name, gain > 1e-9, round(max(gain, 0.0), 4)))
    return Choice(chosen, best_index(values, base), costs, every)


def objective_values(prices: np.ndarray, units: np.ndarray, unit_cost: float | None, kind: str) -> np.ndarray:
    """Revenue p x units or profit (p - c) x units, per candidate (broadcasts over leading draw axes)."""
    margin = prices - unit_cost if kind == "profit" and unit_cost is not None else prices
    return margin * units


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
    admits; `chosen`, `current`: candidate indices of the recommended and the current price."""
    masked = np.where(admitted[None, :], draw_values, -np.inf)
    optimum = prices[np.argmax(masked, axis=1)]
    tail = (1 - INTERVAL_LEVEL) / 2
    price_lo, price_hi = np.quantile(optimum, [tail, 1 - tail])
    value_lo, value_hi = np.quantile(draw_values[:, chosen], [tail, 1 - tail])
    beats = float(np.mean(draw_values[:, chosen] > draw_values[:, current])) if chosen != current else 0.0
    return Confidence(
        (round(float(price_lo), 4), round(float(price_hi), 4)),
        (round(float(value_lo), 4), round(float(value_hi), 4)),
        round(beats, 4),
        len(draw_values),
    )


def decide(
    probability: float | None,
    expected_gain: float,
    current_value: float,
    same_price: bool,
    min_probability: float = CHANGE_PROBABILITY,
    min_gain: float = MIN_RELATIVE_GAIN,
) -> tuple[str, str]:
    """`change` or `hold`, and why (module docstring). `probability`: the share of draws in which the recommended
    price beats the current one, None for a bundle without an uncertainty estimate (judged on the expected gain
    alone); `expected_gain`, `current_value`: the objective's gain and its value at the current price (per week);
    `min_probability`, `min_gain` (a fraction of the current value): the thresholds."""
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
            else f"the expected gain is below {min_gain:.0%} of the current weekly figure"
        )
    if probability is None:
        return "change", "this bundle carries no uncertainty estimate: judged on the expected gain alone"
    return "change", f"the recommended price beats the current one in {probability:.0%} of the model's draws"


def observed_points(history, stockcode: str) -> list[dict]:
    """The product's observed weekly history by list-price level (bundle's price_history.parquet rows), as the
    response's `observed` array; [] for a bundle without it."""
    if history is None or stockcode not in history.index:
        return []
    rows = history.loc[[stockcode]]
    columns = ("price", "weeks", "orders_per_week", "units_per_week", "sales_per_week")
    return [
        {name: (int(row[name]) if name == "weeks" else round(float(row[name]), 4)) for name in columns}
        for _, row in rows.iterrows()
    ]


@dataclass(frozen=True)
class Decision:
    """Everything a price decision reports, over candidate prices (K,) of which `grid` marks the swept bins.

    `current`: (price, date or None, source, candidate index); `values`: the objective at each candidate
    (currency per week, or per order line for optimise=sales_per_line); `support`: the sold range with its
    tolerance; `restricted`: whether the support rule applied (a flat-extrapolating model answered)."""

    stockcode: str
    description: str
    request: object  # the PriceRequest
    objective: str
    unit_cost: float | None
    unit_cost_source: str | None
    current: tuple
    prices: np.ndarray
    grid: np.ndarray
    result: object  # the SweepResult over the candidates
    values: np.ndarray
    choice: Choice
    confidence: Confidence | None
    support: tuple[float, float]
    restricted: bool
    model: str
    incidence_model: str | None
    observed: list[dict]
    current_breaks: tuple[str, ...] = ()  # the rules the current price breaks: holding it is not an option

    @property
    def recommended_price(self) -> float:
        return float(self.prices[self.choice.index])

    @property
    def expected_gain(self) -> float:
        """The objective gained per week (or per order line) by the recommended price over the current one."""
        return float(self.values[self.choice.index] - self.values[self.current[3]])

    @property
    def decision(self) -> tuple[str, str]:
        chosen, current = self.choice.index, self.current[3]
        if self.current_breaks:
            return "change", f"the current price breaks {', '.join(self.current_breaks)}: the rules require a move"
        probability = None if self.confidence is None else self.confidence.probability_beats_current
        request = self.request
        return decide(
            probability,
            self.expected_gain,
            float(self.values[current]),
            chosen == current,
            CHANGE_PROBABILITY if request.min_probability is None else request.min_probability,
            MIN_RELATIVE_GAIN if request.min_gain is None else request.min_gain,
        )

    @property
    def price_to_set(self) -> float:
        """The recommended price when the decision is to change, else the current price (4 decimals)."""
        return round(self.recommended_price if self.decision[0] == "change" else float(self.current[0]), 4)

    def in_support(self, prices: np.ndarray) -> np.ndarray:
        low, high = self.support
        return (prices >= low - 1e-9) & (prices <= high + 1e-9)

    def _figures(self, index: int) -> dict:
        """Units, sales and profit (per week when weekly, else per order line) at candidate `index`."""
        result, p = self.result, float(self.prices[index])
        weekly = result.weekly
        units = float((result.units_per_week if weekly else result.quantity)[index])
        figures = {
            "price": round(p, 4),
            "units": round(units, 4),
            "sales": round(p * units, 4),
            "profit": None if self.unit_cost is None else round((p - self.unit_cost) * units, 4),
            "objective": round(float(self.values[index]), 4),
            "in_support": bool(self.in_support(np.array([p]))[0]),
        }
        if weekly:
            figures["orders"] = round(float(result.orders_per_week[index]), 4)
        return figures

    def to_json(self) -> dict:
        """The /v1/price-decision response (docs/API.md lists every field)."""
        chosen, current_index = self.choice.index, self.current[3]
        price, date, source, _ = self.current
        now, then = self._figures(chosen), self._figures(current_index)
        verdict, reason = self.decision
        rules = self.request.rules
        change = {
            name: None if now[name] is None else round(now[name] - then[name], 4)
            for name in ("units", "sales", "profit", "objective")
        }
        base = then["objective"]
        change["objective_relative"] = round(change["objective"] / base, 4) if base else None
        requested = self.request.objective
        return {
            "stockcode": self.stockcode,
            "description": self.description,
            "per": "week" if self.result.weekly else "order_line",
            "objective": self.objective,
            "objective_note": (
                f"objective={requested} needs a unit cost (unit_cost, or a cost file published with the bundle): "
                "answered as revenue"
                if requested != self.objective
                else None
            ),
            "unit_cost": self.unit_cost,
            "unit_cost_source": self.unit_cost_source,
            "current": {**then, "price": round(price, 4), "date": date, "source": source},
            "recommended": now,
            "unconstrained": self._figures(self.choice.unconstrained_index),
            "rules": [
                {
                    "rule": c.rule,
                    "value": None if c.rule == "support" else getattr(rules, c.rule),
                    "binding": c.binding,
                    "cost": c.cost_per_week,
                }
                for c in self.choice.rule_costs
            ],
            "interval": None
            if self.confidence is None
            else {
                "level": INTERVAL_LEVEL,
                "price": list(self.confidence.price_interval),
                "objective": list(self.confidence.objective_interval),
                "draws": self.confidence.draws,
                "method": "posterior draws of the product's incidence and per-line price slopes "
                f"(pricing.training.evidence), their sd at least {SLOPE_SD_FLOOR:g} (the spread of products' slopes "
                "their own data cannot resolve), each draw's optimum under the same rules",
            },
            "probability_beats_current": None if self.confidence is None else self.confidence.probability_beats_current,
            "expected_change": change,
            "decision": verdict,
            "decision_reason": reason,
            "price_to_set": self.price_to_set,
            "support": {
                "low": round(self.support[0], 4),
                "high": round(self.support[1], 4),
                "tolerance": SUPPORT_TOLERANCE,
                "recommendation_outside": not now["in_support"],
                # an optimum at an end of the swept range may lie beyond it: widen the range to see
                "recommendation_at_range_edge": (
                    "low"
                    if now["price"] <= self.prices[self.grid][0]
                    else "high"
                    if now["price"] >= self.prices[self.grid][-1]
                    else None
                ),
                "restricted_to_support": self.restricted,
            },
            "model": self.model,
            "incidence_model": self.incidence_model,
            "observed": self.observed,
            "curve": self.rows(),
        }

    def rows(self) -> list[dict]:
        """The /v1/predict-price array: one object per swept bin (the grid), with the optimum fields set to the
        decision's recommended price, and each bin's support flag and weekly profit (null without a cost)."""
        grid = np.flatnonzero(self.grid)
        result = self.result
        sub = result.subset(grid)
        best_price = round(self.recommended_price, 4)
        best_sales = round(float(result.sales[self.choice.index]), 4)
        rows = sub.rows(self.stockcode)
        support = self.in_support(sub.prices)
        weekly_units = sub.units_per_week
        for k, row in enumerate(rows):
            row["optimal_unit_price"], row["max_predicted_sales"] = best_price, best_sales
            row["in_support"] = bool(support[k])
            row["profit_per_week"] = (
                None
                if self.unit_cost is None or weekly_units is None
                else round(float((sub.prices[k] - self.unit_cost) * weekly_units[k]), 4)
            )
        return rows


# The flat summary of a decision: the batch job's CSV columns (after the request's) and the warm-up's log line.
SUMMARY_FIELDS = (
    "optimal_unit_price",
    "max_predicted_sales",
    "quantity_at_optimum",
    "orders_per_week_at_optimum",
    "units_per_week_at_optimum",
    "sales_per_week_at_optimum",
    "profit_per_week_at_optimum",
    "objective_used",
    "unit_cost_used",
    "unit_cost_source",
    "unconstrained_price",
    "binding_rules",
    "current_price",
    "current_price_date",
    "price_interval_low",
    "price_interval_high",
    "objective_interval_low",
    "objective_interval_high",
    "probability_beats_current",
    "expected_change_units",
    "expected_change_sales",
    "expected_change_profit",
    "decision",
    "price_to_set",
    "recommendation_in_support",
    "model",
    "incidence_model",
)


def summary(decision: dict) -> dict:
    """One flat row (SUMMARY_FIELDS) of a decision's JSON (Decision.to_json)."""
    best = decision["curve"][0] if decision["curve"] else {}
    recommended, interval, change = decision["recommended"], decision["interval"] or {}, decision["expected_change"]
    weekly = decision["per"] == "week"
    price_interval, objective_interval = interval.get("price", [None, None]), interval.get("objective", [None, None])
    return {
        "optimal_unit_price": recommended["price"],
        "max_predicted_sales": best.get("max_predicted_sales"),
        "quantity_at_optimum": None if weekly else recommended["units"],
        "orders_per_week_at_optimum": recommended.get("orders"),
        "units_per_week_at_optimum": recommended["units"] if weekly else None,
        "sales_per_week_at_optimum": recommended["sales"] if weekly else None,
        "profit_per_week_at_optimum": recommended["profit"] if weekly else None,
        "objective_used": decision["objective"],
        "unit_cost_used": decision["unit_cost"],
        "unit_cost_source": decision["unit_cost_source"],
        "unconstrained_price": decision["unconstrained"]["price"],
        "binding_rules": ";".join(rule["rule"] for rule in decision["rules"] if rule["binding"]),
        "current_price": decision["current"]["price"],
        "current_price_date": decision["current"]["date"],
        "price_interval_low": price_interval[0],
        "price_interval_high": price_interval[1],
        "objective_interval_low": objective_interval[0],
        "objective_interval_high": objective_interval[1],
        "probability_beats_current": decision["probability_beats_current"],
        "expected_change_units": change["units"],
        "expected_change_sales": change["sales"],
        "expected_change_profit": change["profit"],
        "decision": decision["decision"],
        "price_to_set": decision["price_to_set"],
        "recommendation_in_support": recommended["in_support"],
        "model": decision["model"],
        "incidence_model": decision["incidence_model"],
    }
