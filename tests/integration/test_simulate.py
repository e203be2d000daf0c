"""`pricing simulate` end to end: the report, table and plots; runs are deterministic; status quo's regret is
the current-price regret `pricing evaluate`'s truth gives; a trained bundle can be the prior."""

import json

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pricing.cli import main
from pricing.experiments.learning import Posterior
from pricing.experiments.market import SimMarket
from pricing.experiments.policies import POLICIES, REASONS, Guardrails, candidates
from pricing.experiments.prior import Prior, bundle_prior, passive_prior, recentred
from pricing.experiments.simulate import Settings, simulate, start_prices
from pricing.serving.decision import PRIOR_SD_FLOOR
from pricing.serving.money import from_minor, is_whole_minor, to_minor
from pricing.tools.evaluate import true_revenue

ROWS = 60_000


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    out = tmp_path_factory.mktemp("simulate")
    argv = ["simulate", "--weeks", "6", "--products", "30", "--seeds", "0", "1", "--report-seeds", "1"]
    argv += [
        "--market",
        "default",
        "--market",
        "confounded",
        "--rows",
        str(ROWS),
        "--pre-weeks",
        "2",
        "--out",
        str(out),
    ]
    assert main(argv) == 0
    return out


def test_the_command_writes_the_report_table_and_plots(run):
    report = json.loads((run / "report.json").read_text())
    assert {(r["market"], r["seed"], r["policy"]) for r in report["runs"]} == {
        (m, s, p) for m in ("default", "confounded") for s in (0, 1) for p in POLICIES
    }
    assert set(report["summary_report_seeds"]["confounded"]) == set(POLICIES)
    for name in ("regret.png", "price_paths.png", "changes.png"):
        assert (run / name).stat().st_size > 10_000
    weeks = pd.read_parquet(run / "weeks.parquet")
    assert len(weeks) == 2 * 2 * len(POLICIES) * 30 * 8
    assert set(weeks["reason"]) <= set(REASONS)
    # regret is the clairvoyant's expected profit less the policy's, never negative
    assert (weeks["regret"] >= -1e-9).all()
    testing = report["runs"][1]
    assert testing["policy"] == "greedy" and "did" in testing and testing["did"]["low"] <= testing["did"]["high"]
    # the decision played out: every product gets a verdict, and its prices carry the decision's reasons
    for decided in (r for r in report["runs"] if r["policy"] == "test-decision"):
        verdicts = decided["verdicts"]
        assert verdicts["change"] + verdicts["test"] + verdicts["hold"] == 30
        assert set(decided["reasons"]) & {"decision: hold", "decision: change", "test arm", "after test"}
    tested = weeks[(weeks["policy"] == "test-decision") & (weeks["week"] >= 2)]
    assert (tested["price"] > 0).all() and tested["reason"].isin(REASONS).all()


def test_the_same_seed_is_the_same_run(run, tmp_path):
    settings = Settings(weeks=6, products=30, pre_weeks=2, rows=ROWS, policies=("thompson",))
    again = simulate(["confounded"], [0], settings)
    first = json.loads((run / "report.json").read_text())
    before = next(
        r for r in first["runs"] if r["market"] == "confounded" and r["seed"] == 0 and r["policy"] == "thompson"
    )
    assert again["runs"][0] == before


