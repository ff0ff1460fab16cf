"""The `parvis` command: serve, run the job worker, migrate; and, in the modules of this
package, users, seeding test networks, announcements, the moderation registers, the interface
catalogues, the Transparency Database and the public moderation log.

Each command is a thin typer function whose help text is the operator's documentation.
Commands import what they need inside their bodies, on purpose: `parvis --help` stays instant,
and the processes uvicorn spawns for `serve --workers N` (which re-import this module) do not
load the whole server twice.

Settings come from the environment (PARVIS_*, DATABASE_URL, REDIS_URL, or a .env file), like the
server's; `--data-dir` overrides PARVIS_DATA_DIR for every command.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, TypeVar

import typer
from rich.console import Console

from parvis.config import Settings
from parvis.domain.errors import DomainError

if TYPE_CHECKING:  # kept light: uvicorn's worker processes import this module on start
    from parvis.services.context import Work

T = TypeVar("T")

app = typer.Typer(
    name="parvis",
    help="Parvis: a public square on the fediverse. Run the server and administer it.",
    no_args_is_help=True,
    add_completion=False,
    rich_markup_mode=None,
)

console = Console()
errors = Console(stderr=True)


@app.callback()
def _root(
    ctx: typer.Context,
    data_dir: Annotated[
        Path | None,
        typer.Option(
            "--data-dir",
            help="Where the SQLite database, media and job queue live "
            "(overrides PARVIS_DATA_DIR; default ./data).",
            file_okay=False,
        ),
    ] = None,
) -> None:
    """Parvis: a public square on the fediverse. Run the server and administer it."""
    ctx.obj = {"data_dir": data_dir}


def settings_for(ctx: typer.Context, **overrides: Any) -> Settings:
    """Settings from the environment, with --data-dir and `overrides` on top."""
    values: dict[str, Any] = {}
    root = ctx.find_root().obj or {}
    if root.get("data_dir") is not None:
        values["data_dir"] = root["data_dir"]
    values.update(overrides)
    return Settings(**values)


def fail(message: str) -> typer.Exit:
    errors.print(f"Error: {message}", markup=False, highlight=False)
    return typer.Exit(code=1)


# --- serve, worker, migrate -----------------------------------------------------------------


@app.command()
def serve(
    ctx: typer.Context,
    host: Annotated[str, typer.Option(help="Interface to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="TCP port to listen on.", min=1, max=65535)] = 8000,
    workers: Annotated[
        int,
        typer.Option(
            help="Server processes. With more than one, the embedded job worker is off: "
            "run `parvis worker` beside them.",
            min=1,
        ),
    ] = 1,
    no_worker: Annotated[
        bool,
        typer.Option(
            "--no-worker",
            help="Do not start the embedded job worker thread (run `parvis worker` instead).",
        ),
    ] = False,
    access_log: Annotated[
        bool,
        typer.Option(
            "--access-log/--no-access-log",
            help="Log every request: method, path and status; never the client's address or "
            "the query string.",
        ),
    ] = True,
    log_level: Annotated[
        str, typer.Option(help="Server log level: critical, error, warning, info, debug.")
    ] = "info",
    proxy_headers: Annotated[
        bool,
        typer.Option(
            "--proxy-headers/--no-proxy-headers",
            help="Trust X-Forwarded-For/-Proto from --forwarded-allow-ips (behind a proxy).",
        ),
    ] = True,
    forwarded_allow_ips: Annotated[
        str, typer.Option(help="Proxies whose X-Forwarded-* headers are trusted.")
    ] = "127.0.0.1",
    worker_start_timeout: Annotated[
        int,
        typer.Option(
            help="With --workers > 1: seconds a server process may take to start or answer "
            "the supervisor's health check before it is restarted.",
            min=1,
        ),
    ] = 30,
) -> None:
    """Run the web server (migrating the database first), with the job worker inside it."""
    import uvicorn

    from parvis.app import build
    from parvis.cli.request_log import logging_config
    from parvis.storage.migrate import current

    settings = settings_for(ctx)
    instance = build(settings, migrate=True)
    revision = current(instance.db)
    instance.close()
    embedded = settings.embedded_worker and not no_worker and not settings.jobs_immediate
    if workers > 1 and embedded:
        embedded = False
        console.print(
            f"{workers} server processes: the embedded job worker is off. "
            "Run `parvis worker` beside them, or background jobs will wait."
        )
    elif not embedded and not settings.jobs_immediate:
        console.print("Embedded job worker off: run `parvis worker` to process background jobs.")
    # The server processes build their own settings from the environment: pass ours on.
    root = ctx.find_root().obj or {}
    if root.get("data_dir") is not None:
        os.environ["PARVIS_DATA_DIR"] = str(Path(root["data_dir"]).resolve())
    os.environ["PARVIS_EMBEDDED_WORKER"] = "true" if embedded else "false"
    console.print(
        f"Parvis on http://{host}:{port} (schema {revision}, {workers} process"
        f"{'es' if workers > 1 else ''}, job worker {'embedded' if embedded else 'separate'})"
    )
    uvicorn.run(
        "parvis.app:create_app",
        factory=True,
        host=host,
        port=port,
        workers=workers,
        access_log=access_log,
        log_config=logging_config(),
        log_level=log_level,
        proxy_headers=proxy_headers,
        forwarded_allow_ips=forwarded_allow_ips,
        timeout_worker_healthcheck=worker_start_timeout,
    )


@app.command()
def worker(
    ctx: typer.Context,
    threads: Annotated[int, typer.Option(help="Worker threads running jobs.", min=1)] = 4,
    log_level: Annotated[
        str, typer.Option(help="Log level: critical, error, warning, info, debug.")
    ] = "info",
) -> None:
    """Run the background job worker (fan-out, notifications, media) until interrupted."""
    import logging

    from parvis.app import build
    from parvis.jobs.queue import POLLING

    logging.basicConfig(
        level=log_level.upper(), format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    settings = settings_for(ctx)
    if settings.jobs_immediate:
        raise fail(
            "PARVIS_JOBS_IMMEDIATE is set: jobs run inline in the server, there is no queue "
            "to work on."
        )
    instance = build(settings)
    if instance.huey is None:
        raise fail("no job queue is configured")
    console.print(f"Parvis job worker: {threads} threads on {type(instance.huey).__name__}.")
    try:
        instance.huey.create_consumer(workers=threads, worker_type="thread", **POLLING).run()
    finally:
        instance.close()


@app.command()
def migrate(
    ctx: typer.Context,
    check: Annotated[
        bool,
        typer.Option(
            "--check",
            help="Only check: exit 0 when the schema is up to date, 1 when migrations are due.",
        ),
    ] = False,
) -> None:
    """Upgrade the database schema to the latest revision (or check whether it is)."""
    from alembic.script import ScriptDirectory

    from parvis.storage.database import Database
    from parvis.storage.migrate import alembic_config, current, upgrade

    settings = settings_for(ctx)
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    db = Database(settings.effective_database_url())
    try:
        head = ScriptDirectory.from_config(alembic_config(db)).get_current_head()
        if check:
            now = current(db)
            if now != head:
                raise fail(
                    f"the schema is at {now or 'nothing'}, the code wants {head}: "
                    "run `parvis migrate`"
                )
            console.print(f"Schema up to date ({now}).")
            return
        before = current(db)
        upgrade(db)
        after = current(db)
        if before == after:
            console.print(f"Schema already up to date ({after}).")
        else:
            console.print(f"Schema upgraded from {before or 'nothing'} to {after}.")
    finally:
        db.dispose()


# --- what every command of the package shares ------------------------------------------


@contextmanager
def open_runtime(ctx: typer.Context, **overrides: Any) -> Iterator[Any]:
    from parvis.app import build

    instance = build(settings_for(ctx, **overrides), migrate=True)
    try:
        yield instance.runtime
    finally:
        instance.close()


def write_use_case(ctx: typer.Context, use_case: Callable[[Work], T], **overrides: Any) -> T:
    with open_runtime(ctx, **overrides) as runtime:
        try:
            result: T = runtime.write(use_case)
        except DomainError as exc:
            raise fail(exc.message) from None
        return result


def account_of(work: Work, username: str) -> int:
    from parvis.domain.errors import NotFound
    from parvis.services import accounts

    try:
        return accounts.lookup(work, username).id
    except NotFound:
        raise NotFound(f"no account named {username!r} on this server") from None


def parse_moment(value: str | None, name: str) -> Any:
    """An ISO 8601 date or date-time; without a zone it is taken as UTC."""
    from datetime import UTC, datetime

    if value is None:
        return None
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        raise fail(f"{name}: not an ISO 8601 date or date-time: {value!r}") from None
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


def say(text: str) -> None:
    console.print(text, markup=False, highlight=False, soft_wrap=True)


def when(moment: Any) -> str:
    return f"{moment:%Y-%m-%d %H:%M} UTC" if moment is not None else "-"


# The command groups register themselves on `app` when imported.
from parvis.cli import (  # noqa: E402
    announcements,
    backup,
    domains,
    federation,
    feeds,
    notes,
    registers,
    seed,
    translations,
    transparency,
    users,
)

__all__ = [
    "announcements",
    "app",
    "backup",
    "domains",
    "federation",
    "feeds",
    "notes",
    "registers",
    "seed",
    "translations",
    "transparency",
    "users",
]


def main() -> None:
    app()
