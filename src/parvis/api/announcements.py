"""/api/v1/announcements: what the operators announce; users dismiss them and react."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query
from starlette.responses import Response

from parvis.api import auth, schemas
from parvis.api.auth import RequiredTokenDep
from parvis.api.deps import ERRORS, RuntimeDep, json_response, path_id
from parvis.api.errors import ApiError
from parvis.api.serializers import announcement_json
from parvis.services import announcements
from parvis.services.context import Work

router = APIRouter(tags=["announcements"], responses=ERRORS)
READ = "read"  # Mastodon asks for no particular scope; any token holding `read` will do
WRITE = "write:accounts"  # dismiss
REACT = "write:favourites"


@router.get("/api/v1/announcements", response_model=list[schemas.Announcement])
def list_announcements(
    rt: RuntimeDep,
    token: RequiredTokenDep,
    with_dismissed: Annotated[str | None, Query(max_length=8)] = None,
) -> Response:
    """Announcements not over yet, newest first, with `read` and reactions for the user.
    Dismissed ones are listed too unless `with_dismissed=false`."""
    if with_dismissed not in (None, "", "true", "false", "1", "0"):
        raise ApiError(422, "Validation failed: with_dismissed must be a boolean")
    keep = with_dismissed not in ("false", "0")

    def run(work: Work) -> list[dict[str, Any]]:
        me = auth.user(work, token, READ)
        found = announcements.active(work, me.account_id, with_dismissed=keep)
        return [announcement_json(a, work.settings) for a in found]

    return json_response(rt.read(run))


@router.post("/api/v1/announcements/{id}/dismiss", response_model=schemas.Empty)
def dismiss(id: str, rt: RuntimeDep, token: RequiredTokenDep) -> Response:
    """Mark an announcement as read."""

    def run(work: Work) -> None:
        me = auth.user(work, token, WRITE)
        announcements.dismiss(work, me.account_id, path_id(id))

    rt.write(run)
    return json_response({})


@router.put("/api/v1/announcements/{id}/reactions/{name}", response_model=schemas.Empty)
def react(id: str, name: str, rt: RuntimeDep, token: RequiredTokenDep) -> Response:
    """React with a unicode emoji (custom emoji are not supported)."""

    def run(work: Work) -> None:
        me = auth.user(work, token, REACT)
        announcements.react(work, me.account_id, path_id(id), name)

    rt.write(run)
    return json_response({})


@router.delete("/api/v1/announcements/{id}/reactions/{name}", response_model=schemas.Empty)
def unreact(id: str, name: str, rt: RuntimeDep, token: RequiredTokenDep) -> Response:
    """Take a reaction back."""

    def run(work: Work) -> None:
        me = auth.user(work, token, REACT)
        announcements.unreact(work, me.account_id, path_id(id), name)

    rt.write(run)
    return json_response({})
