"""Conversations: direct statuses make one conversation per thread and participant."""

from __future__ import annotations

from starlette.testclient import TestClient

from tests.builders import make_user


def test_direct_messages_make_conversations(client: TestClient) -> None:
    alice, bob, carol = make_user(client), make_user(client), make_user(client)
    first = alice.status(f"@{bob.username} secret", visibility="direct")
    alice.status("public chatter")  # not a conversation

    [mine] = alice.get("/api/v1/conversations").json()
    assert mine["unread"] is False  # the author has read their own message
    assert [a["id"] for a in mine["accounts"]] == [bob.id]
    assert mine["last_status"]["id"] == first["id"]

    [theirs] = bob.get("/api/v1/conversations").json()
    assert theirs["unread"] is True
    assert [a["id"] for a in theirs["accounts"]] == [alice.id]
    assert carol.get("/api/v1/conversations").json() == []

    reply = bob.status(f"@{alice.username} got it", visibility="direct", in_reply_to_id=first["id"])
    [mine] = alice.get("/api/v1/conversations").json()
    assert mine["last_status"]["id"] == reply["id"] and mine["unread"] is True
    [theirs_again] = bob.get("/api/v1/conversations").json()
    assert theirs_again["id"] == theirs["id"]  # same thread, same conversation
    assert theirs_again["unread"] is False

    r = alice.post(f"/api/v1/conversations/{mine['id']}/read")
    assert r.status_code == 200 and r.json()["unread"] is False
    assert alice.get("/api/v1/conversations").json()[0]["unread"] is False

    assert alice.delete(f"/api/v1/conversations/{mine['id']}").status_code == 200
    assert alice.get("/api/v1/conversations").json() == []
    assert alice.delete(f"/api/v1/conversations/{mine['id']}").status_code == 404
    assert bob.post(f"/api/v1/conversations/{mine['id']}/read").status_code == 404  # not his


def test_conversations_page_and_validate(client: TestClient) -> None:
    alice = make_user(client)
    friends = [make_user(client) for _ in range(3)]
    posted = [alice.status(f"@{f.username} hi", visibility="direct") for f in friends]
    r = alice.get("/api/v1/conversations?limit=2")
    assert [c["last_status"]["id"] for c in r.json()] == [posted[2]["id"], posted[1]["id"]]
    assert 'rel="next"' in r.headers["Link"]
    r = alice.get(f"/api/v1/conversations?max_id={posted[1]['id']}")
    assert [c["last_status"]["id"] for c in r.json()] == [posted[0]["id"]]
    assert alice.get("/api/v1/conversations?limit=abc").status_code == 422
    assert alice.get("/api/v1/conversations?max_id=x").status_code == 422
    assert client.get("/api/v1/conversations").status_code == 401
    assert alice.post("/api/v1/conversations/nonsense/read").status_code == 404
