"""Launch prices for a file of new products (`pricing launch --in FILE --out OUT`; issue 26, Build 1): one
`GET /v1/launch-decision` answer per row, as JSON and as CSV.

The input is a table with a `description` column and, optionally, the launch parameters `unit_cost`,
`reference_price` and `country` (request.LAUNCH_PARAMETERS); headers are matched as `pricing batch` matches them
(batch.read_table: case, spaces, underscores and hyphens ignored, a near miss of a parameter or two columns that
are one refuse the file in the API's words). Every other column (the shop's new SKU, a note) is carried through
to the output unchanged, under its header. It is read in the forms the project already reads user files in: CSV
(comma, semicolon or tab separated, told from the header line as pricing.data.load and pricing.artifacts.costs
tell it) in any encoding pricing.encodings.decode reads (UTF-8 with or without a BOM, UTF-16, Windows-1252,
latin-1), or an xlsx workbook (pandas with openpyxl, cells as pricing.artifacts.costs reads them: the first sheet
with a description column). The limits are the batch job's (batch.MAX_FILE_BYTES, MAX_ROWS, MAX_CELL_CHARS).

Each row is parsed by the API's own parser (request.parse_launch) and priced by the API's own function
(launch.launch_decision over one similarity index for the whole run, launch.catalogue_index), so a row gets the
answer and the words the API would give it: a bad row (an empty or one-word description, `unit_cost` "abc", a
country without held-out contexts, more fields than the header) becomes an `error` row naming the parameter,
and the rest go on. Only a file that cannot be read as such a table (unreadable, no description column, a near
miss in the header, a carried column named like an output column, too large) is refused as a whole, and then
nothing is written. Both outputs are written to temporary files beside their targets and renamed into place.
"""

from __future__ import annotations

import csv
import io
import json
import os
import re
import tempfile
import time
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path

from pricing.encodings import decode
from pricing.serving.batch import (
    MAX_FILE_BYTES,
    BatchFileError,
    csv_path_beside,
    csv_records,
    read_table,
    spreadsheet_cell,
)
from pricing.serving.errors import NoContexts, NoUsableModel, RequestError, error_message
from pricing.serving.request import LAUNCH_NAMES, MAX_DESCRIPTION_CHARS, LaunchRequest, parse_launch

# The output CSV's own columns, after the carried ones (README, `pricing launch`)
OUTPUT_COLUMNS = (
    "line",
    "description",
    "decision",
    "launch_price",
    "interval_low",
    "interval_high",
    "reference_price",
    "reference_source",
    "probability_beats_reference",
    "arms",
    "expected_test_cost",
    "neighbours",
    "decision_reason",
    "error",
)
ERROR = "error"  # the decision of a row that could not be priced
MALFORMED_ROW = "malformed_row"  # the summary's reason for a row the reader could not split into the header's cells
_ZIP, _OLE = b"PK\x03\x04", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"  # an xlsx workbook, an Excel 97-2003 one


@dataclass(frozen=True)
class LaunchRow:
    """One data row: its line number (a CSV record's last line, a sheet's row number), the carried columns'
    cells by output name, the launch parameters' cells by parameter name, and the reader's reason it cannot be
    read (None when it can)."""

    line: int
    carried: dict[str, str]
    values: dict[str, str]
    error: str | None = None


@dataclass(frozen=True)
class LaunchTable:
    """A launch file as read: the carried columns' output names in the file's order, the rows, how it was read."""

    carried: list[str]
    rows: list[LaunchRow]
    read_as: dict


