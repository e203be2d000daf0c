"""The weekly posterior update recovers a known slope from simulated test weeks, and its interval is honest."""

import numpy as np
import pytest

from pricing.experiments.learning import Posterior, dispersion, update_posterior
from pricing.experiments.market import SimMarket
from pricing.experiments.simulate import sim_slope


def _surrogate_weeks(rng, slope, weeks, phi=8.0):
    """Weeks from the surrogate itself: units a gamma-Poisson sum with variance phi x mean, prices +-8%."""
    n = len(slope)
    x = rng.choice(np.log([0.92, 1.0, 1.08]), size=(n, weeks))
    offset = 0.3 * np.sin(np.arange(weeks) / 3.0)
    level = np.log(rng.uniform(50, 400, n))
    mu = np.exp(level[:, None] + offset[None, :] - slope[:, None] * x)
    # a compound count with dispersion phi: phi x Poisson(mu / phi) has mean mu and variance phi mu
    units = phi * rng.poisson(mu / phi)
    return units, x, offset, level


def test_update_recovers_a_known_slope():
    """Tolerance: from a vague prior (sd 3, centred 1 off), 400 products x 52 weeks at +-8%: the posterior means'
    average error is within 0.05 of the true slopes and their mean absolute error under 0.45 (the data pin each
    slope to a posterior sd of about 0.4, whose expected absolute error is 0.8 x that)."""
    rng = np.random.default_rng(0)
    slope = rng.uniform(1.2, 2.6, 400)
    units, x, offset, level = _surrogate_weeks(rng, slope, 52)
    prior = Posterior.prior(level + rng.normal(0, 0.3, 400), slope - 1.0, np.full(400, 3.0))
    post = update_posterior(prior, units, x, offset, np.full(400, 8.0))
    assert abs(np.mean(post.slope - slope)) < 0.05
    assert np.mean(np.abs(post.slope - slope)) < 0.45
    assert np.median(post.slope_sd) < 0.5


def test_posterior_intervals_are_honest():
    """Slopes drawn from the prior (so the prior is right in the Bayesian sense), 26 weeks: the 90% posterior
    interval covers the true slope for 85-95% of 400 products, and the posterior is closer than the prior."""
    rng = np.random.default_rng(3)
    centre = rng.uniform(1.2, 2.6, 400)
    slope = centre + rng.normal(0, 0.5, 400)
    units, x, offset, level = _surrogate_weeks(rng, slope, 26)
    prior = Posterior.prior(level, centre, np.full(400, 0.5))
    post = update_posterior(prior, units, x, offset, np.full(400, 8.0))
    covered = np.abs(post.slope - slope) < 1.645 * post.slope_sd
    assert 0.85 <= covered.mean() <= 0.95
    assert np.all(post.slope_sd < prior.slope_sd)
    assert np.mean((post.slope - slope) ** 2) < np.mean((centre - slope) ** 2)


def test_no_data_is_the_prior_and_more_weeks_narrow_it():
    rng = np.random.default_rng(1)
    slope = np.full(50, 2.0)
    units, x, offset, level = _surrogate_weeks(rng, slope, 20)
    prior = Posterior.prior(level, np.full(50, 1.5), np.full(50, 0.4))
    none = update_posterior(prior, units[:, :0], x[:, :0], offset[:0], np.full(50, 8.0))
    np.testing.assert_allclose(none.slope, prior.slope)
    np.testing.assert_allclose(none.slope_sd, prior.slope_sd)
    early = update_posterior(prior, units[:, :5], x[:, :5], offset[:5], np.full(50, 8.0))
    late = update_posterior(prior, units, x, offset, np.full(50, 8.0))
    assert np.all(late.slope_sd < early.slope_sd)


def test_update_recovers_the_markets_slope_from_simulated_test_weeks():
    """On the generator's truth (the surrogate is only a local approximation of it): 300 best sellers priced at
    random within +-10% of their current price for 26 weeks, from a vague prior (sd 3) centred 0.6 too inelastic
    (the confounded market's bias): the posterior means' average error is within 0.25 of the truth's local slope,
    from 0.6 (a product's own 26 weeks pin its slope only to about +-1: weekly units are sums of over-dispersed
    line quantities, phi well above 1, so the prior still pulls, and the surrogate's constant elasticity is the
    truth's only near the current price)."""
    sim = SimMarket(0, 300, 26, "default")
    rng = np.random.default_rng(2)
    truth = sim_slope(sim)
    factor = rng.choice([0.9, 0.95, 1.0, 1.05, 1.1], size=(sim.n, 26))
    units, squared = np.zeros((sim.n, 26)), np.zeros((sim.n, 26))
    for t in range(26):
        realised = sim.draw(rng, t, np.round(sim.current_price * factor[:, t], 2))
        units[:, t], squared[:, t] = realised.units, realised.squared_units
    x = np.log(np.round(sim.current_price[:, None] * factor, 2) / sim.current_price[:, None])
    phi = dispersion(units, squared)
    level = np.log(sim.expected_units(0, sim.current_price))
    prior = Posterior.prior(level, truth - 0.6, np.full(sim.n, 3.0))
    post = update_posterior(prior, units, x, sim.week_offset(), phi)
    assert np.median(phi) > 2
    assert abs(np.mean(post.slope - truth)) < 0.25


def test_bad_shapes_and_counts_are_refused():
    prior = Posterior.prior(np.zeros(3), np.ones(3), np.ones(3))
    with pytest.raises(ValueError, match="products=3"):
        update_posterior(prior, np.ones((2, 4)), np.zeros((2, 4)), np.zeros(4), np.ones(2))
    with pytest.raises(ValueError, match="non-negative"):
        update_posterior(prior, -np.ones((3, 4)), np.zeros((3, 4)), np.zeros(4), np.ones(3))
