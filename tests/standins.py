"""A stand-in for serving's Predictor: the same interface, a known demand curve, no trained model.

API tests that check parsing, headers and the response's shape run against it in milliseconds; tests of what a
trained model predicts use the quick bundle (tests/conftest.py) instead."""

from __future__ import annotations

import numpy as np
import pandas as pd

from pricing.serving.decision import Decision, ProductFacts, make_decision
from pricing.serving.errors import NoContexts, UnknownStockcode
from pricing.serving.health import ModelFailures
from pricing.serving.predictor import Recommendation, observed_points
from pricing.serving.request import PriceRequest
from pricing.serving.sweep import aggregate, price_grid

PRODUCTS = pd.DataFrame(
    {
        "description": ["WHITE HANGING HEART T-LIGHT HOLDER", "REGENCY CAKESTAND 3 TIER", "PARTY BUNTING"],
        "price_min": [2.55, 10.95, 4.65],
        "price_median": [2.95, 12.75, 4.95],
        "price_max": [3.25, 14.95, 5.45],
        "lines": [2300, 2000, 1700],
        "units": [35000, 13000, 18000],
    },
    index=pd.Index(["85123A", "22423", "47566"], name="stockcode"),
)
COUNTRIES = ("United Kingdom", "France")
# what the bundle's evidence and history tables would hold for the stand-in's products
EVIDENCE = pd.DataFrame(
    {
        "current_price": [2.95, 12.75, 4.95],
        "current_price_date": ["2011-12-09", "2011-12-08", "2011-12-07"],
        "incidence_slope_sd": [0.2, 0.2, 0.2],
        "line_slope_sd": [np.nan, np.nan, np.nan],
    },
    index=PRODUCTS.index,
)
HISTORY = pd.DataFrame(
    {
        "price": [2.55, 2.95, 3.25, 10.95, 12.75],
        "weeks": [10, 30, 5, 20, 25],
        "orders_per_week": [60.0, 50.0, 40.0, 5.0, 4.0],
        "units_per_week": [700.0, 580.0, 450.0, 60.0, 50.0],
    },
    index=pd.Index(["85123A", "85123A", "85123A", "22423", "22423"], name="stockcode"),
).assign(sales_per_week=lambda t: t["price"] * t["units_per_week"])


class StandInPredictor:
    """Quantity per line = scale x price ** elasticity in every context (constant elasticity) and order lines per
    week = 50 x price ** incidence_elasticity, so both revenue curves and their optima are known in closed form:
    with elasticity -0.5 sales per line rise with price (optimum at the top of the range) and with incidence -1.5
    weekly sales fall (optimum at the bottom). `contexts` contexts per request, all alike."""

    version = "20260101T000000Z-standin0"
    skipped: dict[str, str] = {}  # noqa: RUF012  (read-only, like Predictor's)

    def __init__(
        self, elasticity: float = -0.5, scale: float = 20.0, contexts: int = 3, incidence_elasticity: float = -1.5
    ) -> None:
        self.elasticity, self.scale, self.n_contexts = elasticity, scale, contexts
        self.incidence_elasticity = incidence_elasticity
        self.products = PRODUCTS
        self.models = [("standin", None)]
        self.requests: list[PriceRequest] = []
        self.evidence, self.history, self.costs = EVIDENCE, HISTORY, None
        self.failures = ModelFailures()  # never fails: /health reads it as it reads the Predictor's

    @property
    def model_names(self) -> list[str]:
        return [name for name, _ in self.models]

    def is_fallback(self, model: str, incidence_model: str | None) -> bool:
        """Its one model answers every request: never a fallback."""
        return model != self.models[0][0]

    def default_range(self, stockcode: str, sweep: str = "list_prices") -> tuple[float, float]:
        """The product's sold range (the stand-in reads both bases alike)."""
        product = self.product(stockcode)
        return float(product["price_min"]), float(product["price_max"])

    def product(self, stockcode: str) -> pd.Series:
        if stockcode not in self.products.index:
            raise UnknownStockcode(stockcode)
        return self.products.loc[stockcode]

    # what the real decision code (pricing.serving.decision.make_decision) takes from a DemandSource
    def facts(self, request: PriceRequest) -> ProductFacts:
        code = request.stockcode
        product, current = self.product(code), self.evidence.loc[code]
        levels = (
            self.history.loc[[code], "price"] if code in self.history.index else product[["price_min", "price_max"]]
        )
        cost = request.unit_cost
        if cost is None and self.costs is not None and code in self.costs.index:
            cost = float(self.costs.loc[code, "unit_cost"])
        return ProductFacts(
            description=str(product["description"]),
            current_price=float(current["current_price"]),
            current_date=str(current["current_price_date"]),
            current_source="last_list_price",
            support=(float(levels.min()), float(levels.max())),
            unit_cost=cost,
            unit_cost_source=None if cost is None else ("query" if request.unit_cost is not None else "cost_file"),
            observed=observed_points(self.history, code),
        )

    def slope_terms(self, stockcode: str, prices: np.ndarray, pivot: float, weekly: bool) -> list:
        """The incidence slope's sd on log price (the stand-in has no per-line slope uncertainty)."""
        sd = self.evidence.loc[stockcode, "incidence_slope_sd"]
        return [(float(sd), np.log(np.asarray(prices) / pivot))] if weekly and not pd.isna(sd) else []

    def decide(self, request: PriceRequest, only=None, monotone=False, only_incidence=None) -> Decision:
        return make_decision(request, self, only, monotone, only_incidence)

    def recommend(self, request: PriceRequest, only: str | None = None, monotone: bool = False) -> Recommendation:
        prices = price_grid(request.unitprice_min, request.unitprice_max, request.num_price_bins)
        return self.curve(request, prices, only, monotone)

    def curve(
        self, request: PriceRequest, prices: np.ndarray, only: str | None = None, monotone: bool = False, *_
    ) -> Recommendation:
        self.requests.append(request)
        if request.country is not None and request.country not in COUNTRIES:
            raise NoContexts(f"no held-out context matches country {request.country!r}")
        quantity = np.repeat(self.scale * prices**self.elasticity, self.n_contexts)
        orders = 50.0 * prices**self.incidence_elasticity
        result = aggregate(prices, quantity, monotone, orders_per_week=orders, objective=request.optimise)
        return Recommendation(request.stockcode, result, "standin", "standin_incidence")