# ---- reading ----------------------------------------------------------------------------------------------------
def read_launch_file(data: bytes) -> LaunchTable:
    """The LaunchTable of a file's bytes (module docstring: the forms read, the header rules).

    Raises BatchFileError (one line) when the file is over batch.MAX_FILE_BYTES, is an Excel 97-2003 workbook or
    an unreadable xlsx one, is not text in any encoding read, has no description column, a header column that is a
    near miss of a launch parameter or two columns that are one (request.check_parameter_names' words), a carried
    column whose name is one of OUTPUT_COLUMNS (ignoring case and separators) or is given twice, or more than
    batch.MAX_ROWS rows."""
    if len(data) > MAX_FILE_BYTES:
        raise BatchFileError(f"file is {len(data):,} bytes; the limit is {MAX_FILE_BYTES:,}: split it")
    if data[:8] == _OLE:
        raise BatchFileError("an Excel 97-2003 workbook (.xls) is not read: save it as .xlsx or CSV")
    if data[:4] == _ZIP:
        records, read_as = _workbook_records(data)
    else:
        try:
            text, encoding = decode(data)
        except UnicodeDecodeError as exc:
            raise BatchFileError(f"not readable as {exc.encoding.upper()} text ({exc.reason})") from None
        first_line = text.split("\n", 1)[0]
        # as the transactions loader (pricing.data.load) and the cost file decide it: no header name holds one
        delimiter = max(",;\t", key=first_line.count)
        records, read_as = csv_records(text, delimiter), {"format": "csv", "encoding": encoding, "delimiter": delimiter}
    table = read_table(records, LAUNCH_NAMES, "description")
    carried = _carried_names(table.header, table.names)
    rows = []
    for line, values, error in table.rows:
        cells = dict(enumerate(values))
        given = {name: cells[i] for i, name in enumerate(table.names) if name is not None and i in cells}
        kept = {name: cells.get(i, "") for i, name in carried.items()}  # a short row: its missing cells are blank
        rows.append(LaunchRow(line, kept, given, error))
    return LaunchTable(list(carried.values()), rows, read_as)


def _carried_names(header: list[str], names: list[str | None]) -> dict[int, str]:
    """{column position: output name} of the columns that are no launch parameter: the header as written (stripped),
    `column_N` (1-based) for an empty one. BatchFileError for a name the output already has or one given twice:
    either would put two columns under one name in the CSV."""

    own = {_reduced(c): c for c in OUTPUT_COLUMNS}
    carried: dict[int, str] = {}
    for i, (written, name) in enumerate(zip(header, names, strict=True)):
        if name is not None:
            continue
        label = written.strip() or f"column_{i + 1}"
        if _reduced(label) in own:
            raise BatchFileError(
                f"header: column {label[:40]!r} has the name of the output's {own[_reduced(label)]!r} column; "
                "rename it (the output's columns: " + ", ".join(OUTPUT_COLUMNS) + ")"
            )
        if label in carried.values():
            raise BatchFileError(f"header: two columns named {label[:40]!r}; rename one")
        carried[i] = label
    return carried


def _workbook_records(data: bytes) -> tuple[list[tuple[int, list[str]]], dict]:
    """(sheet row number, cells as text) of an xlsx workbook's first sheet with a description column (else its
    first sheet with rows, which read_table then refuses naming the header), the header first; cells as the cost
    file reads them (pricing.artifacts.costs: numbers in plain decimals, empty cells empty)."""
    from pricing.artifacts.costs import workbook_tables

    tables = [([header, *rows], read_as) for header, rows, read_as in workbook_tables(data, BatchFileError)]
    if not tables:
        raise BatchFileError("the workbook holds no rows: expected a header with a description column")
    described = [t for t in tables if "description" in {_reduced(h) for h in t[0][0][1]}]
    return (described or tables)[0]


def _reduced(name: str) -> str:
    """A header name as request.check_parameter_names matches it loosely: lower case, no spaces, _ or -."""
    return re.sub(r"[\s_-]+", "", name).lower()


