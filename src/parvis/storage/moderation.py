"""Moderation cases (one per subject: a post or an account), their append-only event log, the
decisions taken on them and the appeals against those decisions."""

from __future__ import annotations

import json
from dataclasses import dataclass, fields
from datetime import datetime
from typing import Any

from sqlalchemy import Select, insert, or_, select, update
from sqlalchemy.engine import Connection

from parvis.storage.tables import appeals, decisions, mod_cases, mod_events


@dataclass(frozen=True)
class CaseRow:
    id: int
    subject_type: str  # status | account
    subject_id: int
    account_id: int | None
    state: str  # open | decided | appealed
    priority: int
    opened_at: datetime
    due_at: datetime | None
    assignee_id: int | None
    escalated: bool
    language: str
    open_notices: int
    last_decision_id: int | None
    updated_at: datetime


@dataclass(frozen=True)
class EventRow:
    id: int
    case_id: int
    kind: str
    actor_id: int | None
    data: dict[str, Any]
    created_at: datetime


@dataclass(frozen=True)
class DecisionRow:
    id: int
    puid: str
    case_id: int
    subject_type: str
    subject_id: int
    account_id: int | None
    status_id: int | None
    action: str
    ground: str
    rule_id: str
    rule_version: int | None
    legal_ground: str
    explanation: str
    facts: str
    dsa_category: str
    keywords: tuple[str, ...]
    territorial_scope: tuple[str, ...]
    content_type: tuple[str, ...]
    content_language: str
    content_date: datetime
    label: str
    starts_at: datetime
    ends_at: datetime | None
    source_type: str
    source_identity: str
    automated_detection: bool
    automated_decision: str
    moderator_id: int | None
    misuse: str
    created_at: datetime
    notified_at: datetime | None = None
    reversed_at: datetime | None = None
    reversed_by_appeal_id: int | None = None
    log_index: int | None = None
    tdb_submitted_at: datetime | None = None
    tdb_uuid: str = ""


@dataclass(frozen=True)
class AppealRow:
    id: int
    decision_id: int
    appellant_role: str  # author | notifier
    appellant_account_id: int | None
    notice_id: int | None
    text: str
    filed_at: datetime
    reviewer_id: int | None = None
    outcome: str = ""  # "" | upheld | reversed
    reply: str = ""
    decided_at: datetime | None = None


_CASE = [f.name for f in fields(CaseRow)]
_DECISION = [f.name for f in fields(DecisionRow)]
_APPEAL = [f.name for f in fields(AppealRow)]
_JSON_LISTS = ("keywords", "territorial_scope", "content_type")


def _case(m: Any) -> CaseRow:
    return CaseRow(**{k: m[k] for k in _CASE})


def _decision(m: Any) -> DecisionRow:
    values = {k: m[k] for k in _DECISION}
    for k in _JSON_LISTS:
        values[k] = tuple(json.loads(values[k] or "[]"))
    return DecisionRow(**values)


def _appeal(m: Any) -> AppealRow:
    return AppealRow(**{k: m[k] for k in _APPEAL})


class CaseStore:
    def __init__(self, conn: Connection) -> None:
        self.conn = conn

    def get(self, case_id: int) -> CaseRow | None:
        found = self.conn.execute(select(mod_cases).where(mod_cases.c.id == case_id)).mappings()
        row = found.first()
        return _case(row) if row is not None else None

    def for_subject(self, subject_type: str, subject_id: int) -> CaseRow | None:
        found = self.conn.execute(
            select(mod_cases).where(
                mod_cases.c.subject_type == subject_type, mod_cases.c.subject_id == subject_id
            )
        ).mappings()
        row = found.first()
        return _case(row) if row is not None else None

    def insert(self, row: CaseRow) -> None:
        self.conn.execute(insert(mod_cases).values({k: getattr(row, k) for k in _CASE}))

    def update(self, case_id: int, values: dict[str, object]) -> None:
        self.conn.execute(update(mod_cases).where(mod_cases.c.id == case_id).values(values))

    def queue(
        self,
        *,
        states: tuple[str, ...] = ("open", "appealed"),
        assignee_id: int | None = None,
        languages: tuple[str, ...] = (),
        limit: int = 50,
        offset: int = 0,
    ) -> list[CaseRow]:
        """Open work, most urgent first: by lane (priority), then the earliest deadline."""
        stmt: Select[Any] = select(mod_cases).where(mod_cases.c.state.in_(states))
        if assignee_id is not None:
            stmt = stmt.where(mod_cases.c.assignee_id == assignee_id)
        if languages:
            stmt = stmt.where(or_(mod_cases.c.language.in_(languages), mod_cases.c.language == ""))
        stmt = stmt.order_by(
            mod_cases.c.escalated.desc(),
            mod_cases.c.priority,
            mod_cases.c.due_at,
            mod_cases.c.id,
        )
        rows = self.conn.execute(stmt.limit(limit).offset(offset)).mappings()
        return [_case(r) for r in rows]

    def of_account(self, account_id: int) -> list[CaseRow]:
        rows = self.conn.execute(
            select(mod_cases)
            .where(mod_cases.c.account_id == account_id)
            .order_by(mod_cases.c.id.desc())
        ).mappings()
        return [_case(r) for r in rows]

    # The event log: append and read, never update or delete.

    def append(self, event: EventRow) -> None:
        self.conn.execute(
            insert(mod_events).values(
                id=event.id,
                case_id=event.case_id,
                kind=event.kind,
                actor_id=event.actor_id,
                data=json.dumps(event.data, sort_keys=True, separators=(",", ":")),
                created_at=event.created_at,
            )
        )

    def events(self, case_id: int) -> list[EventRow]:
        rows = self.conn.execute(
            select(mod_events).where(mod_events.c.case_id == case_id).order_by(mod_events.c.id)
        ).mappings()
        return [
            EventRow(
                id=r["id"],
                case_id=r["case_id"],
                kind=r["kind"],
                actor_id=r["actor_id"],
                data=json.loads(r["data"]),
                created_at=r["created_at"],
            )
            for r in rows
        ]


