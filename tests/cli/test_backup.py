"""`parvis backup` and `parvis restore`, with the real app: a server with users, posts, media
and follows is backed up while a write transaction is open, restored into an empty directory,
and a fresh app on the restored directory serves the very same JSON (accounts, statuses, home
and public timelines, media URLs) and the very same files; a backup with one byte changed is
refused and leaves the target untouched; the copy stays consistent under concurrent writers."""

from __future__ import annotations

import io
import itertools
import shutil
import sqlite3
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from PIL import Image
from sqlalchemy import create_engine, insert, text
from sqlalchemy.engine import make_url
from starlette.testclient import TestClient
from typer.testing import CliRunner

import parvis.cli.backup  # noqa: F401  (registers `parvis backup` and `parvis restore`)
from parvis.app import Parvis, build, create_app
from parvis.cli import app as cli
from parvis.config import Settings
from parvis.domain.ids import new_id
from parvis.storage import backup
from parvis.storage.tables import statuses
from tests.builders import User, follow, make_user, ok
from tests.conftest import POSTGRES_URL, make_settings, service_missing

runner = CliRunner()


@pytest.fixture(autouse=True)
def _clean_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for var in ("DATABASE_URL", "REDIS_URL", "PARVIS_DATA_DIR", "PARVIS_JOBS_IMMEDIATE"):
        monkeypatch.delenv(var, raising=False)


def invoke(*args: str) -> tuple[int, str]:
    result = runner.invoke(cli, list(args))
    if result.exception and not isinstance(result.exception, SystemExit):
        raise result.exception
    return result.exit_code, " ".join(result.output.split())  # rich wraps long lines


def png(color: tuple[int, int, int]) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (20, 10), color).save(out, "PNG")
    return out.getvalue()


def settings_on(data_dir: Path) -> Settings:
    return make_settings(data_dir.parent, data_dir=data_dir)


@dataclass
class Server:
    parvis: Parvis
    client: TestClient


@pytest.fixture
def server(tmp_path: Path) -> Iterator[Server]:
    instance = build(settings_on(tmp_path / "origin"), migrate=True)
    with TestClient(
        create_app(instance, embedded_worker=False), base_url="https://parvis.test"
    ) as c:
        yield Server(instance, c)
    instance.close()


@dataclass
class World:
    users: list[User]
    statuses: list[str]
    media_urls: list[str]


def populate(client: TestClient) -> World:
    alice, bob, carol = (make_user(client, name) for name in ("alice", "bob", "carol"))
    follow(bob, alice)
    follow(carol, alice)
    follow(alice, carol)
    ids: list[str] = []
    urls: list[str] = []
    for i, color in enumerate([(200, 30, 30), (30, 200, 30)]):
        r = alice.post(
            "/api/v2/media",
            files={"file": (f"{i}.png", png(color), "image/png")},
            data={"description": f"picture {i}"},
        )
        media = ok(r)
        post = alice.status(f"picture {i} #colours", media_ids=[media["id"]])
        ids.append(post["id"])
        urls.append(post["media_attachments"][0]["url"])
        urls.append(post["media_attachments"][0]["preview_url"])
    reply = bob.status("lovely", in_reply_to_id=ids[0])
    ids.append(reply["id"])
    ids.append(carol.status("followers only", visibility="private")["id"])
    ids.append(ok(bob.post(f"/api/v1/statuses/{ids[1]}/reblog"))["id"])
    ok(carol.post(f"/api/v1/statuses/{ids[0]}/favourite"))
    ok(bob.patch("/api/v1/accounts/update_credentials", data={"note": "I restore things."}))
    return World([alice, bob, carol], ids, urls)


def answers(client: TestClient, world: World) -> dict[str, Any]:
    """What the server says to a set of API calls, each user with their own token."""
    out: dict[str, Any] = {}
    for user in world.users:
        headers = user.headers

        def get(path: str, headers: dict[str, str] = headers, **params: Any) -> Any:
            r = client.get(path, headers=headers, params=params)
            assert r.status_code == 200, (path, r.text)
            return r.json()

        name = user.username
        out[f"{name} me"] = get("/api/v1/accounts/verify_credentials")
        out[f"{name} home"] = get("/api/v1/timelines/home", limit=40)
        out[f"{name} account"] = get(f"/api/v1/accounts/{user.id}")
        out[f"{name} statuses"] = get(f"/api/v1/accounts/{user.id}/statuses")
        out[f"{name} followers"] = get(f"/api/v1/accounts/{user.id}/followers")
        out[f"{name} notifications"] = get("/api/v1/notifications")
        for status_id in world.statuses:
            r = client.get(f"/api/v1/statuses/{status_id}", headers=headers)
            out[f"{name} status {status_id}"] = (r.status_code, r.json())
    out["public"] = client.get("/api/v1/timelines/public").json()
    out["tag"] = client.get("/api/v1/timelines/tag/colours").json()
    for url in world.media_urls:
        r = client.get(url.removeprefix("https://parvis.test"))
        assert r.status_code == 200, url
        out[url] = r.content
    return out


