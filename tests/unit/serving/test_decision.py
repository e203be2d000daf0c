"""The decision's arithmetic on known curves: objective, rules and their costs, conflicts, support, confidence."""

import numpy as np
import pytest

from pricing.serving import decision as D
from pricing.serving.errors import RequestError

CURRENT = 6.0
COST = 2.0


def context(cost=COST, support=(3.0, 6.0)) -> D.Context:
    return D.Context(CURRENT, cost, *support)


def constant_elasticity(prices, elasticity=-2.0, scale=1000.0):
    """Units per week = scale x p ** elasticity: profit (p - c) x units peaks at c e / (e + 1) = 2c for e = -2."""
    return scale * np.asarray(prices, dtype=float) ** elasticity


def test_the_profit_optimum_is_the_brute_force_optimum_and_above_cost():
    grid = np.round(np.linspace(1.0, 8.0, 701), 4)
    prices = D.candidate_prices(grid, D.Rules(), context())
    values = D.objective_values(prices, constant_elasticity(prices), COST, "profit")
    choice = D.choose(values, {}, grid[0], grid[-1])
    fine = np.linspace(1.0, 8.0, 70_001)
    brute = fine[np.argmax((fine - COST) * constant_elasticity(fine))]
    assert prices[choice.index] == pytest.approx(brute, abs=0.01) and brute == pytest.approx(2 * COST, abs=1e-3)
    assert prices[choice.index] >= COST
    # and revenue with elastic demand runs to the bottom of the range, which is why a cost matters
    revenue = D.objective_values(prices, constant_elasticity(prices), COST, "revenue")
    assert prices[D.choose(revenue, {}, grid[0], grid[-1]).index] == grid[0]


RULE_CASES = [
    D.Rules(floor=5.0),
    D.Rules(ceiling=3.5),
    D.Rules(max_change=0.1),
    D.Rules(price_ending=0.99),
    D.Rules(min_margin=0.6),
    D.Rules(floor=3.0, ceiling=4.5, price_ending=0.49),
    D.Rules(max_change=0.3, min_margin=0.55, price_ending=0.95),
]


@pytest.mark.parametrize("rules", RULE_CASES, ids=lambda r: ",".join(r.given()))
def test_every_rule_is_respected_and_its_cost_is_the_objective_recomputed_without_it(rules):
    grid = np.round(np.linspace(1.0, 8.0, 101), 4)
    prices = D.candidate_prices(grid, rules, context())
    values = D.objective_values(prices, constant_elasticity(prices), COST, "profit")
    masks = D.rule_masks(prices, rules, context(), restrict_support=False)
    choice = D.choose(values, masks, grid[0], grid[-1])
    p = prices[choice.index]
    if rules.floor is not None:
        assert p >= rules.floor
    if rules.ceiling is not None:
        assert p <= rules.ceiling
    if rules.max_change is not None:
        assert abs(p / CURRENT - 1) <= rules.max_change + 1e-9
    if rules.price_ending is not None:
        assert round(p - np.floor(p), 2) == rules.price_ending
    if rules.min_margin is not None:
        assert (p - COST) / p >= rules.min_margin - 1e-9
    for cost in choice.rule_costs:
        # recomputed independently: the best admissible price once this rule alone is lifted, by brute force
        others = [m for name, m in masks.items() if name != cost.rule]
        admitted = np.logical_and.reduce(others) if others else np.ones(len(prices), dtype=bool)
        assert cost.cost_per_week == pytest.approx(values[admitted].max() - values[choice.index], abs=1e-3)
        assert cost.binding == (values[admitted].max() > values[choice.index] + 1e-9)
    assert choice.binding, "each case is built so that some rule binds"


@pytest.mark.parametrize(
    ("rules", "named"),
    [
        (D.Rules(floor=6.0, ceiling=5.0), ("floor", "ceiling")),
        (D.Rules(max_change=0.05, price_ending=0.49), ("max_change", "price_ending")),
        (D.Rules(floor=9.0), ("floor",)),
        (D.Rules(min_margin=0.5, ceiling=3.0), ("min_margin", "ceiling")),
    ],
)
def test_rules_that_admit_no_price_are_refused_naming_them(rules, named):
    grid = np.round(np.linspace(1.0, 8.0, 101), 4)
    prices = D.candidate_prices(grid, rules, context())
    values = D.objective_values(prices, constant_elasticity(prices), COST, "profit")
    with pytest.raises(RequestError) as refused:
        D.choose(values, D.rule_masks(prices, rules, context(), False), grid[0], grid[-1])
    for name in named:
        assert name in str(refused.value)


