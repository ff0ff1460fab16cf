"""End-to-end encrypted messages through the real HTTP API, with the reference PyNaCl client
(tests/clients/e2e_client.py): two people with two devices each write to each other, and the
plaintext is nowhere on the server's side (database file, its WAL, any request or response);
outsiders get 404; a new or revoked device is noticed; a tampered envelope is refused by the
client; an envelope that forgets a device is refused by the server."""

from __future__ import annotations

import base64
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select, update
from starlette.testclient import TestClient

from parvis.app import Parvis
from parvis.storage.tables import e2e_deliveries, e2e_messages, metadata
from tests.builders import User, error_of, make_user, ok
from tests.clients.e2e_client import E2E, E2EClient, Refused, Tampered, b64, record_text

SECRET = "Rendez-vous au parvis à 18 h, code 7F3A-9C21 — ne le dis à personne"
REPLY = "D'accord : j'apporte les tracts. Réponse n°2 ✊"


@dataclass
class Wiretap:
    """Every request and response body that crossed the HTTP interface."""

    bodies: list[bytes]

    def holds(self, needle: bytes) -> bool:
        return any(needle in body for body in self.bodies)


@pytest.fixture
def wiretap(client: TestClient) -> Iterator[Wiretap]:
    tap = Wiretap([])

    def on_request(request: Any) -> None:
        tap.bodies.append(request.read())

    def on_response(response: Any) -> None:
        tap.bodies.append(response.read())

    client.event_hooks["request"].append(on_request)
    client.event_hooks["response"].append(on_response)
    yield tap
    client.event_hooks["request"].remove(on_request)
    client.event_hooks["response"].remove(on_response)


@dataclass
class Person:
    user: User
    devices: list[E2EClient]

    def device(self, label: str) -> E2EClient:
        d = E2EClient(self.user.client, self.user.token, label=label)
        d.publish()
        self.devices.append(d)
        return d


def person(client: TestClient, name: str, devices: int = 2) -> Person:
    p = Person(make_user(client, name), [])
    for i in range(devices):
        p.device(f"{name} device {i + 1}")
    return p


def stored_bytes(parvis: Parvis) -> bytes:
    """Every file of the server's data directory (the SQLite file, its WAL, media, the rest)
    and, on PostgreSQL, whose files are not ours to read, every value of every table."""
    root = Path(parvis.settings.data_dir)
    found = [p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()]
    if parvis.db.engine.dialect.name != "sqlite":
        with parvis.db.engine.connect() as conn:
            for table in metadata.sorted_tables:
                for row in conn.execute(select(table)):
                    for value in row:
                        found.append(value if isinstance(value, bytes) else str(value).encode())
    return b"\n".join(found)


def count(parvis: Parvis, table: Any) -> int:
    with parvis.db.engine.connect() as conn:
        return int(conn.execute(select(func.count()).select_from(table)).scalar_one())


def texts(received: list[Any]) -> list[str]:
    return [r.text for r in received]


# -- the exchange ------------------------------------------------------------------------------


