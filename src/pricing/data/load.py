"""Read an Online Retail file in any of the forms it circulates in, clean it, and account for every row: each one
dropped is counted under exactly one reason.

Forms (`../shared/data/README.md` lists where each comes from): CSV in UTF-8 (with or without a BOM),
Windows-1252 or latin-1, plain or gzipped (`.csv.gz`), comma-, semicolon- or tab-separated; every sheet of an
xlsx workbook (the "Online Retail II" workbook's two sheets overlap, and a sale in both counts once); parquet.
Column names of the original file or of "Online Retail II". Dates: US month-first with or without seconds, ISO
with a space or a `T`, Excel date cells, and day-first; which of day-first and month-first a file uses is decided
from the data as a whole (a first field above 12 proves day-first, a second above 12 month-first), never per row.
"""

from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

import numpy as np
import pandas as pd

from pricing.data.features import canonical_stockcodes
from pricing.encodings import data_stream, decode

CANONICAL = ("invoice", "stockcode", "description", "quantity", "invoice_date", "unit_price", "customer_id", "country")
# source column names, lower-cased with spaces and underscores removed -> canonical name
_ALIASES = {
    "invoiceno": "invoice",
    "invoice": "invoice",
    "stockcode": "stockcode",
    "description": "description",
    "quantity": "quantity",
    "invoicedate": "invoice_date",
    "unitprice": "unit_price",
    "price": "unit_price",
    "customerid": "customer_id",
    "country": "country",
}
# how the two published layouts name each column: what an error says when a column is missing
SOURCE_NAMES = {
    "invoice": "InvoiceNo (or Invoice)",
    "stockcode": "StockCode",
    "description": "Description",
    "quantity": "Quantity",
    "invoice_date": "InvoiceDate",
    "unit_price": "UnitPrice (or Price)",
    "customer_id": "CustomerID (or Customer ID)",
    "country": "Country",
}
DATE_ORDERS = ("dayfirst", "monthfirst")
# d/m/y or m/d/y with '/', '-' or '.', a two- or four-digit year, a time with or without seconds
_DAY_MONTH = re.compile(
    r"^(?P<a>\d{1,2})(?P<sep>[/.-])(?P<b>\d{1,2})(?P=sep)(?P<year>\d{4}|\d{2})"
    r"(?:[ T]+(?P<hour>\d{1,2}):(?P<minute>\d{2})(?::(?P<second>\d{2}))?)?$"
)
_GLOB = re.compile(r"[*?\[]")  # a path with a glob character names a pattern of files, not one file
_ISO = re.compile(r"^\d{4}-\d{1,2}-\d{1,2}(?:[ T]\d{1,2}:\d{2}(?::\d{2}(?:\.\d+)?)?)?$")
NON_PRODUCT_CODES = frozenset(
    {
        "POST",
        "DOT",
        "M",
        "C2",
        "D",
        "S",
        "BANK CHARGES",
        "AMAZONFEE",
        "CRUK",
        "PADS",
        "B",
        "ADJUST",
        "ADJUST2",
        "TEST001",
        "TEST002",
    }
)
# a mislabelled code still betrays itself by its description ("POST POSTAGE" under a product code)
_NON_PRODUCT_DESCRIPTION = re.compile(
    r"\bPOSTAGE\b|^CARRIAGE$|^MANUAL$|^DISCOUNT$|^SAMPLES$|^BANK CHARGES$|^AMAZON FEE$|^CRUK COMMISSION$"
    r"|^ADJUST BAD DEBT$|^PADS TO MATCH ALL CUSHIONS$",
    re.IGNORECASE,
)
_PRODUCT_CODE = re.compile(r"^\d{5}[A-Z]{0,3}$", re.IGNORECASE)

# the reasons a row is dropped, in the order they are tested; a row counts under the first that applies
DROP_REASONS = (
    "malformed_line",
    "shared_between_sheets",
    "unparsable_value",
    "cancellation",
    "bad_debt",
    "non_product",
    "missing_description",
    "stock_adjustment",
    "non_positive_price",
    "non_positive_quantity",
    "cancelled_same_day",
    "duplicate",
)


class DataError(Exception):
    """A file that cannot be used at all: unreadable, or missing a column. The message is one line."""


