"""`pricing prepare`'s relational work on an engine (pricing.data.engine), for inputs larger than memory (issue 27).

The same steps as the in-memory path (pricing.data.load, pricing.data.prepare, pricing.data.features), written once
as SQL in DuckDB's dialect, run by DuckDB in-process or, translated by sqlglot, by Apache Spark:

1. read: each file of the input into an all-text table (a CSV in any encoding today's reader takes, transcoded to
   UTF-8 first when it is not; a workbook through pandas, as today; parquet by the engine), malformed lines
   counted;
2. type: the canonical columns parsed as `load.canonicalise` does (dates decided day-first or month-first for
   the whole input from its distinct date texts; stock codes canonicalised by `canonical_stockcode` over the
   distinct codes);
3. clean: each row's first drop reason of `load.DROP_REASONS`, then duplicates;
4. split: the windows `prepare.choose_windows` picks, from the rows per distinct invoice time;
5. products: the training window's per-product statistics and price ladder (`features.finish_product_table`,
   `list_price.break_quantities_from_counts` on the engine's counts);
6. customers' history (per customer and month; per customer and invoice time) and each line's day list price
   (`list_price.line_list_prices`'s rule: the known customers' implied list, the guests' over the guest factor,
   the last known carried, the pooled guest factor);
7. the per-line feature tables, written by the engine as parquet.

pandas sees only what is aggregated: distinct date texts and stock codes, rows per invoice time, per-product
statistics, per (product, quantity) counts, the report's counts. tests/unit/data/test_prepare_golden.py holds
DuckDB's outputs to the in-memory path's recorded ones (tests/fixtures/prepare_golden), test_prepare_spark.py
Spark's, and test_prepare_engine.py DuckDB's to the in-memory path's on twelve forms of a file.
"""

from __future__ import annotations

import codecs
from pathlib import Path

import numpy as np
import pandas as pd

from pricing.data import features as F
from pricing.data import load as L
from pricing.data.list_price import LADDER_COLUMNS, MIN_BREAK_SEPARATION, MIN_GUEST_LINES, break_quantities_from_counts
from pricing.data.sources import SourceFile, scratch_folder
from pricing.encodings import data_stream

# the feature tables' columns and the dtypes pandas reads them back with (today's tables', held by the golden test)
LINE_DTYPES = {
    **dict.fromkeys(F.NUMERIC_FEATURES, "float64"),
    "country": "str",
    "weekday": "str",
    "stockcode": "str",
    F.TARGET: "float64",
    "invoice_date": "datetime64[ns]",
    "customer_id": "Int64",
    "quantity": "int64",
}
_TEXT_COLUMNS = list(L.CANONICAL)
_DAY_MONTH_SQL = (
    r"^([0-9]{1,2})([/.-])([0-9]{1,2})([/.-])([0-9]{4}|[0-9]{2})"
    r"(?:[ T]+([0-9]{1,2}):([0-9]{2})(?::([0-9]{2}))?)?$"
)  # load._DAY_MONTH without its back-reference (RE2 and Java differ there): the two separators are compared
_ISO_SQL = r"^[0-9]{4}-[0-9]{1,2}-[0-9]{1,2}(?:[ T][0-9]{1,2}:[0-9]{2}(?::[0-9]{2}(?:\.[0-9]+)?)?)?$"
# a mean summed as exact decimals, so the same on every run: a float sum over parallel threads moves its last
# digits with the threads' order (a user saw the report's fill_log_quantity change between two runs)
EXACT_MEAN = "CAST(avg(CAST({} AS DECIMAL(38, 18))) AS DOUBLE)"
_PRODUCT_CODE_SQL = r"^[0-9]{5}[A-Z]{0,3}$"  # load._PRODUCT_CODE on the upper-cased canonical code


def _lit(text: str) -> str:
    return "'" + str(text).replace("'", "''") + "'"


def _ts(value: pd.Timestamp) -> str:
    return f"CAST({_lit(pd.Timestamp(value).isoformat(sep=' '))} AS TIMESTAMP)"


