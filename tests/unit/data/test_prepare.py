"""prepare: the cleaning report is always written, and short files get a proportional chronological split."""

import json

import pandas as pd
import pytest

from pricing.cli import main
from pricing.data.prepare import MIN_SPLIT_ROWS, TooShortError, prepare
from tests.conftest import REAL_SAMPLE


def test_the_fixture_writes_its_report_though_one_day_is_too_short_to_split(tmp_path, capsys):
    """183 real lines of one day: 4 malformed lines, 1 cancellation and 1 POST line dropped; 177 kept, too few
    rows of products the training part knows for a validation and a test split."""
    out = tmp_path / "processed"
    code = main(["prepare", "--raw", str(REAL_SAMPLE), "--out-dir", str(out), "--monthfirst"])
    assert code == 1
    error = capsys.readouterr().err
    assert "too short to split" in error and "data_quality.json" in error
    report = json.loads((out / "data_quality.json").read_text())
    assert report["status"] == "error" and "too short to split" in report["error"]
    assert report["rows_read"] == 183 and report["rows_kept"] == 177
    assert {k: v for k, v in report["dropped"].items() if v} == {
        "malformed_line": 4,
        "cancellation": 1,
        "non_product": 1,  # the POST line
    }
    assert report["split"]["mode"] == "proportional"
    assert min(report["split"]["rows"].values()) < MIN_SPLIT_ROWS


def test_a_file_with_no_usable_row_says_why_in_its_report(tmp_path):
    lines = REAL_SAMPLE.read_text().splitlines()
    path = tmp_path / "dates.csv"
    path.write_text("\n".join([lines[0], *(line.replace("12/1/10", "2010.12.01") for line in lines[1:])]))
    with pytest.raises(ValueError, match="no usable rows after cleaning: 183 read"):
        prepare(path, tmp_path / "out")
    report = json.loads((tmp_path / "out" / "data_quality.json").read_text())
    assert report["status"] == "error"
    assert report["dropped"]["unparsable_value"] == 179  # every well-formed line: its date is no date
    assert report["unparsable_by_column"] == {"InvoiceDate": 179}


def test_a_few_weeks_get_a_proportional_split_that_trains(small_raw, tmp_path):
    """Three weeks of generated sales: the default 28-day windows would leave no training window."""
    raw = pd.read_csv(small_raw / "online_retail.csv", dtype=str, keep_default_na=False)
    dates = pd.to_datetime(raw["InvoiceDate"], format="%m/%d/%Y %H:%M")
    raw[dates < dates.min() + pd.Timedelta(days=21)].to_csv(tmp_path / "weeks.csv", index=False)
    report = prepare(tmp_path / "weeks.csv", tmp_path / "out")
    split = report["split"]
    assert report["status"] == "ok" and split["mode"] == "proportional"
    assert "would leave 0% of the rows for training" in split["why"]
    rows = split["rows"]
    assert rows["train"] > rows["val"] > 0 and rows["test"] > 0
    assert pd.Timestamp(split["val_start"]) < pd.Timestamp(split["test_start"])
    train = pd.read_parquet(tmp_path / "out" / "train.parquet")
    test = pd.read_parquet(tmp_path / "out" / "test.parquet")
    assert train["invoice_date"].max() < test["invoice_date"].min()  # chronological, never shuffled


def test_explicit_windows_are_used_when_they_leave_enough_training_rows(small_prepared):
    report = json.loads((small_prepared / "data_quality.json").read_text())
    assert report["split"]["mode"] == "calendar windows"
    assert (report["split"]["val_days"], report["split"]["test_days"]) == (28, 28)


def test_three_invoice_times_are_the_least_a_split_needs(tmp_path):
    from pricing.data.prepare import invoice_times, proportional_windows

    two = pd.Series(pd.to_datetime(["2011-01-03 09:00", "2011-01-03 09:00", "2011-01-03 10:00"]))
    with pytest.raises(TooShortError, match="2 distinct invoice time"):
        proportional_windows(invoice_times(two))
    three = pd.Series(pd.to_datetime(["2011-01-03 09:00", "2011-01-03 10:00", "2011-01-03 11:00"]))
    windows = proportional_windows(invoice_times(three))
    assert list(windows.assign(three)) == ["train", "val", "test"]
