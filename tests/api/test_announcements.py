"""Announcements: published by operators, listed with read state and reactions."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from starlette.testclient import TestClient

from parvis.services import announcements
from parvis.services.context import Work
from tests.builders import User, make_user


def publish(client: TestClient, text: str, **kw: Any) -> str:
    runtime = client.app.state.runtime  # type: ignore[attr-defined]
    return str(runtime.write(lambda work: announcements.publish(work, text, **kw)))


def react(user: User, path: str) -> int:
    return int(user.client.put(path, headers=user.headers).status_code)


def test_announcements_read_and_react(client: TestClient) -> None:
    alice, bob = make_user(client), make_user(client)
    old = publish(client, "Maintenance done", ends_at=datetime.now(UTC) + timedelta(days=1))
    new = publish(client, f"Welcome! Ask @{alice.username} about #parvis https://example.org")
    publish(
        client,
        "Over",
        starts_at=datetime(2020, 1, 1, tzinfo=UTC),
        ends_at=datetime(2020, 1, 2, tzinfo=UTC),
    )

    listed = alice.get("/api/v1/announcements").json()
    assert [a["id"] for a in listed] == [new, old]
    first = listed[0]
    assert first["read"] is False and first["all_day"] is False
    assert "<a" in first["content"] and first["mentions"][0]["id"] == alice.id
    assert first["tags"][0]["name"] == "parvis"

    assert alice.post(f"/api/v1/announcements/{new}/dismiss").status_code == 200
    assert [a["read"] for a in alice.get("/api/v1/announcements").json()] == [True, False]
    assert [a["id"] for a in alice.get("/api/v1/announcements?with_dismissed=false").json()] == [
        old
    ]
    assert bob.get("/api/v1/announcements").json()[0]["read"] is False

    assert react(alice, f"/api/v1/announcements/{new}/reactions/👍") == 200
    assert react(bob, f"/api/v1/announcements/{new}/reactions/👍") == 200
    assert react(bob, f"/api/v1/announcements/{new}/reactions/🇫🇷") == 200
    reactions = alice.get("/api/v1/announcements").json()[0]["reactions"]
    assert [(r["name"], r["count"], r["me"]) for r in reactions] == [
        ("👍", 2, True),
        ("🇫🇷", 1, False),
    ]
    assert alice.delete(f"/api/v1/announcements/{new}/reactions/👍").status_code == 200
    reactions = alice.get("/api/v1/announcements").json()[0]["reactions"]
    assert reactions[0]["count"] == 1 and reactions[0]["me"] is False

    assert react(alice, f"/api/v1/announcements/{new}/reactions/blobcat") == 422
    assert react(alice, "/api/v1/announcements/123/reactions/👍") == 404
    assert alice.post("/api/v1/announcements/nope/dismiss").status_code == 404
    assert client.get("/api/v1/announcements").status_code == 401


def test_publishing_validates(client: TestClient) -> None:
    runtime = client.app.state.runtime  # type: ignore[attr-defined]
    from parvis.domain.errors import Invalid

    def attempt(use_case: Any) -> str:
        try:
            runtime.write(use_case)
        except Invalid as exc:
            return str(exc)
        return ""

    now = datetime.now(UTC)

    def empty(work: Work) -> int:
        return announcements.publish(work, "  ")

    def backwards(work: Work) -> int:
        return announcements.publish(work, "x", starts_at=now, ends_at=now - timedelta(1))

    def all_day(work: Work) -> int:
        return announcements.publish(work, "x", all_day=True)

    assert "empty" in attempt(empty)
    assert "after" in attempt(backwards)
    assert "all_day" in attempt(all_day)
