"""/api/v1/trends: hashtags and posts trending here, by the formulas of docs/trends.md."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query
from starlette.responses import Response

from parvis.api import auth, schemas
from parvis.api.auth import TokenDep
from parvis.api.deps import ERRORS, RuntimeDep, json_response
from parvis.api.serializers import status_json, trending_tag_json
from parvis.services import trends
from parvis.services.context import Work
from parvis.services.timelines import flags_for

router = APIRouter(tags=["trends"], responses=ERRORS)
READ = "read:statuses"

Offset = Annotated[int, Query(ge=0, le=10_000, description="Skip this many results.")]


def _limit(value: int | None, default: int, maximum: int) -> int:
    return default if value is None else min(value, maximum)


def _tags(rt: Any, token: Any, offset: int, limit: int | None) -> Response:
    size = _limit(limit, 10, 20)

    def run(work: Work) -> list[dict[str, Any]]:
        auth.maybe_user(work, token, "read")
        return [
            trending_tag_json(t, work.settings) for t in trends.trending_tags(work, offset, size)
        ]

    return json_response(rt.read(run))


@router.get("/api/v1/trends/tags", response_model=list[schemas.TrendingTag])
def trending_tags(
    rt: RuntimeDep,
    token: TokenDep,
    offset: Offset = 0,
    limit: Annotated[int | None, Query(ge=1, le=10_000)] = None,
) -> Response:
    """Hashtags used by the most accounts lately (10 by default, at most 20), each with 7 days
    of history."""
    return _tags(rt, token, offset, limit)


@router.get("/api/v1/trends", response_model=list[schemas.TrendingTag])
def trends_alias(
    rt: RuntimeDep,
    token: TokenDep,
    offset: Offset = 0,
    limit: Annotated[int | None, Query(ge=1, le=10_000)] = None,
) -> Response:
    """Same as /api/v1/trends/tags (Mastodon's older path)."""
    return _tags(rt, token, offset, limit)


@router.get("/api/v1/trends/statuses", response_model=list[schemas.Status])
def trending_statuses(
    rt: RuntimeDep,
    token: TokenDep,
    offset: Offset = 0,
    limit: Annotated[int | None, Query(ge=1, le=10_000)] = None,
) -> Response:
    """Public posts of the last 48 hours that the most accounts interacted with, with a 6-hour
    half-life (20 by default, at most 40)."""
    size = _limit(limit, 20, 40)

    def run(work: Work) -> list[dict[str, Any]]:
        me = auth.maybe_user(work, token, READ)
        viewer = me.account_id if me else None
        found = trends.trending_statuses(work, viewer, offset, size)
        flags = flags_for(work, viewer, found)
        return [status_json(s, flags, work.settings, viewer) for s in found]

    return json_response(rt.read(run))


@router.get("/api/v1/trends/links", response_model=list[dict[str, Any]])
def trending_links(
    offset: Offset = 0, limit: Annotated[int | None, Query(ge=1, le=10_000)] = None
) -> Response:
    """Trending links need link preview cards, which Parvis does not fetch yet: always []."""
    del offset, limit
    return json_response([])
