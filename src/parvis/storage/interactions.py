"""Favourites, bookmarks and pins: marks an account puts on a status."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Select, Table, bindparam, delete, func, insert, literal, select, union_all
from sqlalchemy.engine import Connection

from parvis.domain.ids import new_id
from parvis.domain.models import ViewerFlags
from parvis.storage.statuses import page
from parvis.storage.tables import bookmarks, favourites, status_pins, statuses

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
)


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
        marks: dict[str, set[int]] = {"f": set(), "b": set(), "p": set(), "r": set()}
        params = {"viewer": viewer_id, "ids": list(set(status_ids))}
        for kind, status_id in self.conn.execute(_FLAGS, params):
            marks[kind].add(status_id)
        return ViewerFlags(
            favourited=frozenset(marks["f"]),
            reblogged=frozenset(marks["r"]),
            bookmarked=frozenset(marks["b"]),
            pinned=frozenset(marks["p"]),
        )

    def pinned_ids(self, account_id: int) -> list[int]:
        rows = self.conn.execute(
            select(status_pins.c.status_id)
            .where(status_pins.c.account_id == account_id)
            .order_by(status_pins.c.id.desc())
        )
        return [r[0] for r in rows]
