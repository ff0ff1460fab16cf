"""Notifications through the real API: what creates them, filters, paging, dismissal, scopes."""

from __future__ import annotations

import re
from typing import Any

from starlette.testclient import TestClient

from tests.builders import User, make_app, make_user


def with_scopes(user: User, scopes: str) -> User:
    """The same person, through a token limited to `scopes` (password grant)."""
    app = make_app(user.client, scopes)
    r = user.client.post(
        "/oauth/token",
        data={
            "grant_type": "password",
            "client_id": app["client_id"],
            "client_secret": app["client_secret"],
            "scope": scopes,
            "username": f"{user.username}@example.org",
            "password": "correct horse battery",
        },
    )
    assert r.status_code == 200, r.text
    return User(user.client, r.json()["access_token"], user.id, user.username)


def notes(user: User, query: str = "") -> list[dict[str, Any]]:
    r = user.get("/api/v1/notifications" + query)
    assert r.status_code == 200, r.text
    return list(r.json())


def kinds(user: User, query: str = "") -> list[str]:
    return [n["type"] for n in notes(user, query)]


def busy_alice(client: TestClient) -> tuple[User, User, dict[str, Any]]:
    """alice is followed, mentioned, favourited and boosted by bob (in that order)."""
    alice = make_user(client)
    bob = make_user(client)
    assert bob.post(f"/api/v1/accounts/{alice.id}/follow").status_code == 200
    bob.status(f"hello @{alice.username}")
    post = alice.status("my post")
    assert bob.post(f"/api/v1/statuses/{post['id']}/favourite").status_code == 200
    assert bob.post(f"/api/v1/statuses/{post['id']}/reblog").status_code == 200
    return alice, bob, post


def test_each_kind_of_notification(client: TestClient) -> None:
    alice, bob, post = busy_alice(client)
    listed = notes(alice)
    assert [n["type"] for n in listed] == ["reblog", "favourite", "mention", "follow"]
    assert all(n["account"]["id"] == bob.id for n in listed)
    by_type = {n["type"]: n for n in listed}
    assert by_type["follow"]["status"] is None
    assert by_type["favourite"]["status"]["id"] == post["id"]
    assert by_type["reblog"]["status"]["id"] == post["id"]
    assert by_type["mention"]["status"]["content"].startswith("<p>hello")
    assert by_type["mention"]["group_key"] == f"ungrouped-{by_type['mention']['id']}"
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z", listed[0]["created_at"])
    assert notes(bob) == []  # nothing that bob did notifies bob

    carol = make_user(client, locked=True)
    assert bob.post(f"/api/v1/accounts/{carol.id}/follow").json()["requested"] is True
    assert kinds(carol) == ["follow_request"]


def test_types_and_exclude_types_filter(client: TestClient) -> None:
    alice, bob, _ = busy_alice(client)
    assert kinds(alice, "?types[]=mention") == ["mention"]
    assert kinds(alice, "?types[]=follow&types[]=favourite") == ["favourite", "follow"]
    assert kinds(alice, "?types=reblog") == ["reblog"]  # the form without brackets works too
    assert kinds(alice, "?exclude_types[]=follow&exclude_types[]=reblog") == [
        "favourite",
        "mention",
    ]
    assert kinds(alice, "?exclude_types[]=some_future_type") == [
        "reblog",
        "favourite",
        "mention",
        "follow",
    ]
    assert kinds(alice, f"?account_id={bob.id}&types[]=follow") == ["follow"]
    assert kinds(alice, f"?account_id={alice.id}") == []
    assert kinds(alice, "?account_id=nonsense") == []

    r = alice.get("/api/v1/notifications?types[]=mention&types[]=bogus")
    assert r.status_code == 422
    error = r.json()["error"]
    assert "bogus" in error
    assert "mention" in error and "follow_request" in error and "favourite" in error


def test_paging_with_link_header(client: TestClient) -> None:
    alice, _, _ = busy_alice(client)
    everything = [n["id"] for n in notes(alice)]
    assert len(everything) == 4
    seen: list[str] = []
    url = "/api/v1/notifications?limit=1"
    for _ in range(10):
        r = alice.get(url)
        assert r.status_code == 200
        page = r.json()
        if not page:
            break
        assert len(page) == 1
        seen.append(page[0]["id"])
        link = r.headers["link"]
        found = re.search(r'<([^>]+)>; rel="next"', link)
        assert found is not None
        assert f"max_id={page[0]['id']}" in found.group(1)
        assert "limit=1" in found.group(1)
        url = found.group(1).removeprefix("https://parvis.test")
    assert seen == everything
    # min_id returns the ones just after it (newest first, as always).
    newer = notes(alice, f"?min_id={everything[-1]}&limit=2")
    assert [n["id"] for n in newer] == everything[1:3]
    since = notes(alice, f"?since_id={everything[1]}")
    assert [n["id"] for n in since] == everything[:1]
    assert alice.get("/api/v1/notifications?max_id=abc").status_code == 422
    assert alice.get("/api/v1/notifications?limit=0").status_code == 422
    assert len(notes(alice, "?limit=500")) == 4


