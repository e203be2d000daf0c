import json
import subprocess
import sys

import numpy as np
import pandas as pd
import pytest

from pricing.data.generate import load_ground_truth
from pricing.experiments.update import model_prior
from pricing.serving.decision import CHANGE_PROBABILITY, MIN_RELATIVE_GAIN
from pricing.serving.predictor import Predictor
from pricing.tools.evaluate import UPLIFT_MIN_GAIN, _score, evaluate, true_revenue, write_outputs
from tests.unit.tools.test_passive_bias import analytic_slope


def contexts_for_truth(n: int = 50) -> pd.DataFrame:
    rng = np.random.default_rng(0)
    return pd.DataFrame(
        {
            "segment": rng.choice(["guest", "retail", "wholesale"], n),
            "country": rng.choice(["United Kingdom", "Germany", "EIRE"], n),
            "invoice_date": pd.Timestamp("2011-11-20") + pd.to_timedelta(rng.integers(0, 20, n), unit="D"),
        }
    )


def test_per_line_regret_is_zero_at_the_true_optimum_and_positive_at_a_wrong_price(small_raw):
    truth = load_ground_truth(small_raw / "ground_truth.csv")
    product = truth[truth["optimum_interior"]].iloc[0]  # its true curve peaks inside the range, at theta
    contexts = contexts_for_truth()
    prices = np.linspace(product["price_min"], product["price_max"], 201)

    def revenue_of(p):
        return true_revenue(p, product, contexts, weekly=False)

    revenue = revenue_of(prices)
    p_star = prices[np.argmax(revenue)]
    # wholesale lines pay the tier price: the per-line optimum of the list price is near, not at, theta
    assert abs(p_star - product["theta"]) < 0.2 * product["theta"]
    status_quo = float(revenue_of(np.array([product["price_max"]]))[0])
    at_optimum = _score(prices, revenue, float(p_star), revenue_of, status_quo)
    assert at_optimum["regret"] == pytest.approx(0, abs=1e-12) and at_optimum["price_error"] == 0
    wrong = _score(prices, revenue, float(product["price_min"]), revenue_of, status_quo)
    assert wrong["regret"] > 0 and wrong["price_error"] > 0
    assert not at_optimum["at_range_top"] and not wrong["at_range_top"]
    assert _score(prices, revenue, float(prices[-1]), revenue_of, status_quo)["at_range_top"]


def test_weekly_regret_is_zero_at_the_true_weekly_optimum_and_uplift_is_the_share_of_the_gain(small_raw):
    truth = load_ground_truth(small_raw / "ground_truth.csv")
    contexts = contexts_for_truth()
    outcomes = []
    for _, product in truth.sort_values("sale_lines", ascending=False).head(20).iterrows():
        prices = np.linspace(product["price_min"], product["price_max"], 201)

        def revenue_of(p, product=product):
            return true_revenue(p, product, contexts)

        revenue = revenue_of(prices)
        p_star = float(prices[np.argmax(revenue)])
        status_quo = float(revenue_of(np.array([product["price_max"]]))[0])
        best = _score(prices, revenue, p_star, revenue_of, status_quo)
        assert best["regret"] == pytest.approx(0, abs=1e-12)
        # the optimum captures all of the gain, where the status quo leaves enough of it to score (else no uplift)
        scored = revenue.max() - status_quo >= UPLIFT_MIN_GAIN * revenue.max()
        assert best["uplift_captured"] == (1.0 if scored else None)
        outcomes.append(scored)
        close = revenue.max() * (1 - UPLIFT_MIN_GAIN / 2)  # a status quo leaving half the least gain scored
        assert _score(prices, revenue, p_star, revenue_of, close)["uplift_captured"] is None
        for other in prices[np.abs(prices - p_star) > 2 * (prices[1] - prices[0])][:5]:
            assert _score(prices, revenue, float(other), revenue_of, status_quo)["regret"] > 0
        # the weekly curve includes the lines a price loses: it peaks no higher than the per-line curve
        per_line = true_revenue(prices, product, contexts, weekly=False)
        assert p_star <= prices[np.argmax(per_line)] + 1e-9
        if status_quo < 0.99 * revenue.max():
            middle = (status_quo + revenue.max()) / 2  # a price earning half the possible gain

            def halfway_of(p, middle=middle):
                return np.full(len(p), middle)

            halfway = _score(prices, revenue, p_star, halfway_of, status_quo)
            assert halfway["uplift_captured"] == pytest.approx(0.5)
    assert any(outcomes)  # the top of the range leaves something on the table for some product