# ---- pricing ----------------------------------------------------------------------------------------------------
def api_decider(predictor, samples: int | None = None) -> Callable[[LaunchRequest], dict]:
    """The API's answer for a launch request (the body GET /v1/launch-decision returns: launch.to_json, or
    launch.no_similar_json when no description is similar enough), over one similarity index fitted once
    (launch.catalogue_index). `samples`: held-out contexts per neighbour curve (None: launch_decision's default).
    The function raises what launch_decision raises (NoContexts, NoUsableModel)."""
    from pricing.serving import launch

    index = launch.catalogue_index(predictor)

    def decide(request: LaunchRequest) -> dict:
        decided = launch.launch_decision(predictor, request, index=index, samples=samples)
        return launch.no_similar_json(request, index) if decided is None else launch.to_json(decided)

    return decide


def launch_rows(rows: Iterable[LaunchRow], decide: Callable[[LaunchRequest], dict], progress: bool = True) -> list:
    """One result per row, in order: {"line", "input" (the carried cells), **the API's body} for a row priced or
    found to have no similar product; {"line", "input", "description", "decision": "error", "error" (the API's
    message), "error_reason" (the launch parameter it names, MALFORMED_ROW, or no_usable_model)} for one that
    cannot be. Identical requests are decided once. `progress`: a tqdm bar over the rows, on stderr."""
    rows = list(rows)
    if progress:
        from tqdm import tqdm  # the batch job's package, not serving's (tests/integration/test_serving_imports.py)

        rows = tqdm(rows, desc="launch prices", unit="row")
    done: dict[LaunchRequest, dict] = {}
    results = []
    for row in rows:
        head = {"line": row.line, "input": row.carried}
        if row.error is not None:
            results.append({**head, **_error(row.values.get("description"), row.error, MALFORMED_ROW)})
            continue
        try:
            request = parse_launch(row.values)
        except RequestError as exc:
            results.append({**head, **_error(row.values.get("description"), str(exc), _named(str(exc)))})
            continue
        if request not in done:
            try:
                done[request] = decide(request)
            except (NoContexts, NoUsableModel) as exc:  # the request's or the bundle's: the same for a repeat
                _, message = error_message(exc, country=request.country)
                reason = "no_usable_model" if isinstance(exc, NoUsableModel) else _named(message)
                done[request] = _error(request.description, message, reason)
        results.append({**head, **done[request]})
    return results


def _named(message: str) -> str:
    """The launch parameter an API message names (its words start `name: ...`), else "request"."""
    name = message.split(":", 1)[0]
    return name if name in LAUNCH_NAMES else "request"


def _error(description: str | None, message: str, reason: str) -> dict:
    """An error row's answer: the description as given (its first MAX_DESCRIPTION_CHARS), the message, the reason."""
    given = (description or "").strip()[:MAX_DESCRIPTION_CHARS]
    return {"description": given, "decision": ERROR, "error": message, "error_reason": reason}


# ---- the report ---------------------------------------------------------------------------------------------------
@dataclass
class LaunchReport:
    """A priced launch file: where it came from, the bundle, the carried columns, one result per row (launch_rows),
    how it was read and how long it took (seconds)."""

    source: str
    bundle_version: str | None
    carried: list[str]
    results: list[dict] = field(default_factory=list)
    read_as: dict = field(default_factory=dict)
    seconds: float = 0.0

    def summary(self) -> dict:
        """rows, priced (decision test), no_similar, errors and errors_by_reason ({reason: rows})."""
        decisions = Counter(r["decision"] for r in self.results)
        reasons = Counter(r["error_reason"] for r in self.results if r["decision"] == ERROR)
        return {
            "source": self.source,
            "bundle_version": self.bundle_version,
            "rows": len(self.results),
            "priced": decisions["test"],
            "no_similar": decisions["no_similar_product"],
            "errors": decisions[ERROR],
            "errors_by_reason": dict(sorted(reasons.items())),
            "seconds": round(self.seconds, 3),
        }

    def to_json(self) -> bytes:
        """The report: the summary, how the file was read, and each row's answer without its curves (`curve` and
        each neighbour's `units`: about 50 KB a row, 2.5 GB at MAX_ROWS; GET /v1/launch-decision answers them)."""
        document = {**self.summary(), "read_as": self.read_as, "carried_columns": self.carried}
        results = [_without_curves(r) for r in self.results]
        return (json.dumps({**document, "results": results}, indent=1) + "\n").encode()

    def to_csv(self) -> bytes:
        buffer = io.StringIO()
        # RFC 4180's line ends (the csv module's default): the writer then quotes a carried cell holding a lone
        # "\r", which with "\n" line ends it writes bare, splitting the row in two for any reader
        writer = csv.DictWriter(buffer, fieldnames=[*self.carried, *OUTPUT_COLUMNS], lineterminator="\r\n")
        writer.writeheader()
        for result in self.results:
            row = {**result["input"], **csv_fields(result)}
            writer.writerow({k: spreadsheet_cell(v) if isinstance(v, str) else v for k, v in row.items()})
        return buffer.getvalue().encode()