# -- 1. read ---------------------------------------------------------------------------------------------------------
def read(engine, source, date_order: str | None) -> dict:
    """Every file of `source` (a file, a folder or a glob, as `load.read_raw`; as the engine sees them,
    `engine.files`: a URI on Spark) into the engine's table `raw`: columns load.CANONICAL as text and `date_cell` (a
    workbook's date cells). Returns the report's reading part: rows_read, malformed line numbers (none from Spark,
    which keeps none) and their count, source columns, details. DataError as `load.read_raw`, naming the file of a
    folder that cannot be read (nothing is written)."""
    if date_order is not None and date_order not in L.DATE_ORDERS:
        raise ValueError(f"date_order must be one of {L.DATE_ORDERS} or None, got {date_order!r}")
    files, many = engine.files(source)
    parts, malformed, details, columns, shared = [], [], {}, {}, 0
    for i, file in enumerate(files):
        try:
            part = _read_one(engine, file, f"raw_{i}")
        except L.DataError as exc:
            if not many:
                raise
            raise L.DataError(
                f"cannot read {source}: {file.name}: {str(exc).removeprefix(f'cannot read {file.location}: ')}"
            ) from exc
        except Exception as exc:  # the engine's parser failing on the file: the one-line reason the CLI prints
            message = f"{type(exc).__name__}: {str(exc).splitlines()[0] if str(exc) else ''}"
            raise L.DataError(
                f"cannot read {source}: {file.name}: {message}" if many else f"cannot read {file.location}: {message}"
            ) from exc
        parts.append(part)
        columns = columns or part["source_columns"]
        shared += part["details"].get("shared_between_sheets", 0)
        malformed += [f"{file.name}:{n}" for n in part["malformed"]] if many else part["malformed"]
        details[file.name] = {"rows_read": part["rows_read"], **part["details"]}
    engine.create("raw", " UNION ALL ".join(f"SELECT * FROM raw_{i}" for i in range(len(files))))
    if many:
        read_details = {"format": "folder", "files": details, "shared_between_sheets": shared}
    else:
        read_details = {k: v for k, v in details[files[0].name].items() if k != "rows_read"}
    read_details["date_order"] = date_order
    return {
        "rows_read": sum(p["rows_read"] for p in parts),
        "malformed": malformed,
        "malformed_count": sum(p["malformed_count"] for p in parts),
        "source_columns": columns,
        "details": read_details,
    }


def _canonical_select(source: str, mapping: dict[str, str], date_cell: str = "CAST(NULL AS TIMESTAMP)") -> str:
    """SELECT of the canonical text columns from a table whose columns are the file's own names."""
    by_canonical = {canonical: name for name, canonical in mapping.items()}
    items = [f'CAST("{by_canonical[c]}" AS VARCHAR) AS {c}' for c in _TEXT_COLUMNS]
    return f"SELECT {', '.join(items)}, {date_cell} AS date_cell FROM {source}"


def _mapping(names: list[str], where: str) -> tuple[dict[str, str], dict[str, str]]:
    """file column -> canonical name (`load.column_mapping`; `where` names the file in its error), and canonical ->
    the file's name."""
    mapping = L.column_mapping(names, where)
    return mapping, {canonical: name for name, canonical in mapping.items()}


def _read_one(engine, file: SourceFile, table: str) -> dict:
    suffix = file.suffix
    if suffix in (".xlsx", ".xlsm", ".xls"):
        # a workbook holds at most a million rows a sheet: read in Python, as today (the DuckDB excel extension
        # downloads itself at run time, which a closed machine cannot do); one on a cluster's file system is copied
        with scratch_folder() as folder:
            raw = L._read_workbook(file.local_copy(Path(folder)))
        engine.register(f"{table}_cells", _workbook_text(raw.frame))
        engine.create(table, f"SELECT {', '.join(_TEXT_COLUMNS)}, date_cell FROM {table}_cells")
        return {
            "rows_read": raw.rows_read,
            "malformed": [],
            "malformed_count": 0,
            "source_columns": raw.source_columns,
            "details": raw.details,
        }
    if suffix == ".parquet":
        engine.read_parquet(f"{table}_file", file.location)
        names = list(engine.frame(f"SELECT * FROM {table}_file LIMIT 0").columns)
        mapping, columns = _mapping(names, file.location)
        kinds = engine.frame(f"DESCRIBE SELECT * FROM {table}_file") if engine.name == "duckdb" else None
        date_name = columns["invoice_date"]
        typed_date = kinds is not None and "TIMESTAMP" in str(
            kinds.set_index("column_name").loc[date_name, "column_type"]
        )
        cell = f'CAST("{date_name}" AS TIMESTAMP)' if typed_date else "CAST(NULL AS TIMESTAMP)"
        select = _canonical_select(f"{table}_file", mapping, cell)
        if typed_date:
            select = select.replace(
                f'CAST("{date_name}" AS VARCHAR) AS invoice_date', "CAST(NULL AS VARCHAR) AS invoice_date"
            )
        engine.create(table, select)
        rows = int(engine.frame(f"SELECT count(*) AS n FROM {table}").n.iat[0])
        details = {"format": "parquet"}
        return {"rows_read": rows, "malformed": [], "malformed_count": 0, "source_columns": columns, "details": details}
    return _read_csv(engine, file, table)


