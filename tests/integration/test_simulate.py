"""`pricing simulate` end to end: the report, table and plots; runs are deterministic; status quo's regret is
the current-price regret `pricing evaluate`'s truth gives; a trained bundle can be the prior."""

import json

import numpy as np
import pandas as pd
import pytest

from pricing.cli import main
from pricing.experiments.market import SimMarket
from pricing.experiments.policies import POLICIES, REASONS, Guardrails, candidates
from pricing.experiments.prior import bundle_prior
from pricing.experiments.simulate import Settings, simulate
from pricing.serving.decision import PRIOR_SD_FLOOR
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
