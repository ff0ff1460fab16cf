"""Statuses through the real HTTP API: threads, boosts, favourites, bookmarks, pins, deletion,
idempotency, language, tag and public timelines, and home-timeline paging."""

from __future__ import annotations

from typing import Any

import pytest
from starlette.testclient import TestClient

from parvis.app import Parvis
from tests.builders import User, error_of, follow, ids, links, make_user
from tests.conftest import REDIS_URL, service_missing


def home(user: User, **params: Any) -> list[dict[str, Any]]:
    r = user.get("/api/v1/timelines/home", params=params)
    assert r.status_code == 200, r.text
    return list(r.json())


def account(client: TestClient, account_id: str) -> dict[str, Any]:
    r = client.get(f"/api/v1/accounts/{account_id}")
    assert r.status_code == 200, r.text
    return dict(r.json())


# --- replies and threads ---------------------------------------------------------------------


def test_replies_and_context_ordering(client: TestClient) -> None:
    a, b, c = make_user(client), make_user(client), make_user(client)
    root = a.status("root")
    r1 = b.status("first reply", in_reply_to_id=root["id"])
    r2 = c.status("second reply", in_reply_to_id=root["id"])
    r11 = a.status("reply to the first reply", in_reply_to_id=r1["id"])
    r111 = c.status("deeper still", in_reply_to_id=r11["id"])

    assert r1["in_reply_to_id"] == root["id"] and r1["in_reply_to_account_id"] == a.id
    assert a.username in [m["username"] for m in r1["mentions"]]  # the parent's author is addressed

    ctx = client.get(f"/api/v1/statuses/{root['id']}/context").json()
    assert ctx["ancestors"] == []
    # Depth first, oldest reply first.
    assert ids(ctx["descendants"]) == [r1["id"], r11["id"], r111["id"], r2["id"]]

    ctx = client.get(f"/api/v1/statuses/{r11['id']}/context").json()
    assert ids(ctx["ancestors"]) == [root["id"], r1["id"]]
    assert ids(ctx["descendants"]) == [r111["id"]]

    ctx = client.get(f"/api/v1/statuses/{r111['id']}/context").json()
    assert ids(ctx["ancestors"]) == [root["id"], r1["id"], r11["id"]]
    assert ctx["descendants"] == []

    assert client.get(f"/api/v1/statuses/{root['id']}").json()["replies_count"] == 2
    assert client.get(f"/api/v1/statuses/{r1['id']}").json()["replies_count"] == 1


def test_reply_to_followers_only_post_by_stranger_is_not_found(client: TestClient) -> None:
    author, follower, stranger = make_user(client), make_user(client), make_user(client)
    follow(follower, author)
    secret = author.status("followers only", visibility="private")

    r = stranger.post(
        "/api/v1/statuses", json={"status": "let me in", "in_reply_to_id": secret["id"]}
    )
    error_of(r, 404)
    assert account(client, stranger.id)["statuses_count"] == 0

    ok = follower.post(
        "/api/v1/statuses",
        json={"status": "hi", "in_reply_to_id": secret["id"], "visibility": "private"},
    )
    assert ok.status_code == 200, ok.text
    # The stranger cannot read the thread either.
    error_of(stranger.get(f"/api/v1/statuses/{secret['id']}/context"), 404)
    error_of(stranger.get(f"/api/v1/statuses/{ok.json()['id']}"), 404)


def test_cannot_reply_to_a_boost(client: TestClient) -> None:
    a, b = make_user(client), make_user(client)
    post = a.status("boost me")
    boost = b.post(f"/api/v1/statuses/{post['id']}/reblog").json()
    error_of(a.post("/api/v1/statuses", json={"status": "x", "in_reply_to_id": boost["id"]}), 422)


# --- boosts -----------------------------------------------------------------------------------


