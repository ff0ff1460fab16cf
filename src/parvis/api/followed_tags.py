"""Followed hashtags: /api/v1/tags/{name}/follow, /unfollow and /api/v1/followed_tags."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from fastapi import APIRouter, Request
from starlette.responses import Response

from parvis.api import auth, schemas
from parvis.api.auth import RequiredTokenDep
from parvis.api.deps import ERRORS, RuntimeDep, json_response
from parvis.api.pagination import AccountPageDep, link_header
from parvis.api.search import tag_json
from parvis.services import followed_tags
from parvis.services.context import Work
from parvis.services.search import Hashtag

router = APIRouter(tags=["tags"], responses=ERRORS)


def _action(following: bool) -> Callable[..., Response]:
    def endpoint(name: str, rt: RuntimeDep, token: RequiredTokenDep) -> Response:
        def run(work: Work) -> dict[str, Any]:
            me = auth.user(work, token, "write:follows")
            act = followed_tags.follow if following else followed_tags.unfollow
            return tag_json(act(work, me.account_id, name), work.settings, following=following)

        return json_response(rt.write(run))

    return endpoint


for _path, _following in (
    ("/api/v1/tags/{name}/follow", True),
    ("/api/v1/tags/{name}/unfollow", False),
):
    router.add_api_route(
        _path,
        _action(_following),
        methods=["POST"],
        response_model=schemas.Tag,
        name=_path,
    )


@router.get("/api/v1/followed_tags", response_model=list[schemas.Tag])
def followed(
    request: Request, rt: RuntimeDep, token: RequiredTokenDep, page: AccountPageDep
) -> Response:
    def run(work: Work) -> tuple[list[dict[str, Any]], dict[str, str]]:
        me = auth.user(work, token, "read:follows")
        rows = work.store.tag_follows.page(me.account_id, **page.kw())
        if page.min_id is not None:
            rows.reverse()
        body = [
            tag_json(Hashtag(tag_id, name, display), work.settings, following=True)
            for _, tag_id, name, display in rows
        ]
        return body, link_header(
            request, rows[0][0] if rows else None, rows[-1][0] if rows else None
        )

    body, headers = rt.read(run)
    return json_response(body, headers=headers)
