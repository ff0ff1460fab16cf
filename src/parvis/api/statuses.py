"""/api/v1/statuses: post, read, delete, boost, favourite, bookmark, pin."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Annotated, Any

from fastapi import APIRouter, Header, Query, Request
from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, NaiveDatetime
from starlette.responses import Response

from parvis.api import auth, schemas
from parvis.api.auth import RequiredTokenDep, TokenDep
from parvis.api.deps import ERRORS, RuntimeDep, ids_param, in_thread, json_response, path_id
from parvis.api.errors import ApiError
from parvis.api.pagination import AccountPageDep, PageDep, link_header
from parvis.api.params import body_schema, read_params, validate
from parvis.api.serializers import (
    account_json,
    scheduled_status_json,
    status_edit_json,
    status_json,
)
from parvis.domain.ids import parse_id
from parvis.domain.models import Status
from parvis.services import (
    edits,
    interactions,
    posting,
    quotes,
    scheduled,
    thread_mutes,
    timelines,
)
from parvis.services.context import Work
from parvis.storage.scheduled import ScheduledRow

router = APIRouter(tags=["statuses"], responses=ERRORS)


class PollForm(BaseModel):
    model_config = ConfigDict(extra="ignore")
    options: list[Annotated[str, Field(max_length=1000)]] = Field(max_length=20)
    expires_in: int = Field(ge=0, le=100_000_000)
    multiple: bool = False
    hide_totals: bool = False

    def spec(self) -> posting.PollSpec:
        return posting.PollSpec(
            tuple(self.options), self.expires_in, self.multiple, self.hide_totals
        )


class StatusForm(BaseModel):
    model_config = ConfigDict(extra="ignore")
    status: str | None = Field(None, max_length=100_000)
    media_ids: list[str] = Field(default_factory=list, max_length=20)
    in_reply_to_id: str | None = None
    sensitive: bool | None = None
    spoiler_text: str | None = Field(None, max_length=10_000)
    visibility: str | None = None
    language: str | None = Field(None, max_length=16)
    scheduled_at: AwareDatetime | NaiveDatetime | None = None
    poll: PollForm | None = None
    quoted_status_id: str | None = None
    quote_approval_policy: str | None = Field(None, max_length=32)
    reply_policy: str | None = Field(None, max_length=32)


class MediaAttributeForm(BaseModel):
    model_config = ConfigDict(extra="ignore")
    id: str
    description: str | None = Field(None, max_length=10_000)
    focus: str | None = Field(None, max_length=64)
    thumbnail: Any = None


class EditForm(BaseModel):
    model_config = ConfigDict(extra="ignore")
    status: str | None = Field(None, max_length=100_000)
    spoiler_text: str | None = Field(None, max_length=10_000)
    sensitive: bool | None = None
    language: str | None = Field(None, max_length=16)
    media_ids: list[str] = Field(default_factory=list, max_length=20)
    # A JSON list, or the form encoding `media_attributes[0][id]=…` (a dict keyed by index).
    media_attributes: list[MediaAttributeForm] | dict[str, MediaAttributeForm] = Field(
        default_factory=list
    )
    poll: PollForm | None = None
    reply_policy: str | None = Field(None, max_length=32)


class InteractionPolicyForm(BaseModel):
    model_config = ConfigDict(extra="ignore")
    quote_approval_policy: str | None = Field(None, max_length=32)


class ReblogForm(BaseModel):
    model_config = ConfigDict(extra="ignore")
    visibility: str | None = None


def render(work: Work, status: Status, viewer_id: int | None) -> dict[str, Any]:
    _, flags = timelines.filtered(work, viewer_id, [status], "thread")
    return status_json(status, flags, work.settings, viewer_id)


def as_utc(moment: datetime) -> datetime:
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def render_scheduled(work: Work, row: ScheduledRow) -> dict[str, Any]:
    media = work.store.media.get_many(list(row.media_ids)) if row.media_ids else []
    return scheduled_status_json(row.id, row.scheduled_at, row.params, media, work.settings)


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
    in_reply_to = _id_field(form.in_reply_to_id, "in_reply_to_id")
    quoted = _id_field(form.quoted_status_id, "quoted_status_id")

    def run(work: Work) -> dict[str, Any]:
        me = auth.user(work, token, "write:statuses")
        new = posting.NewStatus(
            text=form.status or "",
            spoiler_text=form.spoiler_text or "",
            sensitive=form.sensitive,
            visibility=form.visibility,
            language=form.language,
            in_reply_to_id=in_reply_to,
            media_ids=tuple(ids_param(form.media_ids, "media_ids")),
            application_id=me.app_id,
            idempotency_key=idempotency_key,
            poll=form.poll.spec() if form.poll else None,
            quoted_status_id=quoted,
            quote_approval_policy=form.quote_approval_policy,
            reply_policy=form.reply_policy,
        )
        if form.scheduled_at is not None:
            row = scheduled.schedule(work, me.account_id, new, as_utc(form.scheduled_at))
            return render_scheduled(work, row)
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
        flags = ctx.flags
        return {
            "ancestors": [status_json(s, flags, work.settings, viewer) for s in ctx.ancestors],
            "descendants": [status_json(s, flags, work.settings, viewer) for s in ctx.descendants],
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
    ("mute", "write:mutes", thread_mutes.mute),
    ("unmute", "write:mutes", thread_mutes.unmute),
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


def _id_field(value: str | None, name: str) -> int | None:
    if value is None or value == "":
        return None
    parsed = parse_id(value)
    if parsed is None:
        raise ApiError(422, f"Validation failed: {name} must be a numeric id")
    return parsed


# --- edits ------------------------------------------------------------------------------------


@router.put(
    "/api/v1/statuses/{id}", response_model=schemas.Status, openapi_extra=body_schema(EditForm)
)
async def edit_status(
    id: str, request: Request, rt: RuntimeDep, token: RequiredTokenDep
) -> Response:
    form = validate(EditForm, await read_params(request, include_query=False))
    status_id = path_id(id)
    attrs = (
        list(form.media_attributes.values())
        if isinstance(form.media_attributes, dict)
        else form.media_attributes
    )
    change = edits.StatusChange(
        text=form.status or "",
        spoiler_text=form.spoiler_text or "",
        sensitive=form.sensitive,
        language=form.language,
        media_ids=tuple(ids_param(form.media_ids, "media_ids")),
        media_attributes=tuple(
            edits.MediaAttribute(
                id=ids_param([a.id], "media_attributes")[0],
                description=a.description,
                focus=a.focus,
            )
            for a in attrs
        ),
        poll=form.poll.spec() if form.poll else None,
        reply_policy=form.reply_policy,
    )

    def run(work: Work) -> dict[str, Any]:
        me = auth.user(work, token, "write:statuses")
        status = edits.edit_status(work, me.account_id, status_id, change)
        return render(work, status, me.account_id)

    return json_response(await in_thread(rt.write, run))


@router.get("/api/v1/statuses/{id}/history", response_model=list[schemas.StatusEdit])
def status_history(id: str, rt: RuntimeDep, token: TokenDep) -> Response:
    def run(work: Work) -> list[dict[str, Any]]:
        me = auth.maybe_user(work, token, "read:statuses")
        viewer = me.account_id if me else None
        status = posting.visible_status(work, viewer, path_id(id))
        if status.reblog is not None:
            raise ApiError(404, "Record not found")
        return [
            status_edit_json(
                status.account,
                content=r.content,
                spoiler_text=r.spoiler_text,
                sensitive=r.sensitive,
                created_at=r.created_at,
                media=r.media,
                poll_options=r.poll_options,
                settings=work.settings,
            )
            for r in edits.history(work, status)
        ]

    return json_response(rt.read(run))


@router.get("/api/v1/statuses/{id}/source", response_model=schemas.StatusSource)
def status_source(id: str, rt: RuntimeDep, token: RequiredTokenDep) -> Response:
    def run(work: Work) -> dict[str, Any]:
        me = auth.user(work, token, "read:statuses")
        status = edits.own_status(work, me.account_id, path_id(id))
        return {"id": str(status.id), "text": status.text, "spoiler_text": status.spoiler_text}

    return json_response(rt.read(run))


# --- quotes -----------------------------------------------------------------------------------


@router.get("/api/v1/statuses/{id}/quotes", response_model=list[schemas.Status])
def status_quotes(
    id: str, request: Request, rt: RuntimeDep, token: RequiredTokenDep, page: PageDep
) -> Response:
    def run(work: Work) -> tuple[list[dict[str, Any]], int | None, int | None]:
        me = auth.user(work, token, "read:statuses")
        found = quotes.quotes_of(work, me.account_id, path_id(id), page)
        body = [status_json(s, found.flags, work.settings, me.account_id) for s in found.statuses]
        return body, found.first_id, found.last_id

    body, first, last = rt.read(run)
    return json_response(body, headers=link_header(request, first, last))


@router.post(
    "/api/v1/statuses/{id}/quotes/{quoting_status_id}/revoke", response_model=schemas.Status
)
def revoke_quote(
    id: str, quoting_status_id: str, rt: RuntimeDep, token: RequiredTokenDep
) -> Response:
    def run(work: Work) -> dict[str, Any]:
        me = auth.user(work, token, "write:statuses")
        quoting = quotes.revoke(work, me.account_id, path_id(id), path_id(quoting_status_id))
        return render(work, quoting, me.account_id)

    return json_response(rt.write(run))


@router.put(
    "/api/v1/statuses/{id}/interaction_policy",
    response_model=schemas.Status,
    openapi_extra=body_schema(InteractionPolicyForm),
)
async def interaction_policy(
    id: str, request: Request, rt: RuntimeDep, token: RequiredTokenDep
) -> Response:
    form = validate(InteractionPolicyForm, await read_params(request, include_query=False))

    def run(work: Work) -> dict[str, Any]:
        me = auth.user(work, token, "write:statuses")
        status = quotes.set_policy(work, me.account_id, path_id(id), form.quote_approval_policy)
        return render(work, status, me.account_id)

    return json_response(await in_thread(rt.write, run))
