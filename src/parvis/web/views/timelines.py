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
from parvis.web.pages import read, redirect, render, visitor

PAGE = 20


def paging(request: Request) -> Paging:
    """?max_id= (older) and ?min_id= (newer) from the links; anything else is ignored."""
    max_id = parse_id(request.query_params.get("max_id", ""))
    min_id = parse_id(request.query_params.get("min_id", ""))
    return Paging(max_id=max_id, min_id=min_id if max_id is None else None, limit=PAGE)


async def home(request: Request) -> Response:
    who = await visitor(request)
    if who.account_id is None:
        return redirect("/login?next=/home")
    account_id, page = who.account_id, paging(request)
    found = await read(request, lambda work: timelines.home(work, account_id, page))
    return render(request, who, "timeline.html", kind="home", page=found, stream="user")


async def local(request: Request) -> Response:
    return await _public(request, kind="local", local=True)


async def federated(request: Request) -> Response:
    return await _public(request, kind="federated", local=None)


async def _public(request: Request, *, kind: str, local: bool | None) -> Response:
    who = await visitor(request)
    viewer, page = who.account_id, paging(request)

    def load(work: Work) -> StatusPage:
        return timelines.public(work, viewer, page, local=local)

    found = await read(request, load)
    stream = "public:local" if local else "public"
    return render(request, who, "timeline.html", kind=kind, page=found, stream=stream)


async def hashtag(request: Request) -> Response:
    who = await visitor(request)
    name = request.path_params["name"][:100]
    key = normalize_tag(name)
    viewer, page = who.account_id, paging(request)

    def load(work: Work) -> StatusPage:
        return timelines.hashtag(work, viewer, key, page, local=None)

    found = await read(request, load) if key else None
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
