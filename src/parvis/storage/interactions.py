"""Favourites, bookmarks and pins: marks an account puts on a status; muted threads."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import (
    Select,
    Table,
    and_,
    bindparam,
    delete,
    func,
    insert,
    literal,
    or_,
    select,
    union_all,
)
from sqlalchemy.engine import Connection

from parvis.domain.ids import new_id
from parvis.domain.models import ViewerFlags
from parvis.storage.statuses import page
from parvis.storage.tables import (
    bookmarks,
    favourites,
    status_mentions,
    status_pins,
    statuses,
    thread_mutes,
)

MARKS: dict[str, Table] = {"favourites": favourites, "bookmarks": bookmarks, "pins": status_pins}


def _marked(kind: str, t: Table) -> Select[Any]:
    return select(literal(kind), t.c.status_id).where(
        t.c.account_id == bindparam("viewer"), t.c.status_id.in_(bindparam("ids", expanding=True))
    )


# What the viewer did to a page of statuses, in one round trip.
_FLAGS = union_all(
    _marked("f", favourites),
    _marked("b", bookmarks),
    _marked("p", status_pins),
    select(literal("r"), statuses.c.reblog_of_id).where(
        statuses.c.account_id == bindparam("viewer"),
        statuses.c.reblog_of_id.in_(bindparam("ids", expanding=True)),
    ),
    select(literal("m"), statuses.c.id)
    .join(
        thread_mutes,
        and_(
            thread_mutes.c.account_id == bindparam("viewer"),
            thread_mutes.c.thread_root_id
            == func.coalesce(statuses.c.thread_root_id, statuses.c.id),
        ),
    )
    .where(statuses.c.id.in_(bindparam("ids", expanding=True))),
)


def _in_thread(root_id: int) -> Any:
    return or_(statuses.c.thread_root_id == root_id, statuses.c.id == root_id)


class InteractionStore:
    def __init__(self, conn: Connection) -> None:
        self.conn = conn

    def add(self, kind: str, account_id: int, status_id: int, now: datetime) -> bool:
        t = MARKS[kind]
        exists = self.conn.execute(
            select(t.c.id).where(t.c.account_id == account_id, t.c.status_id == status_id)
        ).first()
        if exists:
            return False
        self.conn.execute(
            insert(t).values(
                id=new_id(), account_id=account_id, status_id=status_id, created_at=now
            )
        )
        return True

    def remove(self, kind: str, account_id: int, status_id: int) -> bool:
        t = MARKS[kind]
        result = self.conn.execute(
            delete(t).where(t.c.account_id == account_id, t.c.status_id == status_id)
        )
        return bool(result.rowcount)

    def count(self, kind: str, account_id: int) -> int:
        t = MARKS[kind]
        return int(
            self.conn.execute(
                select(func.count()).select_from(t).where(t.c.account_id == account_id)
            ).scalar_one()
        )

    def accounts_who(
        self,
        kind: str,
        status_id: int,
        *,
        max_id: int | None,
        since_id: int | None,
        min_id: int | None,
        limit: int,
    ) -> list[tuple[int, int]]:
        t = MARKS[kind]
        stmt = select(t.c.id, t.c.account_id).where(t.c.status_id == status_id)
        stmt = page(stmt, t.c.id, max_id=max_id, since_id=since_id, min_id=min_id, limit=limit)
        return [(r[0], r[1]) for r in self.conn.execute(stmt)]

    def status_page(
        self,
        kind: str,
        account_id: int,
        *,
        max_id: int | None,
        since_id: int | None,
        min_id: int | None,
        limit: int,
    ) -> list[tuple[int, int]]:
        """(mark id, status id) pairs, newest mark first."""
        t = MARKS[kind]
        stmt = select(t.c.id, t.c.status_id).where(t.c.account_id == account_id)
        stmt = page(stmt, t.c.id, max_id=max_id, since_id=since_id, min_id=min_id, limit=limit)
        return [(r[0], r[1]) for r in self.conn.execute(stmt)]

    def flags(self, viewer_id: int | None, status_ids: Sequence[int]) -> ViewerFlags:
        if viewer_id is None or not status_ids:
            return ViewerFlags()
        marks: dict[str, set[int]] = {k: set() for k in "fbprm"}
        params = {"viewer": viewer_id, "ids": list(set(status_ids))}
        for kind, status_id in self.conn.execute(_FLAGS, params):
            marks[kind].add(status_id)
        return ViewerFlags(
            favourited=frozenset(marks["f"]),
            reblogged=frozenset(marks["r"]),
            bookmarked=frozenset(marks["b"]),
            pinned=frozenset(marks["p"]),
            muted_threads=frozenset(marks["m"]),
        )

    def pinned_ids(self, account_id: int) -> list[int]:
        rows = self.conn.execute(
            select(status_pins.c.status_id)
            .where(status_pins.c.account_id == account_id)
            .order_by(status_pins.c.id.desc())
        )
        return [r[0] for r in rows]

    # -- muted threads (by root status id) -------------------------------------------------

    def mute_thread(self, account_id: int, root_id: int, now: datetime) -> None:
        exists = self.conn.execute(
            select(thread_mutes.c.account_id).where(
                thread_mutes.c.account_id == account_id, thread_mutes.c.thread_root_id == root_id
            )
        ).first()
        if not exists:
            self.conn.execute(
                insert(thread_mutes).values(
                    account_id=account_id, thread_root_id=root_id, created_at=now
                )
            )

    def unmute_thread(self, account_id: int, root_id: int) -> None:
        self.conn.execute(
            delete(thread_mutes).where(
                thread_mutes.c.account_id == account_id, thread_mutes.c.thread_root_id == root_id
            )
        )

    def thread_muted(self, account_id: int, status_id: int) -> bool:
        """Whether the account muted the thread this status belongs to."""
        row = self.conn.execute(
            select(thread_mutes.c.account_id)
            .join(
                statuses,
                thread_mutes.c.thread_root_id
                == func.coalesce(statuses.c.thread_root_id, statuses.c.id),
            )
            .where(statuses.c.id == status_id, thread_mutes.c.account_id == account_id)
        ).first()
        return row is not None

    def takes_part(self, account_id: int, root_id: int) -> bool:
        """Whether the account wrote a status of the thread or is mentioned in one."""
        wrote = self.conn.execute(
            select(statuses.c.id)
            .where(_in_thread(root_id), statuses.c.account_id == account_id)
            .limit(1)
        ).first()
        if wrote is not None:
            return True
        mentioned = self.conn.execute(
            select(status_mentions.c.status_id)
            .join(statuses, statuses.c.id == status_mentions.c.status_id)
            .where(_in_thread(root_id), status_mentions.c.account_id == account_id)
            .limit(1)
        ).first()
        return mentioned is not None
