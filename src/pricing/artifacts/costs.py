"""Unit costs published with a bundle (`pricing publish --costs FILE`), for the profit objective.

The file: one row per product, a stock code column and a cost column (headers matched loosely: `stockcode`,
`StockCode`, `stock code`; `unit_cost`, `UnitCost`, `Unit Cost`, `cost`), costs in the data's currency per unit,
plain decimals. The forms people produce are read: CSV (comma, semicolon or tab separated) in UTF-8 with or
without a BOM, UTF-16 (Excel's "Unicode Text") or Windows-1252, plain or gzipped (`.csv.gz`), an `.xlsx`
workbook (openpyxl; the first sheet with both columns) and parquet; the form is told by the bytes, not the name. Text
is decoded by the transactions loader's own decoder (`pricing.encodings.decode`).

Every row is accounted for: kept, or dropped under its reason (DROP_REASONS: a row with more fields than the
header, a missing or unknown stock code, a second row for a code, a missing, unparsable, non-positive or
out-of-bounds cost), never fatal. A cost is read by the API's own check of `unit_cost` (pricing.serving.request),
so the file cannot publish a cost the API would refuse as a query, and the report carries the API's words for
each reason. Products without a cost are counted (they are answered as revenue until they have one). The file
as a whole is refused (CostFileError, one line) when it cannot be read, has no stock code or no cost column,
has two columns that could each be the one (`cost` beside `unit_cost`: a case cost, perhaps), or leaves no cost
at all: a version without costs is never published.

A bundle with costs is a new version: the bundle's files, `costs.parquet` and a manifest naming it (with the
validation report under `costs`), version `<bundle version>-c<8 hex digits of the costs>`, so answers that
depend on the costs are cached and published apart from the bundle's own.
"""

from __future__ import annotations

import csv
import gzip
import hashlib
import io
import json
import re
import zlib
from pathlib import Path

import numpy as np
import pandas as pd

from pricing.artifacts.bundle import MANIFEST, copy_bundle, open_bundle, sha256_of
from pricing.data.features import canonical_stockcode
from pricing.encodings import decode
from pricing.numbers import NumberError, parse_decimal
from pricing.serving.request import _price as api_price  # the API's own check of a price parameter

COSTS = "costs.parquet"
CODE_HEADERS = {"stockcode", "stock_code", "code"}
COST_HEADERS = {"unit_cost", "unitcost", "cost", "costprice", "cost_price"}
EXAMPLES = 5
# the reasons a row is dropped, in the order they are tested; a row counts under the first that applies
DROP_REASONS = (
    "malformed_row",
    "missing_stockcode",
    "unknown_stockcode",
    "duplicate_stockcode",
    "missing_cost",
    "unparsable_cost",
    "non_positive_cost",
    "cost_out_of_bounds",
)
_GZIP, _ZIP, _PARQUET, _OLE = b"\x1f\x8b", b"PK\x03\x04", b"PAR1", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
csv.field_size_limit(max(csv.field_size_limit(), 2**31 - 1))  # a long cell is its row's problem, not the file's


class CostFileError(ValueError):
    """The file as a whole cannot be read as costs (unreadable, no stock code or cost column, an ambiguous
    header, no usable cost in it); one line."""


def read_costs(data: bytes, products: pd.Index) -> tuple[pd.DataFrame, dict]:
    """(costs, report) from a cost file's bytes, in any of the module's forms. `products`: the bundle's stock
    codes. costs: columns stockcode, unit_cost (float, rounded as the API rounds a price), one row per known
    product, at least one. report: how the file was read (`read_as`), rows read, kept, dropped per reason with up
    to EXAMPLES stock codes each and the API's message for it (`messages`), products without a cost.

    Raises CostFileError when the file cannot be read, no column holds stock codes or costs, two columns could
    each be the stock code or the cost, or no row holds a usable cost (nothing to publish)."""
    header, rows, read_as = _table(data)
    code_column, cost_column = _columns(header)
    dropped: dict[str, list[str]] = {reason: [] for reason in DROP_REASONS}
    messages: dict[str, str] = {}
    known = set(products)
    kept: dict[str, float] = {}
    for line, values in rows:
        raw_code = values[code_column].strip() if code_column < len(values) else ""
        code = canonical_stockcode(raw_code)
        if len(values) > len(header):
            reason, cost = "malformed_row", 0.0
            message = f"line {line}: {len(values)} fields where the header has {len(header)}"
        else:
            raw_cost = values[cost_column].strip() if cost_column < len(values) else ""
            reason, cost, message = _check(code, raw_cost, known, kept)
        if reason is None:
            kept[code] = cost
            continue
        dropped[reason].append((code or raw_code)[:40])
        if message is not None:
            messages.setdefault(reason, message)
    costs = pd.DataFrame({"stockcode": list(kept), "unit_cost": list(kept.values())})
    report = {
        "read_as": read_as,
        "rows_read": len(rows),
        "kept": len(costs),
        "dropped": {reason: len(codes) for reason, codes in dropped.items()},
        "examples": {reason: codes[:EXAMPLES] for reason, codes in dropped.items() if codes},
        "messages": {reason: messages[reason] for reason in DROP_REASONS if reason in messages},
        "products_without_cost": len(known - set(kept)),
    }
    if costs.empty:
        if not rows:
            raise CostFileError("no rows under the header: the file holds no costs")
        reasons = ", ".join(f"{reason} {len(codes)}" for reason, codes in dropped.items() if codes)
        words = "; ".join(report["messages"].values())
        raise CostFileError(
            f"no row holds a usable cost: {len(rows)} read, dropped {reasons}" + (f" ({words})" if words else "")
        )
    return costs, report


