"""Lookups the streaming routes need in one query each (see services/streaming.py)."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.engine import Connection

from parvis.storage.tables import follows, list_accounts, lists


class StreamRoutes:
    def __init__(self, conn: Connection) -> None:
        self.conn = conn

    def lists_holding(self, account_id: int) -> list[tuple[int, int, str]]:
        """(list id, owner id, replies policy) of the lists that hold `account_id` and whose
        owner follows it (an unfollowed member stops feeding the list, as its timeline does)."""
        stmt = (
            select(lists.c.id, lists.c.account_id, lists.c.replies_policy)
            .join(list_accounts, list_accounts.c.list_id == lists.c.id)
            .join(
                follows,
                (follows.c.account_id == lists.c.account_id)
                & (follows.c.target_account_id == list_accounts.c.account_id),
            )
            .where(list_accounts.c.account_id == account_id)
            .order_by(lists.c.id)
        )
        return [(r[0], r[1], r[2]) for r in self.conn.execute(stmt)]
