"""Hostile deliveries to the inbox (hypothesis): bad signatures, wrong digests, oversized
bodies, non-JSON, malformed JSON-LD, actors on a suspended domain, URLs pointing at private
addresses in every spelling. Each is refused with a 4xx, stores nothing (rows counted in
federation_inbox, statuses and accounts before and after) and fetches nothing (the fake
fediverse records every request that reaches the outbound transport).

Bad signatures are tried with the signer already known and freshly fetched: deciding those
needs no network. (A key this server has never seen has to be fetched to be judged; that is
the key-rotation path of test_inbox.py.)"""

from __future__ import annotations

import base64
import copy
import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from starlette.testclient import TestClient

from parvis.app import Parvis
from parvis.domain import httpsig
from parvis.storage.tables import accounts, federation_inbox, statuses
from tests.federation.test_inbox import (
    BASE,
    KEYS,
    PUBLIC,
    Fediverse,
    Remote,
    count,
    deliver,
)
from tests.federation.test_inbox import client as client
from tests.federation.test_inbox import world as world

FUZZ = settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
SMALL_BODY = 4096


class Guard:
    """Counts rows and requests around one hostile delivery."""

    def __init__(self, parvis: Parvis, world: Fediverse) -> None:
        self.parvis, self.world = parvis, world

    def __enter__(self) -> Guard:
        self.before = self.rows()
        self.world.requests.clear()
        return self

    def rows(self) -> tuple[int, int, int]:
        return (
            count(self.parvis, federation_inbox),
            count(self.parvis, statuses),
            count(self.parvis, accounts),
        )

    def __exit__(self, *exc: object) -> None:
        if exc[0] is None:
            assert self.rows() == self.before, "something was stored"
            assert self.world.fetched() == [], "something was fetched"


@pytest.fixture
def known(client: TestClient, world: Fediverse) -> Iterator[Remote]:
    """A remote actor this server knows and fetched a moment ago."""
    alice = world.remote("alice")
    r = deliver(client, alice, alice.create(alice.note("<p>hello</p>")))
    assert r.status_code == 202, r.text
    yield alice


def _post(client: TestClient, path: str, body: bytes, headers: dict[str, str]) -> int:
    return int(client.post(path, content=body, headers=headers).status_code)


# --- signatures and digests ----------------------------------------------------------------------

TAMPERINGS = [
    "missing",
    "garbage",
    "other key",
    "other body",
    "stale date",
    "future date",
    "no digest",
    "bad signature bytes",
    "other host key",
    "other path",
]


@FUZZ
@given(st.sampled_from(TAMPERINGS), st.text(max_size=200), st.binary(min_size=1, max_size=64))
def test_bad_signatures_are_refused(
    client: TestClient,
    parvis: Parvis,
    world: Fediverse,
    known: Remote,
    how: str,
    junk: str,
    noise: bytes,
) -> None:
    doc = known.create(known.note(f"<p>{junk}</p>"))
    body = json.dumps(doc).encode()
    headers = known.signed("/inbox", body)
    if how == "missing":
        del headers["Signature"]
    elif how == "garbage":
        headers["Signature"] = junk.encode("ascii", "replace").decode() or "x"
    elif how == "other key":
        other = dict(known.__dict__)
        other["private_pem"] = KEYS[1][0] if known.private_pem != KEYS[1][0] else KEYS[2][0]
        headers = Remote(**other).signed("/inbox", body)
    elif how == "other body":
        headers = known.signed("/inbox", body + b" ")
    elif how == "stale date":
        headers = known.signed("/inbox", body, now=datetime.now(UTC) - timedelta(hours=3))
    elif how == "future date":
        headers = known.signed("/inbox", body, now=datetime.now(UTC) + timedelta(hours=3))
    elif how == "no digest":
        del headers["Digest"]
    elif how == "bad signature bytes":
        fake = base64.b64encode(noise * 8).decode()
        headers["Signature"] = headers["Signature"].split('signature="')[0] + f'signature="{fake}"'
    elif how == "other host key":
        headers = known.signed("/inbox", body, key_id="https://elsewhere.example/actor#main-key")
    elif how == "other path":
        headers = known.signed("/users/nobody/inbox", body)
    with Guard(parvis, world):
        assert _post(client, "/inbox", body, headers) == 401


@FUZZ
@given(st.binary(max_size=300), st.sampled_from(["replace body", "digest header", "both"]))
def test_wrong_digests_are_refused(
    client: TestClient,
    parvis: Parvis,
    world: Fediverse,
    known: Remote,
    other: bytes,
    how: str,
) -> None:
    doc = known.create(known.note("<p>digest me</p>"))
    body = json.dumps(doc).encode()
    headers = known.signed("/inbox", body)
    tampered = json.dumps({**doc, "junk": other.hex()}).encode()
    if how == "replace body":
        sent = tampered
    elif how == "digest header":
        sent = body
        headers["Digest"] = httpsig.digest_header(other + b"!")
    else:
        sent = tampered
        headers["Digest"] = httpsig.digest_header(tampered)  # the signature covers the old one
    with Guard(parvis, world):
        assert _post(client, "/inbox", sent, headers) == 401


