"""Raw file -> cleaned rows -> chronological split -> feature tables, product table and quality report."""

from __future__ import annotations

import json
import shutil
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from pricing.data import features as F
from pricing.data.engine import DEFAULT_MEMORY_LIMIT
from pricing.data.load import load
from pricing.data.sources import local_files

SPLITS = ("train", "val", "test")
# the calendar windows are used while they leave the training window at least this share of the rows; a shorter
# file is split by rows in time order instead (PROPORTIONS), so a few weeks' export still trains
MIN_TRAIN_SHARE = 0.5
PROPORTIONS = (0.7, 0.15, 0.15)
# the smallest file a model is trained on: each split keeps at least this many rows of products the training
# window knows (three weeks of generated sales pass; the one-day 183-line fixture, 177 rows kept, splits into
# 104/2/6 and is refused as too short, its report written)
MIN_SPLIT_ROWS = 10


class TooShortError(ValueError):
    """The cleaned rows cannot make three non-empty chronological splits. The message gives the counts."""


@dataclass(frozen=True)
class SplitWindows:
    val_start: pd.Timestamp
    test_start: pd.Timestamp

    def assign(self, dates: pd.Series) -> pd.Series:
        split = pd.Series("train", index=dates.index)
        split[dates >= self.val_start] = "val"
        split[dates >= self.test_start] = "test"
        return split


def invoice_times(dates: pd.Series) -> pd.Series:
    """Rows per distinct invoice time, sorted by time: the split's only input (an engine computes the same
    aggregate, pricing.data.relational.invoice_times)."""
    return dates.value_counts().sort_index()


def windows_for(times: pd.Series, val_days: int, test_days: int) -> SplitWindows:
    """The last `test_days` calendar days are the test window, the `val_days` before them validation. `times`:
    `invoice_times`."""
    last_day = times.index.max().normalize()
    test_start = last_day - pd.Timedelta(days=test_days - 1)
    return SplitWindows(val_start=test_start - pd.Timedelta(days=val_days), test_start=test_start)


def proportional_windows(times: pd.Series, proportions: tuple[float, float, float] = PROPORTIONS) -> SplitWindows:
    """Cuts at the invoice times before which `proportions[0]` and `proportions[0] + proportions[1]` of the rows
    lie: a chronological split by rows, never cutting through the lines of one invoice time. `times`:
    `invoice_times` (rows per distinct time)."""
    distinct = times.index.to_numpy()
    cumulative = np.cumsum(times.to_numpy())
    rows = int(cumulative[-1]) if len(cumulative) else 0
    if len(distinct) < 3:
        raise TooShortError(f"{rows} rows at {len(distinct)} distinct invoice time(s): three are needed")
    # the k-th row in time order (0-based) lies at the first distinct time whose cumulative count exceeds k
    val_cut, test_cut = (
        distinct[int(np.searchsorted(cumulative, min(int(rows * share), rows - 1), "right"))]
        for share in np.cumsum(proportions[:2])
    )
    # index of the first distinct time in each later split; each split keeps at least one invoice time
    val_at = max(1, int(np.searchsorted(distinct, val_cut)))
    test_at = max(val_at + 1, int(np.searchsorted(distinct, test_cut)))
    if test_at >= len(distinct):
        val_at, test_at = len(distinct) - 2, len(distinct) - 1
    return SplitWindows(val_start=pd.Timestamp(distinct[val_at]), test_start=pd.Timestamp(distinct[test_at]))


def choose_windows(times: pd.Series, val_days: int, test_days: int) -> tuple[SplitWindows, dict]:
    """The calendar windows when they leave the training window MIN_TRAIN_SHARE of the rows, else a proportional
    split; and the report's account of which and why. `times`: `invoice_times` (rows per distinct time)."""
    windows = windows_for(times, val_days, test_days)
    train_share = float(times[times.index < windows.val_start].sum() / times.sum())
    if train_share >= MIN_TRAIN_SHARE:
        return windows, {"mode": "calendar windows", "val_days": val_days, "test_days": test_days}
    return proportional_windows(times), {
        "mode": "proportional",
        "why": (
            f"the {val_days}-day validation and {test_days}-day test windows would leave {train_share:.0%} of the rows "
            f"for training (at least {MIN_TRAIN_SHARE:.0%} needed): split {'/'.join(f'{p:.0%}' for p in PROPORTIONS)} "
            "by rows in time order instead"
        ),
    }


