"""Versioned rules (DSA art. 14): seeded from the settings, changed into new versions that
close the old ones, retired without reusing ids, each change announced to users; decisions can
always find the version they cite."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from parvis.app import Parvis, build
from parvis.domain.errors import Conflict, Invalid, NotFound
from parvis.services import announcements, rules
from tests.conftest import make_settings

START = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)
RULES = ["Be kind.", "No spam."]


class Clock:
    def __init__(self) -> None:
        self.now = START

    def __call__(self) -> datetime:
        return self.now


@pytest.fixture
def clock() -> Clock:
    return Clock()


def _server(tmp_path: Path, clock: Clock, migrate: bool) -> Parvis:
    return build(make_settings(tmp_path, rules=RULES), clock=clock, migrate=migrate)


@pytest.fixture
def server(tmp_path: Path, clock: Clock) -> Iterator[Parvis]:
    instance = _server(tmp_path, clock, True)
    yield instance
    instance.close()


def test_the_first_start_seeds_the_rules_from_the_settings(server: Parvis) -> None:
    found = server.runtime.read(rules.current)
    assert [(r.id, r.version, r.text) for r in found] == [
        ("1", 1, "Be kind."),
        ("2", 1, "No spam."),
    ]
    assert server.runtime.read(lambda w: w.store.rules.any())
    assert server.runtime.write(rules.seed) == 0  # once only


def test_before_seeding_reads_serve_the_settings(tmp_path: Path, clock: Clock) -> None:
    first = _server(tmp_path, clock, True)  # creates the schema and seeds
    first.runtime.write(lambda w: w.store.conn.exec_driver_sql("DELETE FROM rules"))
    first.close()
    again = _server(tmp_path, clock, False)
    try:
        unseeded = again.runtime.read(rules.current)
        assert [r.text for r in unseeded] == RULES
        assert again.runtime.read(lambda w: rules.get(w, "2", 1)).text == "No spam."
        with pytest.raises(NotFound):
            again.runtime.read(lambda w: rules.get(w, "2", 2))
        made = again.runtime.write(lambda w: rules.change(w, "1", "Be kind to everyone."))
        assert (made.id, made.version) == ("1", 2)
        assert [r.version for r in again.runtime.read(rules.history)] == [1, 2, 1]
    finally:
        again.close()


def test_a_change_is_a_new_version_and_is_announced(server: Parvis, clock: Clock) -> None:
    clock.now = START + timedelta(days=1)
    made = server.runtime.write(lambda w: rules.change(w, "2", "No spam, no scams.", "Ads too."))
    assert (made.id, made.version, made.valid_from, made.valid_to) == ("2", 2, clock.now, None)
    old = server.runtime.read(lambda w: rules.get(w, "2", 1))
    assert old.valid_to == clock.now and old.text == "No spam."
    assert [r.text for r in server.runtime.read(rules.current)] == [
        "Be kind.",
        "No spam, no scams.",
    ]
    then = server.runtime.read(lambda w: rules.at(w, START + timedelta(hours=1)))
    assert [r.text for r in then] == RULES
    news = server.runtime.read(announcements.every)
    assert len(news) == 1 and "rule 2 now reads: No spam, no scams." in news[0].text
    assert server.runtime.read(lambda w: rules.in_force(w, "2")).version == 2
    with pytest.raises(Conflict):
        server.runtime.write(lambda w: rules.change(w, "2", "No spam, no scams."))


def test_add_and_retire(server: Parvis, clock: Clock) -> None:
    added = server.runtime.write(lambda w: rules.add(w, "Label bots.", "Set the bot flag."))
    assert (added.id, added.version, added.hint) == ("3", 1, "Set the bot flag.")
    clock.now = START + timedelta(hours=5)
    gone = server.runtime.write(lambda w: rules.retire(w, "3"))
    assert gone.valid_to == clock.now
    assert [r.id for r in server.runtime.read(rules.current)] == ["1", "2"]
    with pytest.raises(Invalid, match="not a rule in force"):
        server.runtime.read(lambda w: rules.in_force(w, "3"))
    with pytest.raises(Invalid):
        server.runtime.write(lambda w: rules.change(w, "3", "Back"))
    assert server.runtime.write(lambda w: rules.add(w, "Credit artists.")).id == "4"  # never reused
    assert len(server.runtime.read(announcements.every)) == 3


@pytest.mark.parametrize(("text", "hint"), [("  ", ""), ("x" * 1001, ""), ("ok", "h" * 2001)])
def test_bad_rules_are_refused(server: Parvis, text: str, hint: str) -> None:
    with pytest.raises(Invalid):
        server.runtime.write(lambda w: rules.add(w, text, hint))


def test_unknown_rules_are_not_found(server: Parvis) -> None:
    with pytest.raises(NotFound):
        server.runtime.read(lambda w: rules.get(w, "9"))
    with pytest.raises(NotFound):
        server.runtime.read(lambda w: rules.get(w, "1", 7))
