"""Notices (DSA art. 16) and their items: what was reported, by whom, through which channel, and
when it was acknowledged, decided and answered."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, fields
from datetime import datetime

from sqlalchemy import func, insert, select, update
from sqlalchemy.engine import Connection

from parvis.storage.tables import notice_items, notices


@dataclass(frozen=True)
class NoticeRow:
    id: int
    reporter_account_id: int | None
    category: str  # the offence key (parvis.domain.moderation.OFFENCES)
    dsa_category: str
    legal_ground: str
    rule_ids: str  # comma-separated ids of the server's rules cited (Mastodon's rule_ids)
    explanation: str
    reporter_name: str
    reporter_email: str
    channel: str
    trusted_flagger_id: int | None
    remote_actor: str
    receipt_hash: str
    language: str
    priority: int
    automated: bool
    created_at: datetime
    acknowledged_at: datetime | None = None
    due_at: datetime | None = None
    decided_at: datetime | None = None
    outcome: str = ""
    notified_at: datetime | None = None


@dataclass(frozen=True)
class NoticeItemRow:
    id: int
    notice_id: int
    case_id: int
    status_id: int | None
    account_id: int | None
    decision_id: int | None = None
    decided_at: datetime | None = None


_NOTICE_FIELDS = [f.name for f in fields(NoticeRow)]
_ITEM_FIELDS = [f.name for f in fields(NoticeItemRow)]


def _notice(mapping: object) -> NoticeRow:
    return NoticeRow(**{k: mapping[k] for k in _NOTICE_FIELDS})  # type: ignore[index]


def _item(mapping: object) -> NoticeItemRow:
    return NoticeItemRow(**{k: mapping[k] for k in _ITEM_FIELDS})  # type: ignore[index]


class NoticeStore:
    def __init__(self, conn: Connection) -> None:
        self.conn = conn

    def insert(self, row: NoticeRow, items: Iterable[NoticeItemRow]) -> None:
        self.conn.execute(insert(notices).values({k: getattr(row, k) for k in _NOTICE_FIELDS}))
        values = [{k: getattr(item, k) for k in _ITEM_FIELDS} for item in items]
        if values:
            self.conn.execute(insert(notice_items), values)

    def get(self, notice_id: int) -> NoticeRow | None:
        found = (
            self.conn.execute(select(notices).where(notices.c.id == notice_id)).mappings().first()
        )
        return _notice(found) if found is not None else None

    def by_receipt(self, receipt_hash: str) -> NoticeRow | None:
        found = (
            self.conn.execute(select(notices).where(notices.c.receipt_hash == receipt_hash))
            .mappings()
            .first()
        )
        return _notice(found) if found is not None else None

    def items(self, notice_id: int) -> list[NoticeItemRow]:
        rows = self.conn.execute(
            select(notice_items)
            .where(notice_items.c.notice_id == notice_id)
            .order_by(notice_items.c.id)
        ).mappings()
        return [_item(r) for r in rows]

    def items_of_case(self, case_id: int, *, undecided: bool = False) -> list[NoticeItemRow]:
        stmt = select(notice_items).where(notice_items.c.case_id == case_id)
        if undecided:
            stmt = stmt.where(notice_items.c.decided_at.is_(None))
        return [_item(r) for r in self.conn.execute(stmt.order_by(notice_items.c.id)).mappings()]

    def of_case(self, case_id: int) -> list[NoticeRow]:
        """The notices with an item in the case, oldest first."""
        ids = select(notice_items.c.notice_id).where(notice_items.c.case_id == case_id)
        rows = self.conn.execute(
            select(notices).where(notices.c.id.in_(ids)).order_by(notices.c.id)
        ).mappings()
        return [_notice(r) for r in rows]

    def of_cases(self, case_ids: list[int]) -> dict[int, list[tuple[NoticeRow, bool]]]:
        """For each case, its notices oldest first, each with whether its item in that case is
        still undecided: one query for a whole page of the queue."""
        out: dict[int, list[tuple[NoticeRow, bool]]] = {c: [] for c in case_ids}
        if not case_ids:
            return out
        stmt = (
            select(notices, notice_items.c.case_id, notice_items.c.decided_at.label("item_done"))
            .join(notice_items, notice_items.c.notice_id == notices.c.id)
            .where(notice_items.c.case_id.in_(case_ids))
            .order_by(notices.c.id)
        )
        for r in self.conn.execute(stmt).mappings():
            out[int(r["case_id"])].append((_notice(r), r["item_done"] is None))
        return out

    def by_reporter(self, account_id: int, limit: int = 50) -> list[NoticeRow]:
        rows = self.conn.execute(
            select(notices)
            .where(notices.c.reporter_account_id == account_id)
            .order_by(notices.c.id.desc())
            .limit(limit)
        ).mappings()
        return [_notice(r) for r in rows]

    def decide_items(self, case_id: int, decision_id: int, at: datetime) -> list[int]:
        """Marks the case's undecided items as answered by the decision; returns the notices
        they belong to."""
        pending = notice_items.c.case_id == case_id, notice_items.c.decided_at.is_(None)
        notice_ids = [
            int(n)
            for (n,) in self.conn.execute(
                select(notice_items.c.notice_id).where(*pending).distinct()
            )
        ]
        self.conn.execute(
            update(notice_items).where(*pending).values(decision_id=decision_id, decided_at=at)
        )
        return notice_ids

    def undecided_items(self, notice_id: int) -> int:
        return int(
            self.conn.execute(
                select(func.count())
                .select_from(notice_items)
                .where(notice_items.c.notice_id == notice_id, notice_items.c.decided_at.is_(None))
            ).scalar_one()
        )

    def update(self, notice_id: int, values: dict[str, object]) -> None:
        self.conn.execute(update(notices).where(notices.c.id == notice_id).values(values))

    def newest(self, limit: int = 100) -> list[NoticeRow]:
        rows = self.conn.execute(
            select(notices).order_by(notices.c.id.desc()).limit(limit)
        ).mappings()
        return [_notice(r) for r in rows]

    def count_by_category(self) -> dict[str, int]:
        stmt = select(notices.c.category, func.count()).group_by(notices.c.category)
        return {str(category): int(n) for category, n in self.conn.execute(stmt)}

    def recent_from(self, account_id: int, since: datetime) -> list[NoticeRow]:
        rows = self.conn.execute(
            select(notices).where(
                notices.c.reporter_account_id == account_id, notices.c.created_at >= since
            )
        ).mappings()
        return [_notice(r) for r in rows]