# --- sizes and shapes ----------------------------------------------------------------------------


@pytest.mark.parametrize("parvis", [{"federation_max_body": SMALL_BODY}], indirect=True)
@FUZZ
@given(st.integers(min_value=SMALL_BODY + 1, max_value=4 * SMALL_BODY), st.booleans())
def test_oversized_bodies_are_refused(
    client: TestClient,
    parvis: Parvis,
    world: Fediverse,
    known: Remote,
    size: int,
    streamed: bool,
) -> None:
    doc = known.create(known.note("<p>" + "x" * size + "</p>"))
    body = json.dumps(doc).encode()
    headers = known.signed("/inbox", body)
    with Guard(parvis, world):
        if streamed:  # no Content-Length: the cap applies while reading
            chunks = iter([body[i : i + 1000] for i in range(0, len(body), 1000)])
            r = client.post("/inbox", content=chunks, headers=headers)
        else:
            r = client.post("/inbox", content=body, headers=headers)
        assert r.status_code == 413


@FUZZ
@given(
    st.one_of(
        st.binary(max_size=500).filter(lambda b: not _is_json(b)),
        st.text(max_size=200).map(str.encode).filter(lambda b: not _is_json(b)),
        st.sampled_from([b"[]", b"42", b'"a string"', b"null", b"true", b"{", b"\xff\xfe{}"]),
    )
)
def test_non_json_bodies_are_refused(
    client: TestClient,
    parvis: Parvis,
    world: Fediverse,
    known: Remote,
    body: bytes,
) -> None:
    with Guard(parvis, world):
        assert _post(client, "/inbox", body, known.signed("/inbox", body)) == 400


def _is_json(data: bytes) -> bool:
    try:
        json.loads(data)
    except ValueError:
        return False
    return True


_junk = st.one_of(
    st.none(),
    st.integers(),
    st.booleans(),
    st.text(max_size=40).filter(lambda t: not t.lower().startswith("http")),
    st.lists(st.integers(), max_size=3),
    st.dictionaries(st.sampled_from(["type", "name", "@value"]), st.text(max_size=10), max_size=2),
)
BREAKAGES = ["id", "actor", "type", "object", "object id", "foreign object", "id host"]


@FUZZ
@given(st.sampled_from(BREAKAGES), _junk)
def test_malformed_activities_are_refused(
    client: TestClient,
    parvis: Parvis,
    world: Fediverse,
    known: Remote,
    breakage: str,
    junk: Any,
) -> None:
    doc = known.create(known.note("<p>odd</p>"))
    if breakage == "id":
        doc["id"] = junk
    elif breakage == "actor":
        doc["actor"] = junk
    elif breakage == "type":  # no string at all (an unknown type name would be accepted)
        doc["type"] = junk if not isinstance(junk, str) else {"unexpected": junk}
    elif breakage == "object":
        doc["object"] = junk
    elif breakage == "object id":
        doc["object"]["id"] = junk
    elif breakage == "foreign object":
        doc["object"]["id"] = "https://elsewhere.example/notes/1"
    elif breakage == "id host":
        doc["id"] = "https://elsewhere.example/activities/1"
    body = json.dumps(doc).encode()
    with Guard(parvis, world):
        status = _post(client, "/inbox", body, known.signed("/inbox", body))
        assert status == 400


def test_json_ld_forms_that_are_valid_are_accepted(
    client: TestClient,
    parvis: Parvis,
    world: Fediverse,
    known: Remote,
) -> None:
    """The other side of the fuzzing: unusual but valid shapes are taken."""
    note = known.note("<p>compact</p>", to="as:Public", cc=[])
    doc = copy.deepcopy(known.create(note))
    doc["@context"] = [
        "https://www.w3.org/ns/activitystreams",
        {"@language": "und", "sensitive": "as:sensitive"},
    ]
    doc["type"] = ["as:Create"]
    doc["actor"] = {"id": known.uri, "type": "Person"}
    body = json.dumps(doc).encode()
    assert _post(client, "/inbox", body, known.signed("/inbox", body)) == 202
    public = client.get("/api/v1/timelines/public").json()
    assert note["id"] in [s["uri"] for s in public]


# --- blocked domains and private addresses -------------------------------------------------------


