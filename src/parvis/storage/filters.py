"""Filters v2: filter groups with their keywords and statuses."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import delete, func, insert, select, update
from sqlalchemy.engine import Connection, RowMapping

from parvis.domain.filters import Filter, FilterKeyword, FilterStatus
from parvis.domain.ids import new_id
from parvis.storage.tables import custom_filters, filter_keywords, filter_statuses


class FilterStore:
    def __init__(self, conn: Connection) -> None:
        self.conn = conn

    # -- filters ---------------------------------------------------------------------------

    def create(
        self,
        account_id: int,
        *,
        title: str,
        context: Sequence[str],
        action: str,
        expires_at: datetime | None,
        now: datetime,
    ) -> int:
        filter_id = new_id()
        self.conn.execute(
            insert(custom_filters).values(
                id=filter_id,
                account_id=account_id,
                title=title,
                context=",".join(context),
                action=action,
                expires_at=expires_at,
                created_at=now,
            )
        )
        return filter_id

    def update(self, filter_id: int, **values: Any) -> None:
        if "context" in values:
            values["context"] = ",".join(values["context"])
        if values:
            self.conn.execute(
                update(custom_filters).where(custom_filters.c.id == filter_id).values(**values)
            )

    def delete(self, filter_id: int) -> None:
        self.conn.execute(delete(filter_keywords).where(filter_keywords.c.filter_id == filter_id))
        self.conn.execute(delete(filter_statuses).where(filter_statuses.c.filter_id == filter_id))
        self.conn.execute(delete(custom_filters).where(custom_filters.c.id == filter_id))

    def owner_of(self, filter_id: int) -> int | None:
        return self.conn.execute(
            select(custom_filters.c.account_id).where(custom_filters.c.id == filter_id)
        ).scalar()

    def count(self, account_id: int) -> int:
        stmt = (
            select(func.count())
            .select_from(custom_filters)
            .where(custom_filters.c.account_id == account_id)
        )
        return int(self.conn.execute(stmt).scalar_one())

    def of_account(self, account_id: int, filter_id: int | None = None) -> list[Filter]:
        """The account's filters (or one of them), with keywords and statuses, oldest first."""
        stmt = select(custom_filters).where(custom_filters.c.account_id == account_id)
        if filter_id is not None:
            stmt = stmt.where(custom_filters.c.id == filter_id)
        rows = list(self.conn.execute(stmt.order_by(custom_filters.c.id)).mappings())
        if not rows:
            return []
        ids = [r["id"] for r in rows]
        keywords: dict[int, list[FilterKeyword]] = defaultdict(list)
        for k in self.conn.execute(
            select(filter_keywords)
            .where(filter_keywords.c.filter_id.in_(ids))
            .order_by(filter_keywords.c.id)
        ).mappings():
            keywords[k["filter_id"]].append(_keyword(k))
        marks: dict[int, list[FilterStatus]] = defaultdict(list)
        for s in self.conn.execute(
            select(filter_statuses)
            .where(filter_statuses.c.filter_id.in_(ids))
            .order_by(filter_statuses.c.id)
        ).mappings():
            marks[s["filter_id"]].append(FilterStatus(s["id"], s["status_id"]))
        return [
            Filter(
                id=r["id"],
                title=r["title"],
                context=tuple(c for c in r["context"].split(",") if c),
                action=r["action"],
                expires_at=r["expires_at"],
                keywords=tuple(keywords[r["id"]]),
                statuses=tuple(marks[r["id"]]),
            )
            for r in rows
        ]

    # -- keywords --------------------------------------------------------------------------

    def add_keyword(self, filter_id: int, keyword: str, whole_word: bool, now: datetime) -> int:
        keyword_id = new_id()
        self.conn.execute(
            insert(filter_keywords).values(
                id=keyword_id,
                filter_id=filter_id,
                keyword=keyword,
                whole_word=whole_word,
                created_at=now,
            )
        )
        return keyword_id

    def keyword(self, keyword_id: int) -> tuple[int, FilterKeyword] | None:
        """(filter id, keyword)."""
        row = (
            self.conn.execute(select(filter_keywords).where(filter_keywords.c.id == keyword_id))
            .mappings()
            .first()
        )
        return (row["filter_id"], _keyword(row)) if row else None

    def update_keyword(self, keyword_id: int, **values: Any) -> None:
        if values:
            self.conn.execute(
                update(filter_keywords).where(filter_keywords.c.id == keyword_id).values(**values)
            )

    def delete_keyword(self, keyword_id: int) -> None:
        self.conn.execute(delete(filter_keywords).where(filter_keywords.c.id == keyword_id))

    # -- statuses --------------------------------------------------------------------------

    def add_status(self, filter_id: int, status_id: int, now: datetime) -> int:
        found = self.conn.execute(
            select(filter_statuses.c.id).where(
                filter_statuses.c.filter_id == filter_id, filter_statuses.c.status_id == status_id
            )
        ).scalar()
        if found is not None:
            return int(found)
        mark_id = new_id()
        self.conn.execute(
            insert(filter_statuses).values(
                id=mark_id, filter_id=filter_id, status_id=status_id, created_at=now
            )
        )
        return mark_id

    def status_mark(self, mark_id: int) -> tuple[int, FilterStatus] | None:
        """(filter id, filtered status)."""
        row = (
            self.conn.execute(select(filter_statuses).where(filter_statuses.c.id == mark_id))
            .mappings()
            .first()
        )
        return (row["filter_id"], FilterStatus(row["id"], row["status_id"])) if row else None

    def delete_status(self, mark_id: int) -> None:
        self.conn.execute(delete(filter_statuses).where(filter_statuses.c.id == mark_id))


def _keyword(r: RowMapping) -> FilterKeyword:
    return FilterKeyword(r["id"], r["keyword"], r["whole_word"])
