"""The ledger: the documents (invoices, credit notes, adjustments) and their lines as the history writes them,
and at the end the export's frame: documents numbered in time order, dates in the real file's format.

Lines are kept column by column in blocks, one block per `Lines.add`; the sale lines are the first block."""

from __future__ import annotations

from datetime import date

import numpy as np
import pandas as pd

from pricing.data.synthetic.market import COUNTRY_NAMES, UK, Calendar, Products

FIRST_INVOICE = 536_365
HOUR_WEIGHT = {
    7: 0.01,
    8: 0.05,
    9: 0.08,
    10: 0.12,
    11: 0.14,
    12: 0.16,
    13: 0.14,
    14: 0.12,
    15: 0.09,
    16: 0.05,
    17: 0.02,
    18: 0.01,
    19: 0.006,
    20: 0.004,
}
# a line's columns where `Lines.add` is not given them: no product (-1) and no customer (0) at home
LINE_DEFAULTS = {
    "pos": 0,
    "sub": 0,
    "product": -1,
    "stockcode": None,
    "description": None,
    "customer": 0,
    "country": UK,
}


class Lines:
    """Column-wise accumulator of invoice lines, joined once at the end.

    Columns: doc (document id), pos (position on it), sub (1 for a duplicate printed after its original),
    product (number, -1 for none), stockcode and description (None: the product's), quantity, price, customer
    (id, 0 for none), country (index into COUNTRY_NAMES)."""

    COLUMNS = ("doc", "pos", "sub", "product", "stockcode", "description", "quantity", "price", "customer", "country")

    def __init__(self) -> None:
        self.blocks: list[dict[str, np.ndarray]] = []

    def add(self, n: int, **columns) -> None:
        """`n` lines; each column an array of n, a scalar for all of them, or left out for LINE_DEFAULTS."""
        block = {}
        for name in self.COLUMNS:
            value = columns[name] if name in columns else LINE_DEFAULTS[name]
            arr = np.asarray(value)
            block[name] = (
                np.full(n, value, dtype=arr.dtype if arr.dtype != object else object) if arr.ndim == 0 else arr
            )
        self.blocks.append(block)

    def concat(self) -> dict[str, np.ndarray]:
        return {name: np.concatenate([b[name] for b in self.blocks]) for name in self.COLUMNS}


class Ledger:
    """Documents and their lines. Documents are dated with the main stream `rng` (a trading day by the
    calendar's weights, a minute by HOUR_WEIGHT) and numbered only at the end, in time order."""

    def __init__(self, rng: np.random.Generator, calendar: Calendar) -> None:
        self.rng = rng
        self.calendar = calendar
        # documents: day index, minute of day, prefix ("", "C", "A")
        self.doc_day: list[np.ndarray] = []
        self.doc_minute: list[np.ndarray] = []
        self.doc_prefix: list[np.ndarray] = []
        self.n_docs = 0
        self.lines = Lines()

    def new_docs(self, day: np.ndarray, minute: np.ndarray | None = None, prefix: str = "") -> np.ndarray:
        """Documents on the given trading days (at random minutes unless given); returns their ids."""
        day = np.asarray(day, dtype=np.int64)
        if minute is None:
            minute = self.random_minutes(len(day))
        ids = np.arange(self.n_docs, self.n_docs + len(day))
        self.doc_day.append(day)
        self.doc_minute.append(np.asarray(minute, dtype=np.int64))
        self.doc_prefix.append(np.full(len(day), prefix, dtype=object))
        self.n_docs += len(day)
        return ids

    def random_days(self, n: int) -> np.ndarray:
        return self.rng.choice(len(self.calendar.days), size=n, p=self.calendar.day_weight)

    def random_minutes(self, n: int) -> np.ndarray:
        hours = np.array(list(HOUR_WEIGHT))
        p = np.array(list(HOUR_WEIGHT.values()))
        return self.rng.choice(hours, size=n, p=p / p.sum()) * 60 + self.rng.integers(0, 60, n)

    def days(self) -> np.ndarray:
        """Every document's trading day, (documents,)."""
        return np.concatenate(self.doc_day)

    def minutes(self) -> np.ndarray:
        """Every document's minute of the day, (documents,)."""
        return np.concatenate(self.doc_minute)

    def first_block(self, n: int) -> dict[str, np.ndarray]:
        """The first `n` lines ever added (the sale lines), column by column."""
        return {k: v[:n] for k, v in self.lines.blocks[0].items()}

    def frame(self, lines: dict[str, np.ndarray], products: Products) -> pd.DataFrame:
        """The export: `lines` (`self.lines.concat()`) with the real CSV's columns, already formatted, in the
        order the real file prints them (document number, position, an original before its duplicate); the
        whole of `Export(self, lines, products)`."""
        return Export(self, lines, products).frame()

    def numbers(self, first: int = FIRST_INVOICE) -> np.ndarray:
        """Document numbers in time order (ties in the order the documents were made) from `first`, with the real
        file's occasional gaps in the sequence (a draw from `rng`), (documents,)."""
        order = np.lexsort((np.arange(self.n_docs), self.minutes(), self.days()))
        number = np.empty(self.n_docs, dtype=np.int64)
        number[order] = first + np.cumsum(1 + (self.rng.random(self.n_docs) < 0.4)) - 1
        return number


