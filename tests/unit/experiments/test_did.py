"""The difference in differences' 90% interval covers the true uplift of simulated tests in 85-95% of runs."""

import numpy as np
import pytest

from pricing.experiments.did import difference_in_differences
from pricing.experiments.market import SimMarket

PRE, POST, RUNS = 4, 8, 300


def test_interval_covers_the_true_uplift_of_simulated_tests():
    """300 runs on the generator's truth (the confounded market: every product's demand level drifts unseen):
    each run picks half of 60 best sellers at random and prices them 8% above their status quo for 8 weeks after
    4 weeks at it; the true uplift is the treated products' mean expected weekly profit gained over those weeks.
    The interval covers it in 85-95% of the runs (nominal 90%)."""
    sim = SimMarket(11, 60, PRE + POST, "confounded")
    rng = np.random.default_rng(0)
    start = sim.current_price
    raised = np.round(start * 1.08, 2)
    gain = np.column_stack(
        [sim.expected_profit(t, raised) - sim.expected_profit(t, start) for t in range(PRE, PRE + POST)]
    )
    post = np.arange(PRE + POST) >= PRE
    covered = []
    for _ in range(RUNS):
        treated = np.zeros(sim.n, bool)
        treated[rng.choice(sim.n, sim.n // 2, replace=False)] = True
        profit = np.empty((sim.n, PRE + POST))
        for t in range(PRE + POST):
            price = np.where(treated & post[t], raised, start)
            profit[:, t] = (price - sim.unit_cost) * sim.draw(rng, t, price).units
        result = difference_in_differences(profit, treated, post)
        truth = gain[treated].mean()
        covered.append(result.low <= truth <= result.high)
    assert 0.85 <= np.mean(covered) <= 0.95, np.mean(covered)


def test_a_known_effect_on_a_noiseless_panel_is_exact():
    rng = np.random.default_rng(1)
    base = rng.uniform(5, 50, (20, 1)) + rng.uniform(-3, 3, (1, 10))
    treated, post = np.arange(20) < 8, np.arange(10) >= 6
    result = difference_in_differences(base + 2.5 * np.outer(treated, post), treated, post)
    assert result.estimate == pytest.approx(2.5)
    assert result.treated == 8 and result.control == 12


def test_bad_panels_are_refused():
    with pytest.raises(ValueError, match="balanced"):
        difference_in_differences(np.full((3, 4), np.nan), np.array([1, 0, 1], bool), np.arange(4) > 1)
    with pytest.raises(ValueError, match="holdout"):
        difference_in_differences(np.ones((3, 4)), np.ones(3, bool), np.arange(4) > 1)
    with pytest.raises(ValueError, match="products=3"):
        difference_in_differences(np.ones((3, 5)), np.ones(3, bool), np.arange(4) > 1)
