"""Features: pure functions, the only code path for training and serving.

Leakage rules: product statistics come from the training window only (`product_table(train)`);
customer history for a row comes from months strictly before the row's month, except the price tier, which
also reads the other lines of the row's own invoice (never the row itself); nothing reads the invoice
number. Every price-dependent column comes from `price_features`, so the price sweep can recompute them
for any price exactly as training computed them.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass

import numpy as np
import pandas as pd

from pricing.data.list_price import ladder_of, line_list_prices, price_ladder

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
    "customer_price_tier",
    "line_price_to_list",
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


def canonical_stockcode(code: str) -> str:
    """A product's one identity: Unicode NFKC (full-width letters become ASCII), surrounding white space dropped,
    upper case. The cleaning, the API path, the batch job and the product search all key products by it, so
    `40714d`, ` 40714D` and `40714D` are one product."""
    return unicodedata.normalize("NFKC", str(code)).strip().upper()


def canonical_stockcodes(codes: pd.Series) -> pd.Series:
    """canonical_stockcode over a column (missing values stay missing); the file's few distinct codes are
    normalised once each."""
    codes = codes.astype("string")
    unique = codes.dropna().unique()
    mapping = {code: canonical_stockcode(code) for code in unique}
    return codes.map(mapping).astype("string")


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
    """Per stockcode statistics of the training window: the only source of product-level features, and each
    product's price ladder (pricing.data.list_price.LADDER_COLUMNS) that `line_price_to_list` reads."""
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
    return finish_product_table(table, price_ladder(train))


def finish_product_table(table: pd.DataFrame, ladder: pd.DataFrame) -> pd.DataFrame:
    """The product table from its per-product aggregates (description, price_min, price_median, price_max, lines,
    units, mean_log_quantity, first_sold, last_sold; index stockcode) and its price ladder: the product features
    added. The in-memory path (`product_table`) and an engine's (pricing.data.relational) both end here."""
    table = table.copy()
    table.index = table.index.astype(str)
    table.index.name = "stockcode"
    table["product_log_price_median"] = np.log(table["price_median"])
    table["product_log_lines"] = np.log1p(table["lines"])
    table["product_mean_log_quantity"] = table["mean_log_quantity"]
    table["product_log_price_spread"] = np.log(table["price_max"] / table["price_min"])
    # each product's quantity break and guest premium, so later windows read their days' list prices by them
    return table.join(ladder)


def product_features(stockcodes, products: pd.DataFrame) -> pd.DataFrame:
    """Product-level features for each stockcode (unknown codes give NaN)."""
    rows = products.reindex(pd.Index(np.asarray(stockcodes, dtype=object).astype(str)))
    return rows[list(PRODUCT_FEATURES)].reset_index(drop=True)


@dataclass(frozen=True)
class CustomerHistory:
    """What the context features read of each customer's past, computed once over every cleaned row.

    monthly: per (customer, month), from the customer's earlier months only: lines, invoices, mean log quantity.
    tiers:   per (customer, invoice time), through that time (the invoice's own lines included): the sum and
             count of the log ratios of the prices paid to each product's training-window median price."""

    monthly: pd.DataFrame
    tiers: pd.DataFrame


def customer_history(rows: pd.DataFrame, products: pd.DataFrame) -> CustomerHistory:
    known = rows[rows["customer_id"].notna()].sort_values(["customer_id", "invoice_date"], kind="stable")
    log_ratio, priced = _log_price_ratio(known, products)
    known = known.assign(
        month=known["invoice_date"].dt.to_period("M"),
        log_q=log_quantity(known["quantity"]),
        log_ratio=log_ratio,
        priced=priced,
    )
    monthly = known.groupby(["customer_id", "month"], sort=True).agg(
        lines=("log_q", "size"), invoices=("invoice", "nunique"), sum_log_q=("log_q", "sum")
    )
    before = monthly.groupby(level="customer_id").cumsum() - monthly  # strictly earlier months
    running = known[["log_ratio", "priced"]].groupby(known["customer_id"]).cumsum()
    tiers = (
        running.assign(customer_id=known["customer_id"], invoice_date=known["invoice_date"])
        .groupby(["customer_id", "invoice_date"], sort=True)
        .last()  # the running total after the last line at that time: an invoice sees all of its lines
        .rename(columns={"log_ratio": "sum_log_ratio"})
    )
    return CustomerHistory(
        monthly=pd.DataFrame(
            {
                "customer_prev_log_lines": np.log1p(before["lines"]),
                "customer_prev_log_invoices": np.log1p(before["invoices"]),
                "customer_prev_mean_log_quantity": before["sum_log_q"] / before["lines"].where(before["lines"] > 0),
            }
        ),
        tiers=tiers,
    )