@dataclass
class RawRead:
    """One file as read: canonical column names, values as the file holds them (text for CSV, typed cells for
    a workbook). `rows_read` counts every data line or row, malformed lines and rows of every sheet included."""

    frame: pd.DataFrame
    rows_read: int
    # 1-based line numbers in the file; "file:line" for a folder's files
    malformed_lines: list[int | str] = field(default_factory=list)
    source_columns: dict[str, str] = field(default_factory=dict)  # canonical name -> the file's name
    # how the file was read: encoding, delimiter; for a workbook its sheets and shared_between_sheets, the rows of
    # a later sheet that repeat an earlier sheet's (one sale each)
    details: dict = field(default_factory=dict)


@dataclass
class Cleaned:
    frame: pd.DataFrame  # typed canonical columns, sorted by invoice_date, index reset
    report: dict


def read_raw(path: Path, date_order: str | None = None) -> RawRead:
    """Read a CSV (plain or gzipped), xlsx/xls workbook (every sheet) or parquet file into canonical columns; or a
    folder of such files, or a glob pattern (`exports/2011-*.csv`), read as one (`read_many`).

    `date_order` ("dayfirst" or "monthfirst") is only kept for `clean`; reading never parses dates.
    Raises DataError (one line) for a missing file, an unreadable one, or a missing column."""
    path = Path(path)
    if date_order is not None and date_order not in DATE_ORDERS:
        raise ValueError(f"date_order must be one of {DATE_ORDERS} or None, got {date_order!r}")
    if path.is_dir() or _GLOB.search(str(path)):
        return read_many(path, date_order)
    if not path.is_file():
        raise DataError(f"cannot read {path}: no such file")
    suffix = path.suffix.lower()
    try:
        if suffix in (".xlsx", ".xlsm", ".xls"):
            raw = _read_workbook(path)
        elif suffix == ".parquet":
            frame = pd.read_parquet(path)
            frame, columns = _rename(frame, path)
            raw = RawRead(frame, len(frame), source_columns=columns, details={"format": "parquet"})
        else:
            raw = _read_csv(path)
    except DataError:
        raise
    except Exception as exc:  # any parser failure becomes the one-line reason the CLI prints
        raise DataError(
            f"cannot read {path}: {type(exc).__name__}: {str(exc).splitlines()[0] if str(exc) else ''}"
        ) from exc
    raw.details["date_order"] = date_order
    return raw


def files_of(path: Path) -> list[Path]:
    """The files a folder (its plain files, not hidden ones, not sub-folders) or a glob pattern names, sorted by
    name (monthly exports named by month read in time order). DataError when there are none."""
    if path.is_dir():
        files = [p for p in path.iterdir() if p.is_file() and not p.name.startswith(".")]
    else:
        anchor = Path(path.anchor) if path.is_absolute() else Path(".")
        files = [p for p in anchor.glob(str(path.relative_to(anchor) if path.is_absolute() else path)) if p.is_file()]
    if not files:
        raise DataError(
            f"cannot read {path}: no file in it" if path.is_dir() else f"cannot read {path}: no file matches"
        )
    return sorted(files, key=lambda p: p.name)


def read_many(path: Path, date_order: str | None = None) -> RawRead:
    """The files of a folder or glob pattern (`files_of`) read one by one, each in its own form and encoding
    (`read_raw`), and concatenated in name order into one RawRead: rows_read their sum, malformed lines as
    "file:line", details["files"] each file's rows and how it was read. Their dates are parsed together by
    `clean`, so one day/month order holds for all (a shop's exports share one); a line repeated in two overlapping
    exports is one sale twice and is dropped as a duplicate. DataError naming the file for the first that cannot
    be read: nothing of the others is used."""
    reads, frames, malformed, files = [], [], [], {}
    for file in files_of(path):
        try:
            raw = read_raw(file, date_order)
        except DataError as exc:
            raise DataError(
                f"cannot read {path}: {file.name}: {str(exc).removeprefix(f'cannot read {file}: ')}"
            ) from exc
        reads.append(raw)
        frames.append(raw.frame.astype(object))  # text cells of one file beside typed cells of another
        malformed += [f"{file.name}:{line}" for line in raw.malformed_lines]
        files[file.name] = {"rows_read": raw.rows_read, **{k: v for k, v in raw.details.items() if k != "date_order"}}
    frame = pd.concat(frames, ignore_index=True)
    details = {
        "format": "folder",
        "files": files,
        "shared_between_sheets": sum(r.details.get("shared_between_sheets", 0) for r in reads),
        "date_order": date_order,
    }
    return RawRead(frame, sum(r.rows_read for r in reads), malformed, reads[0].source_columns, details)


