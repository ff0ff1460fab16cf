"""Bookmarks and favourites: the posts the signed-in account marked, newest mark first."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from parvis.services import timelines
from parvis.services.context import Work
from parvis.services.timelines import StatusPage
from parvis.web.pages import read, redirect, render, visitor
from parvis.web.views.timelines import paging


async def bookmarks(request: Request) -> Response:
    return await _marks(request, "bookmarks")


async def favourites(request: Request) -> Response:
    return await _marks(request, "favourites")


async def _marks(request: Request, kind: str) -> Response:
    who = await visitor(request)
    if who.account_id is None:
        return redirect(f"/login?next=/{kind}")
    account_id, wanted = who.account_id, paging(request)

    def load(work: Work) -> StatusPage:
        return timelines.by_marks(work, account_id, kind, wanted)

    found = await read(request, load)
    return render(request, who, "marks.html", kind=kind, page=found)


routes = [
    Route("/bookmarks", bookmarks, methods=["GET"]),
    Route("/favourites", favourites, methods=["GET"]),
]