def _workbook_text(frame: pd.DataFrame) -> pd.DataFrame:
    """A workbook's cells as the text the CSV path reads (numbers of the code columns without '.0', as
    `load._text`), the date cells in a column of their own."""
    out = pd.DataFrame(index=frame.index)
    for column in _TEXT_COLUMNS:
        values = frame[column]
        if column == "invoice_date":
            cells = values.map(lambda v: isinstance(v, (pd.Timestamp, np.datetime64)) or hasattr(v, "year"))
            out["date_cell"] = pd.to_datetime(values.where(cells), errors="coerce")
            values = values.where(~cells, None)
        text = L._text(values, numeric_as_int=column in ("invoice", "stockcode", "customer_id"))
        out[column] = text.astype(object).where(text.notna(), None)
    return out[[*_TEXT_COLUMNS, "date_cell"]]


def _read_csv(engine, file: SourceFile, table: str) -> dict:
    encoding, gzipped = engine.encoding_of(file)
    with data_stream(file.open, gzipped) as handle:
        head = handle.read(1 << 16)
    delimiter, header = L.sniff_header(codecs.decode(head, encoding, errors="replace").lstrip("\ufeff"))
    mapping, columns = _mapping(header, file.location)
    count, numbers = engine.read_csv(f"{table}_file", file, delimiter, header, encoding, gzipped)
    engine.create(table, _canonical_select(f"{table}_file", mapping))
    rows = int(engine.frame(f"SELECT count(*) AS n FROM {table}").n.iat[0])
    details = {"format": "csv", "encoding": encoding, "delimiter": delimiter}
    return {
        "rows_read": rows + count,
        "malformed": numbers,
        "malformed_count": count,
        "source_columns": columns,
        "details": details,
    }


