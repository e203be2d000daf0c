"""Every policy's prices respect every guardrail and decision rule, whatever the posterior says; holdout
products never move; each price carries its reason."""

import itertools

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pricing.experiments.learning import Posterior
from pricing.experiments.policies import (
    REASON,
    REASONS,
    Guardrails,
    State,
    candidates,
    choose_holdout,
    decide,
    decision_verdicts,
    loss_cap_mask,
    make_policy,
    probability_of_loss,
    step_mask,
)
from pricing.serving import decision as D
from pricing.serving.decision import Rules
from pricing.serving.money import to_minor

N, WEEKS = 12, 14


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    policy=st.sampled_from(
        ["status-quo", "greedy", "thompson", "budget-1", "budget-2", "budget-4", "change-now", "test-decision"]
    ),
    band=st.floats(0.05, 0.4),
    step=st.floats(0.02, 0.3),
    min_weeks=st.integers(1, 4),
    ending=st.sampled_from([None, 0.99, 0.49, 0.0]),
    margin=st.sampled_from([None, 0.2, 0.45]),
    holdout_share=st.sampled_from([0.0, 0.25, 0.5]),
    stop_probability=st.floats(0.3, 0.999),
    loss_scale=st.sampled_from([0.0, 0.5, 5.0]),
    seed=st.integers(0, 10_000),
)
def test_every_price_respects_every_guardrail(
    policy, band, step, min_weeks, ending, margin, holdout_share, stop_probability, loss_scale, seed
):
    rng = np.random.default_rng(seed)
    start = np.round(rng.uniform(0.5, 30, N), 2)
    cost = np.round(start * rng.uniform(0.3, 0.9, N), 2)
    guardrails = Guardrails(
        rules=Rules(price_ending=ending, min_margin=margin),
        band=band,
        step=step,
        min_weeks=min_weeks,
        stop_loss_probability=stop_probability,
        holdout_share=holdout_share,
    )
    # the prices each product sold at: some around the start, some only the start (the test-decision's support)
    support = np.column_stack([start * rng.choice([1.0, 0.85], N), start * rng.choice([1.0, 1.25], N)])
    cand = candidates(start, cost, guardrails, support)
    holdout = choose_holdout(N, holdout_share, rng) if policy != "status-quo" else np.zeros(N, bool)
    start_minor = to_minor(start)
    state = State.start(start_minor, holdout)
    chosen = make_policy(policy)
    prices, reasons = [start_minor], []
    for _ in range(WEEKS):
        # any posterior at all: the guardrails must hold whatever the model believes
        posterior = Posterior.prior(rng.normal(3, 1, N), rng.normal(1.5, 1.5, N), rng.uniform(0.01, 2, N))
        loss = loss_scale * rng.exponential(1.0, N)
        price, reason = decide(chosen, guardrails, cand, state, posterior, cost, loss, np.full(N, 4.0), rng, WEEKS)
        prices.append(price.copy())
        reasons.append(reason.copy())
    prices, reasons = np.array(prices), np.array(reasons)  # (WEEKS + 1, N): week 0 the start
    moved = prices != start_minor
    pounds = prices / 100
    # band around the start, decision rules on every price but the status quo
    assert np.all(~moved | (np.abs(pounds - start) <= band * start + 0.01))
    if ending is not None:
        assert np.all(~moved | (prices % 100 == round(ending * 100)))
    if margin is not None:
        assert np.all(~moved | ((pounds - cost) / pounds >= margin - 1e-9))
    # the largest step, every week, stop-loss returns included
    step_taken = np.abs(np.diff(pounds, axis=0))
    assert np.all(step_taken <= step * pounds[:-1] + 0.01)
    # holdout products never move
    assert np.all(prices[:, holdout] == start_minor[holdout])
    assert np.all(reasons[:, holdout] == REASON["holdout"])
    # min weeks at a price and the change budget, for the policy's own changes (a stop-loss may cut a price short)
    stop = np.isin(reasons, [REASON[r] for r in ("stopped", "stop-loss: probability", "stop-loss: loss budget")])
    # a test's schedule (the API's) sets its own weeks at a price
    stop |= np.isin(reasons, [REASON["test arm"], REASON["test arm, step cap binding"]])
    for j in range(N):
        changes = [t for t in range(1, WEEKS + 1) if prices[t, j] != prices[t - 1, j] and not stop[t - 1, j]]
        assert all(b - a >= min_weeks for a, b in itertools.pairwise(changes))
        if chosen.budget is not None:
            assert len(changes) <= chosen.budget
    if policy == "status-quo":
        assert np.all(prices == start_minor) and np.all(reasons == REASON["status quo"])
    assert reasons.max() < len(REASONS)