def _file_bytes(path: Path) -> bytes:
    with data_stream(lambda: open(path, "rb")) as handle:  # gzipped by content: a .gz without the suffix reads too
        return handle.read()


def _read_csv(path: Path) -> RawRead:
    import pyarrow as pa
    from pyarrow import csv as arrow_csv

    text, encoding = decode(_file_bytes(path))
    delimiter, header = sniff_header(text)
    malformed: list[int] = []

    def skip(row) -> str:
        malformed.append(row.number)  # pyarrow numbers rows from 1 at the header
        return "skip"

    table = arrow_csv.read_csv(
        io.BytesIO(text.encode("utf-8")),
        read_options=arrow_csv.ReadOptions(encoding="utf8", block_size=1 << 24, use_threads=False),
        # use_threads=False keeps pyarrow's line numbers (threads would hide them)
        parse_options=arrow_csv.ParseOptions(delimiter=delimiter, invalid_row_handler=skip),
        convert_options=arrow_csv.ConvertOptions(
            column_types={h: pa.string() for h in header}, strings_can_be_null=True, null_values=[""]
        ),
    )
    frame, columns = _rename(table.to_pandas(), path)
    details = {"format": "csv", "encoding": encoding, "delimiter": delimiter}
    return RawRead(frame, len(frame) + len(malformed), sorted(malformed), columns, details)


def sniff_header(text: str) -> tuple[str, list[str]]:
    """The delimiter (`,`, `;` or tab: the one the first line holds most of; the header names hold none of the
    three) and the column names of a CSV whose text starts `text`."""
    first_line = text.split("\n", 1)[0].rstrip("\r")
    delimiter = max(",;\t", key=first_line.count)
    return delimiter, next(csv.reader([first_line], delimiter=delimiter), [])


def _read_workbook(path: Path) -> RawRead:
    """Every sheet with rows; a row of a later sheet identical to one of an earlier sheet is the same sale (the
    Online Retail II workbook repeats 2010-12-01..09 in both its sheets) and is kept once, matched as multisets:
    a line that one sheet holds twice (a real duplicate) and the next holds twice too gives two rows, not four."""
    sheets = pd.read_excel(path, sheet_name=None, dtype=object)
    frames, columns, counts = [], {}, {}
    for name, sheet in sheets.items():
        sheet = sheet.dropna(how="all")
        if sheet.empty:
            continue
        frame, columns = _rename(sheet, path, sheet=str(name))
        frames.append(frame.reset_index(drop=True))
        counts[str(name)] = len(frame)
    if not frames:
        raise DataError(f"{path}: no sheet holds any rows")
    kept, shared = _without_shared_rows(frames)
    details = {"format": "workbook", "sheets": counts, "shared_between_sheets": shared}
    return RawRead(kept, sum(counts.values()), source_columns=columns, details=details)


def _without_shared_rows(frames: list[pd.DataFrame]) -> tuple[pd.DataFrame, int]:
    """Concatenate sheets, dropping each later sheet's rows that an earlier sheet already holds (as many times as
    the earlier sheet that holds it most), and how many were dropped."""
    seen: pd.Series | None = None  # row hash -> the most times one earlier sheet holds it
    kept, shared = [], 0
    for frame in frames:
        hashes = pd.util.hash_pandas_object(frame.astype(str), index=False)
        if seen is None:
            kept.append(frame)
        else:
            occurrence = hashes.groupby(hashes).cumcount().to_numpy()
            earlier = seen.reindex(hashes.to_numpy()).fillna(0).to_numpy()
            repeat = occurrence < earlier
            shared += int(repeat.sum())
            kept.append(frame[~repeat])
        counts = hashes.value_counts()
        seen = counts if seen is None else seen.combine(counts, max, fill_value=0)
    return pd.concat(kept, ignore_index=True), shared


def _canonical_name(column: object) -> str | None:
    key = re.sub(r"[\s_]", "", str(column)).lower()
    return _ALIASES.get(key)


