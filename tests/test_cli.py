"""The `parvis` command line: help everywhere, migrate, user admin, and the seeded network."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import typer
from sqlalchemy import func, select, text
from starlette.testclient import TestClient
from typer.testing import CliRunner

from parvis.app import build, create_app
from parvis.cli import app
from parvis.config import Settings
from parvis.services import accounts as accounts_service
from parvis.services import oauth
from parvis.services.context import Work
from parvis.storage.database import Database
from parvis.storage.migrate import upgrade
from parvis.storage.seed import SeedParams, feed_owner_check, seed
from parvis.storage.tables import accounts, follows, home_feed, statuses, users

runner = CliRunner()

COMMANDS = [
    [],
    ["serve"],
    ["worker"],
    ["migrate"],
    ["seed"],
    ["user"],
    ["user", "create"],
    ["user", "role"],
    ["user", "suspend"],
    ["user", "unsuspend"],
    ["user", "approve"],
]


@pytest.fixture(autouse=True)
def _clean_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for var in (
        "DATABASE_URL",
        "REDIS_URL",
        "PARVIS_DATA_DIR",
        "PARVIS_REGISTRATIONS",
        "PARVIS_JOBS_IMMEDIATE",
    ):
        monkeypatch.delenv(var, raising=False)


def invoke(data_dir: Path, *args: str) -> tuple[int, str]:
    result = runner.invoke(app, ["--data-dir", str(data_dir), *args])
    if result.exception and not isinstance(result.exception, SystemExit):
        raise result.exception
    return result.exit_code, result.output


@pytest.mark.parametrize("command", COMMANDS, ids=lambda c: " ".join(c) or "parvis")
def test_every_command_has_help(command: list[str]) -> None:
    result = runner.invoke(app, [*command, "--help"])
    assert result.exit_code == 0, result.output
    assert result.output.startswith("Usage: ")
    assert len(result.output.split("Options:")[0].strip().splitlines()) >= 3  # usage + text


def test_every_command_and_parameter_is_documented() -> None:
    seen: list[str] = []

    def walk(command: Any, path: str) -> None:
        assert (command.help or "").strip(), f"{path}: no help text"
        for param in command.params:
            if param.param_type_name in ("option", "argument"):
                assert (getattr(param, "help", "") or "").strip(), f"{path} {param.name}: no help"
                seen.append(f"{path} {param.name}")
        for name, sub in (getattr(command, "commands", None) or {}).items():
            walk(sub, f"{path} {name}")

    walk(typer.main.get_command(app), "parvis")
    assert "parvis serve port" in seen and "parvis user create username" in seen
    assert "parvis seed celebrity_followers" in seen and "parvis data_dir" in seen


def test_migrate_and_check(tmp_path: Path) -> None:
    data = tmp_path / "data"
    code, out = invoke(data, "migrate", "--check")
    assert code == 1 and "parvis migrate" in out
    code, out = invoke(data, "migrate")
    assert code == 0 and "upgraded" in out
    code, out = invoke(data, "migrate")
    assert code == 0 and "already up to date" in out
    code, out = invoke(data, "migrate", "--check")
    assert code == 0 and "up to date" in out
    assert (data / "parvis.sqlite3").exists()


def test_user_admin(tmp_path: Path) -> None:
    data = tmp_path / "data"
    code, out = invoke(
        data,
        "user",
        "create",
        "alice",
        "alice@example.org",
        "--password",
        "correct horse",
        "--role",
        "admin",
    )
    assert code == 0, out
    assert "Created admin alice" in out

    code, out = invoke(
        data, "user", "create", "alice", "other@example.org", "--password", "correct horse"
    )
    assert code == 1
    assert "this name is taken" in out

    code, out = invoke(data, "user", "create", "bob", "not-an-email", "--password", "x")
    assert code == 1 and "e-mail" in out and "password" in out

    code, out = invoke(data, "user", "role", "alice", "moderator")
    assert code == 0, out
    code, out = invoke(data, "user", "suspend", "alice")
    assert code == 0, out
    code, out = invoke(data, "user", "role", "nobody", "admin")
    assert code == 1 and "no account named 'nobody'" in out
    code, out = invoke(data, "user", "role", "alice", "king")
    assert code == 2

    db = Database(Settings(data_dir=data).effective_database_url())
    try:
        with db.read() as conn:
            row = conn.execute(
                select(users.c.role, users.c.approved, accounts.c.suspended_at)
                .join(accounts, accounts.c.id == users.c.account_id)
                .where(accounts.c.username == "alice")
            ).one()
        assert row.role == "moderator" and row.approved and row.suspended_at is not None
    finally:
        db.dispose()

    code, out = invoke(data, "user", "unsuspend", "alice")
    assert code == 0, out
    code, out = invoke(data, "user", "approve", "alice")
    assert code == 0, out


def test_user_create_in_closed_mode(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PARVIS_REGISTRATIONS", "closed")
    code, out = invoke(
        tmp_path / "data",
        "user",
        "create",
        "carol",
        "carol@example.org",
        "--password",
        "correct horse",
    )
    assert code == 0, out


def test_worker_refuses_without_queue(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PARVIS_JOBS_IMMEDIATE", "true")
    code, out = invoke(tmp_path / "data", "worker")
    assert code == 1 and "JOBS_IMMEDIATE" in out


def _check_consistent(db: Database, cap: int) -> None:
    with db.read() as conn:

        def scalar(sql: str) -> int:
            return int(conn.execute(text(sql)).scalar() or 0)

        assert (
            scalar(
                "SELECT count(*) FROM accounts a WHERE statuses_count <> "
                "(SELECT count(*) FROM statuses s WHERE s.account_id = a.id)"
            )
            == 0
        )
        assert (
            scalar(
                "SELECT count(*) FROM accounts a WHERE followers_count <> "
                "(SELECT count(*) FROM follows f WHERE f.target_account_id = a.id)"
            )
            == 0
        )
        assert (
            scalar(
                "SELECT count(*) FROM accounts a WHERE following_count <> "
                "(SELECT count(*) FROM follows f WHERE f.account_id = a.id)"
            )
            == 0
        )
        assert (
            scalar(
                "SELECT count(*) FROM statuses p WHERE replies_count <> "
                "(SELECT count(*) FROM statuses r WHERE r.in_reply_to_id = p.id)"
            )
            == 0
        )
        assert (
            scalar(
                "SELECT count(*) FROM statuses p WHERE reblogs_count <> "
                "(SELECT count(*) FROM statuses b WHERE b.reblog_of_id = p.id)"
            )
            == 0
        )
        assert (
            scalar(
                "SELECT count(*) FROM home_feed h JOIN statuses s ON s.id = h.status_id "
                "WHERE s.account_id <> h.author_id"
            )
            == 0
        )
        assert feed_owner_check(conn) == 0
        assert (
            scalar(
                f"SELECT count(*) FROM (SELECT account_id FROM home_feed "
                f"GROUP BY account_id HAVING count(*) > {cap}) x"
            )
            == 0
        )
        # Every reader's own posts are in their feed (up to the cap).
        assert (
            scalar(
                "SELECT count(*) FROM statuses s WHERE s.id > "
                "(SELECT coalesce(min(h.status_id), 0) "
                "FROM home_feed h WHERE h.account_id = s.account_id) AND NOT EXISTS "
                "(SELECT 1 FROM home_feed h WHERE h.account_id = s.account_id "
                "AND h.status_id = s.id)"
            )
            == 0
        )
        assert scalar("SELECT count(*) FROM statuses WHERE reblog_of_id IS NOT NULL") > 0
        assert scalar("SELECT count(*) FROM statuses WHERE in_reply_to_id IS NOT NULL") > 0


def test_seed_builds_a_consistent_network(tmp_path: Path) -> None:
    data = tmp_path / "data"
    code, out = invoke(data, "seed", "--accounts", "50", "--posts-per-account", "5")
    assert code == 0, out
    assert "home-feed entries" in out and "rows/s" in out

    settings = Settings(data_dir=data, jobs_immediate=True, embedded_worker=False)
    instance = build(settings)
    try:
        db = instance.db
        with db.read() as conn:
            count = lambda t: conn.execute(select(func.count()).select_from(t)).scalar()  # noqa: E731
            assert count(accounts) == 50 and count(users) == 50
            assert count(statuses) == 250
            assert count(follows) > 50 and count(home_feed) > 250
            bench = conn.execute(
                select(accounts.c.id, accounts.c.followers_count).where(
                    accounts.c.username == "bench"
                )
            ).one()
        assert bench.followers_count == 49  # --celebrity-followers 5000, capped at accounts - 1
        _check_consistent(db, settings.home_feed_cap)

        code, out = invoke(data, "seed", "--accounts", "5", "--posts-per-account", "1")
        assert code == 1 and "already has accounts" in out

        # The real read path serves the seeded data.
        def token(work: Work) -> str:
            return oauth.issue_token(work, None, bench.id, frozenset({"read"})).access_token

        access = instance.runtime.write(token)

        # Timestamps are stored exactly as SQLAlchemy stores them (and read back aware).
        reg = accounts_service.Registration("dana", "dana@example.org", "correct horse", True)
        instance.runtime.write(lambda w: accounts_service.register(w, reg))
        with db.read() as conn:
            raw = dict(
                conn.execute(
                    text(
                        "SELECT username, created_at FROM accounts WHERE username IN "
                        "('bench', 'dana')"
                    )
                ).all()
            )
            seeded_at = conn.execute(
                select(statuses.c.created_at).order_by(statuses.c.id.desc()).limit(1)
            ).scalar_one()
        stamp = re.compile(r"^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d{6}$")
        assert stamp.match(raw["bench"]) and stamp.match(raw["dana"]), raw
        assert seeded_at.tzinfo is not None
        assert timedelta(0) <= datetime.now(UTC) - seeded_at < timedelta(days=2)
        with TestClient(create_app(instance, embedded_worker=False)) as client:
            r = client.get(
                "/api/v1/timelines/home?limit=20", headers={"Authorization": f"Bearer {access}"}
            )
            assert r.status_code == 200, r.text
            page = r.json()
            assert 0 < len(page) <= 20
            ids = [int(s["id"]) for s in page]
            assert ids == sorted(ids, reverse=True)
    finally:
        instance.close()


def test_seed_is_deterministic_and_caps_feeds(tmp_path: Path) -> None:
    params = SeedParams(
        accounts=40,
        posts_per_account=30,
        celebrity_followers=10,
        seed=7,
        feed_cap=60,
        now=datetime(2026, 1, 1, tzinfo=UTC),
        base_url="https://parvis.test",
    )
    dumps = []
    for name in ("a", "b"):
        db = Database(f"sqlite:///{tmp_path / name}.sqlite3")
        try:
            upgrade(db)
            report = seed(db, params, password_hash="not-a-real-hash")
            assert report.bench_followers == 10
            assert report.feeds_capped > 0
            _check_consistent(db, 60)
            with db.read() as conn:
                dumps.append(
                    (
                        conn.execute(select(statuses).order_by(statuses.c.id)).all(),
                        conn.execute(select(follows).order_by(follows.c.id)).all(),
                        conn.execute(
                            select(home_feed).order_by(
                                home_feed.c.account_id, home_feed.c.status_id
                            )
                        ).all(),
                    )
                )
        finally:
            db.dispose()
    assert dumps[0] == dumps[1]
    ids = [row.id for row in dumps[0][0]]
    assert ids == sorted(set(ids))
    first = min(ids) >> 16
    assert datetime(2025, 12, 2, tzinfo=UTC).timestamp() * 1000 <= first


def test_announcement_commands(tmp_path: Path) -> None:
    for command in (
        ["announce"],
        ["announcement"],
        ["announcement", "list"],
        ["announcement", "delete"],
    ):
        result = runner.invoke(app, [*command, "--help"])
        assert result.exit_code == 0 and "Usage" in result.output
    code, out = invoke(
        tmp_path,
        "announce",
        "Hello #everyone",
        "--starts",
        "2030-01-01",
        "--ends",
        "2030-01-02",
        "--all-day",
    )
    assert code == 0, out
    aid = re.search(r"announcement (\d+)", out)
    assert aid is not None
    code, out = invoke(tmp_path, "announcement", "list")
    assert code == 0 and aid.group(1) in out and "Hello" in out
    code, out = invoke(tmp_path, "announce", "x", "--starts", "soon")
    assert code == 1 and "ISO 8601" in out
    code, out = invoke(tmp_path, "announce", "x", "--all-day")
    assert code == 1 and "all_day" in out
    code, out = invoke(tmp_path, "announcement", "delete", aid.group(1))
    assert code == 0, out
    code, out = invoke(tmp_path, "announcement", "delete", aid.group(1))
    assert code == 1 and "No announcement" in out


# --- i18n -------------------------------------------------------------------------------------


def test_i18n_update_extracts_and_keeps_the_translations(tmp_path: Path) -> None:
    """`parvis i18n update` on a small project: templates and Python are extracted into
    messages.pot; fr/messages.po keeps its translations and gains the new strings."""
    from babel.messages.pofile import read_po

    from parvis.cli.translations import PROJECT

    for command in (["i18n"], ["i18n", "update"]):
        result = runner.invoke(app, [*command, "--help"])
        assert result.exit_code == 0 and result.output.startswith("Usage: ")
    (tmp_path / "babel.cfg").write_text((PROJECT / "babel.cfg").read_text())
    web = tmp_path / "src" / "parvis" / "web"
    (web / "templates" / "deep").mkdir(parents=True)
    (web / "templates" / "page.html").write_text(
        '{% if x %}\n  {{ _("Hello") }}\n{% endif %}\n'
        "{% trans count=n %}{{ count }} post{% pluralize %}{{ count }} posts{% endtrans %}\n"
    )
    (web / "templates" / "deep" / "card.html").write_text('{{ _("Hi %(name)s", name=n) }}\n')
    (web / "views.py").write_text('def f(_):\n    return _("From Python")\n')
    (tmp_path / "src" / "other.py").write_text('_("Not the web app")\n')
    po = web / "i18n" / "fr" / "LC_MESSAGES" / "messages.po"
    po.parent.mkdir(parents=True)
    po.write_text('msgid ""\nmsgstr ""\n"Language: fr\\n"\n\nmsgid "Hello"\nmsgstr "Bonjour"\n')

    result = runner.invoke(app, ["i18n", "update", "--project", str(tmp_path)])
    assert result.exit_code == 0, result.output
    assert "4 strings extracted" in result.output
    assert "fr: 4 strings, 3 to translate" in result.output
    with (web / "i18n" / "messages.pot").open("rb") as f:
        template = read_po(f)
    assert {m.id for m in template if m.id} == {
        "Hello",
        ("%(count)s post", "%(count)s posts"),
        "Hi %(name)s",
        "From Python",
    }
    with po.open("rb") as f:
        french = read_po(f, locale="fr")
    assert french["Hello"].string == "Bonjour"  # kept
    assert french["From Python"].string == ""  # new, to translate
    assert french.plural_forms == "nplurals=2; plural=(n > 1);"

    before = po.read_bytes()
    result = runner.invoke(app, ["i18n", "update", "--project", str(tmp_path)])
    assert result.exit_code == 0 and po.read_bytes() == before  # nothing new: untouched

    result = runner.invoke(app, ["i18n", "update", "--project", str(tmp_path / "src")])
    # The message names the file; the terminal may wrap the long path anywhere.
    assert result.exit_code == 1 and "babel.cfg not found" in result.output.replace("\n", "")
