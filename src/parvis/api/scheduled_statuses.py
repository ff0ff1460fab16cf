"""/api/v1/scheduled_statuses: posts waiting for their time (published by the `publish_due` job)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from pydantic import AwareDatetime, BaseModel, ConfigDict, NaiveDatetime
from starlette.responses import Response

from parvis.api import auth, schemas
from parvis.api.auth import RequiredTokenDep
from parvis.api.deps import ERRORS, RuntimeDep, in_thread, json_response, path_id
from parvis.api.pagination import PageDep, link_header
from parvis.api.params import body_schema, read_params, validate
from parvis.api.statuses import as_utc, render_scheduled
from parvis.services import scheduled
from parvis.services.context import Work

router = APIRouter(tags=["scheduled_statuses"], responses=ERRORS)


class RescheduleForm(BaseModel):
    model_config = ConfigDict(extra="ignore")
    scheduled_at: AwareDatetime | NaiveDatetime


@router.get("/api/v1/scheduled_statuses", response_model=list[schemas.ScheduledStatus])
def list_scheduled(
    request: Request, rt: RuntimeDep, token: RequiredTokenDep, page: PageDep
) -> Response:
    def run(work: Work) -> tuple[list[dict[str, Any]], int | None, int | None]:
        me = auth.user(work, token, "read:statuses")
        rows = work.store.scheduled.page(me.account_id, **page.kw())
        if page.min_id is not None:
            rows.reverse()
        body = [render_scheduled(work, r) for r in rows]
        return body, (rows[0].id if rows else None), (rows[-1].id if rows else None)

    body, first, last = rt.read(run)
    return json_response(body, headers=link_header(request, first, last))


@router.get("/api/v1/scheduled_statuses/{id}", response_model=schemas.ScheduledStatus)
def get_scheduled(id: str, rt: RuntimeDep, token: RequiredTokenDep) -> Response:
    def run(work: Work) -> dict[str, Any]:
        me = auth.user(work, token, "read:statuses")
        return render_scheduled(work, scheduled.get(work, me.account_id, path_id(id)))

    return json_response(rt.read(run))


@router.put(
    "/api/v1/scheduled_statuses/{id}",
    response_model=schemas.ScheduledStatus,
    openapi_extra=body_schema(RescheduleForm),
)
async def reschedule(
    id: str, request: Request, rt: RuntimeDep, token: RequiredTokenDep
) -> Response:
    form = validate(RescheduleForm, await read_params(request, include_query=False))
    scheduled_id = path_id(id)

    def run(work: Work) -> dict[str, Any]:
        me = auth.user(work, token, "write:statuses")
        row = scheduled.reschedule(work, me.account_id, scheduled_id, as_utc(form.scheduled_at))
        return render_scheduled(work, row)

    return json_response(await in_thread(rt.write, run))


@router.delete("/api/v1/scheduled_statuses/{id}", response_model=schemas.Empty)
def cancel_scheduled(id: str, rt: RuntimeDep, token: RequiredTokenDep) -> Response:
    def run(work: Work) -> dict[str, Any]:
        me = auth.user(work, token, "write:statuses")
        scheduled.cancel(work, me.account_id, path_id(id))
        return {}

    return json_response(rt.write(run))
