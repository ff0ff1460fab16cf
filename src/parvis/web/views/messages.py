"""End-to-end encrypted messages in the web app (docs/messaging.md, docs/web.md).

The server renders what it knows anyway, the metadata: the conversations and their
participants, this account's devices. Everything that touches a message (keys, encryption,
decryption, safety numbers) happens in the browser, in static/messages.js and static/e2e.js,
which call the `/api/parvis/v1/e2e` routes with the session cookie. Without JavaScript these
pages say plainly that encrypted messages need it: there is no form that would post a
message's text to the server.

These pages, and the export page, load libsodium (WebAssembly): they alone get the
Content-Security-Policy that allows compiling it (`security.CSP_WASM`)."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Any

import anyio
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from parvis.domain.errors import DomainError, NotFound
from parvis.domain.ids import parse_id
from parvis.domain.messaging import MAX_PARTICIPANTS
from parvis.services import accounts, e2e_federation, messaging
from parvis.services.context import Work
from parvis.services.messaging import ConversationView
from parvis.services.timelines import Paging
from parvis.web import i18n, security
from parvis.web.pages import (
    Visitor,
    error_message,
    form,
    read,
    redirect,
    render,
    runtime,
    text,
    visit,
    visitor,
    write,
)

PAGE = 40
_NAMES = re.compile(r"[\s,;]+")


def activity_at(activity_id: int) -> datetime:
    """When a conversation was last active: its latest message's id holds the time."""
    return datetime.fromtimestamp((activity_id >> 16) / 1000, UTC)


def with_wasm(response: Response) -> Response:
    """A page that runs libsodium: its CSP allows WebAssembly (and still no eval, no inline
    script)."""
    response.headers["Content-Security-Policy"] = security.CSP_WASM
    return response


def _page(
    request: Request, who: Visitor, template: str, *, code: int = 200, **ctx: Any
) -> Response:
    return with_wasm(render(request, who, template, code=code, activity_at=activity_at, **ctx))


# -- the list, and starting a conversation -----------------------------------------------------


def _list(work: Work, who: Visitor, max_id: int | None) -> list[ConversationView]:
    assert who.account_id is not None
    return messaging.conversations(work, who.account_id, Paging(max_id=max_id, limit=PAGE))


async def index(request: Request) -> Response:
    max_id = parse_id(request.query_params.get("max_id", ""))

    def load(work: Work, who: Visitor) -> list[ConversationView]:
        return _list(work, who, max_id) if who.signed_in else []

    who, found = await visit(request, load)
    if not who.signed_in:
        return redirect("/login?next=/messages")
    return _page(request, who, "messages.html", conversations=found, people="", error=None)


def _names(value: str) -> list[str]:
    return [n for n in _NAMES.split(value.strip()) if n.strip("@")]


async def start(request: Request) -> Response:
    """'New conversation': the names typed (`@name`, several for a group) become a
    conversation, then its page. No message travels through this form."""
    who = await visitor(request)
    if who.account_id is None:
        return redirect("/login?next=/messages")
    data = await form(request)
    people = text(data, "people", limit=2000)
    names = _names(people)
    account_id = who.account_id
    gettext = i18n.translations(who.locale).gettext

    def resolve(work: Work) -> list[int] | str:
        """The accounts named, or what is wrong with the names, for the form."""
        if not names:
            return gettext("Name at least one person, as @name.")
        if len(names) >= MAX_PARTICIPANTS:
            return gettext("At most %(n)s other people in a conversation.") % {
                "n": MAX_PARTICIPANTS - 1
            }
        ids = []
        for name in names:
            try:
                ids.append(accounts.lookup(work, name).id)
            except NotFound:
                return gettext("No account is called %(name)s here.") % {
                    "name": "@" + name.lstrip("@")
                }
        return ids

    def run(work: Work) -> int | str:
        """The conversation's id, or what is wrong with the names."""
        ids = resolve(work)
        if isinstance(ids, str):
            return ids
        return messaging.start(work, account_id, ids, remote_ok=remote_ok).conversation.id

    # People on other servers may take part when their server runs Parvis (asked outside any
    # transaction: it may take a NodeInfo request).
    named = await read(request, resolve)
    remote_ok = (
        await anyio.to_thread.run_sync(e2e_federation.speakers, runtime(request), named)
        if isinstance(named, list)
        else set()
    )

    try:
        done = await write(request, run)
    except DomainError as exc:
        done, code = error_message(exc), exc.status
    else:
        code = 422
    if isinstance(done, int):
        return redirect(f"/messages/{done}")
    found = await read(request, lambda work: _list(work, who, None))
    return _page(
        request, who, "messages.html", code=code, conversations=found, people=people, error=done
    )


# -- one conversation --------------------------------------------------------------------------


async def conversation(request: Request) -> Response:
    conversation_id = parse_id(request.path_params["id"])

    def load(work: Work, who: Visitor) -> ConversationView | None:
        if who.account_id is None or conversation_id is None:
            return None
        try:
            return messaging.conversation(work, who.account_id, conversation_id)
        except NotFound:
            return None

    who, found = await visit(request, load)
    if not who.signed_in:
        return redirect(f"/login?next=/messages/{request.path_params['id']}")
    if found is None:  # not a participant, or no such conversation: the same answer
        return render(request, who, "not_found.html", code=404)
    others = [a for a in found.participants if a.id != who.account_id]
    return _page(request, who, "messages_conversation.html", view=found, others=others)


# -- Settings → Devices ------------------------------------------------------------------------


async def devices(request: Request) -> Response:
    def load(work: Work, who: Visitor) -> list[Any]:
        return messaging.my_devices(work, who.account_id) if who.account_id else []

    who, found = await visit(request, load)
    if not who.signed_in:
        return redirect("/login?next=/settings/devices")
    return _page(
        request,
        who,
        "settings_devices.html",
        section="devices",
        devices=sorted(found, key=lambda d: (d.revoked_at is not None, d.created_at)),
        saved=request.query_params.get("saved") == "1",
        error=None,
    )


async def revoke(request: Request) -> Response:
    who = await visitor(request)
    if who.account_id is None:
        return redirect("/login?next=/settings/devices")
    await form(request)
    device_id, account_id = parse_id(request.path_params["id"]), who.account_id

    def run(work: Work) -> None:
        if device_id is None:
            raise NotFound("Record not found")
        messaging.revoke_device(work, account_id, device_id)

    try:
        await write(request, run)
    except DomainError as exc:
        found = await read(request, lambda work: messaging.my_devices(work, account_id))
        return _page(
            request,
            who,
            "settings_devices.html",
            code=exc.status,
            section="devices",
            devices=found,
            saved=False,
            error=error_message(exc),
        )
    return redirect("/settings/devices?saved=1")


routes = [
    Route("/messages", index, methods=["GET"]),
    Route("/messages", start, methods=["POST"]),
    Route("/messages/{id}", conversation, methods=["GET"]),
    Route("/settings/devices", devices, methods=["GET"]),
    Route("/settings/devices/{id}/revoke", revoke, methods=["POST"]),
]