def _rename(frame: pd.DataFrame, path: Path, sheet: str | None = None) -> tuple[pd.DataFrame, dict[str, str]]:
    """The frame with canonical column names, and canonical name -> the file's own name (`column_mapping`)."""
    where = f"{path} (sheet {sheet!r})" if sheet is not None else str(path)
    mapping = column_mapping([str(c) for c in frame.columns], where)
    frame = frame[[c for c in frame.columns if str(c) in mapping]].set_axis(list(mapping.values()), axis=1)
    return frame[list(CANONICAL)], {canonical: source for source, canonical in mapping.items()}


def column_mapping(names: list[str], where: str) -> dict[str, str]:
    """The file's column name -> its canonical name, for the columns of `names` that are one of the two published
    layouts' (the first where two name the same column). A missing column is a DataError that names `where` and
    the column as the layouts do. Shared by the in-memory reader and the engines' (pricing.data.relational)."""
    mapping: dict[str, str] = {}
    for name in names:
        canonical = _canonical_name(name)
        if canonical and canonical not in mapping.values():
            mapping[name] = canonical
    missing = [c for c in CANONICAL if c not in mapping.values()]
    if missing:
        raise DataError(
            f"{where} lacks column(s) {', '.join(SOURCE_NAMES[c] for c in missing)} (has: {', '.join(names)[:200]})"
        )
    return mapping


@dataclass
class Canonical:
    frame: pd.DataFrame  # typed canonical columns
    unparsable: pd.Series  # rows with a value that could not be parsed
    unparsable_by_column: dict[str, int]  # canonical column -> rows it made unparsable
    date_convention: str  # how the dates were read: "ISO", "day-first", "month-first", "date cells"


def canonicalise(frame: pd.DataFrame, date_order: str | None = None, date_column: str = "InvoiceDate") -> Canonical:
    """Typed canonical columns and what could not be parsed. Raises DataError when the dates cannot decide
    day-first against month-first and `date_order` does not say."""
    out = pd.DataFrame(index=frame.index)
    out["invoice"] = _text(frame["invoice"], numeric_as_int=True)
    out["stockcode"] = canonical_stockcodes(_text(frame["stockcode"], numeric_as_int=True))
    out["description"] = _text(frame["description"]).str.strip().replace("", pd.NA)
    out["quantity"] = pd.to_numeric(frame["quantity"], errors="coerce")
    out["invoice_date"], convention = parse_dates(frame["invoice_date"], date_order, column=date_column)
    out["unit_price"] = pd.to_numeric(frame["unit_price"], errors="coerce").astype(float)
    customer = pd.to_numeric(frame["customer_id"], errors="coerce")
    out["customer_id"] = customer.round().astype("Int64")
    out["country"] = _text(frame["country"]).str.strip()
    failed = {
        "invoice": out["invoice"].isna(),
        "stockcode": out["stockcode"].isna(),
        "quantity": out["quantity"].isna() | (out["quantity"] != out["quantity"].round()),
        "invoice_date": out["invoice_date"].isna(),
        "unit_price": out["unit_price"].isna(),
        "customer_id": frame["customer_id"].notna() & customer.isna(),
        "country": out["country"].isna(),
    }
    unparsable = pd.concat(failed, axis=1).any(axis=1)
    out["quantity"] = out["quantity"].where(~unparsable, 0).astype(np.int64)
    return Canonical(out, unparsable, {name: int(mask.sum()) for name, mask in failed.items()}, convention)


def _text(values: pd.Series, numeric_as_int: bool = False) -> pd.Series:
    def convert(v):
        if v is None or (isinstance(v, float) and np.isnan(v)):
            return None
        if numeric_as_int and isinstance(v, float) and v.is_integer():
            return str(int(v))
        return str(v)

    if values.dtype == object and not all(isinstance(v, str) or v is None for v in values.head(1000)):
        values = values.map(convert)
    return values.astype("string").str.strip()


