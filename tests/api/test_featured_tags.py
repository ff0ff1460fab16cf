"""Featured hashtags through the real HTTP API: feature / list / unfeature, the limit of 10,
counts and dates from the account's own statuses, suggestions, another account's featured
tags, and Mastodon 4.4's /api/v1/tags/{name}/feature with `featuring` on the tag."""

from __future__ import annotations

import re
from datetime import UTC, datetime

from starlette.testclient import TestClient

from tests.builders import error_of, make_user, ok

DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")


def test_feature_list_unfeature(client: TestClient) -> None:
    me = make_user(client, "alice")
    assert ok(me.get("/api/v1/featured_tags")) == []
    foo = ok(me.post("/api/v1/featured_tags", data={"name": "foo"}))
    assert foo["name"] == "foo" and foo["id"]
    assert foo["statuses_count"] == "0" and foo["last_status_at"] is None
    assert foo["url"] == "https://parvis.test/@alice/tagged/foo"
    bar = ok(me.post("/api/v1/featured_tags", json={"name": "#Bar"}))
    assert bar["name"] == "Bar"
    # Featuring the same tag again (any case) gives the existing one back.
    assert ok(me.post("/api/v1/featured_tags", json={"name": "FOO"}))["id"] == foo["id"]
    listed = ok(me.get("/api/v1/featured_tags"))
    assert sorted(t["name"] for t in listed) == ["Bar", "foo"]

    assert ok(me.delete(f"/api/v1/featured_tags/{foo['id']}")) == {}
    assert [t["name"] for t in ok(me.get("/api/v1/featured_tags"))] == ["Bar"]
    error_of(me.delete(f"/api/v1/featured_tags/{foo['id']}"), 404)  # gone already
    # Someone else's featured tag is not found for me.
    other = make_user(client)
    error_of(other.delete(f"/api/v1/featured_tags/{bar['id']}"), 404)
    assert [t["name"] for t in ok(me.get("/api/v1/featured_tags"))] == ["Bar"]


def test_counts_come_from_public_and_unlisted_statuses(client: TestClient) -> None:
    me, other = make_user(client), make_user(client)
    me.status("hello #cats")
    me.status("more #Cats and #dogs", visibility="unlisted")
    me.status("secret #cats", visibility="private")
    other.status("not mine #cats")
    ok(me.post("/api/v1/featured_tags", json={"name": "dogs"}))
    ok(me.post("/api/v1/featured_tags", json={"name": "cats"}))
    ok(me.post("/api/v1/featured_tags", json={"name": "birds"}))
    listed = ok(me.get("/api/v1/featured_tags"))
    # Most used first, as Mastodon orders them.
    assert [(t["name"], t["statuses_count"]) for t in listed] == [
        ("cats", "2"),
        ("dogs", "1"),
        ("birds", "0"),
    ]
    today = datetime.now(UTC).date()
    assert DATE.match(listed[0]["last_status_at"])
    assert abs((datetime.fromisoformat(listed[0]["last_status_at"]).date() - today).days) <= 1
    assert listed[2]["last_status_at"] is None


def test_limit_of_ten_and_bad_names(client: TestClient) -> None:
    me = make_user(client)
    for i in range(10):
        ok(me.post("/api/v1/featured_tags", json={"name": f"tag{i}"}))
    message = error_of(me.post("/api/v1/featured_tags", json={"name": "eleventh"}), 422)
    assert "maximum number of hashtags" in message
    # The same tag again is not a new one: still fine at the limit.
    ok(me.post("/api/v1/featured_tags", json={"name": "tag3"}))
    error_of(me.post("/api/v1/tags/eleventh/feature"), 422)
    assert len(ok(me.get("/api/v1/featured_tags"))) == 10

    other = make_user(client)
    for bad in ({}, {"name": ""}, {"name": "  "}, {"name": "a b"}, {"name": "2024"}):
        error_of(other.post("/api/v1/featured_tags", json=bad), 422)
    error_of(other.post("/api/v1/featured_tags", json={"name": "x" * 2000}), 422)
    error_of(other.post("/api/v1/featured_tags", json={"name": "ß" * 200}), 422)  # "ss" * 200
    error_of(other.post("/api/v1/tags/" + "x" * 300 + "/feature"), 422)
    error_of(other.post("/api/v1/featured_tags", json={"name": ["a"]}), 422)
    error_of(other.delete("/api/v1/featured_tags/nope"), 404)
    error_of(other.delete("/api/v1/featured_tags/999999"), 404)
    assert ok(other.get("/api/v1/featured_tags")) == []