def test_boost_appears_in_followers_home_once(client: TestClient) -> None:
    author, booster, fan = make_user(client), make_user(client), make_user(client)
    follow(fan, booster)
    follow(author, booster)  # the author follows the booster too
    post = author.status("worth sharing")

    first = booster.post(f"/api/v1/statuses/{post['id']}/reblog")
    again = booster.post(f"/api/v1/statuses/{post['id']}/reblog")
    assert first.status_code == again.status_code == 200
    boost = first.json()
    assert again.json()["id"] == boost["id"]  # boosting twice is one boost
    assert boost["reblog"]["id"] == post["id"] and boost["reblog"]["reblogged"] is True
    assert boost["reblogged"] is True  # the boost mirrors the boosted status, as in Mastodon

    fan_home = home(fan)
    assert ids(fan_home) == [boost["id"]]
    assert fan_home[0]["reblog"]["id"] == post["id"]
    assert client.get(f"/api/v1/statuses/{post['id']}").json()["reblogs_count"] == 1
    assert account(client, booster.id)["statuses_count"] == 1
    # The author is not shown a boost of their own post.
    assert boost["id"] not in ids(home(author))
    by = client.get(f"/api/v1/statuses/{post['id']}/reblogged_by").json()
    assert [x["id"] for x in by] == [booster.id]


def test_post_reaching_home_through_author_and_booster_shows_once(client: TestClient) -> None:
    """Following both the author and someone who boosts the post: the post shows once, as
    Mastodon does (a boost of a post already near the top of the feed is not added)."""
    author, booster, fan = make_user(client), make_user(client), make_user(client)
    follow(fan, author)
    follow(fan, booster)
    post = author.status("seen twice?")
    booster.post(f"/api/v1/statuses/{post['id']}/reblog")
    shown = [s["reblog"]["id"] if s["reblog"] else s["id"] for s in home(fan)]
    assert shown.count(post["id"]) == 1, shown


def test_boost_of_private_post_refused(client: TestClient) -> None:
    author, follower = make_user(client), make_user(client)
    follow(follower, author)
    private = author.status("for my followers", visibility="private")
    direct = author.status(f"@{follower.username} just us", visibility="direct")

    error_of(follower.post(f"/api/v1/statuses/{private['id']}/reblog"), 403)
    error_of(follower.post(f"/api/v1/statuses/{direct['id']}/reblog"), 403)
    error_of(author.post(f"/api/v1/statuses/{direct['id']}/reblog"), 403)
    assert (
        client.get(f"/api/v1/statuses/{private['id']}", headers=author.headers).json()[
            "reblogs_count"
        ]
        == 0
    )
    assert account(client, follower.id)["statuses_count"] == 0

    own = author.post(f"/api/v1/statuses/{private['id']}/reblog")  # one's own: allowed, private
    assert own.status_code == 200, own.text
    assert own.json()["visibility"] == "private"

    public = author.status("public")
    error_of(
        follower.post(f"/api/v1/statuses/{public['id']}/reblog", json={"visibility": "direct"}), 422
    )


def test_unreblog(client: TestClient) -> None:
    author, booster, fan = make_user(client), make_user(client), make_user(client)
    follow(fan, booster)
    post = author.status("boost and take back")
    boost = booster.post(f"/api/v1/statuses/{post['id']}/reblog").json()
    assert ids(home(fan)) == [boost["id"]]

    r = booster.post(f"/api/v1/statuses/{post['id']}/unreblog")
    assert r.status_code == 200, r.text
    assert r.json()["id"] == post["id"]
    assert r.json()["reblogged"] is False and r.json()["reblogs_count"] == 0
    assert home(fan) == []
    error_of(client.get(f"/api/v1/statuses/{boost['id']}"), 404)
    assert account(client, booster.id)["statuses_count"] == 0
    again = booster.post(f"/api/v1/statuses/{post['id']}/unreblog")  # nothing to undo: fine
    assert again.status_code == 200 and again.json()["reblogs_count"] == 0


# --- favourites, bookmarks, pins ------------------------------------------------------------


def test_favourite_counts_and_favourited_by(client: TestClient) -> None:
    author, x, y = make_user(client), make_user(client), make_user(client)
    post = author.status("like me")
    r = x.post(f"/api/v1/statuses/{post['id']}/favourite")
    assert r.status_code == 200, r.text
    assert r.json()["favourited"] is True and r.json()["favourites_count"] == 1
    x.post(f"/api/v1/statuses/{post['id']}/favourite")  # twice counts once
    y.post(f"/api/v1/statuses/{post['id']}/favourite")
    assert client.get(f"/api/v1/statuses/{post['id']}").json()["favourites_count"] == 2
    by = client.get(f"/api/v1/statuses/{post['id']}/favourited_by").json()
    assert [a["id"] for a in by] == [y.id, x.id]
    assert ids(x.get("/api/v1/favourites").json()) == [post["id"]]

    r = x.post(f"/api/v1/statuses/{post['id']}/unfavourite")
    assert r.json()["favourited"] is False and r.json()["favourites_count"] == 1
    by = client.get(f"/api/v1/statuses/{post['id']}/favourited_by").json()
    assert [a["id"] for a in by] == [y.id]
    assert x.get("/api/v1/favourites").json() == []
    seen_by_y = y.get(f"/api/v1/statuses/{post['id']}").json()
    assert seen_by_y["favourited"] is True


