"""`parvis user` (or `parvis users`): local users (create, role, suspend, approve, delete)."""

from __future__ import annotations

from enum import StrEnum
from typing import TYPE_CHECKING, Annotated, TypeVar

import typer

from parvis.cli import (
    account_of,
    app,
    console,
    write_use_case,
)
from parvis.config import RegistrationMode

if TYPE_CHECKING:  # kept light: uvicorn's worker processes import this module on start
    from parvis.services.context import Work

T = TypeVar("T")


user_app = typer.Typer(
    help="Manage local users: create them, change roles, suspend, approve, delete.",
    no_args_is_help=True,
    rich_markup_mode=None,
)
app.add_typer(user_app, name="user")
app.add_typer(user_app, name="users", hidden=True)  # the plural works too


class Role(StrEnum):
    user = "user"
    moderator = "moderator"
    admin = "admin"


@user_app.command("create")
def user_create(
    ctx: typer.Context,
    username: Annotated[str, typer.Argument(help="The new user's name (letters, digits, _).")],
    email: Annotated[str, typer.Argument(help="The new user's e-mail address.")],
    password: Annotated[
        str | None,
        typer.Option(help="The password (8 to 256 characters); asked for when left out."),
    ] = None,
    role: Annotated[Role, typer.Option(help="user, moderator or admin.")] = Role.user,
) -> None:
    """Create a local user, approved and confirmed (whatever the registration mode)."""
    from parvis.services import accounts

    if password is None:
        password = typer.prompt("Password", hide_input=True, confirmation_prompt=True)
    registration = accounts.Registration(
        username=username, email=email, password=password, agreement=True
    )

    def create(work: Work) -> int:
        user = accounts.register(work, registration, role=role.value)
        return user.account_id

    # The command line acts for the administrators: registration mode and e-mail
    # confirmation do not apply.
    account_id = write_use_case(
        ctx, create, registrations=RegistrationMode.OPEN, require_email_confirmation=False
    )
    console.print(f"Created {role.value} {username} (account {account_id}).")


@user_app.command("role")
def user_role(
    ctx: typer.Context,
    username: Annotated[str, typer.Argument(help="A local user's name.")],
    role: Annotated[Role, typer.Argument(help="user, moderator or admin.")],
) -> None:
    """Change a local user's role."""
    from parvis.services import accounts

    write_use_case(
        ctx, lambda work: accounts.set_role(work, account_of(work, username), role.value)
    )
    console.print(f"{username} is now {role.value}.")


@user_app.command("suspend")
def user_suspend(
    ctx: typer.Context,
    username: Annotated[str, typer.Argument(help="A local user's name.")],
) -> None:
    """Suspend an account: it can no longer sign in, and its tokens are revoked."""
    from parvis.services import accounts

    write_use_case(ctx, lambda work: accounts.set_suspended(work, account_of(work, username), True))
    console.print(f"{username} is suspended.")


@user_app.command("unsuspend")
def user_unsuspend(
    ctx: typer.Context,
    username: Annotated[str, typer.Argument(help="A local user's name.")],
) -> None:
    """Lift an account's suspension."""
    from parvis.services import accounts

    write_use_case(
        ctx, lambda work: accounts.set_suspended(work, account_of(work, username), False)
    )
    console.print(f"{username} is no longer suspended.")


@user_app.command("approve")
def user_approve(
    ctx: typer.Context,
    username: Annotated[str, typer.Argument(help="A local user's name.")],
) -> None:
    """Approve a sign-up waiting for the moderators (approval mode)."""
    from parvis.services import accounts

    write_use_case(ctx, lambda work: accounts.approve(work, account_of(work, username)))
    console.print(f"{username} is approved.")


@user_app.command("delete")
def user_delete(
    ctx: typer.Context,
    username: Annotated[str, typer.Argument(help="A local user's name.")],
    now: Annotated[
        bool,
        typer.Option(
            "--now",
            help="No grace period: erased at the next run of the erase_accounts job "
            "(every 5 minutes) instead of after PARVIS_ACCOUNT_DELETION_GRACE_DAYS.",
        ),
    ] = False,
) -> None:
    """Delete a local account, as its user can from Settings: it is closed at once (hidden,
    signed out everywhere, unable to post) and erased when the grace period ends, with a
    Delete sent to the servers that know it. `parvis user undelete` cancels until then."""
    from parvis.services import deletion

    when = write_use_case(ctx, lambda work: deletion.schedule(work, username, now=now))
    console.print(f"{username} is closed and will be erased after {when:%Y-%m-%d %H:%M} UTC.")


@user_app.command("undelete")
def user_undelete(
    ctx: typer.Context,
    username: Annotated[str, typer.Argument(help="A local user's name.")],
) -> None:
    """Cancel a pending deletion (during the grace period): the account is open again."""
    from parvis.services import deletion

    write_use_case(ctx, lambda work: deletion.unschedule(work, username))
    console.print(f"{username} will not be deleted; the account is open again.")
