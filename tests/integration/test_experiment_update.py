"""`pricing experiment update` end to end: a shop's test weeks, written as Online Retail lines from a known
constant-elasticity demand, through the CLI to a new bundle version whose `experiment_evidence.parquet` holds the
posterior slopes, `experiment_weeks.parquet` the weeks' realised and expected figures and `experiment_report.json`
the overall ones (read back through pricing.experiments.results, the experiment contract's `results` block); the
version verifies and serves; bad input publishes nothing. With an `experiment.json` (the contract's config) in the
parent, its products, holdout, pre-period, status-quo prices and costs are the ones used, it is carried unchanged,
and a holdout product whose price moved is refused.

The lines: TESTED best sellers of the quick bundle priced at p0 for PRE_WEEKS weeks, then at arms around p0 for
TEST_WEEKS weeks, HOLDOUT best sellers at p0 throughout; each product sells Poisson(LINES_PER_WEEK x season_t x
(p / p0) ^ -TRUE_SLOPE) order lines a week of one unit each (phi = 1), every line its own invoice of a known
customer (so the price ladder reads the paid price as the list price), the season moving the whole shop's volume
(the update reads it from the file's lines).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from scipy.stats import norm

from pricing.artifacts.bundle import MANIFEST, copy_bundle, open_bundle, sha256_of
from pricing.artifacts.store import LocalStore
from pricing.experiments.results import product_results, product_state
from tests.experiment_lines import experiment_update, pricing, write_lines

TRUE_SLOPE = 2.0  # -d log(units per week) / d log(price): elastic, unlike the quick bundle's curve
TESTED, HOLDOUT = 8, 4
PRE_WEEKS, TEST_WEEKS = 4, 8
LINES_PER_WEEK = 600
ARMS = (0.75, 0.85, 1.15, 1.3)  # the test's prices over p0, in turn
FIRST_MONDAY = pd.Timestamp("2012-01-02")
# the stated tolerance: the tested products' mean posterior slope within MEAN_TOLERANCE of the truth (the mean of
# 8 has an sd of about 0.023, and the prior pulls it about 0.03 toward the bundle's slopes; reached: -0.036,
# largest 0.132; a volume offset that counts the tested products' own lines is +0.095 off), each within
# EACH_TOLERANCE (at a posterior sd of about 0.065: 8 weeks x 600 lines x mean x^2 0.049 of information; about 4
# sds)
MEAN_TOLERANCE = 0.07
EACH_TOLERANCE = 0.25
# expected against realised: the expected figure's level is the bundle's (its curve's units per week at p0), not
# the file's (600 lines a week by construction, whatever the quick bundle learnt), so the honest comparison is of
# shapes. Per tested product, log(realised units / expected units) regressed on log(p / p0) has slope
# b0 - TRUE_SLOPE (the model expected b0, the shop showed 2): the 8 products' mean within SHAPE_MEAN_TOLERANCE
# (an sd of about 0.025: each product's slope has an sd of about 0.07, 0.05 of noise a week over 12 weeks of
# log-price spread 0.5) and each within SHAPE_EACH_TOLERANCE (3.5 sds); and the residuals' sd is under
# RESIDUAL_SD (Poisson noise alone is 0.04-0.065 a week): the week's volume offset takes the season (+-30%) out of
# the comparison. Reached (seed 0): mean -0.021, largest 0.128, residual sd at most 0.065.
SHAPE_MEAN_TOLERANCE = 0.07
SHAPE_EACH_TOLERANCE = 0.25
RESIDUAL_SD = 0.1
CONTRACT_WEEK_KEYS = {"week", "price", "units", "realised", "expected"}


def best_sellers(bundle: Path, n: int) -> pd.DataFrame:
    """The bundle's n best sellers (by training lines) with their current price (evidence.parquet), whole pence."""
    products = pd.read_parquet(bundle / "products.parquet").sort_values("lines", ascending=False)
    evidence = pd.read_parquet(bundle / "evidence.parquet").set_index("stockcode")
    chosen = products.head(n)[["stockcode", "description"]].copy()
    chosen["p0"] = evidence.loc[chosen["stockcode"], "current_price"].round(2).to_numpy()
    return chosen.reset_index(drop=True)


