"""/api/v1/timelines: home, public (local/remote), hashtag; bookmarks and favourites lists."""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from starlette.responses import Response

from parvis.api import auth, schemas
from parvis.api.auth import RequiredTokenDep, TokenDep
from parvis.api.deps import ERRORS, RuntimeDep, json_response
from parvis.api.pagination import PageDep, link_header
from parvis.api.serializers import status_json
from parvis.domain.content import normalize_tag
from parvis.jobs.runtime import Runtime
from parvis.services import timelines
from parvis.services.context import Work
from parvis.services.timelines import StatusPage

router = APIRouter(tags=["timelines"], responses=ERRORS)


def _respond(
    request: Request, work: Work, page: StatusPage, viewer: int | None
) -> tuple[list[dict[str, Any]], dict[str, str]]:
    body = [status_json(s, page.flags, work.settings, viewer) for s in page.statuses]
    return body, link_header(request, page.first_id, page.last_id)


def _serve(
    rt: Runtime, run: Callable[[Work], tuple[list[dict[str, Any]], dict[str, str]]]
) -> Response:
    body, headers = rt.read(run)
    return json_response(body, headers=headers)


@router.get("/api/v1/timelines/home", response_model=list[schemas.Status])
def home(
    request: Request,
    rt: RuntimeDep,
    token: RequiredTokenDep,
    page: PageDep,
) -> Response:

    def run(work: Work) -> tuple[list[dict[str, Any]], dict[str, str]]:
        me = auth.user(work, token, "read:statuses")
        return _respond(request, work, timelines.home(work, me.account_id, page), me.account_id)

    return _serve(rt, run)


@router.get("/api/v1/timelines/public", response_model=list[schemas.Status])
def public(
    request: Request,
    rt: RuntimeDep,
    token: TokenDep,
    page: PageDep,
    local: bool = False,
    remote: bool = False,
    only_media: bool = False,
) -> Response:
    where = True if local else (False if remote else None)

    def run(work: Work) -> tuple[list[dict[str, Any]], dict[str, str]]:
        me = auth.maybe_user(work, token, "read:statuses")
        viewer = me.account_id if me else None
        result = timelines.public(work, viewer, page, local=where, only_media=only_media)
        return _respond(request, work, result, viewer)

    return _serve(rt, run)


# Mastodon reads at most 4 tags for each of any[], all[] and none[] and ignores the rest.
TAGS_PER_MODE = 4


Tags = list[str] | None


def _tag_keys(*given: list[str] | None) -> list[str]:
    names = [n for values in given for n in values or [] if n.strip().lstrip("#")]
    keys = [normalize_tag(n.strip().lstrip("#")) for n in names]
    return list(dict.fromkeys(keys))[:TAGS_PER_MODE]


@router.get("/api/v1/timelines/tag/{hashtag}", response_model=list[schemas.Status])
def tag(
    hashtag: str,
    request: Request,
    rt: RuntimeDep,
    token: TokenDep,
    page: PageDep,
    local: bool = False,
    remote: bool = False,
    only_media: bool = False,
    any_tags: Annotated[Tags, Query(alias="any[]", description="Or any of these tags")] = None,
    all_tags: Annotated[Tags, Query(alias="all[]", description="And all of these tags")] = None,
    none_tags: Annotated[Tags, Query(alias="none[]", description="And none of these")] = None,
    # ?any=x without brackets, as Mastodon accepts too
    any_one: Annotated[Tags, Query(alias="any", include_in_schema=False)] = None,
    all_one: Annotated[Tags, Query(alias="all", include_in_schema=False)] = None,
    none_one: Annotated[Tags, Query(alias="none", include_in_schema=False)] = None,
) -> Response:
    where = True if local else (False if remote else None)

    def run(work: Work) -> tuple[list[dict[str, Any]], dict[str, str]]:
        me = auth.maybe_user(work, token, "read:statuses")
        viewer = me.account_id if me else None
        result = timelines.hashtag(
            work,
            viewer,
            normalize_tag(hashtag.lstrip("#")),
            page,
            local=where,
            only_media=only_media,
            any_keys=_tag_keys(any_tags, any_one),
            all_keys=_tag_keys(all_tags, all_one),
            none_keys=_tag_keys(none_tags, none_one),
        )
        return _respond(request, work, result, viewer)

    return _serve(rt, run)


def _marks(kind: str, scope: str) -> Callable[..., Response]:
    def endpoint(
        request: Request,
        rt: RuntimeDep,
        token: RequiredTokenDep,
        page: PageDep,
    ) -> Response:

        def run(work: Work) -> tuple[list[dict[str, Any]], dict[str, str]]:
            me = auth.user(work, token, scope)
            result = timelines.by_marks(work, me.account_id, kind, page)
            return _respond(request, work, result, me.account_id)

        return _serve(rt, run)

    return endpoint


router.add_api_route(
    "/api/v1/bookmarks",
    _marks("bookmarks", "read:bookmarks"),
    methods=["GET"],
    response_model=list[schemas.Status],
    name="bookmarks",
)
router.add_api_route(
    "/api/v1/favourites",
    _marks("favourites", "read:favourites"),
    methods=["GET"],
    response_model=list[schemas.Status],
    name="favourites",
)