def test_bookmarks_list(client: TestClient) -> None:
    author, reader = make_user(client), make_user(client)
    posts = [author.status(f"post {i}") for i in range(3)]
    for p in (posts[1], posts[0], posts[2]):
        r = reader.post(f"/api/v1/statuses/{p['id']}/bookmark")
        assert r.status_code == 200 and r.json()["bookmarked"] is True
    listed = reader.get("/api/v1/bookmarks")
    assert ids(listed.json()) == [posts[2]["id"], posts[0]["id"], posts[1]["id"]]  # newest mark
    page = reader.get("/api/v1/bookmarks", params={"limit": 2})
    assert ids(page.json()) == [posts[2]["id"], posts[0]["id"]]
    rest = reader.get(links(page)["next"])
    assert ids(rest.json()) == [posts[1]["id"]]

    r = reader.post(f"/api/v1/statuses/{posts[0]['id']}/unbookmark")
    assert r.json()["bookmarked"] is False
    assert ids(reader.get("/api/v1/bookmarks").json()) == [posts[2]["id"], posts[1]["id"]]
    assert author.get("/api/v1/bookmarks").json() == []  # bookmarks are private to each


def test_pin_and_unpin_at_most_five(client: TestClient) -> None:
    me, other = make_user(client), make_user(client)
    posts = [me.status(f"pin {i}") for i in range(6)]
    for p in posts[:5]:
        r = me.post(f"/api/v1/statuses/{p['id']}/pin")
        assert r.status_code == 200, r.text
        assert r.json()["pinned"] is True
    error_of(me.post(f"/api/v1/statuses/{posts[5]['id']}/pin"), 422)
    pinned = client.get(f"/api/v1/accounts/{me.id}/statuses", params={"pinned": "true"}).json()
    assert ids(pinned) == [p["id"] for p in reversed(posts[:5])]

    r = me.post(f"/api/v1/statuses/{posts[2]['id']}/unpin")
    assert r.status_code == 200 and r.json()["pinned"] is False
    assert me.post(f"/api/v1/statuses/{posts[5]['id']}/pin").status_code == 200
    pinned = client.get(f"/api/v1/accounts/{me.id}/statuses", params={"pinned": "true"}).json()
    assert posts[2]["id"] not in ids(pinned) and posts[5]["id"] in ids(pinned)

    theirs = other.status("not yours")
    error_of(me.post(f"/api/v1/statuses/{theirs['id']}/pin"), 422)
    private = me.status("private", visibility="private")
    error_of(me.post(f"/api/v1/statuses/{private['id']}/pin"), 422)


# --- deletion -------------------------------------------------------------------------------


def test_delete_removes_from_home_feeds_and_returns_text(client: TestClient) -> None:
    author, fan, booster, booster_fan = (make_user(client) for _ in range(4))
    follow(fan, author)
    follow(booster_fan, booster)
    source = "Delete me, #redraft https://example.org/x"
    post = author.status(source)
    keep = author.status("keep me")
    boost = booster.post(f"/api/v1/statuses/{post['id']}/reblog").json()
    assert post["id"] in ids(home(fan)) and boost["id"] in ids(home(booster_fan))
    assert account(client, author.id)["statuses_count"] == 2

    error_of(fan.delete(f"/api/v1/statuses/{post['id']}"), 403)
    r = author.delete(f"/api/v1/statuses/{post['id']}")
    assert r.status_code == 200, r.text
    assert r.json()["id"] == post["id"] and r.json()["text"] == source

    assert ids(home(fan)) == [keep["id"]]
    assert home(booster_fan) == []
    assert ids(home(author)) == [keep["id"]]
    error_of(client.get(f"/api/v1/statuses/{post['id']}"), 404)
    error_of(client.get(f"/api/v1/statuses/{boost['id']}"), 404)
    assert account(client, author.id)["statuses_count"] == 1
    assert account(client, booster.id)["statuses_count"] == 0
    error_of(author.delete(f"/api/v1/statuses/{post['id']}"), 404)


