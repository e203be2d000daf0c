"""The forms the Online Retail file circulates in (../shared/data/README.md), each made here from the real
fixture's rows, read into the same canonical frame as the plain UTF-8 CSV, or refused with a named reason.

The fixture is one day of real rows (tests/fixtures/README.md); it is repeated on later days (copy k on 2010-12-01
plus k days), which makes the file larger than the first MiB the old loader sniffed, and gives dates with a day
above 12, so that day-first and month-first are decided by the data."""

from __future__ import annotations

import csv
import gzip

import openpyxl
import pandas as pd
import pytest

from pricing.data import load as L
from tests.conftest import REAL_SAMPLE

HEADER = ["InvoiceNo", "StockCode", "Description", "Quantity", "InvoiceDate", "UnitPrice", "CustomerID", "Country"]
MIB = 1 << 20
POUND_DESCRIPTION = "GIFT VOUCHER £10"


def fixture_rows() -> list[list[str]]:
    with open(REAL_SAMPLE, newline="", encoding="utf-8") as handle:
        return [row for row in list(csv.reader(handle))[1:] if len(row) == len(HEADER)]


def repeated(copies: int) -> pd.DataFrame:
    """The fixture's well-formed rows `copies` times, copy k on day k after the fixture's, invoices renumbered;
    the last copy's first product is described with a '£' (the real file's only non-ASCII character)."""
    base = pd.DataFrame(fixture_rows(), columns=HEADER)
    stamp = pd.to_datetime(base["InvoiceDate"], format="%m/%d/%y %H:%M")
    frames = []
    for k in range(copies):
        copy = base.copy()
        number = copy["InvoiceNo"].str.extract(r"^(\D*)(\d+)$")
        copy["InvoiceNo"] = number[0] + (number[1].astype(int) + 1000 * k).astype(str)
        copy["InvoiceDate"] = stamp + pd.Timedelta(days=k)
        frames.append(copy)
    frame = pd.concat(frames, ignore_index=True)
    frame.loc[len(frame) - len(base), "Description"] = POUND_DESCRIPTION
    return frame


def write_csv(frame: pd.DataFrame, path, date_format: str, encoding: str = "utf-8", **options) -> None:
    out = frame.assign(InvoiceDate=frame["InvoiceDate"].dt.strftime(date_format))
    out.to_csv(path, index=False, encoding=encoding, lineterminator="\n", **options)


II_HEADER = ["Invoice", "StockCode", "Description", "Quantity", "InvoiceDate", "Price", "Customer ID", "Country"]
US = "%m/%d/%Y %H:%M"  # the plain CSV export's dates (the fixture's, with a four-digit year)


@pytest.fixture(scope="module")
def rows() -> pd.DataFrame:
    frame = repeated(80)
    assert len(frame.to_csv(index=False).encode()) > 1.05 * MIB
    return frame


@pytest.fixture(scope="module")
def plain(rows, tmp_path_factory) -> L.Cleaned:
    path = tmp_path_factory.mktemp("plain") / "plain.csv"
    write_csv(rows, path, US)
    cleaned = L.load(path)
    assert cleaned.report["read"]["date_convention"] == "month-first"
    assert POUND_DESCRIPTION in set(cleaned.frame["description"])
    assert cleaned.frame["invoice_date"].max() == pd.Timestamp("2011-02-18 09:59")  # 79 days after 2010-12-01
    return cleaned


def assert_same_frame(cleaned: L.Cleaned, plain: L.Cleaned) -> None:
    pd.testing.assert_frame_equal(cleaned.frame, plain.frame)
    assert cleaned.report["dropped"] == plain.report["dropped"]


@pytest.mark.parametrize("encoding", ["cp1252", "latin-1"])
def test_a_windows_1252_file_whose_first_pound_sign_lies_past_the_first_mib(rows, plain, tmp_path, encoding):
    path = tmp_path / "export.csv"
    write_csv(rows, path, US, encoding=encoding)
    data = path.read_bytes()
    assert data.index(b"\xa3") > MIB  # the byte that stopped the old loader with an Arrow UTF-8 error
    cleaned = L.load(path)
    assert cleaned.report["read"]["encoding"] == "cp1252"
    assert_same_frame(cleaned, plain)


@pytest.mark.parametrize("encoding", ["utf-16", "utf-16-le"])
def test_excels_unicode_text_export_in_utf16_reads_the_same(rows, plain, tmp_path, encoding):
    """Excel's "Save as Unicode Text": UTF-16 (with a BOM; the -le form without one), tab separated."""
    path = tmp_path / "export.txt"
    write_csv(rows, path, US, encoding=encoding, sep="\t")
    cleaned = L.load(path)
    assert cleaned.report["read"]["encoding"] == encoding
    assert_same_frame(cleaned, plain)


