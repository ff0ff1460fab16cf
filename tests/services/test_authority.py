"""The authority register (DSA arts. 9, 10, 18): orders recorded with their authority, member
state, legal basis and items; acknowledged and carried out in order; escalations; and the
statement of what the server cannot hand over, completed from the settings."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from typing import TypeVar

import pytest

from parvis.app import Parvis, build
from parvis.domain.errors import Conflict, Invalid, NotFound
from parvis.services import authority
from parvis.services.context import Work
from tests.conftest import make_settings

T = TypeVar("T")
NOW = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)
URL = "https://parvis.test/@alice/1234"


@pytest.fixture
def server(tmp_path: Path) -> Iterator[Parvis]:
    instance = build(make_settings(tmp_path), clock=lambda: NOW, migrate=True)
    yield instance
    instance.close()


def write(parvis: Parvis, fn: Callable[[Work], T]) -> T:
    return parvis.runtime.write(fn)


def order(**changes: object) -> authority.NewOrder:
    values: dict[str, object] = {
        "kind": "act",
        "authority": "Tribunal judiciaire de Paris",
        "member_state": "FR",
        "dsa_category": "STATEMENT_CATEGORY_ILLEGAL_OR_HARMFUL_SPEECH",
        "legal_basis": "Loi du 29 juillet 1881, art. 24; DSA art. 9",
        "reference": "RG 26/01234",
        "items": (URL,),
        "received_at": NOW - timedelta(hours=3),
    }
    values.update(changes)
    return authority.NewOrder(**values)  # type: ignore[arg-type]


def test_an_order_to_act_is_received_acknowledged_and_carried_out(server: Parvis) -> None:
    made = write(server, lambda w: authority.record(w, None, order()))
    assert made.kind == "act" and made.member_state == "FR" and made.items == (URL,)
    assert made.acknowledged_at is None and made.carried_out_at is None
    assert made.not_held == ""  # nothing to hand over for an order to act
    acked = write(server, lambda w: authority.acknowledge(w, made.id, NOW - timedelta(hours=2)))
    assert acked.acknowledged_at == NOW - timedelta(hours=2)
    done = write(server, lambda w: authority.carry_out(w, made.id, effect="Post removed in FR"))
    assert done.carried_out_at == NOW and done.effect == "Post removed in FR"
    listed = server.runtime.read(lambda w: authority.every(w, open_only=True))
    assert listed == []
    assert [o.id for o in server.runtime.read(authority.every)] == [made.id]


def test_carrying_out_an_unacknowledged_order_acknowledges_it(server: Parvis) -> None:
    made = write(server, lambda w: authority.record(w, None, order(kind="info")))
    done = write(server, lambda w: authority.carry_out(w, made.id, provided="The account's e-mail"))
    assert done.acknowledged_at == done.carried_out_at == NOW
    assert done.provided == "The account's e-mail"


def test_an_order_to_provide_information_states_what_is_not_held(tmp_path: Path) -> None:
    for days, expected in ((0, "are not kept"), (14, "are kept 14 days")):
        settings = make_settings(tmp_path / str(days), access_log_retention_days=days)
        instance = build(settings, clock=lambda: NOW, migrate=True)
        try:
            made = instance.runtime.write(lambda w: authority.record(w, None, order(kind="info")))
        finally:
            instance.close()
        assert made.not_held == authority.not_held(settings)
        assert expected in made.not_held
        for held_nowhere in ("end-to-end encrypted", "IP addresses", "deleted", "hashes"):
            assert held_nowhere in made.not_held


def test_an_escalation_is_recorded_as_sent(server: Parvis) -> None:
    sent = write(
        server,
        lambda w: authority.escalate(
            w,
            None,
            authority="PHAROS (OCLCTIC)",
            member_state="fr",
            transmitted="The post's text and its author's account URL",
            reference="PH-2026-77",
            items=(URL,),
        ),
    )
    assert sent.kind == "escalation" and sent.member_state == "FR"
    assert sent.carried_out_at == sent.received_at == NOW
    assert sent.legal_basis == authority.ART_18
    assert "end-to-end" in sent.not_held
    with pytest.raises(Conflict):
        write(server, lambda w: authority.acknowledge(w, sent.id))
    europol = write(
        server,
        lambda w: authority.escalate(
            w, None, authority="Europol", member_state="EU", transmitted="The post"
        ),
    )
    assert europol.member_state == "EU" and europol.items == ()


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"kind": "demand"}, "kind"),
        ({"authority": "  "}, "authority"),
        ({"member_state": "US"}, "member_state"),
        ({"member_state": "EU"}, "member_state"),  # Europol: escalations only
        ({"dsa_category": "VIOLENCE"}, "dsa_category"),
        ({"legal_basis": ""}, "legal_basis"),
        ({"reference": ""}, "reference"),
        ({"items": ()}, "items"),
        ({"items": ("https://elsewhere.example/@a/1",)}, "items"),
        ({"items": ("https://parvis.test/@a/1 x",)}, "items"),
        ({"received_at": NOW + timedelta(minutes=1)}, "future"),
        ({"received_at": datetime(2026, 11, 30, 12, 0)}, "time zone"),
        ({"provided": "everything"}, "provided"),
    ],
)
def test_bad_orders_are_refused_with_a_message(
    server: Parvis, changes: dict[str, object], message: str
) -> None:
    with pytest.raises(Invalid) as caught:
        write(server, lambda w: authority.record(w, None, order(**changes)))
    assert message in caught.value.message


def test_dates_keep_their_order(server: Parvis) -> None:
    made = write(server, lambda w: authority.record(w, None, order()))
    with pytest.raises(Invalid, match="before received_at"):
        write(server, lambda w: authority.acknowledge(w, made.id, NOW - timedelta(hours=4)))
    write(server, lambda w: authority.acknowledge(w, made.id, NOW - timedelta(hours=1)))
    with pytest.raises(Conflict):
        write(server, lambda w: authority.acknowledge(w, made.id))
    with pytest.raises(Invalid, match="before"):
        write(
            server,
            lambda w: authority.carry_out(w, made.id, effect="x", at=NOW - timedelta(hours=2)),
        )
    with pytest.raises(Invalid, match="effect"):
        write(server, lambda w: authority.carry_out(w, made.id))
    write(server, lambda w: authority.carry_out(w, made.id, effect="Removed"))
    with pytest.raises(Conflict):
        write(server, lambda w: authority.carry_out(w, made.id, effect="Again"))


def test_times_are_kept_in_utc(server: Parvis) -> None:
    paris = timezone(timedelta(hours=1))
    received = datetime(2026, 12, 1, 9, 0, tzinfo=paris)
    made = write(server, lambda w: authority.record(w, None, order(received_at=received)))
    assert made.received_at == received and made.received_at.tzinfo == UTC
    assert server.runtime.read(lambda w: authority.get(w, made.id)).received_at == received


def test_unknown_entries_are_not_found(server: Parvis) -> None:
    with pytest.raises(NotFound):
        server.runtime.read(lambda w: authority.get(w, 42))
    with pytest.raises(NotFound):
        write(server, lambda w: authority.record(w, None, order(case_id=42)))


def test_dates_at_the_edge_of_the_calendar_are_refused(server: Parvis) -> None:
    ancient = datetime(1, 1, 1, 0, 30, tzinfo=timezone(timedelta(hours=1)))
    with pytest.raises(Invalid, match="plausible"):
        write(server, lambda w: authority.record(w, None, order(received_at=ancient)))
