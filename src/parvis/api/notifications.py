"""/api/v1 and /api/v2 notifications: list, read, dismiss, clear, count what the user was told,
grouped notifications, the notification policy and requests.

Over 600 lines on purpose: every route of Mastodon's notification family is here, each thin
(parameters, scope, one service call, the JSON shape); the logic is in services/notifications.py.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query, Request
from pydantic import BaseModel, ConfigDict, Field
from starlette.responses import Response

from parvis.api import auth, schemas
from parvis.api.auth import RequiredTokenDep
from parvis.api.deps import ERRORS, RuntimeDep, in_thread, json_response, path_id
from parvis.api.errors import ApiError
from parvis.api.pagination import AccountPageDep, link_header, paging
from parvis.api.params import body_schema, read_params, validate
from parvis.api.serializers import (
    account_json,
    notification_group_json,
    notification_json,
    notification_request_json,
    partial_account_json,
    status_json,
)
from parvis.domain.ids import parse_id
from parvis.services import notifications
from parvis.services.context import Work

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
            {
                **notification_json(n, result.flags, work.settings, me.account_id),
                "group_key": notifications.group_key(n),
            }
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
    """How many notifications are unread: newer than the `notifications` marker (all of them
    without one); at most `limit` (default 100, max 1000)."""
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
            notifications.read_marker(work, me.account_id),
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


# -- notification requests (filtered by the policy) -----------------------------------------------


def _request_bodies(
    work: Work, me: int, found: list[notifications.NotificationRequest], flags: Any
) -> list[dict[str, Any]]:
    return [notification_request_json(r, flags, work.settings, me) for r in found]


@router.get("/api/v1/notifications/requests", response_model=list[schemas.NotificationRequest])
def list_requests(
    request: Request, rt: RuntimeDep, token: RequiredTokenDep, page: AccountPageDep
) -> Response:
    """Senders whose notifications the policy filtered, one request per sender, newest first."""

    def run(work: Work) -> tuple[list[dict[str, Any]], dict[str, str]]:
        me = auth.user(work, token, READ)
        found, flags = notifications.requests(work, me.account_id, page)
        headers = link_header(
            request, found[0].last_id if found else None, found[-1].last_id if found else None
        )
        return _request_bodies(work, me.account_id, found, flags), headers

    body, headers = rt.read(run)
    return json_response(body, headers=headers)


@router.get("/api/v1/notifications/requests/merged", response_model=schemas.Empty)
def requests_merged(rt: RuntimeDep, token: RequiredTokenDep) -> Response:
    """Accepted requests are merged at once: always true."""
    rt.read(lambda work: auth.user(work, token, READ))
    return json_response({"merged": True})


class RequestIds(BaseModel):
    model_config = ConfigDict(extra="ignore")
    id: list[str] = Field(default_factory=list, max_length=100)


async def _ids(request: Request) -> list[int]:
    found = validate(RequestIds, await read_params(request)).id
    out = []
    for value in found:
        parsed = parse_id(value)
        if parsed is None:
            raise ApiError(422, "Validation failed: id[] must hold numeric ids")
        out.append(parsed)
    return out


@router.post(
    "/api/v1/notifications/requests/accept",
    response_model=schemas.Empty,
    openapi_extra=body_schema(RequestIds),
)
async def accept_many(request: Request, rt: RuntimeDep, token: RequiredTokenDep) -> Response:
    """Accept the requests `id[]` (sender account ids): their notifications join the list."""
    ids = await _ids(request)

    def run(work: Work) -> None:
        me = auth.user(work, token, WRITE)
        work.store.notifications.accept_requests(me.account_id, ids)

    await in_thread(rt.write, run)
    return json_response({})


@router.post(
    "/api/v1/notifications/requests/dismiss",
    response_model=schemas.Empty,
    openapi_extra=body_schema(RequestIds),
)
async def dismiss_many(request: Request, rt: RuntimeDep, token: RequiredTokenDep) -> Response:
    """Dismiss the requests `id[]`: their filtered notifications are deleted."""
    ids = await _ids(request)

    def run(work: Work) -> None:
        me = auth.user(work, token, WRITE)
        work.store.notifications.dismiss_requests(me.account_id, ids)

    await in_thread(rt.write, run)
    return json_response({})


@router.get("/api/v1/notifications/requests/{id}", response_model=schemas.NotificationRequest)
def get_request(id: str, rt: RuntimeDep, token: RequiredTokenDep) -> Response:
    def run(work: Work) -> dict[str, Any]:
        me = auth.user(work, token, READ)
        found, flags = notifications.one_request(work, me.account_id, path_id(id))
        return _request_bodies(work, me.account_id, [found], flags)[0]

    return json_response(rt.read(run))


@router.post("/api/v1/notifications/requests/{id}/accept", response_model=schemas.Empty)
def accept_one(id: str, rt: RuntimeDep, token: RequiredTokenDep) -> Response:
    def run(work: Work) -> int:
        me = auth.user(work, token, WRITE)
        return work.store.notifications.accept_requests(me.account_id, [path_id(id)])

    if not rt.write(run):
        raise ApiError(404, "Record not found")
    return json_response({})


@router.post("/api/v1/notifications/requests/{id}/dismiss", response_model=schemas.Empty)
def dismiss_one(id: str, rt: RuntimeDep, token: RequiredTokenDep) -> Response:
    def run(work: Work) -> int:
        me = auth.user(work, token, WRITE)
        return work.store.notifications.dismiss_requests(me.account_id, [path_id(id)])

    if not rt.write(run):
        raise ApiError(404, "Record not found")
    return json_response({})


class PolicyUpdateV1(BaseModel):
    model_config = ConfigDict(extra="ignore")
    filter_not_following: bool | None = None
    filter_not_followers: bool | None = None
    filter_new_accounts: bool | None = None
    filter_private_mentions: bool | None = None


def _policy_v1(work: Work, account_id: int) -> dict[str, Any]:
    body = _policy_body(work, account_id)
    v1: dict[str, Any] = {
        f"filter_{k.removeprefix('for_')}": body[k] != "accept"
        for k in ("for_not_following", "for_not_followers", "for_new_accounts")
    }
    v1["filter_private_mentions"] = body["for_private_mentions"] != "accept"
    v1["summary"] = body["summary"]
    return v1


@router.get("/api/v1/notifications/policy", response_model=dict[str, Any])
def get_policy_v1(rt: RuntimeDep, token: RequiredTokenDep) -> Response:
    """The policy in Mastodon 4.2's shape: true where notifications are held back."""

    def run(work: Work) -> dict[str, Any]:
        me = auth.user(work, token, READ)
        return _policy_v1(work, me.account_id)

    return json_response(rt.read(run))


