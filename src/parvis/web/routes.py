"""Every route of the web app, and its static files."""

from __future__ import annotations

from pathlib import Path

from starlette.routing import BaseRoute, Mount
from starlette.staticfiles import StaticFiles

from parvis.web.views import auth, posts, timelines

STATIC = Path(__file__).with_name("static")


def web_routes() -> list[BaseRoute]:
    return [
        *auth.routes,
        *timelines.routes,
        *posts.routes,
        Mount("/assets", StaticFiles(directory=STATIC), name="assets"),
    ]