def test_status_quo_regret_is_evaluates_current_price_regret(run):
    """The status quo's regret share each week equals 1 - R(p0) / max R over the admitted candidates, R being
    `pricing evaluate`'s truth (pricing.tools.evaluate.true_revenue with the unit cost) over the week's contexts."""
    weeks = pd.read_parquet(run / "weeks.parquet")
    sq = weeks[(weeks["policy"] == "status-quo") & (weeks["market"] == "default") & (weeks["seed"] == 0)]
    sim = SimMarket(0, 30, 8, "default", ROWS)
    cand = candidates(sim.current_price, sim.unit_cost, Guardrails())
    for week in (0, 5):
        contexts = sim.weeks[week].frame(sim.calendar_days)
        rows = sq[sq["week"] == week].set_index("stockcode")
        for j, code in enumerate(sim.codes):
            admitted = cand.prices[j][cand.admitted[j]]
            profit = true_revenue(admitted, sim.truth_row(j), contexts, unit_cost=float(sim.unit_cost[j]))
            current = true_revenue(
                np.array([sim.current_price[j]]), sim.truth_row(j), contexts, unit_cost=float(sim.unit_cost[j])
            )
            expected = 1 - current[0] / profit.max()
            assert rows.loc[code, "regret"] / rows.loc[code, "optimum_profit"] == pytest.approx(expected, abs=1e-9)


def test_a_trained_bundle_is_a_prior(quick_bundle, store):
    """The quick bundle was trained on `generate(rows=30_000, seed=3)`'s products: its curve's slope around each
    best seller's current price, its evidence's sds (at least the prior's floor)."""
    sim = SimMarket(3, 15, 2, "default", 30_000)
    prior = bundle_prior(str(store.root), sim, samples=50)
    assert prior.source == "bundle"
    assert np.isfinite(prior.posterior.slope).all() and np.isfinite(prior.posterior.level).all()
    assert (prior.posterior.slope_sd >= PRIOR_SD_FLOOR).all()
    with pytest.raises(ValueError, match="not in the bundle"):
        bundle_prior(str(store.root), SimMarket(4, 15, 2, "default", 30_000), samples=50)


def test_the_lines_read_back_as_the_weeks_the_market_drew(tmp_path):
    """`--lines` writes Online Retail lines that `pricing prepare`'s loader reads whole, and the weekly panel read
    from them (pricing.experiments.panel) holds the units each product sold and, for most products, the list
    price the policy set, through the guest premium and the quantity breaks."""
    from pricing.data.load import load
    from pricing.experiments.panel import weekly_panel

    out = tmp_path / "sim"
    argv = ["simulate", "--weeks", "3", "--products", "25", "--rows", str(ROWS), "--pre-weeks", "1"]
    assert main([*argv, "--policy", "thompson", "--lines", "--out", str(out)]) == 0
    weeks = pd.read_parquet(out / "weeks.parquet")
    weeks = weeks[weeks["week"] >= 1]
    cleaned = load(out / "lines" / "default_0_thompson.csv")
    assert cleaned.report["rows_kept"] == cleaned.report["rows_read"]
    codes = weeks["stockcode"].unique()
    panel = weekly_panel(cleaned.frame, codes)
    assert panel.units.shape == (25, 3)
    sim = SimMarket(0, 25, 4, "default", ROWS)
    cost = pd.Series(sim.unit_cost, index=sim.codes)
    for t, (_, week) in enumerate(weeks.groupby("week")):
        week = week.set_index("stockcode").loc[codes]
        units = week["realised_profit"] / (week["price"] - cost.loc[codes])
        np.testing.assert_allclose(panel.units[:, t], units, atol=1e-6)
        sold = panel.orders[:, t] > 0
        error = np.abs(panel.list_price[sold, t] / week["price"][sold] - 1)
        # a few weeks of lines teach the price ladder little: most prices read to the penny, a few read a break
        assert np.median(error) < 0.005 and np.mean(error < 0.011) > 0.75


def test_bad_input_is_a_one_line_error(capsys, tmp_path):
    assert main(["simulate", "--seeds", "0", "--report-seeds", "7", "--out", str(tmp_path)]) == 1
    assert "--report-seeds [7] are not among the seeds run ([0])" in capsys.readouterr().err
    assert main(["simulate", "--products", "5000", "--rows", "60000", "--out", str(tmp_path)]) == 1
    assert "fewer than the 5,000 asked" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        main(["simulate", "--band", "1.5"])


