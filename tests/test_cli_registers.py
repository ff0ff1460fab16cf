"""`parvis flaggers`, `parvis authority`, `parvis moderators` and `parvis rules`: every command
has help, does what it says on a real database, and refuses bad input with a message."""

from __future__ import annotations

from pathlib import Path

import pytest
import typer
from typer.testing import CliRunner

from parvis.cli import app

runner = CliRunner()

GROUPS = {
    "flaggers": ("add", "list", "revoke"),
    "authority": ("record", "ack", "carry-out", "respond", "list"),
    "moderators": ("set", "leave", "list"),
    "rules": ("list", "add", "change", "retire"),
}


@pytest.fixture(autouse=True)
def _clean_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for var in ("DATABASE_URL", "REDIS_URL", "PARVIS_DATA_DIR", "PARVIS_JOBS_IMMEDIATE"):
        monkeypatch.delenv(var, raising=False)


def invoke(data_dir: Path, *args: str) -> tuple[int, str]:
    result = runner.invoke(app, ["--data-dir", str(data_dir), *args])
    if result.exception and not isinstance(result.exception, SystemExit):
        raise result.exception
    return result.exit_code, result.output


def run(data_dir: Path, *args: str) -> str:
    code, out = invoke(data_dir, *args)
    assert code == 0, out
    return out


def test_every_register_command_has_help() -> None:
    root = typer.main.get_command(app)
    for group, commands in GROUPS.items():
        sub = root.commands[group]  # type: ignore[attr-defined]
        assert sub.help and set(sub.commands) == set(commands)
        for name in commands:
            command = sub.commands[name]
            assert (command.help or "").strip(), f"{group} {name}"
            for param in command.params:
                assert (getattr(param, "help", "") or "").strip(), f"{group} {name} {param.name}"
            result = runner.invoke(app, [group, name, "--help"])
            assert result.exit_code == 0 and result.output.startswith("Usage: ")


def test_flaggers(tmp_path: Path) -> None:
    data = tmp_path / "data"
    run(data, "user", "create", "pdc", "pdc@example.org", "--password", "correct horse")
    out = run(
        data,
        "flaggers",
        "add",
        "Point de Contact",
        "--coordinator",
        "Arcom",
        "--member-state",
        "FR",
        "--area",
        "racial_hatred",
        "--account",
        "pdc",
    )
    flagger_id = out.split()[3].rstrip(":")
    listed = run(data, "flaggers", "list")
    assert "Point de Contact" in listed and "racial_hatred" in listed and "notices 0" in listed
    run(data, "flaggers", "revoke", flagger_id)
    assert "No trusted flaggers." in run(data, "flaggers", "list")
    assert "revoked" in run(data, "flaggers", "list", "--all")
    code, out = invoke(data, "flaggers", "revoke", flagger_id)
    assert code == 1 and "already revoked" in out
    code, out = invoke(data, "flaggers", "add", "X", "--coordinator", "Y", "--member-state", "US")
    assert code == 1 and "member_state" in out


def test_authority(tmp_path: Path) -> None:
    data = tmp_path / "data"
    out = run(
        data,
        "authority",
        "record",
        "info",
        "Parquet de Paris",
        "--member-state",
        "FR",
        "--category",
        "illegal_or_harmful_speech",
        "--legal-basis",
        "CPP art. 60-1",
        "--reference",
        "PQ-1",
        "--item",
        "http://localhost:8000/@alice/1",
        "--received",
        "2026-01-05T10:00",
    )
    assert "Recorded info" in out and "end-to-end encrypted" in out
    order_id = out.split()[2]
    run(data, "authority", "ack", order_id, "--at", "2026-01-05T11:00")
    assert "carried out -" in run(data, "authority", "list", "--open")
    code, out = invoke(data, "authority", "carry-out", order_id)
    assert code == 1 and "provided" in out
    run(data, "authority", "carry-out", order_id, "--provided", "Sign-up date")
    assert run(data, "authority", "list", "--open").strip() == "The register is empty."
    listed = run(data, "authority", "list", "--kind", "info")
    assert "Parquet de Paris" in listed and "provided: Sign-up date" in listed
    code, out = invoke(data, "authority", "ack", order_id, "--at", "not a date")
    assert code == 1 and "ISO 8601" in out
    code, out = invoke(
        data, "authority", "record", "act", "Court", "--member-state", "FR", "--category", "x"
    )
    assert code == 1 and "dsa_category" in out


def test_moderators(tmp_path: Path) -> None:
    data = tmp_path / "data"
    run(data, "user", "create", "ana", "ana@example.org", "--password", "correct horse")
    code, out = invoke(data, "moderators", "set", "ana", "--language", "fr", "--country", "FR")
    assert code == 1 and "moderator role" in out
    run(data, "user", "role", "ana", "moderator")
    args = ("--language", "fr", "--language", "en", "--country", "FR", "--paid")
    run(data, "moderators", "set", "ana", *args, "--training", "DSA course")
    listed = run(data, "moderators", "list")
    assert "ana  fr,en  FR  paid  trained" in listed
    assert "Published: 1 moderators; languages en 1, fr 1; countries FR 1" in listed
    run(data, "moderators", "leave", "ana")
    assert "Published: 0 moderators" in run(data, "moderators", "list")


def test_rules(tmp_path: Path) -> None:
    data = tmp_path / "data"
    first = run(data, "rules", "list")
    assert first.startswith("1 v1") and "Respect the law" in first
    assert "Added rule 5." in run(data, "rules", "add", "Credit artists.", "--hint", "Name them.")
    assert "version 2" in run(data, "rules", "change", "2", "No harassment or doxxing.")
    run(data, "rules", "retire", "3")
    now = run(data, "rules", "list")
    assert "No harassment or doxxing." in now and "bots" not in now and "5 v1" in now
    every = run(data, "rules", "list", "--all")
    assert "2 v1" in every and "until" in every and "bots" in every
    code, out = invoke(data, "rules", "retire", "3")
    assert code == 1 and "not a rule in force" in out
    assert "rules of this server changed" in run(data, "announcement", "list")
