"""`parvis users delete` and `parvis users undelete` (the operator's side of account deletion),
on a real data directory: the account is closed at once, erased by the job after the grace or,
with --now, at its next run; undelete opens it again."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import select
from typer.testing import CliRunner

from parvis.app import build
from parvis.cli import app
from parvis.config import Settings
from parvis.jobs.runtime import run_job
from parvis.storage.tables import accounts, users

runner = CliRunner()


@pytest.fixture(autouse=True)
def _clean_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for var in ("DATABASE_URL", "REDIS_URL", "PARVIS_DATA_DIR", "PARVIS_JOBS_IMMEDIATE"):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("PARVIS_FEDERATION_ENABLED", "false")


def invoke(data_dir: Path, *args: str) -> tuple[int, str]:
    result = runner.invoke(app, ["--data-dir", str(data_dir), *args])
    if result.exception and not isinstance(result.exception, SystemExit):
        raise result.exception
    return result.exit_code, result.output


def state(data_dir: Path, username: str) -> tuple[object, object] | None:
    parvis = build(Settings(data_dir=data_dir, jobs_immediate=True, federation_enabled=False))
    try:
        with parvis.db.read() as conn:
            row = conn.execute(
                select(users.c.delete_after, accounts.c.suspended_at)
                .join(accounts, accounts.c.id == users.c.account_id)
                .where(accounts.c.username == username)
            ).first()
            return (row[0], row[1]) if row is not None else None
    finally:
        parvis.close()


@pytest.mark.parametrize("group", ["user", "users"])
def test_the_commands_explain_themselves(group: str) -> None:
    for command in ("delete", "undelete"):
        result = runner.invoke(app, [group, command, "--help"])
        assert result.exit_code == 0, result.output
        assert "username" in result.output.lower() and "A local user" in result.output
    assert "--now" in runner.invoke(app, [group, "delete", "--help"]).output
    assert "grace" in runner.invoke(app, [group, "delete", "--help"]).output


def test_delete_undelete_and_delete_now(tmp_path: Path) -> None:
    data = tmp_path / "data"
    assert invoke(data, "migrate")[0] == 0
    code, out = invoke(
        data, "user", "create", "leaver", "leaver@example.org", "--password", "x" * 10
    )
    assert code == 0, out

    code, out = invoke(data, "users", "delete", "leaver")
    assert code == 0 and "closed and will be erased after" in out
    found = state(data, "leaver")
    assert found is not None and found[0] is not None and found[1] is not None

    code, out = invoke(data, "users", "undelete", "leaver")
    assert code == 0 and "open again" in out
    assert state(data, "leaver") == (None, None)
    code, out = invoke(data, "users", "undelete", "leaver")
    assert code == 1 and "No deletion of this account is pending" in out
    code, out = invoke(data, "users", "delete", "nobody")
    assert code == 1 and "No local user named nobody" in out

    code, out = invoke(data, "users", "delete", "leaver", "--now")
    assert code == 0, out
    parvis = build(Settings(data_dir=data, jobs_immediate=True, federation_enabled=False))
    try:
        run_job(parvis.runtime, "erase_accounts", {})
        run_job(parvis.runtime, "erase_accounts", {})
    finally:
        parvis.close()
    assert state(data, "leaver") is None
    code, out = invoke(data, "user", "create", "leaver", "new@example.org", "--password", "x" * 10)
    assert code == 1 and "this name is taken" in out
