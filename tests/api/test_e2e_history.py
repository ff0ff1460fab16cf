"""History on a new device (docs/messaging.md): on the user's request, an old device re-seals
the keys of the messages it can open to a new device of the same account, which then reads
them and checks the original senders' signatures as before. Through the real HTTP API with the
reference PyNaCl client; every refusal is a 422 naming the field, with nothing stored."""

from __future__ import annotations

import base64
import json
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import nacl.bindings as sodium
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select
from starlette.testclient import TestClient

from parvis.app import Parvis
from parvis.storage.tables import e2e_history_keys
from tests.api.test_e2e_messaging import person
from tests.builders import User, error_of, ok
from tests.clients.e2e_client import E2E, E2EClient, E2EError, Tampered, b64


def given_keys(parvis: Parvis) -> int:
    with parvis.db.engine.connect() as conn:
        return int(conn.execute(select(func.count()).select_from(e2e_history_keys)).scalar_one())


def everything(device: E2EClient, conversation_id: str) -> list[dict[str, Any]]:
    """Every message of the conversation, newest first, as this device asks for them."""
    found: list[dict[str, Any]] = []
    while page := device.history(conversation_id, max_id=found[-1]["id"] if found else None):
        found += page
    return found


def sealed_to(device: E2EClient) -> str:
    """A well-formed sealed box to the device, holding a key that opens nothing."""
    return b64(sodium.crypto_box_seal(bytes(32), bytes(device.agreement.public_key)))


def test_a_new_device_reads_the_history_it_is_given(client: TestClient, parvis: Parvis) -> None:
    alice, bob, carol = (
        person(client, "alice", 1),
        person(client, "bob", 1),
        person(client, "carol", 1),
    )
    (a1,), (b1,), (c1,) = alice.devices, bob.devices, carol.devices
    pair = a1.start(bob.user.id)["id"]
    group = c1.start(alice.user.id, bob.user.id)["id"]
    a1.send(pair, "premier, d'alice")
    b1.send(pair, "réponse de bob")
    for i in range(41):  # more than a page of 40
        c1.send(group, f"carol {i}")
    assert len(a1.inbox()) == 42

    a2 = alice.device("alice's new laptop")
    old = everything(a2, pair) + everything(a2, group)
    assert len(old) == 43
    for message in old:  # sealed before it existed: unreadable, and nothing given yet
        assert message["history_key"] is None
        with pytest.raises(E2EError, match="not sealed to this device"):
            a2.open(message)

    assert a1.give_history(a2.device_id) == 43  # every message a1 can open
    assert given_keys(parvis) == 43
    mine = everything(a2, pair)
    assert [a2.open(m).text for m in mine] == ["réponse de bob", "premier, d'alice"]
    assert [m.sender_device_id for m in map(a2.open, mine)] == [b1.device_id, a1.device_id]
    assert [a2.open(m).text for m in everything(a2, group)] == [
        f"carol {i}" for i in reversed(range(41))
    ]
    # The keys are the device's own: another device of the account, or no device, sees none.
    assert all(m["history_key"] is None for m in everything(a1, pair))
    plain = ok(alice.user.get(f"{E2E}/conversations/{pair}/messages"))
    assert all(m["history_key"] is None for m in plain)

    # What comes after is sealed to a2 as usual; giving again replaces, never duplicates.
    b1.send(pair, "bienvenue au nouveau portable")
    assert [r.text for r in a2.inbox()][-1] == "bienvenue au nouveau portable"
    assert a1.give_history(a2.device_id) == 44
    assert given_keys(parvis) == 44

    # A device given history can pass it on (it could open those messages).
    a3 = alice.device("alice's phone")
    assert a2.give_history(a3.device_id) == 44
    assert len([a3.open(m) for m in everything(a3, group)]) == 41

    # The server cannot hand a working key it does not have: a wrong key fails the AEAD, and
    # the signature still speaks for the original sender only.
    first = everything(a3, pair)[-1]
    r = alice.user.post(
        f"{E2E}/devices/{a3.device_id}/history",
        json={
            "from_device_id": a1.device_id,
            "keys": [{"message_id": first["id"], "sealed_key": sealed_to(a3)}],
        },
    )
    assert ok(r) == {"stored": 1}
    with pytest.raises(Tampered, match="does not decrypt"):
        a3.open(everything(a3, pair)[-1])

    # Revoking a device drops what it was given (a2 keeps its own).
    assert given_keys(parvis) == 88
    a3.revoke()
    assert given_keys(parvis) == 44