def test_a_stopped_product_returns_to_the_status_quo_and_stays():
    start, cost = np.array([10.0]), np.array([5.0])
    guardrails = Guardrails(step=0.05, min_weeks=1, holdout_share=0.0)
    cand = candidates(start, cost, guardrails)
    state = State.start(to_minor(start), np.zeros(1, bool))
    rng = np.random.default_rng(0)
    optimistic = Posterior.prior(np.zeros(1), np.array([0.2]), np.array([0.01]))  # inelastic: raise
    for _ in range(3):
        price, _ = decide(
            make_policy("greedy"), guardrails, cand, state, optimistic, cost, np.zeros(1), np.ones(1), rng, 10
        )
    assert price[0] > 1000
    # now the posterior is sure the raise loses: stop-loss, then back step by step, then held
    pessimistic = Posterior.prior(np.zeros(1), np.array([6.0]), np.array([0.01]))
    price, reason = decide(
        make_policy("greedy"), guardrails, cand, state, pessimistic, cost, np.zeros(1), np.ones(1), rng, 10
    )
    assert reason[0] == REASON["stop-loss: probability"] and price[0] < state.price[0] + 1
    for _ in range(5):
        price, reason = decide(
            make_policy("greedy"), guardrails, cand, state, optimistic, cost, np.zeros(1), np.ones(1), rng, 10
        )
    assert price[0] == 1000 and reason[0] == REASON["stopped"]


def test_change_now_prices_by_the_first_weeks_slope_whatever_the_posterior_learns_and_greedy_follows_it():
    """`change-now` is the passive recommendation kept: a later posterior that says the raise loses moves greedy
    back down, not change-now."""
    start, cost = np.array([10.0]), np.array([5.0])
    # a stop-loss only for a loss of 99%: the test is about what each policy proposes
    guardrails = Guardrails(step=0.3, band=0.3, min_weeks=1, holdout_share=0.0, stop_loss_share=0.99)
    cand = candidates(start, cost, guardrails)
    inelastic = Posterior.prior(np.zeros(1), np.array([1.2]), np.array([0.01]))  # optimum 5 x 1.2 / 0.2 = 30: top
    elastic = Posterior.prior(np.zeros(1), np.array([4.0]), np.array([0.01]))  # optimum 5 x 4 / 3 = 6.67: bottom
    prices = {}
    for name in ("change-now", "greedy"):
        policy, rng = make_policy(name), np.random.default_rng(0)
        state = State.start(to_minor(start), np.zeros(1, bool))
        for week in range(4):
            posterior = inelastic if week == 0 else elastic
            price, _ = decide(policy, guardrails, cand, state, posterior, cost, np.zeros(1), np.ones(1), rng, 10)
        prices[name] = int(price[0])
    assert prices["change-now"] == 1300 and prices["greedy"] == 700  # the band's top, and its bottom


@pytest.mark.parametrize("budget", [1, 2, 4])
def test_the_change_budget_caps_changes(budget):
    """A posterior that moves every week: the budgeted policy changes each price at most m times over 24 weeks (a
    stop-loss's way back not counted), and says so when its budget is spent."""
    rng = np.random.default_rng(budget)
    start, cost = np.round(rng.uniform(2, 20, N), 2), np.round(rng.uniform(0.5, 1.5, N), 2)
    guardrails = Guardrails(step=0.2, min_weeks=1, stop_loss_probability=0.999, holdout_share=0.0)
    cand = candidates(start, cost, guardrails)
    state = State.start(to_minor(start), np.zeros(N, bool))
    policy = make_policy(f"budget-{budget}")
    prices, reasons = [to_minor(start)], []
    for _ in range(24):
        posterior = Posterior.prior(np.zeros(N), rng.uniform(0.5, 4, N), np.full(N, 0.3))
        price, reason = decide(policy, guardrails, cand, state, posterior, cost, np.zeros(N), np.ones(N), rng, 24)
        prices.append(price.copy())
        reasons.append(reason)
    stop = np.isin(reasons, [REASON[r] for r in ("stopped", "stop-loss: probability", "stop-loss: loss budget")])
    changes = ((np.diff(np.array(prices), axis=0) != 0) & ~stop).sum(axis=0)
    assert changes.max() == budget
    assert REASON["change budget spent"] in np.array(reasons)


