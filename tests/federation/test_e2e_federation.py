"""End-to-end encrypted messages between Parvis servers (FEDERATION.md "Encrypted messages";
docs/messaging.md).

Three levels: the documents alone (built and read back; what is malformed, with hypothesis-made
junk); the real app on a real database with a fake fediverse at the outbound HTTP seam
(test_inbox.py's), where a remote Parvis account sends signed conversations and messages that
are stored or refused, before anything is kept, with the right status; and two real Parvis
servers on loopback (loopback.py) whose people, each with the reference PyNaCl client
(tests/clients/e2e_client.py) over HTTP, write to each other across the servers.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import nacl.bindings as sodium
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from nacl.public import PrivateKey
from nacl.signing import SigningKey
from starlette.testclient import TestClient

from parvis.app import Parvis
from parvis.domain.activitypub import e2e as e2e_ap
from parvis.domain.activitypub import parse
from parvis.domain.messaging import Envelope
from parvis.storage.tables import (
    e2e_conversations,
    e2e_deliveries,
    e2e_messages,
    federation_deliveries,
    federation_inbox,
)
from tests.builders import User, make_user, ok
from tests.clients.e2e_client import (
    E2E,
    E2EClient,
    Refused,
    b64,
    envelope_text,
    message_ad,
    record_text,
)
from tests.federation.loopback import Server, eventually, resolve, servers
from tests.federation.test_inbox import (
    BASE,
    Fediverse,
    Remote,
    accepted,
    count,
    deliver,
    inbox_state,
)
from tests.federation.test_inbox import client as client
from tests.federation.test_inbox import world as world
from tests.web.browser import browser, csrf, log_in

SECRET = "Rendez-vous au parvis à 18 h, code 7F3A-9C21 — ne le dis à personne"
REPLY = "D'accord : j'apporte les tracts. Réponse n°2 ✊"
GROUP = "Réunion du groupe mardi, salle 4B-77"
LATER = "Après la révocation : mot de passe Q9-ZEBRA"
PLAINTEXTS = (SECRET, REPLY, GROUP, LATER, "7F3A-9C21", "4B-77", "Q9-ZEBRA")


# -- the documents -----------------------------------------------------------------------------


@pytest.fixture(scope="module")
def keys() -> tuple[SigningKey, PrivateKey]:
    return SigningKey.generate(), PrivateKey.generate()


def _record(
    account: str, signing: SigningKey, agreement: PrivateKey, device_id: int = 4242
) -> e2e_ap.DeviceRecord:
    created = 1_760_000_000
    identity, agree = bytes(signing.verify_key), bytes(agreement.public_key)
    signature = signing.sign(record_text(account, identity, agree, created)).signature
    return e2e_ap.DeviceRecord(
        uri=e2e_ap.device_uri(account, device_id),
        account_uri=account,
        device_id=device_id,
        identity_key=identity,
        agreement_key=agree,
        created=created,
        signature=signature,
    )


def _sealed(
    signing: SigningKey,
    conversation_id: int,
    sender_device_id: int,
    recipients: dict[int, bytes],
    text: str = SECRET,
) -> Envelope:
    """An envelope as the reference client makes one (docs/messaging.md)."""
    plain = json.dumps({"v": 1, "type": "text", "text": text, "sent_at": "2026-01-01T12:00:00Z"})
    padded = sodium.sodium_pad(plain.encode(), 256)
    key, nonce = sodium.randombytes(32), sodium.randombytes(24)
    ciphertext = sodium.crypto_aead_xchacha20poly1305_ietf_encrypt(
        padded, message_ad(str(conversation_id), str(sender_device_id)), nonce, key
    )
    sealed = sorted((d, sodium.crypto_box_seal(key, k)) for d, k in recipients.items())
    signed = envelope_text(
        str(conversation_id),
        str(sender_device_id),
        nonce,
        ciphertext,
        [(str(d), k) for d, k in sealed],
    )
    return Envelope(nonce, ciphertext, tuple(sealed), signing.sign(signed).signature)


def test_the_documents_read_back_as_they_were_written(
    keys: tuple[SigningKey, PrivateKey],
) -> None:
    alice = "https://a.example/users/alice"
    record = _record(alice, *keys)
    assert record.verifies()
    moment = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)

    update = e2e_ap.devices_update(alice, [record], moment)
    assert update["type"] == "Update" and update["actor"] == alice
    owner, records = e2e_ap.device_collection(update["object"])
    assert (owner, records) == (alice, [record])
    assert "OrderedCollection" in update["object"]["type"]
    assert e2e_ap.device_collection(e2e_ap.collection(alice, []))[1] == []

    convo = e2e_ap.ConversationDoc(
        uri=e2e_ap.conversation_uri(alice, 77),
        conversation_id=77,
        starter_uri=alice,
        participants=(alice, "https://b.example/users/bob"),
        published=moment,
    )
    create = e2e_ap.create_conversation(convo)
    assert create["id"] == f"{alice}#e2e-conversations/77/activity"
    assert create["to"] == ["https://b.example/users/bob"]
    read = e2e_ap.remote_conversation(parse.activity(create).object)
    assert (read.uri, read.conversation_id, read.starter, read.participants) == (
        convo.uri,
        77,
        alice,
        convo.participants,
    )

    envelope = _sealed(keys[0], 77, record.device_id, {record.device_id: record.agreement_key})
    message = e2e_ap.MessageDoc(
        uri=e2e_ap.message_uri(alice, 99),
        conversation_uri=convo.uri,
        conversation_id=77,
        sender=record,
        envelope=envelope,
        to=("https://b.example/users/bob",),
        published=moment,
    )
    doc = e2e_ap.create_message(message)
    assert doc["object"]["envelope"]["keys"][0]["device_id"] == str(record.device_id)
    back = e2e_ap.remote_message(parse.activity(doc).object)
    assert (back.uri, back.conversation_uri, back.conversation_id) == (message.uri, convo.uri, 77)
    assert back.sender == record and back.envelope == envelope
    # A prefixed or full-IRI type reads the same; a post reader refuses the object.
    spelled = dict(doc["object"], type="https://parvis.social/ns#EncryptedMessage")
    assert e2e_ap.remote_message(spelled).envelope == envelope
    with pytest.raises(parse.Malformed):
        parse.note(doc["object"])
    # The actor names its device collection, with the term in its context.
    actor = e2e_ap.advertise({"@context": ["https://www.w3.org/ns/activitystreams"], "id": alice})
    assert e2e_ap.devices_link(actor) == f"{alice}/collections/e2e_devices"
    assert actor["@context"][-1]["e2eDevices"] == {"@id": "parvis:e2eDevices", "@type": "@id"}


def _message_doc(keys: tuple[SigningKey, PrivateKey]) -> dict[str, Any]:
    alice = "https://a.example/users/alice"
    record = _record(alice, *keys)
    envelope = _sealed(keys[0], 77, record.device_id, {record.device_id: record.agreement_key})
    return e2e_ap.message(
        e2e_ap.MessageDoc(
            uri=e2e_ap.message_uri(alice, 99),
            conversation_uri=e2e_ap.conversation_uri(alice, 77),
            conversation_id=77,
            sender=record,
            envelope=envelope,
            to=(),
            published=datetime(2026, 3, 1, tzinfo=UTC),
        )
    )


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"type": "Note"}, "type is not EncryptedMessage"),
        ({"attributedTo": "https://a.example/users/mallory"}, "not its author's"),
        ({"conversationId": 77}, "conversationId: a numeric id"),
        ({"e2eConversation": None}, "e2eConversation: missing"),
        ({"envelope": "sealed"}, "envelope: not a JSON object"),
        ({"envelope.nonce": "AAAA"}, "nonce: must be 24 bytes"),
        ({"envelope.ciphertext": b64(b"x" * 100)}, "padded to a multiple of 256"),
        ({"envelope.keys": []}, "keys: at least one"),
        ({"envelope.sender_device_id": "1"}, "not the sender device's id"),
        ({"senderDevice.identityKey": "!!"}, "identityKey: not valid base64"),
        ({"senderDevice.created": "soon"}, "created: seconds since the epoch"),
        ({"senderDevice.id": "https://elsewhere.example/d/1"}, "different hosts"),
    ],
)
def test_malformed_messages_say_what_is_wrong(
    keys: tuple[SigningKey, PrivateKey], change: dict[str, Any], message: str
) -> None:
    doc = _message_doc(keys)
    for path, value in change.items():
        where, _, name = path.rpartition(".")
        target = (
            doc[{"envelope": "envelope", "senderDevice": "senderDevice"}[where]] if where else doc
        )
        if value is None:
            del target[name]
        else:
            target[name] = value
    with pytest.raises(parse.Malformed, match=message):
        e2e_ap.remote_message(doc)


JUNK = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.text(max_size=20)
    | st.binary(max_size=8).map(b64),
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=12), inner, max_size=4)
    ),
    max_leaves=12,
)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    field=st.sampled_from(["senderDevice", "envelope", "conversationId", "e2eConversation"]),
    junk=JUNK,
)
def test_junk_in_any_field_is_malformed_never_a_crash(field: str, junk: Any) -> None:
    doc = _message_doc((SigningKey(b"k" * 32), PrivateKey(b"p" * 32)))
    doc[field] = junk
    try:
        e2e_ap.remote_message(doc)
    except parse.Malformed:
        return
    # Junk that still reads is the very value written (an id, a URI): nothing else passes.
    assert field in ("conversationId", "e2eConversation")


@settings(max_examples=150, deadline=None)
@given(junk=st.dictionaries(st.sampled_from(["type", "attributedTo", "orderedItems", "id"]), JUNK))
def test_junk_device_lists_and_conversations_are_malformed(junk: dict[str, Any]) -> None:
    for read in (e2e_ap.device_collection, e2e_ap.remote_conversation, e2e_ap.device_record):
        with pytest.raises(parse.Malformed):
            read(junk)


# -- one server, a remote Parvis account on a fake fediverse -----------------------------------


def _serve_nodeinfo(world: Fediverse, host: str) -> None:
    schema = "http://nodeinfo.diaspora.software/ns/schema/2.0"
    world.docs[f"https://{host}/.well-known/nodeinfo"] = {
        "id": f"https://{host}/.well-known/nodeinfo",  # read by the fake WebFinger, not Parvis
        "links": [{"rel": schema, "href": f"https://{host}/nodeinfo/2.0"}],
    }
    world.docs[f"https://{host}/nodeinfo/2.0"] = {
        "id": f"https://{host}/nodeinfo/2.0",
        "version": "2.0",
        "software": {"name": "parvis", "version": "1.0"},
        "protocols": ["activitypub"],
    }


class Peer:
    """A person on a remote Parvis server: an actor of the fake fediverse with one device."""

    def __init__(self, world: Fediverse, name: str) -> None:
        self.remote: Remote = world.remote(name, host="parvis.example")
        self.signing, self.agreement = SigningKey.generate(), PrivateKey.generate()
        self.device_id = 5_000_000_000 + len(world.docs)
        self.record = _record(self.remote.uri, self.signing, self.agreement, self.device_id)
        world.docs[self.remote.uri]["e2eDevices"] = e2e_ap.devices_uri(self.remote.uri)
        world.docs[e2e_ap.devices_uri(self.remote.uri)] = e2e_ap.collection(
            self.remote.uri, [self.record]
        )

    def conversation(self, conversation_id: int, *others: str) -> dict[str, Any]:
        doc = e2e_ap.ConversationDoc(
            uri=e2e_ap.conversation_uri(self.remote.uri, conversation_id),
            conversation_id=conversation_id,
            starter_uri=self.remote.uri,
            participants=(self.remote.uri, *others),
            published=datetime.now(UTC),
        )
        return e2e_ap.create_conversation(doc)

    def message(
        self,
        conversation_id: int,
        recipients: dict[int, bytes],
        seq: int,
        *,
        record: e2e_ap.DeviceRecord | None = None,
        signing: SigningKey | None = None,
    ) -> dict[str, Any]:
        record = record or self.record
        mine = {record.device_id: record.agreement_key, **recipients}
        doc = e2e_ap.MessageDoc(
            uri=e2e_ap.message_uri(self.remote.uri, seq),
            conversation_uri=e2e_ap.conversation_uri(self.remote.uri, conversation_id),
            conversation_id=conversation_id,
            sender=record,
            envelope=_sealed(signing or self.signing, conversation_id, record.device_id, mine),
            to=(),
            published=datetime.now(UTC),
        )
        return e2e_ap.create_message(doc)


def _local_device(client: TestClient, name: str) -> tuple[User, E2EClient]:
    user = make_user(client, name)
    device = E2EClient(client, user.token, label=f"{name}'s laptop")
    device.publish()
    return user, device


def _refuser(client: TestClient, parvis: Parvis) -> Callable[[Remote, dict[str, Any], int], str]:
    """Deliver, expect `status`, and check nothing was stored, not even the activity."""

    def refused(who: Remote, doc: dict[str, Any], status: int) -> str:
        before = count(parvis, e2e_messages), count(parvis, e2e_conversations)
        r = deliver(client, who, doc)
        assert r.status_code == status, r.text
        assert count(parvis, federation_inbox, federation_inbox.c.activity_uri == doc["id"]) == 0
        assert (count(parvis, e2e_messages), count(parvis, e2e_conversations)) == before
        return str(r.json()["error"])

    return refused


def test_a_remote_conversation_and_its_messages_are_checked_then_stored(
    client: TestClient, parvis: Parvis, world: Fediverse
) -> None:
    _serve_nodeinfo(world, "parvis.example")
    peer, mallory = Peer(world, "paul"), Peer(world, "mallory")
    bob, b1 = _local_device(client, "bob")
    _carol, c1 = _local_device(client, "carol")
    bob_uri = f"{BASE}/users/bob"
    b1_id, b1_key = int(b1.device_id or 0), bytes(b1.agreement.public_key)
    refused = _refuser(client, parvis)

    # The conversation: by its starter only, with someone here in it.
    genuine = peer.conversation(101, bob_uri)
    by_mallory = {**genuine, "actor": mallory.remote.uri, "id": f"{mallory.remote.uri}#c/101"}
    assert "starter is not the actor" in refused(mallory.remote, by_mallory, 403)
    elsewhere = peer.conversation(102, "https://elsewhere.example/users/x")
    assert "nobody on this server" in refused(peer.remote, elsewhere, 422)
    accepted(client, peer.remote, genuine)
    assert inbox_state(parvis, genuine["id"]) == ("done", "")
    listed = b1.call("GET", f"{E2E}/conversations")
    assert [c["id"] for c in listed] == ["101"]  # the id its starter's server gave
    assert sorted(p["acct"] for p in listed[0]["participants"]) == ["bob", "paul@parvis.example"]
    taken = peer.conversation(101, bob_uri, f"{BASE}/users/carol")
    taken["object"]["id"] = f"{peer.remote.uri}#another"
    taken["id"] = f"{peer.remote.uri}#another/activity"
    assert "another conversation's here" in refused(peer.remote, taken, 409)

    # Messages: from a participant, signed by it, for the devices of the conversation.
    good = peer.message(101, {b1_id: b1_key}, 1)
    assert "signed by another account" in refused(mallory.remote, good, 403)
    forged = peer.message(101, {b1_id: b1_key}, 2, signing=SigningKey.generate())
    assert "signature does not verify" in refused(peer.remote, forged, 403)
    outsider = mallory.message(101, {b1_id: b1_key}, 3)
    outsider["object"]["e2eConversation"] = genuine["object"]["id"]
    assert "not in the conversation" in refused(mallory.remote, outsider, 403)
    nowhere = peer.message(999, {b1_id: b1_key}, 4)
    assert "no such conversation" in refused(peer.remote, nowhere, 422)
    for_carol = peer.message(101, {int(c1.device_id or 0): bytes(c1.agreement.public_key)}, 5)
    assert "not an active device of a participant" in refused(peer.remote, for_carol, 422)
    for_nobody = peer.message(101, {123456789: b1_key}, 6)
    assert "does not cover" in refused(peer.remote, for_nobody, 422)

    accepted(client, peer.remote, good)
    assert inbox_state(parvis, good["id"]) == ("done", "")
    [received] = b1.inbox()
    assert (received.text, received.sender_device_id) == (SECRET, str(peer.device_id))
    assert received.conversation_id == "101"
    accepted(client, peer.remote, good)  # a re-delivery stores nothing twice
    assert count(parvis, e2e_messages) == 1 and b1.inbox() == []
    assert count(parvis, e2e_deliveries) == 1  # for bob's device only
    assert bob.id


# -- two real Parvis servers -------------------------------------------------------------------


@pytest.fixture(scope="module")
def net(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Server]]:
    with servers(tmp_path_factory.mktemp("e2e"), "a", "b") as started:
        yield started


def _device(server: Server, user: User, label: str) -> E2EClient:
    device = E2EClient(server.http, user.token, label=label)
    device.publish()
    return device


def _arrived(device: E2EClient, *servers_: Server, want: int = 1) -> list[str]:
    """What reaches the device across the servers, opened (verified, decrypted) and acked."""
    got: list[str] = []

    def more() -> list[str] | None:
        got.extend(r.text for r in device.inbox())
        return got if len(got) >= want else None

    return eventually(more, f"{want} message(s) for device {device.device_id}", *servers_)


def _stored_bytes(server: Server) -> bytes:
    """Every file of the server's data directory: the SQLite file, its WAL, the rest."""
    root = Path(server.data_dir)
    return b"\n".join(p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file())