def test_min_margin_without_a_cost_is_refused_by_name():
    with pytest.raises(RequestError, match="min_margin"):
        D.rule_masks(np.array([1.0, 2.0]), D.Rules(min_margin=0.2), context(cost=None), False)


def test_a_flat_extrapolating_curve_never_recommends_outside_the_support():
    """A tree's curve: flat beyond the prices it saw (3..6), so revenue grows with price out there."""
    grid = np.round(np.linspace(1.0, 20.0, 200), 4)
    prices = D.candidate_prices(grid, D.Rules(), context())
    units = np.where(prices > 6.0, 10.0, np.where(prices < 3.0, 30.0, 30.0 - (prices - 3.0) * 6.0))
    values = D.objective_values(prices, units, None, "revenue")
    free = D.choose(values, {}, grid[0], grid[-1])
    assert prices[free.index] == grid[-1]  # the flat tail's "optimum": the top of any range asked for
    masks = D.rule_masks(prices, D.Rules(), context(), restrict_support=True)
    held = D.choose(values, masks, grid[0], grid[-1])
    low, high = context().support_range
    assert low <= prices[held.index] <= high and held.binding == ["support"]


def test_the_interval_contains_the_point_estimate_and_the_probability_counts_draws():
    grid = np.round(np.linspace(2.5, 8.0, 111), 4)
    prices = D.candidate_prices(grid, D.Rules(), context())
    point = constant_elasticity(prices)
    rng = np.random.default_rng(0)
    draws = point[None, :] * np.exp(-rng.normal(0, 0.3, (D.DRAWS, 1)) * np.log(prices / CURRENT)[None, :])
    values = D.objective_values(prices, point, COST, "profit")
    draw_values = D.objective_values(prices, draws, COST, "profit")
    admitted = np.ones(len(prices), dtype=bool)
    choice = D.choose(values, {}, grid[0], grid[-1])
    current = int(np.flatnonzero(prices == CURRENT)[0])
    confidence = D.confidence(prices, draw_values, admitted, choice.index, current)
    low, high = confidence.price_interval
    assert low <= prices[choice.index] <= high and low < high
    assert confidence.objective_interval[0] <= values[choice.index] <= confidence.objective_interval[1]
    expected = np.mean(draw_values[:, choice.index] > draw_values[:, current])
    assert confidence.probability_beats_current == pytest.approx(expected, abs=1e-4)


@pytest.mark.parametrize(
    ("probability", "gain", "same", "thresholds", "verdict"),
    [
        (0.95, 50.0, False, (0.8, 0.01), "change"),
        (0.6, 50.0, False, (0.8, 0.01), "hold"),  # the draws do not support it often enough
        (0.95, 1.0, False, (0.8, 0.01), "hold"),  # 0.1% of the current figure: below the 1% asked for
        (1.0, 0.0, True, (0.8, 0.01), "hold"),
        (0.55, 1.0, False, (), "change"),  # the defaults: the draws favour it and it earns more
        (0.45, 50.0, False, (), "hold"),
        (0.9, 0.0, False, (), "hold"),
        (None, 50.0, False, (), "change"),  # no uncertainty estimate: the expected gain alone
    ],
)
def test_the_decision_rule(probability, gain, same, thresholds, verdict):
    assert D.decide(probability, gain, 1000.0, same, *thresholds)[0] == verdict


@pytest.mark.parametrize("posterior_sd", [0.3, 0.05])
def test_the_curve_draws_move_the_slope_by_its_posterior_sd_at_least_the_floor(posterior_sd):
    """Predictor.draw_units (through the stand-in, its evidence's incidence slope sd set): log(draw / point curve)
    at price p is -b x log(p / pivot), b ~ N(0, max(sd, SLOPE_SD_FLOOR)), one b per draw, 0 at the pivot."""
    from pricing.serving.request import PriceRequest
    from tests.standins import EVIDENCE, StandInPredictor

    predictor = StandInPredictor()
    predictor.evidence = EVIDENCE.assign(incidence_slope_sd=posterior_sd)
    prices = np.array([2.0, 2.95, 4.0])
    units = np.array([30.0, 20.0, 12.0])
    draws = predictor.draw_units("85123A", prices, units, 2.95, True, PriceRequest("85123A", 2.0, 4.0, 3, 100))
    assert draws.shape == (D.DRAWS, 3)
    slope = -np.log(draws / units) / np.log(prices / 2.95)
    expected = max(posterior_sd, D.SLOPE_SD_FLOOR)
    assert np.std(slope[:, 0]) == pytest.approx(expected, rel=0.1)  # 400 draws: the sd's own error is 3.5%
    np.testing.assert_allclose(slope[:, 0], slope[:, 2])
    np.testing.assert_allclose(draws[:, 1], units[1])
