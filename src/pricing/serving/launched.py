"""The price decision for a new product after its first weeks (issue 26, Build 2): `GET /v1/price-decision/<code>`
for a code the bundle was not trained on but that `pricing experiment update` learnt as a *new product*
(pricing.experiments.launched: its `experiment_evidence.parquet` row has `new_product` true).

Such a product has no curve of its own in the bundle: it borrows its neighbours' (pricing.serving.launch). Its
decision is the known product's decision (pricing.serving.decision.make_decision, the same candidates, rules,
draws and verdict) over a demand source built from three parts:

- the curve: the launch curve (`launch.launch_decision` for its description, the request's unit cost or the
  evidence's, reference price its status-quo price p0, the request's country; scale `query`: each neighbour read
  at the same price relative to p0 as to its own current price), evaluated at the decision's prices by
  `launch_curve` (launch.py's mix: each neighbour's shape times their weighted mean level), multiplied by the
  posterior's tilt (p / p0) ** -(b - b0) (learnt.LearntSlope.tilt), so its elasticity at p0 is the posterior's;
- the uncertainty: the draws (decision.draw_curves) move log units by the posterior sd of b on log(p / p0);
- the support: the prices its weeks charged (experiment_weeks.parquet) are the prices it sold at.

The neighbours are read from the bundle's own curves, not from curves a test tilted (Predictor.unlearnt): b0 was
computed that way by the update, so the tilt moves the curve it was measured on.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from pricing.serving import decision as D
from pricing.serving import launch
from pricing.serving.errors import UnknownStockcode
from pricing.serving.learnt import NewProduct
from pricing.serving.money import MINOR_UNITS, ceil_minor, floor_minor
from pricing.serving.request import LaunchRequest, PriceRequest
from pricing.serving.sweep import SWEEP_BAND, SweepResult

STATUS_QUO_SOURCE = "status_quo_price"  # the decision's `current.source`: the price its first week charged


@dataclass(frozen=True)
class LaunchCurve:
    """The launch curve at prices (K,): units per week (the mix of launch.py, step 2), the mix's order lines per
    week (each neighbour's order lines at its price scaled by the same level factor as its units) and the
    neighbours' lowest and highest units per line; the models that answered and the similarity-weighted mean
    share of order lines the request's country places."""

    units: np.ndarray
    orders: np.ndarray
    quantity_min: np.ndarray
    quantity_max: np.ndarray
    model: str
    incidence_model: str | None
    segment_share: float


def neighbour_levels(decision: launch.LaunchDecision) -> np.ndarray:
    """(N,) each neighbour's units per week at its own current price, read off the launch grid as
    launch.launch_decision reads it (log-linear interpolation of its curve at its current price)."""
    levels = []
    for k, current in enumerate(decision.current_prices):
        own = decision.prices * decision.scale[k]
        units = np.maximum(decision.neighbour_units[k], 1e-12)
        levels.append(float(np.exp(np.interp(np.log(current), np.log(own), np.log(units)))))
    return np.array(levels)


def launch_curve(
    predictor, decision: launch.LaunchDecision, prices: np.ndarray, samples: int, only=None, monotone=False
) -> LaunchCurve:
    """The launch curve of `decision` at any `prices` (K,) (currency per unit, increasing): neighbour k's curve
    (Predictor.curve, `samples` held-out contexts, the launch request's country) read at prices x scale_k, each
    divided by its level at its current price (`neighbour_levels`), mixed with the launch's similarity weights,
    times their weighted mean level: launch.launch_decision's own arithmetic, so at the launch's prices it gives
    its `units` exactly (tests/unit/serving/test_launched.py). Units per week; ValueError for a bundle without an
    incidence model (no weekly curve to borrow). Raises NoContexts and NoUsableModel from the predictor."""
    prices = np.asarray(prices, dtype=float)
    levels = neighbour_levels(decision)
    units, orders, q_min, q_max, shares = [], [], [], [], []
    model = incidence = None
    for k, neighbour in enumerate(decision.neighbours):
        own = prices * decision.scale[k]
        request = PriceRequest(
            neighbour.stockcode, float(own[0]), float(own[-1]), 2, samples, country=decision.request.country
        )
        rec = predictor.curve(request, own, only, monotone)
        result = rec.result
        if not result.weekly:
            raise ValueError("a new product's curve needs the bundle's weekly curves (an incidence model)")
        units.append(np.asarray(result.units_per_week, dtype=float))
        orders.append(np.asarray(result.orders_per_week, dtype=float))
        q_min.append(result.quantity_min)
        q_max.append(result.quantity_max)
        shares.append(rec.segment_share)
        model, incidence = model or rec.model, incidence or rec.incidence_model
    weights = decision.weights
    level = float(weights @ levels)
    mixed = level * (weights @ (np.vstack(units) / levels[:, None]))
    mixed_orders = level * (weights @ (np.vstack(orders) / levels[:, None]))
    return LaunchCurve(
        mixed,
        mixed_orders,
        np.min(q_min, axis=0),
        np.max(q_max, axis=0),
        model,
        incidence,
        float(weights @ np.array(shares)),
    )


def launch_request(product: NewProduct, unit_cost: float | None, country: str | None) -> LaunchRequest:
    """The launch request a new product's curve is built from: its description, `unit_cost`, reference price its
    status-quo price p0 (scale `query`), `country`."""
    return LaunchRequest(product.description, unit_cost, product.slope.status_quo_price, country)


class LaunchedSource:
    """A new product as a decision.DemandSource (module docstring): `predictor` the serving Predictor (its unlearnt
    view reads the neighbours), `product` the evidence's NewProduct. The launch decision is made once per request
    on the first `curve` or `facts` call."""

    def __init__(self, predictor, product: NewProduct) -> None:
        self.predictor = predictor
        self.neighbours_from = predictor.unlearnt() if hasattr(predictor, "unlearnt") else predictor
        self.product = product
        self.launched: launch.LaunchDecision | None = None

    def _unit_cost(self, request: PriceRequest) -> tuple[float | None, str | None]:
        if request.unit_cost is not None:
            return request.unit_cost, "query"
        if self.product.unit_cost is not None:
            return self.product.unit_cost, "experiment_evidence"
        return None, None

    def launch(self, request: PriceRequest) -> launch.LaunchDecision:
        """The launch decision of the product's description at p0 for `request`'s country and cost (cached on the
        source). UnknownStockcode when the bundle has no look-alike any more (a bundle retrained since)."""
        if self.launched is None:
            wanted = launch_request(self.product, self._unit_cost(request)[0], request.country)
            index = launch.catalogue_index(self.predictor)
            self.launched = launch.launch_decision(
                self.neighbours_from, wanted, index=index, samples=request.num_samples
            )
            if self.launched is None:
                raise UnknownStockcode(self.product.stockcode)
        return self.launched

    def facts(self, request: PriceRequest) -> D.ProductFacts:
        """Description, status-quo price p0 as the current price (source STATUS_QUO_SOURCE, no date), the support
        (the lowest and highest weekly list price its weeks charged, p0 included), the unit cost (the request's,
        else the evidence's), its weeks by list price as `observed`, and its LearntSlope."""
        slope = self.product.slope
        p0 = slope.status_quo_price
        low, high = slope.tested_prices or (p0, p0)
        cost, cost_source = self._unit_cost(request)
        return D.ProductFacts(
            description=self.product.description,
            current_price=p0,
            current_date=None,
            current_source=STATUS_QUO_SOURCE,
            support=(min(low, p0), max(high, p0)),
            unit_cost=cost,
            unit_cost_source=cost_source,
            observed=list(self.product.observed),
            learnt=slope,
        )

    def curve(self, request: PriceRequest, prices: np.ndarray, only=None, monotone=False, only_incidence=None):
        """The tilted launch curve at `prices` as a Recommendation: order lines per week x the tilt, units per line
        the mix's units over its order lines (so units per week are the launch curve's x the tilt)."""
        from pricing.serving.predictor import Recommendation

        prices = np.asarray(prices, dtype=float)
        mix = launch_curve(self.neighbours_from, self.launch(request), prices, request.num_samples, only, monotone)
        per_line = mix.units / np.maximum(mix.orders, 1e-12)
        result = SweepResult(
            prices=prices,
            quantity=per_line,
            quantity_min=mix.quantity_min,
            quantity_max=mix.quantity_max,
            quantity_mean=per_line,
            orders_per_week=mix.orders * self.product.slope.tilt(prices),
            objective=request.optimise,
        )
        return Recommendation(self.product.stockcode, result, mix.model, mix.incidence_model, mix.segment_share, 1.0)

    def slope_terms(self, stockcode: str, prices: np.ndarray, pivot: float, weekly: bool):
        """The posterior sd of b on log(p / pivot): the only slope uncertainty left (learnt.py's, for a tested
        product)."""
        return [(self.product.slope.sd, np.log(np.asarray(prices, dtype=float) / pivot))]


def default_range(product: NewProduct) -> tuple[float, float]:
    """The price range a request sweeps unless it says otherwise, as Predictor.default_range's `list_prices`: the
    prices its weeks charged and p0, the lowest less SWEEP_BAND and the highest plus it, whole pence."""
    slope = product.slope
    low, high = slope.tested_prices or (slope.status_quo_price, slope.status_quo_price)
    low, high = min(low, slope.status_quo_price), max(high, slope.status_quo_price)
    return max(floor_minor(low * (1 - SWEEP_BAND)), 1) / MINOR_UNITS, ceil_minor(high * (1 + SWEEP_BAND)) / MINOR_UNITS


def decide(predictor, product: NewProduct, request: PriceRequest) -> tuple[D.Decision, launch.LaunchDecision]:
    """The decision for a new product (module docstring) and the launch decision its curve came from. Raises
    RequestError (the decision's), NoContexts, NoUsableModel, UnknownStockcode (no look-alike any more)."""
    source = LaunchedSource(predictor, product)
    decision = D.make_decision(request, source)
    return decision, source.launch(request)


INTERVAL_METHOD = (
    "posterior draws of the new product's weekly price slope from its test weeks (pricing experiment update: its "
    "neighbours' launch curve as the prior, the weeks' quasi-Poisson likelihood), on log(price / status-quo price); "
    "each draw's optimum under the same rules"
)


def to_json(decision: D.Decision, product: NewProduct, launched: launch.LaunchDecision) -> dict:
    """The answer for a new product: the decision's own JSON (decision_json.to_json, so a client reads it as a
    known product's) with `interval.method` saying where its draws come from, and `new_product`
    (`new_product_json`). What differs from a known product's: `current` is the status-quo price p0 (source
    STATUS_QUO_SOURCE, no date), `observed` its test weeks by price, `model` the neighbours' models."""
    from pricing.serving.decision_json import to_json as decision_json

    body = decision_json(decision)
    if body["interval"] is not None:
        body["interval"]["method"] = INTERVAL_METHOD
    return {**body, "new_product": new_product_json(product, launched)}


def new_product_json(product: NewProduct, launched: launch.LaunchDecision) -> dict:
    """The answer's `new_product` block: the description, the evidence's neighbours (the update's), and the
    launch curve's neighbours now with their similarity, weight, current price and price scale."""
    return {
        "description": product.description,
        "status_quo_price": round(product.slope.status_quo_price, 4),
        "neighbours": [
            {
                "stockcode": nb.stockcode,
                "description": nb.description,
                "similarity": round(nb.similarity, 4),
                "weight": round(float(launched.weights[k]), 4),
                "current_price": round(float(launched.current_prices[k]), 4),
                "price_scale": round(float(launched.scale[k]), 6),
            }
            for k, nb in enumerate(launched.neighbours)
        ],
        "neighbours_at_update": list(product.neighbours),
    }