def build_tables(cleaned: pd.DataFrame, windows: SplitWindows) -> tuple[dict[str, pd.DataFrame], pd.DataFrame, dict]:
    split = windows.assign(cleaned["invoice_date"])
    train_rows = cleaned[split == "train"]
    if train_rows.empty:
        raise TooShortError("the training window holds no rows: the data is shorter than the val and test windows")
    products = F.product_table(train_rows)
    history = F.customer_history(cleaned, products)
    fill = float(F.log_quantity(train_rows["quantity"]).mean())
    tables, unseen = {}, {}
    for name in SPLITS:
        rows = cleaned[split == name]
        tables[name] = F.build_features(rows, products, history, fill)
        unseen[name] = int(len(rows) - len(tables[name]))
    kept = {name: len(tables[name]) for name in SPLITS}
    return tables, products, split_report(windows, kept, unseen, len(products), fill)


def split_report(windows: SplitWindows, rows: dict, unseen: dict, products: int, fill: float) -> dict:
    """The report's `split` part (both paths): the windows' starts, rows kept per split, rows dropped per split
    for a product never sold in the training window, the products, and the fill of a missing log quantity."""
    return {
        "val_start": str(windows.val_start),
        "test_start": str(windows.test_start),
        "rows": rows,
        "dropped_unseen_product": unseen,
        "products": products,
        "fill_log_quantity": fill,
    }


def prepare(
    raw: Path,
    out_dir: Path,
    val_days: int = 28,
    test_days: int = 28,
    on_stage: Callable[[str], object] = lambda name: None,
    date_order: str | None = None,
    engine: str = "duckdb",
    memory_limit: str = DEFAULT_MEMORY_LIMIT,
    spill_dir: Path | None = None,
) -> dict:
    """Clean `raw`, split it in time, build the feature tables and write them with `data_quality.json`.

    `engine`: "duckdb" (default: out of core, at most `memory_limit` of memory, spilling under `spill_dir`),
    "spark" (the SparkSession of the environment; its tables are folders of parquet parts), or "pandas" (the
    in-memory path, which the engines are held to: tests/prepare_golden.py). The report is written whenever the
    file could be read, also when no row survives the cleaning or the rows cannot be split (then it holds
    `"status": "error"` and the reason, and ValueError is raised after). Raises DataError for a file that cannot
    be read at all (see pricing.data.load); the tables are written only once all of them are built."""
    if engine == "pandas":
        local_files(raw)  # a URI is refused in one line: pandas reads this machine's disk
        return _prepare_in_memory(raw, out_dir, val_days, test_days, on_stage, date_order)
    from pricing.data import relational as R
    from pricing.data.engine import open_engine

    db = open_engine(engine, memory_limit, spill_dir)
    try:
        read = R.read(db, raw, date_order)
        column = read["source_columns"].get("invoice_date", "InvoiceDate")
        convention = R.type_rows(db, date_order, column)
        R.clean(db)
        report = {"status": "ok", **R.clean_report(db, read, convention, Path(raw).name)}
        on_stage("loaded")
        out_dir.mkdir(parents=True, exist_ok=True)
        try:
            if report["rows_kept"] == 0:
                reasons = {k: v for k, v in report["dropped"].items() if v}
                raise ValueError(
                    f"{raw}: no usable rows after cleaning: {report['rows_read']:,} read, dropped {reasons}"
                )
            windows, how = choose_windows(R.invoice_times(db), val_days, test_days)
            R.split(db, windows)
            mean = R.EXACT_MEAN.format("log_q")
            counts = db.frame(f"SELECT split, count(*) AS n, {mean} AS mean_log_q FROM lines GROUP BY split")
            counts = counts.set_index("split")
            if "train" not in counts.index:
                raise TooShortError(
                    "the training window holds no rows: the data is shorter than the val and test windows"
                )
            products = R.products(db)
            db.register("products", products.reset_index())
            R.history(db)
            guest = products["guest_factor"]
            R.list_prices(db, float(np.nanmedian(guest)) if guest.notna().any() else 1.0)
            fill = float(counts.loc["train", "mean_log_q"])
            known = db.frame("SELECT split, count(*) AS n FROM priced_lines GROUP BY split").set_index("split")["n"]
            rows = {name: int(known.get(name, 0)) for name in SPLITS}
            unseen = {name: int(counts["n"].get(name, 0)) - rows[name] for name in SPLITS}
            report["split"] = {**how, **split_report(windows, rows, unseen, len(products), fill)}
            _refuse_short(raw, report["split"])
        except ValueError as exc:
            report.update(status="error", error=str(exc), engine=db.describe())
            _write_report(out_dir, report)
            raise
        on_stage("features built")
        report["engine"] = db.describe()
        staging = out_dir / ".partial"
        shutil.rmtree(staging, ignore_errors=True)
        staging.mkdir()
        for name in SPLITS:
            db.write_parquet(R.feature_sql(name, fill), staging / f"{name}.parquet", R.LINE_DTYPES)
        products.reset_index().to_parquet(staging / "products.parquet", index=False)
        for name in [*SPLITS, "products"]:
            target = out_dir / f"{name}.parquet"
            shutil.rmtree(target, ignore_errors=True) if target.is_dir() else target.unlink(missing_ok=True)
            (staging / f"{name}.parquet").rename(target)
        staging.rmdir()
        _write_report(out_dir, report)
        on_stage("written")
        return report
    finally:
        db.close()


