"""Bearer tokens and scopes. The token is read at the edge; it is verified inside the request's
unit of work, so authentication costs no extra thread hop or transaction."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from parvis.api.errors import ApiError
from parvis.domain import scopes
from parvis.services import oauth, sessions
from parvis.services.context import Work

_bearer = HTTPBearer(auto_error=False, description="An OAuth access token")


@dataclass(frozen=True)
class Token:
    value: str | None
    session: bool = False  # the web app's session cookie (session_or_token), not a bearer token


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

# -- the web app's own pages, signed in with the session cookie -------------------------------
#
# The web app's pages cannot send a bearer token: the session token is in an HttpOnly cookie
# that their scripts cannot read (on purpose: an injected script cannot steal it). Routes that
# the pages call themselves (the end-to-end messages API) take that cookie instead, but only
# from this server's own pages, since a browser attaches cookies to requests that any other
# site makes too:
#
# - every request: `Sec-Fetch-Site: same-origin` (sent by every current browser), or, from a
#   browser that does not send it, an `Origin` equal to the server's own. A request from
#   another site, or that says nothing of where it comes from, is anonymous (401): a cookie
#   alone never authenticates;
# - state-changing requests (anything but GET/HEAD) also carry the page's CSRF token (the one
#   its forms hold, HMAC of the browser's HttpOnly `parvis_csrf` cookie) in `X-CSRF-Token`.
#   Another site can neither read a page nor compute the token, and a custom header cannot be
#   sent cross-origin without a CORS preflight, which this server never grants. Two checks,
#   where one would do, so that a single mistake (a proxy that strips Sec-Fetch-*, a browser
#   bug) is not enough. A missing or wrong token is a 403 saying so.
#
# A bearer token, when present, is used as before and the cookie is ignored.

CSRF_HEADER = "x-csrf-token"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


def same_origin(request: Request, base_url: str) -> bool:
    """Whether the browser says the request comes from a page of this server."""
    site = request.headers.get("sec-fetch-site")
    if site is not None:
        return site == "same-origin"
    origin = request.headers.get("origin")
    return origin is not None and origin.rstrip("/").lower() == base_url.rstrip("/").lower()


async def session_or_token(request: Request, token: TokenDep) -> Token:
    """A bearer token, else the session cookie of a same-origin page (CSRF-checked for writes);
    401 when neither."""
    if token.value is not None:
        return token
    cookie = request.cookies.get(sessions.COOKIE)
    settings = request.app.state.runtime.settings
    if cookie and same_origin(request, settings.base_url):
        if request.method not in SAFE_METHODS and not sessions.csrf_matches(
            settings.signing_key(),
            request.cookies.get(sessions.CSRF_COOKIE),
            request.headers.get(CSRF_HEADER),
        ):
            raise ApiError(403, "Missing or invalid CSRF token (X-CSRF-Token)")
        return Token(cookie, session=True)
    raise ApiError(
        401, "The access token is invalid", {"WWW-Authenticate": 'Bearer realm="Parvis"'}
    )


SessionOrTokenDep = Annotated[Token, Depends(session_or_token)]


@dataclass(frozen=True)
class Auth:
    account_id: int
    app_id: int | None
    scopes: frozenset[str]


def _check_scope(info: oauth.TokenInfo, scope: str) -> None:
    if not scopes.grants(info.scopes, scope):
        raise ApiError(403, f"This action is outside the authorized scopes (needs {scope})")


def user(work: Work, token: Token, scope: str, *, closing: bool = False) -> Auth:
    """A token bound to a user, holding `scope`; 401/403 otherwise. `closing`: the user's
    account may be closed for deletion (the deletion endpoints)."""
    if token.value is None:
        raise ApiError(
            401, "The access token is invalid", {"WWW-Authenticate": 'Bearer realm="Parvis"'}
        )
    if token.session:  # a web session: no app's token may pose as one
        found = sessions.current(work, token.value)
        if found is None:
            raise ApiError(401, "The session has ended: sign in again")
        info = found
    else:
        info = oauth.verify_token(work, token.value, closing=closing)
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
