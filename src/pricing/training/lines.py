"""The prepared lines as training reads them when they may not fit in memory (issue 27, "training from data larger
than memory"): never all at once.

- `sample_split`: the lines the per-line models learn from, drawn by DuckDB from a split's parquet, stratified so
  that every product keeps lines: each product keeps its first `KEEP_PER_PRODUCT` lines in a seeded random order
  (fewer, one at least, when the products alone would fill the budget), and the others are kept with the one
  probability that brings the total to the budget. A split within its budget
  is read whole (the real file's splits are: its bundle does not change).
- `PreparedLines`: the order lines behind the incidence model's weekly tables and the evidence (prices, history,
  recent level), read a group of products at a time (`chunks`, about CHUNK_LINES lines each). Every table those
  need is per product (a product's days, ladder and weeks depend on its own lines only) once three things that
  span products are computed over all lines: the shop's trading days, its lines per week and the pooled guest
  factor of the ladder (`list_price.line_list_prices`). So `days`, `ladder` and `weekly` are exactly what the
  in-memory functions give on every line at once (tests/unit/training/test_lines.py), in memory that follows
  CHUNK_LINES, not the data: the Databricks demand-forecasting pattern (`groupBy(product).applyInPandas`) on one
  machine.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pandas as pd

from pricing.data import incidence as I
from pricing.data.list_price import carried_ladder, daily_list_prices, price_ladder
from pricing.data.prepare import normalise_split

LINE_COLUMNS = ["stockcode", "invoice_date", "unit_price", "customer_id", "quantity"]
CHUNK_LINES = 2_000_000  # lines per group of products: about 0.5 GB of pandas at a time
KEEP_PER_PRODUCT = 20  # lines every product keeps in a sample, however small its share


def _files(data_dir: Path, names) -> list[str]:
    """The parquet files of the splits `names` (a folder Spark wrote: its parts). FileNotFoundError naming a missing
    split."""
    files = []
    for name in names:
        path = Path(data_dir) / f"{name}.parquet"
        if not path.exists():
            raise FileNotFoundError(f"{path}: no such file (run pricing prepare first)")
        files += sorted(str(p) for p in path.glob("*.parquet")) if path.is_dir() else [str(path)]
    return files


def _connect():
    import duckdb

    return duckdb.connect(config={"preserve_insertion_order": True})


def _source(files: list[str], row_numbers: bool = False) -> str:
    listed = ", ".join("'" + f.replace("'", "''") + "'" for f in files)
    return f"read_parquet([{listed}]{', file_row_number = true' if row_numbers else ''})"


def sample_split(data_dir: Path, name: str, budget: int | None, seed: int) -> pd.DataFrame:
    """The split `name` of `data_dir` (all columns), at most about `budget` lines of it (None: all), stratified by
    product (module docstring), in time order; the sample is the same for the same seed. Its frame has
    `attrs["lines"]`, the split's lines before sampling."""
    con = _connect()
    files = _files(data_dir, [name])
    source = _source(files)
    total = int(con.execute(f"SELECT count(*) FROM {source}").fetchone()[0])
    if budget is None or total <= budget:
        frame = normalise_split(con.execute(f"SELECT * FROM {source}").df())
        frame.attrs["lines"] = total
        return frame
    # a seeded draw per line from its place in the file: the same lines for the same seed and file
    ranked = f"""SELECT *, row_number() OVER (PARTITION BY stockcode ORDER BY draw, file_row_number) AS k FROM (
            SELECT *, hash(file_row_number, {int(seed)}) AS draw,
                -- the keep draw is independent of the order: the lines past a product's first are not the high draws
                hash(file_row_number, {int(seed)}, 'keep') / 18446744073709551616.0 AS pick
            FROM {_source(files, row_numbers=True)}
        )"""
    products = int(con.execute(f"SELECT count(DISTINCT stockcode) FROM {source}").fetchone()[0])
    # every product keeps KEEP_PER_PRODUCT lines, fewer when the products alone would fill the budget (one at least)
    first = f"k <= {min(KEEP_PER_PRODUCT, max(1, budget // max(products, 1)))}"
    kept, rest = con.execute(
        f"SELECT count(CASE WHEN {first} THEN 1 END), count(CASE WHEN NOT {first} THEN 1 END) FROM ({ranked})"
    ).fetchone()
    share = min(max(budget - kept, 0) / rest, 1.0) if rest else 0.0
    columns = ", ".join(f'"{c}"' for c in con.execute(f"SELECT * FROM {source} LIMIT 0").df().columns)
    frame = con.execute(
        f"SELECT {columns} FROM ({ranked}) WHERE {first} OR pick < {share!r} ORDER BY invoice_date, file_row_number"
    ).df()
    frame = normalise_split(frame.reset_index(drop=True))
    frame.attrs["lines"] = total
    return frame