def test_two_people_two_devices_each_plaintext_never_on_the_server(
    client: TestClient, parvis: Parvis, wiretap: Wiretap
) -> None:
    alice, bob = person(client, "alice"), person(client, "bob")
    a1, a2 = alice.devices
    b1, b2 = bob.devices
    convo = a1.start(bob.user.id)
    assert sorted(p["id"] for p in convo["participants"]) == sorted([alice.user.id, bob.user.id])
    assert b1.start(alice.user.id)["id"] == convo["id"]  # one-to-one: the same conversation

    sent = a1.send(convo["id"], SECRET)
    assert sorted(k["device_id"] for k in sent["keys"]) == sorted(
        d.device_id for d in (a1, a2, b1, b2)
    )
    for device in (b1, b2, a2):  # every other device, the sender's own other one included
        assert texts(device.inbox()) == [SECRET]
    assert a1.inbox() == []  # the sending device has it already
    assert b1.inbox() == []  # acknowledged: not delivered twice

    b2.send(convo["id"], REPLY)
    for device in (a1, a2, b1):
        got = device.inbox()
        assert texts(got) == [REPLY]
        assert got[0].sender_account_id == bob.user.id
        assert got[0].sender_device_id == b2.device_id
    history = a1.history(convo["id"])
    assert [a1.open(m).text for m in history] == [REPLY, SECRET]  # newest first
    assert a1.warnings == [] and b1.warnings == []

    # A public post goes into the same database: the scan below does find plaintext.
    public = "Un message public, lisible par tous, vu sur le serveur"
    alice.user.status(public)
    stored = stored_bytes(parvis)
    assert public.encode() in stored
    assert base64.b64decode(sent["ciphertext"]) in stored  # what is stored is the envelope…
    for plain in (SECRET, REPLY, "7F3A-9C21", "tracts"):  # …and never the words
        assert plain.encode() not in stored, plain
        assert not wiretap.holds(plain.encode()), plain
    assert wiretap.holds(public.encode())
    assert wiretap.holds(sent["ciphertext"].encode())


def test_a_third_person_cannot_see_the_conversation(client: TestClient) -> None:
    alice, bob, carol = (
        person(client, "alice", 1),
        person(client, "bob", 1),
        person(client, "carol", 1),
    )
    (a1,), (b1,), (c1,) = alice.devices, bob.devices, carol.devices
    convo = a1.start(bob.user.id)
    a1.send(convo["id"], SECRET)
    cid = convo["id"]
    unknown = str(int(cid) + 12345)
    for path in (
        f"{E2E}/conversations/{cid}",
        f"{E2E}/conversations/{cid}/messages",
        f"{E2E}/conversations/{cid}/devices",
    ):
        assert error_of(carol.user.get(path), 404) == "Record not found"
        gone = path.replace(cid, unknown)
        assert error_of(carol.user.get(gone), 404) == "Record not found"  # the same answer
    envelope = c1.seal(cid, "hello?", [c1.call("GET", f"{E2E}/devices")[0]])
    with pytest.raises(Refused) as refused:
        c1.post(cid, envelope)
    assert refused.value.status == 404
    assert ok(carol.user.get(f"{E2E}/conversations")) == []
    # Someone else's device queue is not found either.
    assert error_of(carol.user.get(f"{E2E}/devices/{b1.device_id}/inbox"), 404)
    r = carol.user.post(f"{E2E}/devices/{b1.device_id}/inbox/ack", json={"up_to_id": "1"})
    error_of(r, 404)
    assert error_of(carol.user.delete(f"{E2E}/devices/{b1.device_id}"), 404)
    assert texts(b1.inbox()) == [SECRET]  # carol's tries changed nothing for bob
    error_of(client.get(f"{E2E}/conversations/{cid}/messages"), 401)


# -- devices that change -----------------------------------------------------------------------


def test_a_new_or_revoked_device_is_noticed(client: TestClient) -> None:
    alice, bob = person(client, "alice", 1), person(client, "bob", 1)
    (a1,), (b1,) = alice.devices, bob.devices
    convo = a1.start(bob.user.id)
    a1.send(convo["id"], "premier")
    before = a1.safety_number(bob.user.id)
    assert before == b1.safety_number(alice.user.id)  # both see the same number
    assert len(before.split()) == 12 and all(len(g) == 5 for g in before.split())
    assert a1.warnings == []

    b2 = bob.device("bob's new phone")
    a1.send(convo["id"], "deuxième")
    assert len(a1.warnings) == 1
    change = a1.warnings[0]
    assert change.account_id == bob.user.id
    assert change.added == (b2.identity_key,) and change.removed == ()
    assert texts(b2.inbox()) == ["deuxième"]  # the new device reads what came after it
    after = a1.safety_number(bob.user.id)
    assert after != before and after == b1.safety_number(alice.user.id)

    b1.revoke()
    a1.send(convo["id"], "troisième")
    assert a1.warnings[-1].removed == (b1.identity_key,) and a1.warnings[-1].added == ()
    with pytest.raises(Refused) as refused:  # a revoked device sends nothing more
        b1.post(convo["id"], b1.seal(convo["id"], "encore", b1.devices_for(convo["id"])))
    assert refused.value.status == 422
    assert "sender_device_id" in refused.value.body["error"]
    assert [m.text for m in b2.inbox()] == ["troisième"]


