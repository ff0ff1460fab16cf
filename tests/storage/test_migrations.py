"""Migrations: from an empty database to head and back to base, on SQLite and PostgreSQL, with
the migrated schema matching `parvis.storage.tables.metadata` exactly."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import create_engine, inspect, make_url, text

from parvis.storage.database import Database
from parvis.storage.migrate import alembic_config, current, upgrade
from parvis.storage.tables import metadata
from tests.conftest import POSTGRES_URL, service_missing

KNOWN = {t.name for t in metadata.sorted_tables}


def _head(db: Database) -> str:
    head = ScriptDirectory.from_config(alembic_config(db)).get_current_head()
    assert head is not None
    return head


def _include(obj: Any, name: str | None, kind: str, reflected: bool, compare_to: Any) -> bool:
    # Tables the metadata does not declare (e.g. full-text search helpers created by hand in a
    # migration) are not part of the comparison.
    return not (kind == "table" and reflected and compare_to is None and name not in KNOWN)


def _differences(db: Database) -> list[Any]:
    """Autogenerate diffs between the live schema and the metadata."""
    with db.engine.connect() as conn:
        ctx = MigrationContext.configure(
            conn, opts={"compare_type": True, "include_object": _include}
        )
        return list(compare_metadata(ctx, metadata))


def _tables(db: Database) -> set[str]:
    return set(inspect(db.engine).get_table_names())


def _round_trip(db: Database) -> None:
    assert current(db) is None
    assert not _tables(db) & KNOWN

    upgrade(db)
    assert current(db) == _head(db)
    assert _tables(db) >= KNOWN
    assert _differences(db) == []

    command.downgrade(alembic_config(db), "base")
    assert current(db) is None
    assert _tables(db) <= {"alembic_version"}, _tables(db)  # every migration undoes itself

    upgrade(db)  # and up again, from base
    assert current(db) == _head(db)
    assert _differences(db) == []


def test_sqlite_migrations_round_trip(tmp_path: Path) -> None:
    db = Database(f"sqlite:///{tmp_path / 'migrations.sqlite3'}")
    try:
        _round_trip(db)
        with db.engine.connect() as conn:  # the schema is usable, not just present
            fks = conn.exec_driver_sql("PRAGMA foreign_key_check").all()
            assert fks == []
    finally:
        db.dispose()


def test_sqlite_upgrade_is_idempotent(tmp_path: Path) -> None:
    db = Database(f"sqlite:///{tmp_path / 'twice.sqlite3'}")
    try:
        upgrade(db)
        upgrade(db)  # already at head: a no-op, not an error
        assert current(db) == _head(db)
    finally:
        db.dispose()


@pytest.fixture
def fresh_postgres() -> Iterator[Database]:
    """A brand-new database on the test server, dropped afterwards (the shared `test`
    database of the session fixture is left alone)."""
    if not POSTGRES_URL:
        service_missing("PostgreSQL", "PARVIS_TEST_POSTGRES_URL")
    name = f"parvis_migtest_{uuid.uuid4().hex[:12]}"
    admin = create_engine(POSTGRES_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    url = make_url(POSTGRES_URL).set(database=name).render_as_string(hide_password=False)
    db = Database(url)
    try:
        yield db
    finally:
        db.dispose()
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@pytest.mark.postgres
def test_postgres_migrations_round_trip(fresh_postgres: Database) -> None:
    _round_trip(fresh_postgres)
