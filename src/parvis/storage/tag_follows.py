"""Followed hashtags: posts carrying them reach the follower's home feed."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from sqlalchemy import delete, insert, select
from sqlalchemy.engine import Connection

from parvis.domain.ids import new_id
from parvis.storage.statuses import page
from parvis.storage.tables import accounts, status_tags, tag_follows, tags


class TagFollowStore:
    def __init__(self, conn: Connection) -> None:
        self.conn = conn

    def follow(self, account_id: int, tag_id: int, now: datetime) -> None:
        if not self.following(account_id, [tag_id]):
            self.conn.execute(
                insert(tag_follows).values(
                    id=new_id(), account_id=account_id, tag_id=tag_id, created_at=now
                )
            )

    def unfollow(self, account_id: int, tag_id: int) -> None:
        self.conn.execute(
            delete(tag_follows).where(
                tag_follows.c.account_id == account_id, tag_follows.c.tag_id == tag_id
            )
        )

    def following(self, account_id: int, tag_ids: Iterable[int]) -> set[int]:
        """Which of these tags the account follows."""
        ids = list(tag_ids)
        if not ids:
            return set()
        rows = self.conn.execute(
            select(tag_follows.c.tag_id).where(
                tag_follows.c.account_id == account_id, tag_follows.c.tag_id.in_(ids)
            )
        )
        return {r[0] for r in rows}

    def page(
        self,
        account_id: int,
        *,
        max_id: int | None,
        since_id: int | None,
        min_id: int | None,
        limit: int,
    ) -> list[tuple[int, int, str, str]]:
        """(follow id, tag id, name, display name), paged by follow id."""
        stmt = (
            select(tag_follows.c.id, tags.c.id, tags.c.name, tags.c.display_name)
            .join(tags, tags.c.id == tag_follows.c.tag_id)
            .where(tag_follows.c.account_id == account_id)
        )
        stmt = page(
            stmt, tag_follows.c.id, max_id=max_id, since_id=since_id, min_id=min_id, limit=limit
        )
        return [(r[0], r[1], r[2], r[3]) for r in self.conn.execute(stmt)]

    def local_followers_of_status_tags(self, status_id: int) -> set[int]:
        """Local accounts following any tag of this status."""
        rows = self.conn.execute(
            select(tag_follows.c.account_id)
            .join(status_tags, status_tags.c.tag_id == tag_follows.c.tag_id)
            .join(accounts, accounts.c.id == tag_follows.c.account_id)
            .where(status_tags.c.status_id == status_id, accounts.c.domain.is_(None))
            .distinct()
        )
        return {r[0] for r in rows}
