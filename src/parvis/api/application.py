"""The ASGI application: FastAPI for the Mastodon client API and OAuth, static files, media."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import anyio.to_thread
from fastapi import APIRouter, FastAPI
from fastapi.dependencies.models import Dependant
from fastapi.routing import APIRoute
from starlette.middleware.cors import CORSMiddleware
from starlette.staticfiles import StaticFiles
from starlette.types import ASGIApp, Receive, Scope, Send

from parvis import __version__
from parvis.api import (
    accounts,
    announcements,
    auth,
    conversations,
    deletion,
    directory,
    domain_blocks,
    endorsements,
    errors,
    featured_tags,
    feeds,
    filters,
    followed_tags,
    instance,
    labels,
    lists,
    markers,
    media,
    messaging,
    moderation_registers,
    notes,
    notifications,
    oauth,
    polls,
    ratelimit,
    reports,
    scheduled_statuses,
    search,
    statuses,
    streaming,
    suggestions,
    timelines,
    transparency_log,
    transparency_report,
    transparency_statements,
    trends,
)
from parvis.jobs.runtime import Runtime
from parvis.storage.counters import Counters, MemoryCounters

STATIC = Path(__file__).with_name("static")


def build_asgi(
    runtime: Runtime,
    *,
    on_startup: Callable[[], None] | None = None,
    on_shutdown: Callable[[], None] | None = None,
    rate_counters: Counters | None = None,
) -> FastAPI:
    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        # One thread per concurrent unit of work; match the connection pool.
        anyio.to_thread.current_default_thread_limiter().total_tokens = 16
        if on_startup:
            on_startup()
        yield
        if on_shutdown:
            on_shutdown()

    app = FastAPI(
        title="Parvis",
        version=__version__,
        description="The Mastodon client API as served by Parvis.",
        lifespan=lifespan,
        docs_url="/api/docs",
        redoc_url=None,
        openapi_url="/api/openapi.json",
    )
    app.state.runtime = runtime
    errors.install(app)
    app.add_middleware(
        ratelimit.RateLimit,
        settings=runtime.settings,
        counters=rate_counters,
        clock=runtime.clock,
        blocking=rate_counters is not None and not isinstance(rate_counters, MemoryCounters),
    )
    app.add_middleware(RefuseNul)
    # Web clients (Elk, Phanpy…) run on other origins: the API is public, tokens are bearer
    # headers, never cookies, so any origin may call it.
    app.add_middleware(
        CORSMiddleware,
        allow_origins=["*"],
        allow_methods=["GET", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"],
        allow_headers=["Authorization", "Content-Type", "Idempotency-Key"],
        expose_headers=["Link", "X-RateLimit-Limit", "X-RateLimit-Remaining", "X-RateLimit-Reset"],
    )
    routers = [
        m.router
        for m in (oauth, accounts, statuses, timelines, notifications, media, search, instance)
    ]
    routers.append(streaming.router)
    routers += [
        m.router for m in (lists, filters, markers, followed_tags, domain_blocks, endorsements)
    ]
    routers += [polls.router, scheduled_statuses.router]
    routers += [m.router for m in (conversations, announcements, trends, suggestions)]
    routers.append(featured_tags.router)
    routers.append(directory.router)
    routers.append(moderation_registers.router)
    routers.append(reports.router)
    routers.append(transparency_statements.router)
    routers.append(transparency_report.router)
    routers.append(transparency_log.router)
    routers.append(feeds.router)
    routers.append(notes.router)
    routers.append(labels.router)
    routers.append(messaging.router)
    routers.append(deletion.router)
    for router in routers:
        app.include_router(router)
    _document_optional_auth(app, routers)
    runtime.settings.media_dir.mkdir(parents=True, exist_ok=True)
    app.mount("/media", StaticFiles(directory=runtime.settings.media_dir), name="media")
    app.mount("/static", StaticFiles(directory=STATIC), name="static")
    return app


def _uses(dependant: Dependant, call: Callable[..., Any]) -> bool:
    return any(d.call is call or _uses(d, call) for d in dependant.dependencies)


def _document_optional_auth(app: FastAPI, routers: list[APIRouter]) -> None:
    """Routes that read a token without requiring one answer anonymously too: say so in the
    OpenAPI document (security: none or bearer), so clients and schemathesis know."""
    optional = {
        (route.path, method.lower())
        for router in routers
        for route in router.routes
        if isinstance(route, APIRoute)
        and _uses(route.dependant, auth.read_token)
        and not _uses(route.dependant, auth.require_token)
        for method in route.methods or ()
    }
    default_openapi = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            schema = default_openapi()
            for path, ops in schema.get("paths", {}).items():
                for method, op in ops.items():
                    if (path, method) in optional and "security" in op:
                        op["security"] = [{}, *op["security"]]
        return app.openapi_schema  # type: ignore[return-value]

    app.openapi = openapi  # type: ignore[method-assign]


class RefuseNul:
    """NUL in a URL is never meaningful and PostgreSQL cannot store it: a clear 400, early."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            raw = scope.get("raw_path") or scope.get("path", "").encode()
            if b"%00" in scope.get("query_string", b"") or b"%00" in raw or b"\x00" in raw:
                response = errors.error_response(400, "NUL characters are not allowed in URLs")
                await response(scope, receive, send)
                return
        await self.app(scope, receive, send)
