"""/api/v1/accounts: sign-up, credentials, profiles, relationships, the social graph."""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from pydantic import BaseModel, ConfigDict, Field
from starlette.responses import Response

from parvis.api import auth, schemas
from parvis.api.auth import RequiredTokenDep, TokenDep
from parvis.api.deps import ERRORS, RuntimeDep, ids_param, in_thread, json_response, path_id
from parvis.api.errors import ApiError
from parvis.api.pagination import AccountPageDep, PageDep, link_header
from parvis.api.params import body_schema, read_params, take_files, validate
from parvis.api.ratelimit import client_address
from parvis.api.serializers import account_json, relationship_json, source_json, status_json
from parvis.domain.models import Account, Relationship
from parvis.services import (
    account_notes,
    accounts,
    media,
    network_addresses,
    oauth,
    social,
    timelines,
)
from parvis.services.context import Work
from parvis.services.timelines import Paging

router = APIRouter(tags=["accounts"], responses=ERRORS)


class RegisterForm(BaseModel):
    model_config = ConfigDict(extra="ignore")
    username: str = Field(..., max_length=200)
    email: str = Field(..., max_length=400)
    password: str = Field(..., max_length=1000)
    agreement: bool = False
    locale: str = Field("en", max_length=16)
    reason: str | None = Field(None, max_length=5000)


class FollowForm(BaseModel):
    model_config = ConfigDict(extra="ignore")
    reblogs: bool = True
    notify: bool = False
    languages: list[str] | None = Field(None, max_length=50)


class MuteForm(BaseModel):
    model_config = ConfigDict(extra="ignore")
    notifications: bool = True
    duration: int = Field(0, ge=0, le=10 * 365 * 86400)


class NoteForm(BaseModel):
    model_config = ConfigDict(extra="ignore")
    comment: str | None = Field(None, max_length=100_000)


class CredentialsForm(BaseModel):
    model_config = ConfigDict(extra="ignore")
    display_name: str | None = Field(None, max_length=1000)
    note: str | None = Field(None, max_length=10_000)
    locked: bool | None = None
    bot: bool | None = None
    discoverable: bool | None = None
    indexable: bool | None = None
    hide_collections: bool | None = None
    fields_attributes: dict[str, dict[str, str]] | list[dict[str, str]] | None = None
    source: dict[str, str | bool | None] | None = None


def me_json(work: Work, account: Account) -> dict[str, Any]:
    user = work.store.accounts.user(account.id)
    assert user is not None
    requests = len(
        work.store.social.edge_page(
            "follow_requests",
            target_id=account.id,
            max_id=None,
            since_id=None,
            min_id=None,
            limit=1000,
        )
    )
    src = source_json(
        account,
        user.default_visibility.value,
        user.default_sensitive,
        user.default_language,
        requests,
    )
    out = account_json(account, work.settings, source=src)
    out["role"] = {
        "id": user.role,
        "name": user.role,
        "permissions": "0",
        "color": "",
        "highlighted": False,
    }
    return out


@router.post(
    "/api/v1/accounts", response_model=schemas.Token, openapi_extra=body_schema(RegisterForm)
)
async def register(request: Request, rt: RuntimeDep, token: RequiredTokenDep) -> Response:
    form = validate(RegisterForm, await read_params(request, include_query=False))
    address = client_address(request.scope)

    def run(work: Work) -> dict[str, Any]:
        info = auth.app_or_user(work, token, "write:accounts")
        user = accounts.register(
            work,
            accounts.Registration(
                username=form.username,
                email=form.email,
                password=form.password,
                agreement=form.agreement,
                locale=form.locale,
                reason=form.reason,
            ),
        )
        network_addresses.record(work, user.account_id, "sign_up", address)
        app_row = work.store.oauth.app(info.app_id) if info.app_id else None
        scopes = frozenset(app_row["scopes"].split()) if app_row else frozenset({"read"})
        issued = oauth.issue_token(work, info.app_id, user.account_id, scopes)
        return {
            "access_token": issued.access_token,
            "token_type": "Bearer",
            "scope": " ".join(sorted(scopes)),
            "created_at": issued.created_at,
        }

    return json_response(await in_thread(rt.write, run))


@router.get("/api/v1/accounts/verify_credentials", response_model=schemas.CredentialAccount)
def verify_credentials(rt: RuntimeDep, token: RequiredTokenDep) -> Response:
    def run(work: Work) -> dict[str, Any]:
        me = auth.user(work, token, "read:accounts")
        return me_json(work, accounts.get_account(work, me.account_id))

    return json_response(rt.read(run))