def test_get_dismiss_and_clear(client: TestClient) -> None:
    alice, bob, _ = busy_alice(client)
    first, second, *rest = notes(alice)
    got = alice.get(f"/api/v1/notifications/{first['id']}")
    assert got.status_code == 200
    assert got.json()["id"] == first["id"]
    assert got.json()["type"] == first["type"]
    # Someone else's notification is not found, and cannot be dismissed.
    assert bob.get(f"/api/v1/notifications/{first['id']}").status_code == 404
    assert bob.post(f"/api/v1/notifications/{first['id']}/dismiss").status_code == 404
    assert alice.get("/api/v1/notifications/nonsense").status_code == 404

    r = alice.post(f"/api/v1/notifications/{first['id']}/dismiss")
    assert r.status_code == 200
    assert r.json() == {}
    assert alice.get(f"/api/v1/notifications/{first['id']}").status_code == 404
    assert alice.post(f"/api/v1/notifications/{first['id']}/dismiss").status_code == 404
    assert [n["id"] for n in notes(alice)] == [second["id"], *[n["id"] for n in rest]]

    r = alice.post("/api/v1/notifications/clear")
    assert r.status_code == 200
    assert r.json() == {}
    assert notes(alice) == []


def test_unread_count(client: TestClient) -> None:
    alice, bob, _ = busy_alice(client)
    assert alice.get("/api/v1/notifications/unread_count").json() == {"count": 4}
    assert alice.get("/api/v1/notifications/unread_count?limit=2").json() == {"count": 2}
    assert alice.get("/api/v1/notifications/unread_count?types[]=mention").json() == {"count": 1}
    assert alice.get("/api/v1/notifications/unread_count?exclude_types[]=mention").json() == {
        "count": 3
    }
    assert alice.get(f"/api/v1/notifications/unread_count?account_id={alice.id}").json() == {
        "count": 0
    }
    assert alice.get("/api/v1/notifications/unread_count?types[]=nope").status_code == 422
    assert bob.get("/api/v1/notifications/unread_count").json() == {"count": 0}


def test_muted_sender_does_not_notify(client: TestClient) -> None:
    alice = make_user(client)
    bob = make_user(client)
    carol = make_user(client)
    assert (
        alice.post(f"/api/v1/accounts/{bob.id}/mute", json={"notifications": True}).status_code
        == 200
    )
    assert (
        alice.post(f"/api/v1/accounts/{carol.id}/mute", json={"notifications": False}).status_code
        == 200
    )
    bob.status(f"hey @{alice.username}")
    carol.status(f"hi @{alice.username}")
    listed = notes(alice)
    assert [(n["type"], n["account"]["id"]) for n in listed] == [("mention", carol.id)]


def test_blocked_sender_does_not_notify(client: TestClient) -> None:
    alice = make_user(client)
    bob = make_user(client)
    assert alice.post(f"/api/v1/accounts/{bob.id}/block").status_code == 200
    bob.status(f"hey @{alice.username}")
    assert notes(alice) == []


def test_scopes(client: TestClient) -> None:
    alice, _, _ = busy_alice(client)
    reader = with_scopes(alice, "read")
    assert len(notes(reader)) == 4
    note_id = notes(reader)[0]["id"]
    r = reader.post(f"/api/v1/notifications/{note_id}/dismiss")
    assert r.status_code == 403
    assert "write:notifications" in r.json()["error"]
    assert reader.post("/api/v1/notifications/clear").status_code == 403
    assert len(notes(alice)) == 4

    writer = with_scopes(alice, "write:notifications")
    assert writer.get("/api/v1/notifications").status_code == 403
    assert writer.get("/api/v1/notifications/unread_count").status_code == 403
    assert writer.get(f"/api/v1/notifications/{note_id}").status_code == 403

    assert client.get("/api/v1/notifications").status_code == 401
    assert client.post("/api/v1/notifications/clear").status_code == 401


def test_authentication_comes_before_validation(client: TestClient) -> None:
    assert client.get("/api/v1/notifications?types[]=bogus").status_code == 401
    assert client.get("/api/v1/notifications/unread_count?types[]=bogus").status_code == 401


def test_every_mastodon_type_is_accepted(client: TestClient) -> None:
    """Jobs of other features notify poll, update, quote...: each is stored and listed, and a
    poll's end reaches its own author too."""
    from parvis.services import notifications

    alice, bob = make_user(client), make_user(client)
    post = bob.status("a poll")
    runtime = client.app.state.runtime  # type: ignore[attr-defined]
    a, b, pid = int(alice.id), int(bob.id), int(post["id"])

    def send(work: Any) -> list[int | None]:
        return [
            notifications.notify(work, a, b, "update", pid),
            notifications.notify(work, a, b, "update", pid),  # one per edit
            notifications.notify(work, a, b, "quote", pid),
            notifications.notify(work, a, b, "quoted_update", pid),
            notifications.notify(work, a, b, "poll", pid),
            notifications.notify(work, b, b, "poll", pid),
            notifications.notify(work, a, b, "no_such_type", pid),
        ]

    created = runtime.write(send)
    assert all(created[:6]) and created[6] is None
    assert kinds(alice) == ["poll", "quoted_update", "quote", "update", "update"]
    assert kinds(bob) == ["poll"]
    assert kinds(alice, "?types[]=quoted_update") == ["quoted_update"]