class Export:
    """The export of a ledger's lines, formatted a chunk of rows at a time, so a file of tens of millions of lines
    is written without its whole formatted table in memory (issue 27: the generator at scale).

    What is held: the lines' columns (numbers, and the few stock codes and descriptions of non-product lines), the
    row order and each document's invoice number and time stamp as text (documents are a few per cent of lines);
    the product's code and description, the invoice and the stamp of each line are looked up only for the rows
    being formatted. `frame(rows)` is the same table, row for row, as the whole export's rows at those positions,
    so `write_csv` gives the same bytes for any chunk size. `number`: the documents' numbers when the caller has
    drawn them (the history written a day at a time, `pricing.data.synthetic.by_day`); else `ledger.numbers()`."""

    def __init__(
        self, ledger: Ledger, lines: dict[str, np.ndarray], products: Products, number: np.ndarray | None = None
    ) -> None:
        number = ledger.numbers() if number is None else number
        prefix = np.concatenate(ledger.doc_prefix)
        self.invoice = np.array([f"{p}{n}" for p, n in zip(prefix, number, strict=True)], dtype=object)
        self.stamp = np.array(
            [_format_stamp(ledger.calendar.days[d], m) for d, m in zip(ledger.days(), ledger.minutes(), strict=True)],
            dtype=object,
        )
        self.lines, self.products = lines, products
        self.order = np.lexsort((lines["sub"], lines["pos"], number[lines["doc"]]))

    def __len__(self) -> int:
        return len(self.order)

    def frame(self, rows: slice = slice(None)) -> pd.DataFrame:
        """The export's rows at positions `rows` (a slice of the printed order; default all), the real CSV's
        columns, formatted, index from the slice's start."""
        at = self.order[rows]
        lines, products = {k: v[at] for k, v in self.lines.items()}, self.products
        is_product = lines["product"] >= 0
        product = np.maximum(lines["product"], 0)
        stockcode = np.where(is_product & pd.isna(lines["stockcode"]), products.codes[product], lines["stockcode"])
        description = np.where(
            is_product & pd.isna(lines["description"]),
            products.descriptions[product],
            lines["description"],
        )
        description = np.where(description == "", None, description)
        customer = pd.array(np.where(lines["customer"] > 0, lines["customer"], 0), dtype="Int64")
        customer[lines["customer"] <= 0] = pd.NA
        start = rows.indices(len(self.order))[0]
        return pd.DataFrame(
            {
                "InvoiceNo": self.invoice[lines["doc"]],
                "StockCode": stockcode,
                "Description": description,
                "Quantity": lines["quantity"].astype(np.int64),
                "InvoiceDate": self.stamp[lines["doc"]],
                "UnitPrice": lines["price"].astype(float),
                "CustomerID": customer,
                "Country": np.array(COUNTRY_NAMES, dtype=object)[lines["country"]],
            },
            index=pd.RangeIndex(start, start + len(at)),
        )

    def write_csv(self, path, chunk_rows: int = 1_000_000, **to_csv) -> None:
        """The export as CSV at `path` without an index column, `chunk_rows` rows formatted at a time (the header
        once; `to_csv`: pandas' other options, the same for every chunk). ValueError for chunk_rows below 1."""
        with open(path, "w", newline="", encoding="utf-8") as handle:
            self.write(handle, chunk_rows, header=True, **to_csv)

    def write(self, handle, chunk_rows: int = 1_000_000, header: bool = True, **to_csv) -> None:
        """The export as CSV rows on the open text `handle`, `chunk_rows` rows at a time, the header first when
        `header` (nothing at all for an empty export without it). ValueError for chunk_rows below 1."""
        if chunk_rows < 1:
            raise ValueError(f"chunk_rows must be at least 1, got {chunk_rows}")
        for start in range(0, max(len(self.order), 1 if header else 0), chunk_rows):
            rows = slice(start, start + chunk_rows)
            self.frame(rows).to_csv(handle, index=False, header=header and start == 0, **to_csv)


def _format_stamp(day: date, minute: int) -> str:
    return f"{day.month}/{day.day}/{day.year} {minute // 60}:{minute % 60:02d}"