@router.patch(
    "/api/v1/notifications/policy",
    response_model=dict[str, Any],
    openapi_extra=body_schema(PolicyUpdateV1),
)
async def update_policy_v1(request: Request, rt: RuntimeDep, token: RequiredTokenDep) -> Response:
    """Change the policy in Mastodon 4.2's shape: true filters, false accepts."""
    update = validate(PolicyUpdateV1, await read_params(request, include_query=False))
    values = {
        f"for_{k.removeprefix('filter_')}": "filter" if v else "accept"
        for k, v in update.model_dump().items()
        if v is not None
    }

    def run(work: Work) -> dict[str, Any]:
        me = auth.user(work, token, WRITE)
        if values:
            work.store.notifications.set_policy(me.account_id, values, work.now())
        return _policy_v1(work, me.account_id)

    return json_response(await in_thread(rt.write, run))


@router.get("/api/v1/notifications/{id}", response_model=schemas.Notification)
def get_notification(id: str, rt: RuntimeDep, token: RequiredTokenDep) -> Response:
    def run(work: Work) -> dict[str, Any]:
        me = auth.user(work, token, READ)
        note = notifications.get_notification(work, me.account_id, path_id(id))
        statuses = [note.status] if note.status is not None else []
        flags = notifications.status_flags(work, me.account_id, statuses)
        body = notification_json(note, flags, work.settings, me.account_id)
        return {**body, "group_key": notifications.group_key(note)}

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


# -- grouped notifications (v2) -------------------------------------------------------------------


def _grouped_types(request: Request) -> list[str]:
    if (
        "grouped_types[]" not in request.query_params
        and "grouped_types" not in request.query_params
    ):
        return list(notifications.DEFAULT_GROUPED)
    return [t for t in _types(request, "grouped_types") if t in notifications.GROUPABLE]


def _flag(value: str | None, name: str) -> bool:
    if value is None or value == "":
        return False
    lowered = value.lower()
    if lowered in ("true", "1", "t", "on", "yes"):
        return True
    if lowered in ("false", "0", "f", "off", "no"):
        return False
    raise ApiError(422, f"Validation failed: {name} must be a boolean")


