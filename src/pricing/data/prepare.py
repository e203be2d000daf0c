"""Raw file -> cleaned rows -> chronological split -> feature tables, product table and quality report."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from pricing.data import features as F
from pricing.data.load import load

SPLITS = ("train", "val", "test")


@dataclass(frozen=True)
class SplitWindows:
    val_start: pd.Timestamp
    test_start: pd.Timestamp

    def assign(self, dates: pd.Series) -> pd.Series:
        split = pd.Series("train", index=dates.index)
        split[dates >= self.val_start] = "val"
        split[dates >= self.test_start] = "test"
        return split


def windows_for(dates: pd.Series, val_days: int, test_days: int) -> SplitWindows:
    """The last `test_days` calendar days are the test window, the `val_days` before them validation."""
    last_day = dates.max().normalize()
    test_start = last_day - pd.Timedelta(days=test_days - 1)
    return SplitWindows(val_start=test_start - pd.Timedelta(days=val_days), test_start=test_start)


def build_tables(cleaned: pd.DataFrame, windows: SplitWindows) -> tuple[dict[str, pd.DataFrame], pd.DataFrame, dict]:
    split = windows.assign(cleaned["invoice_date"])
    train_rows = cleaned[split == "train"]
    if train_rows.empty:
        raise ValueError("the training window holds no rows: the data is shorter than the val and test windows")
    products = F.product_table(train_rows)
    history = F.customer_history(cleaned, products)
    fill = float(F.log_quantity(train_rows["quantity"]).mean())
    tables, unseen = {}, {}
    for name in SPLITS:
        rows = cleaned[split == name]
        tables[name] = F.build_features(rows, products, history, fill)
        unseen[name] = int(len(rows) - len(tables[name]))
    report = {
        "val_start": str(windows.val_start.date()),
        "test_start": str(windows.test_start.date()),
        "rows": {name: len(tables[name]) for name in SPLITS},
        "dropped_unseen_product": unseen,  # val/test rows of products never sold in the training window
        "products": len(products),
        "fill_log_quantity": fill,
    }
    return tables, products, report


def prepare(
    raw: Path,
    out_dir: Path,
    val_days: int = 28,
    test_days: int = 28,
    on_stage: Callable[[str], object] = lambda name: None,
) -> dict:
    cleaned = load(raw)
    if cleaned.frame.empty:
        raise ValueError(f"{raw}: no usable rows after cleaning")
    on_stage("loaded")
    windows = windows_for(cleaned.frame["invoice_date"], val_days, test_days)
    tables, products, split_report = build_tables(cleaned.frame, windows)
    on_stage("features built")
    out_dir.mkdir(parents=True, exist_ok=True)
    for name, table in tables.items():
        table.to_parquet(out_dir / f"{name}.parquet", index=False)
    products.reset_index().to_parquet(out_dir / "products.parquet", index=False)
    report = {**cleaned.report, "split": split_report}
    (out_dir / "data_quality.json").write_text(json.dumps(report, indent=2) + "\n")
    on_stage("written")
    return report


def read_products(data_dir: Path) -> pd.DataFrame:
    return pd.read_parquet(data_dir / "products.parquet").set_index("stockcode")