def write_test_weeks(path: Path, products: pd.DataFrame, tested: int, seed: int = 0) -> dict[str, list[float]]:
    """Writes the module docstring's lines to `path` (CSV); returns each product's weekly prices."""
    weeks = PRE_WEEKS + TEST_WEEKS
    season = 1 + 0.3 * np.sin(np.arange(weeks) / 2)
    prices = {}
    for j, product in products.iterrows():
        p0 = float(product["p0"])
        prices[product["stockcode"]] = [p0] * PRE_WEEKS + [
            round(p0 * ARMS[(k + j) % len(ARMS)], 2) if j < tested else p0 for k in range(TEST_WEEKS)
        ]
    descriptions = dict(zip(products["stockcode"], products["description"], strict=True))
    paths = {code: (descriptions[code], path_j) for code, path_j in prices.items()}
    write_lines(path, paths, FIRST_MONDAY, TRUE_SLOPE, LINES_PER_WEEK, season, seed)
    return prices


@pytest.fixture(scope="module")
def test_weeks(quick_bundle, tmp_path_factory) -> tuple[Path, pd.DataFrame, dict[str, list[float]]]:
    """The lines' file, the products (tested first) and each product's weekly prices."""
    products = best_sellers(quick_bundle, TESTED + HOLDOUT)
    path = tmp_path_factory.mktemp("lines") / "test_weeks.csv"
    prices = write_test_weeks(path, products, TESTED)
    return path, products, prices


@pytest.fixture(scope="module")
def updated(store, test_weeks, tmp_path_factory):
    """The command run once on the test weeks: its process, the parent version and the report folder."""
    return experiment_update(store, test_weeks[0], tmp_path_factory.mktemp("report"))


def test_the_update_recovers_a_known_slope_into_a_new_version(store, test_weeks, updated):
    done, parent, _out = updated
    assert done.returncode == 0, done.stderr[-2000:]
    version = store.latest()
    assert version != parent and version.startswith(parent + "-x")
    bundle = open_bundle(store.root / version)  # every file's checksum, the new table's included
    assert bundle.manifest["experiment"]["parent"] == parent
    assert bundle.manifest["models"] == open_bundle(store.root / parent).manifest["models"]
    table = bundle.table("experiment_evidence.parquet").set_index("stockcode")
    products = test_weeks[1]
    tested = table.loc[products["stockcode"][:TESTED]]
    held = table.loc[products["stockcode"][TESTED:]]
    assert tested["tested"].all() and not held["tested"].any()
    assert (held["state"] == "holdout").all()
    error = tested["slope_mean"] - TRUE_SLOPE
    assert abs(error.mean()) < MEAN_TOLERANCE, tested[["slope_mean", "slope_sd", "prior_mean", "prior_sd"]]
    assert (error.abs() < EACH_TOLERANCE).all(), tested[["slope_mean", "slope_sd", "prior_mean", "prior_sd"]]
    assert (tested["slope_sd"] < tested["prior_sd"] / 2).all()  # the weeks, not the prior, carry the estimate
    assert (held["slope_sd"] > 0.9 * held["prior_sd"]).all()  # no price moved: nothing learnt about the slope
    assert (tested["weeks"] == PRE_WEEKS + TEST_WEEKS).all() and (tested["prices_seen"] == 1 + len(ARMS)).all()
    print(f"mean posterior slope error {error.mean():+.3f}, largest {error.abs().max():.3f}")