def _fields(raw: Any) -> list[tuple[str, str]] | None:
    if raw is None:
        return None
    items = raw
    if isinstance(raw, dict):  # fields_attributes[0][name]=… arrives keyed by position
        items = [raw[k] for k in sorted(raw, key=lambda k: (not k.isdecimal(), k.zfill(8)))]
    out = []
    for item in items:
        if not isinstance(item, dict):
            raise ApiError(422, "Validation failed: fields_attributes must hold name/value pairs")
        out.append((str(item.get("name", "")), str(item.get("value", ""))))
    return out


@router.patch(
    "/api/v1/accounts/update_credentials",
    response_model=schemas.CredentialAccount,
    openapi_extra=body_schema(CredentialsForm),
)
async def update_credentials(request: Request, rt: RuntimeDep, token: RequiredTokenDep) -> Response:
    data = await read_params(request, include_query=False)
    blobs = take_files(data, ("avatar", "header"))
    form = validate(CredentialsForm, data)
    source = form.source or {}

    def run(work: Work) -> dict[str, Any]:
        me = auth.user(work, token, "write:accounts")
        media_ids = {}
        for slot, blob in blobs.items():
            up = media.upload(
                work, rt.files, me.account_id, media.Upload(data=blob), allow_async=False
            )
            media_ids[f"{slot}_media_id"] = up.id

        def opt_str(key: str) -> str | None:
            value = source.get(key)
            return None if value is None else str(value)

        sensitive = source.get("sensitive")
        upd = accounts.ProfileUpdate(
            display_name=form.display_name,
            note=form.note,
            locked=form.locked,
            bot=form.bot,
            discoverable=form.discoverable,
            indexable=form.indexable,
            hide_collections=form.hide_collections,
            fields=_fields(form.fields_attributes),
            default_visibility=opt_str("privacy"),
            default_language=opt_str("language"),
            default_sensitive=None
            if sensitive is None
            else str(sensitive).lower() in ("true", "1", "on"),
            **media_ids,
        )
        return me_json(work, accounts.update_profile(work, me.account_id, upd))

    return json_response(await in_thread(rt.write, run))


@router.get("/api/v1/accounts/relationships", response_model=list[schemas.Relationship])
def relationships(
    rt: RuntimeDep,
    token: RequiredTokenDep,
    ids: Annotated[list[str] | None, Query(alias="id[]")] = None,
    id: Annotated[list[str] | None, Query()] = None,  # Mastodon accepts ?id=1 too
) -> Response:
    def run(work: Work) -> list[dict[str, Any]]:
        me = auth.user(work, token, "read:follows")
        wanted = ids_param((ids or []) + (id or []))
        known = work.store.accounts.get_many(wanted)
        rels = work.store.social.relationships(
            me.account_id, [i for i in wanted if i in known], work.now()
        )
        return [relationship_json(r) for r in rels]

    return json_response(rt.read(run))


@router.get("/api/v1/accounts/familiar_followers", response_model=list[schemas.FamiliarFollowers])
def familiar_followers(
    rt: RuntimeDep,
    token: RequiredTokenDep,
    ids: Annotated[list[str] | None, Query(alias="id[]")] = None,
    id: Annotated[list[str] | None, Query()] = None,
) -> Response:
    def run(work: Work) -> list[dict[str, Any]]:
        me = auth.user(work, token, "read:follows")
        wanted = list(dict.fromkeys(ids_param((ids or []) + (id or []))))
        found = work.store.social.familiar_followers(me.account_id, wanted)
        people = work.store.accounts.get_many({a for v in found.values() for a in v})
        return [
            {"id": str(t), "accounts": [account_json(people[a], work.settings) for a in found[t]]}
            for t in wanted
        ]

    return json_response(rt.read(run))


@router.get("/api/v1/accounts/lookup", response_model=schemas.Account)
def lookup(
    acct: Annotated[str, Query(max_length=400)], rt: RuntimeDep, token: TokenDep
) -> Response:
    def run(work: Work) -> dict[str, Any]:
        auth.maybe_user(work, token, "read:accounts")
        return account_json(accounts.lookup(work, acct), work.settings)

    return json_response(rt.read(run))


