"""Features: pure functions, the only code path for training and serving.

Leakage rules: product statistics come from the training window only (`product_table(train)`);
customer history for a row comes from months strictly before the row's month; nothing reads the invoice
number. Every price-dependent column comes from `price_features`, so the price sweep can recompute them
for any price exactly as training computed them.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

TARGET = "log_quantity"
PRICE_FEATURES = ("unit_price", "log_price", "price_ratio", "log_price_ratio", "price_to_max")
PRODUCT_FEATURES = (
    "product_log_price_median",
    "product_log_lines",
    "product_mean_log_quantity",
    "product_log_price_spread",
)
CONTEXT_NUMERIC = (
    "is_guest",
    "customer_known",
    "customer_prev_log_lines",
    "customer_prev_log_invoices",
    "customer_prev_mean_log_quantity",
    "customer_prev_log_price_ratio",
    "month_sin",
    "month_cos",
    "hour",
)
CONTEXT_CATEGORICAL = ("country", "weekday")
PRODUCT_ID = "stockcode"  # high cardinality: how it is encoded is the model's choice
NUMERIC_FEATURES = PRICE_FEATURES + PRODUCT_FEATURES + CONTEXT_NUMERIC
FEATURES = NUMERIC_FEATURES + CONTEXT_CATEGORICAL + (PRODUCT_ID,)
# carried beside the features for evaluation and serving filters; never model inputs
META = ("invoice_date", "customer_id", "quantity")


def log_quantity(quantity) -> np.ndarray:
    return np.log1p(np.asarray(quantity, dtype=float))


def quantity_from_log(log_q) -> np.ndarray:
    """The one inverse of the target transform (expm1, not exp)."""
    return np.expm1(np.asarray(log_q, dtype=float))


def price_features(price, price_median, price_max) -> pd.DataFrame:
    """Every price-dependent feature, for any prices; the product's statistics broadcast against them."""
    price = np.asarray(price, dtype=float)
    ratio = price / np.asarray(price_median, dtype=float)
    return pd.DataFrame(
        {
            "unit_price": price,
            "log_price": np.log(price),
            "price_ratio": ratio,
            "log_price_ratio": np.log(ratio),
            "price_to_max": price / np.asarray(price_max, dtype=float),
        }
    )


def product_table(train: pd.DataFrame) -> pd.DataFrame:
    """Per stockcode statistics of the training window: the only source of product-level features."""
    frame = train.assign(log_q=log_quantity(train["quantity"]))
    grouped = frame.groupby("stockcode", sort=True)
    table = pd.DataFrame(
        {
            "description": grouped["description"].agg(lambda s: s.mode().iat[0]),
            "price_min": grouped["unit_price"].min(),
            "price_median": grouped["unit_price"].median(),
            "price_max": grouped["unit_price"].max(),
            "lines": grouped.size(),
            "units": grouped["quantity"].sum(),
            "mean_log_quantity": grouped["log_q"].mean(),
            "first_sold": grouped["invoice_date"].min(),
            "last_sold": grouped["invoice_date"].max(),
        }
    )
    table.index = table.index.astype(str)
    table.index.name = "stockcode"
    table["product_log_price_median"] = np.log(table["price_median"])
    table["product_log_lines"] = np.log1p(table["lines"])
    table["product_mean_log_quantity"] = table["mean_log_quantity"]
    table["product_log_price_spread"] = np.log(table["price_max"] / table["price_min"])
    return table


def product_features(stockcodes, products: pd.DataFrame) -> pd.DataFrame:
    """Product-level features for each stockcode (unknown codes give NaN)."""
    rows = products.reindex(pd.Index(np.asarray(stockcodes, dtype=object).astype(str)))
    return rows[list(PRODUCT_FEATURES)].reset_index(drop=True)


