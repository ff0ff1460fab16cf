"""Confirming and dismissing label signals through the real services on the real database: a
confirmation is a moderation decision on each account (ground: the server's rule, statement of
reasons valid for the Transparency Database, public log entry without personal data, marked as
automated detection and human decision), the label is in force while the decision is (an
appeal that reverses it, or its end, removes it); a dismissal records who and why and changes
nothing; only moderators may do either."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta

import pytest
from starlette.testclient import TestClient

from parvis.app import Parvis
from parvis.domain import statements as sor
from parvis.domain.errors import Forbidden, Invalid
from parvis.services import (
    appeals,
    label_signals,
    restrictions,
    rules,
    statements,
    transparency_log,
)
from parvis.storage.labels import SignalRow
from tests.builders import User, make_user
from tests.services.labels_world import Clock, campaign, clock, clockwork_bot, detect, staff


@pytest.fixture
def ticking(parvis: Parvis) -> Iterator[Clock]:
    with clock(parvis) as c:
        yield c


def _open(parvis: Parvis, kind: str) -> list[SignalRow]:
    return parvis.runtime.read(lambda w: w.store.labels.open_signals(kind=kind))


def _labels(parvis: Parvis, *people: User) -> dict[int, list[str]]:
    found = parvis.runtime.read(lambda w: w.store.labels.labels_of(int(p.id) for p in people))
    return {a: [r.label for r in rows] for a, rows in found.items()}


def test_confirming_a_bot_signal_is_a_decision_with_a_statement(
    client: TestClient, parvis: Parvis, ticking: Clock
) -> None:
    bot = clockwork_bot(client, ticking)
    mod = staff(client, parvis)
    detect(parvis)
    [signal] = _open(parvis, "automation")
    assert signal.accounts == (int(bot.id),)
    assert _labels(parvis, bot) == {int(bot.id): []}  # a signal alone changes nothing
    assert bot.get(f"/api/v1/accounts/{bot.id}").json()["parvis_labels"] == []

    [decision] = parvis.runtime.write(lambda w: label_signals.confirm(w, int(mod.id), signal.id))
    assert (decision.action, decision.label, decision.ground) == (
        "label_account",
        "automated",
        "rule",
    )
    bots_rule = parvis.runtime.read(lambda w: label_signals.default_rule(w, "automation"))
    assert decision.rule_id == bots_rule == "3"  # "Label automated accounts as bots."
    assert decision.automated_detection
    assert decision.automated_decision == "AUTOMATED_DECISION_NOT_AUTOMATED"
    assert decision.source_type == "SOURCE_VOLUNTARY"
    assert "signs of a program posting" in decision.explanation
    assert _labels(parvis, bot) == {int(bot.id): ["automated"]}
    row = parvis.runtime.read(lambda w: w.store.labels.labels_of([int(bot.id)]))[int(bot.id)][0]
    assert (row.decision_id, row.signal_id) == (decision.id, signal.id)
    confirmed = parvis.runtime.read(lambda w: w.store.labels.get(signal.id))
    assert confirmed is not None
    assert (confirmed.state, confirmed.decided_by) == ("confirmed", int(mod.id))

    # The statement of reasons: valid for the Transparency Database, "content labelled".
    statement = parvis.runtime.read(lambda w: statements.for_decision(w, decision.id))
    assert sor.validate(statement) == []
    assert statement["decision_visibility"] == ["DECISION_VISIBILITY_CONTENT_LABELLED"]
    assert statement["decision_ground"] == "DECISION_GROUND_INCOMPATIBLE_CONTENT"
    assert statement["automated_detection"] == "Yes"
    assert "Automated account" in str(statement["decision_facts"])
    # The public log: the decision, without any name or id of a person.
    _, entries = parvis.runtime.read(lambda w: transparency_log.entries(w, 0, None))
    [entry] = [e["entry"] for e in entries if e["entry"].get("puid") == decision.puid]
    assert entry["action"] == "label_account" and entry["automated_detection"] is True
    assert bot.username not in str(entry) and bot.id not in str(entry)
    # The author is told (moderation_warning), and may appeal.
    notes = bot.get("/api/v1/notifications").json()
    assert [n["type"] for n in notes] == ["moderation_warning"]
    assert notes[0]["moderation_warning"]["action"] == "none"


def test_an_appeal_that_reverses_the_decision_removes_the_label(
    client: TestClient, parvis: Parvis, ticking: Clock
) -> None:
    people = campaign(client, ticking)
    mod, reviewer = staff(client, parvis), staff(client, parvis)
    detect(parvis)
    [signal] = _open(parvis, "coordination")
    assert set(signal.accounts) == {int(p.id) for p in people}
    assert set(signal.evidence["reasons"]) >= {"young"}
    taken = parvis.runtime.write(lambda w: label_signals.confirm(w, int(mod.id), signal.id))
    coordinated_rule = parvis.runtime.read(lambda w: label_signals.default_rule(w, "coordination"))
    assert coordinated_rule == "4" and {d.rule_id for d in taken} == {"4"}
    assert all(v == ["coordinated"] for v in _labels(parvis, *people).values())

    first, decision = people[0], taken[0]
    assert decision.account_id == int(first.id)
    appeal = parvis.runtime.write(
        lambda w: appeals.file(w, int(first.id), decision.id, "I wrote it myself.")
    )
    parvis.runtime.write(
        lambda w: appeals.decide(w, int(reviewer.id), appeal.id, "reversed", "Fair enough.")
    )
    after = _labels(parvis, *people)
    assert after[int(first.id)] == []
    assert all(after[int(p.id)] == ["coordinated"] for p in people[1:])
    assert first.get(f"/api/v1/accounts/{first.id}").json()["parvis_labels"] == []


def test_a_label_with_a_duration_ends(client: TestClient, parvis: Parvis, ticking: Clock) -> None:
    bot = clockwork_bot(client, ticking)
    mod = staff(client, parvis)
    detect(parvis)
    [signal] = _open(parvis, "automation")
    parvis.runtime.write(
        lambda w: label_signals.confirm(w, int(mod.id), signal.id, duration=timedelta(days=30))
    )
    assert _labels(parvis, bot)[int(bot.id)] == ["automated"]
    ticking.now += timedelta(days=31)
    assert parvis.runtime.write(restrictions.expire) >= 1
    assert _labels(parvis, bot)[int(bot.id)] == []


def test_dismissing_records_who_and_why_and_changes_nothing(
    client: TestClient, parvis: Parvis, ticking: Clock
) -> None:
    bot = clockwork_bot(client, ticking)
    mod = staff(client, parvis)
    detect(parvis)
    [signal] = _open(parvis, "automation")
    with pytest.raises(Invalid, match="reason"):
        parvis.runtime.write(lambda w: label_signals.dismiss(w, int(mod.id), signal.id, "  "))
    done = parvis.runtime.write(
        lambda w: label_signals.dismiss(w, int(mod.id), signal.id, "A weather station, declared.")
    )
    assert (done.state, done.decided_by, done.decision_note) == (
        "dismissed",
        int(mod.id),
        "A weather station, declared.",
    )
    assert _labels(parvis, bot)[int(bot.id)] == []
    assert parvis.runtime.read(lambda w: w.store.decisions.of_account(int(bot.id))) == []
    with pytest.raises(Invalid, match="already dismissed"):
        parvis.runtime.write(lambda w: label_signals.confirm(w, int(mod.id), signal.id))
    ticking.now += timedelta(hours=1)
    again = detect(parvis)
    assert again.suppressed == 1 and _open(parvis, "automation") == []


def test_only_moderators_review_signals_and_the_ground_is_checked(
    client: TestClient, parvis: Parvis, ticking: Clock
) -> None:
    clockwork_bot(client, ticking)
    someone, mod = make_user(client), staff(client, parvis)
    detect(parvis)
    [signal] = _open(parvis, "automation")
    for attempt in (
        lambda w: label_signals.open_signals(w, int(someone.id)),
        lambda w: label_signals.detail(w, int(someone.id), signal.id),
        lambda w: label_signals.confirm(w, int(someone.id), signal.id),
        lambda w: label_signals.dismiss(w, int(someone.id), signal.id, "no"),
    ):
        with pytest.raises(Forbidden):
            parvis.runtime.write(attempt)
    with pytest.raises(Invalid, match="rule_id"):
        parvis.runtime.write(
            lambda w: label_signals.confirm(w, int(mod.id), signal.id, rule_id="99")
        )
    with pytest.raises(Invalid, match="duration"):
        parvis.runtime.write(
            lambda w: label_signals.confirm(
                w, int(mod.id), signal.id, duration=timedelta(minutes=5)
            )
        )
    with pytest.raises(Invalid, match="kind"):
        parvis.runtime.read(lambda w: label_signals.open_signals(w, int(mod.id), kind="spam"))
    # Without a rule about bots, a moderator must name one.
    parvis.runtime.write(lambda w: rules.retire(w, "3", announce=False))
    with pytest.raises(Invalid, match="rule_id: no rule"):
        parvis.runtime.write(lambda w: label_signals.confirm(w, int(mod.id), signal.id))
    assert _open(parvis, "automation")[0].state == "open"  # nothing happened
