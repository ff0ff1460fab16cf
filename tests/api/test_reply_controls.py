"""Reply controls (a Parvis extension): who may reply to a post, enforced on every write path."""

from __future__ import annotations

from typing import Any

from starlette.testclient import TestClient

from tests.builders import User, make_user


def _reply(user: User, status_id: str, text: str = "a reply") -> Any:
    return user.post("/api/v1/statuses", json={"status": text, "in_reply_to_id": status_id})


def test_default_is_everyone(client: TestClient) -> None:
    alice, bob = make_user(client), make_user(client)
    post = alice.status("open to all")
    assert post["reply_policy"] == "everyone"
    assert _reply(bob, post["id"]).status_code == 200


def test_followers_only(client: TestClient) -> None:
    alice, bob, carol = make_user(client), make_user(client), make_user(client)
    assert bob.post(f"/api/v1/accounts/{alice.id}/follow").status_code == 200
    post = alice.status("followers may reply", reply_policy="followers")
    assert post["reply_policy"] == "followers"
    assert _reply(bob, post["id"]).status_code == 200
    r = _reply(carol, post["id"])
    assert r.status_code == 403
    assert r.json()["error"] == (
        f"This action is not allowed: replies are limited to accounts following @{alice.username}"
    )
    assert _reply(alice, post["id"]).status_code == 200  # the author always may


def test_mentioned_only_and_whole_thread(client: TestClient) -> None:
    alice, bob, carol = make_user(client), make_user(client), make_user(client)
    post = alice.status(f"only @{bob.username} may reply", reply_policy="mentioned")
    reply = _reply(bob, post["id"])
    assert reply.status_code == 200, reply.text
    r = _reply(carol, post["id"])
    assert r.status_code == 403 and "mentioned" in r.json()["error"]
    # the thread's policy holds deeper down: carol cannot reply to bob's reply either
    r = _reply(carol, reply.json()["id"])
    assert r.status_code == 403
    # and the thread's author may reply anywhere in it
    assert _reply(alice, reply.json()["id"]).status_code == 200


def test_policy_changes_with_an_edit(client: TestClient) -> None:
    alice, carol = make_user(client), make_user(client)
    post = alice.status("closed", reply_policy="mentioned")
    assert _reply(carol, post["id"]).status_code == 403
    r = client.put(
        f"/api/v1/statuses/{post['id']}",
        headers=alice.headers,
        json={"status": "open now", "reply_policy": "everyone"},
    )
    assert r.status_code == 200 and r.json()["reply_policy"] == "everyone"
    assert _reply(carol, post["id"]).status_code == 200


def test_bad_policy(client: TestClient) -> None:
    alice = make_user(client)
    r = alice.post("/api/v1/statuses", json={"status": "x", "reply_policy": "friends"})
    assert r.status_code == 422 and "reply_policy" in r.json()["error"]
