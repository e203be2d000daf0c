"""launch_eval's holdout step: the held-out products' lines and costs leave the files, nothing else does, and the
same seed draws the same products."""

import pandas as pd
import pytest

from pricing.tools import launch_eval

LINES = pd.DataFrame(
    {
        "InvoiceNo": ["1", "1", "2", "3", "4", "5"],
        "StockCode": ["A1", "B2", "A1", "C3", "D4", "E5"],
        "Description": ["RED MUG", "BLUE MUG", "RED MUG", "PINK JUG", "GREEN JUG", ""],
        "Quantity": ["1", "2", "3", "4", "5", "6"],
        "InvoiceDate": ["12/1/2010 8:26"] * 6,
        "UnitPrice": ["1.5", "2", "1.5", "3", "4", "5"],
        "CustomerID": ["17850", "", "17850", "13047", "", "12583"],
        "Country": ["United Kingdom"] * 6,
    }
)
TRUTH = pd.DataFrame({"stockcode": ["A1", "B2", "C3", "D4", "E5", "F6"], "sale_lines": [2, 1, 1, 1, 1, 0]})


@pytest.fixture
def files(tmp_path):
    raw, truth, costs = tmp_path / "raw.csv", tmp_path / "truth.csv", tmp_path / "costs.csv"
    LINES.to_csv(raw, index=False)
    TRUTH.to_csv(truth, index=False)
    pd.DataFrame({"stockcode": TRUTH["stockcode"], "unit_cost": [0.5, 1, 1.5, 2, 2.5, 3]}).to_csv(costs, index=False)
    return raw, truth, costs


def test_holdout_removes_the_chosen_products_lines_and_costs_only(files, tmp_path):
    raw, truth, costs = files
    out, codes_out = tmp_path / "out" / "online_retail.csv", tmp_path / "codes.txt"
    chosen = launch_eval.holdout(raw, truth, 2, 0, out, codes_out, costs)
    assert len(chosen) == 2 and set(chosen) <= {"A1", "B2", "C3", "D4", "E5"}  # F6 never sold: never drawn
    assert codes_out.read_text().split() == chosen
    kept = pd.read_csv(out, dtype=str, keep_default_na=False)
    expected = LINES[~LINES["StockCode"].isin(chosen)].reset_index(drop=True)
    pd.testing.assert_frame_equal(kept, expected)  # the other lines byte for byte, empty cells kept empty
    left = pd.read_csv(out.parent / "costs.csv", dtype={"stockcode": str})
    assert sorted(left["stockcode"]) == sorted(set(TRUTH["stockcode"]) - set(chosen))
    assert launch_eval.holdout(raw, truth, 2, 0, tmp_path / "again.csv", tmp_path / "c2.txt") == chosen
    assert launch_eval.holdout(raw, truth, 5, 1, tmp_path / "all.csv", tmp_path / "c3.txt") == [
        "A1",
        "B2",
        "C3",
        "D4",
        "E5",
    ]


def test_holdout_refuses_more_products_than_sold(files, tmp_path):
    raw, truth, _ = files
    with pytest.raises(ValueError, match="hold out 6 products, the file sold 5"):
        launch_eval.holdout(raw, truth, 6, 0, tmp_path / "x.csv", tmp_path / "c.txt")
    assert not (tmp_path / "x.csv").exists()


def test_the_summary_counts_coverage_and_regret_over_priced_products():
    rows = [
        {"decision": "no_similar_product"},
        *[
            {
                "decision": "test",
                "reference_source": "neighbours_markup",
                "covered": covered,
                "optimum_interior": True,
                "interval_low": 1.0,
                "interval_high": 2.0,
                **{f"{m}_price": 1.5 for m in launch_eval.METHODS},
                **{f"{m}_regret": regret for m in launch_eval.METHODS},
                "neighbours_median_price_regret": 0.5,
            }
            for covered, regret in [(True, 0.0), (True, 0.1), (False, 0.2), (True, 0.6)]
        ],
    ]
    summary = launch_eval.summarise(rows, 2.0, 100, 10)
    assert (summary["held_out"], summary["priced"], summary["no_similar_product"]) == (5, 4, 1)
    assert summary["interval_coverage"] == 0.75
    assert summary["regret"]["launch"]["mean"] == pytest.approx(0.225)
    assert summary["regret"]["launch"]["within_5pct"] == 0.25
    assert summary["launch_beats_neighbours_median_price"] == 0.75
    assert summary["interval_relative_width_median"] == pytest.approx(1 / 1.5, abs=1e-4)