def _check(code: str, text: str, known: set, kept: dict) -> tuple[str | None, float, str | None]:
    """(reason or None, cost, the API's message for the reason or None) for one row's stock code and cost."""
    if not code:
        return "missing_stockcode", 0.0, None
    if code not in known:
        return "unknown_stockcode", 0.0, None
    if code in kept:
        return "duplicate_stockcode", 0.0, None
    if not text:
        return "missing_cost", 0.0, None
    try:
        value = parse_decimal("unit_cost", text)
    except NumberError as exc:
        return "unparsable_cost", 0.0, str(exc)
    try:
        return None, api_price("unit_cost", text, 0.0), None
    except NumberError as exc:  # the API's bounds, in its words
        return ("non_positive_cost" if value <= 0 else "cost_out_of_bounds"), 0.0, str(exc)


def _columns(header: list[str]) -> tuple[int, int]:
    """The positions of the stock code and cost columns. CostFileError when either is missing or ambiguous."""
    codes = [i for i, name in enumerate(header) if _header(name) in CODE_HEADERS]
    costs = [i for i, name in enumerate(header) if _header(name) in COST_HEADERS]
    if not codes or not costs:
        raise CostFileError(
            f"costs need a stock code and a unit cost column; the header has {[h[:40] for h in header[:20]]}"
        )
    for found, what in ((codes, "the stock code"), (costs, "the unit cost")):
        if len(found) > 1:
            names = " and ".join(repr(header[i][:40]) for i in found)
            raise CostFileError(
                f"ambiguous header: columns {names} could each be {what}; keep one column (a case or pack cost is "
                "not a unit cost), or rename the other"
            )
    return codes[0], costs[0]


def _header(name: str) -> str:
    return re.sub(r"[\s-]+", "_", str(name).strip().lower())


# ---- reading the forms people produce -----------------------------------------------------------------------
def _table(data: bytes) -> tuple[list[str], list[tuple[int, list[str]]], dict]:
    """(header, [(line or sheet row number, cells as text)], how it was read) from a file's bytes; blank rows are
    left out. CostFileError for bytes that are none of the module's forms."""
    if data[:2] == _GZIP:
        try:
            data = gzip.decompress(data)
        except (OSError, EOFError, zlib.error) as exc:
            raise CostFileError(f"not a readable gzip file ({exc})") from None
    if data[:4] == _ZIP:
        return _workbook(data)
    if data[:8] == _OLE:
        raise CostFileError("an Excel 97-2003 workbook (.xls) is not read: save it as .xlsx or CSV")
    if data[:4] == _PARQUET:
        try:
            frame = pd.read_parquet(io.BytesIO(data))
        except Exception as exc:  # a damaged file: whatever pyarrow says, in one line
            raise CostFileError(f"not a readable parquet file ({str(exc).strip()[:200]})") from None
        rows = [(i + 2, [_cell_text(v) for v in row]) for i, row in enumerate(frame.itertuples(index=False))]
        return [str(c) for c in frame.columns], [r for r in rows if any(r[1])], {"format": "parquet"}
    text, encoding = _decode(data)
    first_line = text.split("\n", 1)[0]
    delimiter = max(",;\t", key=first_line.count)  # as the transactions loader decides it
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter, skipinitialspace=True)
    try:
        header = next(reader, None)
        rows = [(reader.line_num, values) for values in reader if any(v.strip() for v in values)]
    except csv.Error as exc:
        raise CostFileError(f"line {reader.line_num}: not readable as CSV ({exc})") from None
    if header is None or not any(h.strip() for h in header):
        raise CostFileError("the file is empty: expected a header with a stock code and a unit cost column")
    return header, rows, {"format": "csv", "encoding": encoding, "delimiter": delimiter}


