"""A stand-in for serving's Predictor: the same interface, a known demand curve, no trained model.

API tests that check parsing, headers and the response's shape run against it in milliseconds; tests of what a
trained model predicts use the quick bundle (tests/conftest.py) instead."""

from __future__ import annotations

import numpy as np
import pandas as pd

from pricing.serving.errors import NoContexts, UnknownStockcode
from pricing.serving.predictor import Recommendation
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

    @property
    def model_names(self) -> list[str]:
        return [name for name, _ in self.models]

    def default_range(self, stockcode: str) -> tuple[float, float]:
        if stockcode not in self.products.index:
            raise UnknownStockcode(stockcode)
        return float(self.products.loc[stockcode, "price_min"]), float(self.products.loc[stockcode, "price_max"])

    def recommend(self, request: PriceRequest, only: str | None = None, monotone: bool = False) -> Recommendation:
        self.requests.append(request)
        if request.country is not None and request.country not in COUNTRIES:
            raise NoContexts(f"no held-out context matches country {request.country!r}")
        prices = price_grid(request.unitprice_min, request.unitprice_max, request.num_price_bins)
        quantity = np.repeat(self.scale * prices**self.elasticity, self.n_contexts)
        orders = 50.0 * prices**self.incidence_elasticity
        result = aggregate(prices, quantity, monotone, orders_per_week=orders, objective=request.optimise)
        return Recommendation(request.stockcode, result, "standin", "standin_incidence")
