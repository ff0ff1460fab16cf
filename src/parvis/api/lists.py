"""/api/v1/lists, their members, /api/v1/accounts/{id}/lists and /api/v1/timelines/list/{id}.

The ranked feeds appear among the lists as read-only `feed-<name>` ids (parvis.api.feeds)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from pydantic import BaseModel, ConfigDict, Field
from starlette.responses import Response

from parvis.api import auth, schemas
from parvis.api import feeds as feed_lists
from parvis.api.auth import RequiredTokenDep
from parvis.api.deps import ERRORS, RuntimeDep, ids_param, in_thread, json_response, path_id
from parvis.api.errors import ApiError
from parvis.api.pagination import Cursor, PageDep, link_header, paging
from parvis.api.params import body_schema, read_params, validate
from parvis.api.serializers import account_json, status_json
from parvis.domain.lists import UserList
from parvis.services import lists, timelines
from parvis.services.context import Work

router = APIRouter(tags=["lists"], responses=ERRORS)


class ListForm(BaseModel):
    model_config = ConfigDict(extra="ignore")
    title: str | None = Field(None, max_length=1000)
    replies_policy: str | None = Field(None, max_length=32)
    exclusive: bool | None = None


class AccountIdsForm(BaseModel):
    model_config = ConfigDict(extra="ignore")
    account_ids: list[str] = Field(..., min_length=1, max_length=250)


def list_json(item: UserList) -> dict[str, Any]:
    return {
        "id": str(item.id),
        "title": item.title,
        "replies_policy": item.replies_policy,
        "exclusive": item.exclusive,
    }


@router.get("/api/v1/lists", response_model=list[schemas.List])
def index(rt: RuntimeDep, token: RequiredTokenDep) -> Response:
    def run(work: Work) -> list[dict[str, Any]]:
        me = auth.user(work, token, "read:lists")
        own = [list_json(item) for item in work.store.lists.of_account(me.account_id)]
        return own + feed_lists.feed_lists(work, me.account_id)

    return json_response(rt.read(run))


@router.post("/api/v1/lists", response_model=schemas.List, openapi_extra=body_schema(ListForm))
async def create(request: Request, rt: RuntimeDep, token: RequiredTokenDep) -> Response:
    form = validate(ListForm, await read_params(request))
    if form.title is None:
        raise ApiError(422, "Validation failed: title: Field required")

    def run(work: Work) -> dict[str, Any]:
        me = auth.user(work, token, "write:lists")
        made = lists.create(
            work,
            me.account_id,
            form.title or "",
            form.replies_policy or "list",
            bool(form.exclusive),
        )
        return list_json(made)

    return json_response(await in_thread(rt.write, run))


@router.get("/api/v1/lists/{id}", response_model=schemas.List)
def show(id: str, rt: RuntimeDep, token: RequiredTokenDep) -> Response:
    def run(work: Work) -> dict[str, Any]:
        me = auth.user(work, token, "read:lists")
        if feed_lists.is_feed_list(id):
            return feed_lists.feed_list_json(feed_lists.feed_list(work, me.account_id, id))
        return list_json(lists.owned(work, me.account_id, path_id(id)))

    return json_response(rt.read(run))


@router.put("/api/v1/lists/{id}", response_model=schemas.List, openapi_extra=body_schema(ListForm))
async def update(id: str, request: Request, rt: RuntimeDep, token: RequiredTokenDep) -> Response:
    form = validate(ListForm, await read_params(request))

    def run(work: Work) -> dict[str, Any]:
        me = auth.user(work, token, "write:lists")
        if feed_lists.is_feed_list(id):
            feed_lists.refuse_change(work, me.account_id, id)
        changed = lists.update(
            work,
            me.account_id,
            path_id(id),
            title=form.title,
            replies_policy=form.replies_policy,
            exclusive=form.exclusive,
        )
        return list_json(changed)

    return json_response(await in_thread(rt.write, run))


@router.delete("/api/v1/lists/{id}", response_model=schemas.Empty)
def destroy(id: str, rt: RuntimeDep, token: RequiredTokenDep) -> Response:
    def run(work: Work) -> dict[str, Any]:
        me = auth.user(work, token, "write:lists")
        if feed_lists.is_feed_list(id):
            feed_lists.hide_feed_lists(work, me.account_id, id)
        else:
            lists.delete(work, me.account_id, path_id(id))
        return {}

    return json_response(rt.write(run))


@router.get("/api/v1/lists/{id}/accounts", response_model=list[schemas.Account])
def members(
    id: str,
    request: Request,
    rt: RuntimeDep,
    token: RequiredTokenDep,
    max_id: Cursor = None,
    since_id: Cursor = None,
    min_id: Cursor = None,
    limit: Annotated[int | None, Query(ge=0, le=10_000, description="0: all members")] = None,
) -> Response:
    everyone = limit == 0
    page = paging(max_id, since_id, min_id, None if everyone else limit, default=40, maximum=80)

    def run(work: Work) -> tuple[list[dict[str, Any]], dict[str, str]]:
        me = auth.user(work, token, "read:lists")
        if feed_lists.is_feed_list(id):
            feed_lists.refuse_change(work, me.account_id, id)
        found = lists.owned(work, me.account_id, path_id(id))
        kw = page.kw()
        pairs = work.store.lists.member_page(
            found.id,
            me.account_id,
            max_id=kw["max_id"],
            since_id=kw["since_id"],
            min_id=kw["min_id"],
            limit=None if everyone else kw["limit"],
        )
        if page.min_id is not None and not everyone:
            pairs.reverse()
        accounts = work.store.accounts.get_many(a for _, a in pairs)
        body = [
            account_json(accounts[a], work.settings)
            for _, a in pairs
            if a in accounts and not accounts[a].suspended
        ]
        if everyone or not pairs:
            return body, {}
        return body, link_header(request, pairs[0][0], pairs[-1][0])

    body, headers = rt.read(run)
    return json_response(body, headers=headers)


def _member_change(adding: bool) -> Any:
    async def endpoint(
        id: str, request: Request, rt: RuntimeDep, token: RequiredTokenDep
    ) -> Response:
        form = validate(AccountIdsForm, await read_params(request))
        wanted = ids_param(form.account_ids, "account_ids", maximum=250)

        def run(work: Work) -> dict[str, Any]:
            me = auth.user(work, token, "write:lists")
            if feed_lists.is_feed_list(id):
                feed_lists.refuse_change(work, me.account_id, id)
            if adding:
                lists.add_accounts(work, me.account_id, path_id(id), wanted)
            else:
                lists.remove_accounts(work, me.account_id, path_id(id), wanted)
            return {}

        return json_response(await in_thread(rt.write, run))

    return endpoint


for _method, _adding in (("POST", True), ("DELETE", False)):
    router.add_api_route(
        "/api/v1/lists/{id}/accounts",
        _member_change(_adding),
        methods=[_method],
        response_model=schemas.Empty,
        name=f"list_accounts_{_method.lower()}",
        openapi_extra=body_schema(AccountIdsForm),
    )


@router.get("/api/v1/accounts/{id}/lists", response_model=list[schemas.List])
def account_lists(id: str, rt: RuntimeDep, token: RequiredTokenDep) -> Response:
    def run(work: Work) -> list[dict[str, Any]]:
        me = auth.user(work, token, "read:lists")
        return [list_json(item) for item in lists.lists_with(work, me.account_id, path_id(id))]

    return json_response(rt.read(run))


@router.get("/api/v1/timelines/list/{list_id}", response_model=list[schemas.Status])
def list_timeline(
    list_id: str, request: Request, rt: RuntimeDep, token: RequiredTokenDep, page: PageDep
) -> Response:
    if feed_lists.is_feed_list(list_id):
        return feed_lists.list_timeline(list_id, request, rt, token, page)

    def run(work: Work) -> tuple[list[dict[str, Any]], dict[str, str]]:
        me = auth.user(work, token, "read:lists")
        result = timelines.list_timeline(work, me.account_id, path_id(list_id), page)
        body = [status_json(s, result.flags, work.settings, me.account_id) for s in result.statuses]
        return body, link_header(request, result.first_id, result.last_id)

    body, headers = rt.read(run)
    return json_response(body, headers=headers)
