"""Server-wide announcements, with who read them and their emoji reactions."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import and_, case, delete, func, insert, or_, select
from sqlalchemy.engine import Connection

from parvis.domain.ids import new_id
from parvis.storage.tables import announcement_reactions, announcement_reads, announcements


class AnnouncementStore:
    def __init__(self, conn: Connection) -> None:
        self.conn = conn

    def add(
        self,
        text: str,
        content: str,
        *,
        starts_at: datetime | None,
        ends_at: datetime | None,
        all_day: bool,
        now: datetime,
    ) -> int:
        aid = new_id()
        self.conn.execute(
            insert(announcements).values(
                id=aid,
                text=text,
                content=content,
                starts_at=starts_at,
                ends_at=ends_at,
                all_day=all_day,
                published_at=now,
                updated_at=now,
            )
        )
        return aid

    def all(self) -> list[dict[str, Any]]:
        stmt = select(announcements).order_by(announcements.c.id.desc())
        return [dict(r) for r in self.conn.execute(stmt).mappings()]

    def active(self, now: datetime) -> list[dict[str, Any]]:
        """Those not over yet (no end, or an end in the future), newest first. An announcement
        of a future event is shown before it starts, as in Mastodon."""
        stmt = (
            select(announcements)
            .where(or_(announcements.c.ends_at.is_(None), announcements.c.ends_at > now))
            .order_by(announcements.c.id.desc())
        )
        return [dict(r) for r in self.conn.execute(stmt).mappings()]

    def get(self, announcement_id: int) -> dict[str, Any] | None:
        row = (
            self.conn.execute(select(announcements).where(announcements.c.id == announcement_id))
            .mappings()
            .first()
        )
        return dict(row) if row else None

    def delete(self, announcement_id: int) -> bool:
        result = self.conn.execute(
            delete(announcements).where(announcements.c.id == announcement_id)
        )
        return bool(result.rowcount)

    def read_ids(self, account_id: int, ids: Sequence[int]) -> set[int]:
        if not ids:
            return set()
        rows = self.conn.execute(
            select(announcement_reads.c.announcement_id).where(
                announcement_reads.c.account_id == account_id,
                announcement_reads.c.announcement_id.in_(list(ids)),
            )
        )
        return {int(r[0]) for r in rows}

    def mark_read(self, account_id: int, announcement_id: int) -> None:
        if announcement_id in self.read_ids(account_id, [announcement_id]):
            return
        self.conn.execute(
            insert(announcement_reads).values(
                announcement_id=announcement_id, account_id=account_id
            )
        )

    def reactions(
        self, ids: Sequence[int], account_id: int | None
    ) -> dict[int, list[tuple[str, int, bool]]]:
        """Per announcement: (emoji, count, whether `account_id` is among them), by first use."""
        if not ids:
            return {}
        mine = func.sum(
            case((announcement_reactions.c.account_id == (account_id or 0), 1), else_=0)
        )
        stmt = (
            select(
                announcement_reactions.c.announcement_id,
                announcement_reactions.c.name,
                func.count().label("count"),
                mine.label("mine"),
                func.min(announcement_reactions.c.created_at).label("first"),
            )
            .where(announcement_reactions.c.announcement_id.in_(list(ids)))
            .group_by(announcement_reactions.c.announcement_id, announcement_reactions.c.name)
            .order_by(func.min(announcement_reactions.c.created_at), announcement_reactions.c.name)
        )
        out: dict[int, list[tuple[str, int, bool]]] = {}
        for r in self.conn.execute(stmt).mappings():
            out.setdefault(int(r["announcement_id"]), []).append(
                (str(r["name"]), int(r["count"]), bool(r["mine"]))
            )
        return out

    def react(self, account_id: int, announcement_id: int, name: str, now: datetime) -> None:
        exists = self.conn.execute(
            select(announcement_reactions.c.name).where(
                and_(
                    announcement_reactions.c.announcement_id == announcement_id,
                    announcement_reactions.c.account_id == account_id,
                    announcement_reactions.c.name == name,
                )
            )
        ).first()
        if exists:
            return
        self.conn.execute(
            insert(announcement_reactions).values(
                announcement_id=announcement_id, account_id=account_id, name=name, created_at=now
            )
        )

    def unreact(self, account_id: int, announcement_id: int, name: str) -> None:
        self.conn.execute(
            delete(announcement_reactions).where(
                announcement_reactions.c.announcement_id == announcement_id,
                announcement_reactions.c.account_id == account_id,
                announcement_reactions.c.name == name,
            )
        )

    def distinct_reactions(self, announcement_id: int) -> int:
        stmt = select(func.count(func.distinct(announcement_reactions.c.name))).where(
            announcement_reactions.c.announcement_id == announcement_id
        )
        return int(self.conn.execute(stmt).scalar_one())
