"""/api/parvis/v1/feeds: the ranked feeds of the open algorithm (issue 7). The catalogue and
each feed's published algorithm are public; a page of a feed (Mastodon-shaped statuses, each
with the `explanation` of its place) and the user's weights need a token.

Mastodon apps cannot show a feed they do not know of, but they all show lists: when the user's
"lists in apps" setting is on (off by default: Settings → Feeds), each ranked feed is also a
read-only list whose id is `feed-<name>` (see parvis.api.lists). Deleting that list is how an
app hides them: it turns the setting off. A ranking has no "newer than": asked for posts
after `since_id` or `min_id`, a feed list answers an empty page (opening it again ranks
afresh).
"""

from __future__ import annotations

from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import APIRouter, Path, Request
from starlette.responses import Response

from parvis.api import auth, schemas
from parvis.api.auth import RequiredTokenDep, Token
from parvis.api.deps import ERRORS, RuntimeDep, in_thread, json_response
from parvis.api.errors import ApiError
from parvis.api.pagination import Cursor, Limit, paging
from parvis.api.params import read_params
from parvis.api.serializers import status_json
from parvis.domain.feeds.algorithm import Algorithm
from parvis.domain.feeds.registry import FEEDS
from parvis.jobs.runtime import Runtime
from parvis.services import feeds
from parvis.services.context import Work
from parvis.services.feeds import FeedPage
from parvis.services.timelines import Paging

router = APIRouter(tags=["feeds"], responses=ERRORS)

FeedName = Annotated[
    str,
    Path(max_length=64, description="A ranked feed's name (GET /api/parvis/v1/feeds lists them)"),
]
LIST_PREFIX = "feed-"
LIST_READ_ONLY = "This list is a Parvis ranked feed: change it in Settings → Feeds"
FORM_TYPES = ("application/x-www-form-urlencoded", "multipart/form-data")

WEIGHTS_BODY: dict[str, Any] = {
    "requestBody": {
        "required": True,
        "description": "Parameters of the feed and their new values, each within its bounds "
        "(GET /api/parvis/v1/feeds/{feed}/algorithm); the others keep theirs.",
        "content": {
            media: {"schema": {"type": "object", "additionalProperties": {"type": "number"}}}
            for media in ("application/json", "application/x-www-form-urlencoded")
        },
    }
}


# -- the feeds and their algorithms (public) ---------------------------------------------------


@router.get("/api/parvis/v1/feeds", response_model=list[schemas.FeedSummary])
def catalogue(rt: RuntimeDep) -> Response:
    """The ranked feeds this server offers, each with the address of its published algorithm."""
    base = rt.settings.base_url
    return json_response(
        [
            {
                "name": a.name,
                "title": a.title,
                "version": a.version,
                "summary": a.summary,
                "url": f"{base}/api/parvis/v1/feeds/{a.name}/algorithm",
            }
            for a in feeds.catalogue()
        ]
    )


@router.get("/api/parvis/v1/feeds/{feed}/algorithm", response_model=schemas.FeedAlgorithm)
def algorithm(feed: FeedName) -> Response:
    """What the feed reads, where its candidates come from, and every parameter with its default
    and bounds (the same text as docs/algorithm.md)."""
    return json_response(feeds.algorithm_json(feed))


# -- a page of a feed --------------------------------------------------------------------------


def ranked_json(work: Work, page: FeedPage, viewer_id: int) -> list[dict[str, Any]]:
    """The page's statuses as Mastodon shapes them, each with its explanation."""
    out = []
    for status in page.statuses:
        body = status_json(status, page.flags, work.settings, viewer_id)
        body["explanation"] = feeds.explanation(page.items[status.id], page.feed)
        out.append(body)
    return out


def next_link(request: Request, next_max_id: int | None) -> dict[str, str]:
    """A Link header to the rest of the ranking (no "prev": a ranking has no newer end)."""
    if next_max_id is None:
        return {}
    kept = [
        (k, v)
        for k, v in request.query_params.multi_items()
        if k not in ("max_id", "min_id", "since_id")
    ]
    url = f"{request.url.replace(query='')}?{urlencode([*kept, ('max_id', str(next_max_id))])}"
    return {"Link": f'<{url}>; rel="next"'}


@router.get("/api/parvis/v1/feeds/{feed}", response_model=list[schemas.RankedStatus])
def feed_page(
    feed: FeedName,
    request: Request,
    rt: RuntimeDep,
    token: RequiredTokenDep,
    max_id: Cursor = None,
    limit: Limit = None,
) -> Response:
    """The viewer's ranking of the feed, a page at a time: without `max_id` a fresh ranking
    (logged, so that it can be replayed), with it the posts after that one in the viewer's
    latest ranking; follow the Link header. `limit`: 20 by default, 40 at most."""
    page = paging(max_id, None, None, limit)

    def run(work: Work) -> tuple[list[dict[str, Any]], dict[str, str]]:
        me = auth.user(work, token, "read:statuses")
        found = feeds.serve(work, me.account_id, feed, max_id=page.max_id, limit=page.limit)
        return ranked_json(work, found, me.account_id), next_link(request, found.next_max_id)

    body, headers = rt.write(run)  # a fresh ranking is logged
    return json_response(body, headers=headers)


