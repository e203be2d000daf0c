"""A folder (or glob) of monthly exports reads as one file (issue 27): each file in its own encoding and form, the
lines concatenated, cleaned as one; a file that cannot be read is named and nothing is written."""

import gzip

import pandas as pd
import pytest

from pricing.data import generate
from pricing.data.load import DataError, load
from pricing.data.prepare import prepare


@pytest.fixture(scope="module")
def export(tmp_path_factory):
    """A generated export (8,000 rows) with one description no ASCII encoding holds, as one CSV table of text."""
    out = tmp_path_factory.mktemp("export")
    generate.write(generate.generate(rows=8_000, seed=5), out)
    lines = pd.read_csv(out / "online_retail.csv", dtype=str, keep_default_na=False)
    first = lines["StockCode"].iloc[0]
    lines.loc[lines["StockCode"] == first, "Description"] = "CAFÉ CRÈME MUG"
    return lines


def write_months(lines: pd.DataFrame, folder):
    """The export split by month into a UTF-8 file with a BOM, Windows-1252 files and a gzipped semicolon file."""
    folder.mkdir()
    month = pd.to_datetime(lines["InvoiceDate"], format="%m/%d/%Y %H:%M").dt.strftime("%Y-%m")
    for i, (name, part) in enumerate(lines.groupby(month, sort=True)):
        path = folder / f"{name}.csv"
        if i == 0:
            path.write_bytes(b"\xef\xbb\xbf" + part.to_csv(index=False).encode("utf-8"))
        elif i == 1:
            with gzip.open(folder / f"{name}.csv.gz", "wb") as handle:
                handle.write(part.to_csv(index=False, sep=";").encode("utf-8"))
        else:
            path.write_bytes(part.to_csv(index=False).encode("cp1252"))
    return folder


def test_a_folder_of_monthly_exports_reads_as_the_one_file(export, tmp_path):
    whole = tmp_path / "whole.csv"
    whole.write_bytes(export.to_csv(index=False).encode("utf-8"))
    folder = write_months(export, tmp_path / "months")
    assert len(list(folder.iterdir())) >= 3
    one, many = load(whole), load(folder)
    pd.testing.assert_frame_equal(many.frame, one.frame)
    assert "CAFÉ CRÈME MUG" in set(many.frame["description"])
    for key in ("rows_read", "rows_kept", "dropped", "stockcodes", "customers", "first_date", "last_date"):
        assert many.report[key] == one.report[key], key
    files = many.report["read"]["files"]
    assert files["2010-12.csv"]["encoding"] == "utf-8-sig" and files["2011-01.csv.gz"]["delimiter"] == ";"
    assert "cp1252" in {f["encoding"] for f in files.values()}  # the months holding CAFÉ CRÈME MUG
    assert sum(f["rows_read"] for f in files.values()) == one.report["rows_read"]
    # a glob names the same files
    glob = load(folder / "20*.csv*")
    pd.testing.assert_frame_equal(glob.frame, one.frame)


def test_a_line_in_two_overlapping_exports_counts_once(export, tmp_path):
    folder = tmp_path / "overlap"
    folder.mkdir()
    half = len(export) // 2
    export.iloc[: half + 100].to_csv(folder / "a.csv", index=False)
    export.iloc[half:].to_csv(folder / "b.csv", index=False)
    whole = tmp_path / "whole.csv"
    export.to_csv(whole, index=False)
    one, many = load(whole), load(folder)
    assert many.report["rows_read"] == one.report["rows_read"] + 100
    assert many.report["rows_kept"] == one.report["rows_kept"]
    assert many.report["dropped"]["duplicate"] >= one.report["dropped"]["duplicate"] + 1


def test_a_bad_file_in_a_folder_is_named_and_nothing_is_written(export, tmp_path):
    folder = write_months(export, tmp_path / "months")
    (folder / "2011-13.csv").write_text("Invoice,Code\n1,2\n")  # no StockCode, Quantity, ...
    out = tmp_path / "processed"
    with pytest.raises(DataError, match=r"months: 2011-13\.csv: .*(column|StockCode)"):
        prepare(folder, out)
    assert not out.exists()


def test_an_empty_folder_or_a_pattern_matching_nothing_is_one_line(tmp_path):
    (tmp_path / "empty").mkdir()
    with pytest.raises(DataError, match="no file in it"):
        load(tmp_path / "empty")
    with pytest.raises(DataError, match="no file matches"):
        load(tmp_path / "none-*.csv")