@dataclass
class Scene:
    client: TestClient
    parvis: Parvis
    alice: User
    bob: User
    a1: E2EClient
    a2: E2EClient
    b1: E2EClient
    old: str  # a message sealed to a1, not to a2
    new: str  # a message sealed to both
    elsewhere: str  # a message of bob and carol's conversation

    def give(
        self, to: str, from_device: Any, keys: list[dict[str, Any]], who: User | None = None
    ) -> Any:
        body = {"from_device_id": from_device, "keys": keys}
        return (who or self.alice).post(f"{E2E}/devices/{to}/history", json=body)

    def key(self, message_id: str, device: E2EClient | None = None) -> dict[str, str]:
        return {"message_id": message_id, "sealed_key": sealed_to(device or self.a2)}


@pytest.fixture
def scene(client: TestClient, parvis: Parvis) -> Iterator[Scene]:
    alice, bob, carol = (
        person(client, "alice", 1),
        person(client, "bob", 1),
        person(client, "carol", 1),
    )
    (a1,), (b1,) = alice.devices, bob.devices
    pair = a1.start(bob.user.id)["id"]
    old = b1.send(pair, "avant")["id"]
    a2 = alice.device("alice 2")
    new = b1.send(pair, "après")["id"]
    elsewhere = b1.send(b1.start(carol.user.id)["id"], "entre bob et carol")["id"]
    yield Scene(client, parvis, alice.user, bob.user, a1, a2, b1, old, new, elsewhere)


def refused(scene: Scene, r: Any, field: str) -> None:
    assert field in error_of(r, 422)
    assert given_keys(scene.parvis) == 0


def test_history_is_refused_for_devices_that_are_not_yours(scene: Scene) -> None:
    s = scene
    key = [s.key(s.old)]
    refused(s, s.give(s.b1.device_id, s.a1.device_id, key), "id")  # bob's device
    refused(s, s.give(s.a2.device_id, s.b1.device_id, key), "from_device_id")
    refused(s, s.give(s.a2.device_id, "12x", key), "from_device_id")
    refused(s, s.give(s.a2.device_id, s.a2.device_id, key), "from_device_id")  # itself
    refused(s, s.give(s.a2.device_id, s.a1.device_id, key, who=s.bob), "id")  # bob asks
    error_of(s.client.post(f"{E2E}/devices/{s.a2.device_id}/history", json={}), 401)
    # The device reading history must be yours too.
    convo = ok(s.alice.get(f"{E2E}/conversations"))[0]["id"]
    url = f"{E2E}/conversations/{convo}/messages"
    assert "device_id" in error_of(s.alice.get(url, params={"device_id": s.b1.device_id}), 422)
    assert "device_id" in error_of(s.alice.get(url, params={"device_id": "x"}), 422)


def test_history_is_refused_for_messages_the_giver_cannot_open(scene: Scene) -> None:
    s = scene
    a3 = E2EClient(s.client, s.alice.token, label="alice 3")
    a3.publish()
    # a2 was not sealed `old` and was given nothing: it cannot give it (all or nothing).
    both = [s.key(s.new, a3), s.key(s.old, a3)]
    refused(s, s.give(a3.device_id, s.a2.device_id, both), "keys.1.message_id")
    # A conversation alice is not in, a message that does not exist: the same answer.
    refused(s, s.give(s.a2.device_id, s.a1.device_id, [s.key(s.elsewhere)]), "keys.0.message_id")
    unknown = str(int(s.old) + 7)
    refused(s, s.give(s.a2.device_id, s.a1.device_id, [s.key(unknown)]), "keys.0.message_id")
    refused(s, s.give(s.a2.device_id, s.a1.device_id, [s.key(s.old), s.key(s.old)]), "keys.1")


