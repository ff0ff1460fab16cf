"""Bearer tokens and scopes. The token is read at the edge; it is verified inside the request's
unit of work, so authentication costs no extra thread hop or transaction."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from parvis.api.errors import ApiError
from parvis.domain import scopes
from parvis.services import oauth
from parvis.services.context import Work

_bearer = HTTPBearer(auto_error=False, description="An OAuth access token")


@dataclass(frozen=True)
class Token:
    value: str | None


async def read_token(
    request: Request,
    creds: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> Token:
    if creds is not None and creds.credentials:
        return Token(creds.credentials)
    header = request.headers.get("authorization")
    if header is not None:
        raise ApiError(
            401, "The access token is invalid", {"WWW-Authenticate": 'Bearer error="invalid_token"'}
        )
    query_token = request.query_params.get("access_token")
    return Token(query_token or None)


TokenDep = Annotated[Token, Depends(read_token)]


async def require_token(token: TokenDep) -> Token:
    """For endpoints that need a token: refuse early, before the body is even read."""
    if token.value is None:
        raise ApiError(
            401, "The access token is invalid", {"WWW-Authenticate": 'Bearer realm="Parvis"'}
        )
    return token


RequiredTokenDep = Annotated[Token, Depends(require_token)]


@dataclass(frozen=True)
class Auth:
    account_id: int
    app_id: int | None
    scopes: frozenset[str]


def _check_scope(info: oauth.TokenInfo, scope: str) -> None:
    if not scopes.grants(info.scopes, scope):
        raise ApiError(403, f"This action is outside the authorized scopes (needs {scope})")


def user(work: Work, token: Token, scope: str) -> Auth:
    """A token bound to a user, holding `scope`; 401/403 otherwise."""
    if token.value is None:
        raise ApiError(
            401, "The access token is invalid", {"WWW-Authenticate": 'Bearer realm="Parvis"'}
        )
    info = oauth.verify_token(work, token.value)
    if info.account_id is None:
        raise ApiError(422, "This method requires an authenticated user")
    _check_scope(info, scope)
    return Auth(info.account_id, info.app_id, info.scopes)


def maybe_user(work: Work, token: Token, scope: str) -> Auth | None:
    """Anonymous reads are allowed; a token, when given, must be valid and hold `scope`."""
    if token.value is None:
        return None
    info = oauth.verify_token(work, token.value)
    if info.account_id is None:
        return None
    _check_scope(info, scope)
    return Auth(info.account_id, info.app_id, info.scopes)


def app_or_user(work: Work, token: Token, scope: str) -> oauth.TokenInfo:
    """Any valid token (client_credentials included)."""
    if token.value is None:
        raise ApiError(401, "The access token is invalid")
    info = oauth.verify_token(work, token.value)
    _check_scope(info, scope)
    return info
