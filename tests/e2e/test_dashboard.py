"""The dashboard in a real browser: Debian's Chromium, headless, driven by Playwright against `pricing serve`
(waitress) on loopback, serving the built dashboard and the API from one origin. The page reads
GET /v1/price-decision; the tests compare what it shows with the API's own answer. Each run saves
reports/dashboard.png (a product's decision over its history range) and reports/dashboard-range.png (after a
range change)."""

import json
import re
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path

import pytest
from playwright.sync_api import expect

from pricing.tools.reliability.processes import ApiServer

REPO = Path(__file__).resolve().parents[2]
DIST = REPO / "dashboard" / "dist"
REPORTS = REPO / "reports"
SETTLED_COUNT = re.compile(r"^\d+ products? match")


def api(url: str):
    try:
        with urllib.request.urlopen(url, timeout=30) as response:
            return response.status, dict(response.headers), json.loads(response.read())
    except urllib.error.HTTPError as error:
        return error.code, dict(error.headers), json.loads(error.read())


@pytest.fixture(scope="module")
def server(store, tmp_path_factory):
    if not (DIST / "index.html").is_file():
        pytest.fail("dashboard/dist is missing: build it with `make dashboard`")
    # same origin, in-process cache: what `make run` serves (ApiServer takes no REDIS_ or CORS_ from the shell)
    api = ApiServer(str(store.root), tmp_path_factory.mktemp("server"), {}).start(timeout=60)
    yield api.url
    api.stop()


@pytest.fixture(scope="module")
def top_item(server) -> dict:
    _, _, body = api(f"{server}/v1/products?page_size=1")
    return body["items"][0]


@pytest.fixture(scope="module")
def top_product(top_item) -> str:
    return top_item["stockcode"]


def settled(page) -> None:
    """Wait until the result panel has an answer (figures or an error), not a loading state."""
    page.wait_for_selector("main[aria-busy='false'] :is([data-testid='optimal-price'], [role='alert'])")


def leaves_history(rows: list[dict], product: dict) -> int:
    """1 when the swept prices go past the prices the product sold at, else 0."""
    prices = [row["unit_price"] for row in rows]
    return int(min(prices) < product["price_min"] or max(prices) > product["price_max"])


def shown_optimum(page) -> float:
    return float(page.get_by_test_id("optimal-price").get_attribute("data-value"))


def money(text: str) -> float:
    """A signed amount as the page writes it (+£1,222.36, -£5.00, £0.00) as a number."""
    match = re.fullmatch(r"([+-]?)£([\d,]+\.\d\d)", text.strip())
    assert match, text
    return float(match.group(2).replace(",", "")) * (-1 if match.group(1) == "-" else 1)


def top_panel(page):
    """The upper chart (the objective, with the band, the markers and the observed weeks)."""
    return page.locator("[data-testid='price-chart'] .recharts-wrapper").first


def legend_entry(page, name: str):
    return page.locator(".recharts-legend-item-text").filter(has_text=re.compile(f"^{re.escape(name)}$"))


