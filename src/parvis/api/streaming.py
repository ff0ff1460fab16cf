"""The streaming API, as Mastodon serves it: one WebSocket (`/api/v1/streaming`, several streams
per connection, `subscribe`/`unsubscribe` messages) and server-sent events, one stream per
request (`/api/v1/streaming/user`, `/public/local`, `/hashtag?tag=`...).

Events come from the broker (storage/pubsub.py) already rendered (`Publisher`, called by the
runtime after each commit). Each connection keeps the ids its user blocks, is blocked by or
mutes, loaded at subscribe time and reloaded in the background every `REFRESH` seconds, and
drops the events that involve them.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import AsyncIterator, Callable, Sequence
from dataclasses import dataclass, replace
from functools import partial
from typing import Any, TypeVar

import anyio
import orjson
from fastapi import APIRouter, Query, Request, WebSocket, WebSocketDisconnect
from starlette.concurrency import run_in_threadpool
from starlette.responses import PlainTextResponse, Response, StreamingResponse

from parvis.api.auth import TokenDep
from parvis.api.deps import ERRORS
from parvis.api.errors import ApiError, error_response
from parvis.api.serializers import notification_json, status_json
from parvis.config import Settings
from parvis.domain import scopes
from parvis.domain.errors import DomainError
from parvis.domain.ids import parse_id
from parvis.domain.models import Notification, Status, ViewerFlags
from parvis.jobs.runtime import Runtime
from parvis.services import oauth, sessions, streaming
from parvis.services.context import StreamEvent, Work
from parvis.storage.pubsub import Broker, Message, Subscription, encode

router = APIRouter(tags=["streaming"])

# The web app's session cookie: the browser's page scripts cannot read it (HttpOnly), so the
# streams accept it in place of a token, from pages of this server only (a foreign Origin would
# be cross-site WebSocket hijacking).
SESSION_COOKIE = sessions.COOKIE
HEARTBEAT = 30.0  # seconds between SSE comments that keep proxies from closing the stream
REFRESH = 10.0  # seconds between reloads of a connection's blocks and mutes
T = TypeVar("T")
_NO_FLAGS = ViewerFlags()

PUBLIC_STREAMS: dict[str, tuple[bool | None, bool]] = {
    "public": (None, False),
    "public:media": (None, True),
    "public:local": (True, False),
    "public:local:media": (True, True),
    "public:remote": (False, False),
    "public:remote:media": (False, True),
}
STREAMS = (
    "user",
    "user:notification",
    *PUBLIC_STREAMS,
    "hashtag",
    "hashtag:local",
    "list",
    "direct",
)


class Publisher:
    """Renders events (once each, whatever the number of channels) and publishes them."""

    def __init__(self, broker: Broker, settings: Settings) -> None:
        self.broker = broker
        self.settings = settings

    def render(self, event: StreamEvent) -> str:
        payload = event.payload
        if isinstance(payload, Status):
            flags = replace(_NO_FLAGS, notes=event.notes) if event.notes else _NO_FLAGS
            data: Any = status_json(payload, flags, self.settings)
        elif isinstance(payload, Notification):
            data = notification_json(payload, _NO_FLAGS, self.settings, event.viewer_id or 0)
        elif isinstance(payload, str):
            return payload
        else:
            data = payload
        return orjson.dumps(data).decode()

    def __call__(self, events: Sequence[StreamEvent]) -> None:
        items: list[tuple[str, bytes]] = []
        for event in events:
            raw = encode(event.event, self.render(event), event.accounts)
            items.extend((channel, raw) for channel in event.channels)
        self.broker.publish_many(items)


# --- which streams a connection may read -----------------------------------------------------


@dataclass(frozen=True)
class Viewer:
    account_id: int | None
    scopes: frozenset[str]


@dataclass(frozen=True)
class Stream:
    name: str  # as Mastodon names it: "user", "hashtag:local"...
    channel: str  # the broker's channel
    label: str  # the message's `stream` field, as JSON: '["hashtag","cats"]'
    notifications_only: bool = False


def _refuse(status: int, message: str) -> ApiError:
    return ApiError(status, message)


def authenticate(work: Work, token: str | None, session: str | None = None) -> Viewer:
    """The token's viewer; without a token, the web session's (`session`: the cookie, given
    only when the request came from this server's own pages); anonymous otherwise."""
    if token is None:
        info = sessions.current(work, session) if session else None
        if info is None:  # no session, or no longer valid: an anonymous reader
            return Viewer(None, frozenset())
        return Viewer(info.account_id, info.scopes)
    info = oauth.verify_token(work, token)  # Unauthorized (401) when unknown or revoked
    return Viewer(info.account_id, info.scopes)


def _own_origin(origin: str | None, settings: Settings) -> bool:
    return (
        origin is not None and origin.rstrip("/").lower() == settings.base_url.rstrip("/").lower()
    )


def _ws_session(ws: WebSocket, settings: Settings) -> str | None:
    """The session cookie, when the WebSocket was opened by a page of this server (browsers
    always send Origin on a WebSocket handshake)."""
    if not _own_origin(ws.headers.get("origin"), settings):
        return None
    return ws.cookies.get(SESSION_COOKIE)


def _sse_session(request: Request, settings: Settings) -> str | None:
    """The session cookie, when the event stream was opened by a page of this server:
    `Sec-Fetch-Site: same-origin` where the browser sends it, its Origin otherwise."""
    site = request.headers.get("sec-fetch-site")
    if site is not None:
        same = site == "same-origin"
    else:
        same = _own_origin(request.headers.get("origin"), settings)
    return request.cookies.get(SESSION_COOKIE) if same else None


def _needs(viewer: Viewer, *any_of: str, user: bool = True) -> None:
    if viewer.account_id is None and user:
        raise _refuse(401, "Missing access token")
    if viewer.account_id is None and not viewer.scopes:
        return  # anonymous reads of public streams, as the public timelines allow
    if not any(scopes.grants(viewer.scopes, s) for s in any_of):
        raise _refuse(403, f"This action is outside the authorized scopes (needs {any_of[0]})")


def resolve_stream(
    work: Work, viewer: Viewer, name: str | None, tag: str | None, list_id: str | None
) -> Stream:
    """The stream a client asks for, checked against its token; ApiError otherwise."""
    if name == "user":
        _needs(viewer, "read:statuses", "read:notifications")
        assert viewer.account_id is not None
        return Stream(name, streaming.user_channel(viewer.account_id), '["user"]')
    if name == "user:notification":
        _needs(viewer, "read:notifications")
        assert viewer.account_id is not None
        channel = streaming.user_channel(viewer.account_id)
        return Stream(name, channel, '["user:notification"]', notifications_only=True)
    if name in PUBLIC_STREAMS:
        _needs(viewer, "read:statuses", user=False)
        local, media = PUBLIC_STREAMS[name]
        channel = streaming.public_channel(local=local, media=media)
        return Stream(name, channel, orjson.dumps([name]).decode())
    if name in ("hashtag", "hashtag:local"):
        _needs(viewer, "read:statuses", user=False)
        if not tag or not tag.strip() or len(tag) > 100:
            raise _refuse(400, "No tag for stream provided")
        tag = tag.strip().removeprefix("#")
        channel = streaming.hashtag_channel(tag, local=name == "hashtag:local")
        return Stream(name, channel, orjson.dumps([name, tag]).decode())
    if name == "list":
        _needs(viewer, "read:lists", "read:statuses")
        parsed = parse_id(list_id or "")
        found = work.store.lists.get(parsed) if parsed is not None else None
        if found is None or found.account_id != viewer.account_id:
            raise _refuse(404, "Record not found")
        return Stream(
            name, streaming.list_channel(found.id), orjson.dumps([name, str(found.id)]).decode()
        )
    if name == "direct":
        _needs(viewer, "read:statuses")
        assert viewer.account_id is not None
        return Stream(name, streaming.direct_channel(viewer.account_id), '["direct"]')
    raise _refuse(400, "Unknown stream type")


# --- one connection --------------------------------------------------------------------------


class Session:
    """A connection's streams (by channel) and its user's hidden accounts."""

    def __init__(
        self, runtime: Runtime, viewer: Viewer, sub: Subscription, hidden: frozenset[int]
    ) -> None:
        self.runtime = runtime
        self.viewer = viewer
        self.sub = sub
        self.streams: dict[str, list[Stream]] = {}
        self.hidden = hidden
        self.loaded_at = time.monotonic()
        self._reloading: asyncio.Task[None] | None = None

    async def load_hidden(self) -> None:
        viewer = self.viewer
        self.hidden = await _read(self.runtime, lambda w: _hidden(w, viewer))
        self.loaded_at = time.monotonic()

    def _maybe_reload(self) -> None:
        if self.viewer.account_id is None or time.monotonic() - self.loaded_at < REFRESH:
            return
        if self._reloading is None or self._reloading.done():
            self.loaded_at = time.monotonic()
            self._reloading = asyncio.get_running_loop().create_task(self.load_hidden())

    async def add(self, stream: Stream) -> None:
        streams = self.streams.setdefault(stream.channel, [])
        if all(s.name != stream.name for s in streams):
            streams.append(stream)
        await self.sub.add(stream.channel)

    async def remove(self, stream: Stream) -> None:
        # "Cats" and "cats" are one hashtag stream: match by name and channel, not label.
        streams = [s for s in self.streams.get(stream.channel, []) if s.name != stream.name]
        self.streams[stream.channel] = streams
        if not streams:
            self.streams.pop(stream.channel, None)
            await self.sub.remove(stream.channel)

    def matching(self, message: Message) -> list[Stream]:
        self._maybe_reload()
        if self.hidden and not self.hidden.isdisjoint(message.accounts):
            return []
        streams = self.streams.get(message.channel, ())
        return [s for s in streams if not s.notifications_only or message.event == "notification"]

    async def close(self) -> None:
        if self._reloading is not None:
            self._reloading.cancel()
        with anyio.CancelScope(shield=True):
            await self.sub.close()


def _hidden(work: Work, viewer: Viewer) -> frozenset[int]:
    if viewer.account_id is None:
        return frozenset()
    return streaming.filtered_ids(work, viewer.account_id)


async def _read(runtime: Runtime, use_case: Callable[[Work], T]) -> T:
    return await run_in_threadpool(runtime.read, use_case)


def _broker(runtime: Runtime) -> Broker:
    if runtime.broker is None:
        raise ApiError(503, "Streaming is not available")
    return runtime.broker


# --- WebSocket --------------------------------------------------------------------------------


def _ws_token(ws: WebSocket) -> tuple[str | None, str | None]:
    """The token (from the Authorization header, `access_token`, or the WebSocket protocol as
    Mastodon's web app sends it) and the protocol to echo on accept."""
    header = ws.headers.get("authorization", "")
    if header.lower().startswith("bearer "):
        return header[7:].strip() or None, None
    query = ws.query_params.get("access_token")
    if query:
        return query, None
    protocol = ws.headers.get("sec-websocket-protocol", "").split(",")[0].strip()
    if protocol:
        return protocol, protocol
    return None, None


async def _deny(ws: WebSocket, status: int, message: str) -> None:
    if "websocket.http.response" in ws.scope.get("extensions", {}):
        await ws.send_denial_response(error_response(status, message))
    else:
        await ws.close(code=1008, reason=message)


@router.websocket("/api/v1/streaming")
@router.websocket("/api/v1/streaming/")
async def websocket_stream(ws: WebSocket) -> None:
    runtime: Runtime = ws.app.state.runtime
    token, protocol = _ws_token(ws)
    session_cookie = _ws_session(ws, runtime.settings) if token is None else None
    params = ws.query_params
    name = params.get("stream")
    try:
        broker = _broker(runtime)

        def start(work: Work) -> tuple[Viewer, Stream | None, frozenset[int]]:
            viewer = authenticate(work, token, session_cookie)
            first = None
            if name is not None:
                first = resolve_stream(work, viewer, name, params.get("tag"), params.get("list"))
            return viewer, first, _hidden(work, viewer)

        viewer, first, hidden = await _read(runtime, start)
    except (ApiError, DomainError) as exc:
        status = exc.status
        await _deny(ws, status, exc.message)
        return
    sub = await broker.subscribe()
    session = Session(runtime, viewer, sub, hidden)
    try:
        if first is not None:
            # Subscribed before the handshake completes: once a client sees the connection
            # open, nothing published after that is missed.
            await session.add(first)
        await ws.accept(subprotocol=protocol)
        async with anyio.create_task_group() as tasks:
            tasks.start_soon(_ws_send, ws, session, tasks.cancel_scope)
            await _ws_receive(ws, session)
            tasks.cancel_scope.cancel()
    except WebSocketDisconnect:
        pass
    finally:
        await session.close()
        with contextlib.suppress(Exception), anyio.CancelScope(shield=True):
            await ws.close()


async def _ws_send(ws: WebSocket, session: Session, scope: anyio.CancelScope) -> None:
    with contextlib.suppress(WebSocketDisconnect, OSError, RuntimeError):
        while True:
            message = await session.sub.get()
            if message is None:  # overflowed: this client does not keep up
                break
            for stream in session.matching(message):
                await ws.send_text(message.text(stream.label))
    scope.cancel()


async def _ws_receive(ws: WebSocket, session: Session) -> None:
    while True:
        try:
            raw = await ws.receive_text()
        except (WebSocketDisconnect, RuntimeError, KeyError):
            return
        try:
            data = orjson.loads(raw)
        except orjson.JSONDecodeError:
            await _ws_error(ws, 400, "Invalid JSON")
            continue
        if not isinstance(data, dict) or data.get("type") not in ("subscribe", "unsubscribe"):
            await _ws_error(ws, 400, "Unknown message type")
            continue
        values = {k: data.get(k) for k in ("stream", "tag", "list")}
        if not all(v is None or isinstance(v, str | int) for v in values.values()):
            await _ws_error(ws, 400, "Invalid stream parameters")
            continue
        asked = [None if v is None else str(v) for v in values.values()]
        try:
            stream = await _read(session.runtime, partial(_resolve_asked, session.viewer, asked))
        except (ApiError, DomainError) as exc:
            await _ws_error(ws, exc.status, exc.message)
            continue
        if data["type"] == "subscribe":
            await session.add(stream)
        else:
            await session.remove(stream)


def _resolve_asked(viewer: Viewer, asked: list[str | None], work: Work) -> Stream:
    name, tag, list_id = asked
    return resolve_stream(work, viewer, name, tag, list_id)


async def _ws_error(ws: WebSocket, status: int, message: str) -> None:
    await ws.send_text(orjson.dumps({"error": message, "status": status}).decode())


# --- server-sent events -----------------------------------------------------------------------


def _sse(request: Request, token: TokenDep, name: str, tag: str | None = None) -> Response:
    runtime: Runtime = request.app.state.runtime
    broker = _broker(runtime)
    list_id = request.query_params.get("list")
    session_cookie = _sse_session(request, runtime.settings) if token.value is None else None

    def start(work: Work) -> tuple[Viewer, Stream, frozenset[int]]:
        viewer = authenticate(work, token.value, session_cookie)
        stream = resolve_stream(work, viewer, name, tag, list_id)
        return viewer, stream, _hidden(work, viewer)

    viewer, stream, hidden = runtime.read(start)

    async def events() -> AsyncIterator[str]:
        sub = await broker.subscribe()
        session = Session(runtime, viewer, sub, hidden)
        try:
            await session.add(stream)
            yield ":)\n\n"
            while True:
                message = None
                with anyio.move_on_after(HEARTBEAT) as waited:
                    message = await sub.get()
                if waited.cancelled_caught:
                    yield ":thump\n\n"
                    continue
                if message is None:
                    return
                if session.matching(message):
                    yield f"event: {message.event}\ndata: {message.payload}\n\n"
        finally:
            await session.close()

    return StreamingResponse(
        events(),
        media_type="text/event-stream",
        headers={"Cache-Control": "no-store", "X-Accel-Buffering": "no"},
    )


# The event streams never end: they stay out of the OpenAPI document (schemathesis would wait
# for their end forever); the WebSocket endpoint is not an OpenAPI operation either.
SSE_RESPONSES: dict[int | str, dict[str, Any]] = {
    **ERRORS,
    200: {"description": "Server-sent events", "content": {"text/event-stream": {}}},
}


def _media(name: str, only_media: bool) -> str:
    return f"{name}:media" if only_media else name


@router.get("/api/v1/streaming/health", response_class=PlainTextResponse)
async def health() -> Response:
    return PlainTextResponse("OK")


@router.get("/api/v1/streaming/user", responses=SSE_RESPONSES, include_in_schema=False)
def sse_user(request: Request, token: TokenDep) -> Response:
    return _sse(request, token, "user")


@router.get("/api/v1/streaming/user/notification", responses=SSE_RESPONSES, include_in_schema=False)
def sse_user_notification(request: Request, token: TokenDep) -> Response:
    return _sse(request, token, "user:notification")


@router.get("/api/v1/streaming/public", responses=SSE_RESPONSES, include_in_schema=False)
def sse_public(request: Request, token: TokenDep, only_media: bool = False) -> Response:
    return _sse(request, token, _media("public", only_media))


@router.get("/api/v1/streaming/public/local", responses=SSE_RESPONSES, include_in_schema=False)
def sse_public_local(request: Request, token: TokenDep, only_media: bool = False) -> Response:
    return _sse(request, token, _media("public:local", only_media))


@router.get("/api/v1/streaming/public/remote", responses=SSE_RESPONSES, include_in_schema=False)
def sse_public_remote(request: Request, token: TokenDep, only_media: bool = False) -> Response:
    return _sse(request, token, _media("public:remote", only_media))


@router.get("/api/v1/streaming/hashtag", responses=SSE_RESPONSES, include_in_schema=False)
def sse_hashtag(
    request: Request, token: TokenDep, tag: str = Query(..., min_length=1, max_length=100)
) -> Response:
    return _sse(request, token, "hashtag", tag)


@router.get("/api/v1/streaming/hashtag/local", responses=SSE_RESPONSES, include_in_schema=False)
def sse_hashtag_local(
    request: Request, token: TokenDep, tag: str = Query(..., min_length=1, max_length=100)
) -> Response:
    return _sse(request, token, "hashtag:local", tag)


@router.get("/api/v1/streaming/list", responses=SSE_RESPONSES, include_in_schema=False)
def sse_list(
    request: Request,
    token: TokenDep,
    list_id: str = Query(..., alias="list", min_length=1, max_length=30),
) -> Response:
    return _sse(request, token, "list")


@router.get("/api/v1/streaming/direct", responses=SSE_RESPONSES, include_in_schema=False)
def sse_direct(request: Request, token: TokenDep) -> Response:
    return _sse(request, token, "direct")