def _log_price_ratio(rows: pd.DataFrame, products: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
    """log(price paid / the product's training median), 0 where the product is unknown; and 1/0 for which."""
    median = products["price_median"].reindex(rows["stockcode"].astype(str)).to_numpy()
    log_ratio = np.log(rows["unit_price"].to_numpy(dtype=float) / median)  # NaN for products unknown to training
    return np.nan_to_num(log_ratio), np.isfinite(log_ratio).astype(float)


def context_features(
    rows: pd.DataFrame, history: CustomerHistory, products: pd.DataFrame, fill_log_quantity: float
) -> pd.DataFrame:
    """Who buys, where and when: every feature that depends neither on the product nor on the price.

    `customer_price_tier` is the mean log price ratio of the customer's other lines up to this invoice, its
    own line left out (its price must not leak into a context feature), nothing later (no future leaks in).
    It tells a tier customer, who pays less for everything, from a retail one from the first invoice on, so
    that the lower price a wholesale customer paid is not read as a price effect (the generator's confounder).

    `line_price_to_list` is the line's place in its day's price list (see `line_price_to_list`): the one context
    column that reads the line's own price, held as the context had it while the price sweep moves the price."""
    date = rows["invoice_date"]
    key = pd.MultiIndex.from_arrays([rows["customer_id"], date.dt.to_period("M")])
    past = history.monthly.reindex(key).reset_index(drop=True)
    tiers = history.tiers.reindex(pd.MultiIndex.from_arrays([rows["customer_id"], date])).reset_index(drop=True)
    own_ratio, own_priced = _log_price_ratio(rows, products)
    others = tiers["priced"].fillna(0.0).to_numpy() - own_priced
    tier_sum = tiers["sum_log_ratio"].fillna(0.0).to_numpy() - own_ratio
    tier = np.divide(tier_sum, others, out=np.zeros(len(rows)), where=others > 0)
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
            "customer_price_tier": tier,
            "line_price_to_list": line_price_to_list(rows, products),
            "month_sin": np.sin(2 * np.pi * month / 12),
            "month_cos": np.cos(2 * np.pi * month / 12),
            "hour": date.dt.hour.to_numpy().astype(float),
            "country": rows["country"].astype(str).to_numpy(),
            "weekday": date.dt.day_of_week.astype(str).to_numpy(),
        }
    )


def line_price_to_list(rows: pd.DataFrame, products: pd.DataFrame | None = None) -> np.ndarray:
    """log(the line's unit price / the product's list price that day), per row; 0 for a line at the list price.

    On the real Online Retail file a line's price is partly set by the line itself: quantity breaks (stock code
    85123A: 2.55 in lines of median 32 units, 2.95 in lines of median 6) and a guest channel at about twice the
    price (../shared/data/README.md); 18% of product-days in its training window sell at two or more prices. The
    day's list price is read through the product's price ladder (pricing.data.list_price: the break and the guest
    premium learnt in the training window, `products`; None: from `rows` themselves), so a bulk line reads below
    0 and a guest line above even on a day when no line paid the list price, the network's body learns that a
    discounted line is a big one, and its price slope is read from what moves the list price over time, not from
    the price list's volume discount."""
    ladder = None if products is None else ladder_of(products, rows)
    price = rows["unit_price"].to_numpy(dtype=float)
    return np.log(price / line_list_prices(rows, ladder))


def build_features(
    rows: pd.DataFrame, products: pd.DataFrame, history: CustomerHistory, fill_log_quantity: float
) -> pd.DataFrame:
    """Model-ready rows: FEATURES, the target, and META columns. Rows of unknown products are dropped."""
    rows = rows[rows["stockcode"].isin(products.index)].reset_index(drop=True)
    product = products.loc[rows["stockcode"]]
    frame = pd.concat(
        [
            price_features(rows["unit_price"], product["price_median"], product["price_max"]),
            product_features(rows["stockcode"], products),
            context_features(rows, history, products, fill_log_quantity),
        ],
        axis=1,
    )
    frame[PRODUCT_ID] = rows["stockcode"].astype(str).to_numpy()
    frame[TARGET] = log_quantity(rows["quantity"])
    for column in META:
        frame[column] = rows[column]
    return frame[[*list(FEATURES), TARGET, *list(META)]]