def test_an_envelope_that_forgets_a_device_is_refused(client: TestClient, parvis: Parvis) -> None:
    alice, bob, carol = (
        person(client, "alice", 1),
        person(client, "bob", 1),
        person(client, "carol", 1),
    )
    (a1,), (b1,), (c1,) = alice.devices, bob.devices, carol.devices
    convo = a1.start(bob.user.id)
    stale = a1.devices_for(convo["id"])
    b2 = bob.device("bob 2")
    with pytest.raises(Refused) as refused:
        a1.post(convo["id"], a1.seal(convo["id"], SECRET, stale))
    assert refused.value.status == 422
    body = refused.value.body
    assert body["missing_device_ids"] == [b2.device_id] and body["unknown_device_ids"] == []
    assert b2.device_id in body["error"]
    outsider = c1.call("GET", f"{E2E}/devices")[0]
    with pytest.raises(Refused) as refused:
        a1.post(convo["id"], a1.seal(convo["id"], SECRET, [*a1.devices_for(convo["id"]), outsider]))
    assert refused.value.body["unknown_device_ids"] == [c1.device_id]
    assert refused.value.body["missing_device_ids"] == []
    assert count(parvis, e2e_messages) == 0

    a1.send(convo["id"], SECRET)  # the client fetches the devices again and warns
    assert [w.added for w in a1.warnings] == [(b2.identity_key,)]
    assert texts(b1.inbox()) == texts(b2.inbox()) == [SECRET]


def test_a_tampered_envelope_fails_on_the_client(client: TestClient, parvis: Parvis) -> None:
    alice, bob = person(client, "alice", 1), person(client, "bob", 1)
    (a1,), (b1,) = alice.devices, bob.devices
    convo = a1.start(bob.user.id)
    sent = a1.send(convo["id"], SECRET)
    with parvis.db.engine.begin() as conn:  # a malicious server flips one ciphertext byte
        blob = bytearray(
            conn.execute(
                select(e2e_messages.c.envelope).where(e2e_messages.c.id == int(sent["id"]))
            ).scalar_one()
        )
        blob[-1] ^= 0x01
        conn.execute(
            update(e2e_messages)
            .where(e2e_messages.c.id == int(sent["id"]))
            .values(envelope=bytes(blob))
        )
    with pytest.raises(Tampered, match="signature does not verify"):
        b1.inbox()

    # Another message whose signature was altered is refused too.
    good = a1.send(convo["id"], "deuxième")
    flipped = bytearray(base64.b64decode(good["signature"]))
    flipped[0] ^= 0x80
    forged = dict(good, signature=b64(bytes(flipped)))
    with pytest.raises(Tampered):
        b1.open(forged)
    assert b1.open(good).text == "deuxième"
    with pytest.raises(Tampered, match="replay"):  # the same nonce again, under another id
        b1.open(dict(good, id=str(int(good["id"]) + 1)))

    # And the server itself refuses an envelope whose signature does not verify.
    envelope = a1.seal(convo["id"], "trois", a1.devices_for(convo["id"]))
    envelope["ciphertext"] = a1.seal(convo["id"], "autre", a1.devices_for(convo["id"]))[
        "ciphertext"
    ]
    with pytest.raises(Refused) as refused:
        a1.post(convo["id"], envelope)
    assert refused.value.status == 422 and "signature" in refused.value.body["error"]


# -- paging, queues, validation ----------------------------------------------------------------