# -- the user's weights ------------------------------------------------------------------------


@router.get("/api/parvis/v1/feeds/{feed}/weights", response_model=schemas.FeedWeights)
def get_weights(feed: FeedName, rt: RuntimeDep, token: RequiredTokenDep) -> Response:
    """Every parameter as it applies to the user (`weights`), and the user's own (`custom`)."""

    def run(work: Work) -> dict[str, Any]:
        me = auth.user(work, token, "read:accounts")
        return feeds.weights(work, me.account_id, feed)

    return json_response(rt.read(run))


def _number(value: object) -> object:
    """A form value as a number when it reads as one (forms carry only text)."""
    if isinstance(value, str):
        try:
            return float(value)
        except ValueError:
            return value
    return value


@router.put(
    "/api/parvis/v1/feeds/{feed}/weights",
    response_model=schemas.FeedWeights,
    openapi_extra=WEIGHTS_BODY,
)
async def put_weights(
    feed: FeedName, request: Request, rt: RuntimeDep, token: RequiredTokenDep
) -> Response:
    """Change some weights: a JSON object {parameter: number}. A value outside its bounds, an
    unknown name or a value that is not a number refuses the whole change (422, naming each)."""
    values = await read_params(request, include_query=False)  # 422 unless a JSON object
    ctype = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if ctype in FORM_TYPES:
        values = {name: _number(value) for name, value in values.items()}

    def run(work: Work) -> dict[str, Any]:
        me = auth.user(work, token, "write:accounts")
        return feeds.set_weights(work, me.account_id, feed, values)

    return json_response(await in_thread(rt.write, run))


@router.delete("/api/parvis/v1/feeds/{feed}/weights", response_model=schemas.FeedWeights)
def reset_weights(feed: FeedName, rt: RuntimeDep, token: RequiredTokenDep) -> Response:
    """Back to the published defaults."""

    def run(work: Work) -> dict[str, Any]:
        me = auth.user(work, token, "write:accounts")
        return feeds.reset_weights(work, me.account_id, feed)

    return json_response(rt.write(run))


# -- the feeds as Mastodon lists (used by parvis.api.lists) -----------------------------------


def is_feed_list(list_id: str) -> bool:
    return list_id.startswith(LIST_PREFIX)


def feed_list(work: Work, viewer_id: int, list_id: str) -> Algorithm:
    """The feed a `feed-<name>` list id stands for; not found when there is no such feed or
    the user keeps the feeds out of their apps."""
    found = FEEDS.get(list_id.removeprefix(LIST_PREFIX))
    if found is None or not feeds.lists_in_apps(work, viewer_id):
        raise ApiError(404, "Record not found")
    return found


def feed_list_json(algorithm: Algorithm) -> dict[str, Any]:
    return {
        "id": LIST_PREFIX + algorithm.name,
        "title": f"{algorithm.title} (ranked)",
        "replies_policy": "list",
        "exclusive": False,
    }


def feed_lists(work: Work, viewer_id: int) -> list[dict[str, Any]]:
    """The feeds as lists, after the user's own, unless the user hid them."""
    if not feeds.lists_in_apps(work, viewer_id):
        return []
    return [feed_list_json(a) for a in feeds.catalogue()]


def refuse_change(work: Work, viewer_id: int, list_id: str) -> None:
    """A feed list's title and members are not the app's to change (422); 404 when unknown."""
    feed_list(work, viewer_id, list_id)
    raise ApiError(422, LIST_READ_ONLY)


def hide_feed_lists(work: Work, viewer_id: int, list_id: str) -> None:
    """DELETE on a feed list: the apps' way to hide the feeds (Settings → Feeds shows them
    again)."""
    feed_list(work, viewer_id, list_id)
    feeds.set_lists_in_apps(work, viewer_id, False)


def list_timeline(
    list_id: str, request: Request, rt: Runtime, token: Token, page: Paging
) -> Response:
    """GET /api/v1/timelines/list/feed-<name>: the feed, paged with max_id like the API's."""

    def run(work: Work) -> tuple[list[dict[str, Any]], dict[str, str]]:
        me = auth.user(work, token, "read:lists")
        found = feed_list(work, me.account_id, list_id)
        if page.since_id is not None or page.min_id is not None:
            return [], {}
        served = feeds.serve(work, me.account_id, found.name, max_id=page.max_id, limit=page.limit)
        return ranked_json(work, served, me.account_id), next_link(request, served.next_max_id)

    body, headers = rt.write(run)
    return json_response(body, headers=headers)