# -- 2. type ---------------------------------------------------------------------------------------------------------
def _dates(engine, date_order: str | None, column: str) -> str:
    """Table `dates` (text -> parsed timestamp) over the distinct date texts; the convention string."""
    engine.create(
        "date_texts",
        f"""SELECT d,
            regexp_matches(d, {_lit(_ISO_SQL)}) AS iso,
            regexp_extract(d, {_lit(_DAY_MONTH_SQL)}, 1) AS a,
            regexp_extract(d, {_lit(_DAY_MONTH_SQL)}, 2) AS s1,
            regexp_extract(d, {_lit(_DAY_MONTH_SQL)}, 3) AS b,
            regexp_extract(d, {_lit(_DAY_MONTH_SQL)}, 4) AS s2,
            regexp_extract(d, {_lit(_DAY_MONTH_SQL)}, 5) AS y,
            regexp_extract(d, {_lit(_DAY_MONTH_SQL)}, 6) AS hh,
            regexp_extract(d, {_lit(_DAY_MONTH_SQL)}, 7) AS mi,
            regexp_extract(d, {_lit(_DAY_MONTH_SQL)}, 8) AS ss
        FROM (SELECT DISTINCT trim(invoice_date) AS d FROM raw WHERE date_cell IS NULL AND invoice_date IS NOT NULL)""",
    )
    dm = "NOT iso AND a <> '' AND s1 = s2"
    kinds = engine.frame(
        f"""SELECT
            (SELECT count(*) FROM raw WHERE date_cell IS NOT NULL) AS cells,
            count(CASE WHEN iso THEN 1 END) AS iso,
            count(CASE WHEN {dm} THEN 1 END) AS dm,
            min(CASE WHEN {dm} AND CAST(a AS INTEGER) > 12 THEN d END) AS first_over,
            min(CASE WHEN {dm} AND CAST(b AS INTEGER) > 12 THEN d END) AS second_over,
            min(CASE WHEN {dm} THEN d END) AS example
        FROM date_texts"""
    ).iloc[0]
    conventions = []
    if kinds["cells"]:
        conventions.append("date cells")
    if kinds["iso"]:
        conventions.append("ISO")
    dayfirst = False
    if kinds["dm"]:
        order = date_order or L.decide_order(
            _none(kinds["first_over"]), _none(kinds["second_over"]), str(kinds["example"]), column
        )
        dayfirst = order == "dayfirst"
        conventions.append("day-first" if dayfirst else "month-first")
    day, month = ("a", "b") if dayfirst else ("b", "a")
    year = (  # strptime's %y: 69-99 are 1969-1999, 00-68 are 2000-2068
        "CASE WHEN length(y) = 4 THEN CAST(y AS INTEGER) WHEN CAST(y AS INTEGER) < 69 THEN 2000 + CAST(y AS INTEGER) "
        "ELSE 1900 + CAST(y AS INTEGER) END"
    )

    def two(x: str) -> str:
        return f"lpad(CAST(CAST(CASE WHEN {x} = '' THEN '0' ELSE {x} END AS INTEGER) AS VARCHAR), 2, '0')"

    stamp = (
        f"lpad(CAST({year} AS VARCHAR), 4, '0') || '-' || {two(month)} || '-' || {two(day)} || ' ' || "
        f"{two('hh')} || ':' || {two('mi')} || ':' || {two('ss')}"
    )
    engine.create(
        "dates",
        f"""SELECT d, CASE
                WHEN iso THEN TRY_CAST(replace(d, 'T', ' ') AS TIMESTAMP)
                WHEN {dm} THEN TRY_CAST({stamp} AS TIMESTAMP)
            END AS parsed
        FROM date_texts""",
    )
    return " and ".join(conventions) or "none"


def _none(value):
    return None if value is None or (isinstance(value, float) and np.isnan(value)) or value is pd.NA else str(value)


def type_rows(engine, date_order: str | None, date_column: str) -> str:
    """Table `typed`: the canonical typed columns (as `load.canonicalise`) and one flag per column that failed to
    parse. Returns the date convention."""
    convention = _dates(engine, date_order, date_column)
    codes = engine.frame("SELECT DISTINCT trim(stockcode) AS raw_code FROM raw WHERE stockcode IS NOT NULL")
    codes["stockcode"] = [F.canonical_stockcode(c) for c in codes["raw_code"]]
    engine.register("codes", codes)
    engine.create(
        "typed",
        """WITH parsed AS (
            SELECT trim(r.invoice) AS invoice, c.stockcode,
                nullif(trim(r.description), '') AS description,
                TRY_CAST(trim(r.quantity) AS DOUBLE) AS q,
                coalesce(r.date_cell, d.parsed) AS invoice_date,
                TRY_CAST(trim(r.unit_price) AS DOUBLE) AS p,
                r.customer_id AS customer_text,
                TRY_CAST(trim(r.customer_id) AS DOUBLE) AS c,
                trim(r.country) AS country
            FROM raw r
            LEFT JOIN codes c ON trim(r.stockcode) = c.raw_code
            LEFT JOIN dates d ON trim(r.invoice_date) = d.d
        ), flagged AS (
            SELECT *,
                invoice IS NULL AS bad_invoice,
                stockcode IS NULL AS bad_stockcode,
                (q IS NULL OR isnan(q) OR q <> round(q)) AS bad_quantity,
                invoice_date IS NULL AS bad_invoice_date,
                (p IS NULL OR isnan(p)) AS bad_unit_price,
                (customer_text IS NOT NULL AND (c IS NULL OR isnan(c))) AS bad_customer_id,
                country IS NULL AS bad_country
            FROM parsed
        )
        SELECT invoice, stockcode, description,
            CASE WHEN bad_invoice OR bad_stockcode OR bad_quantity OR bad_invoice_date OR bad_unit_price
                OR bad_customer_id OR bad_country THEN CAST(0 AS BIGINT) ELSE CAST(q AS BIGINT) END AS quantity,
            invoice_date,
            CASE WHEN bad_unit_price THEN NULL ELSE p END AS unit_price,
            CASE WHEN bad_customer_id THEN NULL ELSE CAST(round(c) AS BIGINT) END AS customer_id,
            country,
            (bad_invoice OR bad_stockcode OR bad_quantity OR bad_invoice_date OR bad_unit_price
                OR bad_customer_id OR bad_country) AS unparsable,
            bad_invoice, bad_stockcode, bad_quantity, bad_invoice_date, bad_unit_price, bad_customer_id, bad_country
        FROM flagged""",
    )
    return convention