def test_backup_while_writing_then_restore_serves_identical_answers(
    server: Server, tmp_path: Path
) -> None:
    world = populate(server.client)
    settings = server.parvis.settings
    keys = (settings.signing_key(), settings.log_key_seed())
    before = answers(server.client, world)
    target = tmp_path / "backup"
    opened, backed_up = threading.Event(), threading.Event()
    uncommitted = new_id()

    def writer() -> None:
        """A write transaction left open during the whole backup, then rolled back."""
        alice_id = int(world.users[0].id)
        try:
            with server.parvis.db.write() as conn:
                conn.execute(
                    insert(statuses).values(
                        id=uncommitted,
                        account_id=alice_id,
                        uri=f"https://parvis.test/users/alice/statuses/{uncommitted}",
                        text="never committed",
                        visibility="public",
                        created_at=server.parvis.runtime.clock(),
                    )
                )
                opened.set()
                backed_up.wait(timeout=60)
                raise RuntimeError("roll back")
        except RuntimeError:
            pass

    thread = threading.Thread(target=writer)
    thread.start()
    assert opened.wait(timeout=10)
    try:
        code, output = invoke("--data-dir", str(settings.data_dir), "backup", str(target))
    finally:
        backed_up.set()
        thread.join()
    assert code == 0, output
    assert "Backed up sqlite" in output
    manifest = backup.read_manifest(target)
    assert manifest.revision is not None
    paths = {e.path for e in manifest.files}
    assert {"database/parvis.sqlite3", "data/secret_key", "data/log_signing_key"} <= paths
    assert sum(p.startswith("data/media/") for p in paths) == 4  # 2 pictures + 2 thumbnails

    restored = tmp_path / "restored"
    code, output = invoke("--data-dir", str(restored), "restore", str(target))
    assert code == 0, output
    assert "Restored" in output

    fresh = build(settings_on(restored), migrate=True)
    try:
        with TestClient(
            create_app(fresh, embedded_worker=False), base_url="https://parvis.test"
        ) as c:
            after = answers(c, world)
            assert c.get(f"/api/v1/statuses/{uncommitted}").status_code == 404
        assert (fresh.settings.signing_key(), fresh.settings.log_key_seed()) == keys
    finally:
        fresh.close()
    assert after.keys() == before.keys()
    for key, value in before.items():
        assert after[key] == value, key
    # The original still serves the same too (the backup changed nothing there).
    assert answers(server.client, world) == before


