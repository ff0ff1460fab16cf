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


def test_0010_moves_each_notice_into_an_item_under_its_case(tmp_path: Path) -> None:
    """Notices sent before accountable moderation keep their reported item: it becomes a
    notice item filed under the subject's case (two notices on one post share the case), and
    the old categories take their new offence names; and back down again."""
    db = Database(f"sqlite:///{tmp_path / 'notices.sqlite3'}")
    try:
        upgrade(db, "0008")
        with db.engine.begin() as conn:
            conn.execute(
                text(
                    "INSERT INTO accounts (id, username, acct_key, display_name, note, note_html,"
                    " fields_json, locked, bot, discoverable, indexable, hide_collections, uri,"
                    " url, statuses_count, followers_count, following_count, created_at,"
                    " updated_at) VALUES (7, 'ann', 'ann@', '', '', '', '[]', false, false,"
                    " true, true, false, 'u7', 'u7', 0, 0, 0, '2026-01-01', '2026-01-01')"
                )
            )
            for nid, status, category in ((1, 70, "hate"), (2, 70, "spam"), (3, None, "illegal")):
                conn.execute(
                    text(
                        "INSERT INTO notices (id, status_id, account_id, category, explanation,"
                        " reporter_name, reporter_email, created_at) VALUES (:id, :s, 7, :c,"
                        " 'why', '', '', '2026-01-02')"
                    ),
                    {"id": nid, "s": status, "c": category},
                )
        upgrade(db)
        with db.engine.connect() as conn:
            items = conn.execute(
                text("SELECT notice_id, case_id, status_id, account_id FROM notice_items")
            ).all()
            cases = conn.execute(
                text("SELECT id, subject_type, subject_id, open_notices FROM mod_cases")
            ).all()
            categories = dict(conn.execute(text("SELECT id, category FROM notices")).all())
        assert sorted((n, s, a) for n, _, s, a in items) == [(1, 70, 7), (2, 70, 7), (3, None, 7)]
        by_subject = {(t, s): (cid, n) for cid, t, s, n in cases}
        assert by_subject.keys() == {("status", 70), ("account", 7)}
        assert by_subject["status", 70][1] == 2
        assert {c for n, c, s, _ in items if s == 70} == {by_subject["status", 70][0]}
        assert categories == {1: "racial_hatred", 2: "spam", 3: "other"}
        command.downgrade(alembic_config(db), "0008")
        with db.engine.connect() as conn:
            back = conn.execute(text("SELECT id, status_id, account_id FROM notices")).all()
        assert sorted(back) == [(1, 70, 7), (2, 70, 7), (3, None, 7)]
    finally:
        db.dispose()