def test_the_report_has_every_product_the_did_and_the_states(updated, test_weeks):
    done, parent, out = updated
    assert done.returncode == 0, done.stderr[-2000:]
    report = json.loads((out / "report.json").read_text())
    assert report["parent_version"] == parent and report["tested"] == TESTED and report["holdout"] == HOLDOUT
    assert len(report["weeks"]) == PRE_WEEKS + TEST_WEEKS
    did = report["difference_in_differences"]
    assert did["pre_weeks"] == PRE_WEEKS and did["post_weeks"] == TEST_WEEKS
    assert did["treated"] == TESTED and did["control"] == HOLDOUT and did["low"] < did["estimate"] < did["high"]
    prices = test_weeks[2]
    for product in report["per_product"]:
        low, high = product["posterior_slope"]["interval_90"]
        assert low < product["posterior_slope"]["mean"] < high
        # revenue (no costs), true slope 2: a last price above p0 (1.15 or 1.3 x p0) earns 13% or 23% less than
        # p0, past the stop-loss's 10%, so it is stopped; below p0, the interval (about 2 +- 0.1) excludes the
        # revenue threshold 1: monetising
        code = product["stockcode"]
        expected = "holdout"
        if product["tested"]:
            expected = "stopped" if prices[code][-1] > prices[code][0] else "monetising"
        assert product["state"] == expected, product
        assert product["prices_seen"] == sorted(set(prices[code]))
    assert "| state |" in (out / "report.md").read_text()


def test_the_new_version_serves_a_price_decision(store, updated, test_weeks):
    from pricing.config import Settings
    from pricing.serving.app import create_app

    assert updated[0].returncode == 0, updated[0].stderr[-2000:]
    client = create_app(Settings(env="test"), store=store).test_client()
    code = test_weeks[1]["stockcode"][0]
    answer = client.get(f"/v1/price-decision/{code}?num_samples=50&num_price_bins=10")
    assert answer.status_code == 200, answer.get_data(as_text=True)
    assert answer.headers["X-Model-Version"] == store.latest()
    assert answer.get_json()["decision"] in ("change", "hold", "test")  # `test`: issue 25, build 3


def iso(monday: pd.Timestamp) -> str:
    year, week, _ = monday.isocalendar()
    return f"{year}-W{week:02d}"


FILE_WEEKS = [iso(FIRST_MONDAY + pd.Timedelta(weeks=t)) for t in range(PRE_WEEKS + TEST_WEEKS)]


def raw_weeks(path: Path) -> pd.DataFrame:
    """Per product and ISO week of the file, read straight from the test's CSV (not through the loader or the
    panel): units, order lines and revenue (quantity x paid price), zero for a week without a line."""
    lines = pd.read_csv(path, dtype={"StockCode": str})
    when = pd.to_datetime(lines["InvoiceDate"], format="%m/%d/%Y %H:%M")
    lines["week"] = [iso(w) for w in when.dt.to_period("W-SUN").dt.start_time]
    lines["revenue"] = lines["Quantity"] * lines["UnitPrice"]
    sums = lines.groupby(["StockCode", "week"]).agg(
        units=("Quantity", "sum"), orders=("Quantity", "size"), revenue=("revenue", "sum")
    )
    index = pd.MultiIndex.from_product([sorted(lines["StockCode"].unique()), FILE_WEEKS], names=["stockcode", "week"])
    return sums.reindex(index, fill_value=0)