def parse_dates(values: pd.Series, date_order: str | None = None, column: str = "InvoiceDate"):
    """Invoice dates as datetime64[ns] (NaT where a value is no date), and the convention they were read with.

    Date cells (a workbook's) are taken as they are. Text is ISO (`2010-12-01 08:26:00`, `2010-12-01T08:26`) or
    day/month/year in either order with '/', '-' or '.', a two- or four-digit year, with or without seconds.
    The order is one for the whole file: `date_order` when given, else decided by the data (a first field above
    12 proves day-first, a second above 12 month-first); a file with neither, or with both, raises DataError
    naming the column and the --dayfirst/--monthfirst flags."""
    if pd.api.types.is_datetime64_any_dtype(values):
        return values.astype("datetime64[ns]"), "date cells"
    parsed = pd.Series(pd.NaT, index=values.index, dtype="datetime64[ns]")
    cells = values.map(lambda v: isinstance(v, datetime | np.datetime64)) if values.dtype == object else None
    conventions = []
    if cells is not None and cells.any():
        parsed[cells] = pd.to_datetime(values[cells], errors="coerce")
        conventions.append("date cells")
        values = values.where(~cells, None)
    text = values.astype("string").str.strip()
    unique = pd.Series(text.dropna().unique(), dtype="string")
    if unique.empty:
        return parsed, " and ".join(conventions) or "none"
    iso = unique.str.match(_ISO)
    parts = unique.str.extract(_DAY_MONTH)
    by_unique = pd.Series(pd.NaT, index=unique.index, dtype="datetime64[ns]")
    if iso.any():
        by_unique[iso] = pd.to_datetime(unique[iso], format="ISO8601", errors="coerce")
        conventions.append("ISO")
    day_month = parts["a"].notna() & ~iso
    if day_month.any():
        order = date_order or _decide_order(parts[day_month], unique[day_month], column)
        by_unique[day_month] = _from_parts(parts[day_month], dayfirst=order == "dayfirst")
        conventions.append("day-first" if order == "dayfirst" else "month-first")
    lookup = pd.Series(by_unique.to_numpy(), index=unique.to_numpy())
    todo = text.notna() & parsed.isna()
    parsed[todo] = lookup.reindex(text[todo].to_numpy()).to_numpy()
    return parsed, " and ".join(conventions)


def _decide_order(parts: pd.DataFrame, examples: pd.Series, column: str) -> str:
    first_over = parts["a"].astype(int) > 12
    second_over = parts["b"].astype(int) > 12
    return decide_order(
        examples[first_over].iat[0] if first_over.any() else None,
        examples[second_over].iat[0] if second_over.any() else None,
        examples.iat[0],
        column,
    )


def decide_order(first_over: str | None, second_over: str | None, example: str, column: str) -> str:
    """ "dayfirst" or "monthfirst" from a date text whose first field is above 12 (`first_over`) and one whose
    second is (`second_over`), None where the data hold none; `example`: any of the dates. DataError when both
    or neither occur (the flags --dayfirst/--monthfirst decide then)."""
    flags = "pass --dayfirst or --monthfirst"
    if first_over is not None and second_over is not None:
        raise DataError(
            f"{column}: the dates mix day-first and month-first (e.g. {first_over!r} and "
            f"{second_over!r}); {flags} to read the file one way"
        )
    if first_over is not None:
        return "dayfirst"
    if second_over is not None:
        return "monthfirst"
    raise DataError(f"{column}: no date has a day above 12, so {example!r} could be day-first or month-first; {flags}")


def _from_parts(parts: pd.DataFrame, dayfirst: bool) -> pd.Series:
    year = parts["year"].astype(int)
    year = year.where(parts["year"].str.len() == 4, np.where(year < 69, 2000 + year, 1900 + year))  # strptime's %y
    fields = pd.DataFrame(
        {
            "year": year,
            "month": parts["b" if dayfirst else "a"].astype(int),
            "day": parts["a" if dayfirst else "b"].astype(int),
            "hour": parts["hour"].fillna("0").astype(int),
            "minute": parts["minute"].fillna("0").astype(int),
            "second": parts["second"].fillna("0").astype(int),
        }
    )
    valid = fields["month"].between(1, 12) & fields["day"].between(1, 31) & fields["hour"].lt(24)
    valid &= fields["minute"].lt(60) & fields["second"].lt(60)
    out = pd.Series(pd.NaT, index=parts.index, dtype="datetime64[ns]")
    if valid.any():
        out[valid] = pd.to_datetime(fields[valid], errors="coerce")  # 31 February and the like become NaT
    return out


