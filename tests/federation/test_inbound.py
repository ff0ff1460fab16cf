"""Processing inbound activities, and finding remote actors: retries when a remote server
is down (and only then), failures recorded with their reason, idempotence, a domain suspended
after an activity arrived, WebFinger, the one-day refresh of actors, keys published apart from
their actor (GoToSocial), remote votes on local polls. Same real app and fake fediverse as
test_inbox.py."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select
from starlette.testclient import TestClient

from parvis.app import Parvis
from parvis.domain.activitypub import parse
from parvis.jobs import inbound as inbound_jobs
from parvis.jobs.runtime import run_job
from parvis.services import domain_policy, inbound, remote_actors
from parvis.storage.tables import federation_inbox, statuses
from tests.builders import make_user, ok
from tests.federation.test_inbox import (
    BASE,
    Fediverse,
    accepted,
    account_id,
    count,
    deliver,
    inbox_state,
    status_id,
)
from tests.federation.test_inbox import client as client
from tests.federation.test_inbox import world as world


def test_an_unreachable_server_means_retry_later(
    client: TestClient, parvis: Parvis, world: Fediverse
) -> None:
    alice = world.remote("alice")
    note = alice.note("<p>fetch me</p>")
    world.docs[note["id"]] = note
    world.broken[note["id"]] = 503
    create = alice.create(note["id"])  # the object by its URI only: fetched when processed
    accepted(client, alice, create)
    state, error = inbox_state(parvis, create["id"])
    assert state == "retry" and "503" in error
    assert count(parvis, statuses) == 0

    del world.broken[note["id"]]
    later = datetime.now(UTC) + inbound_jobs.RETRY_AFTER + timedelta(minutes=1)
    parvis.runtime.clock = lambda: later
    assert run_job(parvis.runtime, "retry_inbound", {}) == 1
    assert inbox_state(parvis, create["id"]) == ("done", "")
    assert count(parvis, statuses, statuses.c.uri == note["id"]) == 1
    assert run_job(parvis.runtime, "retry_inbound", {}) == 0  # nothing left to retry


def test_a_permanent_failure_is_recorded_not_retried(
    client: TestClient, parvis: Parvis, world: Fediverse
) -> None:
    alice = world.remote("alice")
    create = alice.create(f"{alice.uri}/statuses/missing")
    accepted(client, alice, create)
    state, error = inbox_state(parvis, create["id"])
    assert state == "failed" and "404" in error
    later = datetime.now(UTC) + timedelta(hours=1)
    parvis.runtime.clock = lambda: later
    assert run_job(parvis.runtime, "retry_inbound", {}) == 0


def test_giving_up_after_the_last_attempt(
    client: TestClient, parvis: Parvis, world: Fediverse
) -> None:
    alice = world.remote("alice")
    world.broken[f"{alice.uri}/statuses/down"] = 502
    create = alice.create(f"{alice.uri}/statuses/down")
    accepted(client, alice, create)
    moment = datetime.now(UTC)
    for _ in range(inbound_jobs.MAX_ATTEMPTS + 1):
        moment += inbound_jobs.RETRY_AFTER + timedelta(minutes=1)
        parvis.runtime.clock = lambda m=moment: m  # type: ignore[misc]
        run_job(parvis.runtime, "retry_inbound", {})
    state, _ = inbox_state(parvis, create["id"])
    assert state == "failed"
    with parvis.db.engine.connect() as conn:
        attempts = conn.execute(select(federation_inbox.c.attempts)).scalar_one()
    assert attempts == inbound_jobs.MAX_ATTEMPTS


def test_processing_twice_applies_once(
    client: TestClient, parvis: Parvis, world: Fediverse
) -> None:
    bob = make_user(client, "bob")
    post = bob.status("like me once")
    alice = world.remote("alice")
    like = alice.activity("Like", post["uri"])
    accepted(client, alice, like)
    inbox_id = parvis.runtime.read(lambda w: w.store.inbox.by_activity(like["id"])).id  # type: ignore[union-attr]
    assert inbound.process(parvis.runtime, inbox_id) == "already done"
    parvis.runtime.write(lambda w: w.store.inbox.mark(inbox_id, "retry", w.now()))
    assert inbound.process(parvis.runtime, inbox_id) == "favourited"
    assert ok(bob.get(f"/api/v1/statuses/{post['id']}"))["favourites_count"] == 1


def test_a_domain_suspended_after_arrival_is_dropped(
    client: TestClient, parvis: Parvis, world: Fediverse
) -> None:
    alice = world.remote("alice")
    create = alice.create(alice.note("<p>before the block</p>"))
    inbox_id, _ = parvis.runtime.write(
        lambda w: w.store.inbox.add(create["id"], alice.uri, "Create", json.dumps(create), w.now())
    )
    parvis.runtime.write(lambda w: domain_policy.block(w, alice.host, "suspend"))
    world.requests.clear()
    assert inbound.process(parvis.runtime, inbox_id) == "ignored: the domain is suspended"
    assert world.requests == [] and count(parvis, statuses) == 0


def test_resolving_user_at_host_through_webfinger(
    client: TestClient, parvis: Parvis, world: Fediverse
) -> None:
    alice = world.remote("alice", host="gts.example")
    found = remote_actors.resolve_acct(parvis.runtime, "@alice@gts.example")
    assert found is not None and found.uri == alice.uri and found.acct == "alice@gts.example"
    assert remote_actors.resolve_acct(parvis.runtime, "nobody@gts.example") is None
    assert remote_actors.resolve_acct(parvis.runtime, "not an address") is None
    bob = make_user(client, "bob")
    local = remote_actors.resolve_acct(parvis.runtime, "bob@parvis.test")
    assert local is not None and str(local.id) == bob.id
    parvis.runtime.write(lambda w: domain_policy.block(w, "blocked.example", "suspend"))
    world.requests.clear()
    assert remote_actors.resolve_acct(parvis.runtime, "eve@blocked.example") is None
    assert world.requests == []


def test_actors_are_refreshed_after_a_day_and_must_be_on_their_host(
    parvis: Parvis, world: Fediverse
) -> None:
    alice = world.remote("alice")
    rt = parvis.runtime
    first = remote_actors.fetch_actor(rt, alice.uri)
    assert first.display_name == "Alice"
    world.docs[alice.uri]["name"] = "Alice B."
    assert remote_actors.fetch_actor(rt, alice.uri).display_name == "Alice"  # fresh: kept
    later = datetime.now(UTC) + timedelta(days=1, minutes=1)
    rt.clock = lambda: later
    assert remote_actors.fetch_actor(rt, alice.uri).display_name == "Alice B."
    assert world.fetched() == [alice.uri, alice.uri]

    impostor = world.remote("impostor", host="liar.example")
    world.docs[impostor.uri]["id"] = alice.uri  # claims to be someone of another server
    with pytest.raises(parse.Malformed, match="not on the host"):
        remote_actors.fetch_actor(rt, impostor.uri)


def test_a_key_published_apart_from_its_actor(
    client: TestClient, parvis: Parvis, world: Fediverse
) -> None:
    alice = world.remote("alice", host="gts.example")
    key_id = f"{alice.uri}/main-key"
    doc = alice.document()
    doc["publicKey"]["id"] = key_id
    world.docs[alice.uri] = doc
    world.docs[key_id] = {
        "id": key_id,
        "type": "Key",
        "owner": alice.uri,
        "publicKeyPem": alice.public_pem,
    }
    note = alice.note("<p>signed with a separate key</p>")
    body_doc = alice.create(note)
    body = json.dumps(body_doc).encode()
    r = client.post("/inbox", content=body, headers=alice.signed("/inbox", body, key_id=key_id))
    assert r.status_code == 202, r.text
    assert count(parvis, statuses, statuses.c.uri == note["id"]) == 1
    assert world.fetched() == [key_id, alice.uri]


def test_a_signature_by_another_actor_of_the_same_server_is_its_servers_word(
    client: TestClient, parvis: Parvis, world: Fediverse
) -> None:
    """A server holds its users' keys: one of them signing for another user of the same
    server adds nothing it could not forge anyway (another server's key is refused: see the
    fuzz tests)."""
    alice = world.remote("alice")
    mallory = world.remote("mallory")
    create = alice.create(alice.note("<p>relayed</p>"))
    body = json.dumps(create).encode()
    r = client.post("/inbox", content=body, headers=mallory.signed("/inbox", body))
    assert r.status_code == 202, r.text
    assert count(parvis, statuses, statuses.c.uri == create["object"]["id"]) == 1


def test_remote_votes_count_on_local_polls(
    client: TestClient, parvis: Parvis, world: Fediverse
) -> None:
    bob = make_user(client, "bob")
    poll = bob.status("Tea or coffee?", poll={"options": ["Tea", "Coffee"], "expires_in": 3600})
    alice = world.remote("alice")
    vote = {
        "id": f"{alice.uri}#votes/1",
        "type": "Note",
        "name": "Coffee",
        "attributedTo": alice.uri,
        "to": f"{BASE}/users/bob",
        "inReplyTo": poll["uri"],
    }
    accepted(client, alice, alice.create(vote))
    accepted(client, alice, alice.create(dict(vote, id=f"{alice.uri}#votes/2", name="Tea")))
    status = ok(bob.get(f"/api/v1/statuses/{poll['id']}"))
    assert [o["votes_count"] for o in status["poll"]["options"]] == [0, 1]  # single choice


def test_a_remote_quote_of_a_local_post(
    client: TestClient, parvis: Parvis, world: Fediverse
) -> None:
    bob = make_user(client, "bob")
    post = bob.status("quote me")
    alice = world.remote("alice")
    quote = alice.note(
        f'<p>so true<span class="quote-inline"><br>RE: {post["uri"]}</span></p>',
        quote=post["uri"],
    )
    accepted(client, alice, alice.create(quote))
    quoting = ok(client.get(f"/api/v1/statuses/{status_id(parvis, quote['id'])}"))
    assert quoting["quote"]["state"] == "accepted"
    assert quoting["quote"]["quoted_status"]["id"] == post["id"]
    notes = ok(bob.get("/api/v1/notifications", params={"types[]": "quote"}))
    assert [n["account"]["acct"] for n in notes] == ["alice@mastodon.example"]
    assert account_id(parvis, alice.uri) > 0
    r = deliver(client, alice, alice.create(quote))  # again: the same post, nothing new
    assert r.status_code == 202
