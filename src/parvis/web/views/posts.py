"""Posts: compose, a post with its thread, and the actions on a post (boost, favourite,
bookmark). Each action is a plain form (works without JavaScript: it redirects back); with
htmx the form swaps the post's card in place."""

from __future__ import annotations

from collections.abc import Callable

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from parvis.domain.errors import DomainError, NotFound
from parvis.domain.ids import parse_id
from parvis.domain.models import Status
from parvis.services import interactions, posting, timelines
from parvis.services.context import Work
from parvis.web.pages import back, form, read, redirect, render, text, visitor, write


async def compose(request: Request) -> Response:
    who = await visitor(request)
    if who.account_id is None:
        return redirect("/login?next=/home")
    data = await form(request)
    reply_to = parse_id(text(data, "in_reply_to_id", limit=20))
    new = posting.NewStatus(
        text=text(data, "status", limit=100_000),
        spoiler_text=text(data, "spoiler_text", limit=10_000),
        visibility=text(data, "visibility", limit=16) or None,
        language=text(data, "language", limit=16) or None,
        in_reply_to_id=reply_to,
    )
    account_id = who.account_id
    try:
        status = await write(request, lambda work: posting.create_status(work, account_id, new))
    except DomainError as exc:
        return render(
            request, who, "compose_error.html", code=exc.status, error=exc.message, draft=new
        )
    return redirect(back(request, f"/@{status.account.username}/{status.id}"))


async def thread(request: Request) -> Response:
    who = await visitor(request)
    status_id = parse_id(request.path_params["id"])
    viewer = who.account_id

    def load(work: Work) -> tuple[Status, timelines.Context]:
        if status_id is None:
            raise NotFound("Record not found")
        status = posting.visible_status(work, viewer, status_id)
        return status, timelines.context(work, viewer, status_id)

    try:
        status, ctx = await read(request, load)
    except NotFound:
        return render(request, who, "not_found.html", code=404)
    if status.account.username != request.path_params["username"]:
        return redirect(f"/@{status.account.username}/{status.id}")
    _, flags = await read(request, lambda work: timelines.filtered(work, viewer, [status], None))
    return render(request, who, "thread.html", status=status, flags=flags, context=ctx, page=None)


ACTIONS: dict[str, Callable[[Work, int, int], Status]] = {
    "favourite": interactions.favourite,
    "unfavourite": interactions.unfavourite,
    "bookmark": interactions.bookmark,
    "unbookmark": interactions.unbookmark,
    "reblog": posting.reblog,
    "unreblog": posting.unreblog,
}


async def act(request: Request) -> Response:
    who = await visitor(request)
    if who.account_id is None:
        return redirect("/login")
    await form(request)
    action = ACTIONS.get(request.path_params["action"])
    status_id = parse_id(request.path_params["id"])
    if action is None or status_id is None:
        return render(request, who, "not_found.html", code=404)
    account_id = who.account_id

    def run(work: Work) -> Status:
        return action(work, account_id, status_id)

    try:
        status = await write(request, run)
    except DomainError as exc:
        return render(request, who, "error.html", code=exc.status, error=exc.message)
    if request.headers.get("hx-request") == "true":
        shown = status.reblog or status
        _, flags = await read(
            request, lambda work: timelines.filtered(work, account_id, [shown], None)
        )
        return render(request, who, "status_card.html", status=shown, flags=flags)
    return redirect(back(request, "/home"))


routes = [
    Route("/statuses", compose, methods=["POST"]),
    Route("/statuses/{id}/{action}", act, methods=["POST"]),
    Route("/@{username}/{id}", thread, methods=["GET"]),
]
