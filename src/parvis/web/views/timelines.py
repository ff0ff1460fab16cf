"""Timelines: home (signed in), local, federated and hashtag pages, with "older" and "newer"
links that work without JavaScript."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from parvis.domain.content import normalize_tag
from parvis.domain.ids import parse_id
from parvis.services import timelines
from parvis.services.context import Work
from parvis.services.timelines import Paging, StatusPage
from parvis.web.pages import Visitor, redirect, render, visit

PAGE = 20


def paging(request: Request) -> Paging:
    """?max_id= (older) and ?min_id= (newer) from the links; anything else is ignored."""
    max_id = parse_id(request.query_params.get("max_id", ""))
    min_id = parse_id(request.query_params.get("min_id", ""))
    return Paging(max_id=max_id, min_id=min_id if max_id is None else None, limit=PAGE)


async def home(request: Request) -> Response:
    page = paging(request)

    def load(work: Work, who: Visitor) -> StatusPage | None:
        if who.account_id is None:
            return None
        return timelines.home(work, who.account_id, page)

    who, found = await visit(request, load)
    if found is None:
        return redirect("/login?next=/home")
    return render(request, who, "timeline.html", kind="home", page=found, stream="user")


async def local(request: Request) -> Response:
    return await _public(request, kind="local", local=True)


async def federated(request: Request) -> Response:
    return await _public(request, kind="federated", local=None)


async def _public(request: Request, *, kind: str, local: bool | None) -> Response:
    page = paging(request)

    def load(work: Work, who: Visitor) -> StatusPage:
        return timelines.public(work, who.account_id, page, local=local)

    who, found = await visit(request, load)
    stream = "public:local" if local else "public"
    return render(request, who, "timeline.html", kind=kind, page=found, stream=stream)


async def hashtag(request: Request) -> Response:
    name = request.path_params["name"][:100]
    key = normalize_tag(name)
    page = paging(request)

    def load(work: Work, who: Visitor) -> StatusPage | None:
        return timelines.hashtag(work, who.account_id, key, page, local=None) if key else None

    who, found = await visit(request, load)
    return render(
        request,
        who,
        "timeline.html",
        kind="tag",
        tag=name,
        page=found,
        stream="hashtag",
        code=200 if key else 404,
    )


routes = [
    Route("/home", home, methods=["GET"]),
    Route("/local", local, methods=["GET"]),
    Route("/federated", federated, methods=["GET"]),
    Route("/tags/{name}", hashtag, methods=["GET"]),
]
