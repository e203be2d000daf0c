"""Contexts x price bins -> predicted sales curve and optimum. Pure and vectorised: one matrix, one model call.

The context rows arrive already transformed and keyed to the product; only the price columns change
between bins, so the matrix is the contexts tiled once per bin with each bin's scaled price features
written into the price columns. (The network skips building it: see DFNRegressor.predict_grid.)"""

from __future__ import annotations

from dataclasses import dataclass, replace

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
    "orders_per_week",
    "units_per_week",
    "sales_per_week",
)
# What the optimum maximises: weekly sales (price x order lines per week x mean units per line; the default) or,
# as the versions before the incidence model did, sales per order line (price x median units per line).
OBJECTIVES = ("sales_per_week", "sales_per_line")
# Where a request's default price range comes from: the product's list prices and its current price widened by
# SWEEP_BAND (the default), or every price a line paid (quantity-break discounts up to the guests' premium)
SWEEP_BASES = ("list_prices", "line_prices")
SWEEP_BAND = 0.2  # +-20% around the list prices: the band pricing teams test within (docs/API.md)


@dataclass(frozen=True)
class SweepResult:
    """One product's demand curve over its price bins; every array has shape (bins,).

    quantity: the median across contexts of the predicted units per order line (quantity_min/max: the range);
    quantity_mean: their mean, the expected units per line that weekly units multiply; orders_per_week: expected
    order lines per week at the bin's price (None for a bundle without an incidence model, whose optimum can
    only be per line). Prices in the data's currency."""

    prices: np.ndarray
    quantity: np.ndarray
    quantity_min: np.ndarray
    quantity_max: np.ndarray
    quantity_mean: np.ndarray | None = None
    orders_per_week: np.ndarray | None = None
    objective: str = "sales_per_week"

    def subset(self, index: np.ndarray) -> SweepResult:
        """The same curve at the bins `index` selects (an index array or a boolean mask)."""
        return replace(
            self,
            **{
                name: None if getattr(self, name) is None else getattr(self, name)[index]
                for name in ("prices", "quantity", "quantity_min", "quantity_max", "quantity_mean", "orders_per_week")
            },
        )

    @property
    def sales(self) -> np.ndarray:
        """Sales per order line: price x median units per line."""
        return self.prices * self.quantity

    @property
    def units_per_week(self) -> np.ndarray | None:
        return None if self.orders_per_week is None else self.orders_per_week * self.quantity_mean

    @property
    def sales_per_week(self) -> np.ndarray | None:
        units = self.units_per_week
        return None if units is None else self.prices * units

    @property
    def weekly(self) -> bool:
        """Whether the optimum maximises weekly sales (asked for, and the bundle can predict order lines)."""
        return self.objective == "sales_per_week" and self.orders_per_week is not None

    @property
    def optimal_index(self) -> int:
        return int(np.argmax(self.sales_per_week if self.weekly else self.sales))

    @property
    def optimal_price(self) -> float:
        return float(self.prices[self.optimal_index])

    def rows(self, stockcode: str) -> list[dict]:
        """The API's JSON array: one object per price bin (the weekly fields null without an incidence model)."""
        best_price, best_sales = round(self.optimal_price, 4), round(float(self.sales[self.optimal_index]), 4)
        columns = (self.prices, self.quantity, self.quantity_min, self.quantity_max, self.sales)
        nothing = np.full(len(self.prices), np.nan)
        weekly = (
            (self.orders_per_week, self.units_per_week, self.sales_per_week)
            if self.orders_per_week is not None
            else (nothing, nothing, nothing)
        )
        return [
            dict(
                zip(
                    PRICE_BIN_FIELDS,
                    (
                        stockcode,
                        *(round(float(v), 4) for v in values),
                        best_price,
                        best_sales,
                        *(None if np.isnan(v) else round(float(v), 4) for v in week),
                    ),
                    strict=True,
                )
            )
            for values, week in zip(zip(*columns, strict=True), zip(*weekly, strict=True), strict=True)
        ]


def price_grid(low: float, high: float, bins: int) -> np.ndarray:
    """`bins` prices from low to high inclusive (shape (bins,)), each a whole penny where the bins are at least a
    penny apart (prices a shop can charge: pricing.serving.money), else snapped to the response's 4 decimals.

    Strictly increasing when the bins are at least PRICE_RESOLUTION apart, which the request parser enforces: the
    pence are rounded half up (floor(100 x + 0.5)), which keeps prices a penny or more apart distinct."""
    grid = np.linspace(low, high, bins) if bins > 1 else np.array([(low + high) / 2])
    if bins > 1 and (high - low) / (bins - 1) >= 0.01 - 1e-12 and low >= 0.01:
        return np.floor(grid * 100 + 0.5) / 100
    return np.round(grid, PRICE_DECIMALS)


def sweep_matrix(contexts: np.ndarray, price_columns: list[int], scaled_prices: np.ndarray) -> np.ndarray:
    """Rows bin-major: rows [b*n, (b+1)*n) are every context at bin b's price."""
    bins, n = len(scaled_prices), len(contexts)
    X = np.tile(contexts, (bins, 1))
    X[:, price_columns] = np.repeat(scaled_prices, n, axis=0)
    return X


def aggregate(
    prices: np.ndarray,
    quantity: np.ndarray,
    monotone: bool = False,
    orders_per_week: np.ndarray | None = None,
    objective: str = "sales_per_week",
) -> SweepResult:
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
        quantity_mean=quantity.mean(axis=1),
        orders_per_week=orders_per_week,
        objective=objective,
    )
