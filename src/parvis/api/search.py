"""/api/v2/search, and /api/v1/tags/{name}."""

from __future__ import annotations

from typing import Annotated, Any
from urllib.parse import quote

from fastapi import APIRouter, Query
from starlette.responses import Response

from parvis.api import auth, schemas
from parvis.api.auth import TokenDep
from parvis.api.deps import ERRORS, RuntimeDep, json_response
from parvis.api.errors import ApiError
from parvis.api.serializers import account_json, status_json
from parvis.config import Settings
from parvis.domain.ids import parse_id
from parvis.services import featured_tags, followed_tags, lookup
from parvis.services import search as search_service
from parvis.services.context import Work
from parvis.services.search import Hashtag, SearchQuery

router = APIRouter(tags=["search"], responses=ERRORS)

DEFAULT_LIMIT = 20
MAX_LIMIT = 40


def tag_json(tag: Hashtag, settings: Settings, *, following: bool | None = None) -> dict[str, Any]:
    out: dict[str, Any] = {
        "id": "" if tag.id is None else str(tag.id),
        "name": tag.display_name,
        "url": f"{settings.base_url}/tags/{quote(tag.name)}",
        "history": [],
    }
    if following is not None:
        out["following"] = following
    return out


def _id(name: str, value: str | None) -> int | None:
    if value is None or value == "":
        return None
    parsed = parse_id(value)
    if parsed is None:
        raise ApiError(422, f"Validation failed: {name} must be a numeric id")
    return parsed


@router.get("/api/v2/search", response_model=schemas.SearchResults)
def search(
    rt: RuntimeDep,
    token: TokenDep,
    q: Annotated[str | None, Query(max_length=search_service.MAX_QUERY_CHARS * 4)] = None,
    type: Annotated[str | None, Query(description="accounts, hashtags or statuses")] = None,
    resolve: bool = False,
    following: bool = False,
    account_id: str | None = None,
    exclude_unreviewed: bool = False,
    max_id: str | None = None,
    min_id: str | None = None,
    limit: Annotated[int | None, Query(ge=1, le=10_000)] = None,
    offset: Annotated[int, Query(ge=0, le=10_000)] = 0,
) -> Response:
    if q is None:
        raise ApiError(400, "Validation failed: q: param is missing")
    query = SearchQuery(
        q=q,
        type=type or None,
        resolve=resolve,
        following=following,
        account_id=_id("account_id", account_id),
        exclude_unreviewed=exclude_unreviewed,
        max_id=_id("max_id", max_id),
        min_id=_id("min_id", min_id),
        limit=DEFAULT_LIMIT if limit is None else min(limit, MAX_LIMIT),
        offset=offset if type else 0,  # as in Mastodon: offset applies with a type only
    )
    search_service.check(query)
    if resolve and token and rt.read(lambda work: auth.maybe_user(work, token, "read:search")):
        lookup.resolve(rt, query.q)  # another server's account or post, stored for the search

    def run(work: Work) -> dict[str, Any]:
        me = auth.maybe_user(work, token, "read:search")
        if me is None and offset > 0:
            raise ApiError(401, "Search queries pagination is not supported without authentication")
        if me is None and resolve:
            raise ApiError(
                401,
                "Search queries that resolve remote resources are not supported "
                "without authentication",
            )
        viewer = me.account_id if me else None
        found = search_service.search(work, viewer, query)
        settings = work.settings
        return {
            "accounts": [account_json(a, settings) for a in found.accounts],
            "statuses": [status_json(s, found.flags, settings, viewer) for s in found.statuses],
            "hashtags": [tag_json(t, settings) for t in found.hashtags],
        }

    return json_response(rt.read(run))


@router.get("/api/v1/tags/{name}", response_model=schemas.Tag)
def get_tag(name: str, rt: RuntimeDep, token: TokenDep) -> Response:
    def run(work: Work) -> dict[str, Any]:
        me = auth.maybe_user(work, token, "read:follows")
        found = search_service.tag(work, name)
        if found is None:
            raise ApiError(404, "Record not found")
        following = followed_tags.is_following(work, me.account_id, found) if me else None
        out = tag_json(found, work.settings, following=following)
        if me:
            out["featuring"] = featured_tags.is_featuring(work, me.account_id, found)
        return out

    return json_response(rt.read(run))
