"""`parvis feeds`: the ranked feeds (issue 7) — list them, print their documentation, replay a
served ranking from its logged inputs, recompute the viewpoints behind the bridging feed."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated, Any

import typer

from parvis.cli import account_of, app, console, open_runtime, parse_moment, say, when

if TYPE_CHECKING:  # kept light: uvicorn's worker processes import this module on start
    from parvis.services.context import Work

feeds_app = typer.Typer(
    help="The ranked feeds (For you, bridging): their documentation, replaying what was "
    "served, the viewpoints behind the bridging feed.",
    no_args_is_help=True,
    rich_markup_mode=None,
)
app.add_typer(feeds_app, name="feeds")

SHOWN_DIFFERENCES = 10


@feeds_app.command("list")
def feeds_list() -> None:
    """List the ranked feeds with their versions and how many parameters each has."""
    from parvis.services import feeds

    for feed in feeds.catalogue():
        say(
            f"{feed.name}  version {feed.version}  {len(feed.all_parameters())} parameters  "
            f"{feed.title}"
        )


@feeds_app.command("document")
def feeds_document() -> None:
    """Print docs/algorithm.md, generated from the running code
    (`parvis feeds document > docs/algorithm.md`)."""
    from parvis.domain.feeds.document import markdown

    typer.echo(markdown())  # tests/domain/test_algorithm_document.py reads it so


def _assignment(value: str) -> tuple[str, float]:
    name, sep, number = value.partition("=")
    try:
        if not sep or not name.strip():
            raise ValueError
        return name.strip(), float(number)
    except ValueError:
        raise typer.BadParameter(f"expected name=number, not {value!r}") from None


@feeds_app.command("replay")
def feeds_replay(
    ctx: typer.Context,
    user: Annotated[str, typer.Argument(help="The user: username or @username.")],
    time: Annotated[
        str | None,
        typer.Argument(
            help="The moment (ISO 8601; UTC unless a zone is given): the latest ranking served "
            "to the user at or before it is replayed. Default: now."
        ),
    ] = None,
    overrides: Annotated[
        list[str] | None,
        typer.Option(
            "--set",
            help="Replay with this parameter changed, as name=value (repeatable): what the "
            "ranking would have been.",
        ),
    ] = None,
) -> None:
    """Recompute a served ranking from its logged inputs with the running code and compare
    it with what was served. Exit code 0: it matches; 1: it differs; 2: nothing to replay."""
    from datetime import UTC, datetime

    from parvis.domain.errors import DomainError
    from parvis.services import feeds

    moment = parse_moment(time, "TIME") or datetime.now(UTC)
    changed = dict(_assignment(v) for v in overrides or [])

    def run(work: Work) -> Any:
        return feeds.replay(work, account_of(work, user), moment, overrides=changed)

    with open_runtime(ctx) as runtime:
        try:
            found = runtime.read(run)
        except DomainError as exc:
            say(f"Nothing to replay: {exc.message}")
            raise typer.Exit(code=2) from None
    say(
        f"feed {found.feed}, version {found.version}, served {when(found.served_at)} "
        f"(log entry {found.served_id})"
    )
    if found.note:
        say(f"note: {found.note}")
    if changed:
        say("with " + ", ".join(f"{k}={v:g}" for k, v in changed.items()))
    if found.matches:
        say(f"matches: the {len(found.served)} served posts are recomputed in the same order")
        return
    first = found.first_difference or 1
    say(
        f"MISMATCH from rank {first}: {len(found.served)} posts served, "
        f"{len(found.recomputed)} recomputed"
    )
    say(f"{'rank':>4}  {'served':>20}  {'recomputed':>20}")
    for rank in range(first, first + SHOWN_DIFFERENCES):
        served = _at(found.served, rank)
        again = _at(found.recomputed, rank)
        if served == again == "-":
            break
        say(f"{rank:>4}  {served:>20}  {again:>20}")
    raise typer.Exit(code=1)


def _at(ids: list[int], rank: int) -> str:
    return str(ids[rank - 1]) if rank <= len(ids) else "-"


@feeds_app.command("viewpoints")
def feeds_viewpoints(ctx: typer.Context) -> None:
    """Recompute now what the bridging feed rests on (every 15 minutes otherwise): each
    active account's viewpoint and each recent post's sides."""
    from parvis.services import feeds

    with (
        open_runtime(ctx) as runtime,
        console.status("Recomputing viewpoints from the last 30 days of favourites and boosts…"),
    ):
        accounts, posts = runtime.write(feeds.recompute_viewpoints)
    say(f"{accounts} accounts have a viewpoint; {posts} recent posts have sides.")
