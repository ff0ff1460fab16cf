"""Backup and restore of a whole server: its database, its media and the key files of its data
directory, with a manifest of SHA-256 checksums (what `parvis backup` and `parvis restore` do).

A backup directory holds `manifest.json` (written last: a backup without it is incomplete),
`database/parvis.sqlite3` (SQLite) or `database/parvis.dump` (PostgreSQL, `pg_dump -Fc`), and
`data/`, a copy of the data directory (media, `secret_key`, `log_signing_key`, the job queue...).

SQLite is copied online, while the server runs, with SQLite's backup API, one slice of pages
at a time, inside one read transaction held open on the source for the whole copy: in WAL
mode that pins one snapshot, so the copy is consistent, writers are never blocked, and the copy
never has to start over when they commit (without the pinned snapshot, a busy server would make
the backup API restart at every write). Every SQLite file of the data directory (the job queue)
is copied the same way; other files are copied as they are (media files are written whole and
renamed into place, never rewritten).

Restore checks every file against the manifest while it copies it into a staging directory
beside the target, so a damaged or altered backup leaves the target untouched, then moves the
staged files into place. It refuses a target that is not empty, unless told to replace it.
"""

from __future__ import annotations

import hashlib
import json
import os
import secrets
import shutil
import sqlite3
import subprocess
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path, PurePosixPath
from typing import Any

from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

FORMAT = "parvis-backup"
VERSION = 1
MANIFEST = "manifest.json"
SQLITE_NAME = "parvis.sqlite3"
DUMP_NAME = "parvis.dump"
SQLITE_MAGIC = b"SQLite format 3\x00"
SQLITE_SIDE_FILES = ("-wal", "-shm", "-journal")
CHUNK = 1024 * 1024
PAGES_PER_STEP = 4096  # 16 MiB at SQLite's default page size

# progress(phase, done, total): phases "database", "files", "verify"; total 0 = unknown.
Progress = Callable[[str, int, int], None]


class BackupError(Exception):
    """The backup or restore cannot be done; the message says why and what to do."""


@dataclass(frozen=True)
class Entry:
    path: str  # relative, POSIX, inside the backup directory
    size: int
    sha256: str


@dataclass(frozen=True)
class Manifest:
    backend: str  # sqlite | postgresql
    database: str  # path of the database file in the backup
    created_at: str
    parvis_version: str
    revision: str | None
    files: tuple[Entry, ...]

    @property
    def total_bytes(self) -> int:
        return sum(e.size for e in self.files)

    def to_json(self) -> dict[str, Any]:
        return {
            "format": FORMAT,
            "version": VERSION,
            "created_at": self.created_at,
            "parvis_version": self.parvis_version,
            "schema_revision": self.revision,
            "database": {"backend": self.backend, "path": self.database},
            "files": [{"path": e.path, "size": e.size, "sha256": e.sha256} for e in self.files],
        }


def _quiet(_phase: str, _done: int, _total: int) -> None:
    return None


# -- what the database URL says ------------------------------------------------------------


def backend_of(database_url: str) -> str:
    return "sqlite" if database_url.startswith("sqlite") else "postgresql"


def sqlite_path(database_url: str) -> Path:
    database = make_url(database_url).database
    if not database or database == ":memory:":
        raise BackupError("an in-memory SQLite database cannot be backed up")
    return Path(database).resolve()


def libpq_url(database_url: str) -> str:
    """The URL as pg_dump and pg_restore take it (no SQLAlchemy driver name)."""
    url = make_url(database_url).set(drivername="postgresql")
    return url.render_as_string(hide_password=False)


def _tool(name: str) -> str:
    found = shutil.which(name)
    if found is None:
        raise BackupError(
            f"{name} was not found: install the PostgreSQL client tools (the same major "
            "version as the server or newer) to back up or restore a PostgreSQL database"
        )
    return found


# -- copying -----------------------------------------------------------------------------


