"""Followed hashtags through the real HTTP API: follow/unfollow, the paged list, `following`
on the tag, and public posts with a followed tag arriving in the home feed."""

from __future__ import annotations

from starlette.testclient import TestClient

from tests.builders import error_of, home_ids, links, make_user, ok


def test_follow_unfollow_and_list(client: TestClient) -> None:
    me = make_user(client)
    assert ok(me.get("/api/v1/tags/Python"))["following"] is False
    assert "following" not in ok(client.get("/api/v1/tags/Python"))
    tag = ok(me.post("/api/v1/tags/Python/follow"))
    assert (tag["name"], tag["following"]) == ("Python", True)
    assert tag["id"]
    ok(me.post("/api/v1/tags/python/follow"))  # the same tag, once
    ok(me.post("/api/v1/tags/rust/follow"))
    ok(me.post("/api/v1/tags/%23go/follow"))
    assert ok(me.get("/api/v1/tags/python"))["following"] is True
    listed = [t["name"] for t in ok(me.get("/api/v1/followed_tags"))]
    assert listed == ["go", "rust", "Python"]
    r = me.get("/api/v1/followed_tags", params={"limit": 2})
    assert [t["name"] for t in ok(r)] == ["go", "rust"]
    assert [t["name"] for t in ok(client.get(links(r)["next"], headers=me.headers))] == ["Python"]

    untag = ok(me.post("/api/v1/tags/rust/unfollow"))
    assert untag["following"] is False
    ok(me.post("/api/v1/tags/neverused/unfollow"))  # nothing to undo
    assert [t["name"] for t in ok(me.get("/api/v1/followed_tags"))] == ["go", "Python"]
    assert ok(make_user(client).get("/api/v1/followed_tags")) == []


def test_bad_tags(client: TestClient) -> None:
    me = make_user(client)
    error_of(me.post("/api/v1/tags/2024/follow"), 404)
    error_of(me.post("/api/v1/tags/a%20b/follow"), 404)
    error_of(client.post("/api/v1/tags/python/follow"), 401)
    assert ok(me.get("/api/v1/followed_tags")) == []


def test_followed_tag_posts_reach_home(client: TestClient) -> None:
    me, author, blocker = make_user(client), make_user(client), make_user(client)
    ok(me.post("/api/v1/tags/cats/follow"))
    ok(blocker.post("/api/v1/tags/cats/follow"))
    ok(blocker.post(f"/api/v1/accounts/{author.id}/block"))
    tagged = author.status("look at my #Cats")
    author.status("no tag here")
    unlisted = author.status("quiet #cats", visibility="unlisted")
    private = author.status("secret #cats", visibility="private")
    got = home_ids(me)
    assert got == [tagged["id"]]
    assert unlisted["id"] not in got and private["id"] not in got
    assert home_ids(blocker) == []
