"""Lists: an account's named sets of followed accounts, read as timelines at request time."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import delete, func, insert, or_, select, update
from sqlalchemy.engine import Connection, RowMapping

from parvis.domain.ids import new_id
from parvis.domain.lists import UserList
from parvis.storage.statuses import page
from parvis.storage.tables import follows, list_accounts, lists, statuses


def _list(r: RowMapping) -> UserList:
    return UserList(r["id"], r["account_id"], r["title"], r["replies_policy"], r["exclusive"])


class ListStore:
    def __init__(self, conn: Connection) -> None:
        self.conn = conn

    def create(
        self, account_id: int, title: str, replies_policy: str, exclusive: bool, now: datetime
    ) -> UserList:
        list_id = new_id()
        self.conn.execute(
            insert(lists).values(
                id=list_id,
                account_id=account_id,
                title=title,
                replies_policy=replies_policy,
                exclusive=exclusive,
                created_at=now,
            )
        )
        return UserList(list_id, account_id, title, replies_policy, exclusive)

    def get(self, list_id: int) -> UserList | None:
        row = self.conn.execute(select(lists).where(lists.c.id == list_id)).mappings().first()
        return _list(row) if row else None

    def of_account(self, account_id: int) -> list[UserList]:
        rows = self.conn.execute(
            select(lists).where(lists.c.account_id == account_id).order_by(lists.c.id)
        ).mappings()
        return [_list(r) for r in rows]

    def count(self, account_id: int) -> int:
        stmt = select(func.count()).select_from(lists).where(lists.c.account_id == account_id)
        return int(self.conn.execute(stmt).scalar_one())

    def update(self, list_id: int, **values: Any) -> None:
        if values:
            self.conn.execute(update(lists).where(lists.c.id == list_id).values(**values))

    def delete(self, list_id: int) -> None:
        self.conn.execute(delete(list_accounts).where(list_accounts.c.list_id == list_id))
        self.conn.execute(delete(lists).where(lists.c.id == list_id))

    def add_members(self, list_id: int, account_ids: Sequence[int], now: datetime) -> None:
        present = set(self.member_ids(list_id))
        rows = [
            {"id": new_id(), "list_id": list_id, "account_id": a, "created_at": now}
            for a in dict.fromkeys(account_ids)
            if a not in present
        ]
        if rows:
            self.conn.execute(insert(list_accounts), rows)

    def remove_members(self, list_id: int, account_ids: Sequence[int]) -> None:
        if account_ids:
            self.conn.execute(
                delete(list_accounts).where(
                    list_accounts.c.list_id == list_id,
                    list_accounts.c.account_id.in_(list(account_ids)),
                )
            )

    def member_ids(self, list_id: int) -> list[int]:
        rows = self.conn.execute(
            select(list_accounts.c.account_id).where(list_accounts.c.list_id == list_id)
        )
        return [r[0] for r in rows]

    def followed_member_ids(self, list_id: int, owner_id: int) -> list[int]:
        """Members the owner still follows (an unfollowed account stops feeding the list)."""
        rows = self.conn.execute(
            select(list_accounts.c.account_id)
            .join(
                follows,
                (follows.c.target_account_id == list_accounts.c.account_id)
                & (follows.c.account_id == owner_id),
            )
            .where(list_accounts.c.list_id == list_id)
        )
        return [r[0] for r in rows]

    def member_page(
        self,
        list_id: int,
        owner_id: int,
        *,
        max_id: int | None,
        since_id: int | None,
        min_id: int | None,
        limit: int | None,
    ) -> list[tuple[int, int]]:
        """(membership id, account id) pairs of members still followed; limit None: all."""
        stmt = (
            select(list_accounts.c.id, list_accounts.c.account_id)
            .join(
                follows,
                (follows.c.target_account_id == list_accounts.c.account_id)
                & (follows.c.account_id == owner_id),
            )
            .where(list_accounts.c.list_id == list_id)
        )
        if limit is None:
            stmt = stmt.order_by(list_accounts.c.id.desc())
        else:
            stmt = page(
                stmt,
                list_accounts.c.id,
                max_id=max_id,
                since_id=since_id,
                min_id=min_id,
                limit=limit,
            )
        return [(r[0], r[1]) for r in self.conn.execute(stmt)]

    def lists_with_member(self, owner_id: int, account_id: int) -> list[UserList]:
        rows = self.conn.execute(
            select(lists)
            .join(list_accounts, list_accounts.c.list_id == lists.c.id)
            .join(
                follows,
                (follows.c.target_account_id == account_id) & (follows.c.account_id == owner_id),
            )
            .where(lists.c.account_id == owner_id, list_accounts.c.account_id == account_id)
            .order_by(lists.c.id)
        ).mappings()
        return [_list(r) for r in rows]

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

    def exclusive_member_ids(self, owner_id: int) -> set[int]:
        """Accounts in the owner's exclusive lists: their posts stay out of the home feed."""
        rows = self.conn.execute(
            select(list_accounts.c.account_id)
            .join(lists, lists.c.id == list_accounts.c.list_id)
            .where(lists.c.account_id == owner_id, lists.c.exclusive.is_(True))
        )
        return {r[0] for r in rows}

    def timeline_ids(
        self,
        owner_id: int,
        member_ids: Sequence[int],
        replies_policy: str,
        visibilities: Sequence[str],
        *,
        max_id: int | None,
        since_id: int | None,
        min_id: int | None,
        limit: int,
    ) -> list[int]:
        """Candidate ids: statuses (and boosts) by the members, with the list's replies policy:
        replies to oneself and to the list owner always; to others per policy."""
        if not member_ids:
            return []
        members = list(member_ids)
        replies_ok = [
            statuses.c.in_reply_to_id.is_(None),
            statuses.c.in_reply_to_account_id == statuses.c.account_id,
            statuses.c.in_reply_to_account_id == owner_id,
        ]
        if replies_policy == "list":
            replies_ok.append(statuses.c.in_reply_to_account_id.in_(members))
        elif replies_policy == "followed":
            replies_ok.append(
                statuses.c.in_reply_to_account_id.in_(
                    select(follows.c.target_account_id).where(follows.c.account_id == owner_id)
                )
            )
        stmt = select(statuses.c.id).where(
            statuses.c.account_id.in_(members),
            statuses.c.visibility.in_(list(visibilities)),
            or_(*replies_ok),
        )
        stmt = page(
            stmt, statuses.c.id, max_id=max_id, since_id=since_id, min_id=min_id, limit=limit
        )
        return [r[0] for r in self.conn.execute(stmt)]
