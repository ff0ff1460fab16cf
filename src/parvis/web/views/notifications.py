"""Notifications, grouped as Mastodon's grouped notifications v2 group them (favourites and
boosts of one post, follows of one day: "Ann and 3 others favourited your post"), one
sentence per group with the post it is about; the ones after the read marker are shown as new,
and "mark all as read" moves the marker (the same `notifications` marker the client API
uses)."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from parvis.domain.errors import DomainError
from parvis.domain.ids import parse_id
from parvis.services import markers, notifications
from parvis.services.context import Work
from parvis.services.notifications import GroupPage
from parvis.web.pages import back, error_message, form, read, redirect, render, text, visitor, write
from parvis.web.views.timelines import paging


async def page(request: Request) -> Response:
    who = await visitor(request)
    if who.account_id is None:
        return redirect("/login?next=/notifications")
    account_id, wanted = who.account_id, paging(request)

    def load(work: Work) -> tuple[GroupPage, int | None]:
        found = notifications.grouped_page(work, account_id, wanted)
        return found, notifications.read_marker(work, account_id)

    found, last_read = await read(request, load)
    return render(
        request,
        who,
        "notifications.html",
        page=found,
        last_read=last_read or 0,
        first_page=wanted.max_id is None and wanted.min_id is None,
        more=len(found.groups) >= wanted.limit,
    )


async def mark_read(request: Request) -> Response:
    """Everything up to the newest notification shown is read."""
    who = await visitor(request)
    if who.account_id is None:
        return redirect("/login?next=/notifications")
    data = await form(request)
    newest = parse_id(text(data, "last_read_id", limit=20))
    account_id = who.account_id
    if newest is not None:
        try:
            await write(
                request, lambda work: markers.save(work, account_id, {"notifications": newest})
            )
        except DomainError as exc:
            return render(request, who, "error.html", code=exc.status, error=error_message(exc))
    return redirect(back(request, "/notifications"))


routes = [
    Route("/notifications", page, methods=["GET"]),
    Route("/notifications/read", mark_read, methods=["POST"]),
]