@router.get("/api/v1/accounts/search", response_model=list[schemas.Account])
def search_accounts(
    q: Annotated[str, Query(max_length=400)],
    rt: RuntimeDep,
    token: TokenDep,
    limit: Annotated[int, Query(ge=1, le=80)] = 40,
    offset: Annotated[int, Query(ge=0, le=10_000)] = 0,
    resolve: bool = False,
    following: bool = False,
) -> Response:
    def run(work: Work) -> list[dict[str, Any]]:
        me = auth.maybe_user(work, token, "read:accounts")
        found = work.store.accounts.search(q, limit=limit, offset=offset)
        if following and me:
            rels = {
                r.id: r
                for r in work.store.social.relationships(
                    me.account_id, [a.id for a in found], work.now()
                )
            }
            found = [a for a in found if rels[a.id].following]
        return [account_json(a, work.settings) for a in found]

    return json_response(rt.read(run))


@router.get("/api/v1/accounts/{id}", response_model=schemas.Account)
def get_account(id: str, rt: RuntimeDep, token: TokenDep) -> Response:
    def run(work: Work) -> dict[str, Any]:
        auth.maybe_user(work, token, "read:accounts")
        account = accounts.get_account(work, path_id(id))
        if account.suspended:
            raise ApiError(404, "Record not found")
        return account_json(account, work.settings)

    return json_response(rt.read(run))


@router.get("/api/v1/accounts/{id}/statuses", response_model=list[schemas.Status])
def account_statuses(
    id: str,
    request: Request,
    rt: RuntimeDep,
    token: TokenDep,
    page: PageDep,
    only_media: bool = False,
    exclude_replies: bool = False,
    exclude_reblogs: bool = False,
    pinned: bool = False,
    tagged: Annotated[str | None, Query(max_length=200)] = None,
) -> Response:

    def run(work: Work) -> tuple[list[dict[str, Any]], dict[str, str]]:
        me = auth.maybe_user(work, token, "read:statuses")
        viewer = me.account_id if me else None
        result = timelines.account_statuses(
            work,
            viewer,
            path_id(id),
            page,
            exclude_replies=exclude_replies,
            exclude_reblogs=exclude_reblogs,
            only_media=only_media,
            pinned=pinned,
            tagged=tagged.lstrip("#").lower() if tagged else None,
        )
        body = [status_json(s, result.flags, work.settings, viewer) for s in result.statuses]
        return body, link_header(request, result.first_id, result.last_id)

    body, headers = rt.read(run)
    return json_response(body, headers=headers)


def _account_list(kind: str, direction: str, scope: str, *, own: bool) -> Callable[..., Response]:
    """Followers/following of an account, or the viewer's own blocks, mutes, follow requests."""

    def run_page(
        work: Work,
        request: Request,
        account_id: int,
        page: Paging,
    ) -> tuple[list[dict[str, Any]], dict[str, str]]:
        key = {"account_id": account_id} if direction == "out" else {"target_id": account_id}
        pairs = work.store.social.edge_page(kind, **key, **page.kw())
        if page.min_id is not None:
            pairs.reverse()
        found = work.store.accounts.get_many(a for _, a in pairs)
        body = [
            account_json(found[a], work.settings)
            for _, a in pairs
            if a in found and not found[a].suspended
        ]
        return body, link_header(
            request, pairs[0][0] if pairs else None, pairs[-1][0] if pairs else None
        )

    if own:

        def own_endpoint(
            request: Request, rt: RuntimeDep, token: RequiredTokenDep, page: AccountPageDep
        ) -> Response:
            def run(work: Work) -> tuple[list[dict[str, Any]], dict[str, str]]:
                me = auth.user(work, token, scope)
                return run_page(work, request, me.account_id, page)

            body, headers = rt.read(run)
            return json_response(body, headers=headers)

        return own_endpoint

    def endpoint(
        id: str, request: Request, rt: RuntimeDep, token: TokenDep, page: AccountPageDep
    ) -> Response:
        def run(work: Work) -> tuple[list[dict[str, Any]], dict[str, str]]:
            me = auth.maybe_user(work, token, scope)
            account = accounts.get_account(work, path_id(id))
            if account.hide_collections and (me is None or me.account_id != account.id):
                return [], {}
            return run_page(work, request, account.id, page)

        body, headers = rt.read(run)
        return json_response(body, headers=headers)

    return endpoint


