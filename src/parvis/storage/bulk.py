"""Many rows at once, straight to the driver: seeding benchmark datasets and writing the
community notes scorer's output (tens of thousands of rows per run), where SQLAlchemy's
per-row parameter processing would cost more than the statements themselves."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC
from typing import Any

from sqlalchemy import Table, bindparam, insert, update
from sqlalchemy.engine import Connection

from parvis.storage.tables import UTCDateTime


def insert_rows(
    conn: Connection, table: Table, names: list[str], rows: list[tuple[Any, ...]]
) -> None:
    """Straight to the driver: PostgreSQL's COPY, SQLite's executemany (SQLAlchemy's per-row
    parameter processing would cost more than the inserts themselves at this volume)."""
    if not rows:
        return
    all_names, tail = _complete(table, names)
    if conn.dialect.name == "postgresql":
        raw = conn.connection.driver_connection
        assert raw is not None
        columns = ", ".join(all_names)
        with raw.cursor() as cur, cur.copy(f"COPY {table.name} ({columns}) FROM STDIN") as copy:
            for r in rows:
                copy.write_row(r + tail if tail else r)
    elif conn.dialect.name == "sqlite":
        # Timestamps as SQLAlchemy stores them on SQLite (UTCDateTime): naive UTC text.
        stamps = [i for i, n in enumerate(names) if isinstance(table.c[n].type, UTCDateTime)]
        if stamps:
            rows = [_sqlite_row(r, stamps) for r in rows]
        marks = ", ".join("?" for _ in all_names)
        sql = f"INSERT INTO {table.name} ({', '.join(all_names)}) VALUES ({marks})"
        conn.exec_driver_sql(sql, [r + tail for r in rows] if tail else rows)
    else:
        conn.execute(insert(table), [dict(zip(names, r, strict=True)) for r in rows])


def _sqlite_row(row: tuple[Any, ...], stamps: list[int]) -> tuple[Any, ...]:
    values = list(row)
    for i in stamps:
        moment = values[i]
        if moment is not None:
            values[i] = moment.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S.%f")
    return tuple(values)


def _complete(table: Table, names: list[str]) -> tuple[list[str], tuple[Any, ...]]:
    """The columns to insert and the values to append for those left out: their scalar
    defaults (what SQLAlchemy would have filled in), or NULL."""
    missing = [c for c in table.columns if c.name not in names]
    extra: list[Any] = []
    for column in missing:
        default = column.default
        if default is not None and getattr(default, "is_scalar", False):
            extra.append(default.arg)  # type: ignore[attr-defined]
        elif column.nullable:
            extra.append(None)
        else:
            raise ValueError(f"{table.name}.{column.name}: no value and no scalar default")
    return names + [c.name for c in missing], tuple(extra)


def update_rows(
    conn: Connection, table: Table, key: str, names: list[str], rows: Sequence[tuple[Any, ...]]
) -> None:
    """UPDATE table SET names... WHERE key = ?, one row per tuple (values of `names`, then the
    key)."""
    if not rows:
        return
    if conn.dialect.name == "sqlite":
        stamps = [i for i, n in enumerate(names) if isinstance(table.c[n].type, UTCDateTime)]
        if stamps:
            rows = [_sqlite_row(r, stamps) for r in rows]
        sets = ", ".join(f"{n} = ?" for n in names)
        conn.exec_driver_sql(f"UPDATE {table.name} SET {sets} WHERE {key} = ?", list(rows))
        return
    statement = (
        update(table)
        .where(table.c[key] == bindparam("_key"))
        .values({n: bindparam(f"_{n}") for n in names})
    )
    conn.execute(
        statement,
        [{**{f"_{n}": v for n, v in zip(names, r, strict=False)}, "_key": r[-1]} for r in rows],
    )
