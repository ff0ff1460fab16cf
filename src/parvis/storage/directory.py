"""The profile directory: accounts that chose to be listed (Mastodon's /api/v1/directory)."""

from __future__ import annotations

from collections.abc import Collection

from sqlalchemy import and_, or_, select
from sqlalchemy.engine import Connection

from parvis.storage.tables import accounts, users


class DirectoryStore:
    def __init__(self, conn: Connection) -> None:
        self.conn = conn

    def page(
        self,
        *,
        order: str,
        local_only: bool,
        exclude_ids: Collection[int],
        exclude_domains: Collection[str],
        offset: int,
        limit: int,
    ) -> list[int]:
        """Ids of discoverable accounts, neither suspended nor moved; local ones only when
        their user is approved, confirmed and not disabled. `order` is `active` (the latest
        to post first, never-posted last) or `new` (the newest accounts first)."""
        stmt = (
            select(accounts.c.id)
            .select_from(accounts.outerjoin(users, users.c.account_id == accounts.c.id))
            .where(
                accounts.c.discoverable.is_(True),
                accounts.c.suspended_at.is_(None),
                accounts.c.moved_to_account_id.is_(None),
                or_(
                    accounts.c.domain.is_not(None),
                    and_(
                        users.c.approved.is_(True),
                        users.c.confirmed.is_(True),
                        users.c.disabled.is_(False),
                    ),
                ),
            )
        )
        if local_only:
            stmt = stmt.where(accounts.c.domain.is_(None))
        if exclude_ids:
            stmt = stmt.where(accounts.c.id.not_in(list(exclude_ids)))
        if exclude_domains:
            stmt = stmt.where(
                or_(accounts.c.domain.is_(None), accounts.c.domain.not_in(list(exclude_domains)))
            )
        if order == "new":
            stmt = stmt.order_by(accounts.c.created_at.desc(), accounts.c.id.desc())
        else:
            stmt = stmt.order_by(
                accounts.c.last_status_at.desc().nulls_last(), accounts.c.id.desc()
            )
        return [r[0] for r in self.conn.execute(stmt.offset(offset).limit(limit))]
