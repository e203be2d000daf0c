"""A price decision (pricing.serving.decision.Decision) as the API's JSON and the batch job's flat CSV row.

Formats only: every figure is the decision's; this module rounds and names them (docs/API.md lists the fields)."""

from __future__ import annotations

import numpy as np

from pricing.serving.decision import INTERVAL_LEVEL, PRIOR_SD_FLOOR, SUPPORT_TOLERANCE, Decision
from pricing.serving.sweep import PRICE_BIN_FIELDS

# each bin of a decision's curve: the sweep's fields, whether the price lies in the product's support, and the
# weekly profit there (null without a unit cost)
BIN_FIELDS = (*PRICE_BIN_FIELDS, "in_support", "profit_per_week")
# the decision's top-level fields (to_json), for the OpenAPI document and its test
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
    "rules_together",
    "rules_force_loss",
    "interval",
    "probability_beats_current",
    "expected_change",
    "decision",
    "decision_reason",
    "price_to_set",
    "test",
    "experiment_evidence",
    "support",
    "segment",
    "model",
    "incidence_model",
    "observed",
    "curve",
)
INTERVAL_METHOD = (
    "posterior draws of the product's incidence and per-line price slopes (pricing.training.evidence): the "
    f"product's own evidence updating a prior spread of at least {PRIOR_SD_FLOOR:g}, so the interval widens as its "
    "data shrink; each draw's optimum under the same rules"
)


def figures(decision: Decision, index: int) -> dict:
    """Units, sales and profit (per week when weekly, else per order line) at price `index` of the decision."""
    result, p = decision.result, float(decision.prices[index])
    weekly = result.weekly
    units = float((result.units_per_week if weekly else result.quantity)[index])
    cost = decision.unit_cost
    out = {
        "price": round(p, 4),
        "units": round(units, 4),
        "sales": round(p * units, 4),
        "profit": None if cost is None else round((p - cost) * units, 4),
        "objective": round(float(decision.values[index]), 4),
        "in_support": bool(decision.in_support(np.array([p]))[0]),
    }
    if weekly:
        out["orders"] = round(float(result.orders_per_week[index]), 4)
    return out


def to_json(decision: Decision) -> dict:
    """The /v1/price-decision response (docs/API.md lists every field)."""
    choice, request = decision.choice, decision.request
    price, date, source, current_index = decision.current
    now, then = figures(decision, choice.index), figures(decision, current_index)
    verdict, reason = decision.verdict
    change = {
        name: None if now[name] is None else round(now[name] - then[name], 4)
        for name in ("units", "sales", "profit", "objective")
    }
    # relative to the current figure's size: a gain over a negative profit is a positive change, a loss negative
    base = then["objective"]
    change["objective_relative"] = round(change["objective"] / abs(base), 4) if base else None
    requested = request.objective
    grid_prices = decision.prices[decision.grid]
    return {
        "stockcode": decision.stockcode,
        "description": decision.facts.description,
        "per": "week" if decision.result.weekly else "order_line",
        "objective": decision.objective,
        "objective_note": (
            f"objective={requested} needs a unit cost (unit_cost, or a cost file published with the bundle): "
            "answered as revenue"
            if requested != decision.objective
            else None
        ),
        "unit_cost": decision.unit_cost,
        "unit_cost_source": decision.facts.unit_cost_source,
        "current": {**then, "price": round(price, 2), "date": date, "source": source},
        "recommended": now,
        "unconstrained": figures(decision, choice.unconstrained_index),
        "rules": [
            {
                "rule": c.rule,
                "value": None if c.rule == "support" else getattr(request.rules, c.rule),
                "binding": c.binding,
                "cost": c.cost_per_week,
            }
            for c in choice.rule_costs
        ],
        # the rules together: the gap to the unconstrained optimum, which the rules alone may not show
        "rules_together": {"binding": choice.joint_cost > 1e-9, "cost": choice.joint_cost},
        "rules_force_loss": decision.rules_force_loss,
        "interval": None
        if decision.confidence is None
        else {
            "level": INTERVAL_LEVEL,
            "price": list(decision.confidence.price_interval),
            "objective": list(decision.confidence.objective_interval),
            "draws": decision.confidence.draws,
            "method": INTERVAL_METHOD,
        },
        "probability_beats_current": None
        if decision.confidence is None
        else decision.confidence.probability_beats_current,
        "expected_change": change,
        "decision": verdict,
        "decision_reason": reason,
        "price_to_set": decision.price_to_set,
        # a `test` verdict's price test (pricing.serving.decision.PriceTest); null for change and hold
        "test": _test_json(decision),
        # what a price test taught of the product's weekly elasticity (pricing.serving.learnt); null if untested
        "experiment_evidence": None if decision.facts.learnt is None else decision.facts.learnt.as_json(),
        "support": {
            "low": round(decision.support[0], 4),
            "high": round(decision.support[1], 4),
            "tolerance": SUPPORT_TOLERANCE,
            "recommendation_outside": not now["in_support"],
            # an optimum at an end of the swept range may lie beyond it: widen the range to see
            "recommendation_at_range_edge": (
                "low" if now["price"] <= grid_prices[0] else "high" if now["price"] >= grid_prices[-1] else None
            ),
            "restricted_to_support": decision.restricted and not choice.support_relaxed,
            "relaxed": choice.support_relaxed,
        },
        # a country or customer filter: every weekly figure is that segment's (its order lines and its units per
        # line); `observed` stays the product's over every segment
        "segment": {
            "country": request.country,
            "customerid": request.customerid,
            "share_of_order_lines": round(decision.segment_share, 4),
        },
        "model": decision.model,
        "incidence_model": decision.incidence_model,
        "observed": decision.facts.observed,
        "curve": curve_rows(decision),
    }


