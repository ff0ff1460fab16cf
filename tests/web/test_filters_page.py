"""Filters page: a filter hides matching posts on home, a warning filter keeps them, expiry,
deletion, and bad input shown again with a message."""

from __future__ import annotations

import re

from starlette.testclient import TestClient

from tests.builders import make_user
from tests.web.browser import browser, log_in, submit

PASSWORD = "correct horse battery"


def test_a_filter_hides_a_post_on_home(client: TestClient) -> None:
    alice, bob = make_user(client, "alice"), make_user(client, "bob")
    assert alice.post(f"/api/v1/accounts/{bob.id}/follow").status_code == 200
    bob.status("I love brussels sprouts")
    bob.status("A post about the weather")
    web = browser(client)
    log_in(web, "alice@example.org", PASSWORD)
    assert "brussels sprouts" in web.get("/home").text

    r = submit(
        web,
        "/filters",
        "/filters",
        title="Vegetables",
        keywords="sprouts\n\nkale",
        whole_word="on",
        context=["home", "public"],
        filter_action="hide",
        expires_in="",
    )
    assert r.status_code == 303, r.text
    home = web.get("/home").text
    assert "brussels sprouts" not in home and "the weather" in home
    page = web.get("/filters").text
    assert "Vegetables" in page and "<code>sprouts</code>" in page and "<code>kale</code>" in page
    filters = alice.get("/api/v2/filters").json()
    assert filters[0]["filter_action"] == "hide"
    assert sorted(filters[0]["context"]) == ["home", "public"]

    filter_id = re.search(r'action="/filters/(\d+)/delete"', page).group(1)  # type: ignore[union-attr]
    assert submit(web, "/filters", f"/filters/{filter_id}/delete").status_code == 303
    assert "brussels sprouts" in web.get("/home").text
    assert "No filters yet." in web.get("/filters").text


def test_warning_filter_with_expiry(client: TestClient) -> None:
    alice = make_user(client, "alice")
    web = browser(client)
    log_in(web, "alice@example.org", PASSWORD)
    r = submit(
        web,
        "/filters",
        "/filters",
        title="Spoilers",
        keywords="finale",
        context=["home"],
        filter_action="warn",
        expires_in="86400",
    )
    assert r.status_code == 303
    found = alice.get("/api/v2/filters").json()[0]
    assert found["filter_action"] == "warn" and found["expires_at"] is not None
    assert found["keywords"][0]["whole_word"] is False  # the box was left unchecked


def test_bad_filter_input_is_shown_again(client: TestClient) -> None:
    make_user(client, "alice")
    web = browser(client)
    log_in(web, "alice@example.org", PASSWORD)
    r = submit(web, "/filters", "/filters", title="Nothing", keywords="  ", context=["home"])
    assert r.status_code == 422 and "at least one keyword" in r.text
    assert 'value="Nothing"' in r.text  # the title typed is kept
    r = submit(
        web, "/filters", "/filters", title="No context", keywords="word", filter_action="hide"
    )
    assert r.status_code == 422 and 'role="alert"' in r.text
    r = submit(
        web,
        "/filters",
        "/filters",
        title="Bad",
        keywords="w",
        context=["home"],
        filter_action="blur2",
    )
    assert r.status_code == 422
    r = submit(
        web, "/filters", "/filters", title="", keywords="w", context=["home"], filter_action="hide"
    )
    assert r.status_code == 422 and "blank" in r.text
    assert submit(web, "/filters", "/filters/999/delete").status_code == 404
    assert client.get("/filters", follow_redirects=False).status_code == 303