def test_picking_a_product_with_the_keyboard_draws_the_apis_optimum(server, page, top_product, top_item):
    page.goto(f"{server}/")
    count = page.locator("#product-count")
    expect(count).to_have_text(SETTLED_COUNT)  # the whole catalogue's first page is in
    everything = count.inner_text()
    search = page.get_by_label("Search by description or stockcode")
    search.fill(top_product)
    expect(count).not_to_have_text(everything)
    expect(count).to_have_text(SETTLED_COUNT)  # the search's answer, not the catalogue's
    search.focus()
    page.keyboard.press("Tab")  # the first match is the next stop after the search box
    page.keyboard.press("Enter")
    settled(page)

    assert page.get_by_role("button", name=top_product).get_attribute("aria-pressed") == "true"
    assert page.get_by_test_id("cache").get_attribute("data-cache") == "MISS"  # the browser asked first
    # the page asked for the decision; the bare curve is the same cached answer's curve
    status, headers, rows = api(f"{server}/v1/predict-price/{top_product}?num_price_bins=100")
    assert status == 200 and headers["X-Cache"] == "HIT"
    _, _, decision = api(f"{server}/v1/price-decision/{top_product}?num_price_bins=100")
    optimum = rows[0]["optimal_unit_price"]
    assert shown_optimum(page) == optimum == decision["recommended"]["price"]
    assert page.get_by_test_id("model").inner_text() == headers["X-Model"]
    # the chart: weekly sales as an area (the bundle predicts order lines per week), weekly units as a line
    # below, the recommended and the current price as reference lines in both panels, labelled in the sales panel
    assert page.locator(".recharts-area").count() == 1
    assert page.locator(".recharts-line:not(.outside-support):not(.observed)").count() == 1
    assert page.locator(".marker-recommended.recharts-reference-line").count() == 2
    assert page.locator(".marker-current.recharts-reference-line").count() == 2
    assert legend_entry(page, "Sales per week").count() == 1
    assert legend_entry(page, "Quantity per week (units)").count() == 1
    best = max((row for row in rows if row["in_support"]), key=lambda row: row["sales_per_week"])
    # the API's default optimum is the weekly one: it earns at least every bin of the curve inside the prices the
    # product sold at (by default the decision stays within them; a bin beyond may earn more on the model's
    # extrapolation: one did on a quick bundle), and the page shows it
    assert decision["recommended"]["sales"] >= best["sales_per_week"] - 1e-9
    shown_weekly = float(page.get_by_test_id("sales-per-week").get_attribute("data-value"))
    assert shown_weekly == pytest.approx(decision["recommended"]["sales"], rel=1e-6)
    assert "per week" in page.get_by_test_id("chart-caption").inner_text()
    figure = page.get_by_test_id("optimal-price").inner_text()
    assert float(figure.replace(",", "")) == pytest.approx(optimum, abs=0.005)
    assert page.locator("svg text.recharts-label", has_text="Recommended").text_content() == f"Recommended {figure}"
    # the range inputs now hold the history the API swept
    prices = [row["unit_price"] for row in rows]
    assert float(page.get_by_label("Lowest price").input_value()) == min(prices)
    assert float(page.get_by_label("Highest price").input_value()) == max(prices)
    assert page.get_by_test_id("extrapolation").count() == leaves_history(rows, top_item)  # 0 unless one price
    REPORTS.mkdir(exist_ok=True)
    page.screenshot(path=REPORTS / "dashboard.png", full_page=True)


def test_changing_the_range_and_bins_redraws_with_the_new_optimum(server, page, top_product, top_item):
    page.goto(f"{server}/?stockcode={urllib.parse.quote(top_product)}")
    settled(page)
    before = shown_optimum(page)
    # a range wholly above the current optimum: the new optimum must move
    low, high = round(before * 1.25, 2), round(before * 1.75, 2)
    page.get_by_label("Lowest price").fill(str(low))
    page.get_by_label("Highest price").fill(str(high))
    page.get_by_label("Price bins").fill("30")
    page.get_by_role("button", name="Update").click()
    page.wait_for_function(
        "before => { const f = document.querySelector(\"main[aria-busy='false'] [data-testid='optimal-price']\");"
        " return f !== null && Number(f.dataset.value) !== before }",
        arg=before,
    )

    query = urllib.parse.urlencode({"unitprice_min": low, "unitprice_max": high, "num_price_bins": 30})
    _, _, rows = api(f"{server}/v1/predict-price/{top_product}?{query}")
    assert shown_optimum(page) == rows[0]["optimal_unit_price"]
    assert low <= shown_optimum(page) <= high
    assert "30 prices" in page.get_by_test_id("provenance").inner_text()
    # past the prices the product sold at, the page warns that the model extrapolates
    assert page.get_by_test_id("extrapolation").count() == leaves_history(rows, top_item)
    REPORTS.mkdir(exist_ok=True)
    page.screenshot(path=REPORTS / "dashboard-range.png", full_page=True)


def test_an_unknown_stockcode_gets_a_readable_message(server, page):
    page.goto(f"{server}/?stockcode=NOPE1")
    settled(page)
    assert page.get_by_role("alert").inner_text() == "Not found: unknown stockcode 'NOPE1'."
    assert page.get_by_test_id("optimal-price").count() == 0


