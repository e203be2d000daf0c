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
    summary = SaleSummary.empty(market.products.n)
    summary.add(market, ledger, lines, sales.count)
    return Generated(
        Export(ledger, lines, market.products),
        ground_truth(market, summary),
        customers_table(market.customers),
        weeks_table(market, sales.count),
        unit_costs_table(market.products),
    )


@dataclass
class SaleSummary:
    """What ground_truth.csv needs of a history's sale lines, summed over blocks of them (`add`), so a history
    written a day at a time (pricing.data.synthetic.by_day) gives the truth its whole year would: per product the
    lowest and highest price its sale lines paid and their count, and the two sums of context multipliers of
    `weekly_optimum` (lines at the full list price, wholesale lines at the tier), each (products,); and the same
    two sums over every product, for products never sold."""

    low: np.ndarray
    high: np.ndarray
    lines: np.ndarray
    m_full: np.ndarray
    m_tier: np.ndarray
    population_full: float = 0.0
    population_tier: float = 0.0

    @classmethod
    def empty(cls, n_products: int) -> SaleSummary:
        return cls(
            np.full(n_products, np.inf),
            np.full(n_products, -np.inf),
            np.zeros(n_products, dtype=np.int64),
            np.zeros(n_products),
            np.zeros(n_products),
        )

    def add(self, market: Market, ledger: Ledger, lines: dict[str, np.ndarray], sale_count: int) -> None:
        """The sale lines of `lines` (a ledger's lines, the first `sale_count` of them its sales; a sale line is a
        product's line with a positive quantity and price) into the sums."""
        sale = (lines["product"] >= 0) & (lines["quantity"] > 0) & (lines["price"] > 0)
        sale[sale_count:] = False  # only genuine sale lines define the historical range
        product, price = lines["product"][sale], lines["price"][sale]
        n = market.products.n
        np.minimum.at(self.low, product, price)
        np.maximum.at(self.high, product, price)
        self.lines += np.bincount(product, minlength=n)
        segment = market.customers.segment_of(lines["customer"][sale])
        doc_day = ledger.days()[lines["doc"][sale]]
        multiplier = context_multiplier(
            np.array(SEGMENTS, dtype=object)[segment],
            np.array(COUNTRY_NAMES, dtype=object)[lines["country"][sale]],
            market.calendar.months()[doc_day],
            market.calendar.weekdays()[doc_day],
            market.guest_multiplier,
        )
        wholesale = segment == 2
        self.m_full += np.bincount(product, multiplier * ~wholesale, minlength=n)
        self.m_tier += np.bincount(product, multiplier * wholesale, minlength=n)
        self.population_full += multiplier[~wholesale].sum()
        self.population_tier += multiplier[wholesale].sum()


def ground_truth(market: Market, summary: SaleSummary) -> pd.DataFrame:
    """ground_truth.csv: per product its demand parameters, its historical price range (the min and max price
    its sale lines paid; [0.6, 1.5] x base for a product never sold), the per-line optimum clip(theta, range)
    and the weekly one (`weekly_optimum`), from the `summary` of its history's sale lines."""
    products = market.products
    unseen = summary.lines == 0
    lo = np.where(unseen, np.round(MIN_PRICE_FACTOR * products.base_price, 2), summary.low)
    hi = np.where(unseen, np.round(MAX_PRICE_FACTOR * products.base_price, 2), summary.high)
    weekly = weekly_optimum(market, summary, lo, hi)
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
            "sale_lines": summary.lines,
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


def weekly_optimum(market: Market, summary: SaleSummary, lo: np.ndarray, hi: np.ndarray) -> np.ndarray:
    """Per product, the list price within [lo, hi] maximising p x E[lines | p] x E[units per line | p] over
    the product's own sale lines' contexts (a 400-point grid, then the grid's best point)."""
    products = market.products
    # E[units per line | p] = amplitude x (M1 exp(-p / theta) + Mt exp(-tier p / theta)): two sums per product
    seen = (summary.m_full + summary.m_tier) > 0
    m_full = np.where(seen, summary.m_full, summary.population_full)  # unseen: the population's mix
    m_tier = np.where(seen, summary.m_tier, summary.population_tier)
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


# %.15g prints 2.55 as "2.55" and 18.0 as "18", as the real export does
CSV_OPTIONS = {"float_format": "%.15g", "lineterminator": "\n"}


def file_paths(out_dir: Path, unit_costs: bool = True) -> dict[str, Path]:
    """Where `write` puts each table in `out_dir`, by table name (transactions, ground_truth, customers, weeks,
    and unit_costs when there is a cost file)."""
    paths = {
        "transactions": out_dir / "online_retail.csv",
        "ground_truth": out_dir / "ground_truth.csv",
        "customers": out_dir / "ground_truth_customers.csv",
        "weeks": out_dir / "ground_truth_weeks.csv",
    }
    return paths | ({"unit_costs": out_dir / "unit_costs.csv"} if unit_costs else {})


def write(generated: Generated, out_dir: Path, chunk_rows: int = WRITE_CHUNK_ROWS) -> dict[str, Path]:
    """Every table of `generated` as CSV in `out_dir` (created if need be); returns the paths (`file_paths`). The
    transactions are formatted and written `chunk_rows` lines at a time (the same bytes for any chunk size)."""
    out_dir.mkdir(parents=True, exist_ok=True)
    paths = file_paths(out_dir, generated.unit_costs is not None)
    generated.export.write_csv(paths["transactions"], chunk_rows, **CSV_OPTIONS)
    write_truth(paths, generated.ground_truth, generated.customers, generated.weeks, generated.unit_costs)
    return paths


def write_truth(
    paths: dict[str, Path],
    truth: pd.DataFrame,
    customers: pd.DataFrame,
    weeks: pd.DataFrame,
    unit_costs: pd.DataFrame | None,
) -> None:
    """The truth tables and the cost file (when given) at `paths` (`file_paths`)."""
    if unit_costs is not None:
        unit_costs.to_csv(paths["unit_costs"], index=False, **CSV_OPTIONS)
    truth.to_csv(paths["ground_truth"], index=False, **CSV_OPTIONS)
    customers.to_csv(paths["customers"], index=False, lineterminator="\n")
    weeks.to_csv(paths["weeks"], index=False, **CSV_OPTIONS)


def load_ground_truth(path: Path) -> pd.DataFrame:
    """ground_truth.csv indexed by stock code (read as text: codes such as 85123A and 10002 alike)."""
    return pd.read_csv(path, dtype={"stockcode": str}).set_index("stockcode")
