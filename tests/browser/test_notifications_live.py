"""Grouped notifications stay live: while the author looks at their notifications, two people
favourite one post; the live button appears and shows one grouped sentence ("… and 1 other
favourited your post"), not two."""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
from playwright.sync_api import Browser, BrowserContext, expect

from tests.browser.conftest import DESKTOP, WAIT_MS
from tests.browser.test_scenario import post, sign_up
from tests.clients.conftest import LiveServer

pytestmark = pytest.mark.parametrize("live_server", ["sqlite"], indirect=True, scope="module")


@pytest.fixture(scope="module")
def contexts(browser: Browser, live_server: LiveServer) -> Iterator[list[BrowserContext]]:
    """Closed before the server stops (the author's page holds an event stream open)."""
    made = [browser.new_context(viewport=DESKTOP, locale="en-GB") for _ in range(3)]
    yield made
    for c in made:
        c.close()


def test_favourites_arrive_live_as_one_group(
    contexts: list[BrowserContext], live_server: LiveServer
) -> None:
    author, *fans = [c.new_page() for c in contexts]
    for page in (author, *fans):
        page.set_default_timeout(WAIT_MS)
    url = live_server.url
    sign_up(author, url, "grouped")
    post(author, "Favourite me twice")
    href = author.locator("article.status a.when").first.get_attribute("href")
    assert href
    author.goto(url + "/notifications")
    expect(author.locator("body[data-live=open]")).to_have_count(1)

    for n, fan in enumerate(fans, start=1):
        sign_up(fan, url, f"fan{n}")
        fan.goto(url + href)
        card = fan.locator("article.status", has_text="Favourite me twice").first
        card.get_by_role("button", name=re.compile(r"^Favourite")).click()
        expect(card.get_by_role("button", name=re.compile(r"^Favourite"))).to_have_attribute(
            "aria-pressed", "true"
        )

    button = author.get_by_role("button", name=re.compile(r"new notification"))
    expect(button).to_be_visible()
    button.click()
    sentence = author.locator(".notification-text", has_text="favourited your post")
    expect(sentence).to_have_count(1)
    expect(sentence).to_contain_text("and 1 other favourited your post")
    expect(author.locator("li.notification")).to_have_count(1)
