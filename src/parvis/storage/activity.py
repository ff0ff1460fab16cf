"""Weekly server activity for /api/v1/instance/activity: local posts, logins, sign-ups."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import func, or_, select
from sqlalchemy.engine import Connection

from parvis.storage.tables import accounts, oauth_tokens, statuses, users


class ActivityStore:
    def __init__(self, conn: Connection) -> None:
        self.conn = conn

    def _count(self, stmt: Any) -> int:
        return int(self.conn.execute(stmt).scalar_one())

    def local_statuses(self, start: datetime, end: datetime) -> int:
        """Posts (boosts included, as Mastodon counts them) by local accounts in [start, end)."""
        return self._count(
            select(func.count())
            .select_from(statuses)
            .where(
                statuses.c.local.is_(True),
                statuses.c.created_at >= start,
                statuses.c.created_at < end,
            )
        )

    def logins(self, start: datetime, end: datetime) -> int:
        """Distinct local users who signed in (got a token) or used one in [start, end). A token
        only remembers its last use, so older weeks count those who signed in then."""
        return self._count(
            select(func.count(func.distinct(oauth_tokens.c.account_id))).where(
                oauth_tokens.c.account_id.is_not(None),
                or_(
                    (oauth_tokens.c.created_at >= start) & (oauth_tokens.c.created_at < end),
                    (oauth_tokens.c.last_used_at >= start) & (oauth_tokens.c.last_used_at < end),
                ),
            )
        )

    def registrations(self, start: datetime, end: datetime) -> int:
        """Local users who signed up in [start, end)."""
        return self._count(
            select(func.count())
            .select_from(users)
            .where(users.c.created_at >= start, users.c.created_at < end)
        )

    def peers(self, limit: int = 10_000) -> list[str]:
        """Domains of the remote accounts this server knows, sorted."""
        domain = func.lower(accounts.c.domain)
        rows = self.conn.execute(
            select(domain)
            .where(accounts.c.domain.is_not(None))
            .distinct()
            .order_by(domain)
            .limit(limit)
        )
        return [str(r[0]) for r in rows]
