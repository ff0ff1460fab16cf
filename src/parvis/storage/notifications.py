"""Notifications addressed to local accounts."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Select, delete, exists, func, insert, select, update
from sqlalchemy.engine import Connection

from parvis.domain.ids import new_id
from parvis.storage.statuses import page
from parvis.storage.tables import filtered_notifications, notification_policies, notifications

POLICY_FIELDS = (
    "for_not_following",
    "for_not_followers",
    "for_new_accounts",
    "for_private_mentions",
    "for_limited_accounts",
)


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
        *,
        filtered: bool = False,
        decision_id: int | None = None,
    ) -> int:
        """A notification; `filtered` ones wait among the recipient's notification requests;
        a moderation_warning points at its decision."""
        nid = new_id()
        self.conn.execute(
            insert(notifications).values(
                id=nid,
                account_id=account_id,
                from_account_id=from_account_id,
                type=type_,
                status_id=status_id,
                created_at=now,
                decision_id=decision_id,
            )
        )
        if filtered:
            self.conn.execute(
                insert(filtered_notifications).values(
                    notification_id=nid, account_id=account_id, from_account_id=from_account_id
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
        include_filtered: bool = False,
    ) -> Select[Any]:
        stmt = stmt.where(notifications.c.account_id == account_id)
        if not include_filtered:
            stmt = stmt.where(
                ~exists().where(filtered_notifications.c.notification_id == notifications.c.id)
            )
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
        include_filtered: bool = False,
    ) -> list[dict[str, Any]]:
        stmt = self._filtered(
            select(notifications),
            account_id,
            types,
            exclude_types,
            from_account_id,
            include_filtered,
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

    # -- groups (grouped notifications, v2) ----------------------------------------------------

    def of_group(
        self,
        account_id: int,
        type_: str,
        *,
        status_id: int | None = None,
        since: datetime | None = None,
        until: datetime | None = None,
        limit: int = 1000,
    ) -> list[dict[str, Any]]:
        """Unfiltered notifications of one type (about one status, or within [since, until)),
        newest first."""
        stmt = self._filtered(select(notifications), account_id, [type_], (), None)
        if status_id is not None:
            stmt = stmt.where(notifications.c.status_id == status_id)
        if since is not None:
            stmt = stmt.where(notifications.c.created_at >= since)
        if until is not None:
            stmt = stmt.where(notifications.c.created_at < until)
        stmt = stmt.order_by(notifications.c.id.desc()).limit(limit)
        return [dict(r) for r in self.conn.execute(stmt).mappings()]

    def dismiss_many(self, account_id: int, ids: Sequence[int]) -> int:
        if not ids:
            return 0
        result = self.conn.execute(
            delete(notifications).where(
                notifications.c.account_id == account_id, notifications.c.id.in_(list(ids))
            )
        )
        return int(result.rowcount)

    # -- policy and requests ---------------------------------------------------------------------

    def policy(self, account_id: int) -> dict[str, str]:
        """The recipient's policy: accept, filter or drop per kind of sender (accept by default)."""
        row = (
            self.conn.execute(
                select(notification_policies).where(
                    notification_policies.c.account_id == account_id
                )
            )
            .mappings()
            .first()
        )
        return {f: (str(row[f]) if row else "accept") for f in POLICY_FIELDS}

    def set_policy(self, account_id: int, values: dict[str, str], now: datetime) -> None:
        merged = {**self.policy(account_id), **values}
        exists_ = self.conn.execute(
            select(notification_policies.c.account_id).where(
                notification_policies.c.account_id == account_id
            )
        ).first()
        if exists_:
            self.conn.execute(
                update(notification_policies)
                .where(notification_policies.c.account_id == account_id)
                .values(**merged, updated_at=now)
            )
        else:
            self.conn.execute(
                insert(notification_policies).values(
                    account_id=account_id, **merged, updated_at=now
                )
            )

    def requests(
        self,
        account_id: int,
        *,
        from_account_id: int | None = None,
        max_id: int | None = None,
        since_id: int | None = None,
        min_id: int | None = None,
        limit: int = 40,
    ) -> list[dict[str, Any]]:
        """Filtered notifications grouped by sender: from_account_id, count, last_id, first_at,
        last_at; newest group first (paged on last_id)."""
        last_id = func.max(notifications.c.id)
        stmt = (
            select(
                filtered_notifications.c.from_account_id,
                func.count().label("count"),
                last_id.label("last_id"),
                func.min(notifications.c.created_at).label("first_at"),
                func.max(notifications.c.created_at).label("last_at"),
            )
            .join(notifications, notifications.c.id == filtered_notifications.c.notification_id)
            .where(filtered_notifications.c.account_id == account_id)
            .group_by(filtered_notifications.c.from_account_id)
        )
        if from_account_id is not None:
            stmt = stmt.where(filtered_notifications.c.from_account_id == from_account_id)
        if max_id is not None:
            stmt = stmt.having(last_id < max_id)
        if since_id is not None:
            stmt = stmt.having(last_id > since_id)
        if min_id is not None:
            stmt = stmt.having(last_id > min_id).order_by(last_id.asc())
        else:
            stmt = stmt.order_by(last_id.desc())
        return [dict(r) for r in self.conn.execute(stmt.limit(limit)).mappings()]

    def last_filtered_status(self, account_id: int, from_account_id: int) -> int | None:
        """The status of the newest filtered notification from this sender that has one."""
        row = self.conn.execute(
            select(notifications.c.status_id)
            .join(
                filtered_notifications,
                filtered_notifications.c.notification_id == notifications.c.id,
            )
            .where(
                filtered_notifications.c.account_id == account_id,
                filtered_notifications.c.from_account_id == from_account_id,
                notifications.c.status_id.is_not(None),
            )
            .order_by(notifications.c.id.desc())
            .limit(1)
        ).first()
        return int(row[0]) if row else None

    def accept_requests(self, account_id: int, from_account_ids: Sequence[int]) -> int:
        """Move the senders' filtered notifications into the ordinary list."""
        result = self.conn.execute(
            delete(filtered_notifications).where(
                filtered_notifications.c.account_id == account_id,
                filtered_notifications.c.from_account_id.in_(list(from_account_ids)),
            )
        )
        return int(result.rowcount)

    def dismiss_requests(self, account_id: int, from_account_ids: Sequence[int]) -> int:
        """Delete the senders' filtered notifications."""
        filtered_ids = select(filtered_notifications.c.notification_id).where(
            filtered_notifications.c.account_id == account_id,
            filtered_notifications.c.from_account_id.in_(list(from_account_ids)),
        )
        result = self.conn.execute(
            delete(notifications).where(
                notifications.c.account_id == account_id,
                notifications.c.id.in_(filtered_ids.scalar_subquery()),
            )
        )
        return int(result.rowcount)

    def pending_summary(self, account_id: int) -> tuple[int, int]:
        """(senders with filtered notifications, capped at 100; filtered notifications)."""
        total = self.conn.execute(
            select(func.count()).where(filtered_notifications.c.account_id == account_id)
        ).scalar_one()
        senders = (
            select(filtered_notifications.c.from_account_id)
            .where(filtered_notifications.c.account_id == account_id)
            .distinct()
            .limit(100)
        )
        count = self.conn.execute(select(func.count()).select_from(senders.subquery())).scalar_one()
        return int(count), int(total)