def test_utf8_whose_pound_sign_straddles_the_first_mib_is_not_read_as_latin_1(rows, plain, tmp_path):
    """The two bytes of '£' (C2 A3) on either side of byte 1 MiB: a prefix-sniffer sees half a character, calls
    the file latin-1 and garbles every '£' of the file into 'Â£'."""
    text = rows.assign(InvoiceDate=rows["InvoiceDate"].dt.strftime(US)).to_csv(index=False, lineterminator="\n")
    lines = text.split("\n")
    starts = [0]
    for line in lines:
        starts.append(starts[-1] + len(line.encode()) + 1)
    at = next(i for i, start in enumerate(starts) if start > MIB - 400) - 1  # the line that crosses the MiB
    fields = lines[at].split(",")
    before_pound = len(",".join(fields[:2]).encode()) + 1 + len("GIFT VOUCHER ")
    fields[2] = "X" * (MIB - 1 - starts[at] - before_pound) + POUND_DESCRIPTION
    lines[at] = ",".join(fields)
    path = tmp_path / "straddle.csv"
    path.write_bytes("\n".join(lines).encode("utf-8"))
    assert path.read_bytes()[MIB - 1 : MIB + 1] == "£".encode()
    cleaned = L.load(path)
    assert cleaned.report["read"]["encoding"] == "utf-8"
    assert not cleaned.frame["description"].str.contains("Â").any()
    assert cleaned.frame["description"].str.endswith(POUND_DESCRIPTION).sum() == 2
    (tmp_path / "straddle-1252.csv").write_bytes("\n".join(lines).encode("cp1252"))
    pd.testing.assert_frame_equal(cleaned.frame, L.load(tmp_path / "straddle-1252.csv").frame)
    unchanged = cleaned.frame["invoice"] != fields[0]
    pd.testing.assert_frame_equal(cleaned.frame[unchanged], plain.frame[plain.frame["invoice"] != fields[0]])


def test_a_byte_order_mark(rows, plain, tmp_path):
    path = tmp_path / "bom.csv"
    write_csv(rows, path, US, encoding="utf-8-sig")
    assert path.read_bytes()[:3] == b"\xef\xbb\xbf"
    cleaned = L.load(path)
    assert cleaned.report["read"]["encoding"] == "utf-8-sig"
    assert_same_frame(cleaned, plain)


@pytest.mark.parametrize(
    ("date_format", "convention"),
    [
        ("%d/%m/%Y %H:%M", "day-first"),  # a UK spreadsheet's re-save
        ("%d-%m-%Y %H:%M", "day-first"),
        ("%Y-%m-%dT%H:%M:%S", "ISO"),
        ("%Y-%m-%d %H:%M:%S", "ISO"),
        ("%m/%d/%Y %H:%M:%S", "month-first"),  # US with seconds
        ("%m/%d/%y %H:%M", "month-first"),  # the fixture's own two-digit year
    ],
)
def test_every_date_style_gives_the_same_dates(rows, plain, tmp_path, date_format, convention):
    path = tmp_path / "dates.csv"
    write_csv(rows, path, date_format)
    cleaned = L.load(path)
    assert cleaned.report["read"]["date_convention"] == convention
    assert cleaned.report["dropped"]["unparsable_value"] == 0
    assert_same_frame(cleaned, plain)


def test_gzip_is_read_directly(rows, plain, tmp_path):
    path = tmp_path / "online_retail.csv.gz"
    write_csv(rows, path, US, compression="gzip")
    with gzip.open(path, "rb") as handle:
        assert handle.read(9) == b"InvoiceNo"
    assert_same_frame(L.load(path), plain)


def test_semicolons_and_decimal_points(rows, plain, tmp_path):
    path = tmp_path / "semicolon.csv"
    write_csv(rows, path, US, sep=";")
    cleaned = L.load(path)
    assert cleaned.report["read"]["delimiter"] == ";"
    assert_same_frame(cleaned, plain)


def test_a_file_the_dates_cannot_decide_is_refused_naming_the_column_and_the_flags():
    """The fixture is one day, 12/1/10: 1 December (month-first) or 12 January (day-first)."""
    with pytest.raises(L.DataError, match=r"^InvoiceDate: .*'12/1/10 8:26'.*--dayfirst or --monthfirst"):
        L.load(REAL_SAMPLE)
    assert L.load(REAL_SAMPLE, "monthfirst").frame["invoice_date"].min() == pd.Timestamp("2010-12-01 08:26")
    assert L.load(REAL_SAMPLE, "dayfirst").frame["invoice_date"].min() == pd.Timestamp("2010-01-12 08:26")


