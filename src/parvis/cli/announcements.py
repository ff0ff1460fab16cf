"""`parvis announce` and `parvis announcement`: server announcements."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated, TypeVar

import typer

from parvis.cli import (
    app,
    console,
    parse_moment,
    write_use_case,
)

if TYPE_CHECKING:  # kept light: uvicorn's worker processes import this module on start
    pass

T = TypeVar("T")


# --- announcements ----------------------------------------------------------------------------

announcement_app = typer.Typer(
    help="List and delete the announcements users see (publish them with `parvis announce`).",
    no_args_is_help=True,
    rich_markup_mode=None,
)
app.add_typer(announcement_app, name="announcement")


@app.command("announce")
def announce(
    ctx: typer.Context,
    text: Annotated[
        str, typer.Argument(help="The announcement, as plain text (links, @mentions, #tags).")
    ],
    starts: Annotated[
        str | None,
        typer.Option(help="When the announced event starts (ISO 8601, UTC unless a zone)."),
    ] = None,
    ends: Annotated[
        str | None,
        typer.Option(help="When it ends; the announcement is hidden afterwards (ISO 8601)."),
    ] = None,
    all_day: Annotated[
        bool,
        typer.Option("--all-day", help="The event lasts whole days (needs --starts and --ends)."),
    ] = False,
) -> None:
    """Publish an announcement to every user of this server."""
    from parvis.services import announcements

    starts_at, ends_at = parse_moment(starts, "--starts"), parse_moment(ends, "--ends")
    aid = write_use_case(
        ctx,
        lambda work: announcements.publish(
            work, text, starts_at=starts_at, ends_at=ends_at, all_day=all_day
        ),
    )
    console.print(f"Published announcement {aid}.")


@announcement_app.command("list")
def announcement_list(ctx: typer.Context) -> None:
    """List every announcement, the newest first, with its reactions."""
    from parvis.services import announcements

    found = write_use_case(ctx, announcements.every)
    if not found:
        console.print("No announcements.")
    for a in found:
        when = " ".join(
            part
            for part in (
                f"from {a.starts_at.isoformat()}" if a.starts_at else "",
                f"until {a.ends_at.isoformat()}" if a.ends_at else "",
                "(all day)" if a.all_day else "",
            )
            if part
        )
        reactions = " ".join(f"{r.name} {r.count}" for r in a.reactions)
        console.print(
            f"{a.id}  published {a.published_at:%Y-%m-%d %H:%M} UTC  {when}  {reactions}".rstrip(),
            markup=False,
            highlight=False,
            soft_wrap=True,
        )
        console.print(f"    {a.text}", markup=False, highlight=False, soft_wrap=True)


@announcement_app.command("delete")
def announcement_delete(
    ctx: typer.Context,
    announcement_id: Annotated[int, typer.Argument(help="The id shown by `announcement list`.")],
) -> None:
    """Delete an announcement (with its reactions and who read it)."""
    from parvis.services import announcements

    write_use_case(ctx, lambda work: announcements.remove(work, announcement_id))
    console.print(f"Deleted announcement {announcement_id}.")