def test_probability_of_loss_matches_draws():
    rng = np.random.default_rng(5)
    posterior = Posterior.prior(np.zeros(3), np.array([1.5, 2.5, 0.8]), np.array([0.5, 0.3, 0.4]))
    price, start, cost = np.array([11.0, 9.0, 12.0]), np.full(3, 10.0), np.full(3, 6.0)
    draws = rng.normal(posterior.slope, posterior.slope_sd, (200_000, 3))
    ratio = (price - cost) * (price / start) ** -draws / (start - cost)
    np.testing.assert_allclose(
        probability_of_loss(price, start, cost, posterior, 0.1), (ratio < 0.9).mean(0), atol=0.01
    )


def test_bad_guardrails_and_policies_are_refused():
    with pytest.raises(ValueError, match="band"):
        Guardrails(band=1.5)
    with pytest.raises(ValueError, match="min_weeks"):
        Guardrails(min_weeks=0)
    with pytest.raises(ValueError, match="unknown policy"):
        make_policy("random")
    with pytest.raises(ValueError, match="budget"):
        make_policy("budget-0")


def _play(guardrails, start, cost, support, posteriors, weeks):
    """The test-decision policy's prices and reasons over `weeks` weeks, week t priced under posteriors(t)."""
    cand = candidates(start, cost, guardrails, support)
    state = State.start(to_minor(start), np.zeros(len(start), bool))
    policy, rng = make_policy("test-decision"), np.random.default_rng(0)
    prices, reasons = [], []
    for week in range(weeks):
        price, reason = decide(
            policy, guardrails, cand, state, posteriors(week), cost, np.zeros(len(start)), np.ones(len(start)), rng, 30
        )
        prices.append(price.copy())
        reasons.append(reason.copy())
    return policy, np.array(prices), np.array(reasons)


def test_the_decision_test_visits_its_arms_for_the_planned_weeks_then_prices_at_the_posterior_mean():
    """A product the decision says `test` for (its recommended price, the band's top, lies outside the one price
    it sold at): the API's schedule of the decision's arms (design.product_schedule: each arm TEST_WEEKS_PER_ARM
    consecutive weeks in the design's random order), then the posterior mean's optimum, kept."""
    from pricing.experiments.design import arm_order

    start, cost = np.array([10.0]), np.array([5.0])
    guardrails = Guardrails(step=0.45, band=0.2, min_weeks=3, holdout_share=0.0, stop_loss_share=0.99)
    inelastic = Posterior.prior(np.zeros(1), np.array([1.2]), np.array([0.3]))  # raise: optimum at the band's top
    elastic = Posterior.prior(np.zeros(1), np.array([3.0]), np.array([0.01]))  # optimum 7.5: the band's bottom
    weeks_per_arm = D.TEST_WEEKS_PER_ARM
    policy, prices, reasons = _play(guardrails, start, cost, None, lambda t: inelastic if t == 0 else elastic, 20)
    verdicts = policy.verdicts
    assert verdicts.kind[0] == "test" and "outside the prices the product sold at" in verdicts.why[0]
    arms = verdicts.arms[0]
    assert 1000 in arms and len(arms) == D.TEST_ARMS and all(800 <= a <= 1200 for a in arms)
    test_weeks = len(arms) * weeks_per_arm
    order = arm_order(len(arms), test_weeks, weeks_per_arm, 0, "0")  # the design's order for this product
    np.testing.assert_array_equal(prices[:test_weeks, 0], np.array(arms)[order])
    assert sorted(set(order)) == list(range(len(arms)))  # every arm, weeks_per_arm weeks each (min weeks aside)
    assert np.all(reasons[:test_weeks, 0] == REASON["test arm"])
    assert np.all(prices[test_weeks:, 0] == 800) and np.all(reasons[test_weeks:, 0] == REASON["after test"])


