"""Muting a conversation: POST /api/v1/statuses/:id/mute and /unmute."""

from __future__ import annotations

from starlette.testclient import TestClient

from tests.builders import User, error_of, follow, make_user, ok


def _types(user: User) -> list[tuple[str, str | None]]:
    return [
        (n["type"], n["status"]["id"] if n.get("status") else None)
        for n in ok(user.get("/api/v1/notifications"))
    ]


def _muted(user: User, status_id: str) -> bool:
    return bool(ok(user.get(f"/api/v1/statuses/{status_id}"))["muted"])


def test_a_muted_thread_sends_no_more_notifications(client: TestClient) -> None:
    alice, bob, carol = make_user(client), make_user(client), make_user(client)
    root = alice.status("Une question à tout le monde")
    reply = bob.status(f"@{alice.username} voici", in_reply_to_id=root["id"])
    assert ("mention", reply["id"]) in _types(alice)

    muted = ok(alice.post(f"/api/v1/statuses/{root['id']}/mute"))
    assert muted["id"] == root["id"]
    assert muted["muted"] is True
    assert _muted(alice, root["id"]) and _muted(alice, reply["id"])

    later = carol.status(f"@{alice.username} @{bob.username} moi aussi", in_reply_to_id=reply["id"])
    ok(bob.post(f"/api/v1/statuses/{root['id']}/favourite"))
    ok(carol.post(f"/api/v1/statuses/{root['id']}/reblog"))
    ok(carol.post(f"/api/v1/statuses/{reply['id']}/favourite"))
    assert _muted(alice, later["id"])
    assert _types(alice) == [("mention", reply["id"])]  # nothing new
    # bob did not mute anything: he still hears of carol's reply and favourite
    assert ("mention", later["id"]) in _types(bob)
    assert ("favourite", reply["id"]) in _types(bob)
    assert ok(bob.get(f"/api/v1/statuses/{root['id']}"))["muted"] is False

    # another thread of alice's is not muted
    other = alice.status("Autre chose")
    ok(bob.post(f"/api/v1/statuses/{other['id']}/favourite"))
    assert ("favourite", other["id"]) in _types(alice)
    assert not _muted(alice, other["id"])

    unmuted = ok(alice.post(f"/api/v1/statuses/{root['id']}/unmute"))
    assert unmuted["muted"] is False
    again = carol.status(f"@{alice.username} encore", in_reply_to_id=root["id"])
    assert ("mention", again["id"]) in _types(alice)


def test_muting_from_a_reply_mutes_the_whole_thread(client: TestClient) -> None:
    alice, bob = make_user(client), make_user(client)
    root = bob.status(f"@{alice.username} tu viens ?")
    reply = alice.status(f"@{bob.username} oui", in_reply_to_id=root["id"])
    deeper = bob.status(f"@{alice.username} super", in_reply_to_id=reply["id"])
    assert ok(alice.post(f"/api/v1/statuses/{deeper['id']}/mute"))["muted"] is True
    assert all(_muted(alice, s["id"]) for s in (root, reply, deeper))
    ok(alice.post(f"/api/v1/statuses/{deeper['id']}/mute"))  # twice is fine
    ok(bob.post(f"/api/v1/statuses/{reply['id']}/favourite"))
    assert ("favourite", reply["id"]) not in _types(alice)
    # unmuting from the root unmutes the thread
    ok(alice.post(f"/api/v1/statuses/{root['id']}/unmute"))
    assert not any(_muted(alice, s["id"]) for s in (root, reply, deeper))


def test_muted_flag_in_timelines_and_on_boosts(client: TestClient) -> None:
    alice, bob = make_user(client), make_user(client)
    follow(alice, bob)
    root = alice.status("Fil")
    boost = ok(bob.post(f"/api/v1/statuses/{root['id']}/reblog"))
    ok(alice.post(f"/api/v1/statuses/{root['id']}/mute"))
    home = ok(alice.get("/api/v1/timelines/home"))
    assert {s["id"]: s["muted"] for s in home}[root["id"]] is True
    seen = ok(alice.get(f"/api/v1/statuses/{boost['id']}"))
    assert seen["muted"] is True  # a boost mirrors the boosted status
    assert seen["reblog"]["muted"] is True
    assert ok(bob.get(f"/api/v1/statuses/{boost['id']}"))["muted"] is False
    # muting through the boost's id mutes the boosted status' thread
    ok(alice.post(f"/api/v1/statuses/{root['id']}/unmute"))
    assert ok(alice.post(f"/api/v1/statuses/{boost['id']}/mute"))["id"] == root["id"]
    assert _muted(alice, root["id"])


def test_only_participants_may_mute(client: TestClient) -> None:
    alice, bob, dave = make_user(client), make_user(client), make_user(client)
    root = alice.status("Public")
    message = error_of(dave.post(f"/api/v1/statuses/{root['id']}/mute"), 422)
    assert "take part" in message
    assert ok(dave.get(f"/api/v1/statuses/{root['id']}"))["muted"] is False
    # mentioned in a reply deeper in the thread: a participant
    bob.status(f"@{dave.username} regarde", in_reply_to_id=root["id"])
    assert ok(dave.post(f"/api/v1/statuses/{root['id']}/mute"))["muted"] is True
    # a reply of one's own makes one a participant too
    carol = make_user(client)
    carol.status("Moi aussi", in_reply_to_id=root["id"])
    assert ok(carol.post(f"/api/v1/statuses/{root['id']}/mute"))["muted"] is True


def test_mute_refusals(client: TestClient) -> None:
    alice, bob = make_user(client), make_user(client)
    secret = alice.status("Abonnés seulement", visibility="private")
    error_of(bob.post(f"/api/v1/statuses/{secret['id']}/mute"), 404)
    error_of(bob.post("/api/v1/statuses/123456789/mute"), 404)
    error_of(bob.post("/api/v1/statuses/not-an-id/unmute"), 404)
    error_of(client.post(f"/api/v1/statuses/{secret['id']}/mute"), 401)
    reader = make_user(client, scopes="read write:statuses")
    error_of(reader.post(f"/api/v1/statuses/{secret['id']}/mute"), 403)
    scoped = make_user(client, scopes="read write:mutes")
    own = alice.status(f"@{scoped.username} salut")
    assert ok(scoped.post(f"/api/v1/statuses/{own['id']}/mute"))["muted"] is True
