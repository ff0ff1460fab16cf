"""Community notes in the web app (issue 8), on the real app and database: the box "Readers
added context" on every card of a post whose note is shown (read once for a page of posts),
the note's page with its status and why (from the scorer's numbers), its history and the
rating form; the notes on a post with "Add a note" and its form (errors beside their fields,
input kept); "Help rate notes" with paging; and every refusal, in words."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from datetime import timedelta
from typing import Any, TypeVar

import pytest
from sqlalchemy import event, update
from starlette.testclient import TestClient

from parvis.app import Parvis
from parvis.services import accounts as account_service
from parvis.services import moderation, notes
from parvis.services.context import Work
from parvis.storage.tables import accounts
from tests.builders import User, follow, make_user, ok
from tests.web.browser import browser, csrf, log_in

T = TypeVar("T")
PASSWORD = "correct horse battery"
CONTEXT = "Readers added context"
DRAFT = notes.Draft(
    "misleading",
    ["factual_error", "missing_important_context"],
    "The photo is from a 2015 flood, not from this week.",
    ["https://www.example.org/archive/2015", "https://news.example.net/photo"],
    "en",
)


def run(parvis: Parvis, fn: Callable[[Work], T]) -> T:
    return parvis.runtime.write(fn)


def age(parvis: Parvis, *users: User, days: int = 400) -> None:
    """Accounts created `days` ago (notes need notes_min_account_days)."""

    def backdate(work: Work) -> None:
        for u in users:
            work.store.conn.execute(
                update(accounts)
                .where(accounts.c.id == int(u.id))
                .values(created_at=work.now() - timedelta(days=days))
            )

    run(parvis, backdate)


def people(parvis: Parvis, client: TestClient, n: int) -> list[User]:
    made = [make_user(client) for _ in range(n)]
    age(parvis, *made)
    return made


def signed_in(client: TestClient, user: User) -> TestClient:
    web = browser(client)
    log_in(web, f"{user.username}@example.org", PASSWORD)
    return web


def post(user: User, text: str = "Look at this flood, happening right now!") -> int:
    return int(user.status(text)["id"])


def write_note(parvis: Parvis, author: User, status_id: int, draft: notes.Draft = DRAFT) -> int:
    return run(parvis, lambda w: notes.write(w, int(author.id), status_id, draft)).id


def send(web: TestClient, page: str, action: str, data: Any) -> Any:
    """Submit a form found on `page` (its CSRF token) with `data`: a dict, or a list of pairs
    for repeated fields."""
    token = csrf(web.get(page).text)
    fields: dict[str, list[str]] = {"csrf": [token]}
    for name, value in data.items() if isinstance(data, dict) else data:
        fields.setdefault(name, []).append(value)
    return web.post(action, data=fields, follow_redirects=False)


def shown_note(parvis: Parvis, client: TestClient) -> tuple[User, User, int, int]:
    """A post with a note that two sides of raters both find helpful, scored: (author, note
    writer, post id, note id). Eight raters on each side rate twelve notes (a rater enters the
    fit with ten ratings): four notes both sides find helpful (the first one on the author's
    post, the others on posts by `other`), four one side only, four the other side only."""
    parvis.settings.notes_per_day = 100
    side_a, side_b = people(parvis, client, 8), people(parvis, client, 8)
    author, writer, other = people(parvis, client, 3)
    target = post(author)
    kinds = ["bridge"] * 4 + ["a"] * 4 + ["b"] * 4
    made = [write_note(parvis, writer, target)] + [
        write_note(parvis, writer, post(other, f"Another claim {i}")) for i in range(11)
    ]
    for note_id, kind in zip(made, kinds, strict=True):
        for side, members in (("a", side_a), ("b", side_b)):
            answer = "helpful" if kind in ("bridge", side) else "not_helpful"
            for rater in members:
                run(parvis, lambda w, r=rater, n=note_id, a=answer: notes.rate(w, int(r.id), n, a))
    scored = run(parvis, lambda w: notes.score(w, "command"))
    assert scored.run is not None
    found = run(parvis, lambda w: w.store.notes.get(made[0]))
    assert found is not None and found.rating_status == "CURRENTLY_RATED_HELPFUL"
    return author, writer, target, made[0]


# -- the box on the cards ------------------------------------------------------------------------


def test_a_shown_note_is_on_every_card_of_its_post(parvis: Parvis, client: TestClient) -> None:
    author, writer, target, note_id = shown_note(parvis, client)
    reader = make_user(client)
    follow(reader, author)
    web = signed_in(client, reader)
    pages = {
        "home": web.get("/home").text,
        "post": web.get(f"/@{author.username}/{target}").text,
        "profile": web.get(f"/@{author.username}").text,
        "local": client.get("/local").text,  # a visitor, signed out
    }
    shown = {"home": 1, "post": 1, "profile": 1, "local": 4}  # posts with a shown note
    for name, html in pages.items():
        assert html.count(CONTEXT) == shown[name], name
        assert "The photo is from a 2015 flood" in html, name
        assert f'<a href="/notes/{note_id}">Why is this shown?</a>' in html, name
        # Sources: named by their host, with the rel of user-given links.
        assert (
            '<a href="https://www.example.org/archive/2015" rel="nofollow noopener ugc">'
            "example.org</a>" in html
        ), name
        assert '<a href="https://news.example.net/photo" rel="nofollow noopener ugc">' in html
        # Anonymous: the writer is named nowhere on the page.
        assert writer.username not in html, name
    # The box sits on the post's own card.
    card = re.search(
        rf'<article class="status" id="status-{target}".*?</article>', pages["post"], re.S
    )
    assert card is not None and CONTEXT in card.group(0)
    # A boost of the post carries its note too.
    booster = make_user(client)
    ok(booster.post(f"/api/v1/statuses/{target}/reblog"))
    assert CONTEXT in client.get(f"/@{booster.username}").text


def test_the_notes_of_a_page_are_read_in_one_query(parvis: Parvis, client: TestClient) -> None:
    author, _, _, _ = shown_note(parvis, client)
    reader = make_user(client)
    follow(reader, author)
    web = signed_in(client, reader)
    statements: list[str] = []

    def count(*args: Any) -> None:
        if "community_notes" in args[2]:
            statements.append(args[2])

    for path, posts, boxes in (("/local", 12, 4), ("/home", 1, 1)):
        event.listen(parvis.db.engine, "before_cursor_execute", count)
        try:
            html = web.get(path).text
        finally:
            event.remove(parvis.db.engine, "before_cursor_execute", count)
        assert html.count('<article class="status"') == posts, path
        assert html.count(CONTEXT) == boxes, path
        assert len(statements) == 1, statements
        statements.clear()


def test_a_note_not_shown_stays_off_the_card(parvis: Parvis, client: TestClient) -> None:
    author, writer = people(parvis, client, 2)
    target = post(author)
    write_note(parvis, writer, target)
    html = client.get(f"/@{author.username}/{target}").text
    assert CONTEXT not in html and "The photo is from" not in html
    assert f'href="/posts/{target}/notes">Community notes on this post<' in html


# -- a note's page -------------------------------------------------------------------------------


def test_the_note_page_says_why_it_is_shown(parvis: Parvis, client: TestClient) -> None:
    _, writer, target, note_id = shown_note(parvis, client)
    page = client.get(f"/notes/{note_id}")
    assert page.status_code == 200
    html = page.text
    assert "Shown on the post: rated helpful" in html
    assert "Shown: raters who usually disagree both found it helpful." in html
    assert "Rated helpful by 8 raters on one side and 8 on the other" in html
    view = run(parvis, lambda w: notes.view(w, None, note_id))
    intercept = f"{view.why.intercept:.3f}"
    assert f"<dd>{intercept} (shown from 0.40)</dd>" in html
    assert f"<dd>{abs(view.why.factor or 0):.3f} (shown below 0.50)</dd>" in html
    # The history, the classification and reasons, the post.
    assert re.search(r'<ol class="note-history">\s*<li>.*Shown on the post', html, re.S)
    assert f"helpfulness {intercept}" in html
    assert "The writer says the post is misleading." in html
    assert "It contains a factual error" in html
    assert "It is misleading without important context" in html
    assert f'id="status-{target}"' in html and f'href="/posts/{target}/notes"' in html
    # A visitor is asked to log in to rate; the writer is not named.
    assert "Log in to write and rate community notes." in html
    assert writer.username not in html and 'name="helpfulness"' not in html


def test_a_note_needing_ratings_says_how_many_it_has(parvis: Parvis, client: TestClient) -> None:
    author, writer, rater = people(parvis, client, 3)
    note_id = write_note(parvis, writer, post(author))
    run(parvis, lambda w: notes.rate(w, int(rater.id), note_id, "helpful"))
    html = client.get(f"/notes/{note_id}").text
    assert "Needs more ratings" in html
    assert "Needs more ratings: 0 of the 5 needed from raters with enough rating history." in html
    assert "1 rating from raters without enough rating history yet: not counted" in html
    assert "Not scored yet" in html
    # A note saying the post is not misleading is never shown, and says so.
    fine = notes.Draft("not_misleading", ["personal_opinion"], "It is an opinion.")
    other = write_note(parvis, rater, post(author, "I like rain."), fine)
    html = client.get(f"/notes/{other}").text
    assert "The writer says the post is not misleading." in html
    assert "It expresses a personal opinion" in html
    assert (
        "The writer says the post is not misleading: such notes are never shown on the post."
        in html
    )
    assert "No ratings yet." in html


def test_rating_a_note_changing_and_removing_the_rating(parvis: Parvis, client: TestClient) -> None:
    author, writer, rater = people(parvis, client, 3)
    note_id = write_note(parvis, writer, post(author))
    web = signed_in(client, rater)
    page = f"/notes/{note_id}"
    html = web.get(page).text
    # Every answer, and every tag group labelled with the answers it goes with.
    for words in ("Helpful", "Somewhat helpful", "Not helpful", "Cites high-quality sources"):
        assert words in html
    assert "If helpful or somewhat helpful: what about it?" in html
    assert "If not helpful or somewhat helpful: what is wrong?" in html
    r = send(
        web,
        page,
        f"/notes/{note_id}/rating",
        [
            ("helpfulness", "helpful"),
            ("tags_helpful", "good_sources"),
            ("tags_helpful", "clear"),
            ("tags_not_helpful", "incorrect"),  # a group for another answer: does not count
        ],
    )
    assert r.status_code == 303 and r.headers["location"] == f"/notes/{note_id}?done=rated#rating"
    stored = run(parvis, lambda w: w.store.notes.rating(note_id, int(rater.id)))
    assert stored is not None and (stored.helpfulness, stored.tags) == (
        "HELPFUL",
        ("good_sources", "clear"),
    )
    html = web.get(f"{page}?done=rated").text
    assert "Your rating was saved." in html
    assert "Your rating: Helpful (Cites high-quality sources, Easy to understand)" in html
    assert 'id="answer-helpful" name="helpfulness" value="helpful" checked' in html
    assert "Change my rating" in html and "Remove my rating" in html

    r = send(
        web,
        page,
        f"/notes/{note_id}/rating",
        [
            ("helpfulness", "somewhat_helpful"),
            ("tags_helpful", "clear"),
            ("tags_not_helpful", "outdated"),
        ],
    )
    assert r.status_code == 303
    stored = run(parvis, lambda w: w.store.notes.rating(note_id, int(rater.id)))
    assert stored is not None and stored.tags == ("clear", "outdated")

    r = send(web, page, f"/notes/{note_id}/rating/delete", {})
    assert r.status_code == 303 and r.headers["location"] == f"/notes/{note_id}?done=unrated#rating"
    assert run(parvis, lambda w: w.store.notes.rating(note_id, int(rater.id))) is None
    assert "Your rating was removed." in web.get(f"{page}?done=unrated").text
    # Removing again: said, not a crash.
    r = send(web, page, f"/notes/{note_id}/rating/delete", {})
    assert r.status_code == 404 and "You have not rated this note" in r.text


def test_a_rating_without_an_answer_or_with_a_forged_tag_is_refused(
    parvis: Parvis, client: TestClient
) -> None:
    author, writer, rater = people(parvis, client, 3)
    note_id = write_note(parvis, writer, post(author))
    web = signed_in(client, rater)
    page = f"/notes/{note_id}"
    r = send(web, page, f"/notes/{note_id}/rating", {"tags_helpful": "clear"})
    assert r.status_code == 422
    assert '<p class="error" id="helpfulness-error">Choose an answer.</p>' in r.text
    assert 'id="tag-h-clear" name="tags_helpful" value="clear" checked' in r.text  # kept
    r = send(
        web, page, f"/notes/{note_id}/rating", {"helpfulness": "helpful", "tags_helpful": "bogus"}
    )
    assert r.status_code == 422 and "tags: unknown &#39;bogus&#39;" in r.text
    r = send(web, page, f"/notes/{note_id}/rating", {"helpfulness": "great"})
    assert r.status_code == 422 and "Choose an answer." in r.text
    assert run(parvis, lambda w: w.store.notes.rating(note_id, int(rater.id))) is None


def test_the_author_deletes_their_note_and_cannot_rate_it(
    parvis: Parvis, client: TestClient
) -> None:
    author, writer = people(parvis, client, 2)
    target = post(author)
    note_id = write_note(parvis, writer, target)
    web = signed_in(client, writer)
    html = web.get(f"/notes/{note_id}").text
    assert "You wrote this note." in html and 'name="helpfulness"' not in html
    assert "Delete my note" in html
    r = send(web, f"/notes/{note_id}", f"/notes/{note_id}/rating", {"helpfulness": "helpful"})
    assert r.status_code == 403 and "You cannot rate your own note" in r.text
    # Someone else cannot delete it.
    other = signed_in(client, people(parvis, client, 1)[0])
    r = send(other, f"/notes/{note_id}", f"/notes/{note_id}/delete", {})
    assert r.status_code == 403 and "Only the note&#39;s author can delete it" in r.text
    r = send(web, f"/notes/{note_id}", f"/notes/{note_id}/delete", {})
    assert r.status_code == 303 and r.headers["location"] == f"/posts/{target}/notes?done=deleted"
    assert run(parvis, lambda w: w.store.notes.get(note_id)) is None
    assert "Your note was deleted." in web.get(r.headers["location"]).text
    assert web.get(f"/notes/{note_id}").status_code == 404


def test_ineligible_raters_read_why_instead_of_the_form(parvis: Parvis, client: TestClient) -> None:
    author, writer = people(parvis, client, 2)
    note_id = write_note(parvis, writer, post(author))
    newcomer = make_user(client)
    web = signed_in(client, newcomer)
    html = web.get(f"/notes/{note_id}").text
    assert (
        "Accounts can write and rate notes 14 days after they are created: yours can from" in html
    )
    assert 'name="helpfulness"' not in html
    r = send(web, f"/notes/{note_id}", f"/notes/{note_id}/rating", {"helpfulness": "helpful"})
    assert r.status_code == 403
    assert r.text.count("Accounts can write and rate notes 14 days") == 1  # said once, in words
    assert "Accounts can take part" not in r.text
    assert run(parvis, lambda w: w.store.notes.rating(note_id, int(newcomer.id))) is None


def test_a_recent_moderation_decision_is_explained(parvis: Parvis, client: TestClient) -> None:
    admin, author, writer = people(parvis, client, 3)
    run(parvis, lambda w: account_service.set_role(w, int(admin.id), "admin"))
    labelled = post(author, "Labelled post")
    run(
        parvis,
        lambda w: moderation.own_initiative(
            w,
            int(admin.id),
            "status",
            labelled,
            moderation.Verdict(
                "label", "Misleading.", ground="rule", rule_id="2", label="Disputed"
            ),
        ),
    )
    note_id = write_note(parvis, writer, post(admin))
    html = signed_in(client, author).get(f"/notes/{note_id}").text
    assert (
        "A moderation decision about your account or your posts is recent or still in force: "
        "accounts can write and rate notes 90 days after such a decision." in html
    )


def test_unknown_and_deleted_notes_are_not_found(parvis: Parvis, client: TestClient) -> None:
    author, writer, rater = people(parvis, client, 3)
    target = post(author)
    note_id = write_note(parvis, writer, target)
    web = signed_in(client, rater)
    token = csrf(web.get(f"/notes/{note_id}").text)
    ok(author.delete(f"/api/v1/statuses/{target}"))  # the post goes, with its notes
    for path in (f"/notes/{note_id}", "/notes/123", "/notes/nope"):
        r = web.get(path)
        assert r.status_code == 404 and "Not found" in r.text, path
    r = web.post(
        f"/notes/{note_id}/rating",
        data={"csrf": token, "helpfulness": "helpful"},
        follow_redirects=False,
    )
    assert r.status_code == 404 and "Not found" in r.text


# -- the notes on a post, and writing one ---------------------------------------------------------


def test_writing_a_note_through_the_form(parvis: Parvis, client: TestClient) -> None:
    author, writer = people(parvis, client, 2)
    target = post(author)
    web = signed_in(client, writer)
    listing = web.get(f"/posts/{target}/notes").text
    assert "No notes on this post yet." in listing
    assert f'href="/posts/{target}/notes/new">Add a note</a>' in listing
    form = web.get(f"/posts/{target}/notes/new")
    assert form.status_code == 200
    for words in (
        "Misleading or potentially misleading",
        "If misleading: why?",
        "If not misleading: why?",
        "It is clearly satire",
        "500 characters left",
        'name="source_5"',
        "Language of the note",
    ):
        assert words in form.text, words
    r = send(
        web,
        f"/posts/{target}/notes/new",
        f"/posts/{target}/notes",
        [
            ("classification", "misleading"),
            ("reasons_misleading", "factual_error"),
            ("reasons_not_misleading", "personal_opinion"),  # the other group: does not count
            ("summary", "  The photo is from 2015.  "),
            ("source_1", ""),
            ("source_2", "https://example.org/2015"),
            ("language", "en"),
        ],
    )
    assert r.status_code == 303
    note_id = int(re.fullmatch(r"/notes/(\d+)\?done=written", r.headers["location"]).group(1))  # type: ignore[union-attr]
    stored = run(parvis, lambda w: w.store.notes.get(note_id))
    assert stored is not None
    assert (stored.reasons, stored.summary, stored.sources, stored.language) == (
        ("factual_error",),
        "The photo is from 2015.",
        ("https://example.org/2015",),
        "en",
    )
    assert stored.status_id == target and stored.author_id == int(writer.id)
    assert "Your note was added." in web.get(r.headers["location"]).text
    listing = web.get(f"/posts/{target}/notes").text
    assert "The photo is from 2015." in listing and "Needs more ratings" in listing
    assert f'<a href="/notes/{note_id}">You wrote a note on this post</a>' in listing
    # A second note on the same post: said, with a link to the first.
    again = web.get(f"/posts/{target}/notes/new")
    assert again.status_code == 409 and "You already wrote a note on this post." in again.text
    r = send(
        web,
        f"/posts/{target}/notes",
        f"/posts/{target}/notes",
        {
            "classification": "not_misleading",
            "reasons_not_misleading": "personal_opinion",
            "summary": "x",
        },
    )
    assert r.status_code == 409 and "You already wrote a note on this post." in r.text


def test_errors_are_shown_beside_their_fields_and_the_input_is_kept(
    parvis: Parvis, client: TestClient
) -> None:
    author, writer = people(parvis, client, 2)
    target = post(author)
    web = signed_in(client, writer)
    page = f"/posts/{target}/notes/new"
    long = "Context. " * 60  # 540 characters
    r = send(
        web,
        page,
        f"/posts/{target}/notes",
        [
            ("classification", "misleading"),
            ("summary", long),
            ("source_1", "javascript:alert(1)"),
            ("source_3", "https://example.org/kept"),
            ("language", "fr"),
        ],
    )
    assert r.status_code == 422
    html = r.text
    assert "The note was not added: see the fields marked below." in html
    assert '<p class="error" id="reasons-m-error">give at least one reason</p>' in html
    assert '<p class="error" id="summary-error">at most 500 characters</p>' in html
    assert re.search(r'<p class="error" id="sources-error">not a web link \(http or https\)', html)
    # What was typed is all still there.
    assert 'id="classification-misleading" name="classification" value="misleading" checked' in html
    assert long.strip() in html
    assert 'value="javascript:alert(1)"' in html and 'value="https://example.org/kept"' in html
    assert '<option value="fr" lang="fr" selected>' in html
    r = send(web, page, f"/posts/{target}/notes", {"summary": "  "})
    assert r.status_code == 422
    assert '<p class="error" id="classification-error">misleading or not_misleading</p>' in r.text
    assert '<p class="error" id="summary-error">write the note</p>' in r.text
    r = send(
        web,
        page,
        f"/posts/{target}/notes",
        {"classification": "misleading", "reasons_misleading": "satire", "summary": "A joke."},
    )
    assert r.status_code == 422
    assert "a note on a misleading post needs at least one source link" in r.text
    assert run(parvis, lambda w: w.store.notes.of_status(target)) == []


def test_refusals_when_writing_a_note(parvis: Parvis, client: TestClient) -> None:
    author, writer = people(parvis, client, 2)
    target = post(author)
    # Signed out: to the login page.
    r = client.get(f"/posts/{target}/notes/new", follow_redirects=False)
    assert (
        r.status_code == 303 and r.headers["location"] == f"/login?next=/posts/{target}/notes/new"
    )
    assert "Log in to write and rate community notes." in client.get(f"/posts/{target}/notes").text
    r = client.post(f"/posts/{target}/notes", data={"summary": "x"}, follow_redirects=False)
    assert r.headers["location"] == f"/login?next=/posts/{target}/notes/new"  # the form's page
    # Too new: why, with the date.
    newcomer = signed_in(client, make_user(client))
    r = newcomer.get(f"/posts/{target}/notes/new")
    assert r.status_code == 403
    assert "Accounts can write and rate notes 14 days after they are created" in r.text
    assert 'name="summary"' not in r.text
    assert "Add a note</a>" not in newcomer.get(f"/posts/{target}/notes").text
    # One's own post.
    own = signed_in(client, author)
    r = own.get(f"/posts/{target}/notes/new")
    assert r.status_code == 403 and "You cannot write a note on your own post." in r.text
    # A post that is not public.
    private = int(author.status("Followers only", visibility="private")["id"])
    ok(writer.post(f"/api/v1/accounts/{author.id}/follow"))
    web = signed_in(client, writer)
    r = web.get(f"/posts/{private}/notes/new")
    assert r.status_code == 422 and "Notes can be added to public posts only." in r.text
    assert "Notes can be added to public posts only." in web.get(f"/posts/{private}/notes").text
    # A deleted post, an unknown one, one the visitor may not see: not found.
    gone = post(author, "Soon deleted")
    token = csrf(web.get(f"/posts/{gone}/notes/new").text)
    ok(author.delete(f"/api/v1/statuses/{gone}"))
    for path in (
        f"/posts/{gone}/notes",
        f"/posts/{gone}/notes/new",
        "/posts/1/notes",
        "/posts/x/notes",
    ):
        r = web.get(path)
        assert r.status_code == 404 and "Not found" in r.text, path
    assert newcomer.get(f"/posts/{private}/notes").status_code == 404
    fields = {"csrf": token, "classification": "misleading", "reasons_misleading": "other"}
    fields |= {"summary": "Context.", "source_1": "https://example.org/x"}
    r = web.post(f"/posts/{gone}/notes", data=fields, follow_redirects=False)
    assert r.status_code == 404 and "Not found" in r.text


def test_the_daily_cap_is_said(parvis: Parvis, client: TestClient) -> None:
    author, writer = people(parvis, client, 2)
    parvis.settings.notes_per_day = 1
    write_note(parvis, writer, post(author))
    target = post(author, "Another one")
    web = signed_in(client, writer)
    fields = {
        "classification": "misleading",
        "reasons_misleading": "factual_error",
        "summary": "Kept on refusal.",
        "source_1": "https://example.org/y",
    }
    r = send(web, f"/posts/{target}/notes/new", f"/posts/{target}/notes", fields)
    assert r.status_code == 429
    assert "At most 1 notes a day" in r.text and "Kept on refusal." in r.text


def test_forms_without_their_csrf_token_change_nothing(parvis: Parvis, client: TestClient) -> None:
    author, writer, rater = people(parvis, client, 3)
    target = post(author)
    note_id = write_note(parvis, writer, target)
    web = signed_in(client, rater)
    web.get("/notes")  # the browser's CSRF cookie
    for action, data in (
        (f"/notes/{note_id}/rating", {"helpfulness": "helpful"}),
        (f"/posts/{target}/notes", {"classification": "misleading", "summary": "x"}),
    ):
        r = web.post(action, data=data, follow_redirects=False)
        assert r.status_code == 403, action
    assert run(parvis, lambda w: w.store.notes.rating(note_id, int(rater.id))) is None
    own = signed_in(client, writer)
    own.get("/notes")
    assert own.post(f"/notes/{note_id}/delete", follow_redirects=False).status_code == 403
    assert run(parvis, lambda w: w.store.notes.get(note_id)) is not None


# -- help rate notes -----------------------------------------------------------------------------


def test_the_queue_lists_notes_needing_ratings_with_paging(
    parvis: Parvis, client: TestClient
) -> None:
    parvis.settings.notes_per_day = 100
    author, writer, rater = people(parvis, client, 3)
    made = [write_note(parvis, writer, post(author, f"Claim number {i}")) for i in range(22)]
    run(parvis, lambda w: notes.rate(w, int(rater.id), made[0], "helpful"))  # rated: not listed
    web = signed_in(client, rater)
    home = web.get("/home").text
    assert '<a href="/notes" >Notes</a>' in home  # the navigation
    first = web.get("/notes")
    assert first.status_code == 200 and "Help rate notes" in first.text
    listed = re.findall(r'href="/notes/(\d+)#rating">Rate this note<', first.text)
    assert len(listed) == 20 and listed == [str(n) for n in reversed(made[2:])]
    more = re.search(r'<a href="\?max_id=(\d+)">More notes</a>', first.text)
    assert more is not None
    second = web.get(f"/notes?max_id={more.group(1)}").text
    assert re.findall(r'href="/notes/(\d+)#rating">', second) == [str(made[1])]
    assert "More notes" not in second
    assert "Claim number 1" in second  # with its post
    # The writer's own notes are not theirs to rate.
    assert "No notes need your rating right now." in signed_in(client, writer).get("/notes").text


def test_the_queue_explains_ineligibility(parvis: Parvis, client: TestClient) -> None:
    r = client.get("/notes", follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"] == "/login?next=/notes"
    web = signed_in(client, make_user(client))
    r = web.get("/notes")
    assert r.status_code == 403
    assert "Accounts can write and rate notes 14 days after they are created" in r.text


@pytest.mark.parametrize("path", ["/notes/0", "/notes/99999999999999999999", "/posts/0/notes/new"])
def test_bad_ids_are_not_found(parvis: Parvis, client: TestClient, path: str) -> None:
    web = signed_in(client, people(parvis, client, 1)[0])
    assert web.get(path).status_code == 404


def test_the_pages_speak_french(parvis: Parvis, client: TestClient) -> None:
    author, _, _, note_id = shown_note(parvis, client)
    client.headers["Accept-Language"] = "fr"
    local = client.get("/local").text
    assert "Des lecteurs ont ajouté du contexte" in local
    assert f'<a href="/notes/{note_id}">Pourquoi cette note est-elle affichée\u202f?</a>' in local
    html = client.get(f"/notes/{note_id}").text
    assert "Affichée sur la publication\u00a0: jugée utile" in html
    assert "Jugée utile par 8 évaluateurs d’un bord et 8 de l’autre" in html
    assert "(affichée à partir de 0,40)" in html and "(affichée en dessous de 0,50)" in html
    assert "Selon l’auteur de la note, la publication est trompeuse." in html
    assert "Elle contient une erreur factuelle" in html
    assert "Connectez-vous pour écrire et évaluer des notes de la communauté." in html
    # A form refused in French, field by field.
    web = signed_in(client, people(parvis, client, 1)[0])
    fields = {"default_visibility": "public", "locale": "fr"}  # the account's own language
    assert send(web, "/settings/preferences", "/settings/preferences", fields).status_code == 303
    other = post(author, "Encore une affirmation")
    r = send(
        web,
        f"/posts/{other}/notes/new",
        f"/posts/{other}/notes",
        {"classification": "misleading", "summary": "Du contexte."},
    )
    assert r.status_code == 422
    assert "La note n’a pas été ajoutée\u00a0: voyez les champs signalés ci-dessous." in r.text
    assert '<p class="error" id="reasons-m-error">donnez au moins une raison</p>' in r.text
    assert (
        "une note sur une publication trompeuse demande au moins un lien vers une source" in r.text
    )
    assert "Aider à évaluer des notes" in web.get("/notes").text


def test_streamed_edits_and_boosts_carry_the_shown_note(parvis: Parvis, client: TestClient) -> None:
    """The streaming API's `status.update` (an edit) and `update` (a boost) events carry the
    post's shown note in `community_note`, as the REST API does; a new post has none yet."""
    author, _, target, note_id = shown_note(parvis, client)
    reader, booster, other = make_user(client), make_user(client), make_user(client)
    follow(reader, author)
    follow(other, booster)  # the post is not in `other`'s home yet: the boost is streamed

    def stream(user: User) -> Any:
        return client.websocket_connect(f"/api/v1/streaming?access_token={user.token}&stream=user")

    def receive(ws: Any) -> tuple[str, Any]:
        message = ws.receive_json()
        return message["event"], json.loads(message["payload"])

    with stream(reader) as ws:
        ok(author.put(f"/api/v1/statuses/{target}", json={"status": "Look again: the flood."}))
        event, edited = receive(ws)
        assert (event, edited["id"]) == ("status.update", str(target))
        assert edited["community_note"]["id"] == str(note_id)

        fresh = author.status("Something new")
        event, new = receive(ws)
        assert (event, new["id"], new["community_note"]) == ("update", fresh["id"], None)

    with stream(other) as ws:
        ok(booster.post(f"/api/v1/statuses/{target}/reblog"))
        event, boost = receive(ws)
        assert (event, boost["reblog"]["id"]) == ("update", str(target))
        assert boost["reblog"]["community_note"]["id"] == str(note_id)
