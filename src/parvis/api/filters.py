"""/api/v2/filters (filter groups, their keywords and statuses) and the v1 view of them."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from pydantic import BaseModel, ConfigDict, Field
from starlette.responses import Response

from parvis.api import auth, schemas
from parvis.api.auth import RequiredTokenDep
from parvis.api.deps import ERRORS, RuntimeDep, in_thread, json_response, path_id
from parvis.api.errors import ApiError
from parvis.api.filter_shapes import (
    filter_json,
    filter_status_json,
    keyword_json,
    v1_filters_json,
)
from parvis.api.params import body_schema, read_params, validate
from parvis.domain.ids import parse_id
from parvis.services import filters
from parvis.services.context import Work
from parvis.services.filters import KeywordChange

router = APIRouter(tags=["filters"], responses=ERRORS)

KEYWORD_MAX = 512


class KeywordAttributes(BaseModel):
    model_config = ConfigDict(extra="ignore", populate_by_name=True)
    keyword: str | None = Field(None, max_length=KEYWORD_MAX)
    whole_word: bool | None = None
    id: str | None = Field(None, max_length=20)
    destroy: bool = Field(False, alias="_destroy")


class FilterForm(BaseModel):
    model_config = ConfigDict(extra="ignore")
    title: str | None = Field(None, max_length=255)
    context: list[str] | None = Field(None, max_length=10)
    filter_action: str | None = Field(None, max_length=16)
    expires_in: int | str | None = None
    keywords_attributes: list[KeywordAttributes] | dict[str, KeywordAttributes] | None = None


class KeywordForm(BaseModel):
    model_config = ConfigDict(extra="ignore")
    keyword: str | None = Field(None, max_length=KEYWORD_MAX)
    whole_word: bool | None = None


class FilterStatusForm(BaseModel):
    model_config = ConfigDict(extra="ignore")
    status_id: str = Field(..., max_length=20)


async def _filter_form(request: Request) -> tuple[FilterForm, bool]:
    data = await read_params(request)
    if isinstance(data.get("context"), str):  # context=home (without [])
        data["context"] = [data["context"]]
    return validate(FilterForm, data), "expires_in" in data


def _expires_in(value: int | str | None) -> int | None:
    if value is None or value == "":
        return None
    if isinstance(value, int):
        return value
    try:
        return int(value)
    except ValueError:
        raise ApiError(422, "Validation failed: expires_in must be a number of seconds") from None


def _changes(form: FilterForm) -> list[KeywordChange]:
    raw = form.keywords_attributes or []
    items = (
        [raw[k] for k in sorted(raw, key=lambda k: (not k.isdecimal(), k.zfill(8)))]
        if isinstance(raw, dict)
        else raw
    )
    out = []
    for item in items:
        kid = None
        if item.id:
            kid = parse_id(item.id)
            if kid is None:
                raise ApiError(404, "Record not found")
        out.append(KeywordChange(item.keyword, item.whole_word, kid, item.destroy))
    return out


@router.get("/api/v2/filters", response_model=list[schemas.Filter])
def index(rt: RuntimeDep, token: RequiredTokenDep) -> Response:
    def run(work: Work) -> list[dict[str, Any]]:
        me = auth.user(work, token, "read:filters")
        return [filter_json(f) for f in work.store.filters.of_account(me.account_id)]

    return json_response(rt.read(run))


@router.post(
    "/api/v2/filters", response_model=schemas.Filter, openapi_extra=body_schema(FilterForm)
)
async def create(request: Request, rt: RuntimeDep, token: RequiredTokenDep) -> Response:
    form, _ = await _filter_form(request)
    if form.title is None:
        raise ApiError(422, "Validation failed: title: Field required")
    if form.context is None:
        raise ApiError(422, "Validation failed: context: Field required")
    changes = _changes(form)
    expires_in = _expires_in(form.expires_in)

    def run(work: Work) -> dict[str, Any]:
        me = auth.user(work, token, "write:filters")
        made = filters.create(
            work,
            me.account_id,
            title=form.title or "",
            context=form.context or [],
            action=form.filter_action or "warn",
            expires_in=expires_in,
            keywords=changes,
        )
        return filter_json(made)

    return json_response(await in_thread(rt.write, run))


@router.get("/api/v2/filters/{id}", response_model=schemas.Filter)
def show(id: str, rt: RuntimeDep, token: RequiredTokenDep) -> Response:
    def run(work: Work) -> dict[str, Any]:
        me = auth.user(work, token, "read:filters")
        return filter_json(filters.owned(work, me.account_id, path_id(id)))

    return json_response(rt.read(run))


@router.put(
    "/api/v2/filters/{id}", response_model=schemas.Filter, openapi_extra=body_schema(FilterForm)
)
async def update(id: str, request: Request, rt: RuntimeDep, token: RequiredTokenDep) -> Response:
    form, expires_given = await _filter_form(request)
    changes = _changes(form)
    expires_in = _expires_in(form.expires_in)

    def run(work: Work) -> dict[str, Any]:
        me = auth.user(work, token, "write:filters")
        changed = filters.update(
            work,
            me.account_id,
            path_id(id),
            title=form.title,
            context=form.context,
            action=form.filter_action,
            expires_in=expires_in,
            expires_in_given=expires_given,
            keywords=changes,
        )
        return filter_json(changed)

    return json_response(await in_thread(rt.write, run))


@router.delete("/api/v2/filters/{id}", response_model=schemas.Empty)
def destroy(id: str, rt: RuntimeDep, token: RequiredTokenDep) -> Response:
    def run(work: Work) -> dict[str, Any]:
        me = auth.user(work, token, "write:filters")
        filters.delete(work, me.account_id, path_id(id))
        return {}

    return json_response(rt.write(run))


# -- keywords ------------------------------------------------------------------------------


@router.get("/api/v2/filters/{id}/keywords", response_model=list[schemas.FilterKeyword])
def keywords(id: str, rt: RuntimeDep, token: RequiredTokenDep) -> Response:
    def run(work: Work) -> list[dict[str, Any]]:
        me = auth.user(work, token, "read:filters")
        return [keyword_json(k) for k in filters.owned(work, me.account_id, path_id(id)).keywords]

    return json_response(rt.read(run))


@router.post(
    "/api/v2/filters/{id}/keywords",
    response_model=schemas.FilterKeyword,
    openapi_extra=body_schema(KeywordForm),
)
async def add_keyword(
    id: str, request: Request, rt: RuntimeDep, token: RequiredTokenDep
) -> Response:
    form = validate(KeywordForm, await read_params(request))
    if form.keyword is None:
        raise ApiError(422, "Validation failed: keyword: Field required")

    def run(work: Work) -> dict[str, Any]:
        me = auth.user(work, token, "write:filters")
        whole = True if form.whole_word is None else form.whole_word
        made = filters.add_keyword(work, me.account_id, path_id(id), form.keyword or "", whole)
        return keyword_json(made)

    return json_response(await in_thread(rt.write, run))


@router.get("/api/v2/filters/keywords/{id}", response_model=schemas.FilterKeyword)
def show_keyword(id: str, rt: RuntimeDep, token: RequiredTokenDep) -> Response:
    def run(work: Work) -> dict[str, Any]:
        me = auth.user(work, token, "read:filters")
        return keyword_json(filters.owned_keyword(work, me.account_id, path_id(id)))

    return json_response(rt.read(run))


@router.put(
    "/api/v2/filters/keywords/{id}",
    response_model=schemas.FilterKeyword,
    openapi_extra=body_schema(KeywordForm),
)
async def update_keyword(
    id: str, request: Request, rt: RuntimeDep, token: RequiredTokenDep
) -> Response:
    form = validate(KeywordForm, await read_params(request))

    def run(work: Work) -> dict[str, Any]:
        me = auth.user(work, token, "write:filters")
        changed = filters.update_keyword(
            work, me.account_id, path_id(id), form.keyword, form.whole_word
        )
        return keyword_json(changed)

    return json_response(await in_thread(rt.write, run))


@router.delete("/api/v2/filters/keywords/{id}", response_model=schemas.Empty)
def delete_keyword(id: str, rt: RuntimeDep, token: RequiredTokenDep) -> Response:
    def run(work: Work) -> dict[str, Any]:
        me = auth.user(work, token, "write:filters")
        filters.delete_keyword(work, me.account_id, path_id(id))
        return {}

    return json_response(rt.write(run))


# -- statuses ------------------------------------------------------------------------------


@router.get("/api/v2/filters/{id}/statuses", response_model=list[schemas.FilterStatus])
def statuses(id: str, rt: RuntimeDep, token: RequiredTokenDep) -> Response:
    def run(work: Work) -> list[dict[str, Any]]:
        me = auth.user(work, token, "read:filters")
        found = filters.owned(work, me.account_id, path_id(id))
        return [filter_status_json(s) for s in found.statuses]

    return json_response(rt.read(run))


@router.post(
    "/api/v2/filters/{id}/statuses",
    response_model=schemas.FilterStatus,
    openapi_extra=body_schema(FilterStatusForm),
)
async def add_status(
    id: str, request: Request, rt: RuntimeDep, token: RequiredTokenDep
) -> Response:
    form = validate(FilterStatusForm, await read_params(request))
    status_id = parse_id(form.status_id)
    if status_id is None:
        raise ApiError(422, "Validation failed: status_id must be a numeric id")

    def run(work: Work) -> dict[str, Any]:
        me = auth.user(work, token, "write:filters")
        return filter_status_json(filters.add_status(work, me.account_id, path_id(id), status_id))

    return json_response(await in_thread(rt.write, run))


@router.get("/api/v2/filters/statuses/{id}", response_model=schemas.FilterStatus)
def show_status(id: str, rt: RuntimeDep, token: RequiredTokenDep) -> Response:
    def run(work: Work) -> dict[str, Any]:
        me = auth.user(work, token, "read:filters")
        return filter_status_json(filters.owned_status(work, me.account_id, path_id(id)))

    return json_response(rt.read(run))


@router.delete("/api/v2/filters/statuses/{id}", response_model=schemas.Empty)
def delete_status(id: str, rt: RuntimeDep, token: RequiredTokenDep) -> Response:
    def run(work: Work) -> dict[str, Any]:
        me = auth.user(work, token, "write:filters")
        filters.delete_status(work, me.account_id, path_id(id))
        return {}

    return json_response(rt.write(run))


# -- v1: one entry per keyword ---------------------------------------------------


@router.get("/api/v1/filters", response_model=list[schemas.V1Filter])
def v1_index(rt: RuntimeDep, token: RequiredTokenDep) -> Response:
    def run(work: Work) -> list[dict[str, Any]]:
        me = auth.user(work, token, "read:filters")
        return v1_filters_json(work.store.filters.of_account(me.account_id))

    return json_response(rt.read(run))


class V1FilterForm(BaseModel):
    model_config = ConfigDict(extra="ignore")
    phrase: str | None = Field(None, max_length=KEYWORD_MAX)
    context: list[str] | None = Field(None, max_length=10)
    irreversible: bool | None = None
    whole_word: bool | None = None
    expires_in: int | str | None = None


async def _v1_form(request: Request) -> tuple[V1FilterForm, bool]:
    data = await read_params(request)
    if isinstance(data.get("context"), str):
        data["context"] = [data["context"]]
    return validate(V1FilterForm, data), "expires_in" in data


def _v1_entry(work: Work, account_id: int, keyword_id: int) -> dict[str, Any]:
    for entry in v1_filters_json(work.store.filters.of_account(account_id)):
        if entry["id"] == str(keyword_id):
            return entry
    raise ApiError(404, "Record not found")


@router.post(
    "/api/v1/filters", response_model=schemas.V1Filter, openapi_extra=body_schema(V1FilterForm)
)
async def v1_create(request: Request, rt: RuntimeDep, token: RequiredTokenDep) -> Response:
    """v1 filters are v2 filter groups holding one keyword (titled by the phrase)."""
    form, _ = await _v1_form(request)
    if form.phrase is None or form.context is None:
        raise ApiError(422, "Validation failed: phrase and context are required")
    expires_in = _expires_in(form.expires_in)
    whole = True if form.whole_word is None else form.whole_word

    def run(work: Work) -> dict[str, Any]:
        me = auth.user(work, token, "write:filters")
        made = filters.create(
            work,
            me.account_id,
            title=(form.phrase or "")[:255],
            context=form.context or [],
            action="hide" if form.irreversible else "warn",
            expires_in=expires_in,
            keywords=[KeywordChange(form.phrase, whole)],
        )
        return _v1_entry(work, me.account_id, made.keywords[0].id)

    return json_response(await in_thread(rt.write, run))


@router.put(
    "/api/v1/filters/{id}", response_model=schemas.V1Filter, openapi_extra=body_schema(V1FilterForm)
)
async def v1_update(id: str, request: Request, rt: RuntimeDep, token: RequiredTokenDep) -> Response:
    form, expires_given = await _v1_form(request)
    expires_in = _expires_in(form.expires_in)

    def run(work: Work) -> dict[str, Any]:
        me = auth.user(work, token, "write:filters")
        kid = path_id(id)
        found = work.store.filters.keyword(kid)
        if found is None:
            raise ApiError(404, "Record not found")
        filters.update_keyword(work, me.account_id, kid, form.phrase, form.whole_word)
        filters.update(
            work,
            me.account_id,
            found[0],
            title=None,
            context=form.context,
            action=None if form.irreversible is None else ("hide" if form.irreversible else "warn"),
            expires_in=expires_in,
            expires_in_given=expires_given,
            keywords=[],
        )
        return _v1_entry(work, me.account_id, kid)

    return json_response(await in_thread(rt.write, run))


@router.delete("/api/v1/filters/{id}", response_model=schemas.Empty)
def v1_destroy(id: str, rt: RuntimeDep, token: RequiredTokenDep) -> Response:
    def run(work: Work) -> dict[str, Any]:
        me = auth.user(work, token, "write:filters")
        kid = path_id(id)
        found = work.store.filters.keyword(kid)
        filters.delete_keyword(work, me.account_id, kid)  # 404 unless the viewer's
        if found is not None and not filters.owned(work, me.account_id, found[0]).keywords:
            filters.delete(work, me.account_id, found[0])
        return {}

    return json_response(rt.write(run))


@router.get("/api/v1/filters/{id}", response_model=schemas.V1Filter)
def v1_show(id: str, rt: RuntimeDep, token: RequiredTokenDep) -> Response:
    def run(work: Work) -> dict[str, Any]:
        me = auth.user(work, token, "read:filters")
        return _v1_entry(work, me.account_id, path_id(id))

    return json_response(rt.read(run))
