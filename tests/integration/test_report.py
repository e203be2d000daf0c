"""`pricing report`: what a bundle learned, on data without a known truth."""

import json

import numpy as np
import pandas as pd
import pytest

from pricing.cli import main
from pricing.tools import report as R


def test_price_structure_splits_the_variance_into_within_day_and_over_time():
    """One product: day 1 at 1 and 4 (a quantity break: log-price variance within the day), day 2 at 2 twice.
    Day means of log price: log 2 and log 2, so nothing varies over time; all of the variance is within the day."""
    rows = pd.DataFrame(
        {
            "stockcode": ["A"] * 4,
            "unit_price": [1.0, 4.0, 2.0, 2.0],
            "invoice_date": pd.to_datetime(
                ["2011-01-03 09:00", "2011-01-03 10:00", "2011-01-04 09:00", "2011-01-04 10:00"]
            ),
            "quantity": [10, 1, 3, 3],
            "customer_id": [1.0, np.nan, 1.0, 2.0],
        }
    )
    structure = R.price_structure(rows)
    assert structure["share_of_product_days_with_2_or_more_prices"] == 0.5
    assert structure["share_within_day"] == 1.0 and structure["share_across_days"] == 0.0
    moved = rows.assign(unit_price=[2.0, 2.0, 4.0, 4.0])  # one price a day, doubled on day 2: all over time
    assert R.price_structure(moved)["share_across_days"] == 1.0


def test_price_structure_measures_the_quantity_breaks_and_the_guest_premium():
    """Day 1: known customers pay 2.00 for 3 units and 1.50 for 120 (a break), a guest pays 4.00; day 2: a known
    customer pays 2.00 for 2 units, a guest 4.00. Below the day's top known price: the 100+ line only; the guest
    premium over that top: log 2 on both days."""
    rows = pd.DataFrame(
        {
            "stockcode": ["A"] * 5,
            "unit_price": [2.0, 1.5, 4.0, 2.0, 4.0],
            "invoice_date": pd.to_datetime(["2011-01-03"] * 3 + ["2011-01-04"] * 2),
            "quantity": [3, 120, 1, 2, 1],
            "customer_id": [1.0, 2.0, np.nan, 1.0, np.nan],
        }
    )
    structure = R.price_structure(rows)
    assert structure["known_lines_below_day_top_by_quantity"] == {"1-5": 0.0, "100+": 1.0}
    assert structure["guest_premium_over_known_same_day_log_median"] == pytest.approx(np.log(2), abs=1e-3)


def test_the_naive_slopes_are_within_products():
    """Two products at very different price levels, each with quantity falling as its price doubles: the
    within-product slope is that of each product, not the across-product one."""
    days = pd.to_datetime(["2011-01-03", "2011-01-04"] * 2)
    rows = pd.DataFrame(
        {
            "stockcode": ["A", "A", "B", "B"],
            "unit_price": [1.0, 2.0, 100.0, 200.0],
            "invoice_date": days,
            "quantity": [7, 3, 7, 3],
            "customer_id": [1.0] * 4,
        }
    )
    slopes = R.naive_slopes(rows)
    expected = (np.log1p(3) - np.log1p(7)) / np.log(2)
    assert slopes["all_lines"] == pytest.approx(expected, abs=1e-3)
    assert slopes["product_day_means"] == pytest.approx(expected, abs=1e-3)


def test_the_held_out_fit_reads_slope_and_correlation():
    realised = np.array([-1.0, -0.5, 0.0, 0.5])
    assert R._fit(realised, realised) == pytest.approx((1.0, 1.0))
    assert R._fit(realised / 2, realised)[0] == pytest.approx(2.0)  # a model that halves the effect: slope 2
    assert R._fit(np.zeros(4), realised) == (0.0, 0.0)  # blind to price
    overflowed = np.array([-1.0, -0.5, 0.0, 0.5, np.inf])
    assert R._fit(overflowed, np.append(realised, 0.0)) == pytest.approx((1.0, 1.0))


def test_pricing_report_on_the_quick_bundle(store, small_prepared, tmp_path, capsys):
    out = tmp_path / "reports" / "report.json"
    argv = ["report", "--store", str(store.root), "--data-dir", str(small_prepared), "--out", str(out)]
    assert main([*argv, "--top", "8", "--bins", "12", "--samples", "60"]) == 0
    report = json.loads(out.read_text())
    models = ["network", "lightgbm", "svr", "elasticnet"]
    assert list(report["recommendations"]["per_model"]) == models
    assert len(report["recommendations"]["agreement_median_abs_log_difference"]) == 6
    assert len(report["recommendation_rows"]) == 8 * 4
    for summary in report["recommendations"]["per_model"].values():
        assert 0 <= summary["share_at_bottom"] + summary["share_at_top"] <= 1
        assert summary["ratio_q25"] <= summary["median_ratio"] <= summary["ratio_q75"]
    assert set(report["metrics"]) == {*models, "baseline"}
    assert set(report["price_effect"]) == {"all_lines", "list_price_lines"}
    lines = report["price_effect"]["all_lines"]
    assert lines["products"] > 0 and set(lines["per_model"]) == set(models)
    assert len(lines["points"]["realised"]) == lines["products"]
    # the network's demand falls with price by construction: above the median it predicts fewer units per line
    assert lines["per_model"]["network"]["median_predicted_log_ratio"] < 0
    at_list = report["price_effect"]["list_price_lines"]  # the quick bundle's 5,000 contexts hold few such lines
    assert (lines["min_lines_per_side"], at_list["min_lines_per_side"]) == (10, 3)
    assert len(at_list["points"]["realised"]) == at_list["products"]
    elasticity = report["elasticity"]["models_at_median_price"]
    assert elasticity["network"]["median"] < 0
    assert report["elasticity"]["published_daily_units"]["double machine learning"] == -1.85
    structure = report["price_structure"]
    assert structure["share_within_day"] + structure["share_across_days"] == pytest.approx(1, abs=0.002)
    for name in ("report.md", "report_recommendations.png", "report_price_effect.png"):
        assert (out.parent / name).stat().st_size > 1000, name
    markdown = (out.parent / "report.md").read_text()
    assert "Poisson deviance" in markdown and "published: double machine learning" in markdown
    assert "network" in capsys.readouterr().out
