"""From a shop's transaction lines to the weekly arrays `pricing.experiments.learning.update_posterior` takes: what
`pricing experiment update` will read from an export of the test weeks, and what the simulator's `--lines` files
are read back with in the tests.

Per product and ISO week (Monday to Sunday): the units sold, the sum of the lines' squared quantities (for the
dispersion), the order lines, and the list price, read through the price ladder (pricing.data.list_price: a
guest's premium and a quantity break are not list prices) as the mean of the week's daily list prices; a week
without a sale carries the week before's price (the shop's price did not change because nobody bought). On a
few weeks of lines the ladder has little to learn a product's quantity break from, and a week whose known
customers all bought in bulk can read the break price (on the simulator's 3-week files: a few products in 25);
where the shop knows the prices it set (an experiment's plan), those are the ones to use.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from pricing.data.list_price import daily_list_prices


@dataclass(frozen=True)
class WeeklyPanel:
    """(N, T) arrays per product (`codes`, in the order asked) and week (`weeks`, Mondays): units, squared
    units, order lines, list price (NaN before a product's first sale)."""

    codes: np.ndarray
    weeks: pd.DatetimeIndex
    units: np.ndarray
    squared_units: np.ndarray
    orders: np.ndarray
    list_price: np.ndarray


def weekly_panel(lines: pd.DataFrame, codes, weeks: pd.DatetimeIndex | None = None) -> WeeklyPanel:
    """The panel of `codes` from cleaned sale lines (pricing.data.load's canonical columns: stockcode,
    invoice_date, quantity, unit_price, customer_id; cancellations and non-products already dropped). `weeks`:
    the Mondays wanted (default: every week from the first line's to the last's). ValueError for no lines or a
    column missing."""
    missing = {"stockcode", "invoice_date", "quantity", "unit_price", "customer_id"} - set(lines.columns)
    if missing:
        raise ValueError(f"the lines have no {', '.join(sorted(missing))} column")
    if lines.empty:
        raise ValueError("no transaction lines to read weeks from")
    codes = np.asarray(codes, dtype=str)
    monday = pd.to_datetime(lines["invoice_date"]).dt.to_period("W-SUN").dt.start_time
    if weeks is None:
        weeks = pd.date_range(monday.min(), monday.max(), freq="7D")
    frame = pd.DataFrame(
        {
            "stockcode": lines["stockcode"].astype(str).to_numpy(),
            "week": monday.to_numpy(),
            "units": lines["quantity"].to_numpy(dtype=float),
            "squared": lines["quantity"].to_numpy(dtype=float) ** 2,
        }
    )
    sums = frame.groupby(["stockcode", "week"]).agg(
        units=("units", "sum"), squared=("squared", "sum"), orders=("units", "size")
    )
    daily = daily_list_prices(lines)
    daily["week"] = daily["day"].dt.to_period("W-SUN").dt.start_time
    price = daily.groupby(["stockcode", "week"])["list_price"].mean()
    index = pd.MultiIndex.from_product([codes, weeks], names=["stockcode", "week"])
    shape = (len(codes), len(weeks))

    def grid(series: pd.Series, fill: float) -> np.ndarray:
        return series.reindex(index).fillna(fill).to_numpy(dtype=float).reshape(shape)

    list_price = pd.DataFrame(grid(price, np.nan)).ffill(axis=1).to_numpy()
    return WeeklyPanel(
        codes, weeks, grid(sums["units"], 0.0), grid(sums["squared"], 0.0), grid(sums["orders"], 0.0), list_price
    )