def _has_device(server: Server, device_id: str | None, *, revoked: bool = False) -> bool:
    state = "IS NOT NULL" if revoked else "IS NULL"
    rows = server.query(
        f"SELECT id FROM e2e_devices WHERE id = ? AND revoked_at {state}", int(device_id or 0)
    )
    return bool(rows)


@pytest.mark.slow
def test_people_on_two_servers_write_to_each_other(net: dict[str, Server]) -> None:
    a, b = net["a"], net["b"]
    alice, bob = a.user("alice"), b.user("bob")
    a1, b1 = _device(a, alice, "alice 1"), _device(b, bob, "bob 1")
    bob_on_a = resolve(alice, f"bob@{b.domain}")
    convo = a1.start(bob_on_a["id"])
    cid = convo["id"]
    eventually(
        lambda: b.query("SELECT uri FROM e2e_conversations WHERE id = ?", int(cid)),
        "the conversation on B",
        a,
        b,
    )
    # Both servers know it under the id A gave it; Bob finds it in his list.
    assert [c["id"] for c in b1.call("GET", f"{E2E}/conversations")] == [cid]
    alice_on_b = resolve(bob, f"alice@{a.domain}")
    assert b1.start(alice_on_b["id"])["id"] == cid  # one-to-one: the same conversation

    sent = a1.send(cid, SECRET)  # A reads Bob's devices from B, seals to them
    assert sorted(k["device_id"] for k in sent["keys"]) == sorted([a1.device_id, b1.device_id])
    assert _arrived(b1, a, b) == [SECRET]
    b1.send(cid, REPLY)
    assert _arrived(a1, a, b) == [REPLY]
    # Each side's history verifies and decrypts on the other's device.
    assert [b1.open(m).text for m in b1.history(cid)] == [REPLY, SECRET]
    assert a1.warnings == [] and b1.warnings == []
    assert a1.safety_number(bob_on_a["id"]) == b1.safety_number(alice_on_b["id"])

    # Bob adds a device: A hears of it; Alice's stale envelope is refused, her client fetches
    # the devices again and warns of the new key.
    stale = a1.devices_for(cid)
    b2 = _device(b, bob, "bob 2")
    eventually(lambda: _has_device(a, b2.device_id), "bob's new device on A", a, b)
    with pytest.raises(Refused) as refused:
        a1.post(cid, a1.seal(cid, "périmé", stale))
    assert refused.value.body["missing_device_ids"] == [b2.device_id]
    a1.send(cid, GROUP)
    [change] = a1.warnings
    assert change.account_id == bob_on_a["id"] and change.added == (b2.identity_key,)
    assert _arrived(b2, a, b) == [GROUP] and _arrived(b1, a, b) == [GROUP]

    # Bob revokes his first device: A stops sealing to it, and it receives nothing more.
    before = a1.devices_for(cid)
    b1.revoke()
    eventually(lambda: _has_device(a, b1.device_id, revoked=True), "the revocation on A", a, b)
    with pytest.raises(Refused) as refused:
        a1.post(cid, a1.seal(cid, "pour b1", before))
    assert refused.value.body["unknown_device_ids"] == [b1.device_id]
    a1.send(cid, LATER)
    assert a1.warnings[-1].removed == (b1.identity_key,)
    assert _arrived(b2, a, b) == [LATER]
    assert b1.inbox() == []
    rows = b.query(
        "SELECT count(*) FROM e2e_deliveries WHERE device_id = ?", int(b1.device_id or 0)
    )
    assert rows == [(2,)]  # SECRET and GROUP: nothing after the revocation

    # Neither server holds any of the words, while both hold the ciphertexts.
    for server in (a, b):
        stored = _stored_bytes(server)
        assert base64.b64decode(sent["ciphertext"]) in stored
        for plain in PLAINTEXTS:
            assert plain.encode() not in stored, (server.name, plain)


