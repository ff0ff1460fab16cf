"""Every route of the web app, and its static files."""

from __future__ import annotations

from pathlib import Path

from starlette.routing import BaseRoute, Mount
from starlette.staticfiles import StaticFiles

from parvis.web.views import (
    about,
    app_shell,
    auth,
    consent,
    decisions,
    deletion,
    feeds,
    filters,
    labels,
    lists,
    marks,
    messages,
    moderation,
    notes,
    notifications,
    portability,
    posts,
    profiles,
    reports,
    search,
    settings,
    timelines,
)

STATIC = Path(__file__).with_name("static")


def web_routes() -> list[BaseRoute]:
    return [
        *auth.routes,
        *consent.routes,
        *about.routes,
        *app_shell.routes,
        *timelines.routes,
        *feeds.routes,  # before settings: /settings/feeds
        *labels.routes,  # before settings and moderation: /settings/labels, /moderation/signals
        *profiles.routes,  # before posts: `/@name/media` is not a post
        *notifications.routes,
        *messages.routes,  # before settings: /settings/devices/{id}/revoke
        *search.routes,
        *marks.routes,
        *notes.routes,
        *posts.routes,
        *reports.routes,
        *decisions.routes,  # before settings: /settings/reports, /settings/moderation
        *moderation.routes,
        *portability.routes,
        *deletion.routes,  # before settings: /settings/account/delete
        *settings.routes,
        *lists.routes,
        *filters.routes,
        Mount("/assets", StaticFiles(directory=STATIC), name="assets"),
    ]