def test_history_pages_and_queues(client: TestClient, parvis: Parvis) -> None:
    alice, bob = person(client, "alice", 1), person(client, "bob", 1)
    (a1,), (b1,) = alice.devices, bob.devices
    convo = a1.start(bob.user.id)
    sent = [a1.send(convo["id"], f"message {i}")["id"] for i in range(5)]
    first = bob.user.get(f"{E2E}/conversations/{convo['id']}/messages", params={"limit": 2})
    assert [m["id"] for m in ok(first)] == sent[:-3:-1]
    assert "max_id=" in first.headers["link"]
    older = ok(
        bob.user.get(
            f"{E2E}/conversations/{convo['id']}/messages",
            params={"limit": 2, "max_id": sent[3]},
        )
    )
    assert [m["id"] for m in older] == [sent[2], sent[1]]
    newer = ok(
        bob.user.get(
            f"{E2E}/conversations/{convo['id']}/messages",
            params={"limit": 2, "min_id": sent[0]},
        )
    )
    assert [m["id"] for m in newer] == [sent[2], sent[1]]  # newest first, as in Mastodon
    listed = ok(bob.user.get(f"{E2E}/conversations"))
    assert [c["id"] for c in listed] == [convo["id"]]
    assert listed[0]["last_message_id"] == sent[-1]

    queue = ok(bob.user.get(f"{E2E}/devices/{b1.device_id}/inbox", params={"limit": 2}))
    assert [m["id"] for m in queue] == sent[:2]  # oldest first
    acked = bob.user.post(f"{E2E}/devices/{b1.device_id}/inbox/ack", json={"up_to_id": sent[1]})
    assert ok(acked) == {"acknowledged": 2}
    assert [r.id for r in b1.inbox()] == sent[2:]
    assert count(parvis, e2e_deliveries) == 5  # delivered rows keep only their fetch time

    # A revoked device's queue is dropped.
    a1.send(convo["id"], "pour personne")
    b1.revoke()
    assert ok(bob.user.get(f"{E2E}/devices/{b1.device_id}/inbox")) == []


def test_devices_are_checked_when_published(client: TestClient) -> None:
    alice = person(client, "alice", 1)
    (a1,) = alice.devices
    mine = ok(alice.user.get(f"{E2E}/devices"))
    assert [d["label"] for d in mine] == ["alice device 1"]
    assert "label" not in ok(alice.user.get(f"{E2E}/accounts/{alice.user.id}/devices"))[0]
    assert a1.publish()["id"] == a1.device_id  # publishing again: the same device

    fresh = E2EClient(client, alice.user.token)
    good = _record(fresh)
    for change, field in (
        ({"identity_key": "not base64!"}, "identity_key"),
        ({"agreement_key": good["identity_key"][:-4]}, "agreement_key"),
        ({"signature": a1.identity_key}, "signature"),
        ({"created_at": good["created_at"] + 3600}, "signature"),  # not what was signed
        ({"label": "x" * 300}, "label"),
        ({"created_at": "soon"}, "created_at"),
    ):
        assert field in error_of(alice.user.post(f"{E2E}/devices", json={**good, **change}), 422)
    future = _record(fresh, created=int(fresh.clock()) + 3600)
    assert "future" in error_of(alice.user.post(f"{E2E}/devices", json=future), 422)
    old = _record(fresh, created=int(fresh.clock()) - 3 * 86400)
    assert "day old" in error_of(alice.user.post(f"{E2E}/devices", json=old), 422)
    bob = make_user(client, "bob")  # a record signed for alice's account cannot be bob's
    assert "signature" in error_of(bob.post(f"{E2E}/devices", json=good), 422)

    for i in range(9):
        alice_devices = person_device(client, alice.user, f"extra {i}")
        assert alice_devices.device_id
    assert "revoke one" in error_of(alice.user.post(f"{E2E}/devices", json=good), 422)
    a1.revoke()
    assert "revoked" in error_of(alice.user.post(f"{E2E}/devices", json=_record(a1)), 409)
    assert ok(alice.user.post(f"{E2E}/devices", json=good))["identity_key"] == good["identity_key"]


def person_device(client: TestClient, user: User, label: str) -> E2EClient:
    d = E2EClient(client, user.token, label=label)
    d.publish()
    return d


