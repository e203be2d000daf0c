"""`pricing prepare` on its out-of-core engine (issue 27) writes what the in-memory path writes, for every form a
file comes in: the same report (every dropped row under the same reason, the same malformed line numbers) and the
same tables (tests/prepare_golden.py's fingerprints: counts, sums and hashes of every column). The recorded
outputs themselves are held by test_prepare_golden.py for both paths; Spark's by test_prepare_spark.py."""

from __future__ import annotations

import gzip
import json

import pandas as pd
import pytest

from pricing.data import generate
from pricing.data.engine import DuckDBEngine
from pricing.data.prepare import prepare
from tests import prepare_golden as G
from tests.unit.data.test_load_folder import write_months

NON_ASCII = "CAFÉ CRÈME MUG"


@pytest.fixture(scope="module")
def export(tmp_path_factory) -> pd.DataFrame:
    """A generated export (6,000 rows, seed 8) as a table of text, one product described with accents."""
    out = tmp_path_factory.mktemp("export")
    generate.write(generate.generate(rows=6_000, seed=8), out)
    lines = pd.read_csv(out / "online_retail.csv", dtype=str, keep_default_na=False)
    lines.loc[lines["StockCode"] == lines["StockCode"].iloc[0], "Description"] = NON_ASCII
    return lines


def dated(lines: pd.DataFrame, date_format: str) -> pd.DataFrame:
    stamp = pd.to_datetime(lines["InvoiceDate"], format="%m/%d/%Y %H:%M")
    return lines.assign(InvoiceDate=stamp.dt.strftime(date_format))


def dirty(lines: pd.DataFrame) -> str:
    """The export as CSV text with the damage real exports carry: lines with a field too many or too few, a
    fractional quantity, a price and a customer that are no numbers, an impossible date, a blank description."""
    frame = lines.copy()
    frame.loc[3, "Quantity"] = "1.5"
    frame.loc[5, "UnitPrice"] = "N/A"
    frame.loc[7, "CustomerID"] = "abc"
    frame.loc[9, "InvoiceDate"] = "2/31/2011 10:00"
    frame.loc[11, "Description"] = "   "
    rows = frame.to_csv(index=False).splitlines()
    rows.insert(20, rows[20] + ",extra")
    rows.insert(40, ",".join(rows[40].split(",")[:4]))
    return "\n".join(rows) + "\n"


def write(form: str, lines: pd.DataFrame, folder):
    """The export written in `form`; the path prepare reads."""
    folder.mkdir()
    path = folder / "online_retail.csv"
    if form == "utf-8":
        lines.to_csv(path, index=False)
    elif form == "cp1252":
        path.write_bytes(lines.to_csv(index=False).encode("cp1252"))
    elif form == "utf-16 tabs":  # Excel's "Unicode Text" export
        path.write_bytes(lines.to_csv(index=False, sep="\t").encode("utf-16"))
    elif form == "bom semicolons":
        path.write_bytes(b"\xef\xbb\xbf" + lines.to_csv(index=False, sep=";").encode("utf-8"))
    elif form == "gzip without suffix":
        path = folder / "export"
        path.write_bytes(gzip.compress(lines.to_csv(index=False).encode("utf-8")))
    elif form == "day-first":
        dated(lines, "%d/%m/%Y %H:%M").to_csv(path, index=False)
    elif form == "ISO with T":
        dated(lines, "%Y-%m-%dT%H:%M:%S").to_csv(path, index=False)
    elif form == "two-digit years":
        dated(lines, "%m/%d/%y %H:%M").to_csv(path, index=False)
    elif form == "dirty":
        path.write_text(dirty(lines), encoding="utf-8")
    elif form == "workbook":
        path = folder / "online_retail.xlsx"
        cells = lines.assign(InvoiceDate=pd.to_datetime(lines["InvoiceDate"], format="%m/%d/%Y %H:%M"))
        cells.to_excel(path, index=False)
    elif form == "parquet of dates":
        path = folder / "online_retail.parquet"
        typed = lines.assign(
            InvoiceDate=pd.to_datetime(lines["InvoiceDate"], format="%m/%d/%Y %H:%M"),
            Quantity=pd.to_numeric(lines["Quantity"]),
            UnitPrice=pd.to_numeric(lines["UnitPrice"]),
        )
        typed.to_parquet(path, index=False)
    elif form == "folder of months":
        folder.rmdir()
        path = write_months(lines, folder)
    return path


