"""Moderation cases and their append-only event log.

Every subject (a post or an account) has one case. What happens to it is appended to the case's
event log (`mod_events`: opened, notice, assigned, unassigned, escalated, note, decided,
appeal_filed, appeal_decided, reversed), never rewritten; the case row is a projection of those
events, updated in the same transaction by `project()` and rebuildable from the log by
`rebuild()` (a property test checks that the two always agree).
"""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime
from typing import Any

from parvis.domain.errors import NotFound
from parvis.domain.ids import new_id
from parvis.services.context import Work
from parvis.storage.moderation import CaseRow, EventRow
from parvis.storage.notices import NoticeRow


def project(case: CaseRow, event: EventRow) -> CaseRow:
    """The case after one more event: the only place its state changes."""
    data = event.data
    case = replace(case, updated_at=event.created_at)
    match event.kind:
        case "notice":
            due = datetime.fromisoformat(data["due_at"])
            reopening = case.state == "decided"
            return replace(
                case,
                state="open" if case.state != "appealed" else "appealed",
                priority=data["priority"] if reopening else min(case.priority, data["priority"]),
                due_at=due if reopening or case.due_at is None else min(case.due_at, due),
                open_notices=case.open_notices + 1,
                language=case.language or data.get("language", ""),
            )
        case "assigned":
            return replace(case, assignee_id=data["assignee_id"])
        case "unassigned":
            return replace(case, assignee_id=None)
        case "escalated":
            return replace(case, escalated=True)
        case "decided":
            return replace(
                case,
                state="decided",
                open_notices=0,
                due_at=None,
                escalated=False,
                last_decision_id=data["decision_id"],
            )
        case "appeal_filed":
            return replace(case, state="appealed")
        case "appeal_decided":
            reopened = data["outcome"] == "reversed" and data.get("action") == "none"
            return replace(case, state="open" if reopened else "decided")
    return case  # opened, note, reversed, expired: history only


def _blank(case_id: int, subject_type: str, subject_id: int, data: dict[str, Any]) -> CaseRow:
    at = datetime.fromisoformat(data["at"])
    return CaseRow(
        id=case_id,
        subject_type=subject_type,
        subject_id=subject_id,
        account_id=data.get("account_id"),
        state="decided",
        priority=9,
        opened_at=at,
        due_at=None,
        assignee_id=None,
        escalated=False,
        language="",
        open_notices=0,
        last_decision_id=None,
        updated_at=at,
    )


def rebuild(work: Work, case_id: int) -> CaseRow:
    """The case as its event log says it is (the projection must always equal this)."""
    stored = work.store.cases.get(case_id)
    if stored is None:
        raise NotFound("No such case")
    events = work.store.cases.events(case_id)
    opened = events[0]
    case = _blank(case_id, stored.subject_type, stored.subject_id, opened.data)
    for event in events:
        case = project(case, event)
    return case


def record(
    work: Work, case: CaseRow, kind: str, actor_id: int | None, data: dict[str, Any]
) -> CaseRow:
    """Appends an event to the case's log and updates the projection."""
    event = EventRow(
        id=new_id(), case_id=case.id, kind=kind, actor_id=actor_id, data=data, created_at=work.now()
    )
    work.store.cases.append(event)
    after = project(case, event)
    changes = {
        k: getattr(after, k)
        for k in (
            "state",
            "priority",
            "due_at",
            "assignee_id",
            "escalated",
            "language",
            "open_notices",
            "last_decision_id",
            "updated_at",
        )
        if getattr(after, k) != getattr(case, k)
    }
    if changes:
        work.store.cases.update(case.id, changes)
    return after


def case_for(
    work: Work, subject_type: str, subject_id: int, account_id: int, *, source: str
) -> CaseRow:
    """The subject's case, opened (with an `opened` event) the first time it is needed."""
    found = work.store.cases.for_subject(subject_type, subject_id)
    if found is not None:
        return found
    now = work.now()
    case = _blank(
        new_id(), subject_type, subject_id, {"at": now.isoformat(), "account_id": account_id}
    )
    work.store.cases.insert(case)
    return record(
        work,
        case,
        "opened",
        None,
        {"at": now.isoformat(), "account_id": account_id, "source": source},
    )


def file_notice(
    work: Work,
    subject_type: str,
    subject_id: int,
    account_id: int,
    *,
    notice: NoticeRow,
    language: str,
) -> CaseRow:
    """Files one item of a notice under its subject's case (called by notice intake)."""
    case = case_for(work, subject_type, subject_id, account_id, source="notice")
    assert notice.due_at is not None
    return record(
        work,
        case,
        "notice",
        None,
        {
            "notice_id": notice.id,
            "category": notice.category,
            "channel": notice.channel,
            "priority": notice.priority,
            "due_at": notice.due_at.isoformat(),
            "language": language,
        },
    )
