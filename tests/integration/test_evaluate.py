import json
import subprocess
import sys

import numpy as np
import pandas as pd
import pytest

from pricing.data.generate import load_ground_truth
from pricing.tools.evaluate import _score, evaluate, true_revenue, write_outputs


def contexts_for_truth(n: int = 50) -> pd.DataFrame:
    rng = np.random.default_rng(0)
    return pd.DataFrame(
        {
            "segment": rng.choice(["guest", "retail", "wholesale"], n),
            "country": rng.choice(["United Kingdom", "Germany", "EIRE"], n),
            "invoice_date": pd.Timestamp("2011-11-20") + pd.to_timedelta(rng.integers(0, 20, n), unit="D"),
        }
    )


def test_regret_is_zero_at_the_true_optimum_and_positive_at_a_wrong_price(small_raw):
    truth = load_ground_truth(small_raw / "ground_truth.csv")
    product = truth[truth["optimum_interior"]].iloc[0]  # its true curve peaks inside the range, at theta
    contexts = contexts_for_truth()
    prices = np.linspace(product["price_min"], product["price_max"], 201)
    revenue = true_revenue(prices, product, contexts)
    p_star = prices[np.argmax(revenue)]
    assert p_star == pytest.approx(product["theta"], abs=prices[1] - prices[0])

    at_optimum = _score(prices, revenue, float(p_star), product, contexts)
    assert at_optimum["regret"] == pytest.approx(0, abs=1e-12) and at_optimum["price_error"] == 0
    wrong = _score(prices, revenue, float(product["price_min"]), product, contexts)
    assert wrong["regret"] > 0 and wrong["price_error"] > 0
    # the regret is exactly the shortfall of true revenue: (1 + d) e^-d of the best for p = theta (1 + d)
    d = product["price_min"] / product["theta"] - 1
    assert wrong["regret"] == pytest.approx(1 - (1 + d) * np.exp(-d), rel=1e-3)
    assert not at_optimum["at_range_top"] and not wrong["at_range_top"]
    assert _score(prices, revenue, float(prices[-1]), product, contexts)["at_range_top"]


def test_the_report_holds_every_model_and_both_baselines_with_plots(store, small_raw, tmp_path):
    report, curves = evaluate(str(store.root), small_raw / "ground_truth.csv", top=4, bins=15, samples=60)
    models = {"network", "network_single", "lightgbm", "svr", "elasticnet"}  # the quick network is a 2-member ensemble
    assert set(report["summary"]) == {*models, "median_price", "reference_sweep"}
    for stats in report["summary"].values():
        assert {
            "median_regret",
            "mean_regret",
            "p90_regret",
            "median_price_error",
            "mean_price_error",
            "p90_price_error",
            "share_at_range_top",
        } <= set(stats)
        assert 0 <= stats["median_regret"] <= stats["p90_regret"] <= 1
        assert 0 <= stats["share_at_range_top"] <= 1
    assert 0 <= report["true_share_at_range_top"] <= 1
    assert len(report["products_detail"]) == 4
    row = report["products_detail"][0]
    assert {"network", "median_price", "reference_sweep"} <= set(row)
    paths = write_outputs(report, curves, tmp_path / "quality.json")
    assert json.loads(paths[0].read_text())["products"] == 4
    assert all(p.stat().st_size > 5_000 for p in paths[1:])


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
    assert (tmp_path / "q_regret.png").is_file() and (tmp_path / "q_curves.png").is_file()
