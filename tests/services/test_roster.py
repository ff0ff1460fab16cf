"""The moderator roster: entries for moderators only, validated languages and country, and an
aggregate that counts people without ever naming them."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import asdict
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from parvis.app import Parvis, build
from parvis.domain.errors import Forbidden, Invalid, NotFound
from parvis.services import accounts, roster
from parvis.services.context import Work
from tests.conftest import make_settings

START = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)


class Clock:
    def __init__(self) -> None:
        self.now = START

    def __call__(self) -> datetime:
        return self.now


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def server(tmp_path: Path, clock: Clock) -> Iterator[Parvis]:
    instance = build(make_settings(tmp_path), clock=clock, migrate=True)
    yield instance
    instance.close()


def person(server: Parvis, name: str, role: str = "moderator") -> int:
    reg = accounts.Registration(
        username=name, email=f"{name}@example.org", password="correct horse battery", agreement=True
    )
    return server.runtime.write(lambda w: accounts.register(w, reg, role=role).account_id)


def test_the_aggregate_counts_without_names(server: Parvis, clock: Clock) -> None:
    ana, bo, cy = (person(server, n) for n in ("ana", "bo", "cy"))
    admin = person(server, "chief", role="admin")

    def fill(w: Work) -> None:
        roster.set_entry(w, ana, languages=["fr", "en"], country="fr", training="DSA course")
        roster.set_entry(w, bo, languages=["de"], country="DE", paid=True, training="2 days")
        roster.set_entry(w, cy, languages=["FR"], country="BE")
        roster.set_entry(w, admin, languages=["en"], country="FR", paid=True)

    server.runtime.write(fill)
    found = server.runtime.read(roster.aggregate)
    assert found.total == 4
    assert found.by_language == {"de": 1, "en": 2, "fr": 2}
    assert found.by_country == {"BE": 1, "DE": 1, "FR": 2}
    assert (found.paid, found.volunteer, found.trained) == (2, 2, 2)
    published = repr(asdict(found))
    for secret in ("ana", "bo", "cy", "chief", str(ana), str(bo), "DSA course"):
        assert secret not in published
    assert server.runtime.read(lambda w: roster.languages_of(w, ana)) == ("fr", "en")


def test_leaving_counts_for_past_periods_only(server: Parvis, clock: Clock) -> None:
    ana = person(server, "ana")
    server.runtime.write(lambda w: roster.set_entry(w, ana, languages=["fr"], country="FR"))
    clock.now = START + timedelta(days=10)
    server.runtime.write(lambda w: roster.leave(w, ana))
    assert server.runtime.read(roster.aggregate).total == 0
    past = server.runtime.read(lambda w: roster.aggregate(w, START + timedelta(days=5)))
    assert past.total == 1
    before = server.runtime.read(lambda w: roster.aggregate(w, START - timedelta(days=1)))
    assert before.total == 0
    with pytest.raises(NotFound):
        server.runtime.write(lambda w: roster.leave(w, ana))
    assert server.runtime.read(lambda w: roster.languages_of(w, ana)) == ()


def test_updating_an_entry_keeps_its_start(server: Parvis, clock: Clock) -> None:
    ana = person(server, "ana")
    server.runtime.write(lambda w: roster.set_entry(w, ana, languages=["fr"], country="FR"))
    clock.now = START + timedelta(days=3)
    again = server.runtime.write(
        lambda w: roster.set_entry(w, ana, languages=["fr", "it"], country="IT", paid=True)
    )
    assert again.since == START and again.languages == ("fr", "it") and again.country == "IT"
    assert len(server.runtime.read(roster.entries)) == 1


@pytest.mark.parametrize(
    ("languages", "country", "message"),
    [
        ([], "FR", "languages"),
        (["xx"], "FR", "languages"),
        (["fr"], "ZZ", "country"),
        (["fr"], "EU", "country"),
        (["fr"], "FRA", "country"),
    ],
)
def test_bad_entries_are_refused(
    server: Parvis, languages: list[str], country: str, message: str
) -> None:
    ana = person(server, "ana")
    with pytest.raises(Invalid, match=message):
        server.runtime.write(
            lambda w: roster.set_entry(w, ana, languages=languages, country=country)
        )


def test_only_moderators_are_on_the_roster(server: Parvis) -> None:
    plain = person(server, "plain", role="user")
    with pytest.raises(Invalid, match="moderator role"):
        server.runtime.write(lambda w: roster.set_entry(w, plain, languages=["fr"], country="FR"))
    with pytest.raises(NotFound):
        server.runtime.write(lambda w: roster.set_entry(w, 4242, languages=["fr"], country="FR"))


def test_staff_checks_the_role(server: Parvis) -> None:
    plain, mod, admin = (
        person(server, "plain", "user"),
        person(server, "mod"),
        person(server, "boss", "admin"),
    )
    read = server.runtime.read
    read(lambda w: roster.staff(w, mod))
    read(lambda w: roster.staff(w, admin, admin=True))
    for who, needs_admin in ((plain, False), (mod, True), (4242, False)):
        with pytest.raises(Forbidden):
            read(lambda w: roster.staff(w, who, admin=needs_admin))  # noqa: B023