def test_the_panel_refuses_what_it_cannot_read():
    from pricing.experiments.panel import weekly_panel

    with pytest.raises(ValueError, match="customer_id"):
        weekly_panel(pd.DataFrame({"stockcode": [], "invoice_date": [], "quantity": [], "unit_price": []}), ["A"])
    empty = pd.DataFrame(columns=["stockcode", "invoice_date", "quantity", "unit_price", "customer_id"])
    with pytest.raises(ValueError, match="no transaction lines"):
        weekly_panel(empty, ["A"])


# -- --start-price-factor: a shop that starts away from the history's last price -----------------------------------


@given(
    st.lists(st.integers(1, 50_000), min_size=1, max_size=20),
    st.floats(0.3, 3.0, allow_nan=False, allow_infinity=False),
)
@settings(max_examples=200, deadline=None)
def test_the_start_price_is_the_factor_times_the_last_price_in_whole_pence(pence, factor):
    current = from_minor(np.array(pence))
    start = start_prices(current, factor)
    assert is_whole_minor(start).all() and (start >= 0.01).all()
    # the nearest whole penny to F x the last price (one penny at the least)
    assert np.all(np.abs(start - np.maximum(factor * current, 0.01)) <= 0.005 + 1e-9)
    # factor 1 is the current price itself: today's run
    assert start_prices(current, 1.0) is current


def test_a_start_price_factor_must_be_positive(capsys, tmp_path):
    for bad in (0.0, -1.0, float("nan")):
        with pytest.raises(ValueError, match="positive"):
            start_prices(np.array([1.0]), bad)
        with pytest.raises(ValueError, match="positive"):
            Settings(start_price_factor=bad)
    with pytest.raises(SystemExit):
        main(["simulate", "--start-price-factor", "0", "--out", str(tmp_path)])
    assert "must be a positive number, got 0" in capsys.readouterr().err


@given(
    st.lists(
        st.tuples(
            st.floats(-2, 6),  # level
            st.floats(-1, 4),  # slope
            st.floats(0.01, 1.5),  # level sd
            st.floats(0.01, 1.5),  # slope sd
            st.floats(-0.9, 0.9),  # correlation
            st.floats(-0.7, 0.7),  # log ratio of the new reference price
            st.floats(-1, 1),  # log(price / p0) the prediction is made at
        ),
        min_size=1,
        max_size=10,
    )
)
@settings(max_examples=200, deadline=None)
def test_a_recentred_prior_predicts_the_same_units_at_every_price(rows):
    """The model read at a new reference price is the same model: at any price, the prior's log weekly units
    (a - b log(p / p0)) keep their mean and their variance."""
    a, b, sa, sb, rho, r, x = (np.array(v) for v in zip(*rows, strict=True))
    prior = Prior(Posterior(a, b, sa, sb, rho), "passive", np.full(len(a), np.nan))
    moved = recentred(prior, r).posterior
    x_new = x - r  # the same price's log ratio to the new reference
    np.testing.assert_allclose(moved.level - moved.slope * x_new, a - b * x, atol=1e-9)
    var = sa**2 + x**2 * sb**2 - 2 * x * rho * sa * sb
    var_new = (
        moved.level_sd**2
        + x_new**2 * moved.slope_sd**2
        - 2 * x_new * moved.correlation * moved.level_sd * moved.slope_sd
    )
    np.testing.assert_allclose(var_new, var, rtol=1e-7, atol=1e-9)
    np.testing.assert_array_equal(moved.slope, b)
    assert (np.abs(moved.correlation) <= 1 + 1e-9).all()
    assert recentred(prior, np.zeros(len(a))) is prior
    with pytest.raises(ValueError, match="log_ratio"):
        recentred(prior, np.zeros(len(a) + 1))