GroupedQuery = Annotated[
    list[str] | None,
    Query(
        alias="grouped_types[]",
        max_length=50,
        description="Types to group (default: favourite, reblog, follow).",
    ),
]


def _grouped_body(
    work: Work,
    me: int,
    groups: list[notifications.NotificationGroup],
    flags: Any,
    page_bounds: dict[str, tuple[int, int]],
    expand: str,
) -> dict[str, Any]:
    accounts: dict[int, Any] = {}
    statuses: dict[int, Any] = {}
    for g in groups:
        for n in g.notifications:
            if n.account.id in g.sample_account_ids():
                accounts.setdefault(n.account.id, n.account)
        if g.latest.status is not None:
            statuses.setdefault(g.latest.status.id, g.latest.status)
    body: dict[str, Any] = {
        "notification_groups": [notification_group_json(g, *page_bounds[g.key]) for g in groups],
        "statuses": [status_json(s, flags, work.settings, me) for s in statuses.values()],
    }
    if expand == "partial_avatars":
        # Full accounts for the newest sender of each group, partial ones for the others.
        leads = {g.latest.account.id for g in groups}
        body["accounts"] = [
            account_json(a, work.settings) for i, a in accounts.items() if i in leads
        ]
        body["partial_accounts"] = [
            partial_account_json(a, work.settings) for i, a in accounts.items() if i not in leads
        ]
    else:
        body["accounts"] = [account_json(a, work.settings) for a in accounts.values()]
    return body


@router.get("/api/v2/notifications", response_model=schemas.GroupedNotificationsResults)
def list_grouped(
    request: Request,
    rt: RuntimeDep,
    token: RequiredTokenDep,
    max_id: Cursor = None,
    since_id: Cursor = None,
    min_id: Cursor = None,
    limit: Annotated[int | None, Query(ge=1, le=10_000)] = None,
    types: TypesQuery = None,
    exclude_types: ExcludeQuery = None,
    grouped_types: GroupedQuery = None,
    account_id: Annotated[str | None, Query(max_length=32)] = None,
    expand_accounts: Annotated[
        str | None,
        Query(pattern="^(full|partial_avatars)?$", description="full (default) or partial_avatars"),
    ] = None,
    include_filtered: Annotated[str | None, Query(max_length=8)] = None,
) -> Response:
    """Grouped notifications: favourites and boosts of one status, and follows of one day,
    make one group each (as chosen by `grouped_types[]`); newest group first, 40 by default."""
    del types, exclude_types, grouped_types
    excluded = _types(request, "exclude_types")
    sender = _from_account(account_id)
    grouped = _grouped_types(request)
    filtered = _flag(include_filtered, "include_filtered")

    def run(work: Work) -> tuple[dict[str, Any], dict[str, str]]:
        me = auth.user(work, token, READ)
        page = paging(max_id, since_id, min_id, limit, default=40, maximum=80)
        wanted = _checked_types(request)
        if sender == 0:
            return {"accounts": [], "statuses": [], "notification_groups": []}, {}
        result = notifications.grouped_page(
            work,
            me.account_id,
            page,
            types=wanted,
            exclude_types=excluded,
            grouped_types=grouped,
            from_account_id=sender,
            include_filtered=filtered,
        )
        bounds = {g.key: (g.notifications[-1].id, g.notifications[0].id) for g in result.groups}
        body = _grouped_body(
            work, me.account_id, result.groups, result.flags, bounds, expand_accounts or "full"
        )
        return body, link_header(request, result.first_id, result.last_id)

    body, headers = rt.read(run)
    return json_response(body, headers=headers)


@router.get("/api/v2/notifications/unread_count", response_model=Count)
def unread_groups(
    request: Request,
    rt: RuntimeDep,
    token: RequiredTokenDep,
    limit: Annotated[int | None, Query(ge=1, le=10_000)] = None,
    types: TypesQuery = None,
    exclude_types: ExcludeQuery = None,
    grouped_types: GroupedQuery = None,
    account_id: Annotated[str | None, Query(max_length=32)] = None,
) -> Response:
    """How many groups the unread notifications (newer than the `notifications` marker)
    make; at most `limit` (default 100, max 1000)."""
    del types, exclude_types, grouped_types
    cap = 100 if limit is None else min(limit, 1000)
    excluded = _types(request, "exclude_types")
    sender = _from_account(account_id)
    grouped = _grouped_types(request)

    def run(work: Work) -> dict[str, int]:
        me = auth.user(work, token, READ)
        wanted = _checked_types(request)
        if sender == 0:
            return {"count": 0}
        n = notifications.unread_groups(
            work,
            me.account_id,
            notifications.read_marker(work, me.account_id),
            types=wanted,
            exclude_types=excluded,
            grouped_types=grouped,
            from_account_id=sender,
            limit=cap,
        )
        return {"count": n}

    return json_response(rt.read(run))


