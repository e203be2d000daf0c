"""The tables a generated market and its history make, the files they are written to, and reading the truth back.

Files (`write`): online_retail.csv (the real export's columns and formats), ground_truth.csv (one row per stock
code: the demand parameters, the historical price range and the true optima in it), ground_truth_weeks.csv (s_w,
the week's line scale of the incidence truth), ground_truth_customers.csv (the customers' hidden segments) and
unit_costs.csv (a retailer's cost file)."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property
from pathlib import Path

import numpy as np
import pandas as pd

from pricing.data.synthetic.ledger import Export, Ledger
from pricing.data.synthetic.market import COUNTRY_NAMES, Customers, Market, Products
from pricing.data.synthetic.sales import Sales
from pricing.data.synthetic.truth import MAX_PRICE_FACTOR, MIN_PRICE_FACTOR, SEGMENTS, context_multiplier

WRITE_CHUNK_ROWS = 1_000_000  # export lines formatted and written at a time


@dataclass(frozen=True)
class Generated:
    """What `generate` returns: the export and the truth behind it, each a table `write` writes to a file. The
    export is formatted on demand (`export`: by chunks when written; `transactions`: the whole table, built on
    first use), so writing a large file never holds its formatted table."""

    export: Export  # the real CSV export's lines
    ground_truth: pd.DataFrame  # one row per stock code
    customers: pd.DataFrame  # customer_id, country, segment
    weeks: pd.DataFrame  # week (Monday), lines_scale: s_w of the incidence truth
    unit_costs: pd.DataFrame | None = None  # stockcode, unit_cost: a retailer's cost file for the profit objective

    @cached_property
    def transactions(self) -> pd.DataFrame:
        """The export as one table: the real CSV export's columns, already formatted, in the printed order."""
        return self.export.frame()


def tables(market: Market, ledger: Ledger, sales: Sales) -> Generated:
    """Every table of a written history: the export (its documents numbered now, from the main stream) and the
    truth per product, per customer and per week, and the cost file."""
    lines = ledger.lines.concat()
    return Generated(
        Export(ledger, lines, market.products),
        ground_truth(market, ledger, lines, sales.count),
        customers_table(market.customers),
        weeks_table(market, sales.count),
        unit_costs_table(market.products),
    )


def ground_truth(market: Market, ledger: Ledger, lines: dict[str, np.ndarray], sale_count: int) -> pd.DataFrame:
    """ground_truth.csv: per product its demand parameters, its historical price range (the min and max price
    its sale lines paid; [0.6, 1.5] x base for a product never sold), the per-line optimum clip(theta, range)
    and the weekly one (`weekly_optimum`). `lines`: the ledger's lines, the first `sale_count` the sales."""
    products = market.products
    sale = (lines["product"] >= 0) & (lines["quantity"] > 0) & (lines["price"] > 0)
    sale[sale_count:] = False  # only genuine sale lines define the historical range
    frame = pd.DataFrame({"product": lines["product"][sale], "price": lines["price"][sale]})
    stats = frame.groupby("product")["price"].agg(["min", "max", "size"]).reindex(range(products.n))
    lo = stats["min"].to_numpy()
    hi = stats["max"].to_numpy()
    unseen = np.isnan(lo)
    lo = np.where(unseen, np.round(MIN_PRICE_FACTOR * products.base_price, 2), lo)
    hi = np.where(unseen, np.round(MAX_PRICE_FACTOR * products.base_price, 2), hi)
    weekly = weekly_optimum(market, ledger, lines, sale, lo, hi)
    return pd.DataFrame(
        {
            "stockcode": products.codes,
            "description": products.descriptions,
            "base_price": products.base_price,
            "theta": np.round(products.theta, 6),
            "amplitude": np.round(products.amplitude, 6),
            "price_min": lo,
            "price_max": hi,
            "optimal_price": np.round(np.clip(products.theta, lo, hi), 6),
            "optimum_interior": (products.theta > lo) & (products.theta < hi),
            "sale_lines": stats["size"].fillna(0).astype(np.int64).to_numpy(),
            "popularity": products.popularity,
            "incidence_elasticity": np.round(products.incidence_elasticity, 6),
            "wholesale_price_factor": market.tier,
            "guest_quantity_multiplier": market.guest_multiplier,
            "guest_price_factor": products.guest_price_factor,
            "break_quantity": products.break_quantity,
            "break_price_factor": products.break_price_factor,
            "optimal_weekly_price": np.round(weekly, 6),
            "weekly_optimum_interior": (weekly > lo + 1e-9) & (weekly < hi - 1e-9),
        }
    )