# -- 3. clean --------------------------------------------------------------------------------------------------------
def clean(engine) -> None:
    """Table `cleaned`: every typed row with its drop `reason` (NULL: kept), the first of load.DROP_REASONS that
    applies, duplicates last."""
    non_product_codes = ", ".join(_lit(c) for c in sorted(L.NON_PRODUCT_CODES))
    description = "(?i)" + L._NON_PRODUCT_DESCRIPTION.pattern
    engine.create(
        "reasoned",
        f"""WITH cancels AS (
            SELECT DISTINCT customer_id, stockcode, CAST(invoice_date AS DATE) AS day, -quantity AS units
            FROM typed
            WHERE coalesce(invoice, '') LIKE 'C%' AND customer_id IS NOT NULL AND stockcode IS NOT NULL
                AND invoice_date IS NOT NULL
        )
        SELECT t.*, CASE
                WHEN t.unparsable THEN 'unparsable_value'
                WHEN coalesce(t.invoice, '') LIKE 'C%' THEN 'cancellation'
                WHEN coalesce(t.invoice, '') LIKE 'A%' OR t.stockcode = 'B' THEN 'bad_debt'
                WHEN coalesce(t.stockcode, '') IN ({non_product_codes})
                    OR NOT regexp_matches(coalesce(t.stockcode, ''), {_lit(_PRODUCT_CODE_SQL)})
                    OR regexp_matches(coalesce(t.description, ''), {_lit(description)}) THEN 'non_product'
                WHEN t.description IS NULL THEN 'missing_description'
                WHEN t.unit_price = 0 THEN 'stock_adjustment'
                WHEN t.unit_price < 0 THEN 'non_positive_price'
                WHEN t.quantity <= 0 THEN 'non_positive_quantity'
                WHEN c.units IS NOT NULL THEN 'cancelled_same_day'
            END AS reason
        FROM typed t
        LEFT JOIN cancels c ON t.customer_id = c.customer_id AND t.stockcode = c.stockcode
            AND CAST(t.invoice_date AS DATE) = c.day AND t.quantity = c.units""",
    )
    keys = ", ".join(L.CANONICAL)
    engine.create(
        "cleaned",
        f"""SELECT {keys}, CASE
                WHEN reason IS NULL AND row_number() OVER (PARTITION BY {keys} ORDER BY invoice_date) > 1
                    THEN 'duplicate'
                ELSE reason
            END AS reason
        FROM reasoned""",
    )
    engine.create("kept", f"SELECT {keys} FROM cleaned WHERE reason IS NULL")