def test_a_product_shows_the_decision_interval_current_price_and_observed_weeks(server, page, top_product):
    page.goto(f"{server}/?stockcode={urllib.parse.quote(top_product)}")
    settled(page)
    status, headers, decision = api(f"{server}/v1/price-decision/{top_product}?num_price_bins=100&objective=revenue")
    assert status == 200 and headers["X-Cache"] == "HIT"  # the same request as the page's
    current, change = decision["current"], decision["expected_change"]

    # the decision in words: change to the price to set, or hold at the current price with the API's reason
    text = page.get_by_test_id("decision-text")
    assert text.get_attribute("data-decision") == decision["decision"]
    if decision["decision"] == "change":
        expect(text).to_contain_text(
            f"Change the price to £{decision['price_to_set']:.2f} (from £{current['price']:.2f}, set on "
        )
        expect(text).to_contain_text("of the model's draws agree")
    elif decision["decision"] == "test":
        arms = ", ".join(f"£{arm:,.2f}" for arm in decision["test"]["arms"])
        expect(text).to_contain_text(f"Test before changing: keep £{current['price']:.2f} (set on ")
        expect(text).to_contain_text(f"and try {arms}, {decision['test']['weeks_per_arm']} weeks each")
        expect(text).to_contain_text(decision["decision_reason"])
    else:
        expect(text).to_contain_text(f"Hold at £{current['price']:.2f} (set on ")
        expect(text).to_contain_text(decision["decision_reason"])
    assert float(page.get_by_test_id("current-price").get_attribute("data-value")) == current["price"]
    assert float(page.get_by_test_id("price-to-set").get_attribute("data-value")) == decision["price_to_set"]

    # the interval for the optimal price: a shaded band over it on the price axis, its ends in words
    interval = decision["interval"]
    assert interval is not None, "the quick bundle carries the slopes' posterior: the decision has an interval"
    shown = page.get_by_test_id("interval")
    assert [float(shown.get_attribute("data-low")), float(shown.get_attribute("data-high"))] == interval["price"]
    band = top_panel(page).locator(".interval-band .recharts-reference-area-rect")
    expect(band).to_have_count(1)
    box = band.bounding_box()
    assert box is not None and box["width"] > 0 and box["height"] > 0

    # the current price: a marker in both panels and a dot on the curve, labelled with the expected gain, which the
    # figures give as well
    gain = page.get_by_test_id("expected-gain")
    assert float(gain.get_attribute("data-value")) == change["objective"]
    assert float(gain.get_attribute("data-relative")) == change["objective_relative"]
    amount, share = re.fullmatch(r"(\S+) \((\S+)\)", gain.inner_text()).groups()
    assert money(amount) == pytest.approx(change["objective"], abs=0.005)
    label = page.locator("svg text.recharts-label", has_text="Current")
    expect(label).to_have_text(f"Current £{current['price']:.2f} · gain {amount} a week ({share})")
    expect(top_panel(page).locator(".marker-current-dot")).to_have_count(1)
    expect(top_panel(page).locator(".marker-recommended-dot")).to_have_count(1)

    # the observed weeks at each list price, as points beside the predicted curve (sales per week above, units
    # per week below)
    observed = decision["observed"]
    assert observed, "the quick bundle carries the products' weekly history"
    expect(top_panel(page).locator(".observed-point")).to_have_count(len(observed))
    expect(page.locator(".observed-point")).to_have_count(2 * len(observed))
    first = min(observed, key=lambda level: level["price"])
    title = top_panel(page).locator(".observed-point title").first.text_content()
    assert title.startswith(f"Observed at {first['price']:.2f} over {first['weeks']} week"), title
    expect(legend_entry(page, "Observed sales per week")).to_have_count(1)

    # the support is the list prices the product sold at, narrower than the range of prices its lines paid (guests
    # pay about twice the list): the default sweep's bins outside it, as the API flags them, are drawn grey; a
    # range past both its ends draws the prices below and above it grey and dashed, in both panels
    if all(row["in_support"] for row in decision["curve"]):
        expect(page.locator(".outside-support")).to_have_count(0)
    else:
        expect(page.locator(".outside-support")).not_to_have_count(0)
    low, high = decision["support"]["low"], decision["support"]["high"]
    page.get_by_label("Lowest price", exact=True).fill(f"{low * 0.5:.2f}")
    page.get_by_label("Highest price", exact=True).fill(f"{high * 1.5:.2f}")
    page.get_by_role("button", name="Update").click()
    expect(page.locator("main[aria-busy='false'] .recharts-line.outside-support")).to_have_count(4)
    expect(legend_entry(page, "Extrapolated: outside the prices sold")).to_have_count(1)
    expect(page.get_by_test_id("chart-caption")).to_contain_text("Grey dashed")