def test_a_test_arm_beyond_the_step_is_approached_within_it_as_the_apis_schedule_says():
    from pricing.experiments.design import product_schedule

    start, cost = np.array([10.0]), np.array([5.0])
    guardrails = Guardrails(step=0.08, band=0.2, min_weeks=2, holdout_share=0.0, stop_loss_share=0.99)
    inelastic = Posterior.prior(np.zeros(1), np.array([1.2]), np.array([0.3]))
    policy, prices, reasons = _play(guardrails, start, cost, None, lambda t: inelastic, 20)
    arms = policy.verdicts.arms[0]
    weeks = len(arms) * D.TEST_WEEKS_PER_ARM
    api = product_schedule(
        "0", 10.0, tuple(a / 100 for a in arms), False, "2026-W10", weeks, D.TEST_WEEKS_PER_ARM, 0.08, 0
    )
    # the arms exactly; a week the step cap binds, the simulator's candidate nearest the API's price (its grid
    # steps by 0.25% of the price)
    api_minor = np.array([round(w.price * 100) for w in api])
    on_arm = np.isin(api_minor, arms)
    np.testing.assert_array_equal(prices[:weeks, 0][on_arm], api_minor[on_arm])
    assert np.all(np.abs(prices[:weeks, 0] / api_minor - 1) <= 0.003)
    pounds = prices[:, 0] / 100
    assert np.all(np.abs(np.diff(pounds)) <= 0.08 * pounds[:-1] + 0.01)
    assert REASON["test arm, step cap binding"] in reasons[:weeks, 0]
    # after the test: the posterior mean's optimum, once the minimum weeks at the last test price are served
    assert np.all(np.isin(reasons[weeks:, 0], [REASON["after test"], REASON["min weeks at a price"]]))
    assert reasons[-1, 0] == REASON["after test"]


def test_a_change_product_moves_to_its_prior_optimum_and_stays():
    """Sold across the band and sure of its slope: `change`; it moves (within the step) to the prior's optimum and
    stays there when later weeks' posterior says otherwise."""
    start, cost = np.array([10.0]), np.array([5.0])
    guardrails = Guardrails(step=0.08, band=0.2, min_weeks=1, holdout_share=0.0, stop_loss_share=0.99)
    support = np.array([[8.0, 12.0]])
    sure = Posterior.prior(np.zeros(1), np.array([1.2]), np.array([0.01]))  # optimum 30: the band's top
    elastic = Posterior.prior(np.zeros(1), np.array([4.0]), np.array([0.01]))
    policy, prices, reasons = _play(guardrails, start, cost, support, lambda t: sure if t == 0 else elastic, 12)
    assert policy.verdicts.kind[0] == "change"
    assert prices[-1, 0] == 1200 and np.all(prices[4:, 0] == 1200)
    assert np.all(np.diff(prices[:, 0]) >= 0) and np.all(reasons[:, 0] == REASON["decision: change"])


def test_a_hold_product_never_moves():
    """The current price is the optimum (b = p0 / (p0 - c) = 2): `hold`, and a later posterior that favours a move
    does not move it."""
    start, cost = np.array([10.0]), np.array([5.0])
    guardrails = Guardrails(step=0.08, band=0.2, min_weeks=1, holdout_share=0.0)
    at_optimum = Posterior.prior(np.zeros(1), np.array([2.0]), np.array([0.05]))
    inelastic = Posterior.prior(np.zeros(1), np.array([1.2]), np.array([0.01]))
    policy, prices, reasons = _play(guardrails, start, cost, None, lambda t: at_optimum if t == 0 else inelastic, 8)
    assert policy.verdicts.kind[0] == "hold"
    assert np.all(prices == 1000) and np.all(reasons == REASON["decision: hold"])