def _test_json(decision: Decision) -> dict | None:
    plan = decision.test_plan
    if plan is None:
        return None
    return {
        "arms": list(plan.arms),
        "weeks_per_arm": plan.weeks_per_arm,
        "weeks": plan.weeks,
        # the model's expected loss against holding the current price (negative: an expected gain), per week
        # on average over the arms, and over the whole test
        "expected_weekly_cost": plan.expected_weekly_cost,
        "expected_cost": plan.expected_cost,
    }


def curve_rows(decision: Decision) -> list[dict]:
    """The /v1/predict-price array: one object per swept bin (the grid), with the optimum fields set to the
    decision's recommended price, and each bin's support flag and weekly profit (null without a cost)."""
    result = decision.result
    sub = result.subset(np.flatnonzero(decision.grid))
    best_price = round(decision.recommended_price, 4)
    best_sales = round(float(result.sales[decision.choice.index]), 4)
    rows = sub.rows(decision.stockcode)
    support = decision.in_support(sub.prices)
    weekly_units, cost = sub.units_per_week, decision.unit_cost
    for k, row in enumerate(rows):
        row["optimal_unit_price"], row["max_predicted_sales"] = best_price, best_sales
        row["in_support"] = bool(support[k])
        row["profit_per_week"] = (
            None if cost is None or weekly_units is None else round(float((sub.prices[k] - cost) * weekly_units[k]), 4)
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
    "rules_cost_together",
    "rules_force_loss",
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
    "test_arms",
    "test_weeks",
    "test_expected_cost",
    "recommendation_in_support",
    "model",
    "incidence_model",
)


def summary(decision: dict) -> dict:
    """One flat row (SUMMARY_FIELDS) of a decision's JSON (to_json)."""
    best = decision["curve"][0] if decision["curve"] else {}
    recommended, interval, change = decision["recommended"], decision["interval"] or {}, decision["expected_change"]
    test = decision["test"]
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
        "rules_cost_together": decision["rules_together"]["cost"],
        "rules_force_loss": decision["rules_force_loss"],
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
        "test_arms": " ".join(f"{arm:.2f}" for arm in test["arms"]) if test else None,
        "test_weeks": test["weeks"] if test else None,
        "test_expected_cost": test["expected_cost"] if test else None,
        "recommendation_in_support": recommended["in_support"],
        "model": decision["model"],
        "incidence_model": decision["incidence_model"],
    }
