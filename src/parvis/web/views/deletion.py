"""Deleting one's account (Settings → Account), and the way back during the grace period.

Asking (password required) closes the account at once and signs every browser and app out
(services/deletion.py). The page that answers, and the one a closed account gets when it signs
in again with its password, says when the account will be erased and holds the button that
cancels: the form carries a one-hour ticket instead of a session (a closed account has none),
as a suspended author's statement page does. Cancelling opens the account and signs in.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from parvis.domain.errors import DomainError
from parvis.services import deletion, oauth, sessions
from parvis.services.context import Work
from parvis.web import i18n
from parvis.web.pages import (
    error_message,
    form,
    redirect,
    render,
    runtime,
    set_session,
    text,
    visitor,
    write,
)


def page_context(request: Request) -> dict[str, Any]:
    """What the "Delete my account" part of Settings → Account shows: the grace period and
    when an account asked to be deleted now would be erased."""
    settings = runtime(request).settings
    days = settings.account_deletion_grace_days
    return {"grace_days": days, "deletion_date": datetime.now(UTC) + timedelta(days=days)}


async def closed_page(
    request: Request, ticket: str, delete_after: datetime, *, code: int = 200
) -> Response:
    """The page of a closed account: "Your account will be erased on DATE", and the button
    that cancels."""
    response = render(
        request,
        await visitor(request),
        "account_closed.html",
        code=code,
        ticket=ticket,
        delete_after=delete_after,
    )
    set_session(response, request, None)  # whatever session this browser had is over
    return response


async def request_deletion(request: Request) -> Response:
    who = await visitor(request)
    if who.account_id is None:
        return redirect("/login?next=/settings/account")
    data = await form(request)
    password = text(data, "password", limit=1024)
    account_id = who.account_id

    def run(work: Work) -> tuple[str, datetime]:
        when = deletion.request(work, account_id, password, keep_token=None)
        return deletion.ticket_for(work, account_id), when

    try:
        ticket, when = await write(request, run)
    except DomainError as exc:
        return render(
            request,
            who,
            "settings_account.html",
            code=exc.status,
            section="account",
            saved=False,
            error=None,
            deletion_error=error_message(exc),
            **page_context(request),
        )
    return await closed_page(request, ticket, when)


async def cancel(request: Request) -> Response:
    """Cancel with the ticket: the account is open again, and this browser signed in."""
    data = await form(request)
    ticket = text(data, "ticket", limit=200)

    def run(work: Work) -> str | None:
        account_id = deletion.ticket_account(work, ticket)
        if account_id is None:
            return None
        deletion.cancel(work, account_id)
        return oauth.issue_token(work, None, account_id, sessions.WEB_SCOPES).access_token

    try:
        token = await write(request, run)
    except DomainError as exc:
        who = await visitor(request)
        return render(
            request, who, "login.html", code=exc.status, error=error_message(exc), login=""
        )
    if token is None:
        who = await visitor(request)
        message = i18n.translations(who.locale).gettext(
            "This page has expired: sign in again to cancel the deletion."
        )
        return render(request, who, "login.html", code=403, error=message, login="")
    response = redirect("/home")
    set_session(response, request, token)
    return response


routes = [
    Route("/settings/account/delete", request_deletion, methods=["POST"]),
    Route("/account/deletion/cancel", cancel, methods=["POST"]),
]