def _fsync(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _hash_file(path: Path, advance: Callable[[int], None]) -> tuple[int, str]:
    digest = hashlib.sha256()
    size = 0
    with path.open("rb") as f:
        while chunk := f.read(CHUNK):
            digest.update(chunk)
            size += len(chunk)
            advance(len(chunk))
    return size, digest.hexdigest()


def _copy_hashing(source: Path, target: Path, advance: Callable[[int], None]) -> tuple[int, str]:
    digest = hashlib.sha256()
    size = 0
    target.parent.mkdir(parents=True, exist_ok=True)
    with source.open("rb") as f, target.open("wb") as out:
        while chunk := f.read(CHUNK):
            digest.update(chunk)
            out.write(chunk)
            size += len(chunk)
            advance(len(chunk))
    return size, digest.hexdigest()


def _sync(paths: list[Path]) -> None:
    """Make written files durable: each file, then the directories holding them. Done once at
    the end rather than file by file: the file system then flushes them together."""
    for path in paths:
        _fsync(path)
    for directory in sorted({p.parent for p in paths}):
        _fsync(directory)


def is_sqlite_file(path: Path) -> bool:
    try:
        with path.open("rb") as f:
            return f.read(len(SQLITE_MAGIC)) == SQLITE_MAGIC
    except OSError:
        return False


def copy_sqlite(source: Path, target: Path, progress: Callable[[int, int], None]) -> None:
    """A consistent copy of a live SQLite database (see the module's docstring)."""
    target.parent.mkdir(parents=True, exist_ok=True)
    src = sqlite3.connect(source, isolation_level=None, timeout=30)
    try:
        src.execute("PRAGMA busy_timeout=30000")
        src.execute("BEGIN")  # pin one snapshot for the whole copy
        src.execute("SELECT count(*) FROM sqlite_master").fetchone()
        dst = sqlite3.connect(target, isolation_level=None)
        try:
            src.backup(
                dst,
                pages=PAGES_PER_STEP,
                progress=lambda _status, remaining, total: progress(total - remaining, total),
            )
            dst.execute("PRAGMA journal_mode=DELETE")  # one self-contained file
        finally:
            dst.close()
        src.execute("COMMIT")
    finally:
        src.close()


def _data_files(data_dir: Path, skip: set[Path]) -> Iterator[Path]:
    """The regular files of the data directory worth keeping, in a stable order."""
    for root, dirs, names in os.walk(data_dir):
        here = Path(root)
        dirs[:] = sorted(d for d in dirs if not d.startswith(".") and (here / d) not in skip)
        for name in sorted(names):
            path = here / name
            if name.startswith(".") or name.endswith(".part") or path in skip:
                continue
            if any(name.endswith(s) for s in SQLITE_SIDE_FILES) and is_sqlite_file(
                path.with_name(name.rsplit("-", 1)[0])
            ):
                continue
            if path.is_file() and not path.is_symlink():
                yield path


def _empty(path: Path) -> bool:
    return not path.exists() or (path.is_dir() and not any(path.iterdir()))


# -- backup ------------------------------------------------------------------------------


def create(
    data_dir: Path,
    database_url: str,
    dest: Path,
    *,
    parvis_version: str,
    revision: str | None,
    progress: Progress = _quiet,
) -> Manifest:
    """Back up the database and the data directory into `dest` (a new or empty directory)."""
    data_dir, dest = data_dir.resolve(), dest.resolve()
    if not _empty(dest):
        raise BackupError(f"{dest} is not empty: back up into a new or empty directory")
    if dest == data_dir or data_dir in dest.parents:
        raise BackupError("the backup directory must not be inside the data directory")
    dest.mkdir(parents=True, exist_ok=True)
    backend = backend_of(database_url)
    entries: list[Entry] = []
    skip: set[Path] = set()
    if backend == "sqlite":
        source = sqlite_path(database_url)
        if not source.exists():
            raise BackupError(f"no database at {source}: nothing to back up")
        skip.add(source)
        database = f"database/{SQLITE_NAME}"
        copy_sqlite(source, dest / database, lambda d, t: progress("database", d, t))
    else:
        database = f"database/{DUMP_NAME}"
        (dest / "database").mkdir(parents=True)
        progress("database", 0, 0)
        _run(
            [
                _tool("pg_dump"),
                "--format=custom",
                "--no-owner",
                f"--file={dest / database}",
                f"--dbname={libpq_url(database_url)}",
            ],
            "pg_dump",
        )
        progress("database", 1, 1)
    size, digest = _hash_file(dest / database, lambda _n: None)
    entries.append(Entry(database, size, digest))

    found = list(_data_files(data_dir, skip)) if data_dir.exists() else []
    total = sum(p.stat().st_size for p in found if p.exists())
    done = 0

    def advance(n: int) -> None:
        nonlocal done
        done += n
        progress("files", done, total)

    progress("files", 0, total)
    written = [dest / database]
    for path in found:
        relative = "data/" + path.relative_to(data_dir).as_posix()
        target = dest / relative
        try:
            if is_sqlite_file(path):
                copy_sqlite(path, target, lambda _d, _t: None)
                size, digest = _hash_file(target, advance)
            else:
                size, digest = _copy_hashing(path, target, advance)
        except FileNotFoundError:  # deleted while we worked: it is no longer part of the server
            continue
        written.append(target)
        entries.append(Entry(relative, size, digest))
    _sync(written)
    manifest = Manifest(
        backend=backend,
        database=database,
        created_at=datetime.now(UTC).isoformat(timespec="seconds"),
        parvis_version=parvis_version,
        revision=revision,
        files=tuple(entries),
    )
    temp = dest / f".{MANIFEST}.part"
    temp.write_text(json.dumps(manifest.to_json(), indent=2))
    _fsync(temp)
    os.replace(temp, dest / MANIFEST)
    _fsync(dest)
    return manifest


def _run(command: list[str], name: str) -> None:
    try:
        result = subprocess.run(command, capture_output=True, text=True, check=False)
    except OSError as exc:
        raise BackupError(f"{name} could not run: {exc}") from exc
    if result.returncode != 0:
        raise BackupError(f"{name} failed: {result.stderr.strip() or result.returncode}")


# -- reading a backup ----------------------------------------------------------------------


def _safe_path(value: Any) -> str:
    if not isinstance(value, str) or not value:
        raise BackupError("the manifest is malformed: a file has no path")
    path = PurePosixPath(value)
    if path.is_absolute() or ".." in path.parts or "\\" in value or path.parts[0] == MANIFEST:
        raise BackupError(f"the manifest is malformed: unsafe path {value!r}")
    return path.as_posix()


def read_manifest(backup: Path) -> Manifest:
    path = backup / MANIFEST
    if not path.is_file():
        raise BackupError(
            f"{backup} holds no {MANIFEST}: not a Parvis backup, or an unfinished one"
        )
    try:
        doc = json.loads(path.read_text(encoding="utf-8"))
        if doc.get("format") != FORMAT:
            raise BackupError(f"{path} is not the manifest of a Parvis backup")
        if not isinstance(doc.get("version"), int) or doc["version"] > VERSION:
            raise BackupError("this backup was made by a newer Parvis: upgrade Parvis first")
        files = tuple(
            Entry(_safe_path(f["path"]), int(f["size"]), str(f["sha256"])) for f in doc["files"]
        )
        database = doc["database"]
        manifest = Manifest(
            backend=str(database["backend"]),
            database=_safe_path(database["path"]),
            created_at=str(doc.get("created_at", "")),
            parvis_version=str(doc.get("parvis_version", "")),
            revision=doc.get("schema_revision"),
            files=files,
        )
    except (ValueError, KeyError, TypeError, AttributeError) as exc:
        raise BackupError(f"the manifest is malformed: {exc}") from None
    if manifest.backend not in ("sqlite", "postgresql"):
        raise BackupError(f"unknown database backend in the manifest: {manifest.backend!r}")
    if manifest.database not in {e.path for e in files}:
        raise BackupError("the manifest is malformed: the database file is not listed")
    return manifest


def _damaged(entry: Entry, what: str) -> BackupError:
    return BackupError(
        f"{entry.path} {what}: the backup is damaged or was altered; nothing was restored"
    )


def verify(backup: Path, progress: Progress = _quiet) -> Manifest:
    """Check every file of a backup against its manifest (BackupError on the first mismatch)."""
    manifest = read_manifest(backup)
    done, total = 0, manifest.total_bytes

    def advance(n: int) -> None:
        nonlocal done
        done += n
        progress("verify", done, total)

    for entry in manifest.files:
        path = backup / entry.path
        if not path.is_file():
            raise _damaged(entry, "is missing")
        size, digest = _hash_file(path, advance)
        if (size, digest) != (entry.size, entry.sha256):
            raise _damaged(entry, "does not match its checksum")
    return manifest


# -- restore -----------------------------------------------------------------------------


def _postgres_has_tables(database_url: str) -> bool:
    engine = create_engine(database_url)
    try:
        with engine.connect() as conn:
            count = conn.execute(
                text(
                    "SELECT count(*) FROM information_schema.tables "
                    "WHERE table_schema = current_schema()"
                )
            ).scalar_one()
    finally:
        engine.dispose()
    return int(count) > 0


def _clear(directory: Path) -> None:
    for entry in directory.iterdir():
        if entry.is_dir() and not entry.is_symlink():
            shutil.rmtree(entry)
        else:
            entry.unlink()


def restore(
    backup: Path,
    data_dir: Path,
    database_url: str,
    *,
    force: bool = False,
    progress: Progress = _quiet,
) -> Manifest:
    """Restore a backup into `data_dir` and the database of `database_url` (both empty, unless
    `force`: then what they hold is replaced). Migrations are the caller's next step."""
    backup, data_dir = backup.resolve(), data_dir.resolve()
    manifest = read_manifest(backup)
    backend = backend_of(database_url)
    if manifest.backend != backend:
        raise BackupError(
            f"the backup holds a {manifest.backend} database, but this server is configured "
            f"for {backend} (DATABASE_URL): restore it with the same kind of database"
        )
    db_file = sqlite_path(database_url) if backend == "sqlite" else None
    if not force:
        if not _empty(data_dir):
            raise BackupError(
                f"{data_dir} is not empty: restore into an empty data directory "
                "(or add --force to replace what it holds)"
            )
        if db_file is not None and db_file.exists():
            raise BackupError(f"{db_file} exists: add --force to replace it")
        if backend == "postgresql" and _postgres_has_tables(database_url):
            raise BackupError(
                "the PostgreSQL database already holds tables: restore into an empty database "
                "(or add --force to replace them)"
            )
    if backend == "postgresql":
        _tool("pg_restore")
    token = secrets.token_hex(6)
    staging = data_dir.parent / f".{data_dir.name}.restore-{token}"
    # The database file is staged with the data directory when it lives inside it (the
    # default), else beside its own place.
    db_staged: Path | None = None
    db_outside = False
    if db_file is not None:
        if data_dir in db_file.parents:
            db_staged = staging / db_file.relative_to(data_dir)
        else:
            db_staged, db_outside = db_file.with_name(f".{db_file.name}.restore-{token}"), True
    done, total = 0, manifest.total_bytes

    def advance(n: int) -> None:
        nonlocal done
        done += n
        progress("verify", done, total)

    staging.mkdir(parents=True)
    written: list[Path] = []
    try:
        for entry in manifest.files:
            source = backup / entry.path
            if not source.is_file():
                raise _damaged(entry, "is missing")
            if entry.path == manifest.database and db_staged is not None:
                db_staged.parent.mkdir(parents=True, exist_ok=True)
                size, digest = _copy_hashing(source, db_staged, advance)
                written.append(db_staged)
            elif entry.path.startswith("data/"):
                target = staging / entry.path.removeprefix("data/")
                size, digest = _copy_hashing(source, target, advance)
                written.append(target)
            else:  # the PostgreSQL dump: checked here, read by pg_restore below
                size, digest = _hash_file(source, advance)
            if (size, digest) != (entry.size, entry.sha256):
                raise _damaged(entry, "does not match its checksum")
        _sync(written)
        # Everything checked and on disk: put it in place.
        data_dir.mkdir(parents=True, exist_ok=True)
        if force:
            _clear(data_dir)
        for entry_path in sorted(staging.iterdir()):
            os.replace(entry_path, data_dir / entry_path.name)
        _fsync(data_dir)
        if db_outside and db_file is not None and db_staged is not None:
            for suffix in ("", *SQLITE_SIDE_FILES):
                db_file.with_name(db_file.name + suffix).unlink(missing_ok=True)
            os.replace(db_staged, db_file)
    except BaseException:
        if db_outside and db_staged is not None:
            db_staged.unlink(missing_ok=True)
        raise
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    if backend == "postgresql":
        progress("database", 0, 0)
        command = [_tool("pg_restore"), "--no-owner", "--no-privileges", "--exit-on-error"]
        if force:
            command += ["--clean", "--if-exists"]
        _run(
            [*command, f"--dbname={libpq_url(database_url)}", str(backup / manifest.database)],
            "pg_restore",
        )
        progress("database", 1, 1)
    return manifest