def test_the_profit_objective_with_a_unit_cost_plots_weekly_profit(server, page, top_product):
    page.goto(f"{server}/?stockcode={urllib.parse.quote(top_product)}")
    settled(page)
    # the quick bundle publishes no cost file: the input stays blank, and profit alone is answered as revenue
    expect(page.get_by_label("Unit cost", exact=True)).to_have_value("")
    page.get_by_label("Profit", exact=True).check()  # the switch asks at once
    note = page.get_by_test_id("objective-note")
    expect(note).to_contain_text("objective=profit needs a unit cost")
    expect(legend_entry(page, "Sales per week")).to_have_count(1)

    current = float(page.get_by_test_id("current-price").get_attribute("data-value"))
    cost = round(current * 0.5, 2)
    page.get_by_label("Unit cost", exact=True).fill(str(cost))
    page.get_by_role("button", name="Update").click()
    expect(page.locator("main[aria-busy='false'] [data-testid='profit-per-week']")).to_have_count(1)
    low = page.get_by_label("Lowest price", exact=True).input_value()
    high = page.get_by_label("Highest price", exact=True).input_value()
    query = urllib.parse.urlencode(
        {"unitprice_min": low, "unitprice_max": high, "num_price_bins": 100, "objective": "profit", "unit_cost": cost}
    )
    status, headers, decision = api(f"{server}/v1/price-decision/{top_product}?{query}")
    assert status == 200 and headers["X-Cache"] == "HIT"  # the page asked exactly this
    assert decision["objective"] == "profit" and decision["unit_cost_source"] == "query"
    expect(note).to_have_count(0)
    shown = float(page.get_by_test_id("profit-per-week").get_attribute("data-value"))
    assert shown == pytest.approx(decision["recommended"]["profit"], rel=1e-6)
    assert shown_optimum(page) == decision["recommended"]["price"]
    expect(legend_entry(page, "Profit per week")).to_have_count(1)
    expect(legend_entry(page, "Observed profit per week")).to_have_count(1)
    expect(page.get_by_test_id("decision-text")).to_contain_text("weekly profit")
    expect(page.get_by_test_id("unit-cost-source")).to_have_text(f"Unit cost £{cost:.2f}, from the cost entered here.")


def test_conflicting_rules_show_the_apis_message(server, page, top_product):
    page.goto(f"{server}/?stockcode={urllib.parse.quote(top_product)}")
    settled(page)
    low = float(page.get_by_label("Lowest price", exact=True).input_value())
    high = float(page.get_by_label("Highest price", exact=True).input_value())
    # a floor above the ceiling, both inside the range swept: each admits prices, the two together none
    floor, ceiling = round(low + 0.75 * (high - low), 2), round(low + 0.25 * (high - low), 2)
    page.get_by_label("Floor", exact=True).fill(str(floor))
    page.get_by_label("Ceiling", exact=True).fill(str(ceiling))
    page.get_by_role("button", name="Update").click()
    settled(page)

    query = urllib.parse.urlencode(
        {"unitprice_min": low, "unitprice_max": high, "num_price_bins": 100, "floor": floor, "ceiling": ceiling}
    )
    status, _, body = api(f"{server}/v1/price-decision/{top_product}?{query}")
    assert status == 400 and body["error"].startswith("floor and ceiling conflict: ")
    expect(page.get_by_role("alert")).to_have_text(f"Request refused: {body['error']}.")
    assert page.get_by_test_id("optimal-price").count() == 0
    # the rules stay as typed, to be corrected
    assert page.get_by_label("Floor", exact=True).input_value() == str(floor)
