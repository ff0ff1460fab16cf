"""Editing a status: new text, history of revisions, source, polls reset, who is told."""

from __future__ import annotations

from typing import Any

from starlette.testclient import TestClient

from tests.builders import User, make_user


def _put(user: User, status_id: str, **body: Any) -> Any:
    return user.client.put(f"/api/v1/statuses/{status_id}", headers=user.headers, json=body)


def test_edit_text_and_history(client: TestClient) -> None:
    alice, bob = make_user(client), make_user(client)
    post = alice.status("first version #old", spoiler_text="cw")
    assert post["edited_at"] is None
    assert (
        alice.get(f"/api/v1/statuses/{post['id']}/history").json()[0]["content"] == post["content"]
    )
    r = _put(alice, post["id"], status=f"second version #new @{bob.username}", language="fr")
    assert r.status_code == 200, r.text
    edited = r.json()
    assert edited["edited_at"] is not None
    assert "second version" in edited["content"]
    assert [t["name"] for t in edited["tags"]] == ["new"]
    assert [m["id"] for m in edited["mentions"]] == [bob.id]
    assert edited["spoiler_text"] == "" and edited["language"] == "fr"
    assert _put(alice, post["id"], status="third").status_code == 200
    history = client.get(f"/api/v1/statuses/{post['id']}/history").json()
    assert len(history) == 3
    assert "first version" in history[0]["content"] and history[0]["spoiler_text"] == "cw"
    assert "second version" in history[1]["content"]
    assert "third" in history[2]["content"]
    assert history[0]["created_at"] == post["created_at"]
    assert all(h["account"]["id"] == alice.id for h in history)
    source = alice.get(f"/api/v1/statuses/{post['id']}/source").json()
    assert source == {"id": post["id"], "text": "third", "spoiler_text": ""}
    # search finds the new text, not the old one
    found = alice.get("/api/v2/search", params={"q": "third", "type": "statuses"}).json()
    assert [s["id"] for s in found["statuses"]] == [post["id"]]
    assert (
        alice.get("/api/v2/search", params={"q": "first", "type": "statuses"}).json()["statuses"]
        == []
    )
    # the mentioned account was told
    assert [n["type"] for n in bob.get("/api/v1/notifications").json()] == ["mention"]


def test_only_the_author_edits(client: TestClient) -> None:
    alice, bob = make_user(client), make_user(client)
    post = alice.status("mine")
    r = _put(bob, post["id"], status="hijacked")
    assert r.status_code == 404  # as Mastodon: others' statuses are not found
    assert bob.get(f"/api/v1/statuses/{post['id']}/source").status_code == 404
    assert client.put(f"/api/v1/statuses/{post['id']}", json={"status": "x"}).status_code == 401
    assert _put(alice, "999999", status="x").status_code == 404
    boost = bob.post(f"/api/v1/statuses/{post['id']}/reblog").json()
    assert _put(bob, boost["id"], status="x").status_code == 404


def test_edit_validation(client: TestClient) -> None:
    alice = make_user(client)
    post = alice.status("valid")
    for body in (
        {"status": ""},
        {"status": "x" * 501},
        {"status": "x", "language": "not-a-language"},
        {"status": "x", "media_ids": ["12345"]},
        {"status": "x", "poll": {"options": ["one"], "expires_in": 600}},
        {"status": "x", "reply_policy": "friends"},
        {"status": "x", "media_attributes": [{"id": "1", "description": "x"}]},
    ):
        r = _put(alice, post["id"], **body)
        assert r.status_code == 422, (body, r.text)


def test_edit_poll_resets_votes(client: TestClient) -> None:
    alice, bob = make_user(client), make_user(client)
    post = alice.status("vote", poll={"options": ["a", "b"], "expires_in": 600})
    poll_id = post["poll"]["id"]
    assert bob.post(f"/api/v1/polls/{poll_id}/votes", json={"choices": [0]}).status_code == 200
    # same options: votes kept
    r = _put(alice, post["id"], status="vote!", poll={"options": ["a", "b"], "expires_in": 600})
    assert r.json()["poll"]["votes_count"] == 1
    # new options: votes reset
    r = _put(alice, post["id"], status="vote", poll={"options": ["a", "c"], "expires_in": 900})
    assert r.status_code == 200, r.text
    poll = r.json()["poll"]
    assert poll["votes_count"] == 0 and [o["title"] for o in poll["options"]] == ["a", "c"]
    assert bob.post(f"/api/v1/polls/{poll_id}/votes", json={"choices": [1]}).status_code == 200
    history = client.get(f"/api/v1/statuses/{post['id']}/history").json()
    assert history[0]["poll"] == {"options": [{"title": "a"}, {"title": "b"}]}
    assert history[-1]["poll"] == {"options": [{"title": "a"}, {"title": "c"}]}
    # leaving the poll out removes it, as Mastodon
    r = _put(alice, post["id"], status="no more poll")
    assert r.json()["poll"] is None


def test_boosters_are_told_of_an_edit(client: TestClient) -> None:
    alice, bob, carol = make_user(client), make_user(client), make_user(client)
    post = alice.status("boost me")
    assert bob.post(f"/api/v1/statuses/{post['id']}/reblog").status_code == 200
    assert _put(alice, post["id"], status="boost me, edited").status_code == 200
    notes = bob.get("/api/v1/notifications").json()
    assert [(n["type"], n["status"]["id"]) for n in notes] == [("update", post["id"])]
    assert carol.get("/api/v1/notifications").json() == []