@FUZZ
@given(
    st.sampled_from(["evil.example", "sub.evil.example", "a.b.evil.example"]),
    st.sampled_from(["Create", "Follow", "Like", "Announce", "Delete", "Flag", "Undo"]),
)
def test_a_suspended_domain_is_refused_before_anything(
    client: TestClient,
    parvis: Parvis,
    world: Fediverse,
    host: str,
    kind: str,
) -> None:
    from parvis.services import domain_policy

    if parvis.runtime.read(lambda work: work.store.domain_policy.get("evil.example")) is None:
        parvis.runtime.write(lambda work: domain_policy.block(work, "evil.example", "suspend"))
    mallory = world.remote("mallory", host=host)
    obj: Any = f"{BASE}/users/nobody"
    if kind == "Create":
        obj = mallory.note("<p>spam</p>")
    elif kind == "Delete":
        obj = f"{mallory.uri}/statuses/1"
    doc = mallory.activity(kind, obj, to=[PUBLIC])
    body = json.dumps(doc).encode()
    with Guard(parvis, world):
        assert _post(client, "/inbox", body, mallory.signed("/inbox", body)) == 403


PRIVATE_HOSTS = [
    "127.0.0.1",
    "127.1",
    "2130706433",
    "0177.0.0.1",
    "0x7f.0.0.1",
    "0x7f000001",
    "10.0.0.5",
    "012.0.0.5",
    "167772165",
    "172.16.3.4",
    "192.168.1.1",
    "169.254.169.254",
    "0.0.0.0",
    "100.64.1.1",
    "[::1]",
    "[::ffff:127.0.0.1]",
    "[::ffff:a00:1]",
    "[fe80::1]",
    "[fc00::1]",
    "[64:ff9b::a00:1]",
    "localhost",
    "metadata.localhost",
]


@st.composite
def private_hosts(draw: st.DrawFn) -> str:
    return draw(
        st.one_of(
            st.sampled_from(PRIVATE_HOSTS),
            st.tuples(st.integers(0, 255), st.integers(0, 255), st.integers(0, 255)).map(
                lambda t: f"10.{t[0]}.{t[1]}.{t[2]}"
            ),
            st.integers(0, 255).map(lambda n: f"127.0.0.{n}"),
            st.integers(0x7F000000, 0x7FFFFFFF).map(str),  # 127/8 as one decimal number
            st.integers(0, 0xFFFF).map(lambda n: f"169.254.{n >> 8}.{n & 0xFF}"),
        )
    )


@FUZZ
@given(private_hosts(), st.sampled_from(["actor", "object", "key", "announced"]))
def test_private_addresses_are_refused_and_never_fetched(
    client: TestClient,
    parvis: Parvis,
    world: Fediverse,
    known: Remote,
    host: str,
    where: str,
) -> None:
    evil = f"http://{host}/users/x"
    doc = known.create(known.note("<p>look</p>"))
    key_id = None
    if where == "actor":
        doc["actor"] = evil
        doc["id"] = f"http://{host}/activities/1"
        doc["object"]["attributedTo"] = evil
        doc["object"]["id"] = f"http://{host}/notes/1"
        key_id = f"{evil}#main-key"
    elif where == "object":
        doc["object"] = f"http://{host}/notes/1"
    elif where == "key":
        key_id = f"{evil}#main-key"
    elif where == "announced":
        doc = known.activity("Announce", f"http://{host}/notes/1", to=[PUBLIC])
    body = json.dumps(doc).encode()
    headers = known.signed("/inbox", body, key_id=key_id)
    with Guard(parvis, world):
        assert 400 <= _post(client, "/inbox", body, headers) < 500


@FUZZ
@given(private_hosts(), st.sampled_from(["inReplyTo", "quote", "mention"]))
def test_private_links_in_a_post_are_dropped_never_fetched(
    client: TestClient,
    parvis: Parvis,
    world: Fediverse,
    known: Remote,
    host: str,
    where: str,
) -> None:
    """A post may point anywhere: such links are dropped, the post is kept, nothing is
    fetched from the private address."""
    evil = f"http://{host}/notes/1"
    extra: dict[str, Any] = {
        "inReplyTo": {"inReplyTo": evil},
        "quote": {"quote": evil, "_misskey_quote": evil},
        "mention": {"tag": [{"type": "Mention", "href": evil, "name": "@x@y"}]},
    }[where]
    note = known.note("<p>see there</p>", **extra)
    body = json.dumps(known.create(note)).encode()
    world.requests.clear()
    assert _post(client, "/inbox", body, known.signed("/inbox", body)) == 202
    assert world.fetched() == []
    assert count(parvis, statuses, statuses.c.uri == note["id"]) == 1
    assert count(parvis, statuses, statuses.c.in_reply_to_uri.is_not(None)) == 0
