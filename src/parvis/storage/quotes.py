"""Quote posts: which status quotes which, and whether that quote still stands."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import insert, select, update
from sqlalchemy.engine import Connection

from parvis.domain.ids import new_id
from parvis.storage.tables import quotes, statuses


def quotes_for(conn: Connection, status_ids: Sequence[int]) -> dict[int, tuple[str, int | None]]:
    """(state, quoted status id or None when it is gone) by quoting status id."""
    if not status_ids:
        return {}
    rows = conn.execute(
        select(quotes.c.status_id, quotes.c.state, quotes.c.quoted_status_id).where(
            quotes.c.status_id.in_(list(status_ids))
        )
    )
    return {r[0]: (r[1], r[2]) for r in rows}


class QuoteStore:
    def __init__(self, conn: Connection) -> None:
        self.conn = conn

    def insert(
        self, status_id: int, quoted_status_id: int, quoted_account_id: int, now: datetime
    ) -> None:
        self.conn.execute(
            insert(quotes).values(
                id=new_id(),
                status_id=status_id,
                quoted_status_id=quoted_status_id,
                quoted_account_id=quoted_account_id,
                state="accepted",
                created_at=now,
            )
        )

    def of(self, status_id: int) -> tuple[str, int | None, int] | None:
        """(state, quoted status id, quoted account id) of a quoting status."""
        row = self.conn.execute(
            select(quotes.c.state, quotes.c.quoted_status_id, quotes.c.quoted_account_id).where(
                quotes.c.status_id == status_id
            )
        ).first()
        return (row[0], row[1], row[2]) if row else None

    def set_state(self, status_id: int, state: str) -> None:
        self.conn.execute(update(quotes).where(quotes.c.status_id == status_id).values(state=state))

    def quoting_ids(
        self,
        quoted_status_id: int,
        *,
        max_id: int | None,
        since_id: int | None,
        min_id: int | None,
        limit: int,
    ) -> list[int]:
        """Ids of the statuses quoting this one (accepted quotes), newest first."""
        stmt = select(quotes.c.status_id).where(
            quotes.c.quoted_status_id == quoted_status_id, quotes.c.state == "accepted"
        )
        col = quotes.c.status_id
        if max_id is not None:
            stmt = stmt.where(col < max_id)
        if since_id is not None:
            stmt = stmt.where(col > since_id)
        if min_id is not None:
            stmt = stmt.where(col > min_id).order_by(col.asc())
        else:
            stmt = stmt.order_by(col.desc())
        stmt = stmt.limit(limit)
        return [r[0] for r in self.conn.execute(stmt)]

    def quoting_accounts(self, quoted_status_id: int) -> list[tuple[int, int]]:
        """(quoting status id, its author id) for every accepted quote of a status."""
        rows = self.conn.execute(
            select(quotes.c.status_id, statuses.c.account_id)
            .join(statuses, statuses.c.id == quotes.c.status_id)
            .where(quotes.c.quoted_status_id == quoted_status_id, quotes.c.state == "accepted")
        )
        return [(r[0], r[1]) for r in rows]
