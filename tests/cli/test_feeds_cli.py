"""`parvis feeds`: list, document, replay (exit codes 0 match, 1 mismatch, 2 nothing to replay)
and viewpoints, run against a real server's data directory."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from starlette.testclient import TestClient
from typer.testing import CliRunner

from parvis.app import build, create_app
from parvis.cli import app as cli
from parvis.domain.feeds.document import markdown
from parvis.services import feeds
from tests.builders import follow, make_user
from tests.conftest import make_settings

runner = CliRunner()


@pytest.fixture(autouse=True)
def _clean_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for var in ("DATABASE_URL", "REDIS_URL", "PARVIS_DATA_DIR", "PARVIS_JOBS_IMMEDIATE"):
        monkeypatch.delenv(var, raising=False)


@dataclass
class Served:
    data_dir: Path
    viewer: str
    older: int
    newer: int
    served_at: datetime


@pytest.fixture
def served(tmp_path: Path) -> Served:
    """A viewer whose For you ranking (an older English post above a newer French one, by
    the language weight alone) was served once."""
    settings = make_settings(tmp_path)
    instance = build(settings, migrate=True)
    try:
        with TestClient(
            create_app(instance, embedded_worker=False), base_url="https://parvis.test"
        ) as c:
            viewer, en, fr, _ = (make_user(c, name) for name in ("vi", "en", "fr", "idle"))
            follow(viewer, en)
            follow(viewer, fr)
            older = int(en.status("in English", language="en")["id"])
            newer = int(fr.status("en français", language="fr")["id"])
            page = instance.runtime.write(
                lambda w: feeds.serve(w, int(viewer.id), "for_you", max_id=None, limit=20)
            )
            assert [s.id for s in page.statuses] == [older, newer]
    finally:
        instance.close()
    return Served(settings.data_dir, "vi", older, newer, datetime.now(UTC))


def invoke(data_dir: Path, *args: str) -> tuple[int, str]:
    result = runner.invoke(cli, ["--data-dir", str(data_dir), *args])
    if result.exception and not isinstance(result.exception, SystemExit):
        raise result.exception
    return result.exit_code, " ".join(result.output.split())  # rich wraps long lines


def test_replay_matches(served: Served) -> None:
    code, out = invoke(served.data_dir, "feeds", "replay", "@vi")
    assert code == 0, out
    assert "feed for_you, version 1, served" in out
    assert "matches: the 2 served posts are recomputed in the same order" in out
    later = (served.served_at + timedelta(minutes=5)).isoformat()
    assert invoke(served.data_dir, "feeds", "replay", served.viewer, later)[0] == 0


def test_replay_with_a_changed_weight_is_a_mismatch(served: Served) -> None:
    code, out = invoke(served.data_dir, "feeds", "replay", "vi", "--set", "language_weight=0")
    assert code == 1, out
    assert "with language_weight=0" in out
    assert "MISMATCH from rank 1: 2 posts served, 2 recomputed" in out
    assert f"1 {served.older} {served.newer}" in out
    assert f"2 {served.newer} {served.older}" in out


def test_replay_with_nothing_to_replay(served: Served) -> None:
    for args in (
        ("idle",),  # never served anything
        ("vi", (served.served_at - timedelta(hours=1)).isoformat()),  # before anything
        ("nobody",),
        ("vi", "--set", "nonsense=1"),
    ):
        code, out = invoke(served.data_dir, "feeds", "replay", *args)
        assert code == 2, (args, out)
        assert out.startswith("Nothing to replay:"), out
    code, out = invoke(served.data_dir, "feeds", "replay", "vi", "--set", "language_weight")
    assert code == 2 and "expected name=number" in out


def test_document_prints_the_generated_markdown(tmp_path: Path) -> None:
    result = runner.invoke(cli, ["--data-dir", str(tmp_path), "feeds", "document"])
    assert result.exit_code == 0
    assert result.output == markdown() + "\n"  # what docs/algorithm.md holds


def test_list(tmp_path: Path) -> None:
    code, out = invoke(tmp_path, "feeds", "list")
    assert code == 0
    assert "for_you version 1 11 parameters For you" in out
    assert "bridging version 1 8 parameters Bridging" in out


def test_viewpoints(served: Served) -> None:
    code, out = invoke(served.data_dir, "feeds", "viewpoints")
    assert code == 0, out
    # Nobody favourited or boosted anything: no viewpoint, no sides.
    assert "0 accounts have a viewpoint; 0 recent posts have sides." in out
