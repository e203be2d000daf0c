"""Contexts x price bins -> predicted sales curve and optimum. Pure and vectorised: one matrix, one model call.

The context rows arrive already transformed and keyed to the product; only the price columns change
between bins, so the matrix is the contexts tiled once per bin with each bin's scaled price features
written into the price columns. (The network skips building it: see DFNRegressor.predict_grid.)"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from pricing.data.features import quantity_from_log

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
    return np.linspace(low, high, bins) if bins > 1 else np.array([(low + high) / 2])


def sweep_matrix(contexts: np.ndarray, price_columns: list[int], scaled_prices: np.ndarray) -> np.ndarray:
    """Rows bin-major: rows [b*n, (b+1)*n) are every context at bin b's price."""
    bins, n = len(scaled_prices), len(contexts)
    X = np.tile(contexts, (bins, 1))
    X[:, price_columns] = np.repeat(scaled_prices, n, axis=0)
    return X


def aggregate(prices: np.ndarray, log_quantity: np.ndarray, monotone: bool = False) -> SweepResult:
    """Per bin: median, min and max predicted quantity across contexts (log predictions, bin-major).

    With `monotone`, the median curve is replaced by its closest non-increasing fit: demand does not rise
    with the product's own price, so bumps in a model's curve are noise, not opportunities."""
    quantity = np.clip(quantity_from_log(log_quantity), 0, None).reshape(len(prices), -1)
    median = np.median(quantity, axis=1)
    return SweepResult(
        prices=np.asarray(prices, dtype=float),
        quantity=non_increasing(median) if monotone else median,
        quantity_min=quantity.min(axis=1),
        quantity_max=quantity.max(axis=1),
    )


def non_increasing(values: np.ndarray) -> np.ndarray:
    """The least-squares non-increasing fit of a sequence (pool adjacent violators)."""
    means: list[float] = []
    sizes: list[int] = []
    for value in np.asarray(values, dtype=float):
        means.append(value)
        sizes.append(1)
        while len(means) > 1 and means[-2] < means[-1]:
            mean, size = means.pop(), sizes.pop()
            means[-1] = (means[-1] * sizes[-1] + mean * size) / (sizes[-1] + size)
            sizes[-1] += size
    return np.repeat(means, sizes)