def clean_report(engine, read_part: dict, convention: str, source: str) -> dict:
    """The cleaning report `load.clean` writes, from the engine's counts."""
    counts = engine.frame("SELECT reason, count(*) AS n FROM cleaned WHERE reason IS NOT NULL GROUP BY reason")
    by_reason = dict(zip(counts["reason"], counts["n"].astype(int), strict=True))
    dropped = {
        "malformed_line": read_part["malformed_count"],
        "shared_between_sheets": read_part["details"].get("shared_between_sheets", 0),
        **{reason: by_reason.get(reason, 0) for reason in L.DROP_REASONS[2:]},
    }
    failed = engine.frame(
        "SELECT " + ", ".join(f"count(CASE WHEN bad_{c} THEN 1 END) AS {c}" for c in _FLAGGED) + " FROM typed"
    ).iloc[0]
    stats = engine.frame(
        """SELECT count(*) AS kept, count(CASE WHEN customer_id IS NULL THEN 1 END) AS guests,
            count(DISTINCT stockcode) AS stockcodes, count(DISTINCT customer_id) AS customers,
            min(invoice_date) AS first_date, max(invoice_date) AS last_date
        FROM kept"""
    ).iloc[0]
    kept = int(stats["kept"])
    columns = read_part["source_columns"]
    report = {
        "source": source,
        "rows_read": read_part["rows_read"],
        "rows_kept": kept,
        "rows_dropped": int(sum(dropped.values())),
        "dropped": {reason: int(dropped[reason]) for reason in L.DROP_REASONS},
        "malformed_line_numbers": read_part["malformed"][:50],
        "unparsable_by_column": {columns.get(c, c): int(failed[c]) for c in _FLAGGED if int(failed[c])},
        "read": {**read_part["details"], "date_convention": convention},
        "kept_without_customer": int(stats["guests"]),
        "stockcodes": int(stats["stockcodes"]),
        "customers": int(stats["customers"]),
        "first_date": str(pd.Timestamp(stats["first_date"])) if kept else None,
        "last_date": str(pd.Timestamp(stats["last_date"])) if kept else None,
    }
    if report["rows_read"] != report["rows_kept"] + report["rows_dropped"]:
        raise AssertionError(report)
    return report


_FLAGGED = ("invoice", "stockcode", "quantity", "invoice_date", "unit_price", "customer_id", "country")


# -- 4.-7. split, products, history, features ------------------------------------------------------------------------
def invoice_times(engine) -> pd.Series:
    """Kept rows per distinct invoice time, sorted by time: what `prepare.choose_windows` reads."""
    times = engine.frame("SELECT invoice_date, count(*) AS n FROM kept GROUP BY invoice_date ORDER BY invoice_date")
    return pd.Series(times["n"].to_numpy(dtype=np.int64), index=pd.DatetimeIndex(times["invoice_date"]))


def split(engine, windows) -> None:
    """Table `lines`: the kept rows with their `split`, their day and log quantity."""
    engine.create(
        "lines",
        f"""SELECT *, CASE WHEN invoice_date >= {_ts(windows.test_start)} THEN 'test'
                WHEN invoice_date >= {_ts(windows.val_start)} THEN 'val' ELSE 'train' END AS split,
            CAST(invoice_date AS DATE) AS day, ln(1 + quantity) AS log_q
        FROM kept""",
    )


def products(engine) -> pd.DataFrame:
    """The product table (`features.product_table`) of the training window's lines, from the engine's per-product
    aggregates; registered as the engine's table `products`."""
    table = engine.frame(
        f"""WITH t AS (SELECT * FROM lines WHERE split = 'train'),
        described AS (SELECT stockcode, description, count(*) AS n FROM t GROUP BY stockcode, description),
        mode AS (
            SELECT stockcode, description FROM (
                SELECT stockcode, description,
                    row_number() OVER (PARTITION BY stockcode ORDER BY n DESC, description) AS k
                FROM described
            ) WHERE k = 1
        )
        SELECT t.stockcode, any_value(m.description) AS description, min(unit_price) AS price_min,
            median(unit_price) AS price_median, max(unit_price) AS price_max, count(*) AS lines,
            sum(quantity) AS units, {EXACT_MEAN.format("log_q")} AS mean_log_quantity, min(invoice_date) AS first_sold,
            max(invoice_date) AS last_sold
        FROM t JOIN mode m ON t.stockcode = m.stockcode
        GROUP BY t.stockcode"""
    )
    table = table.set_index("stockcode").sort_index()
    table["lines"] = table["lines"].astype(np.int64)
    table["units"] = table["units"].astype(np.int64)
    table["description"] = table["description"].astype("string")
    for column in ("first_sold", "last_sold"):
        table[column] = pd.to_datetime(table[column]).astype("datetime64[ns]")
    return F.finish_product_table(table, ladder(engine, table.index))


