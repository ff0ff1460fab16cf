"""Precomputed home feeds (fan-out on write), capped per account.

Two implementations behind one interface: a table in the application database (the default,
SQLite or PostgreSQL) and Redis sorted sets (when REDIS_URL is set). Entries are
(status id, author id); a feed is read newest first and trimmed to `cap` entries.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from functools import lru_cache
from typing import Any, Protocol

from sqlalchemy import Select, bindparam, delete, func, select
from sqlalchemy.engine import Connection

from parvis.storage.sql import insert_ignoring_duplicates
from parvis.storage.tables import home_feed


class FeedStore(Protocol):
    def push(self, status_id: int, author_id: int, recipients: Iterable[int]) -> int: ...
    def holders(self, status_ids: Sequence[int], recipients: Iterable[int]) -> set[int]:
        """Which of `recipients` already have one of `status_ids` in their feed."""
        ...

    def page(
        self,
        account_id: int,
        *,
        max_id: int | None,
        since_id: int | None,
        min_id: int | None,
        limit: int,
    ) -> list[int]: ...
    def remove_status(self, status_id: int, recipients: Iterable[int] | None = None) -> None: ...
    def remove_author(self, account_id: int, author_id: int) -> None: ...
    def add_author(self, account_id: int, author_id: int, status_ids: Sequence[int]) -> None: ...
    def trim(self, cap: int) -> int: ...


@lru_cache(maxsize=8)
def _feed_page(has_max: bool, has_since: bool, has_min: bool) -> Select[Any]:
    """The feed-page statement for one combination of cursors, built once."""
    col = home_feed.c.status_id
    stmt = select(col).where(home_feed.c.account_id == bindparam("account"))
    if has_max:
        stmt = stmt.where(col < bindparam("max_id"))
    if has_since:
        stmt = stmt.where(col > bindparam("since_id"))
    if has_min:
        stmt = stmt.where(col > bindparam("min_id")).order_by(col.asc())
    else:
        stmt = stmt.order_by(col.desc())
    return stmt.limit(bindparam("limit"))


class SqlFeedStore:
    BATCH = 2000

    def __init__(self, conn: Connection) -> None:
        self.conn = conn

    def push(self, status_id: int, author_id: int, recipients: Iterable[int]) -> int:
        rows = [
            {"account_id": r, "status_id": status_id, "author_id": author_id} for r in recipients
        ]
        for start in range(0, len(rows), self.BATCH):
            insert_ignoring_duplicates(self.conn, home_feed, rows[start : start + self.BATCH])
        return len(rows)

    def holders(self, status_ids: Sequence[int], recipients: Iterable[int]) -> set[int]:
        wanted = list(recipients)
        found: set[int] = set()
        for start in range(0, len(wanted), self.BATCH):
            rows = self.conn.execute(
                select(home_feed.c.account_id).where(
                    home_feed.c.status_id.in_(list(status_ids)),
                    home_feed.c.account_id.in_(wanted[start : start + self.BATCH]),
                )
            )
            found.update(r[0] for r in rows)
        return found

    def page(
        self,
        account_id: int,
        *,
        max_id: int | None,
        since_id: int | None,
        min_id: int | None,
        limit: int,
    ) -> list[int]:
        stmt = _feed_page(max_id is not None, since_id is not None, min_id is not None)
        params = {
            "account": account_id,
            "max_id": max_id,
            "since_id": since_id,
            "min_id": min_id,
            "limit": limit,
        }
        return [r[0] for r in self.conn.execute(stmt, params)]

    def remove_status(self, status_id: int, recipients: Iterable[int] | None = None) -> None:
        self.conn.execute(delete(home_feed).where(home_feed.c.status_id == status_id))

    def remove_author(self, account_id: int, author_id: int) -> None:
        self.conn.execute(
            delete(home_feed).where(
                home_feed.c.account_id == account_id, home_feed.c.author_id == author_id
            )
        )

    def add_author(self, account_id: int, author_id: int, status_ids: Sequence[int]) -> None:
        if not status_ids:
            return
        have = {
            r[0]
            for r in self.conn.execute(
                select(home_feed.c.status_id).where(
                    home_feed.c.account_id == account_id,
                    home_feed.c.status_id.in_(list(status_ids)),
                )
            )
        }
        self.push_many(account_id, author_id, [s for s in status_ids if s not in have])

    def push_many(self, account_id: int, author_id: int, status_ids: Sequence[int]) -> None:
        rows = [
            {"account_id": account_id, "status_id": s, "author_id": author_id} for s in status_ids
        ]
        insert_ignoring_duplicates(self.conn, home_feed, rows)

    def trim(self, cap: int) -> int:
        """Drop entries beyond the newest `cap` of every over-full feed; returns rows removed."""
        over = self.conn.execute(
            select(home_feed.c.account_id)
            .group_by(home_feed.c.account_id)
            .having(func.count() > cap)
        ).all()
        removed = 0
        for (account_id,) in over:
            cutoff = self.conn.execute(
                select(home_feed.c.status_id)
                .where(home_feed.c.account_id == account_id)
                .order_by(home_feed.c.status_id.desc())
                .offset(cap - 1)
                .limit(1)
            ).scalar()
            if cutoff is not None:
                result = self.conn.execute(
                    delete(home_feed).where(
                        home_feed.c.account_id == account_id, home_feed.c.status_id < cutoff
                    )
                )
                removed += result.rowcount or 0
        return removed


class RedisFeedStore:
    """Home feeds as Redis sorted sets `parvis:feed:<account>`.

    Members are "<status id, 20 digits>:<author id>", all with score 0, so the set is ordered
    lexicographically = by id, exactly (64-bit ids do not fit a double score without loss).
    """

    WIDTH = 20

    def __init__(self, client: Any, cap: int, prefix: str = "parvis:feed:") -> None:
        self.redis = client
        self.cap = cap
        self.prefix = prefix

    def _key(self, account_id: int) -> str:
        return f"{self.prefix}{account_id}"

    def _member(self, status_id: int, author_id: int) -> str:
        return f"{status_id:0{self.WIDTH}d}:{author_id}"

    def _prefix(self, status_id: int) -> tuple[str, str]:
        """The lexical range holding every member of one status."""
        head = f"{status_id:0{self.WIDTH}d}:"
        return f"[{head}", f"[{head}\xff"

    def push(self, status_id: int, author_id: int, recipients: Iterable[int]) -> int:
        member = self._member(status_id, author_id)
        count = 0
        pipe = self.redis.pipeline(transaction=False)
        for r in recipients:
            key = self._key(r)
            pipe.zadd(key, {member: 0})
            pipe.zremrangebyrank(key, 0, -self.cap - 1)
            count += 1
            if count % 1000 == 0:
                pipe.execute()
        pipe.execute()
        return count

    def holders(self, status_ids: Sequence[int], recipients: Iterable[int]) -> set[int]:
        wanted = list(recipients)
        pipe = self.redis.pipeline(transaction=False)
        for r in wanted:
            for s in status_ids:
                pipe.zlexcount(self._key(r), *self._prefix(s))
        counts = pipe.execute()
        per = len(status_ids)
        return {r for i, r in enumerate(wanted) if any(counts[i * per : (i + 1) * per])}

    def page(
        self,
        account_id: int,
        *,
        max_id: int | None,
        since_id: int | None,
        min_id: int | None,
        limit: int,
    ) -> list[int]:
        key = self._key(account_id)
        hi = "+" if max_id is None else f"({max_id:0{self.WIDTH}d}:"
        bounds = [b for b in (min_id, since_id) if b is not None]
        lower = max(bounds) if bounds else None
        lo = "-" if lower is None else f"[{lower:0{self.WIDTH}d}:\xff"
        if min_id is not None:
            raw = self.redis.zrangebylex(key, lo, hi, start=0, num=limit)
        else:
            raw = self.redis.zrevrangebylex(key, hi, lo, start=0, num=limit)
        return [int(m.split(b":", 1)[0]) for m in raw]

    def remove_status(self, status_id: int, recipients: Iterable[int] | None = None) -> None:
        if recipients is None:
            return  # entries of deleted statuses are skipped at read time and fall off the cap
        pipe = self.redis.pipeline(transaction=False)
        for r in recipients:
            pipe.zremrangebylex(self._key(r), *self._prefix(status_id))
        pipe.execute()

    def remove_author(self, account_id: int, author_id: int) -> None:
        key = self._key(account_id)
        suffix = f":{author_id}".encode()
        doomed = [m for m in self.redis.zrange(key, 0, -1) if m.endswith(suffix)]
        if doomed:
            self.redis.zrem(key, *doomed)

    def add_author(self, account_id: int, author_id: int, status_ids: Sequence[int]) -> None:
        if status_ids:
            key = self._key(account_id)
            self.redis.zadd(key, {self._member(s, author_id): 0 for s in status_ids})
            self.redis.zremrangebyrank(key, 0, -self.cap - 1)

    def trim(self, cap: int) -> int:
        return 0  # trimmed on every push
