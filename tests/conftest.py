"""Shared fixtures: a real Parvis on a real database (SQLite always; PostgreSQL when
PARVIS_TEST_POSTGRES_URL is set), driven through its real HTTP interface."""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from argon2 import PasswordHasher
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url
from starlette.testclient import TestClient

from parvis.app import Parvis, build, create_app
from parvis.config import Settings
from parvis.services import accounts as account_service
from parvis.services import rules
from parvis.storage.database import Database
from parvis.storage.migrate import upgrade
from parvis.storage.tables import metadata

REQUIRE_SERVICES = os.environ.get("PARVIS_REQUIRE_SERVICES") == "1"


def _per_worker(postgres_url: str, redis_url: str) -> tuple[str, str]:
    """Under pytest-xdist each worker gets a database of its own on the same PostgreSQL server
    (created on first use) and a Redis database number of its own, so that workers never
    truncate or flush one another's data."""
    worker = os.environ.get("PYTEST_XDIST_WORKER", "")
    if not worker.startswith("gw"):
        return postgres_url, redis_url
    n = int(worker[2:])
    if postgres_url:
        server = make_url(postgres_url)
        name = f"{server.database}_{worker}"
        admin = create_engine(postgres_url, isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            exists = conn.execute(text("SELECT 1 FROM pg_database WHERE datname = :n"), {"n": name})
            if exists.first() is None:
                conn.execute(text(f'CREATE DATABASE "{name}"'))
        admin.dispose()
        postgres_url = server.set(database=name).render_as_string(hide_password=False)
    if redis_url:
        base, _, number = redis_url.rpartition("/")
        redis_url = f"{base}/{(int(number or 0) - n) % 16}"
    return postgres_url, redis_url


POSTGRES_URL, REDIS_URL = _per_worker(
    os.environ.get("PARVIS_TEST_POSTGRES_URL", ""), os.environ.get("PARVIS_TEST_REDIS_URL", "")
)


def service_missing(what: str, var: str) -> None:
    message = f"{what} not configured: set {var} to run this suite"
    if REQUIRE_SERVICES:
        pytest.fail(message + " (PARVIS_REQUIRE_SERVICES=1: services are required here)")
    pytest.skip(message)


BACKENDS = ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)]


@pytest.fixture(scope="session")
def postgres_db() -> Iterator[Database]:
    if not POSTGRES_URL:
        service_missing("PostgreSQL", "PARVIS_TEST_POSTGRES_URL")
    db = Database(POSTGRES_URL)
    with db.engine.begin() as conn:
        conn.execute(text("DROP SCHEMA IF EXISTS public CASCADE"))
        conn.execute(text("CREATE SCHEMA public"))
    upgrade(db)
    yield db
    db.dispose()


def truncate_all(db: Database) -> None:
    names = ", ".join(t.name for t in metadata.sorted_tables)
    with db.engine.begin() as conn:
        conn.execute(text(f"TRUNCATE {names} CASCADE"))


@pytest.fixture(autouse=True)
def quick_password_hashing(monkeypatch: pytest.MonkeyPatch) -> None:
    """Real Argon2id with its cost turned down: sign-up is not what the tests are about, and
    hundreds of users are made. Production parameters are argon2-cffi's defaults."""
    monkeypatch.setattr(
        account_service, "_hasher", PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1)
    )


def make_settings(tmp_path: Path, **overrides: Any) -> Settings:
    values: dict[str, Any] = {
        "domain": "parvis.test",
        "scheme": "https",
        "data_dir": tmp_path / "data",
        "jobs_immediate": True,
        "embedded_worker": False,
        "rate_limits_enabled": False,
    }
    values.update(overrides)
    return Settings(**values)


DB_FILE = "parvis.sqlite3"


@pytest.fixture(scope="session")
def migrated_sqlite(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """An SQLite database migrated to head once per worker; each test starts from a copy
    (migrating takes a quarter of a second, copying a millisecond)."""
    path = tmp_path_factory.mktemp("template") / DB_FILE
    db = Database(f"sqlite:///{path}")
    upgrade(db)
    with db.engine.connect() as conn:
        conn.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
    db.dispose()
    return path


@pytest.fixture(params=BACKENDS)
def backend(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def parvis(backend: str, tmp_path: Path, request: pytest.FixtureRequest) -> Iterator[Parvis]:
    overrides: dict[str, Any] = getattr(request, "param", {}) or {}
    if backend == "postgres":
        db: Database = request.getfixturevalue("postgres_db")
        truncate_all(db)
        settings = make_settings(tmp_path, database_url=POSTGRES_URL, **overrides)
        instance = build(settings)
    else:
        settings = make_settings(tmp_path, **overrides)
        settings.data_dir.mkdir(parents=True)
        shutil.copyfile(request.getfixturevalue("migrated_sqlite"), settings.data_dir / DB_FILE)
        instance = build(settings)
        instance.runtime.write(rules.seed)  # as build(migrate=True) does
    # No network in tests: a test that federates gives the runtime an HttpClient over a fake
    # transport (the outbound I/O seam), or runs real servers (tests/federation/loopback.py).
    instance.runtime.http = None
    yield instance
    instance.close()


@pytest.fixture
def client(parvis: Parvis) -> Iterator[TestClient]:
    app = create_app(parvis, embedded_worker=False)
    with TestClient(app, base_url="https://parvis.test") as c:
        yield c


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    """One line per distinct skip reason, with its count (instead of one line per test)."""
    reasons: dict[str, int] = {}
    for report in terminalreporter.stats.get("skipped", []):
        longrepr = report.longrepr
        reason = longrepr[2] if isinstance(longrepr, tuple) else str(longrepr)
        reason = reason.removeprefix("Skipped: ")
        reasons[reason] = reasons.get(reason, 0) + 1
    for reason, count in sorted(reasons.items()):
        terminalreporter.write_line(f"SKIPPED {count} tests: {reason}")