def test_the_weeks_table_holds_every_product_week_and_the_files_own_figures(store, test_weeks, updated):
    assert updated[0].returncode == 0, updated[0].stderr[-2000:]
    bundle = open_bundle(store.root / store.latest())  # the weeks' table's checksum included
    weeks = bundle.table("experiment_weeks.parquet")
    path, products, prices = test_weeks
    codes = list(products["stockcode"])
    assert len(weeks) == len(codes) * len(FILE_WEEKS)
    assert set(zip(weeks["stockcode"], weeks["week"], strict=True)) == {(c, w) for c in codes for w in FILE_WEEKS}
    truth = raw_weeks(path)
    rows = weeks.set_index(["stockcode", "week"]).reindex(truth.loc[codes].index)
    # no costs in the quick bundle: the figure is revenue, the file's own, to the rounding of 4 decimals
    np.testing.assert_allclose(rows["realised"], truth.loc[codes, "revenue"], atol=1e-3, rtol=0)
    np.testing.assert_array_equal(rows["units"], truth.loc[codes, "units"])
    np.testing.assert_array_equal(rows["orders"], truth.loc[codes, "orders"])
    np.testing.assert_allclose(rows["price"], [p for c in codes for p in prices[c]], atol=1e-6)
    assert (rows["post"] == np.tile(np.arange(len(FILE_WEEKS)) >= PRE_WEEKS, len(codes))).all()


def test_expected_is_the_bundles_curve_at_the_weeks_price_and_volume(store, test_weeks, updated):
    """expected_t = p_t x (units per week at p0 on the bundle's curve) x (V_t / geometric mean of V) x
    (p_t / p0)^-b0, V_t the week's untested order lines (the holdout's; a holdout product's own left out), b0 the
    prior slope: recomputed here from the raw lines and the API's own curve."""
    from pricing.config import Settings
    from pricing.serving.app import create_app

    assert updated[0].returncode == 0, updated[0].stderr[-2000:]
    bundle = store.fetch()
    weeks = bundle.table("experiment_weeks.parquet").set_index(["stockcode", "week"])
    evidence = bundle.table("experiment_evidence.parquet").set_index("stockcode")
    path, products, _prices = test_weeks
    truth = raw_weeks(path)
    holdout = list(products["stockcode"][TESTED:])
    holdout_lines = truth.loc[holdout, "orders"].groupby(level="week").sum().reindex(FILE_WEEKS).to_numpy()
    client = create_app(Settings(env="test"), store=store).test_client()
    for j, code in enumerate(products["stockcode"]):
        p0, b0 = float(products["p0"][j]), float(evidence.loc[code, "prior_mean"])
        volume = holdout_lines - (truth.loc[code, "orders"].reindex(FILE_WEEKS).to_numpy() if j >= TESTED else 0)
        rows = weeks.loc[code].reindex(FILE_WEEKS)
        price = rows["price"].to_numpy()
        level = rows["expected"].to_numpy() / price / (price / p0) ** -b0 / (volume / np.exp(np.log(volume).mean()))
        curve = client.get(
            f"/v1/predict-price/{code}?unitprice_min={p0 - 0.05:.2f}&unitprice_max={p0 + 0.05:.2f}"
            "&num_price_bins=3&num_samples=200"
        )
        assert curve.status_code == 200, curve.get_data(as_text=True)
        at_p0 = curve.get_json()[1]
        assert at_p0["unit_price"] == pytest.approx(p0)
        np.testing.assert_allclose(level, at_p0["units_per_week"], rtol=2e-3, err_msg=code)


def test_expected_against_realised_shows_the_slope_the_test_taught(store, test_weeks, updated):
    """The dashboard's comparison, read honestly (SHAPE_MEAN_TOLERANCE's comment): per tested product, realised over
    expected units moves with the price as (p / p0)^(b0 - 2), and the season is gone from it."""
    assert updated[0].returncode == 0, updated[0].stderr[-2000:]
    bundle = store.fetch()
    weeks = bundle.table("experiment_weeks.parquet")
    evidence = bundle.table("experiment_evidence.parquet").set_index("stockcode")
    products = test_weeks[1]
    slopes, spreads = [], []
    for j, code in enumerate(products["stockcode"][:TESTED]):
        rows = weeks[weeks["stockcode"] == code]
        x = np.log(rows["price"].to_numpy() / products["p0"][j])
        ratio = np.log(rows["units"].to_numpy() / (rows["expected"].to_numpy() / rows["price"].to_numpy()))
        fit = np.polyfit(x, ratio, 1)
        residual = ratio - np.polyval(fit, x)
        slopes.append(fit[0] - (evidence.loc[code, "prior_mean"] - TRUE_SLOPE))
        spreads.append(residual.std(ddof=2))
    print(
        f"shape error mean {np.mean(slopes):+.3f}, largest {np.abs(slopes).max():.3f}, "
        f"residual sd at most {max(spreads):.3f}"
    )
    assert abs(np.mean(slopes)) < SHAPE_MEAN_TOLERANCE, slopes
    assert np.abs(slopes).max() < SHAPE_EACH_TOLERANCE, slopes
    assert max(spreads) < RESIDUAL_SD, spreads


