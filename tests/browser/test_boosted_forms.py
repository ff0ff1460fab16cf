"""Settings, lists and filters are enhanced with htmx (hx-boost): with JavaScript a form is
sent in the background and the page swapped in place (no full reload), errors included;
without JavaScript the same forms work as plain forms (the tests in tests/web)."""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
from playwright.sync_api import Browser, Page, expect

from tests.browser.conftest import DESKTOP, WAIT_MS
from tests.clients.conftest import LiveServer

pytestmark = pytest.mark.parametrize("live_server", ["sqlite"], indirect=True, scope="module")


@pytest.fixture(scope="module")
def page(browser: Browser, live_server: LiveServer) -> Iterator[Page]:
    context = browser.new_context(viewport=DESKTOP, locale="en-GB")
    found = context.new_page()
    found.set_default_timeout(WAIT_MS)
    found.goto(live_server.url + "/signup")
    found.fill("#username", "boosted")
    found.fill("#email", "boosted@example.org")
    found.fill("#password", "correct horse battery staple")
    found.check("#agreement")
    found.get_by_role("button", name="Sign up").click()
    expect(found).to_have_url(re.compile(r"/home$"))
    yield found
    context.close()


def mark(page: Page) -> None:
    """A flag that survives only as long as the document does (no full reload)."""
    page.evaluate("window.stillHere = true")


def still_here(page: Page) -> bool:
    return bool(page.evaluate("window.stillHere === true"))


def test_settings_save_in_place(page: Page, live_server: LiveServer) -> None:
    page.goto(live_server.url + "/settings/profile")
    mark(page)
    page.fill("#display_name", "Boosted Person")
    page.locator("form[action='/settings/profile'] button[type=submit]").click()
    expect(page.get_by_role("status")).to_contain_text("saved")
    assert page.input_value("#display_name") == "Boosted Person"
    assert still_here(page)


def test_a_list_is_made_in_place(page: Page, live_server: LiveServer) -> None:
    page.goto(live_server.url + "/lists")
    mark(page)
    page.locator("form[action='/lists'] input[name=title]").fill("Friends")
    page.locator("form[action='/lists'] button[type=submit]").click()
    expect(page).to_have_url(re.compile(r"/lists/\d+/edit$"))  # the new list's page, pushed
    expect(page.get_by_role("heading", level=1)).to_contain_text("Friends")
    assert still_here(page)


def test_a_filter_error_is_shown_in_place(page: Page, live_server: LiveServer) -> None:
    page.goto(live_server.url + "/filters")
    mark(page)
    page.fill("#filter-title", "Nothing")
    page.fill("#keywords", "   ")  # only blanks: refused by the server (422 without htmx)
    page.locator("form[action='/filters'] button[type=submit]").click()
    expect(page.get_by_role("alert")).to_be_visible()
    assert still_here(page)
    page.fill("#keywords", "sprouts")
    page.locator("form[action='/filters'] button[type=submit]").click()
    expect(page.locator("code", has_text="sprouts")).to_be_visible()
    assert still_here(page)
    # The keyword's own forms are boosted too: switch it to match inside words, in place.
    page.get_by_role("button", name=re.compile(r"Match inside words too")).click()
    expect(page.get_by_role("button", name=re.compile(r"Match whole words only"))).to_be_visible()
    expect(page.get_by_text("also inside words")).to_be_visible()
    assert still_here(page)
