"""Scheduled statuses: the parameters of a post to publish later, and the media it reserves."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import delete, func, insert, select, update
from sqlalchemy.engine import Connection, RowMapping

from parvis.domain.ids import new_id
from parvis.storage.statuses import page
from parvis.storage.tables import scheduled_status_media, scheduled_statuses


@dataclass(frozen=True)
class ScheduledRow:
    id: int
    account_id: int
    scheduled_at: datetime
    params: dict[str, Any]
    media_ids: tuple[int, ...]


class ScheduledStore:
    def __init__(self, conn: Connection) -> None:
        self.conn = conn

    def insert(
        self,
        account_id: int,
        scheduled_at: datetime,
        params: dict[str, Any],
        media_ids: Sequence[int],
        now: datetime,
    ) -> int:
        sid = new_id()
        self.conn.execute(
            insert(scheduled_statuses).values(
                id=sid,
                account_id=account_id,
                scheduled_at=scheduled_at,
                params=json.dumps(params),
                created_at=now,
            )
        )
        rows = [{"scheduled_status_id": sid, "media_id": m} for m in dict.fromkeys(media_ids)]
        if rows:
            self.conn.execute(insert(scheduled_status_media), rows)
        return sid

    def _build(self, rows: list[RowMapping]) -> list[ScheduledRow]:
        ids = [r["id"] for r in rows]
        media: dict[int, list[int]] = {i: [] for i in ids}
        if ids:
            for sid, mid in self.conn.execute(
                select(
                    scheduled_status_media.c.scheduled_status_id, scheduled_status_media.c.media_id
                ).where(scheduled_status_media.c.scheduled_status_id.in_(ids))
            ):
                media[sid].append(mid)
        return [
            ScheduledRow(
                id=r["id"],
                account_id=r["account_id"],
                scheduled_at=r["scheduled_at"],
                params=json.loads(r["params"]),
                media_ids=tuple(sorted(media[r["id"]])),
            )
            for r in rows
        ]

    def get(self, account_id: int, scheduled_id: int) -> ScheduledRow | None:
        rows = list(
            self.conn.execute(
                select(scheduled_statuses).where(
                    scheduled_statuses.c.id == scheduled_id,
                    scheduled_statuses.c.account_id == account_id,
                )
            ).mappings()
        )
        built = self._build(rows)
        return built[0] if built else None

    def page(
        self,
        account_id: int,
        *,
        max_id: int | None,
        since_id: int | None,
        min_id: int | None,
        limit: int,
    ) -> list[ScheduledRow]:
        stmt = select(scheduled_statuses).where(scheduled_statuses.c.account_id == account_id)
        stmt = page(
            stmt,
            scheduled_statuses.c.id,
            max_id=max_id,
            since_id=since_id,
            min_id=min_id,
            limit=limit,
        )
        return self._build(list(self.conn.execute(stmt).mappings()))

    def count(self, account_id: int) -> int:
        return int(
            self.conn.execute(
                select(func.count()).where(scheduled_statuses.c.account_id == account_id)
            ).scalar_one()
        )

    def reschedule(self, scheduled_id: int, scheduled_at: datetime) -> None:
        self.conn.execute(
            update(scheduled_statuses)
            .where(scheduled_statuses.c.id == scheduled_id)
            .values(scheduled_at=scheduled_at)
        )

    def delete(self, scheduled_id: int) -> None:
        self.conn.execute(delete(scheduled_statuses).where(scheduled_statuses.c.id == scheduled_id))

    def due(self, now: datetime, limit: int = 100) -> list[ScheduledRow]:
        rows = list(
            self.conn.execute(
                select(scheduled_statuses)
                .where(scheduled_statuses.c.scheduled_at <= now)
                .order_by(scheduled_statuses.c.scheduled_at)
                .limit(limit)
            ).mappings()
        )
        return self._build(rows)

    def reserved(self, media_ids: Sequence[int]) -> set[int]:
        """Which of these media a scheduled status holds."""
        if not media_ids:
            return set()
        rows = self.conn.execute(
            select(scheduled_status_media.c.media_id).where(
                scheduled_status_media.c.media_id.in_(list(media_ids))
            )
        )
        return {r[0] for r in rows}