def test_history_keys_are_checked(scene: Scene) -> None:
    s = scene
    to, by = s.a2.device_id, s.a1.device_id
    short = b64(base64.b64decode(sealed_to(s.a2))[:79])
    for sealed in ("not base64!", short, b64(bytes(81)), ""):
        r = s.give(to, by, [{"message_id": s.old, "sealed_key": sealed}])
        refused(s, r, "keys.0.sealed_key")
    refused(s, s.give(to, by, [{"message_id": "abc", "sealed_key": sealed_to(s.a2)}]), "keys.0")
    refused(s, s.give(to, by, []), "keys")
    refused(s, s.give(to, by, [s.key(s.old)] * 501), "keys")
    # Revoked devices neither give nor receive.
    s.a1.revoke()
    refused(s, s.give(to, by, [s.key(s.old)]), "from_device_id")
    s.a2.revoke()
    refused(s, s.give(to, by, [s.key(s.new)]), "id")


def test_a_valid_gift_is_stored_once(scene: Scene) -> None:
    s = scene
    r = s.give(s.a2.device_id, s.a1.device_id, [s.key(s.old)])
    assert ok(r) == {"stored": 1} and given_keys(s.parvis) == 1
    assert ok(s.give(s.a2.device_id, s.a1.device_id, [s.key(s.old)])) == {"stored": 1}
    assert given_keys(s.parvis) == 1


FUZZ = settings(
    max_examples=120,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=30),
    lambda children: (
        st.lists(children, max_size=3) | st.dictionaries(st.text(max_size=12), children, max_size=3)
    ),
    max_leaves=10,
)
b64_strings = st.binary(max_size=100).map(lambda b: base64.b64encode(b).decode())


def decoded(text: str) -> bytes:
    try:
        return base64.b64decode(text.encode("ascii"), validate=True)
    except ValueError:  # binascii.Error, UnicodeEncodeError
        return b""


@FUZZ
@given(
    from_device=st.sampled_from(["a1", "a2", "b1"]) | json_values,
    message=st.sampled_from(["old", "new", "elsewhere"]) | json_values,
    sealed=b64_strings | json_values,
    body=st.none() | json_values,
)
def test_hostile_gifts_are_refused_cleanly(
    scene: Scene, from_device: Any, message: Any, sealed: Any, body: Any
) -> None:
    """Whatever arrives: a 4xx with a message, never a 500, and nothing stored unless alice's
    a1 gives a2 a well-formed key for a message a1 can open."""
    s = scene
    devices = {"a1": s.a1.device_id, "a2": s.a2.device_id, "b1": s.b1.device_id}
    messages = {"old": s.old, "new": s.new, "elsewhere": s.elsewhere}
    giver = devices.get(from_device, from_device) if isinstance(from_device, str) else from_device
    mid = messages.get(message, message) if isinstance(message, str) else message
    before = given_keys(s.parvis)
    payload = (
        body
        if body is not None
        else {
            "from_device_id": giver,
            "keys": [{"message_id": mid, "sealed_key": sealed}],
        }
    )
    r = s.client.post(  # NaN and infinities too (Python's spelling, which is not JSON)
        f"{E2E}/devices/{s.a2.device_id}/history",
        content=json.dumps(payload).encode(),
        headers={**s.alice.headers, "Content-Type": "application/json"},
    )
    assert r.status_code < 500, r.text
    genuine = (
        body is None
        and giver == s.a1.device_id
        and mid in (s.old, s.new)
        and isinstance(sealed, str)
        and len(decoded(sealed)) == 80
    )
    if r.status_code == 200:
        assert genuine and r.json() == {"stored": 1}
        assert given_keys(s.parvis) in (before, before + 1)
    else:
        assert not genuine
        assert 400 <= r.status_code < 500 and r.json()["error"]
        assert given_keys(s.parvis) == before