def test_delete_reply_lowers_the_parent_reply_count(client: TestClient) -> None:
    a, b = make_user(client), make_user(client)
    root = a.status("root")
    reply = b.status("reply", in_reply_to_id=root["id"])
    assert client.get(f"/api/v1/statuses/{root['id']}").json()["replies_count"] == 1
    assert b.delete(f"/api/v1/statuses/{reply['id']}").status_code == 200
    assert client.get(f"/api/v1/statuses/{root['id']}").json()["replies_count"] == 0
    assert client.get(f"/api/v1/statuses/{root['id']}/context").json()["descendants"] == []


# --- idempotency, language --------------------------------------------------------------------


def test_idempotency_key_returns_the_same_status(client: TestClient) -> None:
    me, other = make_user(client), make_user(client)

    def post(user: User, text: str, key: str) -> Any:
        return client.post(
            "/api/v1/statuses",
            json={"status": text},
            headers={**user.headers, "Idempotency-Key": key},
        )

    first = post(me, "only once", "0f3e9c1a-retry")
    second = post(me, "only once", "0f3e9c1a-retry")
    assert first.status_code == second.status_code == 200
    assert first.json()["id"] == second.json()["id"]
    assert account(client, me.id)["statuses_count"] == 1
    assert ids(client.get(f"/api/v1/accounts/{me.id}/statuses").json()) == [first.json()["id"]]

    theirs = post(other, "only once", "0f3e9c1a-retry")  # keys are per account
    assert theirs.status_code == 200 and theirs.json()["id"] != first.json()["id"]
    fresh = post(me, "another", "another-key")
    assert fresh.status_code == 200 and fresh.json()["id"] != first.json()["id"]
    assert account(client, me.id)["statuses_count"] == 2


def test_language_is_detected_or_taken_as_given(client: TestClient) -> None:
    me = make_user(client)
    fr = me.status("Bonjour tout le monde, comment allez-vous aujourd'hui ?")
    assert fr["language"] == "fr"
    en = me.status("The quick brown fox jumps over the lazy dog near the river bank.")
    assert en["language"] == "en"
    given = me.status("Bonjour tout le monde, comment allez-vous aujourd'hui ?", language="DE")
    assert given["language"] == "de"
    assert me.status("ok")["language"] is None  # too short to tell
    error_of(me.post("/api/v1/statuses", json={"status": "x", "language": "english"}), 422)


# --- tag and public timelines -----------------------------------------------------------------


def test_hashtag_timeline(client: TestClient) -> None:
    a, b = make_user(client), make_user(client)
    public = a.status("Hello #Parvis")
    other = b.status("me too #parvis and #Other")
    a.status("quiet #parvis", visibility="unlisted")
    a.status("secret #parvis", visibility="private")
    a.status("no tag here")
    b.post(f"/api/v1/statuses/{public['id']}/reblog")
    for name in ("parvis", "Parvis", "PARVIS", "%23parvis"):
        got = client.get(f"/api/v1/timelines/tag/{name}")
        assert got.status_code == 200, got.text
        assert ids(got.json()) == [other["id"], public["id"]], name
    assert ids(a.get("/api/v1/timelines/tag/other").json()) == [other["id"]]
    assert client.get("/api/v1/timelines/tag/nothing_here").json() == []
    assert public["tags"] == [{"name": "parvis", "url": "https://parvis.test/tags/parvis"}]


def test_public_local_timeline_excludes_unlisted(client: TestClient) -> None:
    a, b = make_user(client), make_user(client)
    follow(b, a)
    public = a.status("for everyone")
    a.status("unlisted", visibility="unlisted")
    a.status("followers", visibility="private")
    a.status(f"@{b.username} direct", visibility="direct")
    b.post(f"/api/v1/statuses/{public['id']}/reblog")
    for params in ({"local": "true"}, {}):
        assert ids(client.get("/api/v1/timelines/public", params=params).json()) == [public["id"]]
        assert ids(b.get("/api/v1/timelines/public", params=params).json()) == [public["id"]]
    assert client.get("/api/v1/timelines/public", params={"remote": "true"}).json() == []


