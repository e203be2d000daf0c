"""The simulated market is the generator's truth: the same products, costs and current prices as `generate`
writes for the seed, expected weekly demand equal to the truth's functions at any price, realised weeks around
it, and the confounded market's history biasing a passive estimate toward inelastic."""

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pricing.data import generate
from pricing.data.synthetic.truth import true_expected_weekly_units
from pricing.experiments.market import SimMarket
from pricing.experiments.prior import passive_prior
from pricing.experiments.simulate import sim_slope

ROWS, SEED, N, WEEKS = 20_000, 5, 25, 3


@pytest.fixture(scope="module", params=["default", "confounded"])
def pair(request):
    generated = generate.generate(rows=ROWS, seed=SEED, market=request.param)
    return SimMarket(SEED, N, WEEKS, request.param, ROWS), generated


def test_products_are_the_generated_files(pair):
    sim, generated = pair
    truth = generated.ground_truth.set_index("stockcode").loc[sim.codes]
    costs = generated.unit_costs.set_index("stockcode").loc[sim.codes, "unit_cost"]
    np.testing.assert_allclose(truth["theta"], sim.theta, rtol=1e-6)
    np.testing.assert_allclose(truth["amplitude"], sim.amplitude, rtol=1e-6)
    np.testing.assert_allclose(truth["incidence_elasticity"], sim.elasticity, rtol=1e-6, atol=1e-6)
    np.testing.assert_array_equal(costs.to_numpy(), sim.unit_cost)
    # the current price is a price the history charged: within the product's sold range
    assert ((sim.current_price >= truth["price_min"] - 0.01) | (truth["sale_lines"] == 0)).all()


@settings(max_examples=25, deadline=None)
@given(factor=st.floats(0.6, 1.5), week=st.integers(0, WEEKS - 1), j=st.integers(0, N - 1))
def test_expected_weekly_profit_is_the_truths(pair, factor, week, j):
    """E[profit per week] at a fixed price equals (p - cost) x truth.true_expected_weekly_units over the week's
    contexts and line scale, the generator's file's truth row (the confounded market: that week's popularity)."""
    sim, generated = pair
    truth = generated.ground_truth.set_index("stockcode").loc[sim.codes[j]].copy()
    truth["popularity"] = sim.popularity[j, week]  # the default market: the file's own popularity (checked below)
    price = round(float(sim.current_price[j]) * factor, 2)
    contexts = sim.weeks[week].frame(sim.calendar_days)
    units = true_expected_weekly_units(price, truth, contexts, week_scale=sim.weeks[week].lines_scale)
    prices = np.full(sim.n, price)
    expected = (price - sim.unit_cost[j]) * units[0]
    assert sim.expected_profit(week, prices)[j] == pytest.approx(expected, rel=1e-5)


def test_default_popularity_is_the_files_and_the_confounded_moves():
    """The default market's weekly popularity is ground_truth.csv's; the confounded market's moves week to week
    (its level) around the same products' popularity."""
    generated = generate.generate(rows=ROWS, seed=SEED)
    truth = generated.ground_truth.set_index("stockcode")
    default = SimMarket(SEED, N, WEEKS, "default", ROWS)
    np.testing.assert_allclose(
        default.popularity, np.repeat(truth.loc[default.codes, "popularity"].to_numpy()[:, None], WEEKS, 1)
    )
    confounded = SimMarket(SEED, N, WEEKS, "confounded", ROWS)
    assert np.all(np.abs(np.diff(np.log(confounded.popularity), axis=1)) > 0)


def test_realised_weeks_average_to_the_expected():
    sim = SimMarket(SEED, N, 1, "default", ROWS)
    rng = np.random.default_rng(0)
    draws = np.array([sim.draw(rng, 0, sim.current_price).units for _ in range(400)])
    expected = sim.expected_units(0, sim.current_price)
    # 400 weeks: the mean's standard error is a few percent of a product's units at most
    assert draws.sum() / 400 == pytest.approx(expected.sum(), rel=0.03)


def test_lines_frame_is_the_online_retail_schema():
    sim = SimMarket(SEED, N, 1, "default", ROWS)
    realised = sim.draw(np.random.default_rng(1), 0, sim.current_price, keep_lines=True)
    frame = sim.lines_frame(0, sim.current_price, realised)
    assert list(frame.columns) == [
        "InvoiceNo",
        "StockCode",
        "Description",
        "Quantity",
        "InvoiceDate",
        "UnitPrice",
        "CustomerID",
        "Country",
    ]
    assert frame["Quantity"].sum() == realised.units.sum()
    assert pd.to_datetime(frame["InvoiceDate"], format="%m/%d/%Y %H:%M").min().year == 2012
    with pytest.raises(ValueError, match="keep_lines"):
        sim.lines_frame(0, sim.current_price, sim.draw(np.random.default_rng(1), 0, sim.current_price))


def test_bad_settings_are_refused():
    with pytest.raises(ValueError, match="market"):
        SimMarket(0, 5, 2, "unknown", ROWS)
    with pytest.raises(ValueError, match="fewer than"):
        SimMarket(0, 10**6, 2, "default", ROWS)
    with pytest.raises(ValueError, match="market"):
        generate.generate(rows=ROWS, seed=0, market="nope")


def test_confounded_history_biases_the_passive_slope_toward_inelastic():
    """The passive model of the history reads the slope nearly right in the default market and far too
    inelastic in the confounded one (the same products, the same truth)."""
    gaps = {}
    for kind in ("default", "confounded"):
        sim = SimMarket(0, 300, 1, kind)
        gaps[kind] = float(np.mean(passive_prior(sim, 0).posterior.slope - sim_slope(sim)))
    assert abs(gaps["default"]) < 0.2
    assert gaps["confounded"] < -0.4
