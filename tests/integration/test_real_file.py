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


# Generator and real file measured the same way (pricing report's fixed-effect elasticities), at most this far apart:
# about twice the spread between the generator's seeds 0 and 1 (-1.048 / -1.109 per line, -1.377 / -1.456 daily).
CALIBRATION_TOLERANCE = 0.15


def test_the_generator_is_calibrated_to_the_real_files_elasticities(tmp_path):
    """Units per line and daily units (stock code x date x country), with stock-code, date and country effects:
    the default generator's figures lie within CALIBRATION_TOLERANCE of the real file's; and so does its
    price structure (the within-day share of log-price variance, the guest premium)."""
    from pricing.data import generate
    from pricing.data.prepare import prepare
    from pricing.tools.report.build import data_splits
    from pricing.tools.report.data_checks import price_structure
    from pricing.tools.report.designs import fixed_effect_elasticities

    def measures(data_dir) -> tuple[dict, dict]:
        """The report's price structure and data_fixed_effects sections (`data_report`'s, without its published
        designs, which take 20 s a file and are not compared here)."""
        splits, every = data_splits(data_dir)
        return price_structure(splits["train"]), fixed_effect_elasticities(every)

    prepare(REAL_FILE, tmp_path / "real")
    generate.write(generate.generate(seed=0), tmp_path / "raw")
    prepare(tmp_path / "raw" / "online_retail.csv", tmp_path / "generated")
    (real_structure, real), (made_structure, made) = measures(tmp_path / "real"), measures(tmp_path / "generated")
    for measure in ("share_within_day", "guest_price_premium_log"):
        assert made_structure[measure] == pytest.approx(real_structure[measure], abs=CALIBRATION_TOLERANCE), measure
    for measure in ("units_per_line", "daily_units"):
        assert made[measure]["elasticity"] == pytest.approx(real[measure]["elasticity"], abs=CALIBRATION_TOLERANCE)
    # and the measure itself sees the orders a price loses: daily units respond more than units per line
    assert real["daily_units"]["elasticity"] < real["units_per_line"]["elasticity"] < 0


def test_the_price_ladder_reads_the_real_files_quantity_breaks_and_guest_premium(cleaned):
    """pricing.data.list_price on the whole cleaned file: 85123A's lines of a 32-unit case pay 2.55 where its
    small lines pay 2.95 (../shared/data/README.md), 22423's lines of 16 or more pay 10.95 against 12.75, and
    guests pay about twice the list (the README: median log premium 0.69)."""
    from pricing.data.list_price import price_ladder

    ladder = price_ladder(cleaned.frame)
    assert ladder.loc["85123A", "break_quantity"] == 32
    assert ladder.loc["85123A", "break_factor"] == pytest.approx(2.55 / 2.95, abs=0.005)
    assert ladder.loc["22423", "break_quantity"] == 16
    assert ladder.loc["22423", "break_factor"] == pytest.approx(10.95 / 12.75, abs=0.005)
    assert 1.9 < ladder["guest_factor"].median() < 2.1