def ladder(engine, codes: pd.Index) -> pd.DataFrame:
    """`list_price.price_ladder` of the training window's lines, from the engine's counts."""
    engine.create(
        "ladder_lines",
        """WITH days AS (
            SELECT stockcode, day, max(CASE WHEN customer_id IS NOT NULL THEN unit_price END) AS day_max,
                count(DISTINCT CASE WHEN customer_id IS NOT NULL THEN unit_price END) AS prices
            FROM lines WHERE split = 'train' GROUP BY stockcode, day
        )
        SELECT l.stockcode, CAST(l.quantity AS DOUBLE) AS quantity, l.customer_id IS NOT NULL AS known,
            l.unit_price / d.day_max AS price_to_day_max, d.prices > 1 AS multi,
            d.prices > 1 AND l.customer_id IS NOT NULL AND l.unit_price / d.day_max < 1 - 0.005 AS discounted
        FROM lines l JOIN days d ON l.stockcode = d.stockcode AND l.day = d.day
        WHERE l.split = 'train'""",
    )
    counts = engine.frame(
        """SELECT stockcode, quantity, discounted, count(*) AS n FROM ladder_lines WHERE multi
        GROUP BY stockcode, quantity, discounted"""
    )
    breaks = break_quantities_from_counts(counts)
    found = breaks[breaks["separation"] >= MIN_BREAK_SEPARATION]
    out = pd.DataFrame(index=pd.Index(codes, name="stockcode"), columns=list(LADDER_COLUMNS), dtype=float)
    out["break_factor"] = 1.0
    out.loc[found.index, "break_quantity"] = found["break_quantity"]
    engine.register("breaks", found["break_quantity"].rename_axis("stockcode").reset_index())
    factors = engine.frame(
        """SELECT l.stockcode, median(l.price_to_day_max) AS factor FROM ladder_lines l
        JOIN breaks b ON l.stockcode = b.stockcode
        WHERE l.discounted AND l.quantity >= b.break_quantity GROUP BY l.stockcode"""
    ).set_index("stockcode")["factor"]
    out.loc[found.index, "break_factor"] = factors.reindex(found.index).to_numpy(dtype=float)
    guests = engine.frame(
        f"""SELECT stockcode, median(price_to_day_max) AS factor FROM ladder_lines
        WHERE NOT known AND price_to_day_max IS NOT NULL GROUP BY stockcode
        HAVING count(*) >= {MIN_GUEST_LINES}"""
    ).set_index("stockcode")["factor"]
    out["guest_factor"] = guests.reindex(out.index).to_numpy(dtype=float)
    return out


def history(engine) -> None:
    """Tables `monthly` and `tiers`: `features.customer_history` on the engine."""
    engine.create(
        "known_lines",
        """SELECT l.customer_id, l.invoice, l.invoice_date, date_trunc('month', l.invoice_date) AS month, l.log_q,
            CASE WHEN p.price_median IS NULL THEN CAST(0 AS DOUBLE) ELSE ln(l.unit_price / p.price_median) END
                AS log_ratio,
            CAST(CASE WHEN p.price_median IS NULL THEN 0 ELSE 1 END AS DOUBLE) AS priced
        FROM lines l LEFT JOIN products p ON l.stockcode = p.stockcode
        WHERE l.customer_id IS NOT NULL""",
    )
    earlier = "PARTITION BY customer_id ORDER BY month ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING"
    engine.create(
        "monthly",
        f"""SELECT customer_id, month,
            ln(1 + coalesce(sum(lines) OVER ({earlier}), 0)) AS prev_log_lines,
            ln(1 + coalesce(sum(invoices) OVER ({earlier}), 0)) AS prev_log_invoices,
            sum(sum_log_q) OVER ({earlier}) / nullif(sum(lines) OVER ({earlier}), 0) AS prev_mean_log_q
        FROM (
            SELECT customer_id, month, count(*) AS lines, count(DISTINCT invoice) AS invoices,
                sum(log_q) AS sum_log_q
            FROM known_lines GROUP BY customer_id, month
        )""",
    )
    through = "PARTITION BY customer_id ORDER BY invoice_date ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW"
    engine.create(
        "tiers",
        f"""SELECT customer_id, invoice_date, sum(s) OVER ({through}) AS sum_log_ratio,
            sum(n) OVER ({through}) AS priced
        FROM (
            SELECT customer_id, invoice_date, sum(log_ratio) AS s, sum(priced) AS n
            FROM known_lines GROUP BY customer_id, invoice_date
        )""",
    )


