"""Private notes on accounts: POST /api/v1/accounts/:id/note, Relationship.note."""

from __future__ import annotations

from datetime import UTC, datetime

from starlette.testclient import TestClient

from parvis.app import Parvis
from tests.builders import error_of, make_user, ok


def test_a_note_is_kept_and_shown_to_its_author_only(client: TestClient) -> None:
    alice, bob = make_user(client), make_user(client)
    rel = ok(alice.post(f"/api/v1/accounts/{bob.id}/note", json={"comment": "Met at the café"}))
    assert rel["id"] == bob.id
    assert rel["note"] == "Met at the café"
    assert rel["following"] is False
    rels = ok(alice.get("/api/v1/accounts/relationships", params={"id[]": bob.id}))
    assert rels[0]["note"] == "Met at the café"
    # bob's view of alice carries no note
    assert ok(bob.get("/api/v1/accounts/relationships", params={"id[]": alice.id}))[0]["note"] == ""
    # a form body works too, and replaces the note
    rel = ok(alice.post(f"/api/v1/accounts/{bob.id}/note", data={"comment": "Likes tea"}))
    assert rel["note"] == "Likes tea"
    # other relationship actions keep showing it
    assert ok(alice.post(f"/api/v1/accounts/{bob.id}/follow"))["note"] == "Likes tea"


def test_an_empty_or_missing_comment_removes_the_note(client: TestClient) -> None:
    alice, bob = make_user(client), make_user(client)
    ok(alice.post(f"/api/v1/accounts/{bob.id}/note", json={"comment": "x"}))
    assert ok(alice.post(f"/api/v1/accounts/{bob.id}/note", json={"comment": ""}))["note"] == ""
    ok(alice.post(f"/api/v1/accounts/{bob.id}/note", json={"comment": "y"}))
    assert ok(alice.post(f"/api/v1/accounts/{bob.id}/note"))["note"] == ""
    rels = ok(alice.get("/api/v1/accounts/relationships", params={"id[]": bob.id}))
    assert rels[0]["note"] == ""


def test_notes_are_per_target(client: TestClient) -> None:
    alice, bob, carol = make_user(client), make_user(client), make_user(client)
    ok(alice.post(f"/api/v1/accounts/{bob.id}/note", json={"comment": "bob"}))
    ok(alice.post(f"/api/v1/accounts/{carol.id}/note", json={"comment": "carol"}))
    rels = ok(
        alice.get("/api/v1/accounts/relationships", params=[("id[]", bob.id), ("id[]", carol.id)])
    )
    assert {r["id"]: r["note"] for r in rels} == {bob.id: "bob", carol.id: "carol"}


def test_note_limits_and_refusals(client: TestClient, parvis: Parvis) -> None:
    alice, bob = make_user(client), make_user(client)
    assert ok(alice.post(f"/api/v1/accounts/{bob.id}/note", json={"comment": "é" * 2000}))[
        "note"
    ] == ("é" * 2000)
    message = error_of(
        alice.post(f"/api/v1/accounts/{bob.id}/note", json={"comment": "a" * 2001}), 422
    )
    assert "2000" in message
    error_of(alice.post(f"/api/v1/accounts/{bob.id}/note", json={"comment": ["a"]}), 422)
    error_of(alice.post("/api/v1/accounts/123456789/note", json={"comment": "x"}), 404)
    error_of(alice.post("/api/v1/accounts/nope/note", json={"comment": "x"}), 404)
    error_of(client.post(f"/api/v1/accounts/{bob.id}/note", json={"comment": "x"}), 401)
    reader = make_user(client, scopes="read")
    error_of(reader.post(f"/api/v1/accounts/{bob.id}/note", json={"comment": "x"}), 403)
    # the too-long note left the previous one in place
    rels = ok(alice.get("/api/v1/accounts/relationships", params={"id[]": bob.id}))
    assert rels[0]["note"] == "é" * 2000
    with parvis.runtime.stores.write() as store:
        store.accounts.update(int(bob.id), {"suspended_at": datetime.now(UTC)})
    error_of(alice.post(f"/api/v1/accounts/{bob.id}/note", json={"comment": "x"}), 404)


def test_identity_proofs_are_always_empty(client: TestClient) -> None:
    alice = make_user(client)
    assert ok(client.get(f"/api/v1/accounts/{alice.id}/identity_proofs")) == []
    assert ok(alice.get(f"/api/v1/accounts/{alice.id}/identity_proofs")) == []
    error_of(client.get("/api/v1/accounts/123456789/identity_proofs"), 404)