def test_authorization(client: TestClient) -> None:
    me = make_user(client)
    error_of(client.get("/api/v1/featured_tags"), 401)
    error_of(client.post("/api/v1/featured_tags", json={"name": "foo"}), 401)
    error_of(client.get("/api/v1/featured_tags/suggestions"), 401)
    error_of(client.post("/api/v1/tags/foo/feature"), 401)
    error_of(client.delete("/api/v1/featured_tags/1"), 401)
    # Anyone sees an account's featured tags, without a token too.
    ok(me.post("/api/v1/featured_tags", json={"name": "foo"}))
    assert [t["name"] for t in ok(client.get(f"/api/v1/accounts/{me.id}/featured_tags"))] == ["foo"]


def test_account_featured_tags(client: TestClient) -> None:
    me, viewer = make_user(client, "bob"), make_user(client)
    me.status("#python rocks")
    ok(me.post("/api/v1/featured_tags", json={"name": "Python"}))
    got = ok(viewer.get(f"/api/v1/accounts/{me.id}/featured_tags"))
    assert len(got) == 1
    assert set(got[0]) == {"id", "name", "url", "statuses_count", "last_status_at"}
    assert (got[0]["name"], got[0]["statuses_count"]) == ("Python", "1")
    assert got[0]["url"] == "https://parvis.test/@bob/tagged/python"
    assert ok(viewer.get(f"/api/v1/accounts/{viewer.id}/featured_tags")) == []
    error_of(viewer.get("/api/v1/accounts/999999/featured_tags"), 404)
    error_of(viewer.get("/api/v1/accounts/nope/featured_tags"), 404)
    # The account itself still answers as before (no route shadows the other).
    assert ok(viewer.get(f"/api/v1/accounts/{me.id}"))["username"] == "bob"


def test_suggestions_are_my_most_used_tags(client: TestClient) -> None:
    me, other = make_user(client), make_user(client)
    assert ok(me.get("/api/v1/featured_tags/suggestions")) == []
    me.status("#rust")
    for _ in range(3):
        me.status("#Python and #rust")
    me.status("#python once more")
    me.status("#go")
    other.status("#elixir #elixir2")
    got = ok(me.get("/api/v1/featured_tags/suggestions"))
    assert [t["name"] for t in got] == ["Python", "rust", "go"]
    assert all(t["featuring"] is False and t["following"] is False for t in got)
    assert all(t["history"] == [] and t["url"].startswith("https://") for t in got)
    # Featured ones are no longer suggested.
    ok(me.post("/api/v1/featured_tags", json={"name": "python"}))
    assert [t["name"] for t in ok(me.get("/api/v1/featured_tags/suggestions"))] == ["rust", "go"]


def test_tags_feature_and_unfeature(client: TestClient) -> None:
    me = make_user(client)
    tag = ok(me.get("/api/v1/tags/Gardening"))
    assert tag["featuring"] is False and tag["following"] is False
    assert "featuring" not in ok(client.get("/api/v1/tags/Gardening"))  # no viewer, no flag
    tag = ok(me.post("/api/v1/tags/Gardening/feature"))
    assert (tag["name"], tag["featuring"], tag["following"]) == ("Gardening", True, False)
    assert tag["id"]
    assert ok(me.get("/api/v1/tags/gardening"))["featuring"] is True
    assert [t["name"] for t in ok(me.get("/api/v1/featured_tags"))] == ["Gardening"]
    ok(me.post("/api/v1/tags/gardening/feature"))  # again: still one
    assert len(ok(me.get("/api/v1/featured_tags"))) == 1

    ok(me.post("/api/v1/tags/gardening/follow"))
    tag = ok(me.post("/api/v1/tags/gardening/unfeature"))
    assert (tag["featuring"], tag["following"]) == (False, True)
    assert ok(me.get("/api/v1/featured_tags")) == []
    assert ok(me.post("/api/v1/tags/neverused/unfeature"))["featuring"] is False
    error_of(me.post("/api/v1/tags/2024/feature"), 404)
    error_of(me.post("/api/v1/tags/a%20b/unfeature"), 404)
    assert ok(make_user(client).get("/api/v1/tags/gardening"))["featuring"] is False
