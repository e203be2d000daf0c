"""A new product's decision after its first weeks (pricing.serving.launched) and how the evidence table names new
products (pricing.serving.learnt.new_products), on stand-in neighbours with known constant-elasticity curves: no
trained bundle."""

from __future__ import annotations

import dataclasses

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pricing.serving import launched
from pricing.serving.launch import LaunchDecision, Neighbour
from pricing.serving.learnt import LearntSlope, NewProduct, learnt_slopes, new_products
from pricing.serving.request import LaunchRequest, PriceRequest
from pricing.serving.sweep import SweepResult

STEP = 0.05


class Neighbours:
    """Stand-in Predictor: neighbour k sells orders_k x (p / c_k) ** -e_k order lines a week of `per_line` units."""

    def __init__(self, codes, current, elasticity, orders, per_line=2.0):
        self.table = {
            c: (float(p), float(e), float(o)) for c, p, e, o in zip(codes, current, elasticity, orders, strict=True)
        }
        self.per_line = per_line

    def curve(self, request: PriceRequest, prices, only=None, monotone=False):
        from pricing.serving.predictor import Recommendation

        current, elasticity, orders = self.table[request.stockcode]
        prices = np.asarray(prices, dtype=float)
        lines = orders * (prices / current) ** -elasticity
        quantity = np.full(len(prices), self.per_line)
        result = SweepResult(prices, quantity, quantity * 0.5, quantity * 2, quantity, lines)
        return Recommendation(request.stockcode, result, "stand-in", "stand-in-incidence")


def launch_of(predictor: Neighbours, p0: float, similarity) -> LaunchDecision:
    """A LaunchDecision as launch_decision builds it for reference price p0 (scale `query`: c_k / p0), over a
    grid around p0, with the stand-in's curves."""
    codes = list(predictor.table)
    current = np.array([predictor.table[c][0] for c in codes])
    scale = current / p0
    prices = np.round(np.linspace(0.6 * p0, 1.5 * p0, 31), 2)
    units = []
    for k, code in enumerate(codes):
        own = prices * scale[k]
        units.append(predictor.curve(PriceRequest(code, own[0], own[-1], 2, 10), own).result.units_per_week)
    similarity = np.asarray(similarity, dtype=float)
    fields = {
        "request": LaunchRequest("GREEN STRAWBERRY JAR", None, p0),
        "neighbours": [Neighbour(c, f"D {c}", float(s)) for c, s in zip(codes, similarity, strict=True)],
        "current_prices": current,
        "neighbour_costs": None,
        "scale": scale,
        "neighbour_units": np.vstack(units),
        "weights": similarity / similarity.sum(),
        "reference": p0,
        "reference_source": "query",
        "prices": prices,
        "model": "stand-in",
        "incidence_model": "stand-in-incidence",
    }
    # the fields launch_curve does not read (the launch's own decision) are left empty
    empty = {f.name: None for f in dataclasses.fields(LaunchDecision) if f.name not in fields}
    return LaunchDecision(**fields, **empty)


def product(p0=2.0, prior=1.5, posterior=2.2, sd=0.08, tested=(1.6, 2.4), cost=None) -> NewProduct:
    return NewProduct("90001A", "GREEN STRAWBERRY JAR", ("A", "B"), cost, LearntSlope(prior, posterior, sd, p0, 12,
                      tested, "monetising"))  # fmt: skip


def log_slope(units: np.ndarray, prices: np.ndarray) -> float:
    return float(-(np.log(units[-1]) - np.log(units[0])) / (np.log(prices[-1]) - np.log(prices[0])))


def expected_mix(predictor: Neighbours, decision: LaunchDecision, prices: np.ndarray) -> np.ndarray:
    """The launch mix written out from launch.py's docstring for the stand-in's closed-form curves: each
    neighbour's units at p x scale over its units at its current price, weighted, times the weighted mean level."""
    shapes, levels = [], []
    for k, (current, elasticity, orders) in enumerate(predictor.table.values()):
        level = orders * predictor.per_line  # units per week at its current price
        units = orders * (prices * decision.scale[k] / current) ** -elasticity * predictor.per_line
        shapes.append(units / level)
        levels.append(level)
    return float(decision.weights @ np.array(levels)) * (decision.weights @ np.vstack(shapes))


curves = st.lists(
    st.tuples(
        st.floats(0.3, 20.0),  # current price
        st.floats(0.5, 3.5),  # elasticity
        st.floats(0.5, 500.0),  # order lines a week at the current price
        st.floats(0.35, 1.0),  # similarity
    ),
    min_size=1,
    max_size=5,
)


@settings(max_examples=60, deadline=None)
@given(curves, st.floats(0.5, 10.0))
def test_the_launch_curve_is_launch_pys_mix_at_any_price(neighbours, p0):
    p0 = round(p0, 2)
    codes = [f"N{k}" for k in range(len(neighbours))]
    current, elasticity, orders, similarity = (np.array(v) for v in zip(*neighbours, strict=True))
    predictor = Neighbours(codes, current, elasticity, orders)
    decision = launch_of(predictor, p0, similarity)
    prices = p0 * np.exp(np.linspace(-0.4, 0.4, 9))
    curve = launched.launch_curve(predictor, decision, prices, 10)
    np.testing.assert_allclose(curve.units, expected_mix(predictor, decision, prices), rtol=1e-6)
    # units per line times order lines is the curve itself (the SweepResult the decision reads)
    assert np.all(curve.orders > 0)


