"""`parvis domains`: the operator's blocks of other servers (suspend, limit, reject media or
reports), as Mastodon's domain blocks."""

from __future__ import annotations

from enum import StrEnum
from typing import TYPE_CHECKING, Annotated, Any

import typer

from parvis.cli import app, say, when, write_use_case

if TYPE_CHECKING:  # kept light: uvicorn's worker processes import this module on start
    from parvis.services.context import Work

domains_app = typer.Typer(
    help="Block other servers: suspend them, limit them, or refuse their media or reports.",
    no_args_is_help=True,
    rich_markup_mode=None,
)
app.add_typer(domains_app, name="domains")


class Severity(StrEnum):
    suspend = "suspend"
    limit = "limit"
    noop = "noop"


@domains_app.command("block")
def domains_block(
    ctx: typer.Context,
    domain: Annotated[
        str, typer.Argument(help="The domain to block (its subdomains are blocked too).")
    ],
    severity: Annotated[
        Severity,
        typer.Option(
            help="suspend: refuse everything from it and cut every follow; limit: its posts "
            "stay out of public timelines and trends; noop: only the flags below."
        ),
    ] = Severity.suspend,
    reject_media: Annotated[
        bool, typer.Option("--reject-media", help="Store its posts without their attachments.")
    ] = False,
    reject_reports: Annotated[
        bool, typer.Option("--reject-reports", help="Ignore the reports (Flags) it sends.")
    ] = False,
    public_comment: Annotated[
        str, typer.Option(help="Why, as shown to the public (the about page).")
    ] = "",
    private_comment: Annotated[str, typer.Option(help="A note for the other moderators.")] = "",
) -> None:
    """Block a domain, or change how it is blocked."""
    from parvis.services import domain_policy

    def run(work: Work) -> Any:
        return domain_policy.block(
            work,
            domain,
            severity.value,
            reject_media=reject_media,
            reject_reports=reject_reports,
            public_comment=public_comment,
            private_comment=private_comment,
        )

    found = write_use_case(ctx, run)
    say(f"Blocked {found.domain}: {_describe(found)}.")


@domains_app.command("unblock")
def domains_unblock(
    ctx: typer.Context,
    domain: Annotated[str, typer.Argument(help="The blocked domain, as `domains list` shows it.")],
) -> None:
    """Lift a domain block (a suspension lifts the suspensions it made; follows stay cut)."""
    from parvis.services import domain_policy

    found = write_use_case(ctx, lambda work: domain_policy.unblock(work, domain))
    say(f"Unblocked {found.domain}.")


@domains_app.command("list")
def domains_list(ctx: typer.Context) -> None:
    """List the blocked domains with their severity, flags and comments."""
    from parvis.services import domain_policy

    found = write_use_case(ctx, domain_policy.every)
    if not found:
        say("No domain is blocked.")
    for block in found:
        line = f"{block.domain}  {_describe(block)}  since {when(block.created_at)}"
        if block.public_comment:
            line += f"  public: {block.public_comment}"
        if block.private_comment:
            line += f"  private: {block.private_comment}"
        say(line)


def _describe(block: Any) -> str:
    flags = [block.severity]
    if block.reject_media:
        flags.append("reject media")
    if block.reject_reports:
        flags.append("reject reports")
    return ", ".join(flags)