@pytest.mark.slow
def test_a_group_with_two_people_on_a_and_one_on_b(net: dict[str, Server]) -> None:
    a, b = net["a"], net["b"]
    anna, carl, bea = a.user("anna"), a.user("carl"), b.user("bea")
    an1, ca1, be1 = _device(a, anna, "anna"), _device(a, carl, "carl"), _device(b, bea, "bea")
    bea_on_a = resolve(anna, f"bea@{b.domain}")
    group = an1.start(carl.id, bea_on_a["id"])
    gid = group["id"]
    eventually(
        lambda: b.query("SELECT id FROM e2e_conversations WHERE id = ?", int(gid)),
        "the group on B",
        a,
        b,
    )
    listed = be1.call("GET", f"{E2E}/conversations/{gid}")
    assert sorted(p["acct"] for p in listed["participants"]) == sorted(
        ["bea", f"anna@{a.domain}", f"carl@{a.domain}"]
    )

    ca1.send(gid, GROUP)  # from A: one delivery to B, queued there for Bea's device
    assert _arrived(be1, a, b) == [GROUP] and _arrived(an1, a, b) == [GROUP]
    be1.send(gid, REPLY)  # from B: to A, queued there for both Anna and Carl
    assert _arrived(an1, a, b) == [REPLY] and _arrived(ca1, a, b) == [REPLY]
    assert an1.warnings == ca1.warnings == be1.warnings == []
    # Carl's message went to B once (its shared inbox), not once per person there.
    delivered = a.query(
        "SELECT count(*) FROM federation_deliveries WHERE activity_uri LIKE ?",
        "%/users/carl#e2e-messages/%",
    )
    assert delivered == [(1,)]
    for server in (a, b):
        assert REPLY.encode() not in _stored_bytes(server)
        assert GROUP.encode() not in _stored_bytes(server)


