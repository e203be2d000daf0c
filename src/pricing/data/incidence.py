"""Purchase incidence: how many order lines a product gets per week at its list price.

Weekly units = order lines per week x units per line. The second part is the per-line models' question; this
module builds the first part's table and features, for training (from the prepared lines) and for serving (at a
swept list price, in the reference weeks the bundle stores), through the same functions.

The list price of a product on a day is read from its lines through the product's price ladder (guests pay a
premium, bulk lines a quantity-break discount; pricing.data.list_price). A week's list price is the median of
its days' list prices; a week without sales carries the last list price forward (and the first one back), so
weeks with no lines, the orders a price lost, stay in the table with a price.

Features per product-week (INCIDENCE_FEATURES), the product's vocabulary index beside them:
    price_x       log(list price / the product's training-median line price) minus the week's mean of it over
                  all products (the price partialled out of what the week explains: sales, catalogue changes)
    week_sin/cos  the week of the year on the unit circle (season)
    trend         years since the data's first week
Target: lines in the week; exposure: the shop's trading days that week (lines = rate per trading day x days).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from pricing.data.list_price import daily_list_prices, ladder_of

INCIDENCE_FEATURES = ("price_x", "week_sin", "week_cos", "trend")
PRICE_COLUMN = 0  # price_x's column in the feature matrix


@dataclass(frozen=True)
class ReferenceWeeks:
    """The weeks serving averages a product's rate over (the held-out window): per week its season and trend
    features, the mean log price ratio partialled out, and its trading days. Arrays of shape (weeks,)."""

    week_sin: np.ndarray
    week_cos: np.ndarray
    trend: np.ndarray
    mean_price_x: np.ndarray
    trading_days: np.ndarray

    def to_json(self) -> dict:
        return {name: [float(v) for v in getattr(self, name)] for name in self.__dataclass_fields__}

    @classmethod
    def from_json(cls, payload: dict) -> ReferenceWeeks:
        return cls(**{name: np.asarray(payload[name], dtype=float) for name in cls.__dataclass_fields__})

    @property
    def typical_trading_days(self) -> float:
        return float(np.median(self.trading_days))


def week_start(dates: pd.Series) -> pd.Series:
    """The Monday of each date's week (dates normalised to midnight)."""
    day = pd.to_datetime(dates).dt.normalize()
    return day - pd.to_timedelta(day.dt.day_of_week, unit="D")


def weekly_table(lines: pd.DataFrame, first_week: pd.Timestamp, products: pd.DataFrame | pd.Index) -> pd.DataFrame:
    """One row per product (of `products`) and week of the lines' window: lines that week (0 when none), the
    week's list price (carried over weeks without sales), trading days (days the shop sold anything); and units
    that week (0 when none) when the lines have a quantity column.

    `first_week`: the Monday of the data's first week (the trend's origin); `products`: the product table (its
    price ladder reads the days' list prices, pricing.data.list_price) or only the codes (the ladder is then
    read from `lines`). Products never sold in the window have no list price to carry and are left out."""
    codes = products.index if isinstance(products, pd.DataFrame) else products
    chosen = lines[lines["stockcode"].isin(codes)]
    days = daily_list_prices(chosen, ladder_of(products, chosen))
    shop_days = pd.Series(pd.to_datetime(lines["invoice_date"]).dt.normalize().unique())
    return weekly_from_days(days, shop_days, first_week)


