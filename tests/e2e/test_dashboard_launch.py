"""The dashboard's "New product" entry in a real browser, against `pricing serve` on the session's quick bundle
published with the generator's cost file (`pricing publish --costs`, so a launch with a unit cost reads the
neighbours' markup): a look-alike description of a known product and a unit cost give the launch price, its
interval, the reference and its source, the neighbours and their curves and the proposed test, exactly as
GET /v1/launch-decision answers the same query; a gibberish description says no similar product was found; an empty
one shows the API's 400 beside the description. Saves reports/dashboard-launch.png."""

import subprocess
import sys
import urllib.parse

import pytest
from playwright.sync_api import expect

from pricing.tools.reliability.processes import ApiServer
from tests.e2e.test_dashboard import DIST, REPORTS, api, money

ANSWERED = 60_000  # ms: five neighbours' curves over 1,000 contexts each, on two shared cores


@pytest.fixture(scope="module")
def server(quick_bundle, small_raw, tmp_path_factory):
    if not (DIST / "index.html").is_file():
        pytest.fail("dashboard/dist is missing: build it with `make dashboard`")
    store = tmp_path_factory.mktemp("launch-store")
    costs = small_raw / "unit_costs.csv"  # `pricing generate`'s cost file, beside the raw file the bundle learnt
    command = [sys.executable, "-m", "pricing", "publish", "--bundle-dir", str(quick_bundle), "--store", str(store)]
    done = subprocess.run([*command, "--costs", str(costs)], capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-2000:]
    api_server = ApiServer(str(store), tmp_path_factory.mktemp("server"), {}).start(timeout=60)
    yield api_server.url
    api_server.stop()


def launch_url(server: str, **query) -> str:
    return f"{server}/v1/launch-decision?{urllib.parse.urlencode(query)}"


@pytest.fixture(scope="module")
def look_alike(server):
    """(known product, look-alike description, unit cost, the API's answer): the first of the best sellers of 3
    words or more whose description with its last word in the plural ("PINK WOODLAND JIGSAWS") finds it among
    its neighbours; the unit cost half the product's median price."""
    _, _, listing = api(f"{server}/v1/products?page_size=50")
    for item in listing["items"]:
        words = item["description"].split()
        if len(words) < 3:
            continue
        description = f"{item['description']}S"
        cost = f"{item['price_median'] / 2:.2f}"
        status, _, answer = api(launch_url(server, description=description, unit_cost=cost))
        assert status == 200, answer
        if answer["decision"] == "test" and item["stockcode"] in [n["stockcode"] for n in answer["neighbours"]]:
            return item, description, cost, answer
    pytest.fail("no best seller's plural finds the product among its neighbours")


def open_launch(server, page):
    page.goto(f"{server}/")
    page.get_by_role("button", name="New product").click()
    return page.get_by_test_id("launch-form")


def ask(form, description: str, cost: str = "") -> None:
    form.get_by_label("Description", exact=True).fill(description)
    form.get_by_label("Unit cost", exact=True).fill(cost)
    form.get_by_role("button", name="Price it").click()


def floats(text: str) -> list[float]:
    return [float(value) for value in text.split()]


