"""Posts: compose (text, content warning, visibility, language, images with alt text, poll,
reply, quote), a post with its thread, the actions on a post (boost, favourite, bookmark, poll
vote), and the author's edit, history and delete pages. Each action is a plain form (works
without JavaScript: it redirects back); with htmx the form swaps the post's card in place."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from urllib.parse import quote

from starlette.datastructures import FormData, UploadFile
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from parvis.domain.errors import DomainError, NotFound
from parvis.domain.ids import parse_id
from parvis.domain.models import Status
from parvis.services import edits, interactions, media, polls, posting, timelines
from parvis.services.context import Work
from parvis.web.pages import (
    Visitor,
    back,
    error_message,
    form,
    read,
    redirect,
    render,
    runtime,
    text,
    visitor,
    write,
)

IMAGE_SLOTS = 4
POLL_SLOTS = 4
POLL_DURATIONS = (300, 1800, 3600, 21600, 86400, 259200, 604800)  # seconds
DEFAULT_POLL_DURATION = 86400


@dataclass(frozen=True)
class Draft:
    """What the compose form held, to show it again when the post was refused."""

    text: str = ""
    spoiler_text: str = ""
    visibility: str = ""
    language: str = ""
    in_reply_to_id: int | None = None
    quoted_status_id: int | None = None
    alts: tuple[str, ...] = ()
    poll_options: tuple[str, ...] = ()
    poll_expires_in: int = DEFAULT_POLL_DURATION
    poll_multiple: bool = False
    had_images: bool = False


def _poll(data: FormData) -> tuple[posting.PollSpec | None, tuple[str, ...], int, bool]:
    options = tuple(
        text(data, f"poll_option_{i}", limit=500).strip() for i in range(1, POLL_SLOTS + 1)
    )
    expires_in = parse_id(text(data, "poll_expires_in", limit=12)) or DEFAULT_POLL_DURATION
    multiple = data.get("poll_multiple") == "on"
    filled = tuple(o for o in options if o)
    spec = posting.PollSpec(filled, expires_in, multiple) if filled else None
    return spec, options, expires_in, multiple


async def _images(data: FormData, limit: int) -> list[tuple[bytes, str]]:
    """The chosen images with their alt text (slots left empty are skipped). Files are read up
    to one byte over the limit (the media service refuses them then), and closed."""
    found = []
    try:
        for i in range(1, IMAGE_SLOTS + 1):
            upload = data.get(f"media_{i}")
            if not isinstance(upload, UploadFile):
                continue
            blob = await upload.read(limit + 1)
            if not blob and not upload.filename:
                continue  # a file input left empty
            found.append((blob, text(data, f"alt_{i}", limit=media.MAX_DESCRIPTION + 1).strip()))
    finally:
        await data.close()
    return found


async def compose_page(request: Request) -> Response:
    """A page of its own for a new post, a reply (`?in_reply_to=`) or a quote (`?quote=`)."""
    who = await visitor(request)
    if who.account_id is None:
        here = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        return redirect(f"/login?next={quote(here, safe='/')}")
    reply_id = parse_id(request.query_params.get("in_reply_to", ""))
    quote_id = parse_id(request.query_params.get("quote", ""))
    draft = Draft(in_reply_to_id=reply_id, quoted_status_id=quote_id)
    return await _compose_form(request, who, draft, None, 200)


async def _compose_form(
    request: Request, who: Visitor, draft: Draft, error: str | None, code: int
) -> Response:
    viewer = who.account_id

    def load(work: Work) -> tuple[Status | None, Status | None]:
        def find(status_id: int | None) -> Status | None:
            if status_id is None:
                return None
            try:
                found = posting.visible_status(work, viewer, status_id)
            except NotFound:
                return None
            return found.reblog or found

        return find(draft.in_reply_to_id), find(draft.quoted_status_id)

    reply_to, quoted = await read(request, load)
    if error is None and (
        (draft.in_reply_to_id is not None and reply_to is None)
        or (draft.quoted_status_id is not None and quoted is None)
    ):
        return render(request, who, "not_found.html", code=404)
    return render(
        request,
        who,
        "compose_page.html",
        code=code,
        error=error,
        draft=draft,
        reply_to=reply_to,
        quoted=quoted,
    )


async def compose(request: Request) -> Response:
    who = await visitor(request)
    if who.account_id is None:
        return redirect("/login?next=/home")
    data = await form(request)
    spec, options, expires_in, multiple = _poll(data)
    images = await _images(data, runtime(request).settings.max_upload_bytes)
    new = posting.NewStatus(
        text=text(data, "status", limit=100_000),
        spoiler_text=text(data, "spoiler_text", limit=10_000),
        visibility=text(data, "visibility", limit=16) or None,
        language=text(data, "language", limit=16) or None,
        in_reply_to_id=parse_id(text(data, "in_reply_to_id", limit=20)),
        quoted_status_id=parse_id(text(data, "quoted_status_id", limit=20)),
        poll=spec,
    )
    account_id, files = who.account_id, runtime(request).files

    def run(work: Work) -> Status:
        # Processing may be left to a job for large images, as POST /api/v2/media does.
        ids = tuple(
            media.upload(
                work,
                files,
                account_id,
                media.Upload(data=blob, description=alt or None),
                allow_async=True,
            ).id
            for blob, alt in images
        )
        return posting.create_status(work, account_id, replace(new, media_ids=ids))

    try:
        status = await write(request, run)
    except DomainError as exc:
        draft = Draft(
            text=new.text,
            spoiler_text=new.spoiler_text,
            visibility=new.visibility or "",
            language=new.language or "",
            in_reply_to_id=new.in_reply_to_id,
            quoted_status_id=new.quoted_status_id,
            alts=tuple(alt for _, alt in images),
            poll_options=options,
            poll_expires_in=expires_in,
            poll_multiple=multiple,
            had_images=bool(images),
        )
        return await _compose_form(request, who, draft, error_message(exc), exc.status)
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


async def _card_or_back(request: Request, who: Visitor, status: Status) -> Response:
    """After an action: the post's card for htmx, else back where the form was."""
    if request.headers.get("hx-request") == "true":
        viewer = who.account_id
        shown = status.reblog or status
        _, flags = await read(request, lambda work: timelines.filtered(work, viewer, [shown], None))
        return render(request, who, "status_card.html", status=shown, flags=flags)
    return redirect(back(request, "/home"))


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
        return render(request, who, "error.html", code=exc.status, error=error_message(exc))
    return await _card_or_back(request, who, status)