def test_keywords_are_added_to_and_removed_from_a_filter(client: TestClient) -> None:
    alice, bob = make_user(client), make_user(client)
    assert alice.post(f"/api/v1/accounts/{bob.id}/follow").status_code == 200
    bob.status("Turnips again")
    made = alice.post(
        "/api/v2/filters",
        json={
            "title": "Roots",
            "context": ["home"],
            "filter_action": "hide",
            "keywords_attributes": [{"keyword": "carrots", "whole_word": True}],
        },
    ).json()
    web = browser(client)
    log_in(web, f"{alice.username}@example.org", PASSWORD)
    assert "Turnips again" in web.get("/home").text
    r = submit(
        web, "/filters", f"/filters/{made['id']}/keywords", keyword="turnips", whole_word="on"
    )
    assert r.status_code == 303, r.text
    assert "Turnips again" not in web.get("/home").text
    keywords = alice.get(f"/api/v2/filters/{made['id']}/keywords").json()
    assert sorted(k["keyword"] for k in keywords) == ["carrots", "turnips"]
    # An empty keyword is refused on the page, with a message; nothing is added.
    r = submit(web, "/filters", f"/filters/{made['id']}/keywords", keyword=" ")
    assert r.status_code == 422 and 'role="alert"' in r.text
    turnips = next(k for k in keywords if k["keyword"] == "turnips")
    r = submit(web, "/filters", f"/filters/keywords/{turnips['id']}/delete")
    assert r.status_code == 303
    assert "Turnips again" in web.get("/home").text
    # Someone else's filter or keyword: not found, nothing changed.
    other = browser(client)
    log_in(other, f"{bob.username}@example.org", PASSWORD)
    assert (
        submit(other, "/filters", f"/filters/{made['id']}/keywords", keyword="x").status_code == 404
    )
    [carrots] = alice.get(f"/api/v2/filters/{made['id']}/keywords").json()
    r = submit(other, "/filters", f"/filters/keywords/{carrots['id']}/delete")
    assert r.status_code == 404


def test_a_keyword_switches_between_whole_word_and_inside_words(client: TestClient) -> None:
    alice, bob = make_user(client), make_user(client)
    assert alice.post(f"/api/v1/accounts/{bob.id}/follow").status_code == 200
    bob.status("A category of things")
    made = alice.post(
        "/api/v2/filters",
        json={
            "title": "Cats",
            "context": ["home"],
            "filter_action": "hide",
            "keywords_attributes": [{"keyword": "cat", "whole_word": True}],
        },
    ).json()
    [cat] = made["keywords"]
    web = browser(client)
    log_in(web, f"{alice.username}@example.org", PASSWORD)
    assert "A category of things" in web.get("/home").text  # "cat" is not a whole word there
    assert "Match inside words too" in web.get("/filters").text

    action = f"/filters/keywords/{cat['id']}/whole_word"
    r = submit(web, "/filters", action)  # the box unchecked: inside words too
    assert r.status_code == 303 and r.headers["location"] == "/filters?saved=1"
    assert alice.get(f"/api/v2/filters/keywords/{cat['id']}").json()["whole_word"] is False
    assert "A category of things" not in web.get("/home").text
    page = web.get("/filters").text
    assert "also inside words" in page and "Match whole words only" in page

    assert submit(web, "/filters", action, whole_word="on").status_code == 303
    assert alice.get(f"/api/v2/filters/keywords/{cat['id']}").json()["whole_word"] is True
    assert "A category of things" in web.get("/home").text

    # Someone else's keyword, a bad id, no CSRF token: refused, nothing changed.
    other = browser(client)
    log_in(other, f"{bob.username}@example.org", PASSWORD)
    assert submit(other, "/filters", action).status_code == 404
    assert submit(web, "/filters", "/filters/keywords/abc/whole_word").status_code == 404
    assert web.post(action, data={}, follow_redirects=False).status_code == 403
    assert alice.get(f"/api/v2/filters/keywords/{cat['id']}").json()["whole_word"] is True


def test_filter_errors_come_back_in_place_with_htmx(client: TestClient) -> None:
    """hx-boost on the filters page: a refused keyword answers 200 to htmx (the page, with
    its message, swapped in) and 422 without JavaScript."""
    alice = make_user(client)
    made = alice.post(
        "/api/v2/filters",
        json={"title": "T", "context": ["home"], "keywords_attributes": [{"keyword": "k"}]},
    ).json()
    web = browser(client)
    log_in(web, f"{alice.username}@example.org", PASSWORD)
    page = web.get("/filters").text
    assert 'class="boosted" hx-boost="true"' in page
    token = re.search(r'name="csrf" value="([^"]+)"', page).group(1)  # type: ignore[union-attr]
    action = f"/filters/{made['id']}/keywords"
    r = web.post(
        action,
        data={"csrf": token, "keyword": " "},
        headers={"HX-Request": "true", "HX-Boosted": "true"},
    )
    assert r.status_code == 200 and 'role="alert"' in r.text
    r = web.post(action, data={"csrf": token, "keyword": " "})
    assert r.status_code == 422 and 'role="alert"' in r.text
