"""Media attachment rows (the files themselves live in a MediaFiles store), and the counts
the instance endpoints publish (here until statistics get a store of their own)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import exists, func, insert, or_, select, update
from sqlalchemy.engine import Connection

from parvis.domain.models import Media
from parvis.storage.statuses import media_from_row
from parvis.storage.tables import accounts, media_attachments, oauth_tokens, users


class MediaStore:
    def __init__(self, conn: Connection) -> None:
        self.conn = conn

    def insert(self, values: dict[str, Any]) -> None:
        self.conn.execute(insert(media_attachments).values(**values))

    def get(self, media_id: int) -> Media | None:
        row = (
            self.conn.execute(select(media_attachments).where(media_attachments.c.id == media_id))
            .mappings()
            .first()
        )
        return media_from_row(row) if row else None

    def get_many(self, ids: Sequence[int]) -> list[Media]:
        rows = self.conn.execute(
            select(media_attachments).where(media_attachments.c.id.in_(list(ids)))
        ).mappings()
        return [media_from_row(r) for r in rows]

    def original_key(self, media_id: int) -> str | None:
        return self.conn.execute(
            select(media_attachments.c.original_key).where(media_attachments.c.id == media_id)
        ).scalar()

    def update(self, media_id: int, values: dict[str, Any]) -> None:
        self.conn.execute(
            update(media_attachments).where(media_attachments.c.id == media_id).values(**values)
        )

    @property
    def instance(self) -> InstanceCounts:
        """Server-wide counts (see InstanceCounts)."""
        return InstanceCounts(self.conn)


class InstanceCounts:
    """Server-wide counts for /api/v*/instance and NodeInfo (Mastodon's definitions)."""

    def __init__(self, conn: Connection) -> None:
        self.conn = conn

    def _local_users(self) -> Any:
        return (
            select(func.count())
            .select_from(accounts.join(users, users.c.account_id == accounts.c.id))
            .where(
                accounts.c.domain.is_(None),
                accounts.c.suspended_at.is_(None),
                users.c.confirmed.is_(True),
            )
        )

    def user_count(self) -> int:
        """Confirmed local users whose account is not suspended."""
        return int(self.conn.execute(self._local_users()).scalar_one())

    def active_user_count(self, since: datetime) -> int:
        """Those of them who posted, signed up or signed in (got a token) since `since`."""
        signed_in = exists().where(
            oauth_tokens.c.account_id == accounts.c.id,
            or_(oauth_tokens.c.created_at >= since, oauth_tokens.c.last_used_at >= since),
        )
        stmt = self._local_users().where(
            or_(accounts.c.last_status_at >= since, accounts.c.created_at >= since, signed_in)
        )
        return int(self.conn.execute(stmt).scalar_one())

    def local_status_count(self) -> int:
        """Posts (boosts included) by local accounts, from their counters, as Mastodon does."""
        stmt = select(func.coalesce(func.sum(accounts.c.statuses_count), 0)).where(
            accounts.c.domain.is_(None)
        )
        return int(self.conn.execute(stmt).scalar_one())

    def domain_count(self) -> int:
        """Other servers this one knows accounts of."""
        stmt = select(func.count(func.distinct(func.lower(accounts.c.domain)))).where(
            accounts.c.domain.is_not(None)
        )
        return int(self.conn.execute(stmt).scalar_one())