async def vote(request: Request) -> Response:
    who = await visitor(request)
    if who.account_id is None:
        return redirect("/login")
    data = await form(request)
    poll_id = parse_id(request.path_params["id"])
    raw = [c for c in data.getlist("choices") if isinstance(c, str)][: POLL_SLOTS * 4]
    choices = [int(c) for c in raw if c.isdigit() and len(c) < 4]
    if poll_id is None:
        return render(request, who, "not_found.html", code=404)
    account_id = who.account_id
    try:
        status = await write(request, lambda work: polls.vote(work, account_id, poll_id, choices))
    except DomainError as exc:
        return render(request, who, "error.html", code=exc.status, error=error_message(exc))
    return await _card_or_back(request, who, status)


# --- the author's pages: edit, history, delete -------------------------------------------------


def _status_id(request: Request) -> int:
    status_id = parse_id(request.path_params["id"])
    if status_id is None:
        raise NotFound("Record not found")
    return status_id


async def _own(request: Request, who: Visitor) -> Status | None:
    account_id = who.account_id
    if account_id is None:
        return None
    try:
        status_id = _status_id(request)
        return await read(request, lambda work: edits.own_status(work, account_id, status_id))
    except NotFound:
        return None


async def edit_page(request: Request) -> Response:
    who = await visitor(request)
    if who.account_id is None:
        return redirect(f"/login?next={request.url.path}")
    status = await _own(request, who)
    if status is None:
        return render(request, who, "not_found.html", code=404)
    return render(request, who, "edit.html", status=status, error=None, values=None)


