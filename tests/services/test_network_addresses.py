"""Network addresses kept only where needed, for a short while: recorded at sign-up and sign-in
(upserted), never at a retention of 0, pruned hourly against a fake clock, shown to moderators
with the other accounts seen at the same address; the authority register says the same."""

from __future__ import annotations

import ipaddress
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, TypeVar

import pytest
from hypothesis import given
from hypothesis import strategies as st

from parvis.app import Parvis, build
from parvis.domain.errors import Forbidden
from parvis.jobs.runtime import run_job
from parvis.services import accounts, authority, network_addresses
from parvis.services.context import Work
from tests.conftest import make_settings

T = TypeVar("T")
START = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)


class Clock:
    def __init__(self) -> None:
        self.now = START

    def __call__(self) -> datetime:
        return self.now


@pytest.fixture
def clock() -> Clock:
    return Clock()


def server_with(tmp_path: Path, clock: Clock, **settings: Any) -> Parvis:
    return build(make_settings(tmp_path, **settings), clock=clock, migrate=True)


@pytest.fixture
def server(tmp_path: Path, clock: Clock) -> Iterator[Parvis]:
    instance = server_with(tmp_path, clock)
    yield instance
    instance.close()


def write(parvis: Parvis, fn: Callable[[Work], T]) -> T:
    return parvis.runtime.write(fn)


def user(parvis: Parvis, name: str, role: str = "user") -> int:
    reg = accounts.Registration(
        username=name, email=f"{name}@example.org", password="correct horse battery", agreement=True
    )
    return write(parvis, lambda w: accounts.register(w, reg, role=role).account_id)


def rows(parvis: Parvis, account_id: int) -> list[tuple[str, str, datetime, datetime]]:
    found = parvis.runtime.read(lambda w: network_addresses.own(w, account_id))
    return [(r.purpose, r.ip, r.first_seen_at, r.last_seen_at) for r in found]


def record(parvis: Parvis, account_id: int, purpose: str, ip: str | None) -> bool:
    return write(parvis, lambda w: network_addresses.record(w, account_id, purpose, ip))


# -- normalizing -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "stored"),
    [
        ("203.0.113.7", "203.0.113.7"),
        ("2001:0DB8:0000:0000:0000:0000:0000:0001", "2001:db8::1"),
        ("2001:db8:0:0:1:0:0:1", "2001:db8::1:0:0:1"),
        ("[2001:db8::5]", "2001:db8::5"),
        ("fe80::1%eth0", "fe80::1"),
        ("::ffff:198.51.100.4", "198.51.100.4"),  # a dual-stack socket's IPv4 peer
        (" 192.0.2.1 ", "192.0.2.1"),
        ("testclient", None),
        ("unknown", None),
        ("", None),
        (None, None),
        ("1.2.3.4.5", None),
        ("1" * 200, None),
    ],
)
def test_addresses_are_stored_in_one_canonical_form(raw: str | None, stored: str | None) -> None:
    assert network_addresses.normalize(raw) == stored


@given(st.ip_addresses())
def test_every_address_comes_back_as_the_same_address(address: Any) -> None:
    text = network_addresses.normalize(address.exploded.upper())
    assert text is not None
    parsed = ipaddress.ip_address(text)
    mapped = getattr(address, "ipv4_mapped", None)
    assert parsed == (mapped or address)
    assert network_addresses.normalize(text) == text  # canonical: stable
    assert len(text) <= 45  # fits the column


@given(st.text(max_size=120))
def test_anything_else_is_an_address_or_nothing(raw: str) -> None:
    text = network_addresses.normalize(raw)
    if text is not None:
        assert ipaddress.ip_address(text) and len(text) <= 45


# -- recording -------------------------------------------------------------------------------


def test_sign_up_and_sign_ins_are_recorded_and_upserted(server: Parvis, clock: Clock) -> None:
    alice = user(server, "alice")
    assert record(server, alice, "sign_up", "2001:db8:0:0::7")
    clock.now += timedelta(hours=1)
    assert record(server, alice, "sign_in", "2001:DB8::7")
    clock.now += timedelta(days=2)
    assert record(server, alice, "sign_in", "2001:db8::7")  # the same address again: upsert
    assert record(server, alice, "sign_in", "192.0.2.10")
    assert rows(server, alice) == [
        ("sign_in", "192.0.2.10", clock.now, clock.now),
        ("sign_in", "2001:db8::7", START + timedelta(hours=1), clock.now),
        ("sign_up", "2001:db8::7", START, START),
    ]
    assert not record(server, alice, "sign_in", "testclient")  # not an address: nothing kept
    assert len(rows(server, alice)) == 3
    with pytest.raises(ValueError):
        record(server, alice, "visit", "192.0.2.10")