class PreparedLines:
    """The order lines (LINE_COLUMNS) of some splits of a prepared folder, optionally only those of the weeks in
    `weeks` (Mondays), read by DuckDB a group of products at a time (module docstring)."""

    def __init__(self, data_dir: Path, splits=("train", "val", "test"), weeks=None, chunk_lines: int = CHUNK_LINES):
        self.files = _files(data_dir, splits)
        self.chunk_lines = chunk_lines
        self.where = ""
        if weeks is not None:
            listed = ", ".join(f"DATE '{pd.Timestamp(w).date()}'" for w in weeks)
            self.where = f"WHERE CAST(date_trunc('week', invoice_date) AS DATE) IN ({listed})"
        self.con = _connect()

    def _query(self, select: str) -> str:
        return f"SELECT {select} FROM {_source(self.files)} {self.where}"

    def shop_days(self) -> pd.Series:
        """The distinct days anything sold (midnight timestamps)."""
        days = self.con.execute(
            f"SELECT DISTINCT CAST(CAST(invoice_date AS DATE) AS TIMESTAMP) AS d FROM ({self._query('invoice_date')})"
        ).df()
        return pd.Series(pd.to_datetime(days["d"]).astype("datetime64[ns]").sort_values().to_numpy())

    def lines_per_week(self) -> pd.Series:
        """Order lines per week (index: the weeks' Mondays), every product together."""
        weeks = self.con.execute(
            f"SELECT CAST(date_trunc('week', invoice_date) AS TIMESTAMP) AS week, count(*) AS n "
            f"FROM ({self._query('invoice_date')}) GROUP BY week ORDER BY week"
        ).df()
        index = pd.DatetimeIndex(weeks["week"]).astype("datetime64[ns]")
        return pd.Series(weeks["n"].to_numpy(dtype=np.int64), index=index)

    def first_date(self) -> pd.Timestamp:
        """The earliest invoice time of these lines."""
        return pd.Timestamp(
            self.con.execute(f"SELECT min(invoice_date) FROM ({self._query('invoice_date')})").fetchone()[0]
        )

    def first_week(self) -> pd.Timestamp:
        """The Monday of the first week of these lines (the incidence model's trend origin for the train split)."""
        return I.week_start(pd.Series([self.first_date()])).iloc[0]

    def chunks(self) -> Iterator[pd.DataFrame]:
        """The lines, a group of whole products at a time (about `chunk_lines` lines a group; a product with more
        lines than that is a group of its own), in the order of their codes."""
        counts = self.con.execute(
            f"SELECT stockcode, count(*) AS n FROM ({self._query('stockcode')}) GROUP BY stockcode ORDER BY stockcode"
        ).df()
        group = (counts["n"].cumsum() - 1) // self.chunk_lines
        for _, codes in counts.groupby(group.to_numpy())["stockcode"]:
            self.con.register("_codes", pd.DataFrame({"code": codes.to_numpy()}))
            frame = self.con.execute(
                f"SELECT * FROM ({self._query(', '.join(LINE_COLUMNS))}) WHERE stockcode IN (SELECT code FROM _codes)"
            ).df()
            self.con.unregister("_codes")
            yield normalise_split(frame)

    def ladder(self) -> pd.DataFrame:
        """`list_price.price_ladder` of these lines (per product: exact a group at a time)."""
        return pd.concat([price_ladder(chunk) for chunk in self.chunks()])

    def ladder_of(self, products: pd.DataFrame) -> pd.DataFrame:
        """`list_price.ladder_of` these lines: the ladder `products` carries, else these lines' (`ladder`)."""
        carried = carried_ladder(products)
        return self.ladder() if carried is None else carried

    def days(self, ladder: pd.DataFrame) -> pd.DataFrame:
        """`list_price.daily_list_prices` of these lines through `ladder` (every product's: its pooled guest factor
        is then the one all lines at once would use)."""
        return pd.concat([daily_list_prices(chunk, ladder) for chunk in self.chunks()], ignore_index=True)

    def weekly(self, first_week: pd.Timestamp, ladder: pd.DataFrame) -> pd.DataFrame:
        """`incidence.weekly_table` of these lines through `ladder` (the product table's ladder, or `self.ladder()`
        where the in-memory call passes only the codes)."""
        return I.weekly_from_days(self.days(ladder), self.shop_days(), first_week)
