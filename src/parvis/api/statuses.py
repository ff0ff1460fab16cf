"""/api/v1/statuses: post, read, delete, boost, favourite, bookmark, pin."""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, Any

from fastapi import APIRouter, Header, Query, Request
from pydantic import BaseModel, ConfigDict, Field
from starlette.responses import Response

from parvis.api import auth, schemas
from parvis.api.auth import RequiredTokenDep, TokenDep
from parvis.api.deps import ERRORS, RuntimeDep, ids_param, in_thread, json_response, path_id
from parvis.api.errors import ApiError
from parvis.api.pagination import AccountPageDep, link_header
from parvis.api.params import body_schema, read_params, validate
from parvis.api.serializers import account_json, status_json
from parvis.domain.models import Status
from parvis.services import interactions, posting, timelines
from parvis.services.context import Work

router = APIRouter(tags=["statuses"], responses=ERRORS)


class StatusForm(BaseModel):
    model_config = ConfigDict(extra="ignore")
    status: str | None = Field(None, max_length=100_000)
    media_ids: list[str] = Field(default_factory=list, max_length=20)
    in_reply_to_id: str | None = None
    sensitive: bool | None = None
    spoiler_text: str | None = Field(None, max_length=10_000)
    visibility: str | None = None
    language: str | None = Field(None, max_length=16)
    scheduled_at: str | None = None


class ReblogForm(BaseModel):
    model_config = ConfigDict(extra="ignore")
    visibility: str | None = None


def render(work: Work, status: Status, viewer_id: int | None) -> dict[str, Any]:
    flags = timelines.flags_for(work, viewer_id, [status])
    return status_json(status, flags, work.settings, viewer_id)


@router.post(
    "/api/v1/statuses", response_model=schemas.Status, openapi_extra=body_schema(StatusForm)
)
async def create_status(
    request: Request,
    rt: RuntimeDep,
    token: RequiredTokenDep,
    idempotency_key: Annotated[str | None, Header()] = None,
) -> Response:
    form = validate(StatusForm, await read_params(request, include_query=False))
    if form.scheduled_at:
        raise ApiError(422, "Validation failed: scheduled posts are not supported yet")

    def run(work: Work) -> dict[str, Any]:
        me = auth.user(work, token, "write:statuses")
        new = posting.NewStatus(
            text=form.status or "",
            spoiler_text=form.spoiler_text or "",
            sensitive=form.sensitive,
            visibility=form.visibility,
            language=form.language,
            in_reply_to_id=path_id(form.in_reply_to_id) if form.in_reply_to_id else None,
            media_ids=tuple(ids_param(form.media_ids, "media_ids")),
            application_id=me.app_id,
            idempotency_key=idempotency_key,
        )
        return render(work, posting.create_status(work, me.account_id, new), me.account_id)

    return json_response(await in_thread(rt.write, run))


@router.get("/api/v1/statuses/{id}", response_model=schemas.Status)
def get_status(id: str, rt: RuntimeDep, token: TokenDep) -> Response:
    def run(work: Work) -> dict[str, Any]:
        me = auth.maybe_user(work, token, "read:statuses")
        viewer = me.account_id if me else None
        return render(work, posting.visible_status(work, viewer, path_id(id)), viewer)

    return json_response(rt.read(run))


@router.get("/api/v1/statuses", response_model=list[schemas.Status])
def get_statuses(
    rt: RuntimeDep,
    token: TokenDep,
    ids: Annotated[list[str] | None, Query(alias="id[]")] = None,
    id: Annotated[list[str] | None, Query()] = None,  # Mastodon accepts ?id=1 too
) -> Response:
    wanted = ids_param((ids or []) + (id or []))

    def run(work: Work) -> list[dict[str, Any]]:
        me = auth.maybe_user(work, token, "read:statuses")
        viewer = me.account_id if me else None
        found = timelines.visible(work, viewer, wanted)
        flags = timelines.flags_for(work, viewer, found)
        return [status_json(s, flags, work.settings, viewer) for s in found]

    return json_response(rt.read(run))