def customer_history(rows: pd.DataFrame, products: pd.DataFrame) -> pd.DataFrame:
    """Per (customer, month), from the customer's earlier months only: lines, invoices, mean log quantity,
    and the mean log ratio of the prices paid to each product's training-window median price.

    The last one tells a tier customer (who pays less for everything) from a retail one, so that a lower
    price a wholesale customer paid is not read as a price effect (the generator's confounder)."""
    known = rows[rows["customer_id"].notna()]
    median = products["price_median"].reindex(known["stockcode"].astype(str)).to_numpy()
    log_ratio = np.log(known["unit_price"].to_numpy() / median)  # NaN for products unknown to training
    monthly = (
        known.assign(
            month=known["invoice_date"].dt.to_period("M"),
            log_q=log_quantity(known["quantity"]),
            log_ratio=np.nan_to_num(log_ratio),
            priced=np.isfinite(log_ratio).astype(float),
        )
        .groupby(["customer_id", "month"], sort=True)
        .agg(
            lines=("log_q", "size"),
            invoices=("invoice", "nunique"),
            sum_log_q=("log_q", "sum"),
            sum_log_ratio=("log_ratio", "sum"),
            priced=("priced", "sum"),
        )
    )
    before = monthly.groupby(level="customer_id").cumsum() - monthly  # strictly earlier months
    return pd.DataFrame(
        {
            "customer_prev_log_lines": np.log1p(before["lines"]),
            "customer_prev_log_invoices": np.log1p(before["invoices"]),
            "customer_prev_mean_log_quantity": before["sum_log_q"] / before["lines"].where(before["lines"] > 0),
            "customer_prev_log_price_ratio": before["sum_log_ratio"] / before["priced"].where(before["priced"] > 0),
        }
    )


def context_features(rows: pd.DataFrame, history: pd.DataFrame, fill_log_quantity: float) -> pd.DataFrame:
    """Who buys, where and when: every feature that depends neither on the product nor on the price."""
    date = rows["invoice_date"]
    key = pd.MultiIndex.from_arrays([rows["customer_id"], date.dt.to_period("M")])
    past = history.reindex(key).reset_index(drop=True)
    is_guest = rows["customer_id"].isna().to_numpy()
    lines = past["customer_prev_log_lines"].fillna(0.0).to_numpy()
    month = date.dt.month.to_numpy()
    return pd.DataFrame(
        {
            "is_guest": is_guest.astype(float),
            "customer_known": (lines > 0).astype(float),
            "customer_prev_log_lines": lines,
            "customer_prev_log_invoices": past["customer_prev_log_invoices"].fillna(0.0).to_numpy(),
            # no history: the training window's mean, so the value says "average" rather than "zero units"
            "customer_prev_mean_log_quantity": past["customer_prev_mean_log_quantity"]
            .fillna(fill_log_quantity)
            .to_numpy(),
            "customer_prev_log_price_ratio": past["customer_prev_log_price_ratio"].fillna(0.0).to_numpy(),
            "month_sin": np.sin(2 * np.pi * month / 12),
            "month_cos": np.cos(2 * np.pi * month / 12),
            "hour": date.dt.hour.to_numpy().astype(float),
            "country": rows["country"].astype(str).to_numpy(),
            "weekday": date.dt.day_of_week.astype(str).to_numpy(),
        }
    )


def build_features(
    rows: pd.DataFrame, products: pd.DataFrame, history: pd.DataFrame, fill_log_quantity: float
) -> pd.DataFrame:
    """Model-ready rows: FEATURES, the target, and META columns. Rows of unknown products are dropped."""
    rows = rows[rows["stockcode"].isin(products.index)].reset_index(drop=True)
    product = products.loc[rows["stockcode"]]
    frame = pd.concat(
        [
            price_features(rows["unit_price"], product["price_median"], product["price_max"]),
            product_features(rows["stockcode"], products),
            context_features(rows, history, fill_log_quantity),
        ],
        axis=1,
    )
    frame[PRODUCT_ID] = rows["stockcode"].astype(str).to_numpy()
    frame[TARGET] = log_quantity(rows["quantity"])
    for column in META:
        frame[column] = rows[column]
    return frame[[*list(FEATURES), TARGET, *list(META)]]


def key_to_product(contexts: pd.DataFrame, stockcode: str, products: pd.DataFrame) -> pd.DataFrame:
    """Context rows re-keyed to one product: its id and every product-level feature become that product's."""
    keyed = contexts.copy()
    keyed[PRODUCT_ID] = stockcode
    keyed[list(PRODUCT_FEATURES)] = product_features([stockcode] * len(keyed), products).to_numpy()
    return keyed


def with_price(contexts: pd.DataFrame, price, products: pd.DataFrame) -> pd.DataFrame:
    """Context rows of one product at the given price(s): the price columns recomputed, nothing else."""
    stockcode = str(contexts[PRODUCT_ID].iat[0])
    product = products.loc[stockcode]
    priced = contexts.copy()
    prices = np.broadcast_to(np.asarray(price, dtype=float), (len(contexts),))
    priced[list(PRICE_FEATURES)] = price_features(prices, product["price_median"], product["price_max"]).to_numpy()
    return priced