for _path, _kind, _dir, _scope, _own in (
    ("/api/v1/accounts/{id}/followers", "follows", "in", "read:accounts", False),
    ("/api/v1/accounts/{id}/following", "follows", "out", "read:accounts", False),
    ("/api/v1/blocks", "blocks", "out", "read:blocks", True),
    ("/api/v1/mutes", "mutes", "out", "read:mutes", True),
    ("/api/v1/follow_requests", "follow_requests", "in", "read:follows", True),
):
    router.add_api_route(
        _path,
        _account_list(_kind, _dir, _scope, own=_own),
        methods=["GET"],
        response_model=list[schemas.Account],
        name=_path,
    )


def _relation_action(
    scope: str, action: Callable[[Work, int, int], Relationship]
) -> Callable[..., Response]:
    def endpoint(id: str, rt: RuntimeDep, token: RequiredTokenDep) -> Response:
        def run(work: Work) -> dict[str, Any]:
            me = auth.user(work, token, scope)
            return relationship_json(action(work, me.account_id, path_id(id)))

        return json_response(rt.write(run))

    return endpoint


for _path, _scope, _fn in (
    ("/api/v1/accounts/{id}/unfollow", "write:follows", social.unfollow),
    ("/api/v1/accounts/{id}/remove_from_followers", "write:follows", social.remove_follower),
    ("/api/v1/accounts/{id}/block", "write:blocks", social.block),
    ("/api/v1/accounts/{id}/unblock", "write:blocks", social.unblock),
    ("/api/v1/accounts/{id}/unmute", "write:mutes", social.unmute),
    ("/api/v1/follow_requests/{id}/authorize", "write:follows", social.authorize_request),
    ("/api/v1/follow_requests/{id}/reject", "write:follows", social.reject_request),
):
    router.add_api_route(
        _path,
        _relation_action(_scope, _fn),
        methods=["POST"],
        response_model=schemas.Relationship,
        name=_path,
    )


@router.post(
    "/api/v1/accounts/{id}/follow",
    response_model=schemas.Relationship,
    openapi_extra=body_schema(FollowForm),
)
async def follow(id: str, request: Request, rt: RuntimeDep, token: RequiredTokenDep) -> Response:
    form = validate(FollowForm, await read_params(request, include_query=False))

    def run(work: Work) -> dict[str, Any]:
        me = auth.user(work, token, "write:follows")
        rel = social.follow(
            work,
            me.account_id,
            path_id(id),
            reblogs=form.reblogs,
            notify=form.notify,
            languages=form.languages,
        )
        return relationship_json(rel)

    return json_response(await in_thread(rt.write, run))


@router.post(
    "/api/v1/accounts/{id}/mute",
    response_model=schemas.Relationship,
    openapi_extra=body_schema(MuteForm),
)
async def mute(id: str, request: Request, rt: RuntimeDep, token: RequiredTokenDep) -> Response:
    form = validate(MuteForm, await read_params(request, include_query=False))

    def run(work: Work) -> dict[str, Any]:
        me = auth.user(work, token, "write:mutes")
        rel = social.mute(
            work,
            me.account_id,
            path_id(id),
            notifications=form.notifications,
            duration=form.duration,
        )
        return relationship_json(rel)

    return json_response(await in_thread(rt.write, run))


@router.post(
    "/api/v1/accounts/{id}/note",
    response_model=schemas.Relationship,
    openapi_extra=body_schema(NoteForm),
)
async def note(id: str, request: Request, rt: RuntimeDep, token: RequiredTokenDep) -> Response:
    """Set the private note kept on an account (at most 2,000 characters); an empty or missing
    comment removes it. Only its author sees it, as `note` in the Relationship."""
    form = validate(NoteForm, await read_params(request, include_query=False))

    def run(work: Work) -> dict[str, Any]:
        me = auth.user(work, token, "write:accounts")
        rel = account_notes.set_note(work, me.account_id, path_id(id), form.comment or "")
        return relationship_json(rel)

    return json_response(await in_thread(rt.write, run))


@router.get("/api/v1/accounts/{id}/identity_proofs", response_model=list[dict[str, str]])
def identity_proofs(id: str, rt: RuntimeDep, token: TokenDep) -> Response:
    """Keybase identity proofs, gone from Mastodon since 3.5: always an empty list (some apps
    still ask)."""

    def run(work: Work) -> list[dict[str, str]]:
        auth.maybe_user(work, token, "read:accounts")
        account = accounts.get_account(work, path_id(id))
        if account.suspended:
            raise ApiError(404, "Record not found")
        return []

    return json_response(rt.read(run))