def test_online_retail_ii_names_the_date_column_as_its_file_does(tmp_path):
    frame = pd.read_csv(REAL_SAMPLE, on_bad_lines="skip", dtype=str).rename(columns={"InvoiceDate": "Invoice Date"})
    frame.to_csv(tmp_path / "ii.csv", index=False)
    with pytest.raises(L.DataError, match=r"^Invoice Date: "):
        L.load(tmp_path / "ii.csv")


def test_a_file_mixing_day_first_and_month_first_is_never_read_both_ways(rows, tmp_path):
    path = tmp_path / "mixed.csv"
    text = rows.assign(InvoiceDate=rows["InvoiceDate"].dt.strftime(US))
    text.loc[len(text) // 2 :, "InvoiceDate"] = rows["InvoiceDate"].dt.strftime("%d/%m/%Y %H:%M")
    text.to_csv(path, index=False)
    with pytest.raises(L.DataError, match="mix day-first and month-first"):
        L.load(path)
    # told the order, the file is read that one way: a day-first date with a day above 12 is no month-first date
    cleaned = L.load(path, "monthfirst")
    day_first = rows["InvoiceDate"].iloc[len(rows) // 2 :]
    assert cleaned.report["unparsable_by_column"] == {"InvoiceDate": int((day_first.dt.day > 12).sum())}


def write_workbook(sheets: dict[str, pd.DataFrame], path) -> None:
    """The Online Retail II workbook's layout: II column names, numbers as numbers, dates as Excel dates."""
    book = openpyxl.Workbook()
    book.remove(book.active)
    for title, frame in sheets.items():
        sheet = book.create_sheet(title)
        sheet.append(
            ["Invoice", "StockCode", "Description", "Quantity", "InvoiceDate", "Price", "Customer ID", "Country"]
        )
        for row in frame.itertuples(index=False):
            sheet.append(
                [
                    int(row.InvoiceNo) if row.InvoiceNo.isdigit() else row.InvoiceNo,
                    int(row.StockCode) if row.StockCode.isdigit() else row.StockCode,
                    row.Description,
                    int(row.Quantity),
                    row.InvoiceDate.to_pydatetime(),
                    float(row.UnitPrice),
                    float(row.CustomerID) if row.CustomerID else None,
                    row.Country,
                ]
            )
    book.save(path)


def test_every_sheet_of_a_workbook_and_a_sale_in_two_sheets_counts_once(tmp_path):
    """Like Online Retail II: "Year 2009-2010" and "Year 2010-2011" both hold the overlapping days."""
    frame = repeated(14)  # to 14 December: the CSV's dates decide month-first
    day = frame["InvoiceDate"].dt.normalize()
    first, second = frame[day <= day.unique()[8]], frame[day >= day.unique()[7]]
    overlap = len(frame[day.isin(day.unique()[7:9])])
    path = tmp_path / "online_retail_II.xlsx"
    write_workbook({"Year 2009-2010": first, "Year 2010-2011": second}, path)
    csv_path = tmp_path / "plain.csv"
    write_csv(frame, csv_path, US)
    from_book, from_csv = L.load(path), L.load(csv_path)
    assert from_book.report["read"]["sheets"] == {"Year 2009-2010": len(first), "Year 2010-2011": len(second)}
    assert from_book.report["dropped"]["shared_between_sheets"] == overlap
    assert from_book.report["rows_read"] == len(frame) + overlap
    assert from_book.report["read"]["date_convention"] == "date cells"
    pd.testing.assert_frame_equal(from_book.frame, from_csv.frame)
    assert from_book.report["rows_kept"] == from_csv.report["rows_kept"]


def test_lines_a_sheet_holds_twice_stay_twice_when_the_next_sheet_repeats_them():
    one = pd.DataFrame({"a": ["x", "x", "y"]})
    two = pd.DataFrame({"a": ["x", "x", "x", "z"]})
    kept, shared = L._without_shared_rows([one, two])
    assert shared == 2
    assert sorted(kept["a"]) == ["x", "x", "x", "y", "z"]


def test_a_missing_column_is_named_as_the_file_names_it(tmp_path):
    frame = pd.read_csv(REAL_SAMPLE, on_bad_lines="skip").drop(columns="UnitPrice")
    frame.to_csv(tmp_path / "no_price.csv", index=False)
    with pytest.raises(L.DataError, match=r"lacks column\(s\) UnitPrice \(or Price\)") as error:
        L.load(tmp_path / "no_price.csv")
    assert "\n" not in str(error.value)