class PolicyUpdate(BaseModel):
    model_config = ConfigDict(extra="ignore")
    for_not_following: Literal["accept", "filter", "drop"] | None = None
    for_not_followers: Literal["accept", "filter", "drop"] | None = None
    for_new_accounts: Literal["accept", "filter", "drop"] | None = None
    for_private_mentions: Literal["accept", "filter", "drop"] | None = None
    for_limited_accounts: Literal["accept", "filter", "drop"] | None = None


def _policy_body(work: Work, account_id: int) -> dict[str, Any]:
    requests_count, notes_count = work.store.notifications.pending_summary(account_id)
    return {
        **work.store.notifications.policy(account_id),
        "summary": {
            "pending_requests_count": requests_count,
            "pending_notifications_count": notes_count,
        },
    }


@router.get("/api/v2/notifications/policy", response_model=schemas.NotificationPolicy)
def get_policy(rt: RuntimeDep, token: RequiredTokenDep) -> Response:
    """What happens to notifications from each kind of sender: accept, filter (kept aside as
    notification requests) or drop."""

    def run(work: Work) -> dict[str, Any]:
        me = auth.user(work, token, READ)
        return _policy_body(work, me.account_id)

    return json_response(rt.read(run))


@router.patch(
    "/api/v2/notifications/policy",
    response_model=schemas.NotificationPolicy,
    openapi_extra=body_schema(PolicyUpdate),
)
async def update_policy(request: Request, rt: RuntimeDep, token: RequiredTokenDep) -> Response:
    """Change the policy; each field takes accept, filter or drop; absent fields are kept."""
    update = validate(PolicyUpdate, await read_params(request, include_query=False))
    values = {k: v for k, v in update.model_dump().items() if v is not None}

    def run(work: Work) -> dict[str, Any]:
        me = auth.user(work, token, WRITE)
        if values:
            work.store.notifications.set_policy(me.account_id, values, work.now())
        return _policy_body(work, me.account_id)

    return json_response(await in_thread(rt.write, run))


@router.get("/api/v2/notifications/{group_key}", response_model=schemas.GroupedNotificationsResults)
def get_group(group_key: str, rt: RuntimeDep, token: RequiredTokenDep) -> Response:
    """One group, counted whole."""

    def run(work: Work) -> dict[str, Any]:
        me = auth.user(work, token, READ)
        group = notifications.group_notifications(work, me.account_id, group_key)
        statuses = [group.latest.status] if group.latest.status is not None else []
        flags = notifications.status_flags(work, me.account_id, statuses)
        bounds = {group.key: (group.notifications[-1].id, group.latest.id)}
        return _grouped_body(work, me.account_id, [group], flags, bounds, "full")

    return json_response(rt.read(run))


@router.post("/api/v2/notifications/{group_key}/dismiss", response_model=schemas.Empty)
def dismiss_group(group_key: str, rt: RuntimeDep, token: RequiredTokenDep) -> Response:
    """Delete every notification of the group."""

    def run(work: Work) -> int:
        me = auth.user(work, token, WRITE)
        return notifications.dismiss_group(work, me.account_id, group_key)

    if not rt.write(run):
        raise ApiError(404, "Record not found")
    return json_response({})


@router.get("/api/v2/notifications/{group_key}/accounts", response_model=list[schemas.Account])
def group_accounts(group_key: str, rt: RuntimeDep, token: RequiredTokenDep) -> Response:
    """Every account of the group, the most recent first."""

    def run(work: Work) -> list[dict[str, Any]]:
        me = auth.user(work, token, READ)
        group = notifications.group_notifications(work, me.account_id, group_key)
        seen = dict.fromkeys(n.account.id for n in group.notifications)
        people = {n.account.id: n.account for n in group.notifications}
        return [account_json(people[i], work.settings) for i in seen]

    return json_response(rt.read(run))
