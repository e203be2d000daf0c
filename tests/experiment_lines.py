"""A shop's price-test weeks written as Online Retail transaction lines, for the tests of `pricing experiment
update` and of what it feeds (the API's experiment answer, the dashboard): each product sells
Poisson(lines_per_week x season_t x (p_t / p0) ** -slope) order lines in week t, one unit each, Monday to
Saturday, every line its own invoice of a known customer (so the price ladder reads the paid price as the list
price), at the week's list price p_t; p0 is the product's first week's price."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd

COLUMNS = ["InvoiceNo", "StockCode", "Description", "Quantity", "InvoiceDate", "UnitPrice", "CustomerID", "Country"]


def write_lines(
    path: Path,
    paths: dict[str, tuple[str, list[float]]],
    first_monday: pd.Timestamp,
    slope: float,
    lines_per_week: float,
    season: np.ndarray | None = None,
    seed: int = 0,
) -> int:
    """Writes the module docstring's lines to `path` (CSV, US dates): `paths` maps each stockcode to its
    description and weekly list prices (currency per unit) from the week of `first_monday` on; `season` (weeks,)
    multiplies every product's volume (1 without). Returns the number of lines written."""
    rng = np.random.default_rng(seed)
    rows = []
    invoice = 600_000
    for code, (description, prices) in paths.items():
        p0 = prices[0]
        for t, price in enumerate(prices):
            scale = 1.0 if season is None else float(season[t])
            count = rng.poisson(lines_per_week * scale * (price / p0) ** -slope)
            for s in rng.integers(0, 6 * 86_400 - 1, size=count):  # Monday to Saturday
                invoice += 1
                when = first_monday + pd.Timedelta(weeks=t) + pd.Timedelta(seconds=int(s))
                rows.append(
                    (invoice, code, description, 1, when.strftime("%m/%d/%Y %H:%M"), price, 12_000 + invoice % 3_000,
                     "United Kingdom")
                )  # fmt: skip
    pd.DataFrame(rows, columns=COLUMNS).to_csv(path, index=False)
    return len(rows)


def pricing(*args) -> subprocess.CompletedProcess:
    """`python -m pricing ARGS` in a process of its own, its output captured (10 minutes at most)."""
    return subprocess.run([sys.executable, "-m", "pricing", *args], capture_output=True, text=True, timeout=600)


def experiment_update(store, raw: Path, out: Path) -> tuple[subprocess.CompletedProcess, str, Path]:
    """`pricing experiment update` of `raw` into `store` (a LocalStore) through the CLI: its process, the version
    it started from (the parent) and its report folder `out`."""
    parent = store.latest()
    done = pricing("experiment", "update", "--raw", str(raw), "--store", str(store.root), "--out", str(out))
    return done, parent, out
