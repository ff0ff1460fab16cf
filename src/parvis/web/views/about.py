"""The server's public pages: about (description, rules, terms), privacy, transparency."""

from __future__ import annotations

from markupsafe import Markup
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from parvis.services import notices, policies
from parvis.web.pages import read, render, runtime, visitor


async def about(request: Request) -> Response:
    who = await visitor(request)
    settings = runtime(request).settings
    # Both texts are built escaped by the policies service (operators' plain text).
    return render(
        request,
        who,
        "about.html",
        about_html=Markup(policies.about(settings)),
        terms_html=Markup(policies.terms(settings)),
    )


async def privacy(request: Request) -> Response:
    who = await visitor(request)
    settings = runtime(request).settings
    return render(request, who, "privacy.html", privacy_html=Markup(policies.privacy(settings)))


async def transparency(request: Request) -> Response:
    who = await visitor(request)
    received = await read(request, notices.received)
    return render(request, who, "transparency.html", received=received)


routes = [
    Route("/about", about, methods=["GET"]),
    Route("/privacy", privacy, methods=["GET"]),
    Route("/transparency", transparency, methods=["GET"]),
]
