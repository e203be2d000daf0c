"""Read an Online Retail file (CSV, xlsx or parquet; original or "Online Retail II" names), clean it, and
account for every row: each one dropped is counted under exactly one reason."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

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
# explicit formats, tried in order: the CSV export, its two-digit-year variant, ISO (Online Retail II CSVs)
DATE_FORMATS = ("%m/%d/%Y %H:%M", "%m/%d/%y %H:%M", "%Y-%m-%d %H:%M:%S", "%Y-%m-%d %H:%M")

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
    frame: pd.DataFrame  # canonical column names, values as read
    rows_read: int  # data lines in the file, malformed ones included
    malformed_lines: list[int] = field(default_factory=list)  # 1-based line numbers in the file


@dataclass
class Cleaned:
    frame: pd.DataFrame  # typed canonical columns, sorted by invoice_date, index reset
    report: dict


def read_raw(path: Path) -> RawRead:
    path = Path(path)
    if not path.is_file():
        raise DataError(f"cannot read {path}: no such file")
    suffix = path.suffix.lower()
    try:
        if suffix in (".xlsx", ".xls"):
            frame = pd.read_excel(path, dtype=object)
            return RawRead(_rename(frame, path), len(frame))
        if suffix == ".parquet":
            frame = pd.read_parquet(path)
            return RawRead(_rename(frame, path), len(frame))
        return _read_csv(path)
    except DataError:
        raise
    except Exception as exc:  # any parser failure becomes the one-line reason the CLI prints
        raise DataError(
            f"cannot read {path}: {type(exc).__name__}: {str(exc).splitlines()[0] if str(exc) else ''}"
        ) from exc


def _read_csv(path: Path) -> RawRead:
    import pyarrow as pa
    from pyarrow import csv

    malformed: list[int] = []

    def skip(row) -> str:
        malformed.append(row.number)  # pyarrow numbers rows from 1 at the header
        return "skip"

    with open(path, "rb") as handle:
        header = handle.readline().decode("utf-8-sig", errors="replace").strip().split(",")
    table = csv.read_csv(
        path,
        read_options=csv.ReadOptions(
            encoding="utf8" if _is_utf8(path) else "latin1", block_size=1 << 24, use_threads=False
        ),  # threads would hide the line numbers
        parse_options=csv.ParseOptions(invalid_row_handler=skip),
        convert_options=csv.ConvertOptions(
            column_types={h: pa.string() for h in header}, strings_can_be_null=True, null_values=[""]
        ),
    )
    frame = _rename(table.to_pandas(), path)
    return RawRead(frame, len(frame) + len(malformed), sorted(malformed))


def _is_utf8(path: Path) -> bool:
    with open(path, "rb") as handle:
        try:
            handle.read(1 << 20).decode("utf-8")
        except UnicodeDecodeError:
            return False
    return True


def _canonical_name(column: object) -> str | None:
    key = re.sub(r"[\s_]", "", str(column)).lower()
    return _ALIASES.get(key)


def _rename(frame: pd.DataFrame, path: Path) -> pd.DataFrame:
    mapping = {c: _canonical_name(c) for c in frame.columns if _canonical_name(c)}
    frame = frame.rename(columns=mapping)
    missing = [c for c in CANONICAL if c not in frame.columns]
    if missing:
        raise DataError(f"{path} lacks column(s) {', '.join(missing)} (have: {', '.join(map(str, mapping))})")
    return frame[list(CANONICAL)]


def canonicalise(frame: pd.DataFrame) -> tuple[pd.DataFrame, pd.Series]:
    """Typed canonical columns, and a mask of rows whose values could not be parsed."""
    out = pd.DataFrame(index=frame.index)
    out["invoice"] = _text(frame["invoice"], numeric_as_int=True)
    out["stockcode"] = _text(frame["stockcode"], numeric_as_int=True).str.upper()
    out["description"] = _text(frame["description"]).str.strip().replace("", pd.NA)
    out["quantity"] = pd.to_numeric(frame["quantity"], errors="coerce")
    out["invoice_date"] = parse_dates(frame["invoice_date"])
    out["unit_price"] = pd.to_numeric(frame["unit_price"], errors="coerce").astype(float)
    customer = pd.to_numeric(frame["customer_id"], errors="coerce")
    out["customer_id"] = customer.round().astype("Int64")
    out["country"] = _text(frame["country"]).str.strip()
    unparsable = (
        out["invoice"].isna()
        | out["stockcode"].isna()
        | out["quantity"].isna()
        | out["invoice_date"].isna()
        | out["unit_price"].isna()
        | out["country"].isna()
        | (out["quantity"] != out["quantity"].round())
        | (frame["customer_id"].notna() & customer.isna())
    )
    out["quantity"] = out["quantity"].where(~unparsable, 0).astype(np.int64)
    return out, unparsable


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


def parse_dates(values: pd.Series) -> pd.Series:
    if pd.api.types.is_datetime64_any_dtype(values):
        return values.astype("datetime64[ns]")
    if values.dtype == object and any(isinstance(v, pd.Timestamp | np.datetime64) for v in values.head(100)):
        return pd.to_datetime(values, errors="coerce").astype("datetime64[ns]")
    text = values.astype("string").str.strip()
    parsed = pd.Series(pd.NaT, index=values.index, dtype="datetime64[ns]")
    for fmt in DATE_FORMATS:
        todo = parsed.isna() & text.notna()
        if not todo.any():
            break
        parsed[todo] = pd.to_datetime(text[todo], format=fmt, errors="coerce")
    return parsed


def is_non_product(stockcode: pd.Series, description: pd.Series) -> pd.Series:
    code = stockcode.fillna("")
    by_code = code.isin(NON_PRODUCT_CODES) | ~code.str.match(_PRODUCT_CODE)
    by_description = description.fillna("").str.contains(_NON_PRODUCT_DESCRIPTION)
    return (by_code | by_description).astype(bool)


def clean(raw: RawRead, source: str = "") -> Cleaned:
    frame, unparsable = canonicalise(raw.frame)
    invoice = frame["invoice"].fillna("")
    reasons: dict[str, pd.Series] = {
        "unparsable_value": unparsable,
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
    dropped = {"malformed_line": len(raw.malformed_lines)}
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


def load(path: Path) -> Cleaned:
    return clean(read_raw(path), source=Path(path).name)