FORMS = (
    "utf-8",
    "cp1252",
    "utf-16 tabs",
    "bom semicolons",
    "gzip without suffix",
    "day-first",
    "ISO with T",
    "two-digit years",
    "dirty",
    "workbook",
    "parquet of dates",
    "folder of months",
)


@pytest.mark.parametrize("form", FORMS)
def test_the_engine_prepares_every_form_as_the_in_memory_path_does(export, tmp_path, form):
    raw = write(form, export, tmp_path / "raw")
    memory = G.fingerprint(G.run_prepare(raw, tmp_path / "pandas", engine="pandas"))
    engine = G.fingerprint(G.run_prepare(raw, tmp_path / "duckdb", engine="duckdb"))
    assert memory["report"]["status"] == "ok"
    assert G.differences(memory, engine) == []
    if form == "dirty":
        report = engine["report"]
        assert report["dropped"]["malformed_line"] == 2
        assert report["malformed_line_numbers"] == [21, 41]  # the header is line 1
        assert report["dropped"]["unparsable_value"] == 4
        assert set(report["unparsable_by_column"]) == {"Quantity", "UnitPrice", "CustomerID", "InvoiceDate"}
    if form in ("cp1252", "folder of months"):
        train = pd.read_parquet(tmp_path / "duckdb" / "products.parquet")
        assert NON_ASCII in set(train["description"])


def test_a_memory_limit_below_the_datas_size_still_finishes_on_disk_with_the_same_tables(tmp_path):
    """64 MB of DuckDB memory for 400,000 lines whose tables take more than that even in DuckDB's compressed
    storage: the tables live in the database file, what does not fit spills, and the outputs are the unbounded
    run's."""
    generate.write(generate.generate(rows=400_000, seed=3), tmp_path / "raw")
    raw = tmp_path / "raw" / "online_retail.csv"
    free = G.fingerprint(G.run_prepare(raw, tmp_path / "free", engine="duckdb"))
    report = prepare(raw, tmp_path / "tight", engine="duckdb", memory_limit="64MB", spill_dir=tmp_path / "spill")
    assert report["engine"]["memory_limit"] == "64MB"
    assert report["engine"]["disk_bytes"] > 64 * 2**20  # more than the limit lived on disk
    assert G.differences(free, G.fingerprint(tmp_path / "tight")) == []
    assert list((tmp_path / "spill").iterdir()) == []  # the database file and its spill are gone


def test_the_engine_refuses_a_file_too_short_to_split_with_the_same_report(tmp_path):
    out = G.run_prepare(G.FIXTURE, tmp_path / "out", "monthfirst", engine="duckdb")
    report = json.loads((out / "data_quality.json").read_text())
    assert report["status"] == "error" and "too short to split" in report["error"]
    assert not (out / "train.parquet").exists()


def test_the_duckdb_engine_keeps_its_limit_and_cleans_up(tmp_path):
    engine = DuckDBEngine(memory_limit="64MB", spill_dir=tmp_path)
    limit = engine.frame("SELECT current_setting('memory_limit') AS m").m.iat[0]
    assert limit.replace(" ", "").upper().startswith(("61", "64"))  # DuckDB prints it in MiB
    engine.close()
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("engine", ["duckdb", "pandas"])
def test_a_uri_is_refused_in_one_line_by_the_engines_that_read_this_disk(engine, tmp_path, capsys):
    from pricing.cli import main

    code = main(["prepare", "--raw", "s3://shop/exports/", "--out-dir", str(tmp_path), "--engine", engine])
    errors = [line for line in capsys.readouterr().err.splitlines() if "error:" in line]  # beside the stage bar
    assert code == 1 and len(errors) == 1
    assert "s3://shop/exports/" in errors[0] and "--engine spark" in errors[0]  # the bucket, not s3:/shop
    assert not list(tmp_path.iterdir())