# --- home timeline paging ---------------------------------------------------------------------


def test_home_timeline_paging(client: TestClient) -> None:
    reader, author = make_user(client), make_user(client)
    follow(reader, author)
    posted = [author.status(f"number {i}")["id"] for i in range(7)]
    newest_first = posted[::-1]

    first = reader.get("/api/v1/timelines/home", params={"limit": 3})
    assert ids(first.json()) == newest_first[:3]
    nav = links(first)
    assert set(nav) == {"next", "prev"}
    assert f"max_id={newest_first[2]}" in nav["next"] and "limit=3" in nav["next"]
    assert f"min_id={newest_first[0]}" in nav["prev"]

    second = reader.get(nav["next"])
    assert ids(second.json()) == newest_first[3:6]
    third = reader.get(links(second)["next"])
    assert ids(third.json()) == newest_first[6:]
    end = reader.get(links(third)["next"])
    assert end.json() == [] and "link" not in end.headers
    assert reader.get(links(first)["prev"]).json() == []  # nothing newer than the top

    back = reader.get(links(second)["prev"])  # min_id: the page just above, newest first
    assert ids(back.json()) == newest_first[:3]

    since = home(reader, since_id=posted[2], limit=2)  # the newest ones above since_id
    assert ids(since) == [posted[6], posted[5]]
    above = home(reader, min_id=posted[2], limit=2)  # the ones just above min_id
    assert ids(above) == [posted[4], posted[3]]
    window = home(reader, max_id=posted[5], since_id=posted[1])
    assert ids(window) == [posted[4], posted[3], posted[2]]
    assert ids(home(reader, limit=100)) == newest_first  # limits are capped, not refused


@pytest.mark.redis
@pytest.mark.parametrize(
    "parvis", [{"redis_url": REDIS_URL or "redis://127.0.0.1:1/0"}], indirect=True
)
def test_home_timeline_on_redis_feeds(client: TestClient, parvis: Parvis) -> None:
    """The same home timeline when feeds live in Redis: fan-out, paging, deletion, unfollow."""
    if not REDIS_URL:
        service_missing("Redis", "PARVIS_TEST_REDIS_URL")
    import redis

    reader, author, other = make_user(client), make_user(client), make_user(client)
    keys = [f"parvis:feed:{u.id}" for u in (reader, author, other)]
    try:
        follow(reader, author)
        follow(reader, other)
        posted = [author.status(f"redis {i}")["id"] for i in range(5)]
        theirs = other.status("from the other one")["id"]
        newest_first = [theirs, *posted[::-1]]
        store = redis.Redis.from_url(REDIS_URL)
        assert store.zcard(keys[0]) == 6  # the feed really is in Redis
        store.close()
        first = reader.get("/api/v1/timelines/home", params={"limit": 2})
        assert ids(first.json()) == newest_first[:2]
        second = reader.get(links(first)["next"])
        assert ids(second.json()) == newest_first[2:4]
        assert ids(home(reader, min_id=posted[1], limit=2)) == [posted[3], posted[2]]

        assert author.delete(f"/api/v1/statuses/{posted[2]}").status_code == 200
        assert posted[2] not in ids(home(reader))
        assert len(home(reader, limit=40)) == 5
        reader.post(f"/api/v1/accounts/{author.id}/unfollow")
        assert ids(home(reader)) == [theirs]
        assert ids(home(author)) == [p for p in posted[::-1] if p != posted[2]]
    finally:
        client_ = redis.Redis.from_url(REDIS_URL)
        client_.delete(*keys)
        client_.close()


def test_hashtag_urls_are_percent_encoded(client: TestClient) -> None:
    """Non-ASCII hashtags link to valid URIs, in the tags list and in the rendered HTML."""
    alice = make_user(client)
    posted = alice.status("Un #Café pour le #Fédivers")
    urls = {t["name"]: t["url"] for t in posted["tags"]}
    assert urls == {
        "café": "https://parvis.test/tags/caf%C3%A9",
        "fédivers": "https://parvis.test/tags/f%C3%A9divers",
    }
    assert 'href="https://parvis.test/tags/caf%C3%A9"' in posted["content"]
    assert all(url.isascii() for url in urls.values())
