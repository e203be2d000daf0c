"""The whole real Online Retail file (../shared/data/online_retail.csv.gz, CC BY 4.0, see its README): read as a
user has it, its published figures come out. CI keeps ../shared beside the clone; a user's clone has no such
folder, and these tests then skip saying so."""

from pathlib import Path

import pandas as pd
import pytest

from pricing.data import load as L

REAL_FILE = Path(__file__).resolve().parents[3] / "shared" / "data" / "online_retail.csv.gz"
pytestmark = pytest.mark.skipif(
    not REAL_FILE.is_file(),
    reason=f"needs the real Online Retail file at {REAL_FILE} (../shared beside the clone, as CI has it; "
    "a user's clone has none)",
)


@pytest.fixture(scope="module")
def raw() -> L.RawRead:
    return L.read_raw(REAL_FILE)


@pytest.fixture(scope="module")
def cleaned(raw) -> L.Cleaned:
    return L.clean(raw, source=REAL_FILE.name)


def test_the_real_file_has_the_figures_its_readme_gives(raw, cleaned):
    assert raw.rows_read == 541_909 and not raw.malformed_lines
    assert raw.frame["stockcode"].nunique() == 4_070  # the raw codes, before canonical_stockcode
    assert raw.frame["invoice"].str.startswith("C").sum() == 9_288
    assert raw.frame["invoice"].nunique() == 25_900
    assert raw.frame["country"].nunique() == 38
    assert raw.frame["customer_id"].isna().sum() == 135_080
    assert raw.frame["description"].isna().sum() == 1_454
    report = cleaned.report
    assert report["read"] == {
        "format": "csv",
        "encoding": "utf-8",
        "delimiter": ",",
        "date_order": None,
        "date_convention": "ISO",
    }
    assert report["dropped"]["cancellation"] == 9_288
    assert report["dropped"]["bad_debt"] == 3
    assert report["dropped"]["unparsable_value"] == 0
    assert report["rows_read"] == report["rows_kept"] + report["rows_dropped"]
    assert (report["first_date"], report["last_date"]) == ("2010-12-01 08:26:00", "2011-12-09 12:50:00")
    typed = L.canonicalise(raw.frame).frame
    assert typed["quantity"].sum() == 5_176_450
    assert (typed["quantity"] * typed["unit_price"]).sum() == pytest.approx(9_747_747.93, abs=0.01)


def test_the_real_file_as_a_windows_1252_export_with_day_first_dates_reads_the_same(raw, cleaned, tmp_path):
    """The form a UK spreadsheet leaves: Windows-1252 (its '£' byte several MB in) and 01/12/2010 08:26."""
    text = raw.frame.assign(
        invoice_date=pd.to_datetime(raw.frame["invoice_date"]).dt.strftime("%d/%m/%Y %H:%M"),
        customer_id=raw.frame["customer_id"].str.removesuffix(".0"),
    )
    path = tmp_path / "Online Retail.csv"
    text.to_csv(path, index=False, encoding="cp1252")
    assert path.read_bytes().index(b"\xa3") > 1 << 20
    again = L.load(path)
    assert again.report["read"]["encoding"] == "cp1252"
    assert again.report["read"]["date_convention"] == "day-first"
    pd.testing.assert_frame_equal(again.frame, cleaned.frame)
