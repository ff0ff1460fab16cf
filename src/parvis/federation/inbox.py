"""The inboxes: `POST /users/{name}/inbox` (personal) and `POST /inbox` (shared). Both do the
same (services/inbound_intake.py): an activity is checked, its signature verified, then stored
and processed in the background; the answer is 202 Accepted, also for a re-delivery.

Refusals: 413 when the body is over `federation_max_body` (read no further), 400 when it is not
an activity, 401 when the signature is missing or wrong, 403 when its server is suspended here,
404 for a personal inbox nobody has. Nothing is stored, and nothing fetched, before the checks
that can be made without the network have passed.
"""

from __future__ import annotations

from functools import partial

import anyio.to_thread
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from parvis.domain.errors import DomainError
from parvis.federation.discovery import error_response, read, runtime
from parvis.services import actors, inbound_intake


class TooLarge(Exception):
    pass


async def _body(request: Request, cap: int) -> bytes:
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > cap:
        raise TooLarge
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > cap:
            raise TooLarge
        chunks.append(chunk)
    return b"".join(chunks)


def _url(request: Request) -> str:
    """The URL the sender signed: our public base URL, then the path and query as sent."""
    base = runtime(request).settings.base_url
    raw = request.scope.get("raw_path")
    path = raw.decode("latin-1") if isinstance(raw, bytes) else request.url.path
    query = request.scope.get("query_string", b"").decode("latin-1")
    return f"{base}{path}" + (f"?{query}" if query else "")


async def _receive(request: Request) -> Response:
    rt = runtime(request)
    if not rt.settings.federation_enabled:
        return Response(status_code=404)
    try:
        body = await _body(request, rt.settings.federation_max_body)
    except TooLarge:
        return Response(
            b'{"error":"The body is too large"}', status_code=413, media_type="application/json"
        )
    receive = partial(inbound_intake.receive, rt, "POST", _url(request), request.headers, body)
    try:
        await anyio.to_thread.run_sync(receive)
    except DomainError as exc:
        return error_response(exc)
    return Response(status_code=202)


async def shared_inbox(request: Request) -> Response:
    return await _receive(request)


async def personal_inbox(request: Request) -> Response:
    username = request.path_params["username"]
    try:
        await read(request, lambda work: actors.local_account_by_username(work, username))
    except DomainError as exc:
        return error_response(exc)
    return await _receive(request)


routes: list[BaseRoute] = [
    Route("/inbox", shared_inbox, methods=["POST"]),
    Route("/users/{username}/inbox", personal_inbox, methods=["POST"]),
]