def test_a_look_alike_shows_the_apis_launch_price_interval_neighbours_curves_and_test(server, page, look_alike):
    item, description, cost, answer = look_alike
    assert answer["reference"]["source"] == "neighbours_markup"  # the bundle has costs, the query a unit cost
    form = open_launch(server, page)
    ask(form, description, cost)
    decision = page.get_by_test_id("launch-decision")
    expect(decision).to_be_visible(timeout=ANSWERED)
    # the page's query is the API's: the same cache entry (the look_alike fixture asked first)
    expect(page.get_by_test_id("launch-cache")).to_have_attribute("data-cache", "HIT")

    recommended, interval = answer["recommended"], answer["interval"]
    price = page.get_by_test_id("launch-price")
    assert float(price.get_attribute("data-value")) == recommended["price"]
    assert price.inner_text() == f"{recommended['price']:.2f}"
    shown = page.get_by_test_id("launch-interval")
    low, high = interval["price"]
    assert [float(shown.get_attribute("data-low")), float(shown.get_attribute("data-high"))] == [low, high]
    assert shown.inner_text() == f"{low:.2f}–{high:.2f}"
    expect(page.get_by_test_id("launch-text")).to_have_text(
        f"Launch at £{recommended['price']:.2f} (90% interval for the best price £{low:.2f}–£{high:.2f}), then test "
        "the prices around it."
    )
    reference = page.get_by_test_id("launch-reference")
    assert float(reference.get_attribute("data-value")) == answer["reference"]["price"]
    expect(reference).to_have_attribute("data-source", "neighbours_markup")
    expect(page.get_by_test_id("launch-reference-text")).to_contain_text(
        f"the neighbours' markup over their cost applied to this unit cost of £{float(cost):.2f}"
    )
    probability = page.get_by_test_id("launch-probability")
    assert float(probability.get_attribute("data-value")) == answer["probability_beats_reference"]
    reason = answer["decision_reason"]
    expect(page.get_by_test_id("launch-reason")).to_have_text(f"{reason[0].upper()}{reason[1:]}.")

    # the neighbours: the API's, in its order, with its similarity and current price
    rows = page.locator("[data-testid='launch-neighbours'] tbody tr")
    expect(rows).to_have_count(len(answer["neighbours"]))
    assert [rows.nth(i).get_attribute("data-stockcode") for i in range(rows.count())] == [
        n["stockcode"] for n in answer["neighbours"]
    ]
    expect(rows.filter(has_text=item["description"]).first).to_be_visible()  # the product it looks like
    for i, neighbour in enumerate(answer["neighbours"]):
        cells = rows.nth(i).locator("td")
        assert cells.nth(0).inner_text() == neighbour["description"]
        assert float(cells.nth(1).get_attribute("data-value")) == neighbour["similarity"]
        assert money(cells.nth(2).inner_text()) == pytest.approx(neighbour["current_price"], abs=0.005)

    # the test it proposes
    test = page.get_by_test_id("launch-test")
    assert floats(test.get_attribute("data-arms")) == answer["test"]["arms"]
    expect(test).to_contain_text(
        f"{answer['test']['weeks_per_arm']} weeks each, {answer['test']['weeks']} weeks: expected to "
    )

    # the chart: the launch curve and one curve per neighbour (each its `units`), over the same prices
    chart = page.get_by_test_id("launch-chart")
    assert all(len(n["units"]) == len(answer["curve"]) for n in answer["neighbours"])
    neighbour_lines = chart.locator(".recharts-line.launch-neighbour path.recharts-curve")
    expect(chart.locator(".recharts-line.launch-curve path.recharts-curve")).to_have_count(1)
    expect(neighbour_lines).to_have_count(len(answer["neighbours"]))
    expect(chart.locator(".marker-launch.recharts-reference-line")).to_have_count(1)
    expect(chart).to_have_attribute("data-measure", "objective")
    chart.get_by_label("Units per week", exact=True).check()
    expect(chart).to_have_attribute("data-measure", "units")
    expect(neighbour_lines).to_have_count(len(answer["neighbours"]))
    chart.get_by_label("Profit per week", exact=True).check()
    REPORTS.mkdir(exist_ok=True)
    page.screenshot(path=REPORTS / "dashboard-launch.png", full_page=True)


def test_a_gibberish_description_says_no_similar_product_was_found(server, page):
    description = "XYZZY QWERTY PLUGH"
    status, _, answer = api(launch_url(server, description=description, unit_cost="1.00"))
    assert status == 200 and answer["decision"] == "no_similar_product", answer
    form = open_launch(server, page)
    ask(form, description, "1.00")
    shown = page.get_by_test_id("launch-no-similar")
    expect(shown).to_be_visible(timeout=ANSWERED)
    closest = answer["closest"]
    expect(shown).to_have_attribute("data-closest", closest["stockcode"])
    expect(page.get_by_test_id("launch-no-similar-text")).to_have_text(
        f"No similar product found: the closest, {closest['description']} ({closest['stockcode']}), has similarity "
        f"{closest['similarity']}, below the {answer['min_similarity']} needed. No launch price is given."
    )
    expect(page.get_by_test_id("launch-price")).to_have_count(0)
    expect(page.get_by_test_id("launch-neighbours")).to_have_count(0)


def test_an_empty_description_shows_the_apis_400_beside_the_description(server, page):
    status, _, body = api(launch_url(server, description="", unit_cost="1.00"))
    assert status == 400 and body["error"].startswith("description: "), body
    form = open_launch(server, page)
    ask(form, "", "1.00")
    error = page.get_by_test_id("launch-error-description")
    expect(error).to_have_text(body["error"], timeout=ANSWERED)
    expect(form.get_by_label("Description", exact=True)).to_have_attribute("aria-invalid", "true")
    expect(page.get_by_test_id("launch-error")).to_have_count(0)  # beside the field, not above the form
    expect(page.get_by_test_id("launch-decision")).to_have_count(0)
