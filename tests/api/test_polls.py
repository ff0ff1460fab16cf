"""Polls: posting one, reading it, voting, totals hidden until the end, the end announced."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from typing import Any

from starlette.testclient import TestClient

from parvis.app import Parvis
from parvis.jobs.runtime import run_job
from tests.builders import User, make_user


@contextmanager
def clock_at(parvis: Parvis, moment: datetime) -> Iterator[None]:
    """Run what follows as if it were `moment` (the only fake: the clock)."""
    saved = parvis.runtime.clock
    parvis.runtime.clock = lambda: moment
    try:
        yield
    finally:
        parvis.runtime.clock = saved


def _poll_post(user: User, **poll: Any) -> dict[str, Any]:
    body = {"options": ["tea", "coffee", "water"], "expires_in": 3600, **poll}
    return user.status("What do you drink?", poll=body)


def test_post_with_poll_as_json_and_form(client: TestClient) -> None:
    alice = make_user(client)
    post = _poll_post(alice)
    poll = post["poll"]
    assert poll["options"] == [
        {"title": "tea", "votes_count": 0},
        {"title": "coffee", "votes_count": 0},
        {"title": "water", "votes_count": 0},
    ]
    assert poll["expired"] is False and poll["multiple"] is False
    assert poll["votes_count"] == 0 and poll["voters_count"] is None
    # The author cannot vote (422) but counts as having voted, as in Mastodon (Poll#voted?).
    assert poll["voted"] is True and poll["own_votes"] == []
    assert poll["own_votes"] == [] and poll["emojis"] == []
    r = alice.post(
        "/api/v1/statuses",
        data={
            "status": "form poll",
            "poll[options][]": ["a", "b"],
            "poll[expires_in]": "600",
            "poll[multiple]": "true",
        },
    )
    assert r.status_code == 200, r.text
    assert [o["title"] for o in r.json()["poll"]["options"]] == ["a", "b"]
    assert r.json()["poll"]["multiple"] is True
    assert r.json()["poll"]["voters_count"] == 0


def test_poll_validation(client: TestClient) -> None:
    alice = make_user(client)
    cases = [
        {"options": ["only one"], "expires_in": 3600},
        {"options": ["a", "b", "c", "d", "e"], "expires_in": 3600},
        {"options": ["a", "a"], "expires_in": 3600},
        {"options": ["a", ""], "expires_in": 3600},
        {"options": ["a", "x" * 51], "expires_in": 3600},
        {"options": ["a", "b"], "expires_in": 10},
        {"options": ["a", "b"], "expires_in": 10**8},
        {"options": ["a", "b"]},
        {"options": "not a list", "expires_in": 3600},
    ]
    for poll in cases:
        r = alice.post("/api/v1/statuses", json={"status": "poll?", "poll": poll})
        assert r.status_code == 422, (poll, r.text)
        assert r.json()["error"].startswith("Validation failed")


def test_poll_and_media_are_exclusive(client: TestClient) -> None:
    alice = make_user(client)
    r = alice.post(
        "/api/v1/statuses",
        json={
            "status": "both",
            "media_ids": ["123"],
            "poll": {"options": ["a", "b"], "expires_in": 3600},
        },
    )
    assert r.status_code == 422
    assert "both media and a poll" in r.json()["error"]


def test_vote_and_read(client: TestClient) -> None:
    alice, bob, carol = make_user(client), make_user(client), make_user(client)
    post = _poll_post(alice)
    poll_id = post["poll"]["id"]
    r = bob.post(f"/api/v1/polls/{poll_id}/votes", json={"choices": [1]})
    assert r.status_code == 200, r.text
    assert r.json()["voted"] is True and r.json()["own_votes"] == [1]
    assert [o["votes_count"] for o in r.json()["options"]] == [0, 1, 0]
    r = carol.post(f"/api/v1/polls/{poll_id}/votes", data={"choices[]": ["0"]})
    assert r.status_code == 200, r.text
    assert r.json()["votes_count"] == 2
    poll = bob.get(f"/api/v1/polls/{poll_id}").json()
    assert poll["own_votes"] == [1] and poll["voted"] is True
    anonymous = client.get(f"/api/v1/polls/{poll_id}").json()
    assert anonymous["voted"] is None and anonymous["own_votes"] is None
    status = carol.get(f"/api/v1/statuses/{post['id']}").json()
    assert status["poll"]["own_votes"] == [0]
    assert [o["votes_count"] for o in status["poll"]["options"]] == [1, 1, 0]


def test_vote_errors(client: TestClient) -> None:
    alice, bob = make_user(client), make_user(client)
    poll_id = _poll_post(alice)["poll"]["id"]
    url = f"/api/v1/polls/{poll_id}/votes"
    for choices in ([], [3], [-1], [0, 1]):
        r = bob.post(url, json={"choices": choices})
        assert r.status_code == 422, (choices, r.text)
    # Mastodon's messages, word for word: clients (toot) match on them.
    for choices in ([3], [-1], [0, 5]):
        r = bob.post(url, json={"choices": choices})
        assert r.json()["error"] == "Validation failed: The chosen vote option does not exist"
    assert bob.post(url, json={"choices": ["x"]}).status_code == 422
    assert bob.post(url, json={}).status_code == 422
    r = alice.post(url, json={"choices": [0]})
    assert r.status_code == 422
    assert r.json()["error"] == "Validation failed: You cannot vote in your own polls"
    assert bob.post(url, json={"choices": [0]}).status_code == 200
    for choices in ([1], [0], [7]):
        r = bob.post(url, json={"choices": choices})
        assert r.status_code == 422
        assert r.json()["error"] == "Validation failed: You have already voted on this poll"
    assert bob.post("/api/v1/polls/999999/votes", json={"choices": [0]}).status_code == 404
    assert bob.get("/api/v1/polls/nope").status_code == 404
    assert client.post(url, json={"choices": [0]}).status_code == 401


def test_multiple_choice(client: TestClient) -> None:
    alice, bob = make_user(client), make_user(client)
    poll_id = _poll_post(alice, multiple=True)["poll"]["id"]
    r = bob.post(f"/api/v1/polls/{poll_id}/votes", json={"choices": [0, 2, 2]})
    assert r.status_code == 200, r.text
    assert r.json()["own_votes"] == [0, 2]
    assert r.json()["votes_count"] == 2 and r.json()["voters_count"] == 1


def test_private_poll_is_not_found_for_strangers(client: TestClient) -> None:
    alice, bob = make_user(client), make_user(client)
    post = alice.status(
        "secret", visibility="private", poll={"options": ["a", "b"], "expires_in": 600}
    )
    poll_id = post["poll"]["id"]
    assert bob.get(f"/api/v1/polls/{poll_id}").status_code == 404
    assert bob.post(f"/api/v1/polls/{poll_id}/votes", json={"choices": [0]}).status_code == 404


def test_hide_totals_until_the_end(client: TestClient, parvis: Parvis) -> None:
    alice, bob = make_user(client), make_user(client)
    post = _poll_post(alice, hide_totals=True)
    poll_id, mine_status_id = post["poll"]["id"], post["id"]
    r = bob.post(f"/api/v1/polls/{poll_id}/votes", json={"choices": [0]})
    assert [o["votes_count"] for o in r.json()["options"]] == [None, None, None]
    assert r.json()["votes_count"] == 1
    # As in Mastodon, the author does not see them either, in the poll or in the status.
    mine = alice.get(f"/api/v1/polls/{poll_id}").json()
    assert [o["votes_count"] for o in mine["options"]] == [None, None, None]
    assert mine["votes_count"] == 1
    status = alice.get(f"/api/v1/statuses/{mine_status_id}").json()
    assert [o["votes_count"] for o in status["poll"]["options"]] == [None, None, None]
    anonymous = client.get(f"/api/v1/polls/{poll_id}").json()
    assert [o["votes_count"] for o in anonymous["options"]] == [None, None, None]
    # A poll that already ended shows its totals to everyone.
    with clock_at(parvis, datetime.now(UTC) - timedelta(hours=2)):
        ended = _poll_post(alice, hide_totals=True, expires_in=600)["poll"]
    shown = bob.get(f"/api/v1/polls/{ended['id']}").json()
    assert shown["expired"] is True
    assert [o["votes_count"] for o in shown["options"]] == [0, 0, 0]
    r = bob.post(f"/api/v1/polls/{ended['id']}/votes", json={"choices": [0]})
    assert r.status_code == 422
    assert r.json()["error"] == "Validation failed: The poll has already ended"


def test_expired_poll_refuses_votes_and_is_announced(client: TestClient, parvis: Parvis) -> None:
    alice, bob, carol = make_user(client), make_user(client), make_user(client)
    now = datetime.now(UTC)
    with clock_at(parvis, now - timedelta(hours=2)):
        post = _poll_post(alice, expires_in=3600)
        r = bob.post(f"/api/v1/polls/{post['poll']['id']}/votes", json={"choices": [2]})
        assert r.status_code == 200, r.text
    r = carol.post(f"/api/v1/polls/{post['poll']['id']}/votes", json={"choices": [0]})
    assert r.status_code == 422 and "ended" in r.json()["error"]
    assert run_job(parvis.runtime, "publish_due", {}) == 0
    notes = bob.get("/api/v1/notifications").json()
    assert [(n["type"], n["status"]["id"]) for n in notes] == [("poll", post["id"])]
    assert carol.get("/api/v1/notifications").json() == []
    run_job(parvis.runtime, "publish_due", {})  # announced once only
    assert len(bob.get("/api/v1/notifications").json()) == 1
