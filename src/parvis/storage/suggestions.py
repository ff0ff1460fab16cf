"""Who to follow: friends of friends, most followed accounts, and dismissed suggestions."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from sqlalchemy import func, insert, select
from sqlalchemy.engine import Connection

from parvis.domain.ids import new_id
from parvis.storage.tables import accounts, follow_requests, follows, suggestion_dismissals


class SuggestionStore:
    def __init__(self, conn: Connection) -> None:
        self.conn = conn

    def dismiss(self, account_id: int, target_id: int, now: datetime) -> None:
        if target_id in self.dismissed(account_id):
            return
        self.conn.execute(
            insert(suggestion_dismissals).values(
                id=new_id(), account_id=account_id, target_account_id=target_id, created_at=now
            )
        )

    def dismissed(self, account_id: int) -> set[int]:
        rows = self.conn.execute(
            select(suggestion_dismissals.c.target_account_id).where(
                suggestion_dismissals.c.account_id == account_id
            )
        )
        return {int(r[0]) for r in rows}

    def following(self, account_id: int) -> set[int]:
        rows = self.conn.execute(
            select(follows.c.target_account_id).where(follows.c.account_id == account_id)
        )
        return {int(r[0]) for r in rows}

    def requested(self, account_id: int) -> set[int]:
        rows = self.conn.execute(
            select(follow_requests.c.target_account_id).where(
                follow_requests.c.account_id == account_id
            )
        )
        return {int(r[0]) for r in rows}

    def friends_of_friends(
        self, account_id: int, exclude: Iterable[int], limit: int
    ) -> list[tuple[int, int]]:
        """(account id, how many of the people `account_id` follows follow it), most first,
        among discoverable, unsuspended accounts not in `exclude`."""
        mine = select(follows.c.target_account_id).where(follows.c.account_id == account_id)
        followers = func.count(follows.c.account_id)
        stmt = (
            select(follows.c.target_account_id, followers)
            .join(accounts, accounts.c.id == follows.c.target_account_id)
            .where(
                follows.c.account_id.in_(mine),
                follows.c.target_account_id.not_in(list(exclude)),
                accounts.c.discoverable.is_(True),
                accounts.c.suspended_at.is_(None),
                accounts.c.moved_to_account_id.is_(None),
            )
            .group_by(follows.c.target_account_id)
            .order_by(followers.desc(), follows.c.target_account_id.desc())
            .limit(limit)
        )
        return [(int(r[0]), int(r[1])) for r in self.conn.execute(stmt)]

    def followed_by_among(self, account_id: int, target_id: int, limit: int = 3) -> list[int]:
        """Up to `limit` of the people `account_id` follows who follow `target_id`."""
        mine = select(follows.c.target_account_id).where(follows.c.account_id == account_id)
        rows = self.conn.execute(
            select(follows.c.account_id)
            .where(follows.c.target_account_id == target_id, follows.c.account_id.in_(mine))
            .order_by(follows.c.id.desc())
            .limit(limit)
        )
        return [int(r[0]) for r in rows]

    def most_followed_local(self, exclude: Iterable[int], limit: int) -> list[int]:
        """Local discoverable accounts with the most followers (at least one)."""
        rows = self.conn.execute(
            select(accounts.c.id)
            .where(
                accounts.c.domain.is_(None),
                accounts.c.discoverable.is_(True),
                accounts.c.suspended_at.is_(None),
                accounts.c.moved_to_account_id.is_(None),
                accounts.c.followers_count > 0,
                accounts.c.id.not_in(list(exclude)),
            )
            .order_by(accounts.c.followers_count.desc(), accounts.c.id.desc())
            .limit(limit)
        )
        return [int(r[0]) for r in rows]
