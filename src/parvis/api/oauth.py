"""OAuth 2 the Mastodon way: /api/v1/apps, /oauth/token (authorization_code with PKCE,
client_credentials, password) and /oauth/revoke. The sign-in and consent page,
/oauth/authorize, is a page of the web app (parvis.web.views.consent)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from pydantic import BaseModel, ConfigDict, Field
from starlette.responses import Response

from parvis.api import auth, schemas
from parvis.api.auth import TokenDep
from parvis.api.deps import ERRORS, RuntimeDep, in_thread, json_response
from parvis.api.errors import ApiError
from parvis.api.params import body_schema, read_params, validate
from parvis.api.ratelimit import client_address
from parvis.domain.errors import DomainError, Invalid, Unauthorized
from parvis.services import accounts, network_addresses, oauth
from parvis.services.context import Work

router = APIRouter(tags=["oauth"], responses=ERRORS)


class AppForm(BaseModel):
    model_config = ConfigDict(extra="ignore")
    client_name: str = Field(..., max_length=1000)
    redirect_uris: str | list[str] = Field(...)
    scopes: str | None = Field(None, max_length=2000)
    website: str | None = Field(None, max_length=4000)


class TokenForm(BaseModel):
    model_config = ConfigDict(extra="ignore")
    grant_type: str = Field(..., max_length=64)
    client_id: str | None = Field(None, max_length=256)
    client_secret: str | None = Field(None, max_length=256)
    redirect_uri: str | None = Field(None, max_length=4000)
    scope: str | None = Field(None, max_length=2000)
    code: str | None = Field(None, max_length=512)
    code_verifier: str | None = Field(None, max_length=512)
    username: str | None = Field(None, max_length=512)
    password: str | None = Field(None, max_length=1024)


class RevokeForm(BaseModel):
    model_config = ConfigDict(extra="ignore")
    client_id: str = Field(..., max_length=256)
    client_secret: str = Field(..., max_length=256)
    token: str = Field(..., max_length=512)


def _app_json(app: oauth.App, secret: str | None = None) -> dict[str, Any]:
    out: dict[str, Any] = {
        "id": str(app.id),
        "name": app.name,
        "website": app.website,
        "scopes": sorted(app.scopes),
        "redirect_uri": "\n".join(app.redirect_uris),
        "redirect_uris": list(app.redirect_uris),
        "client_id": app.client_id,
    }
    out["vapid_key"] = ""  # Web Push is not offered yet (Mastodon documents it as deprecated)
    if secret is not None:
        out["client_secret"] = secret
        out["client_secret_expires_at"] = 0
    return out


@router.post("/api/v1/apps", response_model=schemas.Application, openapi_extra=body_schema(AppForm))
async def create_app(request: Request, rt: RuntimeDep) -> Response:
    form = validate(AppForm, await read_params(request, include_query=False))

    def run(work: Work) -> dict[str, Any]:
        new = oauth.create_app(
            work, form.client_name, form.redirect_uris, form.scopes, form.website
        )
        return _app_json(new.app, new.client_secret)

    return json_response(await in_thread(rt.write, run))


@router.get("/api/v1/apps/verify_credentials", response_model=schemas.Application)
def verify_app(rt: RuntimeDep, token: TokenDep) -> Response:
    def run(work: Work) -> dict[str, Any]:
        info = _any_token(work, token)
        row = work.store.oauth.app(info.app_id) if info.app_id else None
        if row is None:
            raise ApiError(401, "The access token is invalid")
        return {
            "id": str(row["id"]),
            "name": row["name"],
            "website": row["website"],
            "scopes": row["scopes"].split(),
            "redirect_uri": row["redirect_uris"],
            "redirect_uris": row["redirect_uris"].split("\n"),
            "vapid_key": "",
        }

    return json_response(rt.read(run))


def _any_token(work: Work, token: auth.Token) -> oauth.TokenInfo:
    if token.value is None:
        raise ApiError(401, "The access token is invalid")
    return oauth.verify_token(work, token.value)


def _oauth_error(exc: DomainError) -> Response:
    message = exc.message
    code, _, description = message.partition(": ")
    if code not in (
        "invalid_grant",
        "invalid_scope",
        "invalid_request",
        "invalid_client",
        "unsupported_grant_type",
    ):
        code, description = (
            ("invalid_client" if isinstance(exc, Unauthorized) else "invalid_request"),
            message,
        )
    status = 401 if code == "invalid_client" else 400
    return json_response({"error": code, "error_description": description}, status=status)


@router.post("/oauth/token", response_model=schemas.Token, openapi_extra=body_schema(TokenForm))
async def token(request: Request, rt: RuntimeDep) -> Response:
    form = validate(TokenForm, await read_params(request, include_query=False))
    address = client_address(request.scope)

    def run(work: Work) -> dict[str, Any]:
        app = oauth.app_for_client(work, form.client_id or "", form.client_secret or "")
        if form.grant_type == "authorization_code":
            if not form.code or not form.redirect_uri:
                raise Invalid("invalid_request: code and redirect_uri are required")
            issued = oauth.exchange_code(
                work, app, form.code, form.redirect_uri, form.code_verifier
            )
        elif form.grant_type == "client_credentials":
            issued = oauth.issue_token(work, app.id, None, oauth.requested_scopes(app, form.scope))
        elif form.grant_type == "password":
            if not form.username or not form.password:
                raise Invalid("invalid_request: username and password are required")
            try:
                user = accounts.authenticate(work, form.username, form.password)
            except Unauthorized:
                raise Invalid("invalid_grant: the e-mail address or password is wrong") from None
            network_addresses.record(work, user.account_id, "sign_in", address)
            issued = oauth.issue_token(
                work, app.id, user.account_id, oauth.requested_scopes(app, form.scope)
            )
        else:
            raise Invalid(
                "unsupported_grant_type: use authorization_code, client_credentials or password"
            )
        return {
            "access_token": issued.access_token,
            "token_type": "Bearer",
            "scope": " ".join(sorted(issued.scopes)),
            "created_at": issued.created_at,
        }

    try:
        return json_response(await in_thread(rt.write, run))
    except DomainError as exc:
        return _oauth_error(exc)


@router.post("/oauth/revoke", response_model=schemas.Empty, openapi_extra=body_schema(RevokeForm))
async def revoke(request: Request, rt: RuntimeDep) -> Response:
    form = validate(RevokeForm, await read_params(request, include_query=False))

    def run(work: Work) -> dict[str, Any]:
        app = oauth.app_for_client(work, form.client_id, form.client_secret)
        oauth.revoke(work, app, form.token)
        return {}

    try:
        return json_response(await in_thread(rt.write, run))
    except DomainError as exc:
        return _oauth_error(exc)
