"""The dashboard's experiment view in a real browser, against `pricing serve` on a store where a price experiment
runs: started on the quick bundle four weeks before this week (`pricing experiment start`), four weeks of lines
before it and its first four weeks written at the plan's prices (with a known elasticity,
tests/experiment_lines.py) and read back (`pricing experiment update`). The page must show what
GET /v1/price-decision?mode=experiment answers: this week's price and arm, the state, every planned week with the
read-back ones' figures, and the holdout comparison. Saves reports/dashboard-experiment.png."""

import subprocess
import sys
import urllib.parse
from datetime import UTC, datetime

import pandas as pd
import pytest
from playwright.sync_api import expect

from pricing.artifacts.store import LocalStore
from pricing.experiments.design import EXPERIMENT_FILE, Experiment, add_weeks, parse_week, price_for, week_of
from pricing.tools.reliability.processes import ApiServer
from tests.e2e.test_dashboard import DIST, REPORTS, api, money
from tests.experiment_lines import write_lines

PRE_WEEKS = 4
RUN_WEEKS = 4  # the experiment's weeks already over (and read back) this week
TRUE_SLOPE = 2.0


def pricing(*args) -> None:
    done = subprocess.run([sys.executable, "-m", "pricing", *args], capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr[-2000:]


@pytest.fixture(scope="module")
def running(quick_bundle, tmp_path_factory):
    """(store, experiment config, this week) after the start, the plan and the update."""
    if not (DIST / "index.html").is_file():
        pytest.fail("dashboard/dist is missing: build it with `make dashboard`")
    work = tmp_path_factory.mktemp("experiment")
    store = LocalStore(work / "store")
    store.publish(quick_bundle)
    this_week = week_of(datetime.now(UTC))
    start = add_weeks(this_week, -RUN_WEEKS)
    pricing(
        "experiment", "start", "--store", str(store.root), "--start-week", start, "--top", "20",
        "--objective", "profit", "--unit-cost-share", "0.5", "--holdout", "0.3", "--seed", "1",
    )  # fmt: skip
    config = Experiment.read(store.fetch().verified(EXPERIMENT_FILE))
    # the shop's weeks: the pre-period at the status quo, then each week's price as the plan sets it (the plan's
    # CSV and the API answer price_for's, tests/integration/test_experiment_api.py)
    planned = {
        p.stockcode: [p.status_quo_price] * PRE_WEEKS
        + [price_for(config, p.stockcode, add_weeks(start, k)).price for k in range(RUN_WEEKS)]
        for p in config.products
    }
    products = store.fetch().products()
    paths = {code: (str(products.loc[code, "description"]), prices) for code, prices in planned.items()}
    lines = work / "test_weeks.csv"
    first = pd.Timestamp(parse_week(add_weeks(start, -PRE_WEEKS)))
    write_lines(lines, paths, first, TRUE_SLOPE, lines_per_week=150)
    pricing("experiment", "update", "--raw", str(lines), "--store", str(store.root), "--out", str(work / "report"))
    return store, config, this_week


@pytest.fixture(scope="module")
def server(running, tmp_path_factory):
    store = running[0]
    api_server = ApiServer(str(store.root), tmp_path_factory.mktemp("server"), {}).start(timeout=60)
    yield api_server.url
    api_server.stop()


def test_the_experiment_view_shows_the_apis_week_price_plan_results_and_holdout_comparison(server, running, page):
    _, config, this_week = running
    tested = next(p for p in config.products if not p.holdout)
    code = tested.stockcode
    status, _, answer = api(f"{server}/v1/price-decision/{urllib.parse.quote(code)}?mode=experiment")
    assert status == 200 and answer["week"] == this_week and answer["week_index"] == RUN_WEEKS
    assert answer["results"] is not None and answer["results"]["did"] is not None

    page.goto(f"{server}/?stockcode={urllib.parse.quote(code)}")
    view = page.get_by_test_id("experiment")
    expect(view).to_be_visible()
    text = page.get_by_test_id("experiment-text")
    expect(text).to_have_attribute("data-price", str(answer["price"]))
    expect(text).to_contain_text(f"Week {RUN_WEEKS + 1} of {config.weeks} ({this_week}): set £{answer['price']:.2f}")
    expect(text).to_contain_text(f"arm {answer['arm'] + 1} of {len(answer['arms'])}")
    expect(page.get_by_test_id("experiment-state")).to_have_attribute("data-state", answer["state"])

    # every planned week, at the API's planned price, this week marked; the read-back weeks carry their figures
    rows = page.locator("[data-testid='experiment-weeks'] tbody tr")
    expect(rows).to_have_count(len(answer["schedule"]))
    read_back = {week["week"]: week for week in answer["results"]["weeks"]}
    for i, planned in enumerate(answer["schedule"]):
        row = rows.nth(i)
        expect(row).to_have_attribute("data-week", planned["week"])
        expect(row).to_have_attribute("data-price", str(planned["price"]))
        cells = row.locator("td")
        if planned["week"] in read_back:
            week = read_back[planned["week"]]
            assert money(cells.nth(2).inner_text()) == pytest.approx(week["price"])  # charged, as planned
            assert week["price"] == pytest.approx(planned["price"])
            assert money(cells.nth(3).inner_text()) == pytest.approx(week["realised"], abs=0.006)  # to the penny
        else:
            expect(cells.nth(3)).to_have_text("–")
    expect(rows.nth(RUN_WEEKS)).to_have_class("current")

    did = answer["results"]["did"]
    holdout = page.get_by_test_id("experiment-holdout")
    expect(holdout).to_have_attribute("data-low", str(did["low"]))
    expect(holdout).to_have_attribute("data-high", str(did["high"]))
    expect(page.get_by_test_id("experiment-chart").locator(".recharts-line")).to_have_count(2)
    view.scroll_into_view_if_needed()
    page.screenshot(path=REPORTS / "dashboard-experiment.png", full_page=True)


def test_a_product_outside_the_experiment_shows_no_experiment_view(server, running, page):
    _, config, _ = running
    inside = {p.stockcode for p in config.products}
    _, _, listing = api(f"{server}/v1/products?page_size=100")
    outside = next(item["stockcode"] for item in listing["items"] if item["stockcode"] not in inside)
    page.goto(f"{server}/?stockcode={urllib.parse.quote(outside)}")
    page.wait_for_selector("main[aria-busy='false'] [data-testid='decision-text']")
    expect(page.get_by_test_id("decision-text")).to_be_visible()
    expect(page.get_by_test_id("experiment")).to_have_count(0)
    expect(page.get_by_test_id("experiment-error")).to_have_count(0)
