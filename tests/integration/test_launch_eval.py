"""launch_eval's score step on the session's quick bundle and the small generated file's truth: products priced as
if new (left out of the neighbour catalogue) are scored against the truth's best weekly profit, each figure the
same as recomputed here from the generator's truth."""

import numpy as np
import pandas as pd
import pytest

from pricing.data.generate import load_ground_truth
from pricing.serving.predictor import Predictor
from pricing.tools import launch_eval
from pricing.tools.evaluate import true_revenue

SAMPLES = 60


@pytest.fixture(scope="module")
def scored(store, small_raw, tmp_path_factory):
    bundle = store.fetch()
    products = Predictor(bundle).products.sort_values("lines", ascending=False)
    codes = list(products.index[:6])
    report = launch_eval.score(
        str(store.root), small_raw / "ground_truth.csv", codes, small_raw / "unit_costs.csv", samples=SAMPLES
    )
    out = tmp_path_factory.mktemp("launch_eval")
    return report, launch_eval.write_report(report, out), bundle


def test_each_price_is_scored_against_the_truths_best_weekly_profit(scored, small_raw):
    report, _, bundle = scored
    truth = load_ground_truth(small_raw / "ground_truth.csv")
    costs = pd.read_csv(small_raw / "unit_costs.csv", dtype={"stockcode": str}).set_index("stockcode")["unit_cost"]
    segments = pd.read_csv(small_raw / "ground_truth_customers.csv").set_index("customer_id")["segment"]
    contexts = bundle.contexts()
    contexts["segment"] = contexts["customer_id"].map(segments).fillna("guest").to_numpy()
    predictor = Predictor(bundle)
    priced = [r for r in report["products"] if r["decision"] == "test"]
    assert len(priced) >= 3, report["summary"]
    for row in priced:
        t, cost = truth.loc[row["stockcode"]], float(costs.loc[row["stockcode"]])
        ctx = contexts.iloc[predictor.context_sample(row["stockcode"], SAMPLES)]
        grid = np.round(np.linspace(0.3 * t["base_price"], 3.0 * t["base_price"], launch_eval.EVAL_BINS), 2)
        profit = true_revenue(grid, t, ctx, unit_cost=cost)
        assert row["optimal_price"] == pytest.approx(grid[np.argmax(profit)])
        for method in launch_eval.METHODS[:3]:
            achieved = true_revenue(np.array([row[f"{method}_price"]]), t, ctx, unit_cost=cost)[0]
            assert row[f"{method}_regret"] == pytest.approx(1 - achieved / profit.max(), abs=1e-9)
            # p* is the best of a grid 0.5% of the base price apart: a price between its points beats it by a hair
            assert row[f"{method}_regret"] >= -1e-3
        tolerance = row["half_step"]  # half the launch grid's step: the interval's own resolution
        assert 0 < tolerance < 0.05 * row["launch_price"]
        inside = row["interval_low"] - tolerance <= row["optimal_price"] <= row["interval_high"] + tolerance
        assert row["covered"] == inside
    # a bundle without costs: no cost-plus baseline, and the launch scales by the neighbours' median price
    assert report["summary"]["regret"]["shop_markup"] is None
    assert report["summary"]["reference_sources"] == {"neighbours_median": len(priced)}


def test_the_report_files_hold_every_product_and_the_plot(scored):
    report, paths, _ = scored
    assert pd.read_csv(paths["csv"], dtype={"stockcode": str})["stockcode"].tolist() == [
        r["stockcode"] for r in report["products"]
    ]
    assert paths["png"].stat().st_size > 10_000


def test_the_real_comparison_prices_the_products_the_bundle_never_saw(store, small_raw, small_prepared):
    """launch_eval's real step on the small generated file as if it were a shop's: the products first sold from the
    validation window on that the bundle does not know are the new ones, each compared with its first week's list
    price and what it then sold."""
    import json

    from pricing.experiments.update import read_lines

    since = json.loads((small_prepared / "data_quality.json").read_text())["split"]["val_start"]
    report = launch_eval.real(str(store.root), small_raw / "online_retail.csv", since, samples=SAMPLES)
    lines, _ = read_lines(small_raw / "online_retail.csv")
    first = lines.assign(stockcode=lines["stockcode"].astype(str)).groupby("stockcode")["invoice_date"].min()
    known = set(Predictor(store.fetch()).products.index)
    expected = sorted(c for c in first.index[first >= pd.Timestamp(since)] if c not in known)
    rows = report["products"]
    assert [r["stockcode"] for r in rows] == expected and len(expected) >= 3
    summary = report["summary"]
    assert summary["new_products"] == len(expected) == summary["priced"] + summary["no_similar_product"]
    priced = [r for r in rows if r["decision"] == "test"]
    for row in priced:
        assert set(row["neighbours"].split(";")) <= known  # borrowed from the bundle's products only
        assert row["interval_low"] <= row["launch_price"] <= row["interval_high"]
        assert row["predicted_units_per_week"] > 0 and row["shop_price"] > 0
    ratio = np.log(np.array([r["launch_price"] / r["shop_price"] for r in priced]))
    assert summary["log_launch_over_shop_price"]["median"] == pytest.approx(np.median(ratio), abs=1e-4)
    assert summary["mean_abs_log_error"]["launch_price"] == pytest.approx(np.mean(np.abs(ratio)), abs=1e-4)