def test_a_retention_of_zero_stores_nothing(tmp_path: Path, clock: Clock) -> None:
    server = server_with(tmp_path, clock, ip_retention_days=0)
    try:
        alice = user(server, "alice")
        assert not record(server, alice, "sign_up", "203.0.113.7")
        assert not record(server, alice, "sign_in", "203.0.113.7")
        assert rows(server, alice) == []
    finally:
        server.close()


def test_the_prune_job_deletes_what_is_older_than_the_retention(
    tmp_path: Path, clock: Clock
) -> None:
    server = server_with(tmp_path, clock, ip_retention_days=7)
    try:
        alice, bob = user(server, "alice"), user(server, "bob")
        record(server, alice, "sign_up", "203.0.113.7")
        clock.now += timedelta(days=3)
        record(server, bob, "sign_up", "198.51.100.1")
        clock.now = START + timedelta(days=7)  # alice's row is exactly 7 days old: kept
        assert run_job(server.runtime, "prune_ips", {}) == 0
        clock.now += timedelta(seconds=1)
        assert run_job(server.runtime, "prune_ips", {}) == 1
        assert rows(server, alice) == []
        assert [r[1] for r in rows(server, bob)] == ["198.51.100.1"]
        # Seen again: the row lives on from its last sighting, not its first.
        record(server, bob, "sign_up", "198.51.100.1")
        clock.now += timedelta(days=6)
        assert run_job(server.runtime, "prune_ips", {}) == 0
        assert len(rows(server, bob)) == 1
    finally:
        server.close()


def test_lowering_the_retention_to_zero_deletes_every_address(tmp_path: Path, clock: Clock) -> None:
    server = server_with(tmp_path, clock, ip_retention_days=30)
    alice = user(server, "alice")
    record(server, alice, "sign_up", "203.0.113.7")
    record(server, alice, "sign_in", "203.0.113.8")
    server.close()
    server = server_with(tmp_path, clock, ip_retention_days=0)  # the operator changed it
    try:
        assert run_job(server.runtime, "prune_ips", {}) == 2
        assert rows(server, alice) == []
    finally:
        server.close()


def test_the_prune_job_is_scheduled_hourly() -> None:
    import inspect

    from parvis.jobs import queue

    source = inspect.getsource(queue.HueyQueue.__init__)
    assert '("prune_ips", crontab(minute="41"))' in source


# -- the moderators' view --------------------------------------------------------------------


def test_moderators_see_the_other_accounts_at_the_same_address(
    server: Parvis, clock: Clock
) -> None:
    mod = user(server, "mod", role="moderator")
    troll, sock, stranger, old = (user(server, n) for n in ("troll", "sock", "stranger", "old"))
    record(server, old, "sign_in", "203.0.113.7")  # seen there long ago
    clock.now += timedelta(days=10)
    record(server, troll, "sign_up", "203.0.113.7")
    record(server, troll, "sign_in", "2001:db8::1")
    clock.now += timedelta(hours=2)
    record(server, sock, "sign_up", "2001:db8::1")  # ban evasion: a new account, same address
    record(server, stranger, "sign_up", "192.0.2.99")
    seen = server.runtime.read(lambda w: network_addresses.for_moderators(w, mod, troll))
    assert seen.days == 7
    assert {(a.purpose, a.ip) for a in seen.addresses} == {
        ("sign_up", "203.0.113.7"),
        ("sign_in", "2001:db8::1"),
    }
    # `old` was seen at the address 10 days ago: outside the 7-day window (and pruned soon).
    assert [(n.account.username, n.ip, n.purpose) for n in seen.neighbours] == [
        ("sock", "2001:db8::1", "sign_up")
    ]
    with pytest.raises(Forbidden):
        server.runtime.read(lambda w: network_addresses.for_moderators(w, sock, troll))
    with pytest.raises(Forbidden):
        server.runtime.read(lambda w: network_addresses.for_moderators(w, None, troll))


# -- what the authority register says --------------------------------------------------------


@pytest.mark.parametrize(
    ("days", "expected"),
    [
        (0, "IP addresses: the database stores none;"),
        (7, "signed up and signed in from, 7 days after it was last seen"),
    ],
)
def test_the_authority_register_states_the_retention(days: int, expected: str) -> None:
    text = authority.not_held(make_settings(Path("/nonexistent"), ip_retention_days=days))
    assert expected in text
    assert "30 minutes" in text