def weekly_optimum(
    market: Market, ledger: Ledger, lines: dict, sale: np.ndarray, lo: np.ndarray, hi: np.ndarray
) -> np.ndarray:
    """Per product, the list price within [lo, hi] maximising p x E[lines | p] x E[units per line | p] over
    the product's own sale lines' contexts (a 400-point grid, then the grid's best point)."""
    products = market.products
    product = lines["product"][sale]
    segment = market.customers.segment_of(lines["customer"][sale])
    doc_day = ledger.days()[lines["doc"][sale]]
    country = np.array(COUNTRY_NAMES, dtype=object)[lines["country"][sale]]
    multiplier = context_multiplier(
        np.array(SEGMENTS, dtype=object)[segment],
        country,
        market.calendar.months()[doc_day],
        market.calendar.weekdays()[doc_day],
        market.guest_multiplier,
    )
    wholesale = segment == 2
    # E[units per line | p] = amplitude x (M1 exp(-p / theta) + Mt exp(-tier p / theta)): two sums per product
    m_full = np.bincount(product, multiplier * ~wholesale, minlength=products.n)
    m_tier = np.bincount(product, multiplier * wholesale, minlength=products.n)
    seen = (m_full + m_tier) > 0
    m_full = np.where(seen, m_full, multiplier[~wholesale].sum())  # unseen: the population's mix
    m_tier = np.where(seen, m_tier, multiplier[wholesale].sum())
    grid = lo[:, None] + (hi - lo)[:, None] * np.linspace(0.0, 1.0, 400)[None, :]
    theta = products.theta[:, None]
    units = m_full[:, None] * np.exp(-grid / theta) + m_tier[:, None] * np.exp(-market.tier * grid / theta)
    every = np.arange(products.n)[:, None]
    revenue = grid * products.relative_incidence(every, grid) * units
    return grid[np.arange(products.n), np.argmax(revenue, axis=1)]


def weeks_table(market: Market, sale_count: int) -> pd.DataFrame:
    """s_w per week (Monday): the expected sale lines of its days over their keep rate, summed."""
    per_day = market.daily_lines_scale(sale_count)
    monday = pd.to_datetime(pd.Series(market.calendar.days)).dt.to_period("W-SUN").dt.start_time
    frame = pd.DataFrame({"week": monday.dt.date, "lines_scale": per_day})
    return frame.groupby("week", as_index=False)["lines_scale"].sum()


def customers_table(customers: Customers) -> pd.DataFrame:
    """ground_truth_customers.csv: customer_id, country (name) and segment (guest, retail, wholesale)."""
    return pd.DataFrame(
        {
            "customer_id": customers.ids,
            "country": np.array(COUNTRY_NAMES, dtype=object)[customers.country],
            "segment": np.array(SEGMENTS, dtype=object)[customers.segment],
        }
    )


def unit_costs_table(products: Products) -> pd.DataFrame:
    """A cost file as a retailer would keep one: each product's unit cost (Products.unit_cost), to the penny."""
    return pd.DataFrame({"stockcode": products.codes, "unit_cost": products.unit_cost})


def write(generated: Generated, out_dir: Path, chunk_rows: int = WRITE_CHUNK_ROWS) -> dict[str, Path]:
    """Every table of `generated` as CSV in `out_dir` (created if need be); returns the paths by table name
    (transactions, ground_truth, customers, weeks, and unit_costs when there is one). The transactions are
    formatted and written `chunk_rows` lines at a time (the same bytes for any chunk size)."""
    out_dir.mkdir(parents=True, exist_ok=True)
    paths = {
        "transactions": out_dir / "online_retail.csv",
        "ground_truth": out_dir / "ground_truth.csv",
        "customers": out_dir / "ground_truth_customers.csv",
        "weeks": out_dir / "ground_truth_weeks.csv",
    }
    if generated.unit_costs is not None:
        paths["unit_costs"] = out_dir / "unit_costs.csv"
        generated.unit_costs.to_csv(paths["unit_costs"], index=False, float_format="%.15g", lineterminator="\n")
    # %.15g prints 2.55 as "2.55" and 18.0 as "18", as the real export does
    generated.export.write_csv(paths["transactions"], chunk_rows, float_format="%.15g", lineterminator="\n")
    generated.ground_truth.to_csv(paths["ground_truth"], index=False, float_format="%.15g", lineterminator="\n")
    generated.customers.to_csv(paths["customers"], index=False, lineterminator="\n")
    generated.weeks.to_csv(paths["weeks"], index=False, float_format="%.15g", lineterminator="\n")
    return paths


def load_ground_truth(path: Path) -> pd.DataFrame:
    """ground_truth.csv indexed by stock code (read as text: codes such as 85123A and 10002 alike)."""
    return pd.read_csv(path, dtype={"stockcode": str}).set_index("stockcode")
