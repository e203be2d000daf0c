"""The dashboard in a real browser: Debian's Chromium, headless, driven by Playwright against `pricing serve`
(waitress) on loopback, serving the built dashboard and the API from one origin. Each run saves
reports/dashboard.png (a product's history range) and reports/dashboard-range.png (after a range change)."""

import json
import os
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
CHROMIUM = Path("/usr/bin/chromium")
SETTLED_COUNT = re.compile(r"^\d+ products? match")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


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
def browser_context(tmp_path_factory):
    if not CHROMIUM.is_file():
        pytest.fail("/usr/bin/chromium is missing: install it with `make system-deps`")
    os.environ.setdefault("PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD", "1")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        context = playwright.chromium.launch_persistent_context(
            str(tmp_path_factory.mktemp("chromium-profile")),
            executable_path=str(CHROMIUM),
            headless=True,
            args=CHROMIUM_ARGS,
            viewport={"width": 1280, "height": 900},
        )
        context.set_default_timeout(20_000)  # generous: two shared cores, a model in the loop
        expect.set_options(timeout=20_000)
        yield context
        context.close()


@pytest.fixture
def page(browser_context):
    page = browser_context.new_page()
    problems: list[str] = []
    page.on("pageerror", lambda error: problems.append(f"uncaught: {error}"))

    def note_policy_violation(message) -> None:
        # a 404 the page expects also logs an error; only the Content-Security-Policy ones are defects
        if message.type == "error" and "Content Security Policy" in message.text:
            problems.append(message.text)

    page.on("console", note_policy_violation)
    yield page
    page.close()
    assert problems == [], problems


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
    status, headers, rows = api(f"{server}/v1/predict-price/{top_product}?num_price_bins=100")
    assert status == 200 and headers["X-Cache"] == "HIT"
    optimum = rows[0]["optimal_unit_price"]
    assert shown_optimum(page) == optimum
    assert page.get_by_test_id("model").inner_text() == headers["X-Model"]
    # the chart: weekly sales as an area (the bundle predicts order lines per week), weekly units as a line
    # below, the optimum as a reference line in both panels, labelled in the sales panel
    assert page.locator(".recharts-area").count() == 1 and page.locator(".recharts-line").count() == 1
    assert page.locator(".recharts-reference-line").count() == 2
    assert page.locator(".recharts-legend-item-text", has_text="Sales per week").count() == 1
    assert page.locator(".recharts-legend-item-text", has_text="Quantity per week").count() == 1
    best = max(rows, key=lambda row: row["sales_per_week"])
    assert best["unit_price"] == optimum  # the API's default optimum is the weekly one, and the page shows it
    shown_weekly = float(page.get_by_test_id("sales-per-week").get_attribute("data-value"))
    assert shown_weekly == pytest.approx(best["sales_per_week"], rel=1e-6)
    assert "per week" in page.get_by_test_id("chart-caption").inner_text()
    figure = page.get_by_test_id("optimal-price").inner_text()
    assert float(figure.replace(",", "")) == pytest.approx(optimum, abs=0.005)
    assert page.locator("svg text.recharts-label", has_text="Optimal").text_content() == f"Optimal {figure}"
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
