import csv

import openpyxl
import pandas as pd
import pytest

from pricing.data import load as L
from tests.conftest import REAL_SAMPLE


def malformed_line_numbers(path) -> list[int]:
    with open(path, newline="") as handle:
        return [number for number, row in enumerate(csv.reader(handle), start=1) if len(row) != 8]


def test_the_real_sample_loads_with_exactly_its_known_skips():
    cleaned = L.load(REAL_SAMPLE, "monthfirst")
    report = cleaned.report
    assert report["rows_read"] == 183
    assert report["dropped"] == {
        **dict.fromkeys(L.DROP_REASONS, 0),
        "malformed_line": 4,
        "cancellation": 1,
        "non_product": 1,
    }
    assert report["rows_kept"] == 177 == len(cleaned.frame)
    assert report["malformed_line_numbers"] == malformed_line_numbers(REAL_SAMPLE)
    assert not cleaned.frame["description"].str.contains("POSTAGE").any()
    assert not cleaned.frame["invoice"].str.startswith("C").any()


def test_the_canonical_frame_has_typed_columns():
    frame = L.load(REAL_SAMPLE, "monthfirst").frame
    assert list(frame.columns) == list(L.CANONICAL)
    first = frame.iloc[0]
    assert (first["invoice"], first["stockcode"], first["quantity"], first["unit_price"], first["customer_id"]) == (
        "536365",
        "85123A",
        6,
        2.55,
        17850,
    )
    assert first["invoice_date"] == pd.Timestamp("2010-12-01 08:26")
    assert first["description"] == "WHITE HANGING HEART T-LIGHT HOLDER"


def write_online_retail_ii_xlsx(frame: pd.DataFrame, path) -> None:
    """The real workbook's layout: II column names, numbers as numbers, dates as Excel dates."""
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.append(["Invoice", "StockCode", "Description", "Quantity", "InvoiceDate", "Price", "Customer ID", "Country"])
    for row in frame.itertuples(index=False):
        invoice = int(row.invoice) if row.invoice.isdigit() else row.invoice
        code = int(row.stockcode) if row.stockcode.isdigit() else row.stockcode
        customer = None if pd.isna(row.customer_id) else float(row.customer_id)
        sheet.append(
            [
                invoice,
                code,
                row.description,
                int(row.quantity),
                row.invoice_date.to_pydatetime(),
                float(row.unit_price),
                customer,
                row.country,
            ]
        )
    book.save(path)


def test_an_xlsx_with_online_retail_ii_names_gives_the_same_canonical_frame_as_the_csv(tmp_path):
    raw = L.read_raw(REAL_SAMPLE)
    from_csv = L.canonicalise(raw.frame, "monthfirst").frame
    path = tmp_path / "Online Retail.xlsx"
    write_online_retail_ii_xlsx(from_csv, path)
    from_xlsx = L.load(path)
    pd.testing.assert_frame_equal(from_xlsx.frame, L.load(REAL_SAMPLE, "monthfirst").frame)
    assert from_xlsx.report["dropped"]["cancellation"] == 1


def test_parquet_input_gives_the_same_frame(tmp_path):
    raw = L.read_raw(REAL_SAMPLE)
    raw.frame.to_parquet(tmp_path / "raw.parquet")
    pd.testing.assert_frame_equal(
        L.load(tmp_path / "raw.parquet", "monthfirst").frame, L.load(REAL_SAMPLE, "monthfirst").frame
    )


def test_two_and_four_digit_years_parse_alike():
    parsed, convention = L.parse_dates(
        pd.Series(["12/1/10 8:26", "12/1/2010 8:26", "2010-12-01 08:26:00", "12/31/10 8:00", "2/30/11 8:00", "x"])
    )
    assert convention == "ISO and month-first"
    assert list(parsed[:3]) == [pd.Timestamp("2010-12-01 08:26")] * 3
    assert parsed[3] == pd.Timestamp("2010-12-31 08:00")
    assert parsed[4:].isna().all()  # 30 February and text that is no date


def test_unparsable_values_are_counted_not_fatal(tmp_path):
    text = REAL_SAMPLE.read_text().splitlines()
    text[1] = text[1].replace(",6,", ",six,")  # quantity
    text[2] = text[2].replace("12/1/10 8:26", "someday")  # date
    text[3] = text[3].replace(",2.75,", ",2.7.5,")  # price
    path = tmp_path / "dirty.csv"
    path.write_text("\n".join(text))
    report = L.load(path, "monthfirst").report
    assert report["dropped"]["unparsable_value"] == 3
    assert report["unparsable_by_column"] == {"Quantity": 1, "InvoiceDate": 1, "UnitPrice": 1}
    assert report["rows_kept"] == 174


def test_an_unreadable_file_is_a_data_error(tmp_path):
    with pytest.raises(L.DataError, match="no such file"):
        L.load(tmp_path / "absent.csv")
    (tmp_path / "garbage.xlsx").write_bytes(b"not a workbook")
    with pytest.raises(L.DataError, match=r"garbage\.xlsx"):
        L.load(tmp_path / "garbage.xlsx")


def test_generated_dirt_lands_under_its_reasons_and_every_row_is_accounted_for(small_raw):
    report = L.load(small_raw / "online_retail.csv").report
    assert report["rows_read"] == 30_000
    assert report["rows_read"] == report["rows_kept"] + sum(report["dropped"].values())
    for reason in (
        "cancellation",
        "bad_debt",
        "non_product",
        "missing_description",
        "stock_adjustment",
        "duplicate",
        "cancelled_same_day",
    ):
        assert report["dropped"][reason] > 0, reason
    assert report["dropped"]["bad_debt"] == 3


def test_a_huge_line_cancelled_the_same_day_is_not_kept_as_demand(small_raw):
    kept = L.load(small_raw / "online_retail.csv").frame
    assert kept["quantity"].max() < 10_000


def test_a_cancellation_on_another_day_leaves_the_sale_alone():
    frame = pd.DataFrame(
        {
            "invoice": ["1", "C2", "3", "C4"],
            "stockcode": ["10001"] * 4,
            "description": ["A"] * 4,
            "quantity": [5, -5, 7, -7],
            "customer_id": pd.array([1, 1, 1, 1], dtype="Int64"),
            "invoice_date": pd.to_datetime(
                ["2011-01-03 10:00", "2011-01-04 10:00", "2011-01-05 10:00", "2011-01-05 11:00"]
            ),
            "unit_price": [1.0] * 4,
            "country": ["United Kingdom"] * 4,
        }
    )
    cleaned = L.clean(L.RawRead(frame[list(L.CANONICAL)], 4))
    assert list(cleaned.frame["invoice"]) == ["1"]
    assert cleaned.report["dropped"]["cancelled_same_day"] == 1
