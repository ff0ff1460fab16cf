"""Community notes in a real browser (issue 8): a writer adds a note to a post through the form
(classification, reasons, the character counter, sources); raters on two sides rate it and the
scorer runs (through the service, to build the population); a reader then finds "Readers added
context" on the post in the home timeline and on the post's page, opens "Why is this shown?"
and reads the ratings by side; a rater rates a note from "Help rate notes". On a phone's width
and a desktop's, no page is wider than the screen.

Screenshots: /tmp/notes-shots/*.png and tests/browser/screenshots/notes-*.png."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path
from typing import TypeVar

import pytest
from playwright.sync_api import Browser, BrowserContext, Page, ViewportSize, expect
from sqlalchemy import update
from starlette.testclient import TestClient

from parvis.services import notes
from parvis.services.context import Work
from parvis.storage.tables import accounts
from tests.browser.conftest import DESKTOP, PHONE, WAIT_MS
from tests.builders import User, follow, make_user
from tests.clients.conftest import LiveServer

pytestmark = pytest.mark.parametrize("live_server", ["sqlite"], indirect=True, scope="module")

T = TypeVar("T")
PASSWORD = "correct horse battery"  # tests.builders' users
SHOTS = Path("/tmp/notes-shots")
SUMMARY = (
    "This photo shows the 2015 flood in the old town, not this week's storm: the same picture "
    "was published by the city archive eight years ago."
)


def fits(page: Page, width: int) -> None:
    overflow = page.evaluate(
        "document.documentElement.scrollWidth - document.documentElement.clientWidth"
    )
    assert overflow <= 1, f"{page.url}: {overflow}px wider than a {width}px screen"


def shoot(page: Page, screenshots: Path, name: str) -> None:
    SHOTS.mkdir(exist_ok=True)
    page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=True)
    page.screenshot(path=str(screenshots / f"notes-{name}.png"), full_page=True)


def log_in(context: BrowserContext, url: str, user: User) -> Page:
    page = context.new_page()
    page.set_default_timeout(WAIT_MS)
    page.goto(url + "/login")
    page.fill("#login", f"{user.username}@example.org")
    page.fill("#password", PASSWORD)
    page.get_by_role("button", name="Log in").click()
    expect(page).to_have_url(re.compile(r"/home$"))
    return page


def test_a_note_from_the_form_to_the_timeline(
    browser: Browser, live_server: LiveServer, screenshots: Path
) -> None:
    parvis = live_server.parvis
    parvis.settings.notes_per_day = 100

    def run(fn: Callable[[Work], T]) -> T:
        return parvis.runtime.write(fn)

    http = TestClient(live_server.recorder.app, base_url=live_server.url)  # no lifespan: shared
    side_a = [make_user(http, f"left{i}") for i in range(8)]
    side_b = [make_user(http, f"right{i}") for i in range(8)]
    author = make_user(http, "floodwatcher")
    writer = make_user(http, "archivist")
    other = make_user(http, "somebody_else")
    reader = make_user(http, "reader")
    everyone = [*side_a, *side_b, author, writer, other, reader]

    def backdate(work: Work) -> None:  # notes need accounts 14 days old
        ids = [int(u.id) for u in everyone]
        work.store.conn.execute(
            update(accounts)
            .where(accounts.c.id.in_(ids))
            .values(created_at=work.now() - timedelta(days=400))
        )

    run(backdate)
    follow(reader, author)
    target = author.status("Look at this flood, happening right now in the old town!")["id"]

    # -- the writer adds the note through the form, on a phone ---------------------------------
    context = browser.new_context(viewport=PHONE, locale="en-GB")
    try:
        page = log_in(context, live_server.url, writer)
        page.goto(f"{live_server.url}/@{author.username}/{target}")
        page.get_by_role("link", name="Community notes on this post").click()
        expect(page.get_by_role("heading", level=1)).to_have_text("Community notes on this post")
        page.get_by_role("link", name="Add a note").click()
        expect(page).to_have_url(re.compile(rf"/posts/{target}/notes/new$"))
        # Before a classification is chosen, both groups of reasons show, each labelled.
        expect(page.get_by_role("group", name="If misleading: why?")).to_be_visible()
        expect(page.get_by_role("group", name="If not misleading: why?")).to_be_visible()
        page.get_by_label("Misleading or potentially misleading").check()
        expect(page.get_by_role("group", name="If not misleading: why?")).to_be_hidden()
        page.get_by_label("It contains outdated information that may be misleading").check()
        page.get_by_label("It is misleading without important context").check()
        page.fill("#note-summary", SUMMARY)
        expect(page.locator("#summary-count")).to_have_text(f"{500 - len(SUMMARY)} characters left")
        page.fill("#source-1", "https://www.example.org/archive/2015/flood")
        page.fill("#source-2", "https://city.example.net/photos/1234")
        fits(page, PHONE["width"])
        shoot(page, screenshots, "new-390")
        page.get_by_role("button", name="Add the note").click()
        expect(page).to_have_url(re.compile(r"/notes/\d+\?done=written$"))
        expect(page.get_by_role("status")).to_contain_text("Your note was added.")
        expect(page.locator(".note-card")).to_contain_text("Needs more ratings")
        expect(page.get_by_role("button", name="Delete my note")).to_be_hidden()  # folded
        fits(page, PHONE["width"])
        shoot(page, screenshots, "written-390")
        note_id = int(re.search(r"/notes/(\d+)", page.url).group(1))  # type: ignore[union-attr]
    finally:
        context.close()

    # -- raters on two sides, and the scorer (the service builds the population) ---------------
    made = [note_id]
    for i in range(11):
        status = int(other.status(f"Another claim, number {i}")["id"])
        draft = notes.Draft("misleading", ["factual_error"], f"Context {i}.", ["https://a.org"])
        made.append(run(lambda w, s=status, d=draft: notes.write(w, int(writer.id), s, d)).id)
    kinds = ["bridge"] * 4 + ["a"] * 4 + ["b"] * 4  # a rater enters the fit with 10 ratings
    for made_id, kind in zip(made, kinds, strict=True):
        for side, members in (("a", side_a), ("b", side_b)):
            answer = "helpful" if kind in ("bridge", side) else "not_helpful"
            for rater in members:
                run(lambda w, r=rater, n=made_id, a=answer: notes.rate(w, int(r.id), n, a))
    run(lambda w: notes.score(w, "command"))
    found = run(lambda w: w.store.notes.get(note_id))
    assert found is not None and found.rating_status == "CURRENTLY_RATED_HELPFUL"
    pending = run(
        lambda w: notes.write(
            w,
            int(other.id),
            int(target),
            notes.Draft(
                "misleading", ["other"], "A second opinion on the same photo.", ["https://b.org/x"]
            ),
        )
    ).id

    # -- a reader sees it, on a phone and on a desktop ------------------------------------------
    sizes: tuple[ViewportSize, ...] = (PHONE, DESKTOP)
    for viewport in sizes:
        width = viewport["width"]
        context = browser.new_context(viewport=viewport, locale="en-GB")
        try:
            page = log_in(context, live_server.url, reader)
            box = page.locator(f"#status-{target} .community-note")
            expect(box).to_contain_text("Readers added context")
            expect(box).to_contain_text("the 2015 flood in the old town")
            expect(box.get_by_role("link", name="example.org")).to_have_attribute(
                "rel", "nofollow noopener ugc"
            )
            expect(box.get_by_role("link", name="city.example.net")).to_be_visible()
            expect(box).not_to_contain_text("archivist")  # anonymous
            fits(page, width)
            shoot(page, screenshots, f"home-{width}")

            page.goto(f"{live_server.url}/@{author.username}/{target}")
            expect(page.locator(f".focus #status-{target} .community-note")).to_be_visible()
            fits(page, width)
            shoot(page, screenshots, f"post-{width}")
            page.locator(".focus").get_by_role("link", name="Why is this shown?").click()
            expect(page).to_have_url(re.compile(rf"/notes/{note_id}$"))
            expect(page.locator(".why-case")).to_have_text(
                "Shown: raters who usually disagree both found it helpful."
            )
            expect(page.locator(".why-sides")).to_contain_text(
                "Rated helpful by 8 raters on one side and 8 on the other"
            )
            expect(page.locator(".note-history li")).to_have_count(1)
            expect(page.get_by_role("group", name="Is this note helpful?")).to_be_visible()
            fits(page, width)
            shoot(page, screenshots, f"why-{width}")

            if viewport == DESKTOP:
                # The reader helps rate: the other note on the post, from the queue.
                page.get_by_role("link", name="Notes", exact=True).click()
                expect(page.get_by_role("heading", level=1)).to_have_text("Help rate notes")
                fits(page, width)
                shoot(page, screenshots, f"queue-{width}")
                page.locator(f'a[href="/notes/{pending}#rating"]').click()
                page.get_by_label("Not helpful", exact=True).check()
                helpful_tags = page.get_by_role(
                    "group", name="If helpful or somewhat helpful: what about it?"
                )
                expect(helpful_tags).to_be_hidden()  # only the tags of the chosen answer
                page.get_by_label("Misses key points").check()
                page.get_by_role("button", name="Rate", exact=True).click()
                expect(page.get_by_role("status")).to_have_text("Your rating was saved.")
                expect(page.locator(".own-rating")).to_have_text(
                    "Your rating: Not helpful (Misses key points)"
                )
                fits(page, width)
                shoot(page, screenshots, f"rated-{width}")
        finally:
            context.close()
    rating = run(lambda w: w.store.notes.rating(pending, int(reader.id)))
    assert rating is not None and rating.tags == ("missing_key_points",)
