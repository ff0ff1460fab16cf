"""/api/v1/markers: read positions in the home and notifications timelines."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from pydantic import BaseModel, ConfigDict, Field
from starlette.responses import Response

from parvis.api import auth, schemas
from parvis.api.auth import RequiredTokenDep
from parvis.api.deps import ERRORS, RuntimeDep, in_thread, json_response
from parvis.api.errors import ApiError
from parvis.api.params import body_schema, read_params, validate
from parvis.api.serializers import ts
from parvis.domain.ids import parse_id
from parvis.domain.lists import Marker
from parvis.services import markers
from parvis.services.context import Work

router = APIRouter(tags=["markers"], responses=ERRORS)


class Position(BaseModel):
    model_config = ConfigDict(extra="ignore")
    last_read_id: str = Field(..., max_length=20)


class MarkersForm(BaseModel):
    model_config = ConfigDict(extra="ignore")
    home: Position | None = None
    notifications: Position | None = None


def _json(found: dict[str, Marker]) -> dict[str, Any]:
    return {
        name: {
            "last_read_id": str(m.last_read_id),
            "version": m.version,
            "updated_at": ts(m.updated_at),
        }
        for name, m in found.items()
    }


@router.get("/api/v1/markers", response_model=dict[str, schemas.Marker])
def get_markers(
    rt: RuntimeDep,
    token: RequiredTokenDep,
    timeline: Annotated[list[str] | None, Query(alias="timeline[]", max_length=10)] = None,
    timeline_plain: Annotated[list[str] | None, Query(alias="timeline", max_length=10)] = None,
) -> Response:
    wanted = (timeline or []) + (timeline_plain or [])

    def run(work: Work) -> dict[str, Any]:
        me = auth.user(work, token, "read:statuses")
        return _json(markers.get(work, me.account_id, wanted))

    return json_response(rt.read(run))


@router.post(
    "/api/v1/markers",
    response_model=dict[str, schemas.Marker],
    openapi_extra=body_schema(MarkersForm),
)
async def save_markers(request: Request, rt: RuntimeDep, token: RequiredTokenDep) -> Response:
    form = validate(MarkersForm, await read_params(request, include_query=False))
    positions: dict[str, int] = {}
    for name, pos in (("home", form.home), ("notifications", form.notifications)):
        if pos is None:
            continue
        parsed = parse_id(pos.last_read_id)
        if parsed is None:
            raise ApiError(422, f"Validation failed: {name}.last_read_id must be a numeric id")
        positions[name] = parsed
    if not positions:
        raise ApiError(
            422, "Validation failed: give home[last_read_id] or notifications[last_read_id]"
        )

    def run(work: Work) -> dict[str, Any]:
        me = auth.user(work, token, "write:statuses")
        return _json(markers.save(work, me.account_id, positions))

    return json_response(await in_thread(rt.write, run))