def test_the_experiment_report_in_the_bundle_is_the_reports(store, updated):
    done, parent, out = updated
    assert done.returncode == 0, done.stderr[-2000:]
    bundle = open_bundle(store.root / store.latest())
    summary = json.loads(bundle.verified("experiment_report.json").read_text())
    report = json.loads((out / "report.json").read_text())
    did = report["difference_in_differences"]
    assert {k: summary["did"][k] for k in ("estimate", "low", "high", "std_error", "treated", "control")} == {
        k: did[k] for k in ("estimate", "low", "high", "std_error", "treated", "control")
    }
    assert (
        summary["did"]["unit"] == "GBP per product-week" and summary["did"]["scope"] == "all tested products vs holdout"
    )
    assert summary["pre_weeks"] == did["pre_weeks"] == PRE_WEEKS and summary["post_weeks"] == TEST_WEEKS
    assert summary["states"] == report["states"] and (summary["tested"], summary["holdout"]) == (TESTED, HOLDOUT)
    assert summary["outcome"] == "revenue" and summary["experiment"] is None and summary["design"] == "inferred"
    assert summary["version"] == bundle.version and summary["parent_version"] == parent
    updated_at = dt.datetime.fromisoformat(summary["updated"])
    assert updated_at.utcoffset() == dt.timedelta(0)
    assert abs(dt.datetime.now(dt.UTC) - updated_at) < dt.timedelta(hours=1)


def test_product_results_is_the_contracts_block(store, test_weeks, updated):
    done, parent, out = updated
    assert done.returncode == 0, done.stderr[-2000:]
    bundle = store.fetch()
    weeks = bundle.table("experiment_weeks.parquet")
    evidence = bundle.table("experiment_evidence.parquet").set_index("stockcode")
    summary = json.loads(bundle.verified("experiment_report.json").read_text())
    z = norm.ppf(0.95)
    for code in test_weeks[1]["stockcode"]:
        results = product_results(bundle, code)
        assert json.loads(json.dumps(results, allow_nan=False)) == results  # JSON as it is, no NaN or numpy
        assert set(results) == {"updated", "weeks", "slope", "did"} and results["updated"] == summary["updated"]
        rows = weeks[weeks["stockcode"] == code]
        assert [w["week"] for w in results["weeks"]] == FILE_WEEKS
        for key in ("price", "units", "realised", "expected"):
            assert [w[key] for w in results["weeks"]] == pytest.approx(rows[key].tolist()), key
        assert all(set(w) >= CONTRACT_WEEK_KEYS for w in results["weeks"])
        row = evidence.loc[code]
        for name, mean, sd in (("prior", "prior_mean", "prior_sd"), ("posterior", "slope_mean", "slope_sd")):
            expected = [row[mean], row[mean] - z * row[sd], row[mean] + z * row[sd]]
            assert results["slope"][name] == pytest.approx(expected, abs=1e-4), name
        did = json.loads((out / "report.json").read_text())["difference_in_differences"]
        assert results["did"] == {
            "estimate": did["estimate"],
            "low": did["low"],
            "high": did["high"],
            "unit": "GBP per product-week",
            "scope": "all tested products vs holdout",
        }
        assert product_state(bundle, code) == row["state"]
    assert product_results(bundle, "NOT-A-CODE") is None and product_state(bundle, "NOT-A-CODE") is None
    older = store.fetch(parent)  # no experiment files: no results, no state
    assert product_results(older, test_weeks[1]["stockcode"][0]) is None
    assert product_state(older, test_weeks[1]["stockcode"][0]) is None


