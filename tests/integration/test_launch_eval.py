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