def test_starting_with_remote_people_sends_to_parvis_servers_only(
    client: TestClient, parvis: Parvis, world: Fediverse
) -> None:
    _serve_nodeinfo(world, "parvis.example")
    peer = Peer(world, "paul")
    mastodon = world.remote("mia", host="mastodon.example")  # no NodeInfo: not Parvis
    alice, a1 = _local_device(client, "alice")
    ids = {}
    for who in (peer.remote, mastodon):
        found = alice.get("/api/v2/search", params={"q": who.acct, "resolve": "true"})
        ids[who.acct] = ok(found)["accounts"][0]["id"]
    with pytest.raises(Refused) as refused:
        a1.start(ids[mastodon.acct])
    assert refused.value.status == 422 and "only Parvis servers" in refused.value.body["error"]

    convo = a1.start(ids[peer.remote.acct])
    [(url, create)] = world.sent("Create")
    assert url == "https://parvis.example/inbox"
    assert create["object"]["type"] == "EncryptedConversation"
    assert create["object"]["conversationId"] == convo["id"]
    assert create["object"]["participants"] == [f"{BASE}/users/alice", peer.remote.uri]
    devices = a1.devices_for(convo["id"])  # read from the peer's server, records verified
    assert sorted(d["id"] for d in devices) == sorted([a1.device_id, str(peer.device_id)])
    a1.send(convo["id"], SECRET)
    [(url, sent)] = [
        (u, d) for u, d in world.sent("Create") if d["object"]["type"] != "EncryptedConversation"
    ]
    assert url == "https://parvis.example/inbox" and sent["actor"] == f"{BASE}/users/alice"
    assert sent["object"]["senderDevice"]["deviceId"] == a1.device_id
    assert SECRET.encode() not in json.dumps(sent).encode()
    # Alice's actor names her device collection, which lists her device's signed record.
    actor = client.get("/users/alice", headers={"Accept": "application/activity+json"}).json()
    listed = client.get(
        actor["e2eDevices"].removeprefix(BASE), headers={"Accept": "application/activity+json"}
    )
    owner, records = e2e_ap.device_collection(listed.json())
    assert owner == actor["id"] and [str(r.device_id) for r in records] == [a1.device_id]
    assert records[0].verifies()
    # Her new device goes to the peer's server in an Update of that collection.
    _device_for(client, alice, "alice 2")
    [(url, update)] = world.sent("Update")
    assert len(e2e_ap.device_collection(update["object"])[1]) == 2


