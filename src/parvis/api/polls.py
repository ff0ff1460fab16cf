"""/api/v1/polls: read a poll, vote on it."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from pydantic import BaseModel, ConfigDict, Field
from starlette.responses import Response

from parvis.api import auth, schemas
from parvis.api.auth import RequiredTokenDep, TokenDep
from parvis.api.deps import ERRORS, RuntimeDep, in_thread, json_response, path_id
from parvis.api.params import body_schema, read_params, validate
from parvis.api.serializers import poll_json
from parvis.domain.models import Status
from parvis.services import polls
from parvis.services.context import Work
from parvis.services.timelines import flags_for

router = APIRouter(tags=["polls"], responses=ERRORS)


class VoteForm(BaseModel):
    model_config = ConfigDict(extra="ignore")
    choices: list[int] = Field(max_length=100)


def _render(work: Work, status: Status, viewer_id: int | None) -> dict[str, Any]:
    assert status.poll is not None
    flags = flags_for(work, viewer_id, [status])
    return poll_json(status.poll, flags, viewer_id, status.account.id)


@router.get("/api/v1/polls/{id}", response_model=schemas.Poll)
def get_poll(id: str, rt: RuntimeDep, token: TokenDep) -> Response:
    def run(work: Work) -> dict[str, Any]:
        me = auth.maybe_user(work, token, "read:statuses")
        viewer = me.account_id if me else None
        return _render(work, polls.poll_status(work, viewer, path_id(id)), viewer)

    return json_response(rt.read(run))


@router.post(
    "/api/v1/polls/{id}/votes", response_model=schemas.Poll, openapi_extra=body_schema(VoteForm)
)
async def vote(id: str, request: Request, rt: RuntimeDep, token: RequiredTokenDep) -> Response:
    form = validate(VoteForm, await read_params(request, include_query=False))
    poll_id = path_id(id)

    def run(work: Work) -> dict[str, Any]:
        me = auth.user(work, token, "write:statuses")
        status = polls.vote(work, me.account_id, poll_id, form.choices)
        return _render(work, status, me.account_id)

    return json_response(await in_thread(rt.write, run))
