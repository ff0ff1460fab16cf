"""Notifications addressed to local accounts."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Select, delete, func, insert, select
from sqlalchemy.engine import Connection

from parvis.domain.ids import new_id
from parvis.storage.statuses import page
from parvis.storage.tables import notifications


class NotificationStore:
    def __init__(self, conn: Connection) -> None:
        self.conn = conn

    def add(
        self,
        account_id: int,
        from_account_id: int,
        type_: str,
        status_id: int | None,
        now: datetime,
    ) -> int:
        nid = new_id()
        self.conn.execute(
            insert(notifications).values(
                id=nid,
                account_id=account_id,
                from_account_id=from_account_id,
                type=type_,
                status_id=status_id,
                created_at=now,
            )
        )
        return nid

    def exists(
        self, account_id: int, from_account_id: int, type_: str, status_id: int | None
    ) -> bool:
        stmt = select(notifications.c.id).where(
            notifications.c.account_id == account_id,
            notifications.c.from_account_id == from_account_id,
            notifications.c.type == type_,
        )
        stmt = stmt.where(
            notifications.c.status_id.is_(None)
            if status_id is None
            else notifications.c.status_id == status_id
        )
        return self.conn.execute(stmt).first() is not None

    @staticmethod
    def _filtered(
        stmt: Select[Any],
        account_id: int,
        types: Sequence[str] | None,
        exclude_types: Sequence[str],
        from_account_id: int | None,
    ) -> Select[Any]:
        stmt = stmt.where(notifications.c.account_id == account_id)
        if types:
            stmt = stmt.where(notifications.c.type.in_(list(types)))
        if exclude_types:
            stmt = stmt.where(notifications.c.type.not_in(list(exclude_types)))
        if from_account_id is not None:
            stmt = stmt.where(notifications.c.from_account_id == from_account_id)
        return stmt

    def page(
        self,
        account_id: int,
        *,
        types: Sequence[str] | None,
        exclude_types: Sequence[str],
        from_account_id: int | None,
        max_id: int | None,
        since_id: int | None,
        min_id: int | None,
        limit: int,
    ) -> list[dict[str, Any]]:
        stmt = self._filtered(
            select(notifications), account_id, types, exclude_types, from_account_id
        )
        stmt = page(
            stmt, notifications.c.id, max_id=max_id, since_id=since_id, min_id=min_id, limit=limit
        )
        return [dict(r) for r in self.conn.execute(stmt).mappings()]

    def get(self, account_id: int, notification_id: int) -> dict[str, Any] | None:
        row = (
            self.conn.execute(
                select(notifications).where(
                    notifications.c.account_id == account_id, notifications.c.id == notification_id
                )
            )
            .mappings()
            .first()
        )
        return dict(row) if row else None

    def dismiss(self, account_id: int, notification_id: int) -> bool:
        result = self.conn.execute(
            delete(notifications).where(
                notifications.c.account_id == account_id, notifications.c.id == notification_id
            )
        )
        return bool(result.rowcount)

    def clear(self, account_id: int) -> None:
        self.conn.execute(delete(notifications).where(notifications.c.account_id == account_id))

    def remove_from(self, account_id: int, from_account_id: int) -> None:
        """Every notification `account_id` got from `from_account_id` (e.g. after a block)."""
        self.conn.execute(
            delete(notifications).where(
                notifications.c.account_id == account_id,
                notifications.c.from_account_id == from_account_id,
            )
        )

    def remove_about(
        self, account_id: int, from_account_id: int, type_: str, status_id: int | None = None
    ) -> None:
        stmt = delete(notifications).where(
            notifications.c.account_id == account_id,
            notifications.c.from_account_id == from_account_id,
            notifications.c.type == type_,
        )
        if status_id is not None:
            stmt = stmt.where(notifications.c.status_id == status_id)
        self.conn.execute(stmt)

    def unread_count(
        self,
        account_id: int,
        since_id: int | None = None,
        *,
        types: Sequence[str] | None = None,
        exclude_types: Sequence[str] = (),
        from_account_id: int | None = None,
        limit: int | None = None,
    ) -> int:
        """Notifications newer than `since_id` (all when None), counting at most `limit`."""
        stmt = self._filtered(
            select(notifications.c.id), account_id, types, exclude_types, from_account_id
        )
        if since_id is not None:
            stmt = stmt.where(notifications.c.id > since_id)
        if limit is not None:
            stmt = stmt.order_by(notifications.c.id.desc()).limit(limit)
        counted = select(func.count()).select_from(stmt.subquery())
        return int(self.conn.execute(counted).scalar_one())
