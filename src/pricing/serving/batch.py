"""Batch pricing: a CSV of products in, one recommendation per row out, as JSON and as CSV.

The input has a `stockcode` column and, optionally, the API's other parameters as columns (`unitprice_min`,
`unitprice_max`, `num_price_bins`, `num_samples`, `country`, `customerid`, the rules: pricing.serving.request.
PARAMETERS); headers are matched ignoring case, spaces, underscores and hyphens (`StockCode` works). The header
goes through the API's own name check (request.check_parameter_names): a column that is a near miss of a
parameter (`ceilling`) or two columns that are one parameter (`floor` and `Floor`) refuse the file up front, in
the API's words, since pricing it would silently drop or pick a rule; any other column is ignored and listed as
such. Each row is parsed into the API's own PriceRequest by the API's own parser: a bad row (a bad value, more
fields than the header, a cell over MAX_CELL_CHARS) becomes an error line in the output (with its line number and
the reason, in the API's words) and the rest go on. Only a file that cannot be read as such a table at all (no
stockcode column, a header naming no parameter as meant, too large) is refused as a whole.

`pricing batch` runs it on local files; the Lambda runs it on `s3://BUCKET/batch/in/NAME.csv` and writes
`batch/out/NAME.json` and `batch/out/NAME.csv` beside.
"""

from __future__ import annotations

import csv
import io
import json
import logging
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

from pricing.config import Settings
from pricing.serving.decision_json import SUMMARY_FIELDS, summary, to_json
from pricing.serving.errors import NoContexts, NoUsableModel, RequestError, UnknownStockcode, error_message
from pricing.serving.predictor import Predictor
from pricing.serving.request import PARAMETER_NAMES, PriceRequest, check_parameter_names, parse_request

log = logging.getLogger(__name__)

IN_PREFIX = "batch/in/"
OUT_PREFIX = "batch/out/"
MAX_FILE_BYTES = 20 * 1024 * 1024
MAX_ROWS = 50_000
# The longest cell a row may hold (the csv module's own default field limit): a longer one is that row's error.
# The module's limit is raised to the file's so that such a cell never stops the reading of the whole file.
MAX_CELL_CHARS = 131_072
csv.field_size_limit(max(csv.field_size_limit(), MAX_FILE_BYTES))
COLUMNS = ("stockcode", *PARAMETER_NAMES)  # the columns read; any other is ignored
OUTPUT_FIELDS = (
    "line",
    "stockcode",
    "status",
    "error",
    *PARAMETER_NAMES,  # the request as parsed, every parameter of it
    *SUMMARY_FIELDS,  # the decision (pricing.serving.decision_json.summary)
)


class BatchFileError(ValueError):
    """The file as a whole cannot be priced; the message says why, in one line."""


@dataclass
class BatchReport:
    source: str
    bundle_version: str | None
    results: list[dict] = field(default_factory=list)
    ignored_columns: list[str] = field(default_factory=list)
    seconds: float = 0.0
    error: str | None = None  # set when the file as a whole was refused

    @property
    def rows_ok(self) -> int:
        return sum(r["status"] == "ok" for r in self.results)

    @property
    def rows_failed(self) -> int:
        return len(self.results) - self.rows_ok

    def summary(self) -> dict:
        summary = {
            "source": self.source,
            "bundle_version": self.bundle_version,
            "rows": len(self.results),
            "rows_ok": self.rows_ok,
            "rows_failed": self.rows_failed,
            "seconds": round(self.seconds, 3),
        }
        if self.error:
            summary["error"] = self.error
        return summary

    def to_json(self) -> bytes:
        document = {**self.summary(), "ignored_columns": self.ignored_columns, "results": self.results}
        return (json.dumps(document, indent=1) + "\n").encode()

    def to_csv(self) -> bytes:
        buffer = io.StringIO()
        # RFC 4180's line ends: with "\n" the csv module writes a cell holding a lone "\r" bare, splitting its row
        writer = csv.DictWriter(buffer, fieldnames=OUTPUT_FIELDS, extrasaction="ignore", lineterminator="\r\n")
        writer.writeheader()
        if self.error:
            writer.writerow({"status": "error", "error": spreadsheet_cell(self.error)})
        for result in self.results:
            writer.writerow({k: spreadsheet_cell(v) if isinstance(v, str) else v for k, v in result.items()})
        return buffer.getvalue().encode()


