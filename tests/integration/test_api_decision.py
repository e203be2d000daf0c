"""GET /v1/price-decision on the stand-in predictor (known curves, the real decision code): the objective and
its cost, the rules and their 400s, the current price, the interval, the support flags, the observed history,
and that /v1/predict-price answers from the same decision."""

import pytest

from pricing.config import Settings
from pricing.serving.app import create_app
from tests.standins import EVIDENCE, HISTORY, StandInPredictor

CODE = "85123A"  # sold at 2.55-3.25, current price 2.95


@pytest.fixture
def client():
    return create_app(Settings(env="test"), predictor=StandInPredictor()).test_client()


def decision(client, query: str = "") -> dict:
    response = client.get(f"/v1/price-decision/{CODE}?{query}")
    assert response.status_code == 200, response.get_json()
    return response.get_json()


def test_the_decision_reports_the_current_price_and_the_expected_change(client):
    body = decision(client)
    current = EVIDENCE.loc[CODE]
    assert body["current"]["price"] == current["current_price"] and body["current"]["date"] == "2011-12-09"
    # weekly revenue with incidence elasticity -1.5 and per-line -0.5: the bottom of the range wins
    assert body["recommended"]["price"] == 2.55 and body["objective"] == "revenue"
    change = body["expected_change"]
    assert change["sales"] == pytest.approx(body["recommended"]["sales"] - body["current"]["sales"], abs=1e-3)
    assert body["recommended"]["sales"] == pytest.approx(
        body["recommended"]["price"] * body["recommended"]["units"], rel=1e-4
    )
    assert body["per"] == "week" and body["model"] == "standin"


def test_profit_needs_a_cost_and_says_so_without_one(client):
    body = decision(client, "objective=profit")
    assert body["objective"] == "revenue" and "needs a unit cost" in body["objective_note"]
    with_cost = decision(client, "objective=profit&unit_cost=2.5")
    assert with_cost["objective"] == "profit" and with_cost["unit_cost_source"] == "query"
    # total elasticity -2 with cost 2.5: the profit optimum 2 x 2.5 = 5 lies above the range, so its top
    assert with_cost["recommended"]["price"] == 3.25
    assert with_cost["recommended"]["profit"] == pytest.approx(
        (3.25 - 2.5) * with_cost["recommended"]["units"], rel=1e-4
    )


def test_a_binding_rule_reports_its_cost_and_the_unconstrained_optimum(client):
    body = decision(client, "unitprice_min=1&unitprice_max=3.25&floor=2&price_ending=0.99")
    assert body["unconstrained"]["price"] == 1.0
    assert body["recommended"]["price"] == 2.99  # 1.99 is below the floor, 2.00 does not end in .99
    binding = {rule["rule"]: rule for rule in body["rules"]}
    assert binding["floor"]["binding"] and binding["price_ending"]["binding"]
    assert all(rule["cost"] >= 0 for rule in body["rules"])


@pytest.mark.parametrize(
    ("query", "names"),
    [
        ("floor=3.2&ceiling=2.8", ("floor", "ceiling")),
        ("max_change=0.01&price_ending=0.75", ("max_change", "price_ending")),
        ("min_margin=0.2", ("min_margin",)),  # no cost to judge a margin by
    ],
)
def test_rules_that_admit_no_price_are_a_400_naming_them(client, query, names):
    response = client.get(f"/v1/price-decision/{CODE}?{query}")
    assert response.status_code == 400
    for name in names:
        assert name in response.get_json()["error"]


@pytest.mark.parametrize(
    "query", ["max_change=1.5", "price_ending=0.999", "objective=margin", "min_margin=abc", "min_probability=1.2"]
)
def test_malformed_rules_are_a_400_naming_the_parameter(client, query):
    response = client.get(f"/v1/price-decision/{CODE}?{query}")
    assert response.status_code == 400 and query.split("=")[0] in response.get_json()["error"]


def test_the_interval_holds_the_recommended_price_and_the_decision_follows_the_probability(client):
    body = decision(client, "objective=profit&unit_cost=1.0")
    low, high = body["interval"]["price"]
    assert low <= body["recommended"]["price"] <= high
    low, high = body["interval"]["objective"]
    assert low <= body["recommended"]["objective"] <= high
    probability = body["probability_beats_current"]
    assert 0 <= probability <= 1
    assert body["decision"] == ("change" if probability >= 0.5 else "hold")
    assert body["price_to_set"] == (body["recommended"]["price"] if body["decision"] == "change" else 2.95)
    # a manager's own thresholds: above the probability the draws give, the decision holds and says why
    strict = decision(client, f"objective=profit&unit_cost=1.0&min_probability={min(probability + 0.01, 1):.4f}")
    assert strict["decision"] == "hold" and strict["price_to_set"] == 2.95
    assert "of the model's draws" in strict["decision_reason"]


def test_bins_outside_the_sold_range_are_flagged(client):
    rows = decision(client, "unitprice_min=1&unitprice_max=6&num_price_bins=11")["curve"]
    flags = {row["unit_price"]: row["in_support"] for row in rows}
    assert flags[1.0] is False and flags[3.0] is True and flags[6.0] is False


def test_the_observed_history_comes_with_the_decision(client):
    observed = decision(client)["observed"]
    assert [point["price"] for point in observed] == list(HISTORY.loc[CODE, "price"])
    assert observed[0]["sales_per_week"] == pytest.approx(2.55 * 700.0)


def test_predict_price_answers_from_the_same_decision(client):
    query = "objective=profit&unit_cost=2.5&num_price_bins=7"
    rows = client.get(f"/v1/predict-price/{CODE}?{query}").get_json()
    body = decision(client, query)
    assert rows == body["curve"] and len(rows) == 7
    assert {row["optimal_unit_price"] for row in rows} == {body["recommended"]["price"]}
    first = rows[0]
    assert first["profit_per_week"] == pytest.approx((first["unit_price"] - 2.5) * first["units_per_week"], rel=1e-4)


def test_a_current_price_the_rules_forbid_is_never_held(client):
    body = decision(client, "floor=3.1")  # the current price, 2.95, is below the floor
    assert body["decision"] == "change" and "floor" in body["decision_reason"]
    assert body["price_to_set"] == body["recommended"]["price"] >= 3.1


def test_profit_without_a_cost_answers_exactly_as_revenue(client):
    revenue, profit = decision(client), decision(client, "objective=profit")
    for field in ("recommended", "interval", "probability_beats_current", "decision"):
        assert profit[field] == revenue[field]


def test_an_optimum_at_the_end_of_the_swept_range_is_flagged(client):
    body = decision(client)  # weekly revenue falls with price here: the bottom of the range
    assert body["support"]["recommendation_at_range_edge"] == "low"
    middle = decision(client, "objective=profit&unit_cost=1.4&unitprice_min=2&unitprice_max=4")
    assert middle["recommended"]["price"] == pytest.approx(2.8, abs=0.03)  # c e / (e + 1) with e = -2
    assert middle["support"]["recommendation_at_range_edge"] is None