def test_the_report_holds_every_model_and_both_baselines_with_plots(store, small_raw, tmp_path):
    report, curves = evaluate(str(store.root), small_raw / "ground_truth.csv", top=4, bins=15, samples=60)
    models = {"network", "network_single", "lightgbm", "svr", "elasticnet"}  # the quick network is a 2-member ensemble
    designs = {"per_line", "incidence_lightgbm", "median_price", "reference_sweep", "decision", "current_price"}
    assert set(report["summary"]) == {*models, *designs} and report["truth"] == "weekly revenue"
    for stats in report["summary"].values():
        assert {
            "median_regret",
            "mean_regret",
            "p90_regret",
            "median_price_error",
            "mean_price_error",
            "p90_price_error",
            "share_at_range_top",
            "median_uplift_captured",
        } <= set(stats)
        assert 0 <= stats["median_regret"] <= stats["p90_regret"] <= 1
        assert 0 <= stats["share_at_range_top"] <= 1
    assert 0 <= report["true_share_at_range_top"] <= 1
    assert len(report["products_detail"]) == 4
    row = report["products_detail"][0]
    assert {"network", "median_price", "reference_sweep"} <= set(row)
    paths = write_outputs(report, curves, tmp_path / "quality.json")
    assert json.loads(paths[0].read_text())["products"] == 4
    names = [p.name for p in paths]
    assert names == ["quality.json", "quality_regret.png", "quality_curves.png", "quality_slopes.png", "quality.md"]
    assert all(p.stat().st_size > 5_000 for p in paths if p.suffix == ".png")
    markdown = paths[-1].read_text()
    assert "## Slopes of weekly units at the current price" in markdown and "| passive_shrunk |" in markdown
    assert all(row["stockcode"] in markdown for row in report["products_detail"])


def test_the_slopes_are_the_truths_the_models_and_the_passive_regressions(store, small_raw):
    samples = 60
    report, _ = evaluate(str(store.root), small_raw / "ground_truth.csv", top=5, bins=10, samples=samples)
    slopes = report["slopes"]
    rows = slopes["per_product"]
    codes = [r["stockcode"] for r in rows]
    assert codes == [r["stockcode"] for r in report["products_detail"]] and len(rows) == 5
    assert slopes["passive_source"] == str(small_raw / "online_retail.csv") and slopes["passive_missing"] is None

    # the truth: the generator's calculus at the bundle's current price, over the product's held-out contexts
    bundle = store.fetch()
    predictor = Predictor(bundle)
    truth = load_ground_truth(small_raw / "ground_truth.csv")
    segments = pd.read_csv(small_raw / "ground_truth_customers.csv").set_index("customer_id")["segment"]
    contexts = bundle.contexts()
    contexts["segment"] = contexts["customer_id"].map(segments).fillna("guest").to_numpy()
    current = np.array([predictor.current_price(code)[0] for code in codes])
    for row, code, price in zip(rows, codes, current, strict=True):
        assert row["current_price"] == pytest.approx(price, abs=1e-4)
        own = contexts.iloc[predictor.context_sample(code, samples)]
        assert row["truth"] == pytest.approx(analytic_slope(price, truth.loc[code], own), abs=2e-3)

    # the model: the experiment update's prior, the API's weekly curve, at the same prices and contexts
    model = model_prior(bundle, np.array(codes), current, samples)
    assert [r["model"] for r in rows] == pytest.approx(model.slope, abs=1e-4)
    assert [r["model_sd"] for r in rows] == pytest.approx(model.slope_sd, abs=1e-4)

    # the summary is its rows'
    summary = slopes["summary"]
    assert set(summary) == {"truth", "model", "passive", "passive_shrunk"}
    truth_slopes = np.array([r["truth"] for r in rows])
    assert summary["truth"]["mean"] == pytest.approx(truth_slopes.mean(), abs=1e-4)
    for name in ("model", "passive", "passive_shrunk"):
        values = np.array([np.nan if r[name] is None else r[name] for r in rows])
        known = np.isfinite(values)
        bias = values[known] - truth_slopes[known]
        s = summary[name]
        assert s["products"] == known.sum() > 0
        assert s["mean"] == pytest.approx(values[known].mean(), abs=1e-4)
        assert s["median"] == pytest.approx(np.median(values[known]), abs=1e-4)
        assert s["bias"]["mean"] == pytest.approx(bias.mean(), abs=1e-4)
        assert s["bias"]["median"] == pytest.approx(np.median(bias), abs=1e-4)
        assert s["share_below_truth"] == pytest.approx(np.mean(bias < 0), abs=1e-4)
    for row in rows:  # the passive regression saw the file's weeks and more than one price for each
        assert row["passive_weeks"] > 10 and row["passive_prices"] >= 2 and row["passive_sd"] > 0


