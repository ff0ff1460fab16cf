"""Lists through the real HTTP API: CRUD, members (followed accounts only), the list timeline
with its replies policy, exclusive lists leaving the home feed, and the account's lists."""

from __future__ import annotations

import pytest
from starlette.testclient import TestClient

from tests.builders import User, error_of, follow, home_ids, ids, links, make_user, ok


def make_list(user: User, title: str = "Friends", **extra: object) -> dict[str, object]:
    body = ok(user.post("/api/v1/lists", json={"title": title, **extra}))
    assert isinstance(body, dict)
    return body


def timeline(user: User, list_id: object, **params: object) -> list[str]:
    return ids(ok(user.get(f"/api/v1/timelines/list/{list_id}", params=params)))


def test_list_crud(client: TestClient) -> None:
    me, other = make_user(client), make_user(client)
    made = make_list(me, "Friends")
    assert made == {
        "id": made["id"],
        "title": "Friends",
        "replies_policy": "list",
        "exclusive": False,
    }
    second = ok(
        me.post(
            "/api/v1/lists", data={"title": "Work", "replies_policy": "none", "exclusive": "true"}
        )
    )
    assert (second["replies_policy"], second["exclusive"]) == ("none", True)
    assert [x["title"] for x in ok(me.get("/api/v1/lists"))] == ["Friends", "Work"]
    assert ok(me.get(f"/api/v1/lists/{made['id']}"))["title"] == "Friends"

    changed = ok(
        me.put(f"/api/v1/lists/{made['id']}", json={"title": "Pals", "replies_policy": "followed"})
    )
    assert (changed["title"], changed["replies_policy"], changed["exclusive"]) == (
        "Pals",
        "followed",
        False,
    )

    # Someone else's list does not exist for you.
    error_of(other.get(f"/api/v1/lists/{made['id']}"), 404)
    error_of(other.put(f"/api/v1/lists/{made['id']}", json={"title": "x"}), 404)
    error_of(other.delete(f"/api/v1/lists/{made['id']}"), 404)
    assert ok(other.get("/api/v1/lists")) == []

    assert ok(me.delete(f"/api/v1/lists/{made['id']}")) == {}
    error_of(me.get(f"/api/v1/lists/{made['id']}"), 404)
    assert [x["title"] for x in ok(me.get("/api/v1/lists"))] == ["Work"]


def test_list_bad_input(client: TestClient) -> None:
    me = make_user(client)
    error_of(me.post("/api/v1/lists", json={}), 422)
    error_of(me.post("/api/v1/lists", json={"title": "   "}), 422)
    error_of(me.post("/api/v1/lists", json={"title": "x", "replies_policy": "all"}), 422)
    error_of(me.post("/api/v1/lists", json={"title": "x" * 2000}), 422)
    error_of(me.post("/api/v1/lists", json={"title": "x", "exclusive": "perhaps"}), 422)
    error_of(me.get("/api/v1/lists/not-an-id"), 404)
    error_of(me.get("/api/v1/timelines/list/123456"), 404)
    error_of(client.get("/api/v1/lists"), 401)


def test_members_must_be_followed(client: TestClient) -> None:
    me, friend, stranger = make_user(client), make_user(client), make_user(client)
    follow(me, friend)
    lst = make_list(me)
    path = f"/api/v1/lists/{lst['id']}/accounts"
    assert "followed" in error_of(me.post(path, json={"account_ids": [stranger.id]}), 422)
    error_of(me.post(path, json={"account_ids": ["99999999"]}), 404)
    error_of(me.post(path, json={"account_ids": []}), 422)
    error_of(me.post(path, json={"account_ids": ["abc"]}), 422)
    assert ok(me.post(path, data={"account_ids[]": friend.id})) == {}
    ok(me.post(path, json={"account_ids": [friend.id]}))  # again: no duplicate
    assert ids(ok(me.get(path))) == [friend.id]
    assert ids(ok(me.get(path, params={"limit": 0}))) == [friend.id]
    assert [x["id"] for x in ok(me.get(f"/api/v1/accounts/{friend.id}/lists"))] == [lst["id"]]
    assert ok(me.get(f"/api/v1/accounts/{stranger.id}/lists")) == []
    error_of(me.get("/api/v1/accounts/99999999/lists"), 404)

    ok(me.delete_with(path, json={"account_ids": [friend.id]}))
    assert ok(me.get(path)) == []


