"""A price test's result becomes the next decision (issue 25: "a price test with guardrails, then a decision from
its result"): a bundle carrying `pricing experiment update`'s tables (experiment_evidence.parquet,
experiment_weeks.parquet) serves each tested product's curve at the test's elasticity, draws its interval from the
test's posterior, and counts the tested prices as sold at (pricing.serving.learnt); a held-out product is
answered as before. On the session's quick bundle."""

import json
import shutil

import numpy as np
import pandas as pd
import pytest

from pricing.artifacts.bundle import MANIFEST, copy_bundle, open_bundle, sha256_of
from pricing.serving.decision_json import to_json
from pricing.serving.learnt import EXPERIMENT_EVIDENCE, EXPERIMENT_WEEKS
from pricing.serving.predictor import Predictor
from pricing.serving.request import PriceRequest

STEP = 0.05  # the central difference's half step in log price, as update.model_prior's


def weekly_slope(predictor: Predictor, code: str, p0: float) -> float:
    """-d log(units per week) / d log(price) at p0 on the served curve."""
    prices = p0 * np.exp(np.array([-STEP, 0.0, STEP]))
    units = predictor.curve(PriceRequest(code, float(prices[0]), float(prices[-1]), 3, 200), prices)
    units = np.asarray(units.result.units_per_week, dtype=float)
    return float(-(np.log(units[2]) - np.log(units[0])) / (2 * STEP))


def decide(predictor: Predictor, code: str, p0: float):
    """The profit decision at a unit cost of half the status-quo price, over +-30% of it."""
    request = PriceRequest(
        code, round(p0 * 0.7, 2), round(p0 * 1.3, 2), 61, 200, objective="profit", unit_cost=round(p0 / 2, 2)
    )
    return predictor.decide(request)


@pytest.fixture(scope="module")
def parent(quick_bundle):
    return Predictor(open_bundle(quick_bundle, lazy_models=True))


@pytest.fixture(scope="module")
def codes(parent):
    return [str(c) for c in parent.products.sort_values("lines", ascending=False).index[:3]]


@pytest.fixture(scope="module")
def taught(quick_bundle, parent, codes, tmp_path_factory):
    """The quick bundle plus a test's tables: the first two best sellers tested at +-20% of their current
    price for 10 weeks, with a posterior elasticity of 2.25 (profit optimum at a cost of half the price:
    c b / (b - 1) = 0.9 x the price) and sd 0.05; the third held out."""
    bundle = open_bundle(quick_bundle, lazy_models=True)
    rows, weeks = [], []
    for j, code in enumerate(codes):
        p0 = parent.current_price(code)[0]
        tested = j < 2
        prior = weekly_slope(parent, code, p0)
        rows.append(
            {
                "stockcode": code,
                "slope_mean": 2.25 if tested else prior,
                "slope_sd": 0.05 if tested else 0.2,
                "prior_mean": prior,
                "prior_sd": 0.2,
                "status_quo_price": p0,
                "weeks": 10,
                "units": 1000.0,
                "prices_seen": 5 if tested else 1,
                "tested": tested,
                "state": "monetising" if tested else "holdout",
            }
        )
        arms = np.round(p0 * np.array([0.8, 0.9, 1.0, 1.1, 1.2]), 2) if tested else np.full(5, p0)
        for w, price in enumerate(np.repeat(arms, 2)):
            weeks.append({"stockcode": code, "week": f"2026-W{10 + w:02d}", "price": float(price)})
    target = copy_bundle(bundle, "bundle-taught-")
    pd.DataFrame(rows).to_parquet(target / EXPERIMENT_EVIDENCE, index=False)
    pd.DataFrame(weeks).to_parquet(target / EXPERIMENT_WEEKS, index=False)
    manifest = json.loads(json.dumps(bundle.manifest))
    manifest["files"] = {
        **manifest["files"],
        **{name: sha256_of(target / name) for name in (EXPERIMENT_EVIDENCE, EXPERIMENT_WEEKS)},
    }
    (target / MANIFEST).write_text(json.dumps(manifest))
    yield Predictor(open_bundle(target, lazy_models=True))
    shutil.rmtree(target, ignore_errors=True)


def test_a_tested_products_curve_has_the_tests_elasticity_at_its_status_quo_price(parent, taught, codes):
    for code in codes[:2]:
        p0 = parent.current_price(code)[0]
        assert weekly_slope(taught, code, p0) == pytest.approx(2.25, abs=0.01)
        assert abs(weekly_slope(parent, code, p0) - 2.25) > 0.1  # the test did move it
    # away from p0 the network's own shape is kept: the ratio of the two curves is exactly the tilt
    code = codes[0]
    p0 = parent.current_price(code)[0]
    prices = p0 * np.linspace(0.7, 1.3, 7)
    request = PriceRequest(code, float(prices[0]), float(prices[-1]), 7, 200)
    ratio = taught.curve(request, prices).result.units_per_week / parent.curve(request, prices).result.units_per_week
    assert ratio == pytest.approx(taught.learnt[code].tilt(prices), rel=1e-9)


def test_the_test_turns_a_test_verdict_into_a_change_within_the_tested_prices(parent, taught, codes):
    for code in codes[:2]:
        p0 = parent.current_price(code)[0]
        before, after = decide(parent, code, p0), decide(taught, code, p0)
        body = to_json(after)
        assert before.verdict[0] != "change"  # the passive model alone would not change it
        assert after.verdict[0] == "change", after.verdict[1]
        # the test's optimum, 0.9 x p0 up to the network's curvature, inside the prices the test charged
        assert 0.8 * p0 <= after.price_to_set < 0.97 * p0
        low, high = before.facts.support  # the list prices sold at before the test
        assert after.facts.support == pytest.approx((min(low, round(p0 * 0.8, 2)), max(high, round(p0 * 1.2, 2))))
        assert not body["support"]["recommendation_outside"]
        assert body["experiment_evidence"]["elasticity"] == 2.25
        assert body["experiment_evidence"]["tested_prices"] == [round(p0 * 0.8, 2), round(p0 * 1.2, 2)]
        # the interval is the test's: sd 0.05 pins the optimum far tighter than the bundle's evidence did
        width = np.diff(after.confidence.price_interval)[0]
        assert width < 0.5 * np.diff(before.confidence.price_interval)[0]
        assert after.confidence.probability_beats_current > 0.9


def test_a_held_out_product_is_answered_as_before(parent, taught, codes):
    code = codes[2]
    p0 = parent.current_price(code)[0]
    before, after = to_json(decide(parent, code, p0)), to_json(decide(taught, code, p0))
    assert after["experiment_evidence"] is None
    assert after == before