def _device_for(client: TestClient, user: User, label: str) -> E2EClient:
    device = E2EClient(client, user.token, label=label)
    device.publish()
    return device


def test_a_device_whose_id_is_taken_here_is_refused_with_a_clear_error(
    client: TestClient, parvis: Parvis, world: Fediverse
) -> None:
    _serve_nodeinfo(world, "parvis.example")
    alice, a1 = _local_device(client, "alice")
    peer = Peer(world, "paul")
    clash = _record(
        peer.remote.uri, SigningKey.generate(), PrivateKey.generate(), int(a1.device_id or 0)
    )
    world.docs[e2e_ap.devices_uri(peer.remote.uri)] = e2e_ap.collection(
        peer.remote.uri, [peer.record, clash]
    )
    found = ok(alice.get("/api/v2/search", params={"q": peer.remote.acct, "resolve": "true"}))
    convo = a1.start(found["accounts"][0]["id"])
    answer = a1.call("GET", f"{E2E}/conversations/{convo['id']}/devices")
    theirs = next(p for p in answer["participants"] if p["account"]["id"] != alice.id)
    assert [d["id"] for d in theirs["devices"]] == [str(peer.device_id)]  # never overwritten
    [unreachable] = answer["unreachable_devices"]
    assert unreachable["device_id"] == a1.device_id
    assert "ask them to re-create their device" in unreachable["error"]
    assert a1.call("GET", f"{E2E}/devices")[0]["account_id"] == alice.id  # alice's is intact