def test_a_changed_byte_is_refused_and_the_target_left_alone(
    server: Server, tmp_path: Path
) -> None:
    populate(server.client)
    server.parvis.settings.signing_key()  # written into the data dir on first use
    good = tmp_path / "good"
    code, output = invoke("--data-dir", str(server.parvis.settings.data_dir), "backup", str(good))
    assert code == 0, output
    manifest = backup.read_manifest(good)
    media = next(e.path for e in manifest.files if e.path.startswith("data/media/"))
    for damaged in ("database/parvis.sqlite3", media, "data/secret_key"):
        bad = tmp_path / f"bad-{damaged.replace('/', '-')}"
        shutil.copytree(good, bad)
        path = bad / damaged
        blob = bytearray(path.read_bytes())
        blob[len(blob) // 2] ^= 0x01
        path.write_bytes(bytes(blob))
        target = tmp_path / "target"
        code, output = invoke("--data-dir", str(target), "restore", str(bad))
        assert code == 1
        assert "does not match its checksum" in output and damaged in output
        assert not target.exists() or not any(target.iterdir())
        assert not list(tmp_path.glob(".target.restore-*"))  # no staging left behind
    # A missing file, an unfinished backup (no manifest).
    missing = tmp_path / "missing"
    shutil.copytree(good, missing)
    (missing / media).unlink()
    code, output = invoke("--data-dir", str(tmp_path / "t2"), "restore", str(missing))
    assert code == 1 and "is missing" in output
    (missing / "manifest.json").unlink()
    code, output = invoke("--data-dir", str(tmp_path / "t2"), "restore", str(missing))
    assert code == 1 and "no manifest.json" in output


def test_targets_must_be_empty_unless_forced(server: Server, tmp_path: Path) -> None:
    world = populate(server.client)
    data_dir = server.parvis.settings.data_dir
    target = tmp_path / "backup"
    assert invoke("--data-dir", str(data_dir), "backup", str(target))[0] == 0
    code, output = invoke("--data-dir", str(data_dir), "backup", str(target))
    assert code == 1 and "is not empty" in output
    code, output = invoke("--data-dir", str(data_dir), "backup", str(data_dir / "inside"))
    assert code == 1 and "inside the data directory" in output

    other = tmp_path / "other"
    other.mkdir()
    (other / "stale.txt").write_text("old server")
    code, output = invoke("--data-dir", str(other), "restore", str(target))
    assert code == 1 and "not empty" in output and "--force" in output
    assert (other / "stale.txt").exists()
    code, output = invoke("--data-dir", str(other), "restore", "--force", str(target))
    assert code == 0, output
    assert not (other / "stale.txt").exists()
    fresh = build(settings_on(other), migrate=True)
    try:
        with TestClient(
            create_app(fresh, embedded_worker=False), base_url="https://parvis.test"
        ) as c:
            me = world.users[0]
            r = c.get("/api/v1/accounts/verify_credentials", headers=me.headers)
            assert r.status_code == 200 and r.json()["username"] == "alice"
    finally:
        fresh.close()


def test_help_on_both_commands() -> None:
    for command, words in (("backup", "while it runs"), ("restore", "--force")):
        code, output = invoke(command, "--help")
        assert code == 0 and words in output
    code, output = invoke("--help")
    assert "backup" in output and "restore" in output


def test_the_copy_is_consistent_under_concurrent_writers(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Writers commit rows two by two while the database is copied a few pages at a time: the
    copy holds whole transactions only, and it finishes (it never starts over)."""
    source, copy = tmp_path / "live.sqlite3", tmp_path / "copy.sqlite3"
    db = sqlite3.connect(source, isolation_level=None)
    db.execute("PRAGMA journal_mode=WAL")
    db.execute("CREATE TABLE pairs (id INTEGER PRIMARY KEY, blob BLOB)")
    db.execute("BEGIN")
    db.executemany("INSERT INTO pairs (blob) VALUES (randomblob(900))", [()] * 4000)
    db.execute("COMMIT")
    stop = threading.Event()
    commits = 0

    def write_pairs() -> None:
        nonlocal commits
        conn = sqlite3.connect(source, isolation_level=None, timeout=30)
        while not stop.is_set():
            conn.execute("BEGIN IMMEDIATE")
            conn.execute("INSERT INTO pairs (blob) VALUES (randomblob(900))")
            conn.execute("INSERT INTO pairs (blob) VALUES (randomblob(900))")
            conn.execute("COMMIT")
            commits += 1
        conn.close()

    steps: list[tuple[int, int]] = []
    monkeypatch.setattr(backup, "PAGES_PER_STEP", 50)
    thread = threading.Thread(target=write_pairs)
    thread.start()
    try:
        while commits < 5:
            stop.wait(0.01)
        backup.copy_sqlite(
            source, copy, lambda done, total: (steps.append((done, total)), stop.wait(0.005))
        )
        during = commits
    finally:
        stop.set()
        thread.join()
    db.close()
    assert len(steps) > 10 and during > 5
    assert all(b[0] >= a[0] for a, b in itertools.pairwise(steps))  # never restarted
    check = sqlite3.connect(copy)
    try:
        assert check.execute("PRAGMA integrity_check").fetchone() == ("ok",)
        count = check.execute("SELECT count(*) FROM pairs").fetchone()[0]
        assert count % 2 == 0 and count >= 4000 + 10
    finally:
        check.close()


@pytest.mark.postgres
def test_postgres_backup_and_restore_serve_identical_answers(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The same on PostgreSQL (pg_dump / pg_restore), in two databases of its own on the test
    server (never the shared `test` one), created and dropped here."""
    if not POSTGRES_URL:
        service_missing("PostgreSQL", "PARVIS_TEST_POSTGRES_URL")
    server_url = make_url(POSTGRES_URL)
    origin_url = server_url.set(database="parvis_backup_origin")
    restored_url = server_url.set(database="parvis_backup_restored")
    admin = create_engine(server_url, isolation_level="AUTOCOMMIT")
    names = ("parvis_backup_origin", "parvis_backup_restored")

    def recreate() -> None:
        with admin.connect() as conn:
            for name in names:
                conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
            conn.execute(text('CREATE DATABASE "parvis_backup_origin"'))
            conn.execute(text('CREATE DATABASE "parvis_backup_restored"'))

    recreate()
    try:
        url = origin_url.render_as_string(hide_password=False)
        origin = build(
            make_settings(tmp_path, database_url=url, data_dir=tmp_path / "o"), migrate=True
        )
        try:
            with TestClient(
                create_app(origin, embedded_worker=False), base_url="https://parvis.test"
            ) as c:
                world = populate(c)
                before = answers(c, world)
            monkeypatch.setenv("DATABASE_URL", url)
            code, output = invoke(
                "--data-dir", str(origin.settings.data_dir), "backup", str(tmp_path / "b")
            )
        finally:
            origin.close()
        assert code == 0, output
        assert "database/parvis.dump" in {
            e.path for e in backup.read_manifest(tmp_path / "b").files
        }

        url = restored_url.render_as_string(hide_password=False)
        monkeypatch.setenv("DATABASE_URL", url)
        code, output = invoke("--data-dir", str(tmp_path / "r"), "restore", str(tmp_path / "b"))
        assert code == 0, output
        fresh = build(make_settings(tmp_path, database_url=url, data_dir=tmp_path / "r"))
        try:
            with TestClient(
                create_app(fresh, embedded_worker=False), base_url="https://parvis.test"
            ) as c:
                after = answers(c, world)
        finally:
            fresh.close()
        assert after == before
    finally:
        with admin.connect() as conn:
            for name in names:
                conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()