def test_the_start_price_factor_moves_the_status_quo_and_nothing_of_the_truth(tmp_path):
    """With --start-price-factor 1.3 every policy starts, and the holdout stays, at 1.3 x the history's last
    price in whole pence; the status quo's profit is the truth's there; the clairvoyant keeps to the band around
    it; the prior is the passive model read at it (its slope unchanged, its level the model's own prediction)."""
    argv = ["simulate", "--weeks", "3", "--products", "20", "--rows", str(ROWS), "--pre-weeks", "2"]
    argv += ["--market", "confounded", "--policy", "status-quo", "--policy", "greedy"]
    assert main([*argv, "--start-price-factor", "1.3", "--out", str(tmp_path)]) == 0
    report = json.loads((tmp_path / "report.json").read_text())
    assert report["settings"]["start_price_factor"] == 1.3
    weeks = pd.read_parquet(tmp_path / "weeks.parquet")
    sim = SimMarket(0, 20, 5, "confounded", ROWS)
    start = pd.Series(from_minor(to_minor(1.3 * sim.current_price)), index=sim.codes.astype(str))
    assert (start != pd.Series(sim.current_price, index=start.index)).all()
    sq = weeks[weeks["policy"] == "status-quo"]
    np.testing.assert_array_equal(sq["price"], start.loc[sq["stockcode"]])
    greedy = weeks[weeks["policy"] == "greedy"]
    fixed = greedy[(greedy["week"] < 2) | greedy["holdout"]]
    assert greedy["holdout"].any() and (greedy["week"] >= 2).any()
    np.testing.assert_array_equal(fixed["price"], start.loc[fixed["stockcode"]])
    # the truth is the market's, unchanged: the status quo's expected profit there, the optimum within the band
    for t in range(5):
        week = sq[sq["week"] == t].set_index("stockcode").loc[start.index]
        np.testing.assert_allclose(week["status_quo_profit"], sim.expected_profit(t, start.to_numpy()), rtol=1e-12)
        assert ((week["optimum"] >= 0.8 * start - 0.01) & (week["optimum"] <= 1.2 * start + 0.01)).all()
    # the prior: the passive model's slope, its level read at the new price
    passive = passive_prior(sim, 0).posterior
    assert report["runs"][0]["prior_slope_mean"] == round(float(passive.slope.mean()), 3)
    moved = recentred(passive_prior(sim, 0), np.log(start.to_numpy() / sim.current_price)).posterior
    np.testing.assert_allclose(moved.level, passive.level - passive.slope * np.log(start / sim.current_price))


@pytest.mark.parametrize("factor", [1.0, 1.3])
def test_the_run_is_todays_pipeline_at_the_factors_status_quo(factor):
    """The simulation is today's pipeline assembled here from its parts, figure for figure: at factor 1 with the
    current price as the status quo and the passive prior as fitted, at 1.3 with 1.3 x the current price in whole
    pence and the passive prior read there (prior.recentred)."""
    from pricing.experiments.policies import choose_holdout
    from pricing.experiments.simulate import metrics, run_policy, truth_of

    settings = Settings(
        weeks=3, products=20, pre_weeks=2, rows=ROWS, policies=("greedy", "thompson"), start_price_factor=factor
    )
    report = simulate(["confounded"], [1], settings)
    sim = SimMarket(1, 20, 5, "confounded", ROWS)
    prior = passive_prior(sim, 1)
    start = sim.current_price
    if factor != 1.0:
        start = from_minor(to_minor(factor * sim.current_price))
        prior = recentred(prior, np.log(start / sim.current_price))
    support = np.column_stack([sim.history_price.min(axis=1), sim.history_price.max(axis=1)])
    cand = candidates(start, sim.unit_cost, settings.guardrails, support)
    truth = truth_of(sim, cand, 5)
    holdout = choose_holdout(sim.n, settings.guardrails.holdout_share, np.random.default_rng([1, 600]))
    for figures, name in zip(report["runs"], settings.policies, strict=True):
        today = metrics(run_policy(sim, prior, cand, name, settings, holdout, 1), truth, settings)
        assert {k: figures[k] for k in today} == today
        assert figures["prior_slope_mean"] == round(float(prior.posterior.slope.mean()), 3)
