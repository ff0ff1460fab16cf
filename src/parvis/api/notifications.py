"""/api/v1/notifications: list, read, dismiss, clear, and count what the user was told."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from pydantic import BaseModel, ConfigDict
from starlette.responses import Response

from parvis.api import auth, schemas
from parvis.api.auth import RequiredTokenDep
from parvis.api.deps import ERRORS, RuntimeDep, json_response, path_id
from parvis.api.errors import ApiError
from parvis.api.pagination import link_header, paging
from parvis.api.serializers import notification_json
from parvis.domain.ids import parse_id
from parvis.services import notifications
from parvis.services.context import Work
from parvis.services.timelines import flags_for

router = APIRouter(tags=["notifications"], responses=ERRORS)
READ = "read:notifications"
WRITE = "write:notifications"


class Count(BaseModel):
    model_config = ConfigDict(extra="allow")
    count: int


def _types(request: Request, name: str) -> list[str]:
    """`name[]=a&name[]=b`, as Mastodon clients send them; plain `name=a` is accepted too."""
    values = request.query_params.getlist(f"{name}[]") + request.query_params.getlist(name)
    return list(dict.fromkeys(v for v in values if v))


def _checked_types(request: Request) -> list[str] | None:
    wanted = _types(request, "types")
    unknown = [t for t in wanted if t not in notifications.TYPES]
    if unknown:
        raise ApiError(
            422,
            f"Validation failed: types[]: unknown type {unknown[0]!r}; "
            f"valid types are: {', '.join(notifications.TYPES)}",
        )
    return wanted or None


def _from_account(account_id: str | None) -> int | None:
    if account_id is None or account_id == "":
        return None
    parsed = parse_id(account_id)
    # No account has a malformed id, so nothing was received from it: an empty result.
    return parsed if parsed is not None else 0


# A notification id (18 digits reach far beyond this century's time-ordered ids).
Cursor = Annotated[str | None, Query(pattern=r"^(?:[1-9][0-9]{0,17})?$")]
TypesQuery = Annotated[
    list[str] | None,
    Query(
        alias="types[]",
        max_length=50,
        description="Only these types.",
        json_schema_extra={"items": {"type": "string", "enum": list(notifications.TYPES)}},
    ),
]
ExcludeQuery = Annotated[
    list[str] | None,
    Query(
        alias="exclude_types[]",
        max_length=50,
        description="Leave out these types (unknown ones are ignored).",
    ),
]


@router.get("/api/v1/notifications", response_model=list[schemas.Notification])
def list_notifications(
    request: Request,
    rt: RuntimeDep,
    token: RequiredTokenDep,
    max_id: Cursor = None,
    since_id: Cursor = None,
    min_id: Cursor = None,
    limit: Annotated[int | None, Query(ge=1, le=10_000)] = None,
    types: TypesQuery = None,
    exclude_types: ExcludeQuery = None,
    account_id: Annotated[str | None, Query(max_length=32)] = None,
) -> Response:
    """The user's notifications, newest first; paged with `max_id`/`min_id` and a Link header."""
    del types, exclude_types  # read from the raw query (both `types[]` and `types` forms)
    excluded = _types(request, "exclude_types")
    sender = _from_account(account_id)

    def run(work: Work) -> tuple[list[dict[str, Any]], dict[str, str]]:
        me = auth.user(work, token, READ)  # authentication first, then the parameters
        page = paging(max_id, since_id, min_id, limit, default=40, maximum=80)
        wanted = _checked_types(request)
        if sender == 0:
            return [], {}
        result = notifications.list_notifications(
            work, me.account_id, page, types=wanted, exclude_types=excluded, from_account_id=sender
        )
        body = [
            notification_json(n, result.flags, work.settings, me.account_id)
            for n in result.notifications
        ]
        return body, link_header(request, result.first_id, result.last_id)

    body, headers = rt.read(run)
    return json_response(body, headers=headers)


@router.get("/api/v1/notifications/unread_count", response_model=Count)
def unread_count(
    request: Request,
    rt: RuntimeDep,
    token: RequiredTokenDep,
    limit: Annotated[int | None, Query(ge=1, le=10_000)] = None,
    types: TypesQuery = None,
    exclude_types: ExcludeQuery = None,
    account_id: Annotated[str | None, Query(max_length=32)] = None,
) -> Response:
    """How many notifications there are (at most `limit`, default 100, max 1000)."""
    del types, exclude_types
    cap = 100 if limit is None else min(limit, 1000)
    excluded = _types(request, "exclude_types")
    sender = _from_account(account_id)

    def run(work: Work) -> dict[str, int]:
        me = auth.user(work, token, READ)
        wanted = _checked_types(request)
        if sender == 0:
            return {"count": 0}
        n = work.store.notifications.unread_count(
            me.account_id,
            None,
            types=wanted,
            exclude_types=excluded,
            from_account_id=sender,
            limit=cap,
        )
        return {"count": n}

    return json_response(rt.read(run))


@router.post("/api/v1/notifications/clear", response_model=schemas.Empty)
def clear(rt: RuntimeDep, token: RequiredTokenDep) -> Response:
    """Delete every notification of the user."""

    def run(work: Work) -> None:
        me = auth.user(work, token, WRITE)
        work.store.notifications.clear(me.account_id)

    rt.write(run)
    return json_response({})


@router.get("/api/v1/notifications/{id}", response_model=schemas.Notification)
def get_notification(id: str, rt: RuntimeDep, token: RequiredTokenDep) -> Response:
    def run(work: Work) -> dict[str, Any]:
        me = auth.user(work, token, READ)
        note = notifications.get_notification(work, me.account_id, path_id(id))
        statuses = [note.status] if note.status is not None else []
        flags = flags_for(work, me.account_id, statuses)
        return notification_json(note, flags, work.settings, me.account_id)

    return json_response(rt.read(run))


@router.post("/api/v1/notifications/{id}/dismiss", response_model=schemas.Empty)
def dismiss(id: str, rt: RuntimeDep, token: RequiredTokenDep) -> Response:
    """Delete one notification."""

    def run(work: Work) -> bool:
        me = auth.user(work, token, WRITE)
        return work.store.notifications.dismiss(me.account_id, path_id(id))

    if not rt.write(run):
        raise ApiError(404, "Record not found")
    return json_response({})