def _record(device: E2EClient, created: int | None = None) -> dict[str, Any]:
    created = int(device.clock()) if created is None else created
    identity = bytes(device.signing.verify_key)
    agreement = bytes(device.agreement.public_key)
    signature = device.signing.sign(record_text(device.uri, identity, agreement, created))
    return {
        "identity_key": b64(identity),
        "agreement_key": b64(agreement),
        "created_at": created,
        "signature": b64(signature.signature),
        "label": "fresh",
    }


def test_conversations_are_checked(client: TestClient) -> None:
    alice, bob = person(client, "alice", 1), person(client, "bob", 1)
    post = lambda body: alice.user.post(f"{E2E}/conversations", json=body)  # noqa: E731
    assert "at least one other" in error_of(post({"participant_ids": [alice.user.id]}), 422)
    assert "participant_ids" in error_of(post({"participant_ids": []}), 422)
    assert "participant_ids" in error_of(post({"participant_ids": ["abc"]}), 422)
    assert "no such account" in error_of(post({"participant_ids": ["99999999"]}), 422)
    assert "participant_ids" in error_of(post({}), 422)
    crowd = [make_user(client).id for _ in range(32)]
    assert "at most 32" in error_of(post({"participant_ids": crowd}), 422)
    group = ok(post({"participant_ids": [bob.user.id, *crowd[:3]]}))
    assert len(group["participants"]) == 5
    again = ok(post({"participant_ids": [bob.user.id, *crowd[:3]]}))
    assert again["id"] != group["id"]  # a group is new each time; one-to-one is not

    one = ok(post({"participant_ids": [bob.user.id]}))
    ok(bob.user.post(f"/api/v1/accounts/{alice.user.id}/block"))
    assert "cannot start" in error_of(post({"participant_ids": [bob.user.id]}), 422)
    (a1,) = alice.devices
    with pytest.raises(Refused) as refused:
        a1.send(one["id"], "tu m'as bloquée ?")
    assert refused.value.status == 403


def test_envelopes_are_checked(client: TestClient, parvis: Parvis) -> None:
    alice, bob = person(client, "alice", 1), person(client, "bob", 1)
    (a1,), (b1,) = alice.devices, bob.devices
    convo = a1.start(bob.user.id)
    devices = a1.devices_for(convo["id"])
    good = a1.seal(convo["id"], SECRET, devices)
    url = f"{E2E}/conversations/{convo['id']}/messages"
    short_key = {**good["keys"][0], "sealed_key": good["keys"][0]["sealed_key"][:-8]}
    for change, field in (
        ({"nonce": good["nonce"][:-4]}, "nonce"),
        ({"ciphertext": "@@@@"}, "ciphertext"),
        ({"ciphertext": good["ciphertext"][:-8]}, "ciphertext"),  # no longer padded
        ({"signature": ""}, "signature"),
        ({"sender_device_id": b1.device_id}, "sender_device_id"),
        ({"sender_device_id": "x"}, "sender_device_id"),
        ({"keys": []}, "keys"),
        ({"keys": [good["keys"][0], good["keys"][0]]}, "twice"),
        ({"keys": [short_key, good["keys"][1]]}, "sealed_key"),
        ({"keys": "all"}, "keys"),
        ({"keys": [{"device_id": "1"}]}, "sealed_key"),
    ):
        assert field in error_of(alice.user.post(url, json={**good, **change}), 422), field
    assert count(parvis, e2e_messages) == 0
    ok(alice.user.post(url, json=good))
    assert texts(b1.inbox()) == [SECRET]


def test_the_privacy_policy_says_what_is_kept(client: TestClient) -> None:
    policy = ok(client.get("/api/v1/instance/privacy_policy"))["content"]
    assert "End-to-end encrypted messages" in policy
    assert "cannot decrypt" in policy and "rounded up to 256 bytes" in policy
    assert "not encrypted on the server" in policy  # Mastodon direct posts stay as they are
