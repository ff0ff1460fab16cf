"""/api/v1/directory: the profile directory."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query
from starlette.responses import Response

from parvis.api import auth, schemas
from parvis.api.auth import TokenDep
from parvis.api.deps import ERRORS, RuntimeDep, json_response
from parvis.api.serializers import account_json
from parvis.services import directory
from parvis.services.context import Work

router = APIRouter(tags=["directory"], responses=ERRORS)


@router.get("/api/v1/directory", response_model=list[schemas.Account])
def profile_directory(
    rt: RuntimeDep,
    token: TokenDep,
    limit: Annotated[
        int, Query(ge=1, le=10_000, description="40 by default; more than 80 counts as 80.")
    ] = 40,
    offset: Annotated[int, Query(ge=0, le=100_000, description="Skip the first n.")] = 0,
    order: Annotated[
        Literal["active", "new"],
        Query(description="`active`: the latest to post first; `new`: the newest accounts."),
    ] = "active",
    local: Annotated[bool, Query(description="Local accounts only.")] = False,
) -> Response:
    """Accounts that chose to be listed (`discoverable`), never suspended, moved, unapproved
    or disabled ones; a signed-in viewer does not see whom they block or mute."""

    def run(work: Work) -> list[dict[str, Any]]:
        me = auth.maybe_user(work, token, "read:accounts")
        found = directory.listing(
            work,
            me.account_id if me else None,
            order=order,
            local_only=local,
            offset=offset,
            limit=limit,
        )
        return [account_json(a, work.settings) for a in found]

    return json_response(rt.read(run))