# With a config: the experiment starts in week CONFIG_START (2 weeks after the file's prices first move, so the
# pre-period differs from the one the prices suggest), LEFT_OUT is a tested product of the file outside the
# experiment, NOT_MOVED a product the config tests that the file kept at p0 (the prices would call it holdout),
# the config's holdout the file's other holdout products, costs 40% of p0, and one holdout product's status-quo
# price a penny above the file's (within MOVED: it did not move).
CONFIG_START = PRE_WEEKS + 2
LEFT_OUT, NOT_MOVED = TESTED - 1, TESTED + HOLDOUT - 1
COST_SHARE = 0.4


def contract_config(products: pd.DataFrame, prices: dict[str, list[float]], holdout: set[int]) -> dict:
    """An experiment.json as the experiment contract writes it, for the test's file: products but LEFT_OUT, the
    indexes in `holdout` held out, the schedule the file's prices from CONFIG_START."""
    weeks = PRE_WEEKS + TEST_WEEKS - CONFIG_START
    entries = []
    nudged = max((j for j in holdout if j != 0), key=lambda j: products["p0"][j], default=None)
    for j, product in products.iterrows():
        if j == LEFT_OUT:
            continue
        code, p0 = product["stockcode"], float(product["p0"])
        path = prices[code][CONFIG_START:]
        arms = [p0] if j in holdout else sorted({*path, p0})
        entries.append(
            {
                "stockcode": code,
                "status_quo_price": round(p0 + 0.01, 2) if j == nudged else p0,
                "unit_cost": round(COST_SHARE * p0, 2),
                "holdout": j in holdout,
                "arms": arms,
                "schedule": [
                    {
                        "week": FILE_WEEKS[CONFIG_START + k],
                        "arm": arms.index(p0 if j in holdout else price),
                        "target": p0 if j in holdout else price,
                        "price": p0 if j in holdout else price,
                        "binding": "holdout" if j in holdout else None,
                    }
                    for k, price in enumerate(path)
                ],
            }
        )
    body = {
        "start_week": FILE_WEEKS[CONFIG_START],
        "weeks": weeks,
        "objective": "profit",
        "holdout_share": round(len(holdout) / len(entries), 4),
        "band": 0.2,
        "step": 0.08,
        "arms": 5,
        "weeks_per_arm": 2,
        "seed": 0,
        "stop_loss": {"share": 0.1, "probability": 0.7},
        "products": entries,
    }
    digest = hashlib.sha256(json.dumps(body, sort_keys=True).encode()).hexdigest()[:8]
    created = dt.datetime.now(dt.UTC).isoformat(timespec="seconds")
    return {"id": f"exp-{body['start_week']}-{digest}", "created": created, "bundle": "quick", **body}


def publish_with_config(store: LocalStore, config: dict) -> str:
    """A version of the store's LATEST with `experiment.json` added (checksummed in its manifest), published as
    `pricing experiment start` would; returns it."""
    parent = store.fetch()
    target = copy_bundle(parent, "bundle-config-")
    (target / "experiment.json").write_text(json.dumps(config, indent=2) + "\n")
    manifest = json.loads(json.dumps(parent.manifest))
    manifest["version"] = f"{parent.version}-e{config['id'][-8:]}"
    manifest["files"]["experiment.json"] = sha256_of(target / "experiment.json")
    (target / MANIFEST).write_text(json.dumps(manifest, indent=2) + "\n")
    try:
        return store.publish(target)
    finally:
        shutil.rmtree(target, ignore_errors=True)