def spreadsheet_cell(text: str) -> str:
    """Text from the input file, made safe to open in a spreadsheet (no formula injection)."""
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text


# ---- reading ----------------------------------------------------------------------------------------
def decode(data: bytes) -> str:
    if len(data) > MAX_FILE_BYTES:
        raise BatchFileError(f"file is {len(data):,} bytes; the limit is {MAX_FILE_BYTES:,}: split it")
    try:
        return data.decode("utf-8-sig")  # the BOM a spreadsheet export may start with
    except UnicodeDecodeError:
        return data.decode("cp1252", errors="replace")  # the Online Retail files' own encoding


@dataclass(frozen=True)
class Table:
    """A user's table as the batch jobs read it (`read_table`): the header as written, the parameter each of its
    columns is (None: not a parameter), and every non-blank data row as (line number, cells, the row's error or
    None); a row's error is one the reader found (more fields than the header, a cell over MAX_CELL_CHARS, whose
    cells are then cut to 40 characters: the output echoes the row, not the cell)."""

    header: list[str]
    names: list[str | None]
    rows: list[tuple[int, list[str], str | None]]


def csv_records(text: str, delimiter: str = ","):
    """(line number, cells) for every record of CSV `text`, the header first; the line number is the record's last
    line (csv.reader.line_num). BatchFileError (one line, with the line) for text the csv module cannot read."""
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    try:
        for values in reader:
            yield reader.line_num, values
    except csv.Error as exc:
        raise BatchFileError(f"line {reader.line_num}: not readable as CSV ({exc})") from None


def read_table(records, columns: tuple[str, ...], required: str) -> Table:
    """The Table of `records` ((line number, cells), the header first: `csv_records`, or a sheet's rows), its header
    matched to `columns` by the API's own name check, loosely (request.check_parameter_names: case, spaces,
    underscores and hyphens ignored). Blank rows are left out.

    Raises BatchFileError (one line) for no header, a header column that is a near miss of one of `columns` or two
    columns that are one (in the API's words), no `required` column, more than MAX_ROWS rows, or what the records
    raise (csv_records: text the csv module cannot read)."""
    records = iter(records)
    first = next(records, None)
    if first is None:
        raise BatchFileError(f"the file is empty: expected a header with a {required} column")
    header = first[1]
    try:
        found = check_parameter_names([h.strip() for h in header], columns, loose=True)
    except RequestError as exc:
        raise BatchFileError(f"header: {exc}") from None
    names = [found.get(h.strip()) for h in header]
    if required not in names:
        raise BatchFileError(f"no {required} column in the header ({', '.join(h[:30] for h in header[:10])})")
    rows = []
    for line, values in records:
        if not any(v.strip() for v in values):
            continue  # blank lines
        if len(rows) >= MAX_ROWS:
            raise BatchFileError(f"more than {MAX_ROWS:,} rows: split the file")
        error = None
        longest = max(range(len(values)), key=lambda i: len(values[i]))
        if len(values) > len(header):
            error = f"{len(values)} fields where the header has {len(header)}"
        elif len(values[longest]) > MAX_CELL_CHARS:
            column = header[longest].strip()[:30] or f"column {longest + 1}"
            error = f"{column}: a cell of {len(values[longest]):,} characters; a cell holds at most {MAX_CELL_CHARS:,}"
            values = [value[:40] for value in values]  # the output echoes the row, not the cell
        rows.append((line, values, error))
    return Table(header, names, rows)


def read_rows(text: str) -> tuple[list[tuple[int, dict]], list[str]]:
    """(line number, {column: text}) for every data row, and the header's columns that are ignored.

    Raises BatchFileError (one line) for a file without a header or a stockcode column, a header column that is a
    near miss of a parameter or two columns that are one (in the API's words, request.check_parameter_names), more
    than MAX_ROWS rows, or text the csv module cannot read (read_table). A row with more fields than the header or a
    cell over MAX_CELL_CHARS carries its reason under `__error__` (price_rows reports it as that row's error)."""
    table = read_table(csv_records(text), COLUMNS, "stockcode")
    ignored = [h for h, name in zip(table.header, table.names, strict=True) if name is None]
    rows = []
    for line, values, error in table.rows:
        row = {name: value for name, value in zip(table.names, values, strict=False) if name is not None}
        if error is not None:
            row["__error__"] = error
        rows.append((line, row))
    return rows, ignored


