"""The running experiment as the API and the batch answer it: `GET /v1/price-decision/<stockcode>?mode=experiment`
and `pricing experiment plan` (one answer per product and week, so the two cannot disagree).

A product's answer in a week is a pure function of the bundle (its `experiment.json`, pricing.experiments.design,
and the states of `pricing experiment update`'s `experiment_evidence.parquet`), the product and the ISO week: every
request in a week gets the same price, and the service caches it under (bundle, experiment, product, week). In
order of precedence:

1. a week outside [start_week, start_week + weeks): the status-quo price, binding "outside the experiment's weeks";
2. a holdout product: the status quo, binding "holdout";
3. a product the latest update marked `stopped` (the stop-loss: pricing.experiments.update's states): the status
   quo, binding "stop-loss", at the status quo's arm with no propensity (no longer drawn at random);
4. otherwise the schedule's price (design.price_for): the arm's target, or, binding "step", the price the weekly
   step cap allowed toward it.

`results` and `state` come from pricing.experiments.results (the update's files in the bundle); `state` is the
product's state there, else "holdout" for a holdout product and "planned" for the others.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from pricing.artifacts.bundle import Bundle
from pricing.experiments.design import (
    CURRENCY,
    EXPERIMENT_FILE,
    OUTSIDE,
    Experiment,
    ExperimentProduct,
    add_weeks,
    price_for,
)
from pricing.experiments.results import product_results as evidence_results
from pricing.experiments.results import product_state as evidence_state

log = logging.getLogger(__name__)
STOPPED = "stopped"
# the experiment answer's top-level fields, in order (`answer`), for the OpenAPI document and its test
ANSWER_FIELDS = (
    "stockcode",
    "mode",
    "bundle_version",
    "experiment",
    "week",
    "week_index",
    "price",
    "status_quo_price",
    "currency",
    "in_experiment",
    "holdout",
    "arm",
    "arms",
    "propensity",
    "binding_guardrail",
    "reason",
    "state",
    "schedule",
    "results",
)
# The plan's CSV: the batch CSV's columns that apply to an experiment's price (pricing.serving.batch.OUTPUT_FIELDS,
# in its order: `decision` is "experiment"), then the experiment's own
PLAN_FIELDS = (
    "line",
    "stockcode",
    "status",
    "error",
    "objective",
    "unit_cost",
    "objective_used",
    "unit_cost_used",
    "current_price",
    "decision",
    "price_to_set",
    "test_arms",
    "test_weeks",
    "verdict",
    "week",
    "week_index",
    "arm",
    "arm_price",
    "holdout",
    "propensity",
    "binding_guardrail",
    "state",
    "experiment_id",
    "bundle_version",
)


class NoExperiment(LookupError):
    """The bundle runs no experiment, or not the one asked for; the message names the `experiment` parameter
    (HTTP 404)."""


@dataclass(frozen=True)
class ServedExperiment:
    """A bundle's experiment as served: the bundle (its update's files are read through it) and the config."""

    bundle: Bundle
    config: Experiment


def load_experiment(bundle: Bundle) -> ServedExperiment | None:
    """The bundle's experiment (experiment.json, read after its checksum and validated), None for a bundle that
    runs none. ValueError for a config that does not validate; BundleIntegrityError for an altered file."""
    if EXPERIMENT_FILE not in bundle.manifest["files"]:
        return None
    return ServedExperiment(bundle, Experiment.read(bundle.verified(EXPERIMENT_FILE)))


def check_experiment(served: ServedExperiment | None, asked: str | None) -> ServedExperiment:
    """The served experiment when it is the one `asked` for (None: whichever the bundle runs); NoExperiment
    otherwise, naming the parameter."""
    if served is None:
        raise NoExperiment("experiment: this bundle runs no experiment")
    if asked is not None and asked != served.config.id:
        raise NoExperiment(f"experiment: {asked[:60]!r} is not this bundle's experiment ({served.config.id})")
    return served


def product_state(served: ServedExperiment, product: ExperimentProduct) -> str:
    """The product's state (module docstring)."""
    state = evidence_state(served.bundle, product.stockcode)
    return state if state is not None else "holdout" if product.holdout else "planned"


def product_results(served: ServedExperiment, stockcode: str) -> dict | None:
    """The contract's `results` block (pricing.experiments.results.product_results), None before any update."""
    return evidence_results(served.bundle, stockcode)


