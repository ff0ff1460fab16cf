"""The For you feed in a real browser (issue 7): a reader opens it from the navigation, opens a
post's "Why am I seeing this?" and reads the parts of its score; the page fits a phone's width.
Screenshots: tests/browser/screenshots/feeds-for-you-*.png (and /tmp/feeds-for-you.png)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, expect
from starlette.testclient import TestClient

from tests.browser.conftest import DESKTOP, PHONE, WAIT_MS
from tests.builders import follow, make_user
from tests.clients.conftest import LiveServer

pytestmark = pytest.mark.parametrize("live_server", ["sqlite"], indirect=True, scope="module")

PASSWORD = "correct horse battery"  # tests.builders' users


def fits(page: Page, width: int) -> None:
    overflow = page.evaluate(
        "document.documentElement.scrollWidth - document.documentElement.clientWidth"
    )
    assert overflow <= 1, f"{page.url}: {overflow}px wider than a {width}px screen"


def test_why_am_i_seeing_this(browser: Browser, live_server: LiveServer, screenshots: Path) -> None:
    http = TestClient(live_server.recorder.app, base_url=live_server.url)  # no lifespan: shared
    reader = make_user(http, "feedreader")
    for name in ("camille", "dominique", "alexandre_de_la_fontaine"):
        author = make_user(http, name)
        follow(reader, author)
        author.status(f"A first thought from {name}, long enough to wrap on a phone screen.")
        author.status(f"Another one from {name} #parvis")

    for viewport in (PHONE, DESKTOP):
        context = browser.new_context(viewport=viewport, locale="en-GB")
        width = viewport["width"]
        try:
            page = context.new_page()
            page.set_default_timeout(WAIT_MS)
            page.goto(live_server.url + "/login")
            page.fill("#login", "feedreader@example.org")
            page.fill("#password", PASSWORD)
            page.get_by_role("button", name="Log in").click()
            expect(page).to_have_url(re.compile(r"/home$"))

            page.get_by_role("navigation", name="Main").get_by_role("link", name="For you").click()
            expect(page).to_have_url(re.compile(r"/feeds/for_you$"))
            expect(page.get_by_role("heading", level=1)).to_have_text("For you")
            expect(page.locator("article.status")).to_have_count(6)

            first = page.locator("details.why").first
            parts = first.locator(".why-parts li")
            expect(parts.first).to_be_hidden()
            first.locator("summary").click()
            expect(parts.first).to_be_visible()
            assert parts.count() >= 6
            expect(first.locator(".why-score")).to_contain_text(
                re.compile(r"Ranked 1 with a score")
            )
            expect(first).to_contain_text("Recency")
            expect(first).to_contain_text("From someone you follow")
            expect(first.locator(".why-points").first).to_have_text(re.compile(r"^[+-]\d+\.\d\d$"))

            fits(page, viewport["width"])
            page.screenshot(path=str(screenshots / f"feeds-for-you-{width}.png"), full_page=True)
            if viewport == PHONE:
                page.screenshot(path="/tmp/feeds-for-you.png", full_page=True)

            # How it works, and the weights: they fit too.
            first.get_by_role("link", name="How this feed works").click()
            expect(page.get_by_role("heading", level=1)).to_contain_text("For you")
            expect(page.locator("table.feed-params tbody tr")).to_have_count(11)
            fits(page, viewport["width"])
            page.screenshot(path=str(screenshots / f"feeds-about-{width}.png"), full_page=True)
            page.goto(live_server.url + "/settings/feeds")
            expect(page.locator("#for_you-recency_weight")).to_have_value("1")
            fits(page, viewport["width"])
            page.screenshot(path=str(screenshots / f"feeds-settings-{width}.png"), full_page=True)
            if viewport == DESKTOP:  # the weights' forms, sent in place by htmx
                weights = page.locator("#feed-for_you")
                page.fill("#for_you-recency_weight", "2.5")
                weights.get_by_role("button", name="Save").click()
                expect(page.get_by_role("status")).to_contain_text("saved")
                expect(page.locator("#for_you-recency_weight")).to_have_value("2.5")
                # A forged value: the browser's own bound lifted, the server refuses it.
                page.evaluate("document.querySelector('#for_you-recency_weight').max = '10'")
                page.fill("#for_you-recency_weight", "7")
                weights.get_by_role("button", name="Save").click()
                expect(weights.get_by_role("alert")).to_have_text(
                    "recency_weight must be between 0 and 3."
                )
                weights.get_by_role("button", name="Reset to defaults").click()
                expect(page.locator("#for_you-recency_weight")).to_have_value("1")
        finally:
            context.close()
