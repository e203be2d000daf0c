"""Contexts x price bins -> predicted sales curve and optimum. Pure and vectorised: one matrix, one model call.

The context rows arrive already transformed and keyed to the product; only the price columns change
between bins, so the matrix is the contexts tiled once per bin with each bin's scaled price features
written into the price columns. (The network skips building it: see DFNRegressor.predict_grid.)"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from pricing.data.features import quantity_from_log


@dataclass(frozen=True)
class SweepResult:
    prices: np.ndarray  # (bins,)
    quantity: np.ndarray  # median predicted quantity per line across contexts, per bin
    quantity_min: np.ndarray
    quantity_max: np.ndarray

    @property
    def sales(self) -> np.ndarray:
        return self.prices * self.quantity

    @property
    def optimal_index(self) -> int:
        return int(np.argmax(self.sales))

    @property
    def optimal_price(self) -> float:
        return float(self.prices[self.optimal_index])

    def rows(self, stockcode: str) -> list[dict]:
        """The API's JSON array: one object per price bin."""
        best = self.optimal_index
        sales = self.sales
        return [
            {
                "stockcode": stockcode,
                "unit_price": round(float(p), 4),
                "quantity": round(float(q), 4),
                "quantity_min": round(float(lo), 4),
                "quantity_max": round(float(hi), 4),
                "predicted_sales": round(float(s), 4),
                "optimal_unit_price": round(float(self.prices[best]), 4),
                "max_predicted_sales": round(float(sales[best]), 4),
            }
            for p, q, lo, hi, s in zip(
                self.prices, self.quantity, self.quantity_min, self.quantity_max, sales, strict=True
            )
        ]


def price_grid(low: float, high: float, bins: int) -> np.ndarray:
    return np.linspace(low, high, bins) if bins > 1 else np.array([(low + high) / 2])


def sweep_matrix(contexts: np.ndarray, price_columns: list[int], scaled_prices: np.ndarray) -> np.ndarray:
    """Rows bin-major: rows [b*n, (b+1)*n) are every context at bin b's price."""
    bins, n = len(scaled_prices), len(contexts)
    X = np.tile(contexts, (bins, 1))
    X[:, price_columns] = np.repeat(scaled_prices, n, axis=0)
    return X


def aggregate(prices: np.ndarray, log_quantity: np.ndarray) -> SweepResult:
    """Per bin: median, min and max predicted quantity across contexts (log predictions, bin-major)."""
    quantity = np.clip(quantity_from_log(log_quantity), 0, None).reshape(len(prices), -1)
    return SweepResult(
        prices=np.asarray(prices, dtype=float),
        quantity=np.median(quantity, axis=1),
        quantity_min=quantity.min(axis=1),
        quantity_max=quantity.max(axis=1),
    )
