"""Search: accounts, hashtags and posts for one query (`/search?q=`), a plain GET form that
works without JavaScript. Posts are searched for signed-in people only, as in the client API."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from parvis.domain.errors import DomainError
from parvis.services import search
from parvis.services.context import Work
from parvis.services.search import SearchResults
from parvis.web.pages import error_message, read, render, visitor

QUERY_LIMIT = 500
TYPES = ("accounts", "hashtags", "statuses")


async def page(request: Request) -> Response:
    who = await visitor(request)
    q = request.query_params.get("q", "").replace("\x00", "")[:QUERY_LIMIT].strip()
    kind = request.query_params.get("type") or None
    if kind not in TYPES:
        kind = None
    viewer = who.account_id
    query = search.SearchQuery(q=q, type=kind, account_id=None, limit=20)

    def load(work: Work) -> SearchResults:
        return search.search(work, viewer, query)

    results, error = None, None
    if q:
        try:
            results = await read(request, load)
        except DomainError as exc:
            error = error_message(exc)
    return render(
        request,
        who,
        "search.html",
        code=422 if error else 200,
        q=q,
        kind=kind,
        results=results,
        error=error,
    )


routes = [Route("/search", page, methods=["GET"])]
