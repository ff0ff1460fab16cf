"""`parvis transparency submit` (the DSA Transparency Database) and `parvis log verify` (the
public moderation log)."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, TypeVar

import typer
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TaskID,
    TextColumn,
)

from parvis.cli import (
    app,
    console,
    errors,
    fail,
    open_runtime,
    say,
    settings_for,
)

if TYPE_CHECKING:  # kept light: uvicorn's worker processes import this module on start
    pass

T = TypeVar("T")


# --- the DSA Transparency Database ------------------------------------------------------------

transparency_app = typer.Typer(
    help="Statements of reasons sent to the EU DSA Transparency Database (DSA article 24(5)).",
    no_args_is_help=True,
    rich_markup_mode=None,
)
app.add_typer(transparency_app, name="transparency")


@transparency_app.command("submit")
def transparency_submit(
    ctx: typer.Context,
    endpoint: Annotated[
        str | None,
        typer.Option(
            help="The Transparency Database API's base URL (default: PARVIS_TDB_ENDPOINT), "
            "e.g. the sandbox's, then https://transparency.dsa.ec.europa.eu. The API token "
            "is read from PARVIS_TDB_TOKEN only (never on the command line)."
        ),
    ] = None,
    batch_size: Annotated[
        int, typer.Option(help="Statements per call (the database takes 100 at most).", min=1)
    ] = 100,
    attempts: Annotated[
        int,
        typer.Option(help="Tries per batch, with exponential backoff, before stopping.", min=1),
    ] = 4,
) -> None:
    """Send the statements of reasons of every restriction not yet in the DSA Transparency
    Database. Safe to run at any time: a statement is never sent twice. The server does the
    same every 10 minutes when PARVIS_TDB_ENDPOINT is set. Exits with 1 when the database
    could not be reached or refused a statement (each refusal is printed with its reasons)."""
    from parvis.services import statements

    settings = settings_for(ctx)
    url = endpoint or settings.tdb_endpoint
    if not url:
        raise fail("no Transparency Database endpoint: set PARVIS_TDB_ENDPOINT or --endpoint")
    if batch_size > statements.BATCH:
        raise fail(f"--batch-size: the database takes {statements.BATCH} statements at most")
    columns = (TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn())
    with open_runtime(ctx) as runtime:
        total = runtime.read(lambda work: work.store.statements.count_unsubmitted())
        with (
            statements.TdbClient(url, settings.tdb_token) as client,
            Progress(*columns, console=console) as progress,
        ):
            task = progress.add_task("statements of reasons", total=total)
            report = statements.submit_pending(
                runtime,
                client,
                batch_size=batch_size,
                attempts=attempts,
                progress=lambda n: progress.advance(task, n),
            )
    console.print(
        f"{report.submitted} submitted, {report.already} already stored, "
        f"{len(report.refused)} refused."
    )
    for puid, problems in report.refused.items():
        errors.print(f"refused {puid}: {'; '.join(problems)}", markup=False, highlight=False)
    if report.error:
        raise fail(f"{report.error}; {report.left} left for the next run")
    if report.refused:
        raise typer.Exit(code=1)


# --- the public moderation log ----------------------------------------------------------------

log_app = typer.Typer(
    help="The public moderation log: check that a server never rewrote its history.",
    no_args_is_help=True,
    rich_markup_mode=None,
)
app.add_typer(log_app, name="log")

# The HTTP transport `log verify` uses (None: the network). Tests point it at an in-process app.
log_transport: Any = None


@log_app.command("verify")
def log_verify(
    url: Annotated[
        str, typer.Argument(help="The Parvis server's address, e.g. https://parvis.example")
    ],
    state: Annotated[
        Path | None,
        typer.Option(
            help="Where to remember the last verified checkpoint "
            "(default ~/.cache/parvis/log-<host>.json).",
            dir_okay=False,
        ),
    ] = None,
    key: Annotated[
        str | None,
        typer.Option(
            help="Pin the log's public key (as the server publishes it: "
            "<origin>+<key id>+<base64 key>, or 32 bytes in base64) instead of trusting the "
            "key first seen."
        ),
    ] = None,
) -> None:
    """Download a server's public moderation log and prove that no past entry was altered,
    reordered or removed: every checkpoint is signed by the log's key and extends the one
    before it, the entries rebuild every signed root, and the log extends the one verified on
    the previous run (remembered in the state file; the key is trusted on first use unless
    --key pins it). Exits with 0 when the log verifies, 1 with the reason otherwise."""
    from urllib.parse import urlsplit

    from parvis.services import transparency_log_verify as audit

    if urlsplit(url).scheme not in ("http", "https") or not urlsplit(url).netloc:
        raise fail(f"{url!r} is not a server address (https://host)")
    path = state or audit.default_state_path(url)
    columns = (TextColumn("{task.description:<12}"), BarColumn(), MofNCompleteColumn())
    with Progress(*columns, console=console, transient=True) as progress:
        tasks: dict[str, TaskID] = {}

        def advance(phase: str, done: int, total: int) -> None:
            if phase not in tasks:
                tasks[phase] = progress.add_task(phase, total=total)
            progress.update(tasks[phase], completed=done, total=total)

        try:
            report = audit.verify(url, path, key=key, transport=log_transport, progress=advance)
        except audit.VerifyFailed as exc:
            raise fail(f"the moderation log of {url} does not verify: {exc}") from None
    say(
        f"Verified {report.origin}: {report.tree_size} entries, {report.checkpoints} signed "
        f"checkpoints, root {report.root_hash}."
    )
    if report.previous is not None:
        say(
            f"It extends the log of {report.previous.tree_size} entries verified on "
            f"{report.previous.verified_at}."
        )
    if report.trusted_on_first_use:
        say(
            f"First verification: the key {report.public_key} is trusted from now on "
            f"(remembered in {path}). Compare it with the one the operator publishes."
        )
