"""`parvis federation`: the outbound deliveries and the health of remote hosts."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated, Any

import typer

from parvis.cli import app, say, when, write_use_case

if TYPE_CHECKING:  # kept light: uvicorn's worker processes import this module on start
    from parvis.services.context import Work

federation_app = typer.Typer(
    help="Outbound federation: deliveries waiting, done and failed; remote hosts whose "
    "circuit is open or that are dead; retrying them.",
    no_args_is_help=True,
    rich_markup_mode=None,
)
app.add_typer(federation_app, name="federation")


@federation_app.command("deliveries")
def deliveries(
    ctx: typer.Context,
    host: Annotated[str | None, typer.Option(help="Only this host (e.g. mastodon.social).")] = None,
    hosts: Annotated[
        int, typer.Option(help="How many hosts to list, those with the most waiting first.", min=0)
    ] = 20,
    recent: Annotated[
        int,
        typer.Option(
            help="Also show this many of the latest deliveries, with their errors.", min=0
        ),
    ] = 0,
) -> None:
    """How many deliveries are pending, delivered and failed, overall and per host."""

    def run(work: Work) -> Any:
        store = work.store.deliveries
        rows = store.latest(recent, host=host.lower() if host else None) if recent else []
        by_host = store.counts_by_host(100_000 if host else hosts)
        if host:
            by_host = [(h, c) for h, c in by_host if h == host.lower()]
        return store.counts(), by_host, rows

    totals, by_host, rows = write_use_case(ctx, run)
    say(
        f"Deliveries: {totals['pending']} pending, {totals['delivered']} delivered, "
        f"{totals['failed']} failed."
    )
    if by_host:
        width = max(len(h) for h, _ in by_host)
        say(f"{'host':<{width}}  pending  delivered  failed")
        for name, counts in by_host:
            say(
                f"{name:<{width}}  {counts['pending']:>7}  {counts['delivered']:>9}  "
                f"{counts['failed']:>6}"
            )
    for row in rows:
        error = f"  {row.last_error}" if row.last_error else ""
        say(
            f"{row.id}  {row.state:<9}  attempts {row.attempts}  next {when(row.next_attempt_at)}"
            f"  {row.inbox_uri}  {row.activity_uri}{error}"
        )


@federation_app.command("hosts")
def hosts_(ctx: typer.Context) -> None:
    """Remote hosts that are failing: dead ones, those whose circuit is open (skipped for
    now) and those failing without being skipped yet."""

    def run(work: Work) -> Any:
        store = work.store.deliveries
        return [
            (h, store.pending_for_host(h.host)) for h in store.unhealthy_hosts(work.now())
        ], work.now()

    found, now = write_use_case(ctx, run)
    if not found:
        say("Every remote host answers.")
    for h, pending in found:
        if h.dead_at is not None:
            state = f"DEAD since {when(h.dead_at)}"
        elif h.open_until is not None and h.open_until > now:
            state = f"circuit open until {when(h.open_until)}"
        else:
            state = "failing"
        say(
            f"{h.host}  {state}  {h.consecutive_failures} failures in a row since "
            f"{when(h.first_failure_at)}  last success {when(h.last_success_at)}  "
            f"{pending} pending"
        )


@federation_app.command("retry")
def retry(
    ctx: typer.Context,
    host: Annotated[
        str | None,
        typer.Option(help="Only this host; without it, every failed delivery and every host."),
    ] = None,
) -> None:
    """Try failed deliveries again now (the worker sends them within a minute), and take
    the host (or every host) out of the dead list with its circuit closed."""
    from parvis.services import outbox

    count = write_use_case(ctx, lambda work: outbox.retry(work, host))
    target = f"for {host}" if host else "in all"
    say(f"{count} failed deliveries {target} will be tried again.")
