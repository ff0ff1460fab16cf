"""The moderation core, through the real services on the real database: notices filed under
cases, the queue's order and clock, decisions that need a ground and are enforced on every read
path, durations that end, appeals reviewed by another moderator that restore the content, and a
case projection that always equals its event log."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from typing import Any, TypeVar

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from starlette.testclient import TestClient

from parvis.app import Parvis
from parvis.domain.errors import Forbidden, Invalid
from parvis.services import accounts, appeals, cases, moderation, notices, restrictions, roster
from parvis.services.context import Work
from parvis.storage.moderation import DecisionRow
from tests.builders import User, make_user

T = TypeVar("T")


@contextmanager
def clock_at(parvis: Parvis, moment: datetime) -> Iterator[None]:
    saved = parvis.runtime.clock
    parvis.runtime.clock = lambda: moment
    try:
        yield
    finally:
        parvis.runtime.clock = saved


def write(parvis: Parvis, fn: Callable[[Work], T]) -> T:
    return parvis.runtime.write(fn)


def moderator(client: TestClient, parvis: Parvis, role: str = "moderator") -> User:
    user = make_user(client)
    write(parvis, lambda w: accounts.set_role(w, int(user.id), role))
    return user


def post(user: User, text: str = "Something", **extra: Any) -> str:
    r = user.post("/api/v1/statuses", data={"status": text, **extra})
    assert r.status_code == 200, r.text
    return str(r.json()["id"])


def report(
    parvis: Parvis,
    reporter: User | None,
    status_id: str,
    category: str = "racial_hatred",
    **extra: Any,
) -> notices.Receipt:
    notice = notices.NewNotice(
        category=category,
        explanation="It insults a group of people.",
        items=(notices.Item(status_id=int(status_id)),),
        good_faith=True,
        **extra,
    )
    who = int(reporter.id) if reporter else None
    return write(parvis, lambda w: notices.submit(w, who, notice))


def case_of(parvis: Parvis, status_id: str) -> int:
    found = parvis.runtime.read(lambda w: w.store.cases.for_subject("status", int(status_id)))
    assert found is not None
    return found.id


def decide(parvis: Parvis, mod: User, case_id: int, **verdict: Any) -> DecisionRow:
    v = moderation.Verdict(**verdict)
    return write(parvis, lambda w: moderation.decide(w, int(mod.id), case_id, v))


RULE = {"ground": "rule", "rule_id": "2", "explanation": "A threat against a person."}


def test_duplicate_notices_share_one_case_and_the_queue_is_urgent_first(
    client: TestClient, parvis: Parvis
) -> None:
    author, mod = make_user(client), moderator(client, parvis)
    spam, hate, threat = post(author, "spam"), post(author, "hate"), post(author, "threat")
    report(parvis, None, spam, "spam")
    report(parvis, None, hate, "racial_hatred")
    report(parvis, make_user(client), hate, "racial_hatred")
    report(parvis, None, threat, "threat_to_life")
    queue = parvis.runtime.read(lambda w: moderation.queue(w, int(mod.id)))
    assert [str(v.case.subject_id) for v in queue] == [threat, hate, spam]
    assert [len(v.notices) for v in queue] == [1, 2, 1]
    # A threat to life gets at most an hour; others the 24-hour target.
    first, second = queue[0], queue[1]
    assert first.clock.due_at is not None and second.clock.due_at is not None
    assert first.clock.due_at - first.case.opened_at <= timedelta(hours=1)
    assert second.clock.due_at - second.clock.opened_at == timedelta(hours=24)


def test_the_clock_shows_overdue_and_the_48_hour_line(client: TestClient, parvis: Parvis) -> None:
    author, mod = make_user(client), moderator(client, parvis)
    sid = post(author)
    start = datetime(2026, 11, 23, 8, tzinfo=UTC)
    with clock_at(parvis, start):
        report(parvis, None, sid)
    with clock_at(parvis, start + timedelta(hours=30)):
        [view] = parvis.runtime.read(lambda w: moderation.queue(w, int(mod.id)))
        assert view.clock.overdue and not view.clock.past_legal_line
    with clock_at(parvis, start + timedelta(hours=49)):
        [view] = parvis.runtime.read(lambda w: moderation.queue(w, int(mod.id)))
        assert view.clock.past_legal_line


def test_only_moderators_see_the_queue(client: TestClient, parvis: Parvis) -> None:
    user = make_user(client)
    with pytest.raises(Forbidden):
        parvis.runtime.read(lambda w: moderation.queue(w, int(user.id)))
    with pytest.raises(Forbidden):
        parvis.runtime.read(lambda w: moderation.queue(w, None))


@pytest.mark.parametrize(
    ("verdict", "message"),
    [
        ({"action": "remove", "explanation": "bad"}, "ground"),
        ({"action": "remove", "ground": "law", "explanation": "bad"}, "legal_ground"),
        ({"action": "remove", "ground": "rule", "rule_id": "99", "explanation": "x"}, "rule_id"),
        ({"action": "remove", "ground": "rule", "rule_id": "2"}, "explanation"),
        ({"action": "suspend", **RULE}, "duration"),
        ({"action": "label", **RULE}, "label"),
        ({"action": "territorial_restrict", **RULE}, "territorial_scope"),
        ({"action": "territorial_restrict", "territorial_scope": ("US",), **RULE}, "country"),
        ({"action": "obliterate", **RULE}, "action"),
    ],
)
def test_no_restriction_without_a_stated_ground(
    client: TestClient, parvis: Parvis, verdict: dict[str, Any], message: str
) -> None:
    author, mod, reader = make_user(client), moderator(client, parvis), make_user(client)
    sid = post(author)
    report(parvis, None, sid)
    with pytest.raises(Invalid) as exc:
        decide(parvis, mod, case_of(parvis, sid), **verdict)
    assert message in exc.value.message
    assert reader.get(f"/api/v1/statuses/{sid}").status_code == 200  # nothing restricted
    assert parvis.runtime.read(lambda w: w.store.decisions.of_account(int(author.id))) == []


def test_removal_hides_the_post_from_everyone_but_its_author(
    client: TestClient, parvis: Parvis
) -> None:
    author, mod, reader = make_user(client), moderator(client, parvis), make_user(client)
    reader.post(f"/api/v1/accounts/{author.id}/follow")
    sid = post(author, "to be removed")
    receipt = report(parvis, reader, sid)
    decision = decide(parvis, mod, case_of(parvis, sid), action="remove", **RULE)
    assert decision.source_type == "SOURCE_ARTICLE_16"
    assert decision.rule_version is not None and decision.log_index is not None
    assert reader.get(f"/api/v1/statuses/{sid}").status_code == 404
    assert sid not in [s["id"] for s in reader.get("/api/v1/timelines/home").json()]
    assert sid not in [s["id"] for s in client.get("/api/v1/timelines/public").json()]
    assert author.get(f"/api/v1/statuses/{sid}").status_code == 200
    notice = parvis.runtime.read(lambda w: notices.by_receipt(w, receipt.key))
    assert notice.outcome == "actioned" and notice.decided_at is not None
    # The author is told, with a Mastodon moderation_warning linking to the statement.
    [warning] = author.get("/api/v1/notifications", params={"types[]": "moderation_warning"}).json()
    assert warning["moderation_warning"]["action"] == "delete_statuses"
    assert f"/decisions/{decision.id}" in warning["moderation_warning"]["text"]


def test_label_and_restricted_interactions(client: TestClient, parvis: Parvis) -> None:
    author, mod, reader = make_user(client), moderator(client, parvis), make_user(client)
    labelled, quiet = post(author, "labelled"), post(author, "quiet")
    own = moderation.Verdict(action="label", label="Disputed by health authorities", **RULE)
    write(parvis, lambda w: moderation.own_initiative(w, int(mod.id), "status", int(labelled), own))
    shown = reader.get(f"/api/v1/statuses/{labelled}").json()
    assert shown["spoiler_text"] == "Disputed by health authorities" and shown["sensitive"]
    limit = moderation.Verdict(action="restrict_interactions", **RULE)
    write(parvis, lambda w: moderation.own_initiative(w, int(mod.id), "status", int(quiet), limit))
    assert reader.post(f"/api/v1/statuses/{quiet}/favourite").status_code == 403
    assert reader.post(f"/api/v1/statuses/{quiet}/reblog").status_code == 403
    reply = reader.post("/api/v1/statuses", data={"status": "hi", "in_reply_to_id": quiet})
    assert reply.status_code == 403
    assert author.post(f"/api/v1/statuses/{quiet}/favourite").status_code == 200


def test_age_restriction_hides_from_visitors_only(client: TestClient, parvis: Parvis) -> None:
    author, mod, reader = make_user(client), moderator(client, parvis), make_user(client)
    sid = post(author)
    verdict = moderation.Verdict(action="age_restrict", **RULE)
    write(parvis, lambda w: moderation.own_initiative(w, int(mod.id), "status", int(sid), verdict))
    assert client.get(f"/api/v1/statuses/{sid}").status_code == 404
    assert reader.get(f"/api/v1/statuses/{sid}").status_code == 200


def test_a_temporary_suspension_ends_by_itself(client: TestClient, parvis: Parvis) -> None:
    author, mod = make_user(client), moderator(client, parvis)
    start = datetime(2026, 11, 23, 8, tzinfo=UTC)
    with clock_at(parvis, start):
        verdict = moderation.Verdict(
            action="suspend",
            duration=timedelta(days=7),
            misuse="manifestly_illegal_content",
            **RULE,
        )
        decision = write(
            parvis,
            lambda w: moderation.own_initiative(w, int(mod.id), "account", int(author.id), verdict),
        )
    assert decision.ends_at == start + timedelta(days=7)
    assert author.get("/api/v1/accounts/verify_credentials").status_code == 401  # revoked
    assert client.get(f"/api/v1/accounts/{author.id}").status_code == 404
    with clock_at(parvis, start + timedelta(days=6)):
        assert write(parvis, restrictions.expire) == 0
    with clock_at(parvis, start + timedelta(days=7, minutes=1)):
        assert write(parvis, restrictions.expire) == 1
    assert client.get(f"/api/v1/accounts/{author.id}").status_code == 200


def test_an_appeal_reviewed_by_another_moderator_restores_the_post(
    client: TestClient, parvis: Parvis
) -> None:
    author, reader = make_user(client), make_user(client)
    first, second = moderator(client, parvis), moderator(client, parvis, "admin")
    sid = post(author, "satire, not hate")
    receipt = report(parvis, None, sid)
    decision = decide(parvis, first, case_of(parvis, sid), action="remove", **RULE)
    appeal = write(parvis, lambda w: appeals.file(w, int(author.id), decision.id, "It is satire."))
    assert appeal.appellant_role == "author"
    with pytest.raises(Invalid):  # one pending appeal at a time
        write(parvis, lambda w: appeals.file(w, int(author.id), decision.id, "Again."))
    with pytest.raises(Forbidden):  # not the one who decided
        write(parvis, lambda w: appeals.decide(w, int(first.id), appeal.id, "upheld", "No."))
    with pytest.raises(Forbidden):  # a stranger cannot appeal
        write(parvis, lambda w: appeals.file(w, int(reader.id), decision.id, "Me too."))
    done = write(
        parvis, lambda w: appeals.decide(w, int(second.id), appeal.id, "reversed", "Satire.")
    )
    assert done.outcome == "reversed" and done.reviewer_id == int(second.id)
    assert reader.get(f"/api/v1/statuses/{sid}").status_code == 200
    found = parvis.runtime.read(lambda w: w.store.decisions.get(decision.id))
    assert found is not None and found.reversed_at is not None
    # The notifier, holding only their receipt link, sees the decision and may contest it.
    notice = parvis.runtime.read(lambda w: notices.by_receipt(w, receipt.key))
    assert notice.outcome == "actioned"
    [event_kinds] = [
        [e.kind for e in parvis.runtime.read(lambda w: w.store.cases.events(decision.case_id))]
    ]
    assert event_kinds == [
        "opened",
        "notice",
        "decided",
        "appeal_filed",
        "reversed",
        "appeal_decided",
    ]


def test_a_notifier_contests_a_rejection_with_the_receipt_key(
    client: TestClient, parvis: Parvis
) -> None:
    author, first, second = make_user(client), moderator(client, parvis), moderator(client, parvis)
    sid = post(author)
    receipt = report(parvis, None, sid)
    decision = decide(parvis, first, case_of(parvis, sid), action="none")
    notice = parvis.runtime.read(lambda w: notices.by_receipt(w, receipt.key))
    assert notice.outcome == "no_action"
    with pytest.raises(Forbidden):
        write(parvis, lambda w: appeals.file(w, None, decision.id, "Please look again."))
    appeal = write(
        parvis,
        lambda w: appeals.file(w, None, decision.id, "Look again.", receipt_key=receipt.key),
    )
    assert appeal.appellant_role == "notifier"
    write(parvis, lambda w: appeals.decide(w, int(second.id), appeal.id, "reversed", "Agreed."))
    # The rejection reversed, the case is open again for a new decision.
    [view] = parvis.runtime.read(lambda w: moderation.queue(w, int(second.id)))
    assert view.case.id == decision.case_id


def test_appeals_close_after_six_months(client: TestClient, parvis: Parvis) -> None:
    author, mod = make_user(client), moderator(client, parvis)
    sid = post(author)
    start = datetime(2026, 11, 23, 8, tzinfo=UTC)
    with clock_at(parvis, start):
        report(parvis, None, sid)
        decision = decide(parvis, mod, case_of(parvis, sid), action="label", label="x", **RULE)
    with clock_at(parvis, start + timedelta(days=184)), pytest.raises(Forbidden):
        write(parvis, lambda w: appeals.file(w, int(author.id), decision.id, "Late."))


def test_notices_are_validated(client: TestClient, parvis: Parvis) -> None:
    author = make_user(client)
    sid = post(author)
    for bad in (
        {"category": "nonsense"},
        {"good_faith": False},
        {"explanation": " "},
        {"reporter_email": "not-an-address"},
        {"items": ()},
    ):
        values: dict[str, Any] = {
            "category": "racial_hatred",
            "explanation": "why",
            "items": (notices.Item(status_id=int(sid)),),
            "good_faith": True,
            **bad,
        }
        with pytest.raises(Invalid):
            write(parvis, lambda w, v=values: notices.submit(w, None, notices.NewNotice(**v)))
    # Child sexual abuse: the notifier's identity is never kept.
    receipt = report(parvis, None, sid, "child_abuse", reporter_name="A", reporter_email="a@b.cd")
    assert (receipt.notice.reporter_name, receipt.notice.reporter_email) == ("", "")


def test_the_mastodon_report_endpoint_files_a_notice(client: TestClient, parvis: Parvis) -> None:
    author, reporter, mod = make_user(client), make_user(client), moderator(client, parvis)
    sid = post(author)
    r = reporter.post(
        "/api/v1/reports",
        data={"account_id": author.id, "status_ids[]": [sid], "comment": "", "category": "spam"},
    )
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["category"] == "spam" and body["status_ids"] == [sid]
    assert body["target_account"]["id"] == author.id
    [view] = parvis.runtime.read(lambda w: moderation.queue(w, int(mod.id)))
    assert view.notices[0].channel == "app"  # a client report, not an art. 16 notice
    other = post(reporter)
    r = reporter.post("/api/v1/reports", data={"account_id": author.id, "status_ids[]": [other]})
    assert r.status_code == 422
    r = reporter.post("/api/v1/reports", data={"account_id": author.id, "category": "bogus"})
    assert r.status_code == 422
    assert client.post("/api/v1/reports", data={"account_id": author.id}).status_code == 401


# -- the case projection equals its event log -------------------------------------------------

STEPS = st.lists(
    st.sampled_from(["notice", "assign", "unassign", "escalate", "note", "decide", "appeal"]),
    min_size=1,
    max_size=10,
)


@given(steps=STEPS)
@settings(max_examples=15, deadline=None, suppress_health_check=list(HealthCheck))
def test_the_case_row_always_equals_its_replayed_log(
    client: TestClient, parvis: Parvis, steps: list[str]
) -> None:
    author, first, second = make_user(client), moderator(client, parvis), moderator(client, parvis)
    sid = post(author)
    report(parvis, None, sid)
    case_id = case_of(parvis, sid)
    last: list[DecisionRow] = []
    for step in steps:
        try:
            if step == "notice":
                report(parvis, None, sid, "harassment")
            elif step == "assign":
                write(parvis, lambda w: moderation.assign(w, int(first.id), case_id, int(first.id)))
            elif step == "unassign":
                write(parvis, lambda w: moderation.assign(w, int(first.id), case_id, None))
            elif step == "escalate":
                write(parvis, lambda w: moderation.escalate(w, int(first.id), case_id, "urgent"))
            elif step == "note":
                write(parvis, lambda w: moderation.note(w, int(first.id), case_id, "seen"))
            elif step == "decide":
                last.append(decide(parvis, first, case_id, action="label", label="x", **RULE))
            elif step == "appeal" and last:
                filed = write(parvis, lambda w: appeals.file(w, int(author.id), last[-1].id, "no"))
                write(
                    parvis,
                    lambda w, a=filed.id: appeals.decide(w, int(second.id), a, "upheld", "ok"),
                )
        except (Invalid, Forbidden):
            pass  # e.g. an appeal against a reversed decision: refused, nothing changes
        stored = parvis.runtime.read(lambda w: w.store.cases.get(case_id))
        assert stored == parvis.runtime.read(lambda w: cases.rebuild(w, case_id))


def test_a_moderator_sees_the_cases_in_the_languages_they_read(
    client: TestClient, parvis: Parvis
) -> None:
    """The roster says which languages a moderator reads; "my languages" shows the cases in
    those (and those whose language is unknown)."""
    author, mod = make_user(client), moderator(client, parvis)
    write(parvis, lambda w: roster.set_entry(w, int(mod.id), languages=("fr",), country="FR"))
    french = post(author, "Bonjour à tous", language="fr")
    german = post(author, "Guten Tag zusammen", language="de")
    for sid in (french, german):
        report(parvis, None, sid)
    everything = parvis.runtime.read(lambda w: moderation.queue(w, int(mod.id)))
    assert {str(v.case.subject_id) for v in everything} == {french, german}
    mine = parvis.runtime.read(lambda w: moderation.queue(w, int(mod.id), my_languages=True))
    assert [str(v.case.subject_id) for v in mine] == [french]