def is_non_product(stockcode: pd.Series, description: pd.Series) -> pd.Series:
    code = stockcode.fillna("")
    by_code = code.isin(NON_PRODUCT_CODES) | ~code.str.match(_PRODUCT_CODE)
    by_description = description.fillna("").str.contains(_NON_PRODUCT_DESCRIPTION)
    return (by_code | by_description).astype(bool)


def clean(raw: RawRead, source: str = "") -> Cleaned:
    """Typed rows kept for modelling and the cleaning report: every row read is kept or counted under the first
    reason of DROP_REASONS that applies (rows_read == rows_kept + rows_dropped). Raises DataError for dates
    whose day/month order the data cannot decide (see parse_dates)."""
    date_column = raw.source_columns.get("invoice_date", "InvoiceDate")
    parsed = canonicalise(raw.frame, raw.details.get("date_order"), date_column)
    frame = parsed.frame
    invoice = frame["invoice"].fillna("")
    reasons: dict[str, pd.Series] = {
        "unparsable_value": parsed.unparsable,
        "cancellation": invoice.str.startswith("C"),
        "bad_debt": invoice.str.startswith("A") | (frame["stockcode"] == "B"),
        "non_product": is_non_product(frame["stockcode"], frame["description"]),
        "missing_description": frame["description"].isna(),
        "stock_adjustment": frame["unit_price"] == 0,
        "non_positive_price": frame["unit_price"] < 0,
        "non_positive_quantity": frame["quantity"] <= 0,
        "cancelled_same_day": _cancelled_same_day(frame, invoice),
    }
    remaining = pd.Series(True, index=frame.index)
    dropped = {
        "malformed_line": len(raw.malformed_lines),
        "shared_between_sheets": raw.details.get("shared_between_sheets", 0),
    }
    for reason, mask in reasons.items():
        hit = remaining & mask.fillna(False).astype(bool)
        dropped[reason] = int(hit.sum())
        remaining &= ~hit
    duplicate = remaining & frame.duplicated(keep="first")
    dropped["duplicate"] = int(duplicate.sum())
    remaining &= ~duplicate

    kept = frame[remaining].sort_values("invoice_date", kind="stable").reset_index(drop=True)
    report = {
        "source": source,
        "rows_read": raw.rows_read,
        "rows_kept": len(kept),
        "rows_dropped": int(sum(dropped.values())),
        "dropped": {reason: dropped[reason] for reason in DROP_REASONS},
        "malformed_line_numbers": raw.malformed_lines[:50],
        # the file's own column names, so a reader can tell which column failed to parse
        "unparsable_by_column": {
            raw.source_columns.get(name, name): count for name, count in parsed.unparsable_by_column.items() if count
        },
        "read": {**raw.details, "date_convention": parsed.date_convention},
        "kept_without_customer": int(kept["customer_id"].isna().sum()),
        "stockcodes": int(kept["stockcode"].nunique()),
        "customers": int(kept["customer_id"].nunique()),
        "first_date": str(kept["invoice_date"].min()) if len(kept) else None,
        "last_date": str(kept["invoice_date"].max()) if len(kept) else None,
    }
    assert report["rows_read"] == report["rows_kept"] + report["rows_dropped"], report
    return Cleaned(kept, report)


def _cancelled_same_day(frame: pd.DataFrame, invoice: pd.Series) -> pd.Series:
    """Sales undone by a cancellation of the same customer, code and quantity on the same day.

    Kept to the same day so cleaning never reaches across the chronological split (the huge lines of
    the real file are cancelled within minutes)."""
    day = frame["invoice_date"].dt.normalize()
    keys = ["customer_id", "stockcode", "day", "units"]
    cancels = frame.assign(day=day, units=-frame["quantity"])[invoice.str.startswith("C")][keys].dropna()
    sales = frame.assign(day=day, units=frame["quantity"])[keys]
    cancels = cancels.drop_duplicates().assign(cancelled=True)
    hit = sales.merge(cancels, on=keys, how="left")["cancelled"].fillna(False).astype(bool).to_numpy()
    return pd.Series(hit, index=frame.index) & ~invoice.str.startswith("C")


def load(path: Path, date_order: str | None = None) -> Cleaned:
    """read_raw then clean: the cleaned rows and their report. Raises DataError (one line)."""
    return clean(read_raw(path, date_order), source=Path(path).name)
