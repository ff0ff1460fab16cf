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
