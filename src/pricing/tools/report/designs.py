"""The data's own price elasticity by the four published designs on this file (../shared/data/README.md,
Roemheld 2021): the published aggregation (`daily_cells`), the one-off bulk customers, each design with its
published figure (`DESIGNS`), and the fixed-effect measures the data generator is calibrated against."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from pricing.data.features import PRODUCT_ID, log_quantity
from pricing.tools.report.estimators import (
    CELL,
    FIXED_EFFECTS,
    _fixest,
    _quietly,
    double_ml,
    log_normal_fixed_effects,
    naive_regression,
    poisson_fixed_effects,
)

# Published price elasticities of daily units per stock code x date x country on this data set
# (../shared/data/README.md; L. Roemheld 2021, github.com/larsroemheld/causalinf_ex_elasticity): DESIGNS below
PUBLISHED_ELASTICITIES = {
    "naive log-log regression": -0.6,
    "stock-code, date and country controls (log-normal)": -1.8,
    "stock-code, date and country controls (Poisson)": -2.9,
    "double machine learning": -1.85,  # reported as -1.8 to -1.9
}
# A one-off bulk order: a known customer's line of at least this many units. On the raw file exactly the two the
# published work dropped: customer 16446's 80,995 units of 23843 (2011-12-09) and 12346's 74,215 units of 23166
# (2011-01-18), each cancelled within minutes; the largest other priced line holds 4,800 units.
BULK_LINE_UNITS = 10_000
# Lines priced above PRICE_TRIM x or below 1 / PRICE_TRIM x their stock code's median line price are dropped before
# aggregating, as the published work did ("a few products have sales for 100x their normal price").
PRICE_TRIM = 3.0


@dataclass(frozen=True)
class Design:
    """One published estimate of the price elasticity of daily units on this file, and how the report redoes it."""

    label: str
    published: float  # the figure the Markdown and the chart set beside ours (a range's midpoint)
    published_text: str  # as the source states it
    method: str  # the library call that estimates it here
    published_range: tuple[float, float] | None = None  # where the source gives a range


DESIGNS = {
    "naive": Design(
        "naive log-log regression, no controls",
        PUBLISHED_ELASTICITIES["naive log-log regression"],
        "about -0.6",
        "pyfixest feols: log units ~ log price",
    ),
    "log_normal": Design(
        "stock-code, date and country fixed effects, log-normal",
        PUBLISHED_ELASTICITIES["stock-code, date and country controls (log-normal)"],
        "about -1.8",
        f"pyfixest feols: log units ~ log price | {FIXED_EFFECTS}",
    ),
    "poisson": Design(
        "stock-code, date and country fixed effects, Poisson",
        PUBLISHED_ELASTICITIES["stock-code, date and country controls (Poisson)"],
        "about -2.9",
        f"pyfixest fepois: units ~ log price | {FIXED_EFFECTS}",
    ),
    "double_ml": Design(
        "double machine learning",
        PUBLISHED_ELASTICITIES["double machine learning"],
        "-1.8 to -1.9",
        "DoubleML PLR, LightGBM nuisances: log units ~ log price, both within stock code, "
        "controls for date, country and product",
        (-1.9, -1.8),
    ),
}


def bulk_customers(rows: pd.DataFrame) -> list[int]:
    """The known customers (ids, ascending) with a line of at least BULK_LINE_UNITS units: the one-off bulk
    orders the published work dropped. A line without a customer id names no customer and is never one."""
    big = rows.loc[rows["quantity"] >= BULK_LINE_UNITS, "customer_id"].dropna()
    return sorted(int(c) for c in big.unique())


def without_customers(rows: pd.DataFrame, customers: list[int]) -> pd.DataFrame:
    """`rows` without any line of `customers` (every line of theirs, as the published work dropped them)."""
    return rows[~rows["customer_id"].isin(customers).fillna(False).to_numpy(dtype=bool)]


def daily_cells(
    rows: pd.DataFrame, weighted: bool = True, trim: float | None = PRICE_TRIM, varied_only: bool = True
) -> pd.DataFrame:
    """The published aggregation (Roemheld 2021, below): one row per stock code x date x country.

    `rows`: order lines (stockcode, unit_price > 0, quantity > 0, invoice_date, country). First the lines priced
    outside [median / trim, median x trim] of their stock code's median line price go (`trim` None: none); then
    per cell `units` = the sum of quantity and `price` = revenue / units, the quantity-weighted mean unit price
    (the published choice; `weighted` False: the unweighted mean of the line prices); last, with `varied_only`,
    the stock codes whose cell price never varies go (they hold no within-product price variation; the
    published work dropped them too). Returns columns stockcode, day, country, units, price, log_units and
    log_price, one row per cell (units >= 1, price in the data's currency per unit)."""
    frame = rows
    if trim is not None:
        ratio = frame["unit_price"] / frame.groupby(PRODUCT_ID, observed=True)["unit_price"].transform("median")
        frame = frame[(ratio > 1 / trim) & (ratio < trim)]
    frame = frame.assign(
        stockcode=frame[PRODUCT_ID].astype(str),
        day=frame["invoice_date"].dt.normalize(),
        country=frame["country"].astype(str),
        revenue=frame["quantity"] * frame["unit_price"],
    )
    cells = (
        frame.groupby(list(CELL), observed=True)
        .agg(units=("quantity", "sum"), revenue=("revenue", "sum"), line_price=("unit_price", "mean"))
        .reset_index()
    )
    price = cells["revenue"] / cells["units"] if weighted else cells["line_price"]
    cells = cells.assign(price=price, log_units=np.log(cells["units"].astype(float)), log_price=np.log(price))
    cells = cells[[*CELL, "units", "price", "log_units", "log_price"]]
    if varied_only:
        spread = cells.groupby(PRODUCT_ID)["log_price"].transform(lambda x: x.max() - x.min())
        cells = cells[spread > 1e-9]
    return cells.reset_index(drop=True)


ESTIMATORS = {
    "naive": naive_regression,
    "log_normal": log_normal_fixed_effects,
    "poisson": poisson_fixed_effects,
    "double_ml": double_ml,
}


def published_designs(rows: pd.DataFrame, cancelled_same_day: int | None = None) -> dict:
    """The four published estimates of the price elasticity of daily units on this file, redone by the libraries
    that define them on `rows` (order lines: stockcode, unit_price, quantity, invoice_date, country, customer_id),
    at the published aggregation (`daily_cells`), with all customers and without the one-off bulk customers
    (`bulk_customers`).

    Source of the published figures and design: ../shared/data/README.md ("What published work found on it"),
    from L. Roemheld (2021), github.com/larsroemheld/causalinf_ex_elasticity: the raw lines with positive
    quantity and price less the non-product codes, customers 16446 and 12346 dropped, prices trimmed at 3x the
    product's median, revenue / units per stock code x date x country. `cancelled_same_day`: the lines `pricing
    prepare` dropped as orders cancelled the same day (data_quality.json), quoted when no bulk customer is left.

    Returns {aggregation, bulk_customers, designs}; per design (keys of DESIGNS) its label, method, published
    figure and, for `all_customers` and `without_bulk_customers`, {elasticity, se, ci95, observations, ...}."""
    customers = bulk_customers(rows)
    kept = without_customers(rows, customers) if customers else rows
    samples = {"all_customers": daily_cells(rows)}
    samples["without_bulk_customers"] = daily_cells(kept) if customers else samples["all_customers"]
    estimates = {"all_customers": _estimates(samples["all_customers"])}
    estimates["without_bulk_customers"] = (
        _estimates(samples["without_bulk_customers"])
        if customers
        else estimates["all_customers"]  # the same rows: the same estimates
    )
    return {
        "aggregation": _aggregation({name: len(cells) for name, cells in samples.items()}),
        "bulk_customers": {
            "rule": f"a known customer with a line of {BULK_LINE_UNITS:,} units or more",
            "found": customers,
            "lines_removed": len(rows) - len(kept),
            "same_rows": not customers,
            "note": _bulk_note(rows, customers, len(rows) - len(kept), cancelled_same_day),
        },
        "designs": {
            key: {**_described(design), **{name: estimates[name][key] for name in samples}}
            for key, design in DESIGNS.items()
        },
    }


def _estimates(cells: pd.DataFrame) -> dict[str, dict]:
    """Every design's estimate on `cells`, by DESIGNS' key, in DESIGNS' order."""
    return {key: ESTIMATORS[key](cells) for key in DESIGNS}


def _aggregation(cells: dict[str, int]) -> dict:
    """How `daily_cells` aggregates, in words, and the cells of each sample."""
    return {
        "unit": "stock code x date x country",
        "units": "sum of quantity",
        "price": "revenue / units: the quantity-weighted mean unit price",
        "price_trim": f"lines outside 1/{PRICE_TRIM:g} to {PRICE_TRIM:g} x their stock code's median price dropped",
        "stock_codes": "the stock codes whose cell price varies",
        "cells": cells,
    }


def _bulk_note(rows: pd.DataFrame, customers: list[int], removed: int, cancelled_same_day: int | None) -> str:
    """What became of the one-off bulk customers: the lines dropped, or why there were none to drop."""
    if customers:
        return f"dropped every line of customers {', '.join(map(str, customers))} ({removed:,} lines)"
    return (
        f"none in these rows (largest line: {int(rows['quantity'].max()):,} units), so both columns are the same "
        "rows: pricing prepare drops an order cancelled the same day together with its cancellation"
        + (f" ({cancelled_same_day:,} lines)" if cancelled_same_day is not None else "")
        + ", which is how both of the published work's one-off bulk orders ended"
    )


def _described(design: Design) -> dict:
    return {
        "label": design.label,
        "method": design.method,
        "published": design.published,
        "published_text": design.published_text,
        "published_range": design.published_range,
    }


def fixed_effect_elasticities(rows: pd.DataFrame) -> dict:
    """The measures the data generator is calibrated against (docs/DATA.md, tests/integration/test_real_file.py),
    by pyfixest feols with stock-code, date and country fixed effects, standard errors clustered by stock code:

    - `units_per_line`: log1p(quantity of a line) on log(its unit price), one observation per line;
    - `daily_units`: log(units of a stock code on a day in a country) on log(the unweighted mean unit price of
      its lines), one observation per cell, every line and stock code kept (no trim, no bulk filter): the
      aggregation of the published design with the price of its first version here, which the generator was
      calibrated to; `published_designs` has the published price (revenue / units) and trim.

    `rows`: prepared lines (stockcode, unit_price, quantity, invoice_date, country). Each: {elasticity, se, ci95,
    observations}."""
    import pyfixest as pf

    lines = rows.assign(
        stockcode=rows[PRODUCT_ID].astype(str),
        day=rows["invoice_date"].dt.normalize(),
        country=rows["country"].astype(str),
        log_q=log_quantity(rows["quantity"]),
        log_price=np.log(rows["unit_price"]),
    )
    cells = daily_cells(rows, weighted=False, trim=None, varied_only=False)
    fml = f"~ log_price | {FIXED_EFFECTS}"
    return {
        "units_per_line": _fixest(_quietly(pf.feols, "log_q " + fml, lines, vcov={"CRV1": PRODUCT_ID})),
        "daily_units": _fixest(_quietly(pf.feols, "log_units " + fml, cells, vcov={"CRV1": PRODUCT_ID})),
        "fixed_effects": list(CELL),
    }