def _poll_kept(status: Status, now: datetime, lowest: int) -> posting.PollSpec | None:
    """The post's poll as it is: same options, same end (edits.py keeps the end when the options
    do not change; the duration only has to pass validation)."""
    poll = status.poll
    if poll is None:
        return None
    left = int((poll.expires_at - now).total_seconds())
    return posting.PollSpec(poll.options, max(left, lowest), poll.multiple, poll.hide_totals)


async def edit(request: Request) -> Response:
    who = await visitor(request)
    if who.account_id is None:
        return redirect("/login")
    data = await form(request)
    status = await _own(request, who)
    if status is None:
        return render(request, who, "not_found.html", code=404)
    spoiler = text(data, "spoiler_text", limit=10_000)
    alts = {m.id: text(data, f"alt_{m.id}", limit=media.MAX_DESCRIPTION + 1) for m in status.media}
    lowest = runtime(request).settings.poll_min_expiration
    change = edits.StatusChange(
        text=text(data, "status", limit=100_000),
        spoiler_text=spoiler,
        sensitive=status.sensitive if not status.spoiler_text else None,
        language=text(data, "language", limit=16) or None,
        media_ids=tuple(m.id for m in status.media),
        media_attributes=tuple(edits.MediaAttribute(i, description=d) for i, d in alts.items()),
        poll=_poll_kept(status, datetime.now(UTC), lowest),
    )
    account_id = who.account_id
    try:
        edited = await write(
            request, lambda work: edits.edit_status(work, account_id, status.id, change)
        )
    except DomainError as exc:
        values = {
            "text": change.text,
            "spoiler_text": spoiler,
            "language": change.language,
            "alts": alts,
        }
        return render(
            request,
            who,
            "edit.html",
            code=exc.status,
            status=status,
            error=error_message(exc),
            values=values,
        )
    return redirect(f"/@{edited.account.username}/{edited.id}")


async def history(request: Request) -> Response:
    who = await visitor(request)
    viewer = who.account_id

    def load(work: Work) -> tuple[Status, list[edits.Revision]]:
        status = posting.visible_status(work, viewer, _status_id(request))
        if status.reblog is not None:
            raise NotFound("Record not found")
        return status, edits.history(work, status)

    try:
        status, revisions = await read(request, load)
    except NotFound:
        return render(request, who, "not_found.html", code=404)
    return render(request, who, "history.html", status=status, revisions=list(reversed(revisions)))


async def delete_page(request: Request) -> Response:
    who = await visitor(request)
    if who.account_id is None:
        return redirect(f"/login?next={request.url.path}")
    status = await _own(request, who)
    if status is None:
        return render(request, who, "not_found.html", code=404)
    return render(request, who, "delete.html", status=status)


async def delete(request: Request) -> Response:
    who = await visitor(request)
    if who.account_id is None:
        return redirect("/login")
    await form(request)
    account_id = who.account_id
    try:
        status_id = _status_id(request)
        await write(request, lambda work: posting.delete_status(work, account_id, status_id))
    except DomainError as exc:
        return render(request, who, "error.html", code=exc.status, error=error_message(exc))
    return redirect("/home")


routes = [
    Route("/compose", compose_page, methods=["GET"]),
    Route("/statuses", compose, methods=["POST"]),
    Route("/statuses/{id}/edit", edit_page, methods=["GET"]),
    Route("/statuses/{id}/edit", edit, methods=["POST"]),
    Route("/statuses/{id}/history", history, methods=["GET"]),
    Route("/statuses/{id}/delete", delete_page, methods=["GET"]),
    Route("/statuses/{id}/delete", delete, methods=["POST"]),
    Route("/polls/{id}/votes", vote, methods=["POST"]),
    Route("/statuses/{id}/{action}", act, methods=["POST"]),
    Route("/@{username}/{id}", thread, methods=["GET"]),
]
