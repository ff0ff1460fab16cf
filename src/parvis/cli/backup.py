"""`parvis backup DIR` and `parvis restore DIR`: move a whole server to another machine.

The backup is taken while the server runs (SQLite: a consistent online copy; PostgreSQL:
`pg_dump`), with the media and the key files of the data directory and a manifest of SHA-256
checksums; restore checks every byte against it before anything is put in place, then runs the
migrations. See parvis/storage/backup.py for how.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.progress import (
    BarColumn,
    Progress,
    TaskID,
    TaskProgressColumn,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)

from parvis.cli import app, console, fail, settings_for

PHASES = {
    "database": "Database",
    "files": "Media and keys",
    "verify": "Check and copy",
}


class _Bars:
    """Rich progress bars, one per phase, fed by the storage layer's progress callback."""

    def __init__(self, progress: Progress) -> None:
        self.progress = progress
        self.tasks: dict[str, TaskID] = {}

    def __call__(self, phase: str, done: int, total: int) -> None:
        if phase not in self.tasks:
            self.tasks[phase] = self.progress.add_task(
                PHASES.get(phase, phase), total=total or None
            )
        self.progress.update(self.tasks[phase], completed=done, total=total or None)


def _progress() -> Progress:
    return Progress(
        TextColumn("{task.description:<15}"),
        BarColumn(),
        TaskProgressColumn(),
        TimeElapsedColumn(),
        TimeRemainingColumn(),
        console=console,
        transient=False,
    )


def _size(n: int) -> str:
    if n < 1024:
        return f"{n:,} bytes"
    value = float(n)
    for unit in ("KiB", "MiB", "GiB", "TiB"):
        value /= 1024
        if value < 1024 or unit == "TiB":
            break
    return f"{value:,.1f} {unit}"


@app.command("backup")
def backup_command(
    ctx: typer.Context,
    directory: Annotated[
        Path,
        typer.Argument(
            help="Where to write the backup: a new or empty directory, outside the data "
            "directory (another disk or machine is best).",
            file_okay=False,
        ),
    ],
) -> None:
    """Back up the whole server (database, media, key files) into DIRECTORY, while it runs.

    SQLite is copied online and consistently (SQLite's backup API in one read snapshot:
    writers are not blocked); PostgreSQL is dumped with pg_dump (its client tools must be
    installed). Every file gets a SHA-256 checksum in DIRECTORY/manifest.json, written last.
    Keep the backup private: it holds the server's secret keys."""
    from parvis import __version__
    from parvis.storage.backup import BackupError, backend_of, create, sqlite_path
    from parvis.storage.database import Database
    from parvis.storage.migrate import current

    settings = settings_for(ctx)
    url = settings.effective_database_url()
    try:
        if backend_of(url) == "sqlite" and not sqlite_path(url).exists():
            raise BackupError(f"no database at {sqlite_path(url)}: nothing to back up")
        db = Database(url)
        try:
            revision = current(db)
        finally:
            db.dispose()
        with _progress() as progress:
            manifest = create(
                settings.data_dir,
                url,
                directory,
                parvis_version=__version__,
                revision=revision,
                progress=_Bars(progress),
            )
    except BackupError as exc:
        raise fail(str(exc)) from None
    console.print(
        f"Backed up {manifest.backend} (schema {revision or '-'}) and "
        f"{len(manifest.files) - 1} files, {_size(manifest.total_bytes)}, into {directory}."
    )


@app.command("restore")
def restore_command(
    ctx: typer.Context,
    directory: Annotated[
        Path,
        typer.Argument(
            help="A backup made by `parvis backup` (the directory holding manifest.json).",
            exists=True,
            file_okay=False,
        ),
    ],
    force: Annotated[
        bool,
        typer.Option(
            "--force",
            help="Restore even if the data directory (or the PostgreSQL database) is not "
            "empty: what it holds is deleted and replaced by the backup.",
        ),
    ] = False,
) -> None:
    """Restore a backup into this server's data directory (--data-dir / PARVIS_DATA_DIR) and
    database (DATABASE_URL), then upgrade the schema to the latest revision.

    Every file is checked against the backup's SHA-256 manifest while it is copied into a
    staging directory; a damaged or altered backup is refused and the target left as it was.
    The target must be empty unless --force is given. Stop the server first."""
    from parvis.storage.backup import BackupError, restore
    from parvis.storage.database import Database
    from parvis.storage.migrate import current, upgrade

    settings = settings_for(ctx)
    url = settings.effective_database_url()
    try:
        with _progress() as progress:
            manifest = restore(
                directory, settings.data_dir, url, force=force, progress=_Bars(progress)
            )
    except BackupError as exc:
        raise fail(str(exc)) from None
    db = Database(url)  # the storage layer only: the server itself need not load for this
    try:
        upgrade(db)
        revision = current(db)
    finally:
        db.dispose()
    console.print(
        f"Restored {len(manifest.files) - 1} files and the {manifest.backend} database "
        f"({_size(manifest.total_bytes)}, backed up {manifest.created_at}) into "
        f"{settings.data_dir}; schema {manifest.revision or '-'} -> {revision}."
    )