class DecisionStore:
    def __init__(self, conn: Connection) -> None:
        self.conn = conn

    def insert(self, row: DecisionRow) -> None:
        values: dict[str, object] = {k: getattr(row, k) for k in _DECISION}
        for k in _JSON_LISTS:
            values[k] = json.dumps(list(values[k]))  # type: ignore[call-overload]
        self.conn.execute(insert(decisions).values(values))

    def get(self, decision_id: int) -> DecisionRow | None:
        found = self.conn.execute(select(decisions).where(decisions.c.id == decision_id))
        row = found.mappings().first()
        return _decision(row) if row is not None else None

    def by_puid(self, puid: str) -> DecisionRow | None:
        found = self.conn.execute(select(decisions).where(decisions.c.puid == puid))
        row = found.mappings().first()
        return _decision(row) if row is not None else None

    def update(self, decision_id: int, values: dict[str, object]) -> None:
        self.conn.execute(update(decisions).where(decisions.c.id == decision_id).values(values))

    def of_case(self, case_id: int) -> list[DecisionRow]:
        rows = self.conn.execute(
            select(decisions).where(decisions.c.case_id == case_id).order_by(decisions.c.id)
        ).mappings()
        return [_decision(r) for r in rows]

    def of_account(self, account_id: int, limit: int = 50) -> list[DecisionRow]:
        rows = self.conn.execute(
            select(decisions)
            .where(decisions.c.account_id == account_id)
            .order_by(decisions.c.id.desc())
            .limit(limit)
        ).mappings()
        return [_decision(r) for r in rows]

    def in_force_on(self, subject_type: str, subject_id: int) -> list[DecisionRow]:
        """Decisions on the subject not reversed, oldest first."""
        rows = self.conn.execute(
            select(decisions)
            .where(
                decisions.c.subject_type == subject_type,
                decisions.c.subject_id == subject_id,
                decisions.c.reversed_at.is_(None),
            )
            .order_by(decisions.c.id)
        ).mappings()
        return [_decision(r) for r in rows]

    def account_actions_in_force(self, account_id: int) -> list[DecisionRow]:
        """Account-level decisions (warn, suspend, terminate) about the account, not reversed."""
        rows = self.conn.execute(
            select(decisions)
            .where(
                decisions.c.account_id == account_id,
                decisions.c.action.in_(("warn", "suspend", "terminate")),
                decisions.c.reversed_at.is_(None),
            )
            .order_by(decisions.c.id)
        ).mappings()
        return [_decision(r) for r in rows]

    # Appeals

    def insert_appeal(self, row: AppealRow) -> None:
        self.conn.execute(insert(appeals).values({k: getattr(row, k) for k in _APPEAL}))

    def appeal(self, appeal_id: int) -> AppealRow | None:
        found = self.conn.execute(select(appeals).where(appeals.c.id == appeal_id))
        row = found.mappings().first()
        return _appeal(row) if row is not None else None

    def appeals_of(self, decision_id: int) -> list[AppealRow]:
        rows = self.conn.execute(
            select(appeals).where(appeals.c.decision_id == decision_id).order_by(appeals.c.id)
        ).mappings()
        return [_appeal(r) for r in rows]

    def update_appeal(self, appeal_id: int, values: dict[str, object]) -> None:
        self.conn.execute(update(appeals).where(appeals.c.id == appeal_id).values(values))

    def pending_appeals(self, limit: int = 50) -> list[AppealRow]:
        rows = self.conn.execute(
            select(appeals).where(appeals.c.outcome == "").order_by(appeals.c.id).limit(limit)
        ).mappings()
        return [_appeal(r) for r in rows]
