"""Small portable SQL helpers shared by the stores."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import Table, case
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Connection
from sqlalchemy.sql.elements import ColumnElement


def insert_ignoring_duplicates(
    conn: Connection, table: Table, rows: Sequence[dict[str, Any]]
) -> None:
    """INSERT rows, silently skipping those that collide with a unique key."""
    if not rows:
        return
    dialect = postgresql if conn.dialect.name == "postgresql" else sqlite
    conn.execute(dialect.insert(table).on_conflict_do_nothing(), list(rows))


def clamped_add(column: Any, delta: int) -> ColumnElement[Any]:
    """`column + delta`, never below zero (counters)."""
    return case((column + delta < 0, 0), else_=column + delta)