def _decode(data: bytes) -> tuple[str, str]:
    """The transactions loader's decoder (pricing.encodings.decode: UTF-16, UTF-8 with or without a BOM,
    Windows-1252, latin-1), its one failure as a CostFileError."""
    try:
        return decode(data)
    except UnicodeDecodeError as exc:
        raise CostFileError(f"not readable as {exc.encoding.upper()} text ({exc.reason} at byte {exc.start})") from None


def workbook_tables(data: bytes, error: type[Exception]) -> list[tuple[tuple[int, list[str]], list, dict]]:
    """Every sheet of an xlsx workbook that holds a row, as text: ((header's sheet row number, header cells),
    [(sheet row number, cells)...], {"format": "xlsx", "sheet": name}), cells as `_cell_text` writes them (numbers in
    plain decimals, empty cells empty), trailing empty header cells dropped and each row cut to the header's width
    where the cells beyond it are empty. `error` (the caller's file error) for bytes openpyxl cannot read, one
    line. Shared by the cost file and `pricing launch` (pricing.serving.launch_batch)."""
    try:
        sheets = pd.read_excel(io.BytesIO(data), sheet_name=None, header=None, dtype=object, engine="openpyxl")
    except Exception as exc:  # a zip that is not a workbook, a damaged one: whatever openpyxl says, in one line
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise error(f"not a readable xlsx workbook ({first[:200]})") from None
    tables = []
    for name, sheet in sheets.items():
        sheet = sheet.dropna(how="all")
        if sheet.empty:
            continue
        cells = [[_cell_text(v) for v in row] for row in sheet.itertuples(index=False)]
        header = cells[0]
        while header and not header[-1]:  # openpyxl's width is the widest row's: trailing empty header cells
            header.pop()
        rows = [(int(i) + 1, _trim(v, len(header))) for i, v in zip(sheet.index[1:], cells[1:], strict=True)]
        tables.append(((int(sheet.index[0]) + 1, header), rows, {"format": "xlsx", "sheet": str(name)}))
    return tables


def _workbook(data: bytes) -> tuple[list[str], list[tuple[int, list[str]]], dict]:
    """The first sheet of an xlsx workbook whose header has a stock code and a cost column (else the first with
    rows, which _columns then refuses naming its header); sheet row numbers as line numbers."""
    tables = [(header, rows, read_as) for (_, header), rows, read_as in workbook_tables(data, CostFileError)]
    if not tables:
        raise CostFileError("the workbook holds no rows")
    named = [t for t in tables if any(_header(h) in CODE_HEADERS for h in t[0])]
    both = [t for t in named if any(_header(h) in COST_HEADERS for h in t[0])]
    return (both or named or tables)[0]


def _trim(values: list[str], width: int) -> list[str]:
    """A sheet row cut to the header's width where the cells beyond it are empty (a sheet has no field count)."""
    return values[:width] if not any(v for v in values[width:]) else values


def _cell_text(value) -> str:
    """A workbook cell as the text a CSV would hold: numbers in plain decimals (1e-05 is 0.00001, 22423.0 is
    22423), empty cells empty."""
    if value is None or (isinstance(value, float) and np.isnan(value)):
        return ""
    if isinstance(value, float):
        return np.format_float_positional(value, trim="-")
    return str(value).strip()


def with_costs(bundle_dir: Path, costs: pd.DataFrame, report: dict, source: str) -> Path:
    """A copy of the bundle in a new temporary folder with `costs.parquet` and a manifest listing it (version
    `<version>-c<digest>`, the validation `report` and the file's `source` under `costs`). The caller publishes
    and removes it."""
    bundle = open_bundle(bundle_dir)
    target = copy_bundle(bundle, "bundle-costs-")
    costs.sort_values("stockcode").to_parquet(target / COSTS, index=False)
    digest = hashlib.sha256(costs.sort_values("stockcode").to_csv(index=False).encode()).hexdigest()[:8]
    base = re.sub(r"-c[0-9a-f]{8}$", "", bundle.version)  # costs replace costs: one suffix, never two
    manifest = dict(bundle.manifest)
    manifest["version"] = f"{base}-c{digest}"
    manifest["files"] = {**manifest["files"], COSTS: sha256_of(target / COSTS)}
    manifest["costs"] = {"source": source, **report}
    (target / MANIFEST).write_text(json.dumps(manifest, indent=2) + "\n")
    return target