@settings(max_examples=60, deadline=None)
@given(curves, st.floats(0.5, 10.0), st.floats(0.5, 3.5), st.floats(0.5, 3.5), st.floats(0.01, 0.5))
def test_the_served_curve_has_the_posteriors_elasticity_at_p0(neighbours, p0, prior, posterior, sd):
    """The tilt (p / p0) ** -(b - b0) adds b - b0 to the launch curve's elasticity everywhere; with b0 the launch
    curve's own central difference at p0 (as the update measures it) the served elasticity there is b."""
    p0 = round(p0, 2)
    codes = [f"N{k}" for k in range(len(neighbours))]
    current, elasticity, orders, similarity = (np.array(v) for v in zip(*neighbours, strict=True))
    predictor = Neighbours(codes, current, elasticity, orders)
    decision = launch_of(predictor, p0, similarity)
    prices = p0 * np.exp(np.array([-STEP, 0.0, STEP]))
    b0 = log_slope(launched.launch_curve(predictor, decision, prices, 10).units, prices)
    source = launched.LaunchedSource(predictor, product(p0, b0, posterior, sd))
    source.launched = decision
    request = PriceRequest("90001A", float(prices[0]), float(prices[-1]), 3, 10)
    result = source.curve(request, prices).result
    assert log_slope(result.units_per_week, prices) == pytest.approx(posterior, abs=1e-9)
    assert result.units_per_week[1] == pytest.approx(
        launched.launch_curve(predictor, decision, prices, 10).units[1], rel=1e-12
    )  # the tilt is 1 at p0: the level is the neighbours'
    (term_sd, term), *rest = source.slope_terms("90001A", prices, p0, True)
    assert not rest and term_sd == sd and term == pytest.approx(np.log(prices / p0))


def test_facts_support_and_range_come_from_the_test_weeks():
    item = product(p0=2.0, tested=(1.6, 2.4), cost=0.9)
    source = launched.LaunchedSource(Neighbours(["A"], [1.0], [2.0], [10.0]), item)
    facts = source.facts(PriceRequest("90001A", 1.0, 3.0, 10, 10))
    assert facts.current_price == 2.0 and facts.current_source == launched.STATUS_QUO_SOURCE
    assert facts.support == (1.6, 2.4) and facts.learnt is item.slope
    assert (facts.unit_cost, facts.unit_cost_source) == (0.9, "experiment_evidence")
    asked = source.facts(PriceRequest("90001A", 1.0, 3.0, 10, 10, unit_cost=0.5))
    assert (asked.unit_cost, asked.unit_cost_source) == (0.5, "query")
    assert launched.default_range(item) == (1.28, 2.88)  # 1.6 x 0.8 and 2.4 x 1.2, whole pence
    no_weeks = product(p0=2.0, tested=None)
    assert launched.LaunchedSource(None, no_weeks).facts(PriceRequest("x", 1, 3, 10, 10)).support == (2.0, 2.0)


def evidence_table(new_flags) -> pd.DataFrame:
    n = len(new_flags)
    return pd.DataFrame(
        {
            "stockcode": [f"C{j}" for j in range(n)],
            "slope_mean": np.full(n, 2.0),
            "slope_sd": np.full(n, 0.1),
            "prior_mean": np.full(n, 1.5),
            "prior_sd": np.full(n, 0.3),
            "status_quo_price": np.full(n, 2.0),
            "weeks": np.full(n, 8),
            "units": np.full(n, 100.0),
            "prices_seen": np.full(n, 3),
            "tested": np.ones(n, dtype=bool),
            "state": ["learning"] * n,
            "new_product": list(new_flags),
            "description": [f"THING {j}" for j in range(n)],
            "neighbours": ["A;B" if f else "" for f in new_flags],
            "unit_cost": [0.8 if j % 2 else np.nan for j in range(n)],
        }
    )


@given(st.lists(st.booleans(), min_size=1, max_size=12))
def test_a_tested_row_is_a_learnt_slope_or_a_new_product_never_both(new_flags):
    table = evidence_table(new_flags)
    known, new = learnt_slopes(table, None), new_products(table, None)
    assert set(known) == {f"C{j}" for j, f in enumerate(new_flags) if not f}
    assert set(new) == {f"C{j}" for j, f in enumerate(new_flags) if f}
    for code, item in new.items():
        j = int(code[1:])
        assert item.neighbours == ("A", "B") and item.description == f"THING {j}"
        assert item.unit_cost == (0.8 if j % 2 else None)


def test_a_table_written_before_new_products_holds_known_products_only():
    table = evidence_table([False, False]).drop(columns=["new_product", "description", "neighbours", "unit_cost"])
    assert set(learnt_slopes(table, None)) == {"C0", "C1"} and new_products(table, None) == {}


def test_a_new_products_weeks_are_its_observed_points_by_price():
    table = evidence_table([True])
    weeks = pd.DataFrame(
        {
            "stockcode": ["C0"] * 5,
            "week": [f"2026-W0{k}" for k in range(1, 6)],
            "price": [np.nan, 2.0, 2.0, 1.6, 2.4],
            "units": [0.0, 10.0, 14.0, 20.0, 6.0],
            "orders": [0, 5, 7, 10, 3],
        }
    )
    item = new_products(table, weeks)["C0"]
    assert item.slope.tested_prices == (1.6, 2.4)
    assert [(o["price"], o["weeks"], o["units_per_week"], o["sales_per_week"]) for o in item.observed] == [
        (1.6, 1, 20.0, 32.0),
        (2.0, 2, 12.0, 24.0),
        (2.4, 1, 6.0, 14.4),
    ]