def test_the_verdicts_are_the_decisions_own():
    """decision_verdicts applies pricing.serving.decision's rule: where the draws split, a change inside the
    support is a test below TEST_CONFIDENT and a change above it."""
    start, cost = np.full(2, 10.0), np.full(2, 5.0)
    guardrails = Guardrails(band=0.2)
    cand = candidates(start, cost, guardrails, np.array([[8.0, 12.0], [8.0, 12.0]]))
    posterior = Posterior.prior(np.zeros(2), np.array([1.5, 1.5]), np.array([0.05, 0.4]))
    verdicts = decision_verdicts(cand, posterior, cost, np.random.default_rng(1))
    assert verdicts.probability[0] >= D.TEST_CONFIDENT and verdicts.kind[0] == "change"
    assert verdicts.probability[1] < D.TEST_CONFIDENT and verdicts.kind[1] == "test"


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    policy=st.sampled_from(["greedy", "thompson", "budget-2", "change-now", "test-decision"]),
    cap=st.floats(0.01, 0.5),
    probability=st.floats(0.001, 0.5),
    step=st.floats(0.02, 0.3),
    min_weeks=st.integers(1, 3),
    ending=st.sampled_from([None, 0.99]),
    seed=st.integers(0, 10_000),
)
def test_the_loss_cap_keeps_no_price_its_posterior_fears(policy, cap, probability, step, min_weeks, ending, seed):
    """Whatever the posterior (a new one every week), every week's price is one the worst-week guardrail admits
    under that week's posterior (its probability of losing more than the cap at most the guardrail's), or the
    status quo, or a step back towards the status quo (a stop-loss, or no admitted price within the step)."""
    rng = np.random.default_rng(seed)
    start = np.round(rng.uniform(0.5, 30, N), 2)
    cost = np.round(start * rng.uniform(0.2, 0.9, N), 2)
    guardrails = Guardrails(
        rules=Rules(price_ending=ending),
        step=step,
        min_weeks=min_weeks,
        holdout_share=0.0,
        loss_cap=cap,
        loss_cap_probability=probability,
    )
    cand = candidates(start, cost, guardrails)
    state = State.start(to_minor(start), np.zeros(N, bool))
    chosen, previous = make_policy(policy), to_minor(start)
    for _ in range(WEEKS):
        posterior = Posterior.prior(rng.normal(3, 1, N), rng.normal(1.5, 1.5, N), rng.uniform(0.01, 2, N))
        price, _ = decide(chosen, guardrails, cand, state, posterior, cost, np.zeros(N), np.full(N, 4.0), rng, WEEKS)
        safe = loss_cap_mask(cand, cost, posterior, cap, probability)
        column = np.argmax(cand.minor == price[:, None], axis=1)
        admitted = safe[np.arange(N), column]
        home = to_minor(start)
        back = np.abs(price - home) < np.abs(previous - home)
        # stuck: the rules and the step leave no price that is admitted or nearer the status quo (a price ending
        # with the status quo beyond the step): the price stays
        reachable = cand.admitted & step_mask(cand, previous, step)
        better = reachable & (safe | (np.abs(cand.minor - home[:, None]) < np.abs(previous - home)[:, None]))
        stuck = (price == previous) & ~better.any(axis=1)
        assert np.all(admitted | back | stuck), (price[~(admitted | back | stuck)], previous[~(admitted | back)])
        previous = price.copy()


def test_the_loss_cap_admits_by_the_posteriors_pessimistic_quantile():
    """At p0 = 10, c = 5, a 20% raise loses more than 5% of the status quo's profit for a slope above
    log(1.4 / 0.95) / log(1.2) = 2.13: a posterior N(1.2, 0.1) is almost sure it does not (admitted), N(2.1, 0.1)
    gives it 39% (refused at 10%)."""
    start, cost = np.full(2, 10.0), np.full(2, 5.0)
    cand = candidates(start, cost, Guardrails(band=0.2))
    posterior = Posterior.prior(np.zeros(2), np.array([1.2, 2.1]), np.array([0.1, 0.1]))
    safe = loss_cap_mask(cand, cost, posterior, 0.05, 0.1)
    top = cand.minor == 1200
    assert safe[0][top[0]].all() and not safe[1][top[1]].any()
    assert safe[np.arange(2), cand.start].all()