# ---- pricing ----------------------------------------------------------------------------------------
def price_rows(
    predictor: Predictor, settings: Settings, rows: list[tuple[int, dict]], deadline: float | None = None
) -> list[dict]:
    """One result per row, in order, each validated by the API's own parser (pricing.serving.request). Identical
    requests are priced once. After `deadline` (time.monotonic) the remaining rows are reported as not priced
    rather than lost with the whole invocation."""
    done: dict[PriceRequest, dict] = {}
    results = []
    for line, row in rows:
        given = (row.get("stockcode") or "").strip()
        result = {"line": line, "stockcode": given}
        if deadline is not None and time.monotonic() > deadline:
            results.append({**result, "status": "error", "error": "not priced: out of time; split the file"})
            continue
        price_request = None
        try:
            if "__error__" in row:
                raise RequestError(row["__error__"])
            price_request = parse_request(given, row, settings, predictor.default_range)
            if price_request not in done:
                done[price_request] = _decide(predictor, price_request)
            fields = asdict(price_request)
            results.append({**result, **fields, "status": "ok", **done[price_request]})
        except (RequestError, UnknownStockcode, NoContexts, NoUsableModel) as exc:
            country = price_request.country if price_request is not None else None
            _, message = error_message(exc, stockcode=given, country=country)
            results.append({**result, "status": "error", "error": message})
    return results


def _decide(predictor: Predictor, price_request: PriceRequest) -> dict:
    return summary(to_json(predictor.decide(price_request)))


def price_file(
    predictor: Predictor, settings: Settings, data: bytes, source: str, deadline: float | None = None
) -> BatchReport:
    """Raises BatchFileError when the file as a whole cannot be read."""
    started = time.perf_counter()
    rows, ignored = read_rows(decode(data))
    results = price_rows(predictor, settings, rows, deadline)
    report = BatchReport(source, predictor.version, results, ignored, time.perf_counter() - started)
    log.info("batch %s: %s", source, report.summary())
    return report


# ---- local files (`pricing batch`) ------------------------------------------------------------------
def csv_path_beside(json_path: Path) -> Path:
    return json_path.with_suffix(".csv") if json_path.suffix.lower() != ".csv" else json_path.with_suffix(".out.csv")


def run_local(predictor: Predictor, settings: Settings, in_path: Path, out_path: Path) -> BatchReport:
    report = price_file(predictor, settings, Path(in_path).read_bytes(), str(in_path))
    out_path = Path(out_path)
    out_path.parent.mkdir(parents=True, exist_ok=True)
    out_path.write_bytes(report.to_json())
    csv_path_beside(out_path).write_bytes(report.to_csv())
    return report


# ---- S3 (the Lambda's batch trigger) ----------------------------------------------------------------
def output_keys(key: str) -> tuple[str, str] | None:
    """batch/in/NAME.csv -> (batch/out/NAME.json, batch/out/NAME.csv); None for any other key."""
    if not key.startswith(IN_PREFIX) or not key.lower().endswith(".csv") or len(key) <= len(IN_PREFIX) + 4:
        return None
    name = key[len(IN_PREFIX) : -len(".csv")]
    return f"{OUT_PREFIX}{name}.json", f"{OUT_PREFIX}{name}.csv"


def run_s3_object(
    predictor: Predictor, settings: Settings, client, bucket: str, key: str, deadline: float | None = None
) -> dict:
    """Price one uploaded file and write both outputs. A file refused as a whole still gets a report saying
    why (retrying the same bytes cannot help); S3 errors propagate, so Lambda retries them."""
    json_key, csv_key = output_keys(key) or (None, None)
    if json_key is None:
        raise ValueError(f"{key} is not a batch/in/*.csv key")
    source = f"s3://{bucket}/{key}"
    data = client.get_object(Bucket=bucket, Key=key)["Body"].read()
    try:
        report = price_file(predictor, settings, data, source, deadline)
    except BatchFileError as exc:
        log.error("batch %s refused: %s", source, exc)
        report = BatchReport(source, predictor.version, error=str(exc))
    client.put_object(Bucket=bucket, Key=json_key, Body=report.to_json(), ContentType="application/json")
    client.put_object(Bucket=bucket, Key=csv_key, Body=report.to_csv(), ContentType="text/csv; charset=utf-8")
    return {**report.summary(), "outputs": [f"s3://{bucket}/{json_key}", f"s3://{bucket}/{csv_key}"]}