def test_blocks_keep_remote_conversations_and_messages_out(
    client: TestClient, parvis: Parvis, world: Fediverse
) -> None:
    _serve_nodeinfo(world, "parvis.example")
    peer = Peer(world, "paul")
    bob, b1 = _local_device(client, "bob")
    bob_uri = f"{BASE}/users/bob"
    accepted(client, peer.remote, peer.conversation(201, bob_uri))
    message = peer.message(201, {int(b1.device_id or 0): bytes(b1.agreement.public_key)}, 1)
    peer_id = ok(bob.get("/api/v2/search", params={"q": peer.remote.acct, "resolve": "true"}))
    ok(bob.post(f"/api/v1/accounts/{peer_id['accounts'][0]['id']}/block"))
    accepted(client, peer.remote, message)
    assert inbox_state(parvis, message["id"]) == ("done", "ignored: blocked")
    blocked = peer.conversation(202, bob_uri)
    accepted(client, peer.remote, blocked)
    state = inbox_state(parvis, blocked["id"])
    assert state == (
        "done",
        "ignored: a participant here blocks the starter, or is blocked by them",
    )
    assert b1.inbox() == [] and count(parvis, e2e_messages) == 0


def test_the_web_form_starts_a_conversation_with_someone_on_another_parvis_server(
    client: TestClient, parvis: Parvis, world: Fediverse
) -> None:
    """Messages → New conversation with `@name@server`: a known account of a Parvis server is
    taken in (its server asked by NodeInfo), and the conversation is sent there."""
    _serve_nodeinfo(world, "parvis.example")
    peer = Peer(world, "paula")
    lea, _ = _local_device(client, "lea")
    found = lea.get("/api/v2/search", params={"q": "paula@parvis.example", "resolve": "true"})
    assert [a["acct"] for a in ok(found)["accounts"]] == ["paula@parvis.example"]

    web = browser(client)
    log_in(web, "lea@example.org", "correct horse battery")
    token = csrf(web.get("/messages").text)
    r = web.post(
        "/messages",
        data={"csrf": token, "people": "@paula@parvis.example"},
        follow_redirects=False,
    )
    assert r.status_code == 303, r.text
    conversation_id = r.headers["location"].rsplit("/", 1)[1]
    [row] = parvis.runtime.read(
        lambda work: work.store.conn.execute(
            e2e_conversations.select().where(e2e_conversations.c.id == int(conversation_id))
        ).all()
    )
    assert row.uri and row.uri.startswith(BASE)
    sent = count(parvis, federation_deliveries, federation_deliveries.c.host == "parvis.example")
    assert sent == 1, "the conversation's Create goes to paula's server"
    assert peer.remote.uri

    unknown = web.post(
        "/messages",
        data={"csrf": csrf(web.get("/messages").text), "people": "@nobody@parvis.example"},
    )
    assert unknown.status_code == 422
    assert "No account is called @nobody@parvis.example here." in unknown.text

    # Someone who blocks a server cannot start a conversation with anyone there.
    ok(lea.post("/api/v1/domain_blocks", data={"domain": "parvis.example"}))
    paula_id = ok(found)["accounts"][0]["id"]
    refused = lea.post(f"{E2E}/conversations", json={"participant_ids": [paula_id]})
    assert refused.status_code == 422
    assert "you block the server of @paula@parvis.example" in refused.json()["error"]
