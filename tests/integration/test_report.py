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


def test_the_data_report_carries_each_published_design_with_the_published_figure(small_prepared, tmp_path, capsys):
    """`pricing report --data-only`: the four published designs, each with its published figure, both samples
    (the generated file has no one-off bulk customer: the same rows, said so), an estimate with its CI and the
    observations; the calibration measures under the keys the generator's test reads; the chart beside."""
    out = tmp_path / "data" / "report.json"
    assert main(["report", "--data-only", "--data-dir", str(small_prepared), "--out", str(out)]) == 0
    elasticity = json.loads(out.read_text())["elasticity"]
    published = elasticity["published_designs"]
    assert list(published["designs"]) == ["naive", "log_normal", "poisson", "double_ml"]
    figures = {key: d["published"] for key, d in published["designs"].items()}
    assert figures == {"naive": -0.6, "log_normal": -1.8, "poisson": -2.9, "double_ml": -1.85}
    assert published["designs"]["double_ml"]["published_range"] == [-1.9, -1.8]
    assert published["bulk_customers"]["found"] == [] and published["bulk_customers"]["same_rows"]
    assert "none in these rows" in published["bulk_customers"]["note"]
    cells = published["aggregation"]["cells"]["all_customers"]
    for design in published["designs"].values():
        for sample in ("all_customers", "without_bulk_customers"):
            e = design[sample]
            assert e["ci95"][0] < e["elasticity"] < e["ci95"][1] and e["se"] > 0
            assert 0.9 * cells <= e["observations"] <= cells
    assert published["designs"]["poisson"]["method"].startswith("pyfixest fepois")
    assert published["designs"]["double_ml"]["method"].startswith("DoubleML PLR")
    fixed = elasticity["data_fixed_effects"]
    assert fixed["daily_units"]["elasticity"] < 0 and fixed["units_per_line"]["observations"] > cells
    assert (out.parent / "report_elasticity.png").stat().st_size > 1000
    printed = capsys.readouterr().out
    assert "about -2.9" in printed and "same rows" in printed and "report_elasticity.png" in printed


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
    # each side of a product counted holds at least the stated number of lines, so its realised ratio rests on them
    for effect in (lines, at_list):
        assert effect["min_lines_per_side"] >= 1 and effect["products"] > 0
        assert effect["lines"] >= 2 * effect["min_lines_per_side"] * effect["products"]
        assert np.isfinite(effect["points"]["realised"]).all()  # a side without lines would make it NaN
    assert at_list["min_lines_per_side"] < lines["min_lines_per_side"]
    assert len(at_list["points"]["realised"]) == at_list["products"]
    elasticity = report["elasticity"]["models_at_median_price"]
    assert elasticity["network"]["median"] < 0
    # the bundle's weekly curve: fewer order lines and fewer units per line at a higher price, and the two
    # factors' elasticities add up to the weekly one (each a median over the same products, so about)
    weekly = report["elasticity"]["model_weekly_units"]
    assert weekly["products"] == 8 and weekly["median"] < 0
    assert weekly["orders_per_week"]["median"] < 0 and weekly["units_per_line"]["median"] < 0
    parts = weekly["orders_per_week"]["median"] + weekly["units_per_line"]["median"]
    assert weekly["median"] == pytest.approx(parts, abs=0.05)
    structure = report["price_structure"]
    assert structure["share_within_day"] + structure["share_across_days"] == pytest.approx(1, abs=0.002)
    for name in ("report.md", "report_recommendations.png", "report_price_effect.png", "report_elasticity.png"):
        assert (out.parent / name).stat().st_size > 1000, name
    markdown = (out.parent / "report.md").read_text()
    assert "Poisson deviance" in markdown
    assert "| design | ours, all customers (95% CI) | ours, without the one-off bulk customers |" in markdown
    # each published design's row sets our estimate beside the published figure, as the JSON holds both; the
    # figures the report carries as published are the ones those rows show
    designs = report["elasticity"]["published_designs"]["designs"]
    table = [line.split("|")[1:-1] for line in markdown.splitlines() if line.startswith("| daily units: ")]
    rows = {cells[0].strip(): [c.strip() for c in cells[1:]] for cells in table}
    for design in designs.values():
        (row,) = [cells for name, cells in rows.items() if name.startswith(f"daily units: {design['label']} (")]
        ours = design["all_customers"]
        assert row[0] == f"{ours['elasticity']:.2f} ({ours['ci95'][0]:.2f} to {ours['ci95'][1]:.2f})"
        assert row[-1] == design["published_text"]
        if design.get("published_range"):
            low, high = design["published_range"]
            assert low <= design["published"] <= high and f"{high} to {low}" == design["published_text"]
        else:
            assert design["published_text"] == f"about {design['published']}"
    assert sorted(report["elasticity"]["published_daily_units"].values()) == sorted(
        design["published"] for design in designs.values()
    )
    assert "bundle: weekly units" in markdown and "![elasticity](report_elasticity.png)" in markdown
    printed = capsys.readouterr().out
    assert "network" in printed and "bundle: weekly units" in printed