@pytest.fixture(scope="module")
def config_run(quick_bundle, test_weeks, tmp_path_factory):
    """The command run on the same file in a store whose LATEST carries a config (CONFIG_START's comment), then
    again on its own version (a repeated update): the first run's process, the store, the config's version, the
    config, the first report folder, the first run's version and the second run's process."""
    _path, products, prices = test_weeks
    local = LocalStore(tmp_path_factory.mktemp("config-store"))
    local.publish(quick_bundle)
    config = contract_config(products, prices, holdout=set(range(TESTED, TESTED + HOLDOUT - 1)))
    parent = publish_with_config(local, config)
    out = tmp_path_factory.mktemp("config-report")
    done = pricing("experiment", "update", "--raw", str(test_weeks[0]), "--store", str(local.root), "--out", str(out))
    first = local.latest()
    again = pricing(
        "experiment", "update", "--raw", str(test_weeks[0]), "--store", str(local.root), "--out", str(out / "again")
    )
    return done, local, parent, config, out, first, again


def test_the_configs_products_holdout_pre_period_prices_and_costs_are_used(config_run, test_weeks):
    done, local, parent, config, out, version, _again = config_run
    assert done.returncode == 0, done.stderr[-2000:]
    assert version.startswith(parent + "-x")
    bundle = open_bundle(local.root / version)
    assert (bundle.root / "experiment.json").read_bytes() == (local.root / parent / "experiment.json").read_bytes()
    planned = {p["stockcode"]: p for p in config["products"]}
    table = bundle.table("experiment_evidence.parquet").set_index("stockcode")
    assert set(table.index) == set(planned)  # LEFT_OUT is in the file, not in the experiment
    assert table["tested"].to_dict() == {code: not p["holdout"] for code, p in planned.items()}
    assert set(table.index[table["state"] == "holdout"]) == {code for code, p in planned.items() if p["holdout"]}
    assert table["status_quo_price"].to_dict() == {code: p["status_quo_price"] for code, p in planned.items()}
    summary = json.loads(bundle.verified("experiment_report.json").read_text())
    assert summary["experiment"] == config["id"] and summary["design"] == "config" and summary["outcome"] == "profit"
    assert (summary["pre_weeks"], summary["post_weeks"]) == (CONFIG_START, PRE_WEEKS + TEST_WEEKS - CONFIG_START)
    assert (summary["did"]["pre_weeks"], summary["did"]["treated"], summary["did"]["control"]) == (
        CONFIG_START,
        TESTED,  # TESTED - 1 moved ones and NOT_MOVED
        HOLDOUT - 1,
    )
    report = json.loads((out / "report.json").read_text())
    assert report["experiment"] == config["id"]
    assert report["difference_in_differences"]["estimate"] == summary["did"]["estimate"]
    weeks = bundle.table("experiment_weeks.parquet").set_index(["stockcode", "week"])
    assert (weeks["post"] == (weeks.index.get_level_values("week") >= config["start_week"])).all()
    truth = raw_weeks(test_weeks[0]).loc[list(planned)]
    cost = np.array([planned[code]["unit_cost"] for code in truth.index.get_level_values("stockcode")])
    rows = weeks.reindex(truth.index)
    np.testing.assert_allclose(rows["realised"], truth["revenue"] - cost * truth["units"], atol=1e-3, rtol=0)
    code = test_weeks[1]["stockcode"][0]
    results = product_results(bundle, code)  # the config's experiment's results: served
    assert results is not None and results["did"]["estimate"] == summary["did"]["estimate"]
    assert product_state(bundle, code) == table.loc[code, "state"]