def weekly_from_days(days: pd.DataFrame, shop_days: pd.Series, first_week: pd.Timestamp) -> pd.DataFrame:
    """`weekly_table` from its two aggregates: `days`, the products' days (`list_price.daily_list_prices`:
    stockcode, day, list_price, lines[, units]), and `shop_days`, the distinct days the shop sold anything. Both
    are small whatever the number of lines (products x days; days), so training computes them a group of
    products at a time from data larger than memory (pricing.training.lines) and ends here as `weekly_table`
    does."""
    days = days.assign(week=week_start(days["day"]))
    shop_days = pd.Series(pd.to_datetime(shop_days).unique())
    trading = shop_days.groupby(week_start(shop_days)).size()
    sums = {"lines": ("lines", "sum"), **({"units": ("units", "sum")} if "units" in days else {})}
    weekly = days.groupby(["stockcode", "week"]).agg(**sums, list_price=("list_price", "median"))
    weeks = trading.index.sort_values()
    codes = weekly.index.get_level_values(0).unique()
    full = pd.MultiIndex.from_product([codes, weeks], names=["stockcode", "week"])
    weekly = weekly.reindex(full)
    for count in sums:
        weekly[count] = weekly[count].fillna(0).astype(np.int64)
    # carried forward within each product, then its first known price carried back
    carried = weekly.groupby(level=0)["list_price"].ffill()
    weekly["list_price"] = carried.groupby(level=0).bfill()
    weekly = weekly.reset_index()
    weekly["trading_days"] = weekly["week"].map(trading).to_numpy(dtype=float)
    weekly["trend"] = (weekly["week"] - first_week).dt.days.to_numpy() / 365.25
    return weekly


def season(week: pd.Series) -> tuple[np.ndarray, np.ndarray]:
    angle = 2 * np.pi * (pd.to_datetime(week).dt.isocalendar().week.to_numpy(dtype=float) - 1) / 52.0
    return np.sin(angle), np.cos(angle)


def log_price_ratio(list_price, price_median) -> np.ndarray:
    return np.log(np.asarray(list_price, dtype=float) / np.asarray(price_median, dtype=float))


def training_features(weekly: pd.DataFrame, products: pd.DataFrame) -> tuple[pd.DataFrame, pd.Series]:
    """The feature frame (INCIDENCE_FEATURES) of a weekly table, and each week's mean log price ratio (what
    price_x has subtracted; serving subtracts the reference weeks' mean the same way)."""
    ratio = log_price_ratio(weekly["list_price"], products["price_median"].reindex(weekly["stockcode"]).to_numpy())
    week_mean = pd.Series(ratio).groupby(weekly["week"].to_numpy()).mean()
    sin, cos = season(weekly["week"])
    frame = pd.DataFrame(
        {
            "price_x": ratio - week_mean.reindex(weekly["week"].to_numpy()).to_numpy(),
            "week_sin": sin,
            "week_cos": cos,
            "trend": weekly["trend"].to_numpy(dtype=float),
        }
    )
    return frame, week_mean


def reference_weeks(weekly: pd.DataFrame, week_mean: pd.Series) -> ReferenceWeeks:
    """The weeks of a (held-out) weekly table, for serving."""
    weeks = weekly.drop_duplicates("week").sort_values("week")
    sin, cos = season(weeks["week"])
    return ReferenceWeeks(
        week_sin=sin,
        week_cos=cos,
        trend=weeks["trend"].to_numpy(dtype=float),
        mean_price_x=week_mean.reindex(weeks["week"].to_numpy()).to_numpy(dtype=float),
        trading_days=weeks["trading_days"].to_numpy(dtype=float),
    )


def serving_features(prices: np.ndarray, price_median: float, weeks: ReferenceWeeks) -> np.ndarray:
    """Features of one product at each swept list price in each reference week: shape (bins * weeks, 4),
    price-major (rows [b * W, (b + 1) * W) are price b in every week), float32."""
    prices = np.asarray(prices, dtype=float)
    n_weeks = len(weeks.trend)
    ratio = np.repeat(log_price_ratio(prices, price_median), n_weeks) - np.tile(weeks.mean_price_x, len(prices))
    context = np.column_stack([weeks.week_sin, weeks.week_cos, weeks.trend])
    return np.column_stack([ratio, np.tile(context, (len(prices), 1))]).astype(np.float32)
