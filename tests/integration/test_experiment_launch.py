"""A new product becomes a product of its own when its first weeks arrive (issue 26, Build 2): `pricing experiment
update` on a shop's export that holds a code the bundle was never trained on, described as a look-alike of a best
seller, learns its slope with its neighbours' launch curve as the prior (pricing.experiments.launched), and
`/v1/price-decision/<new code>` answers it from that curve tilted by the posterior (pricing.serving.launched). A
code with no look-alike is ignored and named; a code neither known nor new stays a 404. On the session's quick
bundle.

The lines (tests/experiment_lines.write_lines): KNOWN best sellers after the first, the first of them tested (at
its current price for PRE_WEEKS weeks, then at 0.9 and 1.1 x it), the others at their current price for WEEKS
weeks (the holdout); the new code NEW_CODE at three arms around P0 (its first week's price) from its first week,
all with a known elasticity TRUE_SLOPE; and GIBBERISH_CODE at one price.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from pricing.artifacts.bundle import open_bundle
from pricing.serving import launch
from pricing.serving.decision import PRIOR_SD_FLOOR
from pricing.serving.predictor import Predictor
from pricing.serving.request import LaunchRequest, PriceRequest
from tests.experiment_lines import experiment_update, write_lines

TRUE_SLOPE = 2.0
KNOWN = 4
WEEKS = 12
PRE_WEEKS = 6  # the known tested product's weeks at its current price (the new one moves from week 4)
LINES_PER_WEEK = 300
ARMS = (1.0, 0.8, 1.2)  # the new product's price over P0, WEEKS // 3 weeks each, in turn
NEW_CODE, GIBBERISH_CODE = "90001A", "90002B"
GIBBERISH = "XYZZY QWERTY PLUGH"
FIRST_MONDAY = pd.Timestamp("2012-01-02")
STEP = 0.05  # update.BUNDLE_STEP: the prior's central difference
SAMPLES = 200  # update.CURVE_SAMPLES: the held-out contexts the update reads curves with
TARGET = 0.9  # the learnt curve's profit optimum over P0 that the change test sets the unit cost for


def look_alike(description: str) -> str:
    """The description with its first word changed (a new colour of the same product)."""
    first, *rest = description.split()
    return " ".join(["GREEN" if first != "GREEN" else "BLUE", *rest])


@pytest.fixture(scope="module")
def parent(quick_bundle):
    """The bundle's models' own curves (learnt=False, as the update reads them)."""
    return Predictor(open_bundle(quick_bundle, lazy_models=True), learnt=False)


@pytest.fixture(scope="module")
def shop(quick_bundle, parent, tmp_path_factory):
    """(the lines' file, the new product's description and P0, the known products' codes, the new weekly prices)."""
    products = parent.products.sort_values("lines", ascending=False)
    best = products.index[0]
    description = look_alike(str(products.loc[best, "description"]))
    p0 = round(parent.current_price(best)[0], 2)
    known = [str(c) for c in products.index[1 : 1 + KNOWN]]
    paths = {code: (str(products.loc[code, "description"]), [round(parent.current_price(code)[0], 2)] * WEEKS)
             for code in known}  # fmt: skip
    tested_p0 = paths[known[0]][1][0]
    paths[known[0]] = (paths[known[0]][0], [tested_p0] * PRE_WEEKS + [
        round(tested_p0 * (0.9 if t % 2 else 1.1), 2) for t in range(WEEKS - PRE_WEEKS)
    ])  # fmt: skip
    new_prices = [round(p0 * ARMS[(t // (WEEKS // 3)) % 3], 2) for t in range(WEEKS)]
    paths[NEW_CODE] = (description, new_prices)
    paths[GIBBERISH_CODE] = (GIBBERISH, [3.0] * WEEKS)
    path = tmp_path_factory.mktemp("launch-lines") / "weeks.csv"
    write_lines(path, paths, FIRST_MONDAY, TRUE_SLOPE, LINES_PER_WEEK, seed=1)
    return path, description, p0, known, best, new_prices


@pytest.fixture(scope="module")
def updated(store, shop, tmp_path_factory):
    """`pricing experiment update` run once through the CLI: its process, the parent version, the report folder."""
    return experiment_update(store, shop[0], tmp_path_factory.mktemp("launch-report"))


@pytest.fixture(scope="module")
def evidence(store, updated) -> pd.DataFrame:
    done = updated[0]
    assert done.returncode == 0, done.stderr[-2000:]
    return open_bundle(store.root / store.latest()).table("experiment_evidence.parquet").set_index("stockcode")


def launch_units(predictor: Predictor, decided, prices: np.ndarray) -> np.ndarray:
    """The launch curve at `prices`, written out here from launch.py's docstring (step 2) and its fields: each
    neighbour's units per week at prices x its scale over its units at its current price (interpolated on the
    launch grid in log-log), mixed by the weights, times the weights' mean of those levels."""
    shapes, levels = [], []
    for k, neighbour in enumerate(decided.neighbours):
        own = prices * decided.scale[k]
        request = PriceRequest(neighbour.stockcode, float(own[0]), float(own[-1]), 2, SAMPLES)
        units = np.asarray(predictor.curve(request, own).result.units_per_week, dtype=float)
        grid = decided.prices * decided.scale[k]
        at_current = np.interp(
            np.log(decided.current_prices[k]), np.log(grid), np.log(np.maximum(decided.neighbour_units[k], 1e-12))
        )
        levels.append(np.exp(at_current))
        shapes.append(units / levels[-1])
    levels = np.array(levels)
    return float(decided.weights @ levels) * (decided.weights @ np.vstack(shapes))


def test_the_new_product_takes_part_with_its_neighbours_launch_curve_as_prior(parent, shop, evidence):
    _path, description, p0, known, best, _prices = shop
    row = evidence.loc[NEW_CODE]
    assert bool(row["new_product"]) and bool(row["tested"]) and row["state"] != "holdout"
    assert row["description"] == description and row["status_quo_price"] == p0
    neighbours = launch.catalogue_index(parent).nearest(description)
    assert row["neighbours"] == ";".join(n.stockcode for n in neighbours)
    assert best in row["neighbours"].split(";")  # the best seller it was made to look like
    decided = launch.launch_decision(parent, LaunchRequest(description, None, p0), samples=SAMPLES)
    units = launch_units(parent, decided, p0 * np.exp(np.array([-STEP, 0.0, STEP])))
    b0 = -(np.log(units[2]) - np.log(units[0])) / (2 * STEP)
    assert row["prior_mean"] == pytest.approx(b0, abs=1e-6)
    # the curve the update reads is launch.py's own: at the launch's prices it is the launch's units
    np.testing.assert_allclose(launch_units(parent, decided, decided.prices), decided.units, rtol=1e-12)
    # the prior sd: the neighbours' own prior sds (weighted mean) and their slopes' spread (weighted sd)
    from pricing.experiments.update import model_prior

    own = model_prior(None, np.array([n.stockcode for n in neighbours]), decided.current_prices, SAMPLES, parent)
    w = decided.weights
    spread = np.sqrt(w @ (own.slope - w @ own.slope) ** 2)
    assert row["prior_sd"] == pytest.approx(max(np.hypot(w @ own.slope_sd, spread), PRIOR_SD_FLOOR), abs=1e-6)
    assert GIBBERISH_CODE not in evidence.index
    held = evidence.loc[known[1:]]
    assert not held["new_product"].any() and (held["state"] == "holdout").all() and (held["neighbours"] == "").all()
    assert bool(evidence.loc[known[0], "tested"]) and not evidence.loc[known[0], "new_product"]


def test_the_posterior_moves_from_the_prior_toward_the_true_slope(evidence):
    row = evidence.loc[NEW_CODE]
    assert abs(row["slope_mean"] - TRUE_SLOPE) < abs(row["prior_mean"] - TRUE_SLOPE)
    assert abs(row["slope_mean"] - TRUE_SLOPE) < 0.25  # about 3 posterior sds (0.08-0.09 here)
    assert row["slope_sd"] < row["prior_sd"] / 2
    assert row["weeks"] == WEEKS and row["prices_seen"] == len(ARMS)
    print(
        f"new product: prior {row['prior_mean']:.3f} (sd {row['prior_sd']:.3f}), posterior {row['slope_mean']:.3f} "
        f"(sd {row['slope_sd']:.3f}), true {TRUE_SLOPE}"
    )


def test_the_report_lists_the_new_product_and_names_the_ignored_code(store, updated, evidence, shop):
    _done, _parent, out = updated
    report = json.loads((out / "report.json").read_text())
    (entry,) = report["new_products"]
    row = evidence.loc[NEW_CODE]
    assert entry["stockcode"] == NEW_CODE and entry["description"] == shop[1]
    assert [n["stockcode"] for n in entry["neighbours"]] == row["neighbours"].split(";")
    assert entry["prior_slope"]["mean"] == row["prior_mean"] and entry["prior_slope"]["sd"] == row["prior_sd"]
    assert entry["posterior_slope"]["mean"] == row["slope_mean"]
    assert entry["posterior_slope"]["sd"] == row["slope_sd"]
    # the difference in differences compares the known tested product with the holdout: the new product is on
    # neither side (it had no weeks before its launch), and its prices do not start the test weeks
    did = report["difference_in_differences"]
    assert (did["treated"], did["control"], did["pre_weeks"]) == (1, KNOWN - 1, PRE_WEEKS), did
    ignored = report["new_products_without_look_alikes"]
    assert ignored["count"] == 1 and ignored["products"] == [{"stockcode": GIBBERISH_CODE, "description": GIBBERISH}]
    assert GIBBERISH_CODE in (out / "report.md").read_text() and NEW_CODE in (out / "report.md").read_text()
    new_entry = next(p for p in report["per_product"] if p["stockcode"] == NEW_CODE)
    assert new_entry["new_product"] and new_entry["did_change_per_week"] is None
    weeks = open_bundle(store.root / store.latest()).table("experiment_weeks.parquet")
    charged = weeks[weeks["stockcode"] == NEW_CODE]["price"].to_numpy()
    np.testing.assert_allclose(charged, shop[5], atol=1e-6)


@pytest.fixture(scope="module")
def client(store, evidence):
    from pricing.config import Settings
    from pricing.serving.app import create_app

    return create_app(Settings(env="test"), store=store).test_client()


def served_elasticity(client, p: float) -> tuple[float, object]:
    """-d log(units per week) / d log(price) at `p` on the served curve of NEW_CODE (its bins at p e^-STEP and
    p e^STEP, whole pence), and the answer."""
    low, high = p * np.exp(-STEP), p * np.exp(STEP)
    url = f"/v1/price-decision/{NEW_CODE}?num_samples={SAMPLES}&unitprice_min={low:.4f}&unitprice_max={high:.4f}"
    answer = client.get(url + "&num_price_bins=3")
    assert answer.status_code == 200, answer.get_data(as_text=True)
    curve = [bin_ for bin_ in answer.get_json()["curve"] if bin_["unit_price"] in (round(low, 2), round(high, 2))]
    prices = np.array([c["unit_price"] for c in curve])
    units = np.array([c["units_per_week"] for c in curve])
    return float(-np.diff(np.log(units))[0] / np.diff(np.log(prices))[0]), answer


def test_the_api_answers_the_new_product_from_its_tilted_launch_curve(client, evidence, shop):
    _path, description, p0, _known, _best, _prices = shop
    row = evidence.loc[NEW_CODE]
    served, answer = served_elasticity(client, p0)
    assert served == pytest.approx(row["slope_mean"], abs=0.01)
    body = answer.get_json()
    assert body["experiment_evidence"]["elasticity"] == round(row["slope_mean"], 4)
    assert body["experiment_evidence"]["prior_elasticity"] == round(row["prior_mean"], 4)
    assert body["new_product"]["description"] == description
    assert [n["stockcode"] for n in body["new_product"]["neighbours"]] == row["neighbours"].split(";")
    assert body["current"]["price"] == p0 and body["current"]["source"] == "status_quo_price"
    assert served_elasticity(client, p0)[1].headers["X-Cache"] == "HIT"  # cached like the decision
    print(f"served elasticity at p0 {served:.4f}, posterior {row['slope_mean']:.4f}")


def test_after_its_test_the_new_product_can_be_told_to_change(client, evidence, shop):
    """Profit at the unit cost c at which the served curve's optimum is TARGET x P0, inside the prices the test
    charged: (p - c) e(p) = p there, e the curve's elasticity, so c = p (1 - 1 / e(p)). The posterior's sd (about
    0.09, not the prior's 0.26) pins the optimum down: `change`, where a launch decision always says `test`."""
    p0 = shop[2]
    target = round(TARGET * p0, 2)
    elasticity, _ = served_elasticity(client, target)
    cost = round(target * (1 - 1 / elasticity), 2)
    answer = client.get(f"/v1/price-decision/{NEW_CODE}?num_samples={SAMPLES}&objective=profit&unit_cost={cost}")
    assert answer.status_code == 200, answer.get_data(as_text=True)
    body = answer.get_json()
    assert body["decision"] == "change", body["decision_reason"]
    # below p0, among the prices the test charged (its lowest arm, 0.8 x P0, with the support's 5% tolerance)
    assert body["support"]["low"] <= body["price_to_set"] < p0
    assert body["support"]["low"] == pytest.approx(round(0.8 * p0, 2) * 0.95, abs=1e-4)
    assert not body["support"]["recommendation_outside"]
    assert body["objective"] == "profit" and body["unit_cost_source"] == "query"
    width = body["interval"]["price"][1] - body["interval"]["price"][0]
    assert width < 2 * 0.2 * p0  # narrower than the test band
    print(f"new product at cost {cost} (p0 {p0}): change to {body['price_to_set']}, interval width {width:.3f}")


def test_codes_neither_known_nor_new_are_404s(client, evidence):
    for code in (GIBBERISH_CODE, "NOT-A-CODE"):
        answer = client.get(f"/v1/price-decision/{code}")
        assert answer.status_code == 404 and "unknown stockcode" in answer.get_json()["error"]


def test_a_known_products_answer_is_unchanged_by_the_new_one(client, store, updated, shop):
    """A holdout product of the same update is answered exactly as by the parent version (no tilt, no new field)."""
    from pricing.artifacts.store import LocalStore
    from pricing.config import Settings
    from pricing.serving.app import create_app

    code = shop[3][1]
    _done, parent_version, _out = updated
    before_store = LocalStore(Path(store.root))
    older = create_app(Settings(env="test"), predictor=Predictor(before_store.fetch(parent_version))).test_client()
    query = f"/v1/price-decision/{code}?num_samples=100&num_price_bins=20"
    assert client.get(query).get_json() == older.get(query).get_json()