def test_a_repeated_update_starts_again_from_the_models_prior(config_run):
    """The second update's parent carries the first's posterior, which serving tilts its curve by: the prior must
    still be the model's own (the same weeks would otherwise count twice), so the same file gives the same prior
    and posterior; the config is still carried unchanged, the suffix replaced."""
    _done, local, parent, _config, _out, first, again = config_run
    assert again.returncode == 0, again.stderr[-2000:]
    second = local.latest()
    assert second != first and second.startswith(parent + "-x") and second.count("-x") == 1
    bundle = open_bundle(local.root / second)
    assert bundle.manifest["experiment"]["parent"] == first
    assert (bundle.root / "experiment.json").read_bytes() == (local.root / parent / "experiment.json").read_bytes()
    before = open_bundle(local.root / first).table("experiment_evidence.parquet").set_index("stockcode")
    after = bundle.table("experiment_evidence.parquet").set_index("stockcode").loc[before.index]
    for column in ("prior_mean", "prior_sd", "slope_mean", "slope_sd"):
        np.testing.assert_allclose(after[column], before[column], atol=1e-6, err_msg=column)


def test_a_holdout_product_that_moved_is_refused_and_nothing_published(quick_bundle, test_weeks, tmp_path):
    _path, products, prices = test_weeks
    local = LocalStore(tmp_path / "store")
    local.publish(quick_bundle)
    config = contract_config(products, prices, holdout={0, *range(TESTED, TESTED + HOLDOUT)})
    publish_with_config(local, config)
    code = products["stockcode"][0]
    refused(local, test_weeks[0], tmp_path, f"holdout product of experiment {config['id']} moved: {code} (")


def refused(store, raw: Path, tmp_path: Path, message: str) -> None:
    """The command on `raw` exits 1 with one line naming the problem, and publishes nothing."""
    before_latest = store.latest()
    before = sorted(p.name for p in Path(store.root).iterdir())
    done = pricing("experiment", "update", "--raw", str(raw), "--store", str(store.root), "--out", str(tmp_path / "r"))
    assert done.returncode == 1, done.stdout + done.stderr
    errors = [line for line in done.stderr.splitlines() if line.strip()]
    assert len(errors) == 1 and errors[0].startswith("pricing experiment: error:") and message in errors[0], errors
    assert store.latest() == before_latest
    assert sorted(p.name for p in Path(store.root).iterdir()) == before  # no version folder, no staging left
    assert not (tmp_path / "r").exists()


def test_an_empty_file_publishes_nothing(store, tmp_path):
    empty = tmp_path / "empty.csv"
    empty.write_text("")
    refused(store, empty, tmp_path, "empty.csv")


def test_a_header_without_lines_publishes_nothing(store, tmp_path):
    header = tmp_path / "header.csv"
    header.write_text("InvoiceNo,StockCode,Description,Quantity,InvoiceDate,UnitPrice,CustomerID,Country\n")
    refused(store, header, tmp_path, "no usable transaction lines")


def test_a_malformed_file_publishes_nothing(store, tmp_path):
    malformed = tmp_path / "malformed.csv"
    malformed.write_text("this is,not an export\n1,2\n")
    refused(store, malformed, tmp_path, "malformed.csv")


def test_a_file_without_a_product_of_the_bundle_publishes_nothing(store, tmp_path):
    other = tmp_path / "other.csv"
    other.write_text(
        "InvoiceNo,StockCode,Description,Quantity,InvoiceDate,UnitPrice,CustomerID,Country\n"
        "700001,99999Z,NOT A PRODUCT OF THIS SHOP,2,01/13/2012 10:00,3.50,12345,United Kingdom\n"
    )
    refused(store, other, tmp_path, "none of its 1 products is in bundle")


def test_a_store_without_a_bundle_is_one_line(tmp_path, test_weeks):
    empty_store = tmp_path / "store"
    empty_store.mkdir()
    done = pricing(
        "experiment", "update", "--raw", str(test_weeks[0]), "--store", str(empty_store), "--out", str(tmp_path / "r")
    )
    assert done.returncode == 1 and "no bundle published" in done.stderr and "Traceback" not in done.stderr
    assert list(empty_store.iterdir()) == [] and not (tmp_path / "r").exists()