def _without_curves(result: dict) -> dict:
    """A row's answer without the launch curve and the neighbours' curves (LaunchReport.to_json)."""
    slim = {k: v for k, v in result.items() if k != "curve"}
    if slim.get("neighbours"):
        slim["neighbours"] = [{k: v for k, v in n.items() if k != "units"} for n in slim["neighbours"]]
    return slim


def csv_fields(result: dict) -> dict:
    """OUTPUT_COLUMNS of one result: the launch price, its interval (low, high), the reference price and its source,
    probability_beats_reference, the arms and the neighbours (stockcode:similarity) each joined by ";", the test's
    expected cost over its weeks; blank where the decision has none (no_similar_product, error)."""
    fields = {name: result.get(name) for name in ("line", "description", "decision", "decision_reason", "error")}
    if result["decision"] != "test":
        return fields
    low, high = result["interval"]["price"]
    return {
        **fields,
        "launch_price": result["recommended"]["price"],
        "interval_low": low,
        "interval_high": high,
        "reference_price": result["reference"]["price"],
        "reference_source": result["reference"]["source"],
        "probability_beats_reference": result["probability_beats_reference"],
        "arms": ";".join(f"{arm:.2f}" for arm in result["test"]["arms"]),
        "expected_test_cost": result["test"]["expected_cost"],
        "neighbours": ";".join(f"{n['stockcode']}:{n['similarity']:.4f}" for n in result["neighbours"]),
    }


def price_launch_table(
    table: LaunchTable, decide: Callable[[LaunchRequest], dict], source: str, bundle_version: str | None
) -> LaunchReport:
    """The LaunchReport of a table read by read_launch_file, each row decided by `decide` (api_decider)."""
    started = time.perf_counter()
    results = launch_rows(table.rows, decide)
    return LaunchReport(source, bundle_version, table.carried, results, table.read_as, time.perf_counter() - started)


def write_report(report: LaunchReport, out_path: Path) -> tuple[Path, Path]:
    """Write the JSON report at `out_path` and the CSV beside it (batch.csv_path_beside, as `pricing batch`
    does): each to a temporary file in its folder first, renamed into place once both are whole, so a failure
    leaves no half-written output. The two paths written."""
    out_path = Path(out_path)
    csv_path = csv_path_beside(out_path)
    out_path.parent.mkdir(parents=True, exist_ok=True)
    staged = []
    try:
        for path, body in ((out_path, report.to_json()), (csv_path, report.to_csv())):
            handle, temporary = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
            staged.append(temporary)
            with os.fdopen(handle, "wb") as out:
                out.write(body)
            os.chmod(temporary, 0o666 & ~_umask())  # mkstemp's 0600 is for the temporary, not the output
        for temporary, path in zip(staged, (out_path, csv_path), strict=True):
            os.replace(temporary, path)
    finally:
        for temporary in staged:
            if os.path.exists(temporary):
                os.unlink(temporary)
    return out_path, csv_path


def _umask() -> int:
    """The process's umask (os.umask only reads it by setting it: set it back at once)."""
    mask = os.umask(0o022)
    os.umask(mask)
    return mask