def test_member_paging(client: TestClient) -> None:
    me = make_user(client)
    friends = [make_user(client) for _ in range(3)]
    for f in friends:
        follow(me, f)
    lst = make_list(me)
    path = f"/api/v1/lists/{lst['id']}/accounts"
    for f in friends:
        ok(me.post(path, json={"account_ids": [f.id]}))
    r = me.get(path, params={"limit": 2})
    first = ids(ok(r))
    assert first == [friends[2].id, friends[1].id]
    rest = ids(ok(client.get(links(r)["next"], headers=me.headers)))
    assert rest == [friends[0].id]


def test_list_timeline_reads_members_posts(client: TestClient) -> None:
    me, friend, other, stranger = (make_user(client) for _ in range(4))
    follow(me, friend)
    follow(me, other)
    lst = make_list(me)
    ok(me.post(f"/api/v1/lists/{lst['id']}/accounts", json={"account_ids": [friend.id]}))
    p1 = friend.status("first")
    other.status("not in the list")
    stranger.status("not followed")
    secret = friend.status("followers only", visibility="private")
    p3 = friend.status("third")
    got = timeline(me, lst["id"])
    assert got == [p3["id"], secret["id"], p1["id"]]
    r = me.get(f"/api/v1/timelines/list/{lst['id']}", params={"limit": 2})
    assert ids(ok(r)) == [p3["id"], secret["id"]]
    assert ids(ok(client.get(links(r)["next"], headers=me.headers))) == [p1["id"]]
    assert timeline(me, lst["id"], min_id=p1["id"]) == [p3["id"], secret["id"]]

    # Someone else cannot read it; an unfollowed member leaves it.
    error_of(other.get(f"/api/v1/timelines/list/{lst['id']}"), 404)
    ok(me.post(f"/api/v1/accounts/{friend.id}/unfollow"))
    assert timeline(me, lst["id"]) == []
    assert ok(me.get(f"/api/v1/lists/{lst['id']}/accounts")) == []
    assert ok(me.get(f"/api/v1/accounts/{friend.id}/lists")) == []


@pytest.mark.parametrize(
    ("policy", "visible"),
    [
        ("list", {"self", "owner", "member"}),
        ("followed", {"self", "owner", "member", "followed"}),
        ("none", {"self", "owner"}),
    ],
)
def test_replies_policy(client: TestClient, policy: str, visible: set[str]) -> None:
    me, friend, member2, followed, stranger = (make_user(client) for _ in range(5))
    for u in (friend, member2, followed):
        follow(me, u)
    lst = make_list(me, replies_policy=policy)
    ok(
        me.post(
            f"/api/v1/lists/{lst['id']}/accounts", json={"account_ids": [friend.id, member2.id]}
        )
    )
    targets = {
        "self": friend.status("mine"),
        "owner": me.status("owner's"),
        "member": member2.status("member's"),
        "followed": followed.status("followed's"),
        "stranger": stranger.status("stranger's"),
    }
    replies = {
        name: friend.status(f"re {name}", in_reply_to_id=st["id"])["id"]
        for name, st in targets.items()
    }
    got = set(timeline(me, lst["id"], limit=40))
    assert {name for name, rid in replies.items() if rid in got} == visible


def test_exclusive_list_members_leave_home(client: TestClient) -> None:
    me, friend, other = make_user(client), make_user(client), make_user(client)
    follow(me, friend)
    follow(me, other)
    lst = make_list(me, exclusive=False)
    ok(me.post(f"/api/v1/lists/{lst['id']}/accounts", json={"account_ids": [friend.id]}))
    a = friend.status("from a list member")
    b = other.status("from someone else")
    assert home_ids(me) == [b["id"], a["id"]]
    ok(me.put(f"/api/v1/lists/{lst['id']}", json={"exclusive": True}))
    assert home_ids(me) == [b["id"]]
    assert timeline(me, lst["id"]) == [a["id"]]
