"""What the browser tests share: Debian's Chromium, headless, driven by Playwright, and a page that fails its test
on an uncaught error or a Content-Security-Policy violation."""

import os
from pathlib import Path

import pytest
from playwright.sync_api import expect

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


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
