"""The ASGI application: FastAPI for the Mastodon client API and OAuth, static files, media."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from pathlib import Path

import anyio.to_thread
from fastapi import FastAPI
from starlette.staticfiles import StaticFiles

from parvis import __version__
from parvis.api import (
    accounts,
    errors,
    instance,
    media,
    notifications,
    oauth,
    search,
    statuses,
    timelines,
)
from parvis.jobs.runtime import Runtime

STATIC = Path(__file__).with_name("static")


def build_asgi(
    runtime: Runtime,
    *,
    on_startup: Callable[[], None] | None = None,
    on_shutdown: Callable[[], None] | None = None,
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
    for module in (oauth, accounts, statuses, timelines, notifications, media, search, instance):
        app.include_router(module.router)
    runtime.settings.media_dir.mkdir(parents=True, exist_ok=True)
    app.mount("/media", StaticFiles(directory=runtime.settings.media_dir), name="media")
    app.mount("/static", StaticFiles(directory=STATIC), name="static")
    return app
