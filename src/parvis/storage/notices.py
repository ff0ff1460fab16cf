"""Notices: reports of content sent through the web app's report form (the moderation queue
reads them)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, insert, select
from sqlalchemy.engine import Connection

from parvis.storage.tables import notices


@dataclass(frozen=True)
class NoticeRow:
    id: int
    status_id: int | None
    account_id: int
    reporter_account_id: int | None
    category: str
    explanation: str
    reporter_name: str
    reporter_email: str
    created_at: datetime


class NoticeStore:
    def __init__(self, conn: Connection) -> None:
        self.conn = conn

    def insert(self, row: NoticeRow) -> None:
        self.conn.execute(
            insert(notices).values(
                id=row.id,
                status_id=row.status_id,
                account_id=row.account_id,
                reporter_account_id=row.reporter_account_id,
                category=row.category,
                explanation=row.explanation,
                reporter_name=row.reporter_name,
                reporter_email=row.reporter_email,
                created_at=row.created_at,
            )
        )

    def get(self, notice_id: int) -> NoticeRow | None:
        found = (
            self.conn.execute(select(notices).where(notices.c.id == notice_id)).mappings().first()
        )
        return NoticeRow(**dict(found)) if found is not None else None

    def newest(self, limit: int = 100) -> list[NoticeRow]:
        rows = self.conn.execute(
            select(notices).order_by(notices.c.id.desc()).limit(limit)
        ).mappings()
        return [NoticeRow(**dict(r)) for r in rows]

    def count_by_category(self) -> dict[str, int]:
        stmt = select(notices.c.category, func.count()).group_by(notices.c.category)
        return {str(category): int(n) for category, n in self.conn.execute(stmt)}
