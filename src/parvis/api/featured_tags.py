"""Featured hashtags: /api/v1/featured_tags (list, feature, unfeature, suggestions),
/api/v1/accounts/{id}/featured_tags and Mastodon 4.4's /api/v1/tags/{name}/feature, /unfeature."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any
from urllib.parse import quote

from fastapi import APIRouter, Request
from pydantic import BaseModel, ConfigDict, Field
from starlette.responses import Response

from parvis.api import auth, schemas
from parvis.api.auth import RequiredTokenDep, TokenDep
from parvis.api.deps import ERRORS, RuntimeDep, in_thread, json_response, path_id
from parvis.api.errors import ApiError
from parvis.api.params import body_schema, read_params, validate
from parvis.api.search import tag_json
from parvis.domain.models import Account
from parvis.services import featured_tags, followed_tags
from parvis.services.context import Work
from parvis.services.search import Hashtag
from parvis.storage.featured_tags import FeaturedTagRow

router = APIRouter(tags=["featured_tags"], responses=ERRORS)


class FeaturedTag(BaseModel):
    """Mastodon's FeaturedTag: statuses_count is a string, last_status_at a date (or null)."""

    model_config = ConfigDict(extra="allow")
    id: str
    name: str
    url: str
    statuses_count: str
    last_status_at: str | None


class FeatureForm(BaseModel):
    model_config = ConfigDict(extra="ignore")
    name: str | None = Field(None, max_length=1000)


def featured_tag_json(row: FeaturedTagRow, account: Account) -> dict[str, Any]:
    last = row.last_status_at
    return {
        "id": str(row.id),
        "name": row.name,
        "url": f"{account.url}/tagged/{quote(row.key)}",
        "statuses_count": str(row.statuses_count),
        "last_status_at": last.date().isoformat() if last is not None else None,
    }


def _me(work: Work, account_id: int) -> Account:
    account = work.store.accounts.get(account_id)
    assert account is not None  # the token's own account
    return account


def _tag_json(work: Work, account_id: int, tag: Hashtag, *, featuring: bool) -> dict[str, Any]:
    following = followed_tags.is_following(work, account_id, tag)
    return {**tag_json(tag, work.settings, following=following), "featuring": featuring}


@router.get("/api/v1/featured_tags", response_model=list[FeaturedTag])
def index(rt: RuntimeDep, token: RequiredTokenDep) -> Response:
    def run(work: Work) -> list[dict[str, Any]]:
        me = auth.user(work, token, "read:accounts")
        account = _me(work, me.account_id)
        return [featured_tag_json(f, account) for f in featured_tags.listed(work, account.id)]

    return json_response(rt.read(run))


@router.post(
    "/api/v1/featured_tags", response_model=FeaturedTag, openapi_extra=body_schema(FeatureForm)
)
async def create(request: Request, rt: RuntimeDep, token: RequiredTokenDep) -> Response:
    form = validate(FeatureForm, await read_params(request))
    if not (form.name or "").strip():
        raise ApiError(422, "Validation failed: name: Field required")
    name = form.name or ""

    def run(work: Work) -> dict[str, Any]:
        me = auth.user(work, token, "write:accounts")
        row = featured_tags.feature(work, me.account_id, name)
        return featured_tag_json(row, _me(work, me.account_id))

    return json_response(await in_thread(rt.write, run))


@router.get("/api/v1/featured_tags/suggestions", response_model=list[schemas.Tag])
def suggestions(rt: RuntimeDep, token: RequiredTokenDep) -> Response:
    def run(work: Work) -> list[dict[str, Any]]:
        me = auth.user(work, token, "read:accounts")
        tags = featured_tags.suggestions(work, me.account_id)
        return [_tag_json(work, me.account_id, t, featuring=False) for t in tags]

    return json_response(rt.read(run))


@router.delete("/api/v1/featured_tags/{id}", response_model=dict[str, Any])
def destroy(id: str, rt: RuntimeDep, token: RequiredTokenDep) -> Response:
    featured_id = path_id(id)

    def run(work: Work) -> dict[str, Any]:
        me = auth.user(work, token, "write:accounts")
        featured_tags.unfeature(work, me.account_id, featured_id)
        return {}

    return json_response(rt.write(run))


@router.get("/api/v1/accounts/{id}/featured_tags", response_model=list[FeaturedTag])
def of_account(id: str, rt: RuntimeDep, token: TokenDep) -> Response:
    account_id = path_id(id)

    def run(work: Work) -> list[dict[str, Any]]:
        auth.maybe_user(work, token, "read:accounts")
        rows = featured_tags.of_account(work, account_id)
        account = work.store.accounts.get(account_id)
        assert account is not None  # of_account said NotFound otherwise
        return [featured_tag_json(f, account) for f in rows]

    return json_response(rt.read(run))


def _action(featuring: bool) -> Callable[..., Response]:
    def endpoint(name: str, rt: RuntimeDep, token: RequiredTokenDep) -> Response:
        def run(work: Work) -> dict[str, Any]:
            me = auth.user(work, token, "write:accounts")
            act = featured_tags.feature_tag if featuring else featured_tags.unfeature_tag
            tag = act(work, me.account_id, name)
            return _tag_json(work, me.account_id, tag, featuring=featuring)

        return json_response(rt.write(run))

    return endpoint


for _path, _featuring in (
    ("/api/v1/tags/{name}/feature", True),
    ("/api/v1/tags/{name}/unfeature", False),
):
    router.add_api_route(
        _path,
        _action(_featuring),
        methods=["POST"],
        response_model=schemas.Tag,
        name=_path,
    )