def test_without_a_transaction_file_the_slopes_say_the_passive_regression_was_not_run(store, small_raw, tmp_path):
    alone = tmp_path / "truth_alone"
    alone.mkdir()
    for name in ("ground_truth.csv", "ground_truth_customers.csv"):
        (alone / name).write_bytes((small_raw / name).read_bytes())
    report, _ = evaluate(str(store.root), alone / "ground_truth.csv", top=2, bins=10, samples=30)
    slopes = report["slopes"]
    assert slopes["passive_source"] is None and "--raw" in slopes["passive_missing"]
    assert set(slopes["summary"]) == {"truth", "model"}
    assert all(r["passive"] is None and r["passive_shrunk"] is None for r in slopes["per_product"])
    with pytest.raises(FileNotFoundError, match="no such file"):
        evaluate(str(store.root), alone / "ground_truth.csv", top=2, raw_path=alone / "missing.csv")


def test_the_true_profit_optimum_lies_above_cost_and_has_zero_regret(small_raw):
    truth = load_ground_truth(small_raw / "ground_truth.csv")
    costs = pd.read_csv(small_raw / "unit_costs.csv", dtype={"stockcode": str}).set_index("stockcode")["unit_cost"]
    contexts = contexts_for_truth()
    interior = 0
    for code, product in truth.sort_values("sale_lines", ascending=False).head(30).iterrows():
        cost = float(costs[code])
        prices = np.linspace(product["price_min"], product["price_max"], 401)
        profit = true_revenue(prices, product, contexts, unit_cost=cost)
        p_star = float(prices[np.argmax(profit)])
        assert p_star >= cost
        # brute force on a finer grid agrees, and the optimum earns (p - c) x units
        fine = np.linspace(product["price_min"], product["price_max"], 4001)
        assert p_star == pytest.approx(fine[np.argmax(true_revenue(fine, product, contexts, unit_cost=cost))], abs=0.01)
        revenue = true_revenue(np.array([p_star]), product, contexts)[0]
        assert profit.max() == pytest.approx(revenue * (p_star - cost) / p_star, rel=1e-9)
        interior += product["price_min"] < p_star < product["price_max"]
    assert interior >= 10  # costs put many profit optima inside the range, where revenue's sit at its bottom


def test_with_costs_the_report_scores_profit_the_interval_and_the_decisions(store, small_raw):
    costs = small_raw / "unit_costs.csv"
    report, _ = evaluate(str(store.root), small_raw / "ground_truth.csv", top=4, bins=15, samples=60, costs_path=costs)
    assert report["truth"] == "weekly profit"
    interval, decisions = report["interval"], report["decisions"]
    assert interval["products"] == 4 and 0 <= interval["coverage"] <= 1 and interval["median_relative_width"] >= 0
    assert decisions["products"] == 4 and 0 <= decisions["hold_share"] <= 1
    for row in report["products_detail"]:
        assert row["unit_cost"] > 0 and row["verdict"] in ("change", "hold", "test")
        low, high = row["interval"]
        assert low <= row["network"]["price"] <= high
        held = row["verdict"] in ("hold", "test")  # a test keeps the current price while it runs
        assert row["decision"]["price"] == (row["current_price"]["price"] if held else row["network"]["price"])
    # the threshold table: the service's own defaults reproduce the decisions' share held and median regret
    sweep = {(t["min_probability"], t["min_gain"]): t for t in decisions["by_threshold"]}
    default = sweep[(CHANGE_PROBABILITY, MIN_RELATIVE_GAIN)]
    assert default["hold_share"] == decisions["hold_share"] and default["test_share"] == decisions["test_share"]
    assert default["median_regret"] == pytest.approx(decisions["median_regret_decision"], abs=1e-5)
    shares = [sweep[(t, 0.0)]["hold_share"] for t in (0.5, 0.6, 0.7, 0.8, 0.9)]
    assert shares == sorted(shares)  # a stricter rule never holds less


def test_the_evaluate_command_prints_the_summary(store, small_raw, tmp_path):
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "pricing",
            "evaluate",
            "--store",
            str(store.root),
            "--truth",
            str(small_raw / "ground_truth.csv"),
            "--out",
            str(tmp_path / "q.json"),
            "--top",
            "2",
            "--bins",
            "10",
            "--samples",
            "30",
        ],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    assert "median_price" in done.stdout and "reference_sweep" in done.stdout
    assert "slopes of weekly units at the current price" in done.stdout and "passive_shrunk" in done.stdout
    for name in ("q_regret.png", "q_curves.png", "q_slopes.png", "q.md"):
        assert (tmp_path / name).is_file(), name


def test_the_evaluate_command_refuses_a_missing_raw_file_and_writes_nothing(store, small_raw, tmp_path):
    command = [sys.executable, "-m", "pricing", "evaluate", "--store", str(store.root), "--truth"]
    command += [str(small_raw / "ground_truth.csv"), "--out", str(tmp_path / "q.json"), "--top", "2"]
    done = subprocess.run([*command, "--raw", str(tmp_path / "nope.csv")], capture_output=True, text=True, timeout=300)
    assert done.returncode != 0 and "nope.csv: no such file" in done.stderr
    assert "Traceback" not in done.stderr and list(tmp_path.iterdir()) == []