def list_prices(engine, pooled_guest_factor: float) -> None:
    """Table `listed`: each line of a product the training window knows, with its day's list price
    (`list_price.line_list_prices` over its split's lines, through the training window's ladder)."""
    engine.create(
        "priced_lines",
        f"""SELECT l.*, p.price_median, p.price_max, p.product_log_price_median, p.product_log_lines,
            p.product_mean_log_quantity, p.product_log_price_spread,
            CASE WHEN l.customer_id IS NULL THEN NULL
                WHEN p.break_quantity IS NOT NULL AND l.quantity >= p.break_quantity
                    THEN l.unit_price / coalesce(p.break_factor, 1.0)
                ELSE l.unit_price END AS implied,
            CASE WHEN l.customer_id IS NULL THEN l.unit_price / p.guest_factor END AS guest_implied,
            l.unit_price / {float(pooled_guest_factor)!r} AS pooled_implied
        FROM lines l JOIN products p ON l.stockcode = p.stockcode""",
    )
    order = "PARTITION BY split, stockcode ORDER BY day"
    engine.create(
        "day_lists",
        f"""SELECT split, stockcode, day, coalesce(known_list, guest_list,
                last_value(known_list IGNORE NULLS) OVER ({order} ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW),
                first_value(known_list IGNORE NULLS) OVER ({order} ROWS BETWEEN CURRENT ROW AND UNBOUNDED FOLLOWING),
                pooled_list) AS list_price
        FROM (
            SELECT split, stockcode, day, max(implied) AS known_list, max(guest_implied) AS guest_list,
                max(pooled_implied) AS pooled_list
            FROM priced_lines GROUP BY split, stockcode, day
        )""",
    )


def feature_sql(split_name: str, fill_log_quantity: float) -> str:
    """The SELECT of one split's feature table (features.build_features' columns, in its order)."""
    fill = float(fill_log_quantity)
    return f"""SELECT
        l.unit_price AS unit_price, ln(l.unit_price) AS log_price, l.unit_price / l.price_median AS price_ratio,
        ln(l.unit_price / l.price_median) AS log_price_ratio, l.unit_price / l.price_max AS price_to_max,
        l.product_log_price_median, l.product_log_lines, l.product_mean_log_quantity, l.product_log_price_spread,
        CAST(CASE WHEN l.customer_id IS NULL THEN 1 ELSE 0 END AS DOUBLE) AS is_guest,
        CAST(CASE WHEN coalesce(m.prev_log_lines, 0.0) > 0 THEN 1 ELSE 0 END AS DOUBLE) AS customer_known,
        coalesce(m.prev_log_lines, 0.0) AS customer_prev_log_lines,
        coalesce(m.prev_log_invoices, 0.0) AS customer_prev_log_invoices,
        coalesce(m.prev_mean_log_q, {fill!r}) AS customer_prev_mean_log_quantity,
        CASE WHEN coalesce(t.priced, 0.0) - 1.0 > 0
            THEN (coalesce(t.sum_log_ratio, 0.0) - ln(l.unit_price / l.price_median)) / (coalesce(t.priced, 0.0) - 1.0)
            ELSE 0.0 END AS customer_price_tier,
        ln(l.unit_price / d.list_price) AS line_price_to_list,
        sin(2 * pi() * month(l.invoice_date) / 12) AS month_sin,
        cos(2 * pi() * month(l.invoice_date) / 12) AS month_cos,
        CAST(hour(l.invoice_date) AS DOUBLE) AS hour,
        l.country AS country,
        CAST(date_diff('day', DATE '1970-01-05', l.day) % 7 AS VARCHAR) AS weekday,
        l.stockcode AS stockcode,
        l.log_q AS log_quantity,
        l.invoice_date AS invoice_date,
        l.customer_id AS customer_id,
        l.quantity AS quantity
    FROM priced_lines l
    JOIN day_lists d ON l.split = d.split AND l.stockcode = d.stockcode AND l.day = d.day
    LEFT JOIN monthly m ON l.customer_id = m.customer_id AND date_trunc('month', l.invoice_date) = m.month
    LEFT JOIN tiers t ON l.customer_id = t.customer_id AND l.invoice_date = t.invoice_date
    WHERE l.split = {_lit(split_name)}
    ORDER BY l.invoice_date, l.stockcode"""
