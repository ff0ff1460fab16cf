"""Hostile bodies for the send endpoint of end-to-end encrypted messages (hypothesis): whatever
arrives, the answer is a 4xx with a message (never a 500), and nothing is stored unless the
envelope is the genuine one."""

from __future__ import annotations

import base64
import json
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select
from starlette.testclient import TestClient

from parvis.app import Parvis
from parvis.storage.tables import e2e_messages
from tests.builders import User, make_user
from tests.clients.e2e_client import E2E, E2EClient

FUZZ = settings(
    max_examples=150,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
FIELDS = ("sender_device_id", "nonce", "ciphertext", "keys", "signature")


@dataclass
class World:
    client: TestClient
    parvis: Parvis
    alice: User
    device: E2EClient
    conversation_id: str
    genuine: dict[str, Any]
    url: str

    def raw(self, content: bytes, content_type: str, url: str = "") -> Any:
        headers = {**self.alice.headers, "Content-Type": content_type}
        return self.client.post(url or self.url, content=content, headers=headers)

    def send(self, body: Any, url: str = "") -> Any:
        """As JSON; NaN and infinities too (Python's spelling, which is not JSON)."""
        return self.raw(json.dumps(body).encode(), "application/json", url)

    def stored(self) -> int:
        with self.parvis.db.engine.connect() as conn:
            return int(conn.execute(select(func.count()).select_from(e2e_messages)).scalar_one())


@pytest.fixture
def world(client: TestClient, parvis: Parvis) -> Iterator[World]:
    alice, bob = make_user(client, "alice"), make_user(client, "bob")
    a1 = E2EClient(client, alice.token)
    a1.publish()
    E2EClient(client, bob.token).publish()
    convo = a1.start(bob.id)
    genuine = a1.seal(convo["id"], "le vrai message", a1.devices_for(convo["id"]))
    url = f"{E2E}/conversations/{convo['id']}/messages"
    yield World(client, parvis, alice, a1, convo["id"], genuine, url)


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=40),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=12), children, max_size=4)
    ),
    max_leaves=16,
)
b64_strings = st.binary(max_size=120).map(lambda b: base64.b64encode(b).decode())
ids = st.integers(min_value=-5, max_value=2**64).map(str) | st.text(max_size=22)
field_values = json_values | b64_strings | ids
key_lists = st.lists(
    st.fixed_dictionaries(
        {"device_id": ids | json_values, "sealed_key": b64_strings | json_values}
    ),
    max_size=5,
)


def _check(world: World, response: Any, before: int, body: Any) -> None:
    assert response.status_code < 500, response.text
    if response.status_code == 200:
        assert body == world.genuine
        assert world.stored() == before + 1
        return
    assert 400 <= response.status_code < 500
    assert isinstance(response.json()["error"], str) and response.json()["error"]
    assert world.stored() == before


@FUZZ
@given(body=json_values)
def test_any_json_is_refused_cleanly(world: World, body: Any) -> None:
    before = world.stored()
    r = world.send(body)
    _check(world, r, before, body)


@FUZZ
@given(
    changes=st.dictionaries(
        st.sampled_from(FIELDS), field_values | key_lists, min_size=1, max_size=3
    ),
    dropped=st.sets(st.sampled_from(FIELDS), max_size=2),
)
def test_altered_envelopes_are_refused_cleanly(
    world: World, changes: dict[str, Any], dropped: set[str]
) -> None:
    body = {k: v for k, v in {**world.genuine, **changes}.items() if k not in dropped}
    before = world.stored()
    r = world.send(body)
    _check(world, r, before, body)


@FUZZ
@given(
    raw=st.binary(max_size=300),
    content_type=st.sampled_from(
        [
            "application/json",
            "application/x-www-form-urlencoded",
            "text/plain",
            "multipart/form-data",
        ]
    ),
)
def test_raw_bodies_are_refused_cleanly(world: World, raw: bytes, content_type: str) -> None:
    before = world.stored()
    r = world.raw(raw, content_type)
    _check(world, r, before, raw)


@FUZZ
@given(conversation=ids, body=st.just(None) | json_values)
def test_any_conversation_path_is_refused_cleanly(
    world: World, conversation: str, body: Any
) -> None:
    before = world.stored()
    payload = world.genuine if body is None else body
    path = f"{E2E}/conversations/{quote(conversation, safe='')}/messages"
    r = world.send(payload, path)
    _check(world, r, before, payload)