@router.delete("/api/v1/statuses/{id}", response_model=schemas.Status)
def delete_status(id: str, rt: RuntimeDep, token: RequiredTokenDep) -> Response:
    def run(work: Work) -> dict[str, Any]:
        me = auth.user(work, token, "write:statuses")
        status = posting.delete_status(work, me.account_id, path_id(id))
        out = status_json(status, timelines.flags_for(work, None, []), work.settings, me.account_id)
        out["text"] = status.text  # Mastodon returns the source, for "delete and redraft"
        return out

    return json_response(rt.write(run))


@router.get("/api/v1/statuses/{id}/context", response_model=schemas.Context)
def status_context(id: str, rt: RuntimeDep, token: TokenDep) -> Response:
    def run(work: Work) -> dict[str, Any]:
        me = auth.maybe_user(work, token, "read:statuses")
        viewer = me.account_id if me else None
        ctx = timelines.context(work, viewer, path_id(id))
        return {
            "ancestors": [status_json(s, ctx.flags, work.settings, viewer) for s in ctx.ancestors],
            "descendants": [
                status_json(s, ctx.flags, work.settings, viewer) for s in ctx.descendants
            ],
        }

    return json_response(rt.read(run))


def _action(scope: str, action: Callable[[Work, int, int], Status]) -> Callable[..., Response]:
    def endpoint(id: str, rt: RuntimeDep, token: RequiredTokenDep) -> Response:
        def run(work: Work) -> dict[str, Any]:
            me = auth.user(work, token, scope)
            return render(work, action(work, me.account_id, path_id(id)), me.account_id)

        return json_response(rt.write(run))

    return endpoint


for _path, _scope, _fn in (
    ("favourite", "write:favourites", interactions.favourite),
    ("unfavourite", "write:favourites", interactions.unfavourite),
    ("bookmark", "write:bookmarks", interactions.bookmark),
    ("unbookmark", "write:bookmarks", interactions.unbookmark),
    ("pin", "write:accounts", interactions.pin),
    ("unpin", "write:accounts", interactions.unpin),
    ("unreblog", "write:statuses", posting.unreblog),
):
    router.add_api_route(
        f"/api/v1/statuses/{{id}}/{_path}",
        _action(_scope, _fn),
        methods=["POST"],
        response_model=schemas.Status,
        name=f"status_{_path}",
    )


@router.post(
    "/api/v1/statuses/{id}/reblog",
    response_model=schemas.Status,
    openapi_extra=body_schema(ReblogForm),
)
async def reblog(id: str, request: Request, rt: RuntimeDep, token: RequiredTokenDep) -> Response:
    form = validate(ReblogForm, await read_params(request, include_query=False))

    def run(work: Work) -> dict[str, Any]:
        me = auth.user(work, token, "write:statuses")
        status = posting.reblog(work, me.account_id, path_id(id), form.visibility)
        return render(work, status, me.account_id)

    return json_response(await in_thread(rt.write, run))


def _who(kind: str) -> Callable[..., Response]:
    def endpoint(
        id: str,
        request: Request,
        rt: RuntimeDep,
        token: TokenDep,
        page: AccountPageDep,
    ) -> Response:
        def run(work: Work) -> tuple[list[dict[str, Any]], int | None, int | None]:
            me = auth.maybe_user(work, token, "read:statuses")
            status = posting.visible_status(work, me.account_id if me else None, path_id(id))
            if kind == "reblogs":
                pairs = [(rid, aid) for rid, aid in work.store.statuses.reblogs_of(status.id)]
                pairs.sort(reverse=True)
                pairs = [p for p in pairs if (page.max_id is None or p[0] < page.max_id)][
                    : page.limit
                ]
            else:
                pairs = work.store.interactions.accounts_who(kind, status.id, **page.kw())
            accounts = work.store.accounts.get_many(a for _, a in pairs)
            body = [account_json(accounts[a], work.settings) for _, a in pairs if a in accounts]
            return body, (pairs[0][0] if pairs else None), (pairs[-1][0] if pairs else None)

        body, first, last = rt.read(run)
        return json_response(body, headers=link_header(request, first, last))

    return endpoint


router.add_api_route(
    "/api/v1/statuses/{id}/favourited_by",
    _who("favourites"),
    methods=["GET"],
    response_model=list[schemas.Account],
    name="favourited_by",
)
router.add_api_route(
    "/api/v1/statuses/{id}/reblogged_by",
    _who("reblogs"),
    methods=["GET"],
    response_model=list[schemas.Account],
    name="reblogged_by",
)
