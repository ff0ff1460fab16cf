"""/api/parvis/v1/account/deletion: an app asks for its user's account to be deleted, reads
when it will be erased, and cancels (services/deletion.py). Asking closes the account at once
and revokes every token but the one that asked: that token keeps working here only, so the
app can show the date and a way back."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from fastapi import APIRouter, Request
from pydantic import BaseModel, ConfigDict, Field
from starlette.responses import Response

from parvis.api import auth
from parvis.api.auth import RequiredTokenDep
from parvis.api.deps import ERRORS, RuntimeDep, in_thread, json_response
from parvis.api.params import body_schema, read_params, validate
from parvis.api.serializers import ts
from parvis.services import deletion
from parvis.services.context import Work

router = APIRouter(tags=["account deletion"], responses=ERRORS)
PATH = "/api/parvis/v1/account/deletion"


class DeletionForm(BaseModel):
    model_config = ConfigDict(extra="ignore")
    password: str = Field(..., min_length=1, max_length=1024, description="The user's password")


class DeletionState(BaseModel):
    pending: bool = Field(description="Whether the account is closed and waiting to be erased")
    delete_after: str | None = Field(description="When it will be erased (ISO 8601), or null")
    grace_days: int = Field(description="The server's grace period, in days")


def _state(work: Work, delete_after: datetime | None) -> dict[str, Any]:
    return {
        "pending": delete_after is not None,
        "delete_after": ts(delete_after),
        "grace_days": work.settings.account_deletion_grace_days,
    }


@router.get(PATH, response_model=DeletionState)
def deletion_state(rt: RuntimeDep, token: RequiredTokenDep) -> Response:
    """Whether the account is waiting to be erased, and when."""

    def run(work: Work) -> dict[str, Any]:
        me = auth.user(work, token, "read:accounts", closing=True)
        return _state(work, deletion.pending(work, me.account_id))

    return json_response(rt.read(run))


@router.post(PATH, response_model=DeletionState, openapi_extra=body_schema(DeletionForm))
async def request_deletion(request: Request, rt: RuntimeDep, token: RequiredTokenDep) -> Response:
    """Delete the account after the grace period: it is closed at once (hidden, unable to post
    or interact), every other token is revoked, and remote servers are told when it is erased."""
    form = validate(DeletionForm, await read_params(request, include_query=False))

    def run(work: Work) -> dict[str, Any]:
        me = auth.user(work, token, "write:accounts", closing=True)
        when = deletion.request(work, me.account_id, form.password, keep_token=token.value)
        return _state(work, when)

    return json_response(await in_thread(rt.write, run))


@router.delete(PATH, response_model=DeletionState)
async def cancel_deletion(rt: RuntimeDep, token: RequiredTokenDep) -> Response:
    """Cancel a pending deletion: the account is open again, as it was."""

    def run(work: Work) -> dict[str, Any]:
        me = auth.user(work, token, "write:accounts", closing=True)
        deletion.cancel(work, me.account_id)
        return _state(work, None)

    return json_response(await in_thread(rt.write, run))