def _refuse_short(raw: Path, split: dict) -> None:
    short = {name: rows for name, rows in split["rows"].items() if rows < MIN_SPLIT_ROWS}
    if short:
        raise TooShortError(
            f"{raw}: too short to split: {split['rows']} rows of products known to the training window "
            f"(at least {MIN_SPLIT_ROWS} per split)"
        )


def _prepare_in_memory(
    raw: Path, out_dir: Path, val_days: int, test_days: int, on_stage: Callable[[str], object], date_order: str | None
) -> dict:
    """`prepare` in pandas, every line in memory (engine="pandas")."""
    cleaned = load(raw, date_order)
    on_stage("loaded")
    out_dir.mkdir(parents=True, exist_ok=True)
    report = {"status": "ok", **cleaned.report}
    try:
        if cleaned.frame.empty:
            reasons = {k: v for k, v in cleaned.report["dropped"].items() if v}
            raise ValueError(
                f"{raw}: no usable rows after cleaning: {cleaned.report['rows_read']:,} read, dropped {reasons}"
            )
        windows, how = choose_windows(invoice_times(cleaned.frame["invoice_date"]), val_days, test_days)
        tables, products, split = build_tables(cleaned.frame, windows)
        report["split"] = {**how, **split}
        _refuse_short(raw, split)
    except ValueError as exc:
        report.update(status="error", error=str(exc))
        _write_report(out_dir, report)
        raise
    on_stage("features built")
    for name, table in tables.items():
        table.to_parquet(out_dir / f"{name}.parquet", index=False)
    products.reset_index().to_parquet(out_dir / "products.parquet", index=False)
    _write_report(out_dir, report)
    on_stage("written")
    return report


def _write_report(out_dir: Path, report: dict) -> None:
    (out_dir / "data_quality.json").write_text(json.dumps(report, indent=2) + "\n")


def read_split(data_dir: Path, name: str, columns: list[str] | None = None) -> pd.DataFrame:
    """A prepared split's table (`name`: train, val or test), its `columns` (default all), with today's dtypes
    whichever engine wrote it: a folder of parts Spark wrote stores no pandas dtypes, and reads with a float
    customer id and microsecond dates unless cast here."""
    return normalise_split(pd.read_parquet(Path(data_dir) / f"{name}.parquet", columns=columns))


def normalise_split(frame: pd.DataFrame) -> pd.DataFrame:
    """A split's columns as the in-memory path wrote them (`read_split`): whatever read them (pandas from Spark's
    parts, DuckDB's `df()`), the customer id is Int64 and the dates are datetime64[ns]."""
    if "customer_id" in frame and frame["customer_id"].dtype != "Int64":
        frame["customer_id"] = frame["customer_id"].round().astype("Int64")
    if "invoice_date" in frame and frame["invoice_date"].dtype != "datetime64[ns]":
        frame["invoice_date"] = frame["invoice_date"].astype("datetime64[ns]")
    return frame


def read_products(data_dir: Path) -> pd.DataFrame:
    return pd.read_parquet(data_dir / "products.parquet").set_index("stockcode")
