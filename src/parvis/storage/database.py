"""Engines and units of work for SQLite (embedded default) and PostgreSQL.

A unit of work is one transaction on one connection, run in a worker thread by the caller.
SQLite: WAL, one writer at a time (a process-wide lock plus BEGIN IMMEDIATE, so a transaction
never has to upgrade from read to write and fail with SQLITE_BUSY); readers never block.
"""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import Connection
from sqlalchemy.pool import QueuePool

SQLITE_PRAGMAS = (
    "PRAGMA journal_mode=WAL",
    "PRAGMA synchronous=NORMAL",
    "PRAGMA foreign_keys=ON",
    "PRAGMA temp_store=MEMORY",
    "PRAGMA cache_size=-16384",  # 16 MiB of page cache per connection
    # No mmap: each connection would map the file again, and the pages count once per mapping
    # in the process's resident size. The OS page cache serves reads just as well.
    "PRAGMA mmap_size=0",
    "PRAGMA journal_size_limit=67108864",
    # What is deleted is overwritten with zeros, not left in free pages of the file: an erased
    # account or a deleted post cannot be read back from the database file or a copy of it.
    "PRAGMA secure_delete=ON",
)


def _sqlite_engine(url: str, pool_size: int) -> Engine:
    engine = create_engine(
        url,
        poolclass=QueuePool,
        pool_size=pool_size,
        max_overflow=0,  # one writer anyway; readers beyond the pool wait briefly for one
        connect_args={"check_same_thread": False, "timeout": 30},
    )

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_conn: sqlite3.Connection, _record: Any) -> None:
        dbapi_conn.isolation_level = None  # we emit BEGIN ourselves
        cur = dbapi_conn.cursor()
        cur.execute("PRAGMA busy_timeout=30000")
        for pragma in SQLITE_PRAGMAS:
            cur.execute(pragma)
        cur.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Connection) -> None:
        mode = conn.info.get("parvis_begin", "BEGIN")
        conn.exec_driver_sql(mode)

    return engine


class Database:
    """Owns the engine; hands out read and write units of work."""

    def __init__(self, url: str, *, pool_size: int = 8, echo: bool = False) -> None:
        self.url = url
        self.is_sqlite = url.startswith("sqlite")
        if self.is_sqlite:
            self.engine = _sqlite_engine(url, pool_size)
        else:
            self.engine = create_engine(
                url, pool_size=pool_size, max_overflow=pool_size, pool_recycle=1800, echo=echo
            )
        # SQLite has one writer: serialize writers in this process so they queue here rather
        # than spin on the busy handler. Other processes still wait on the busy timeout.
        self._write_lock = threading.Lock() if self.is_sqlite else None

    @property
    def dialect(self) -> str:
        return self.engine.dialect.name

    @contextmanager
    def read(self) -> Iterator[Connection]:
        with self.engine.connect() as conn:
            if self.is_sqlite:
                conn.info["parvis_begin"] = "BEGIN"
            with conn.begin():
                yield conn

    @contextmanager
    def write(self) -> Iterator[Connection]:
        if self._write_lock is None:
            with self.engine.connect() as conn, conn.begin():
                yield conn
            return
        with self._write_lock, self.engine.connect() as conn:
            conn.info["parvis_begin"] = "BEGIN IMMEDIATE"
            try:
                with conn.begin():
                    yield conn
            finally:
                conn.info["parvis_begin"] = "BEGIN"

    def dispose(self) -> None:
        self.engine.dispose()
