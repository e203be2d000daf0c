"""Contexts x price bins -> predicted sales curve and optimum. Pure and vectorised: one matrix, one model call.

The context rows arrive already transformed and keyed to the product; only the price columns change
between bins, so the matrix is the contexts tiled once per bin with each bin's scaled price features
written into the price columns. (The network skips building it: see DFNRegressor.predict_grid.)"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

# The response reports prices (currency units) to 4 decimals: the grid is snapped to that resolution, so each
# reported price is the one swept and predicted_sales is that price x quantity.
PRICE_DECIMALS = 4
PRICE_RESOLUTION = 10.0**-PRICE_DECIMALS
# the API's contract: the fields of each price bin, in order (the dashboard and curl users read them)
PRICE_BIN_FIELDS = (
    "stockcode",
    "unit_price",
    "quantity",
    "quantity_min",
    "quantity_max",
    "predicted_sales",
    "optimal_unit_price",
    "max_predicted_sales",
)


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
        best_price, best_sales = round(self.optimal_price, 4), round(float(self.sales[self.optimal_index]), 4)
        columns = (self.prices, self.quantity, self.quantity_min, self.quantity_max, self.sales)
        return [
            dict(
                zip(
                    PRICE_BIN_FIELDS,
                    (stockcode, *(round(float(v), 4) for v in values), best_price, best_sales),
                    strict=True,
                )
            )
            for values in zip(*columns, strict=True)
        ]


def price_grid(low: float, high: float, bins: int) -> np.ndarray:
    """`bins` prices from low to high inclusive, snapped to the response's 4 decimals (shape (bins,)).

    Strictly increasing when the bins are at least PRICE_RESOLUTION apart, which the request parser enforces."""
    grid = np.linspace(low, high, bins) if bins > 1 else np.array([(low + high) / 2])
    return np.round(grid, PRICE_DECIMALS)


def sweep_matrix(contexts: np.ndarray, price_columns: list[int], scaled_prices: np.ndarray) -> np.ndarray:
    """Rows bin-major: rows [b*n, (b+1)*n) are every context at bin b's price."""
    bins, n = len(scaled_prices), len(contexts)
    X = np.tile(contexts, (bins, 1))
    X[:, price_columns] = np.repeat(scaled_prices, n, axis=0)
    return X


def aggregate(prices: np.ndarray, quantity: np.ndarray, monotone: bool = False) -> SweepResult:
    """Per bin: median, min and max predicted quantity per line across contexts.

    `quantity` is units per line, bin-major, shape (bins * contexts,). With `monotone`, the median curve is
    replaced by its least-squares non-increasing fit (scikit-learn's isotonic regression, decreasing): demand does
    not rise with the product's own price, so bumps in a model's curve are noise, not opportunities."""
    quantity = np.asarray(quantity, dtype=float).reshape(len(prices), -1)
    median = np.median(quantity, axis=1)
    if monotone:
        from sklearn.isotonic import isotonic_regression  # only evaluation asks for it: no import at start-up

        median = isotonic_regression(median, increasing=False)
    return SweepResult(
        prices=np.asarray(prices, dtype=float),
        quantity=median,
        quantity_min=quantity.min(axis=1),
        quantity_max=quantity.max(axis=1),
    )