def summary(config: Experiment, week: str) -> dict:
    """The answer's `experiment` block; `status` is the experiment's in the week answered (planned, running,
    ended), so the answer stays a function of the week."""
    return {
        "id": config.id,
        "start_week": config.start_week,
        "weeks": config.weeks,
        "end_week": config.end_week,
        "objective": config.objective,
        "holdout_share": config.holdout_share,
        "band": config.band,
        "step": config.step,
        "status": config.status(week),
    }


def _money(price: float) -> str:
    return f"{price:.2f} {CURRENCY}"


def answer(served: ServedExperiment, stockcode: str, week: str, bundle_version: str) -> dict:
    """The contract's answer for a product of the experiment in `week` (YYYY-Www; module docstring for the
    precedence). KeyError for a product not in it; ValueError for a malformed week. Prices in currency per unit,
    whole pence; `arm` an index into `arms`; `week_index` 0-based."""
    config = served.config
    product = config.product(stockcode)
    if product is None:
        raise KeyError(stockcode)
    planned = price_for(config, stockcode, week)
    state = product_state(served, product)
    sq, arms, n = product.status_quo_price, list(product.arms), len(product.arms)
    price, arm, propensity, binding = planned.price, planned.arm, planned.propensity, planned.binding
    position = f"week {planned.week_index + 1} of {config.weeks}" if planned.week_index is not None else ""
    if binding == OUTSIDE:
        reason = (
            f"{planned.week} is outside the experiment's weeks ({config.start_week} to {config.end_week}): "
            f"the status-quo price {_money(sq)}"
        )
    elif product.holdout:
        reason = f"held out: the status-quo price {_money(sq)} every week, the tested products' comparison ({position})"
    elif state == STOPPED:
        price, arm, propensity, binding = sq, arms.index(sq), None, "stop-loss"
        share, probability = config.stop_loss.share, config.stop_loss.probability
        reason = (
            f"stopped by the stop-loss: the test's evidence puts the probability of losing more than {share:.0%} of "
            f"the status-quo weekly figure above {probability:g}; back at the status-quo price {_money(sq)} "
            f"({position})"
        )
    else:
        reason = f"arm {arm + 1} of {n} ({_money(planned.target)})"
        if binding == "step":
            reason += f", capped by the weekly step of {config.step:.0%} at {_money(price)}"
        reason += f", in {position}"
    return {
        "stockcode": stockcode,
        "mode": "experiment",
        "bundle_version": bundle_version,
        "experiment": summary(config, planned.week),
        "week": planned.week,
        "week_index": planned.week_index,
        "price": price,
        "status_quo_price": sq,
        "currency": CURRENCY,
        "in_experiment": True,
        "holdout": product.holdout,
        "arm": arm,
        "arms": arms,
        "propensity": propensity,
        "binding_guardrail": binding,
        "reason": reason,
        "state": state,
        "schedule": [{"week": w.week, "arm": w.arm, "price": w.price, "binding": w.binding} for w in product.schedule],
        "results": product_results(served, stockcode),
    }


def not_in_experiment_note(config: Experiment, stockcode: str) -> str:
    """What a product outside the experiment's answer (its decision) says."""
    return f"{stockcode} is not in experiment {config.id}; this is its decision"


def plan_rows(served: ServedExperiment, week: str, bundle_version: str) -> list[dict]:
    """`pricing experiment plan`: one PLAN_FIELDS row per product of the experiment (the config's order) in
    `week`, each from `answer`, so the file and the API agree. ValueError for a malformed week."""
    config = served.config
    week = add_weeks(week, 0)
    rows = []
    for line, product in enumerate(config.products, start=1):
        reply = answer(served, product.stockcode, week, bundle_version)
        rows.append(
            {
                "line": line,
                "stockcode": product.stockcode,
                "status": "ok",
                "error": "",
                "objective": config.objective,
                "unit_cost": product.unit_cost,
                "objective_used": config.objective if product.unit_cost is not None else "revenue",
                "unit_cost_used": product.unit_cost,
                "current_price": product.status_quo_price,
                "decision": "experiment",
                "price_to_set": reply["price"],
                "test_arms": " ".join(f"{a:.2f}" for a in product.arms),
                "test_weeks": config.weeks,
                "verdict": "experiment",
                "week": reply["week"],
                "week_index": reply["week_index"],
                "arm": reply["arm"],
                "arm_price": None if reply["arm"] is None else product.arms[reply["arm"]],
                "holdout": product.holdout,
                "propensity": reply["propensity"],
                "binding_guardrail": reply["binding_guardrail"],
                "state": reply["state"],
                "experiment_id": config.id,
                "bundle_version": bundle_version,
            }
        )
    return rows
