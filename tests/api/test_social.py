"""The social graph through the real HTTP API: follows and their counters, locked accounts and
follow requests, follower lists, blocks, mutes (with expiry on the runtime clock) and the
relationships endpoint."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from starlette.testclient import TestClient

from parvis.app import Parvis
from tests.builders import User, error_of, home_ids, ids, links, make_user, ok


def account(client: TestClient, account_id: str) -> dict[str, Any]:
    r = client.get(f"/api/v1/accounts/{account_id}")
    assert r.status_code == 200, r.text
    return dict(r.json())


def counts(client: TestClient, user: User) -> tuple[int, int]:
    a = account(client, user.id)
    return a["followers_count"], a["following_count"]


def relationship(user: User, other: User) -> dict[str, Any]:
    r = user.get("/api/v1/accounts/relationships", params={"id[]": other.id})
    assert r.status_code == 200, r.text
    (rel,) = r.json()
    return dict(rel)


def ok_list(r: Any) -> list[dict[str, Any]]:
    assert r.status_code == 200, r.text
    return list(r.json())


# --- follow / unfollow ------------------------------------------------------------------------


def test_follow_and_unfollow_move_the_counters(client: TestClient) -> None:
    a, b = make_user(client), make_user(client)
    rel = ok(a.post(f"/api/v1/accounts/{b.id}/follow"))
    assert (rel["id"], rel["following"], rel["requested"], rel["showing_reblogs"]) == (
        b.id,
        True,
        False,
        True,
    )
    assert counts(client, a) == (0, 1) and counts(client, b) == (1, 0)
    ok(a.post(f"/api/v1/accounts/{b.id}/follow"))  # again: no double count
    assert counts(client, a) == (0, 1) and counts(client, b) == (1, 0)
    assert relationship(b, a)["followed_by"] is True

    rel = ok(a.post(f"/api/v1/accounts/{b.id}/unfollow"))
    assert rel["following"] is False
    ok(a.post(f"/api/v1/accounts/{b.id}/unfollow"))  # again: nothing to undo
    assert counts(client, a) == (0, 0) and counts(client, b) == (0, 0)


def test_follow_brings_recent_posts_and_unfollow_takes_them_away(client: TestClient) -> None:
    a, b = make_user(client), make_user(client)
    earlier = b.status("before the follow")
    ok(a.post(f"/api/v1/accounts/{b.id}/follow"))
    assert home_ids(a) == [earlier["id"]]
    later = b.status("after the follow")
    assert home_ids(a) == [later["id"], earlier["id"]]
    ok(a.post(f"/api/v1/accounts/{b.id}/unfollow"))
    assert home_ids(a) == []


def test_follow_refusals(client: TestClient) -> None:
    a = make_user(client)
    error_of(a.post(f"/api/v1/accounts/{a.id}/follow"), 403)
    error_of(a.post("/api/v1/accounts/1234567/follow"), 404)
    error_of(a.post("/api/v1/accounts/not-an-id/follow"), 404)
    assert counts(client, a) == (0, 0)


def test_follow_without_reblogs_hides_their_boosts(client: TestClient) -> None:
    reader, friend, author = make_user(client), make_user(client), make_user(client)
    rel = ok(reader.post(f"/api/v1/accounts/{friend.id}/follow", json={"reblogs": False}))
    assert rel["showing_reblogs"] is False
    post = author.status("boost me")
    friend.post(f"/api/v1/statuses/{post['id']}/reblog")
    own = friend.status("my own words")
    assert home_ids(reader) == [own["id"]]
    rel = ok(
        reader.post(
            f"/api/v1/accounts/{friend.id}/follow", data={"reblogs": "true", "notify": "true"}
        )
    )
    assert rel["showing_reblogs"] is True and rel["notifying"] is True
    assert counts(client, friend) == (1, 0)


# --- locked accounts --------------------------------------------------------------------------


def test_locked_account_request_then_authorize(client: TestClient) -> None:
    owner = make_user(client, locked=True)
    fan = make_user(client)
    owner_post = owner.status("for approved followers only", visibility="private")

    rel = ok(fan.post(f"/api/v1/accounts/{owner.id}/follow"))
    assert (rel["following"], rel["requested"]) == (False, True)
    assert counts(client, owner) == (0, 0) and counts(client, fan) == (0, 0)
    assert relationship(owner, fan)["requested_by"] is True
    assert ids(ok_list(owner.get("/api/v1/follow_requests"))) == [fan.id]
    assert (
        ok(owner.get("/api/v1/accounts/verify_credentials"))["source"]["follow_requests_count"] == 1
    )
    error_of(fan.get(f"/api/v1/statuses/{owner_post['id']}"), 404)
    assert home_ids(fan) == []

    rel = ok(owner.post(f"/api/v1/follow_requests/{fan.id}/authorize"))
    assert rel["followed_by"] is True and rel["requested_by"] is False
    assert counts(client, owner) == (1, 0) and counts(client, fan) == (0, 1)
    assert ok_list(owner.get("/api/v1/follow_requests")) == []
    assert relationship(fan, owner)["following"] is True
    assert ok(fan.get(f"/api/v1/statuses/{owner_post['id']}"))["id"] == owner_post["id"]
    assert home_ids(fan) == [owner_post["id"]]
    error_of(owner.post(f"/api/v1/follow_requests/{fan.id}/authorize"), 404)  # already done


def test_locked_account_reject(client: TestClient) -> None:
    owner = make_user(client, locked=True)
    fan = make_user(client)
    ok(fan.post(f"/api/v1/accounts/{owner.id}/follow"))
    rel = ok(owner.post(f"/api/v1/follow_requests/{fan.id}/reject"))
    assert rel["requested_by"] is False and rel["followed_by"] is False
    assert relationship(fan, owner)["requested"] is False
    assert counts(client, owner) == (0, 0)
    error_of(owner.post(f"/api/v1/follow_requests/{fan.id}/reject"), 404)
    # Withdrawing a request: unfollow while it is pending.
    ok(fan.post(f"/api/v1/accounts/{owner.id}/follow"))
    ok(fan.post(f"/api/v1/accounts/{owner.id}/unfollow"))
    assert ok_list(owner.get("/api/v1/follow_requests")) == []


# --- followers / following lists ------------------------------------------------------------


def test_followers_and_following_lists_with_paging(client: TestClient) -> None:
    star = make_user(client)
    fans = [make_user(client) for _ in range(5)]
    for fan in fans:
        ok(fan.post(f"/api/v1/accounts/{star.id}/follow"))
    newest_first = [f.id for f in reversed(fans)]

    everyone = client.get(f"/api/v1/accounts/{star.id}/followers")
    assert ids(everyone.json()) == newest_first
    seen: list[str] = []
    r = client.get(f"/api/v1/accounts/{star.id}/followers", params={"limit": 2})
    pages = 0
    while r.json():
        pages += 1
        assert len(r.json()) <= 2
        seen += ids(r.json())
        r = client.get(links(r)["next"])
    assert pages == 3 and seen == newest_first

    first = client.get(f"/api/v1/accounts/{star.id}/followers", params={"limit": 2})
    second = client.get(links(first)["next"])
    back = client.get(links(second)["prev"])
    assert ids(back.json()) == ids(first.json())  # min_id pages come back newest first

    assert ids(client.get(f"/api/v1/accounts/{fans[0].id}/following").json()) == [star.id]
    assert client.get(f"/api/v1/accounts/{star.id}/following").json() == []

    star.patch("/api/v1/accounts/update_credentials", data={"hide_collections": "true"})
    assert client.get(f"/api/v1/accounts/{star.id}/followers").json() == []
    assert ids(star.get(f"/api/v1/accounts/{star.id}/followers").json()) == newest_first


def test_remove_from_followers(client: TestClient) -> None:
    me, fan = make_user(client), make_user(client)
    ok(fan.post(f"/api/v1/accounts/{me.id}/follow"))
    post = me.status("hello fans")
    assert home_ids(fan) == [post["id"]]
    rel = ok(me.post(f"/api/v1/accounts/{fan.id}/remove_from_followers"))
    assert rel["followed_by"] is False
    assert counts(client, me) == (0, 0) and counts(client, fan) == (0, 0)
    assert home_ids(fan) == []


# --- blocks -------------------------------------------------------------------------------------


def test_block_removes_follows_both_ways_and_hides_posts_both_ways(client: TestClient) -> None:
    a, b = make_user(client), make_user(client)
    ok(a.post(f"/api/v1/accounts/{b.id}/follow"))
    ok(b.post(f"/api/v1/accounts/{a.id}/follow"))
    a_post, b_post = a.status("from a"), b.status("from b")
    assert b_post["id"] in home_ids(a) and a_post["id"] in home_ids(b)

    rel = ok(a.post(f"/api/v1/accounts/{b.id}/block"))
    assert (rel["blocking"], rel["following"], rel["followed_by"]) == (True, False, False)
    assert relationship(b, a)["blocked_by"] is True
    assert counts(client, a) == (0, 0) and counts(client, b) == (0, 0)
    assert ids(ok_list(a.get("/api/v1/blocks"))) == [b.id]

    for viewer, post, author in ((a, b_post, b), (b, a_post, a)):
        error_of(viewer.get(f"/api/v1/statuses/{post['id']}"), 404)
        error_of(viewer.get(f"/api/v1/statuses/{post['id']}/context"), 404)
        assert post["id"] not in home_ids(viewer)
        assert ok_list(viewer.get(f"/api/v1/accounts/{author.id}/statuses")) == []
        assert post["id"] not in ids(ok_list(viewer.get("/api/v1/timelines/public")))
        error_of(viewer.post(f"/api/v1/statuses/{post['id']}/favourite"), 404)
        error_of(
            viewer.post("/api/v1/statuses", json={"status": "hey", "in_reply_to_id": post["id"]}),
            404,
        )
        error_of(viewer.post(f"/api/v1/accounts/{author.id}/follow"), 403)

    # Anonymous readers still see both.
    public = ids(client.get("/api/v1/timelines/public").json())
    assert a_post["id"] in public and b_post["id"] in public

    ok(a.post(f"/api/v1/accounts/{b.id}/unblock"))
    assert ok(b.get(f"/api/v1/statuses/{a_post['id']}"))["id"] == a_post["id"]
    assert relationship(a, b)["following"] is False  # unblocking does not restore follows
    assert ok_list(a.get("/api/v1/blocks")) == []


def test_block_hides_boosts_and_replies_of_the_blocked(client: TestClient) -> None:
    me, blocked, friend = make_user(client), make_user(client), make_user(client)
    ok(me.post(f"/api/v1/accounts/{friend.id}/follow"))
    theirs = blocked.status("from the blocked one")
    root = friend.status("a thread")
    reply = blocked.status("butting in", in_reply_to_id=root["id"])
    boost = friend.post(f"/api/v1/statuses/{theirs['id']}/reblog").json()
    assert boost["id"] in home_ids(me)

    ok(me.post(f"/api/v1/accounts/{blocked.id}/block"))
    assert boost["id"] not in home_ids(me)
    assert boost["id"] not in ids(ok_list(me.get(f"/api/v1/accounts/{friend.id}/statuses")))
    error_of(me.get(f"/api/v1/statuses/{boost['id']}"), 404)
    context = ok(me.get(f"/api/v1/statuses/{root['id']}/context"))
    assert reply["id"] not in ids(context["descendants"])


def test_block_hides_notifications_from_the_blocked_both_ways(client: TestClient) -> None:
    """After a block, neither side is shown notifications from the other (Mastodon clears the
    blocker's; a block here hides content in both directions)."""
    me, blocked, blocker = make_user(client), make_user(client), make_user(client)
    mine = me.status("notice me")
    for other in (blocked, blocker):
        ok(other.post(f"/api/v1/accounts/{me.id}/follow"))
        ok(other.post(f"/api/v1/statuses/{mine['id']}/favourite"))
        ok(other.post(f"/api/v1/statuses/{mine['id']}/reblog"))

    def senders() -> dict[str, set[str]]:
        out: dict[str, set[str]] = {}
        for n in ok_list(me.get("/api/v1/notifications")):
            out.setdefault(n["account"]["id"], set()).add(n["type"])
        return out

    assert senders() == {
        blocked.id: {"follow", "favourite", "reblog"},
        blocker.id: {"follow", "favourite", "reblog"},
    }
    ok(me.post(f"/api/v1/accounts/{blocked.id}/block"))
    ok(blocker.post(f"/api/v1/accounts/{me.id}/block"))
    assert senders() == {}


# --- mutes --------------------------------------------------------------------------------------


def test_mute_hides_from_home_and_public_but_not_from_profile(client: TestClient) -> None:
    me, loud = make_user(client), make_user(client)
    ok(me.post(f"/api/v1/accounts/{loud.id}/follow"))
    post = loud.status("so much to say")
    assert home_ids(me) == [post["id"]]

    rel = ok(me.post(f"/api/v1/accounts/{loud.id}/mute"))
    assert (rel["muting"], rel["muting_notifications"], rel["following"]) == (True, True, True)
    assert home_ids(me) == []
    assert post["id"] not in ids(ok_list(me.get("/api/v1/timelines/public")))
    assert ids(ok_list(me.get(f"/api/v1/accounts/{loud.id}/statuses"))) == [post["id"]]
    assert ok(me.get(f"/api/v1/statuses/{post['id']}"))["id"] == post["id"]
    assert ids(ok_list(me.get("/api/v1/mutes"))) == [loud.id]
    assert relationship(loud, me)["muting"] is False  # a mute is one-way and private

    ok(me.post(f"/api/v1/accounts/{loud.id}/unmute"))
    assert home_ids(me) == [post["id"]]
    rel = ok(me.post(f"/api/v1/accounts/{loud.id}/mute", json={"notifications": False}))
    assert (rel["muting"], rel["muting_notifications"]) == (True, False)


def test_mute_with_duration_expires(client: TestClient, parvis: Parvis) -> None:
    me, loud = make_user(client), make_user(client)
    ok(me.post(f"/api/v1/accounts/{loud.id}/follow"))
    post = loud.status("temporary noise")
    start = datetime.now(UTC)
    parvis.runtime.clock = lambda: start
    rel = ok(me.post(f"/api/v1/accounts/{loud.id}/mute", json={"duration": 60}))
    assert rel["muting"] is True
    assert home_ids(me) == []

    parvis.runtime.clock = lambda: start + timedelta(seconds=59)
    assert home_ids(me) == []
    assert relationship(me, loud)["muting"] is True

    parvis.runtime.clock = lambda: start + timedelta(seconds=61)
    assert home_ids(me) == [post["id"]]
    assert relationship(me, loud)["muting"] is False
    assert post["id"] in ids(ok_list(me.get("/api/v1/timelines/public")))

    error_of(me.post(f"/api/v1/accounts/{loud.id}/mute", json={"duration": -1}), 422)
    error_of(me.post(f"/api/v1/accounts/{loud.id}/mute", data={"duration": "soon"}), 422)


# --- relationships ----------------------------------------------------------------------------


def test_relationships_endpoint(client: TestClient) -> None:
    me = make_user(client)
    followed, follower, blocked, muted = (make_user(client) for _ in range(4))
    locked = make_user(client, locked=True)
    ok(me.post(f"/api/v1/accounts/{followed.id}/follow", json={"notify": True}))
    ok(follower.post(f"/api/v1/accounts/{me.id}/follow"))
    ok(me.post(f"/api/v1/accounts/{blocked.id}/block"))
    ok(me.post(f"/api/v1/accounts/{muted.id}/mute", json={"notifications": False}))
    ok(me.post(f"/api/v1/accounts/{locked.id}/follow"))

    wanted = [followed, follower, blocked, muted, locked]
    r = me.get(
        "/api/v1/accounts/relationships",
        params=[("id[]", u.id) for u in wanted] + [("id[]", "999999")],
    )
    rels = {x["id"]: x for x in ok_list(r)}
    assert list(rels) == [u.id for u in wanted]  # in the order asked, unknown ids left out
    assert rels[followed.id]["following"] and rels[followed.id]["notifying"]
    assert not rels[followed.id]["followed_by"]
    assert rels[follower.id]["followed_by"] and not rels[follower.id]["following"]
    assert rels[blocked.id]["blocking"] and not rels[blocked.id]["following"]
    assert rels[muted.id]["muting"] and not rels[muted.id]["muting_notifications"]
    assert rels[locked.id]["requested"] and not rels[locked.id]["following"]
    for rel in rels.values():
        assert set(rel) >= {
            "id",
            "following",
            "showing_reblogs",
            "notifying",
            "followed_by",
            "blocking",
            "blocked_by",
            "muting",
            "muting_notifications",
            "requested",
            "requested_by",
            "domain_blocking",
            "endorsed",
            "note",
        }

    assert ok_list(me.get("/api/v1/accounts/relationships")) == []
    error_of(me.get("/api/v1/accounts/relationships", params={"id[]": "abc"}), 422)
    error_of(client.get("/api/v1/accounts/relationships", params={"id[]": me.id}), 401)
