"""Trends: hashtags by distinct accounts with 7 days of history, posts by interactions."""

from __future__ import annotations

from datetime import UTC, datetime

from starlette.testclient import TestClient

from parvis.services import trends
from tests.builders import make_user


def test_trending_tags_with_history(client: TestClient) -> None:
    a, b, c = make_user(client), make_user(client), make_user(client)
    a.status("#Parvis is out")
    b.status("I like #parvis")
    b.status("#parvis again")
    c.status("#quiet thing")
    a.status("#secret stuff", visibility="unlisted")  # not public: not counted

    r = client.get("/api/v1/trends/tags")
    assert r.status_code == 200, r.text
    tags = r.json()
    assert [t["name"].lower() for t in tags] == ["parvis", "quiet"]
    today = tags[0]["history"][0]
    assert len(tags[0]["history"]) == 7
    midnight = datetime.now(UTC).replace(hour=0, minute=0, second=0, microsecond=0)
    assert today == {"day": str(int(midnight.timestamp())), "uses": "3", "accounts": "2"}
    assert tags[0]["url"].endswith("/tags/parvis")
    assert client.get("/api/v1/trends").json() == tags
    assert [t["name"] for t in client.get("/api/v1/trends/tags?offset=1&limit=1").json()] == [
        tags[1]["name"]
    ]

    def demote(work: object) -> None:
        store = work.store  # type: ignore[attr-defined]
        store.trends.exclude("tag", int(tags[0]["id"]), datetime.now(UTC))

    client.app.state.runtime.write(demote)  # type: ignore[attr-defined]
    assert [t["name"] for t in client.get("/api/v1/trends/tags").json()] == ["quiet"]
    assert client.get("/api/v1/trends/tags?offset=-1").status_code == 422
    assert client.get("/api/v1/trends/tags?limit=0").status_code == 422


def test_trending_statuses(client: TestClient) -> None:
    author, other = make_user(client), make_user(client)
    fans = [make_user(client) for _ in range(3)]
    hot = author.status("hot take")
    warm = other.status("warm take")
    author.status("nobody cares")
    hidden = author.status("spoiled", spoiler_text="cw")
    for fan in fans:
        fan.post(f"/api/v1/statuses/{hot['id']}/favourite")
        fan.post(f"/api/v1/statuses/{hidden['id']}/favourite")
    fans[0].post(f"/api/v1/statuses/{hot['id']}/reblog")
    fans[0].status("reply", in_reply_to_id=warm["id"])
    author.post(f"/api/v1/statuses/{hot['id']}/favourite")  # the author's own: not counted

    listed = client.get("/api/v1/trends/statuses").json()
    assert [s["id"] for s in listed] == [hot["id"], warm["id"]]
    assert [s["id"] for s in client.get("/api/v1/trends/statuses?offset=1").json()] == [warm["id"]]
    mine = fans[1].get("/api/v1/trends/statuses").json()
    assert mine[0]["favourited"] is True
    assert client.get("/api/v1/trends/links").json() == []


def test_status_score_halves_every_six_hours() -> None:
    now = datetime(2026, 1, 1, 12, tzinfo=UTC)
    assert trends.status_score(4, now, now) == 4
    assert trends.status_score(4, datetime(2026, 1, 1, 6, tzinfo=UTC), now) == 2
