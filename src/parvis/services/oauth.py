"""OAuth 2 for Mastodon clients: apps, authorization codes with PKCE, tokens, revocation.

Secrets (client secrets, codes, tokens) are random 256-bit values; only their SHA-256 is stored,
and comparisons go through the hash lookup, never a string compare of secrets.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
import secrets
from dataclasses import dataclass
from datetime import timedelta
from typing import Any
from urllib.parse import SplitResult, urlsplit

from parvis.domain import scopes as scope_rules
from parvis.domain.errors import Forbidden, Invalid, Unauthorized
from parvis.domain.ids import new_id
from parvis.services.context import Work

OOB = "urn:ietf:wg:oauth:2.0:oob"
CODE_TTL = timedelta(minutes=10)


def digest(secret: str) -> str:
    return hashlib.sha256(secret.encode("utf-8", "surrogatepass")).hexdigest()


@dataclass(frozen=True)
class App:
    id: int
    name: str
    website: str | None
    redirect_uris: tuple[str, ...]
    scopes: frozenset[str]
    client_id: str


@dataclass(frozen=True)
class NewApp:
    app: App
    client_secret: str


@dataclass(frozen=True)
class TokenInfo:
    token_id: int
    account_id: int | None
    app_id: int | None
    scopes: frozenset[str]


@dataclass(frozen=True)
class IssuedToken:
    access_token: str
    scopes: frozenset[str]
    created_at: int


def _app(row: dict[str, Any]) -> App:
    return App(
        id=row["id"],
        name=row["name"],
        website=row["website"],
        redirect_uris=tuple(u for u in row["redirect_uris"].split("\n") if u),
        scopes=frozenset(row["scopes"].split()),
        client_id=row["client_id"],
    )


PKCE_RE = re.compile(r"^[A-Za-z0-9._~-]{43,128}$")  # RFC 7636 unreserved characters


def _split(url: str) -> SplitResult | None:
    try:
        return urlsplit(url)
    except ValueError:  # e.g. "http://[::1" (invalid IPv6 literal)
        return None


def _valid_redirect(uri: str) -> bool:
    if uri == OOB:
        return True
    parts = _split(uri)
    if parts is None:
        return False
    if not parts.scheme or parts.scheme.lower() in ("javascript", "data", "vbscript", "file"):
        return False
    if parts.scheme in ("http", "https"):
        return bool(parts.netloc)
    return True  # custom schemes for native apps (e.g. tusky://oauth)


def create_app(
    work: Work, name: str, redirect_uris: str | list[str], scopes: str | None, website: str | None
) -> NewApp:
    name = (name or "").strip()
    if not name:
        raise Invalid("Validation failed: client_name can't be blank")
    if len(name) > 255:
        raise Invalid("Validation failed: client_name is too long (at most 255 characters)")
    uris = redirect_uris if isinstance(redirect_uris, list) else redirect_uris.split()
    uris = [u.strip() for u in uris if u.strip()]
    if not uris:
        raise Invalid("Validation failed: redirect_uris can't be blank")
    bad = [u for u in uris if len(u) > 2000 or not _valid_redirect(u)]
    if bad:
        raise Invalid(f"Validation failed: redirect_uris: {bad[0][:100]!r} is not a valid URI")
    try:
        granted = scope_rules.parse(scopes)
    except ValueError as exc:
        raise Invalid(f"Validation failed: scopes: {exc}") from None
    site = _split(website) if website else None
    if website and (len(website) > 2000 or site is None or site.scheme not in ("http", "https")):
        raise Invalid("Validation failed: website must be an http(s) URL")
    client_id = secrets.token_urlsafe(32)
    client_secret = secrets.token_urlsafe(32)
    app_id = new_id()
    work.store.oauth.add_app(
        {
            "id": app_id,
            "name": name,
            "website": website or None,
            "redirect_uris": "\n".join(uris),
            "scopes": " ".join(sorted(granted)),
            "client_id": client_id,
            "client_secret_hash": digest(client_secret),
            "created_at": work.now(),
        }
    )
    return NewApp(
        app=App(app_id, name, website or None, tuple(uris), granted, client_id),
        client_secret=client_secret,
    )


def app_for_client(work: Work, client_id: str, client_secret: str | None = None) -> App:
    row = work.store.oauth.app_by_client_id(client_id or "")
    if row is None:
        raise Unauthorized("Client authentication failed due to unknown client.")
    if client_secret is not None and not hmac.compare_digest(
        row["client_secret_hash"], digest(client_secret)
    ):
        raise Unauthorized("Client authentication failed due to unknown client.")
    return _app(row)


def requested_scopes(app: App, scopes: str | None) -> frozenset[str]:
    try:
        wanted = scope_rules.parse(scopes, default=" ".join(sorted(app.scopes)))
    except ValueError as exc:
        raise Invalid(f"invalid_scope: {exc}") from None
    if not scope_rules.subset(wanted, app.scopes):
        raise Invalid("invalid_scope: the requested scope is not allowed for this application")
    return wanted


def check_redirect(app: App, redirect_uri: str) -> None:
    if redirect_uri not in app.redirect_uris:
        raise Invalid("invalid_grant: redirect_uri does not match a registered redirect URI")


def issue_code(
    work: Work,
    app: App,
    account_id: int,
    scopes: frozenset[str],
    redirect_uri: str,
    code_challenge: str | None,
    code_challenge_method: str | None,
) -> str:
    check_redirect(app, redirect_uri)
    if code_challenge is not None:
        method = code_challenge_method or "plain"
        if method not in ("S256", "plain"):
            raise Invalid("invalid_request: code_challenge_method must be S256 or plain")
        if not PKCE_RE.match(code_challenge):
            raise Invalid(
                "invalid_request: code_challenge must be 43 to 128 characters"
                " of A-Z a-z 0-9 - . _ ~"
            )
    code = secrets.token_urlsafe(32)
    work.store.oauth.add_code(
        {
            "code_hash": digest(code),
            "app_id": app.id,
            "account_id": account_id,
            "scopes": " ".join(sorted(scopes)),
            "redirect_uri": redirect_uri,
            "code_challenge": code_challenge,
            "code_challenge_method": (code_challenge_method or "plain") if code_challenge else None,
            "expires_at": work.now() + CODE_TTL,
        }
    )
    return code


def _pkce_ok(challenge: str, method: str, verifier: str | None) -> bool:
    if verifier is None or not PKCE_RE.match(verifier):
        return False
    if method == "S256":
        computed = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest())
        return hmac.compare_digest(computed.rstrip(b"=").decode(), challenge)
    return hmac.compare_digest(verifier, challenge)


def exchange_code(
    work: Work, app: App, code: str, redirect_uri: str, code_verifier: str | None
) -> IssuedToken:
    row = work.store.oauth.take_code(digest(code or ""))
    if row is None or row["app_id"] != app.id or row["expires_at"] < work.now():
        raise Invalid("invalid_grant: the authorization code is invalid, expired or already used")
    if row["redirect_uri"] != redirect_uri:
        raise Invalid("invalid_grant: redirect_uri does not match the one used to authorize")
    if row["code_challenge"] and not _pkce_ok(
        row["code_challenge"], row["code_challenge_method"], code_verifier
    ):
        raise Invalid("invalid_grant: PKCE verification failed")
    return issue_token(work, app.id, row["account_id"], frozenset(row["scopes"].split()))


def issue_token(
    work: Work, app_id: int | None, account_id: int | None, scopes: frozenset[str]
) -> IssuedToken:
    token = secrets.token_urlsafe(32)
    now = work.now()
    work.store.oauth.add_token(
        {
            "id": new_id(),
            "token_hash": digest(token),
            "app_id": app_id,
            "account_id": account_id,
            "scopes": " ".join(sorted(scopes)),
            "created_at": now,
        }
    )
    return IssuedToken(access_token=token, scopes=scopes, created_at=int(now.timestamp()))


def verify_token(work: Work, token: str, *, closing: bool = False) -> TokenInfo:
    """The token's grant; Unauthorized when unknown, revoked, expired or its user can't sign in.
    `closing`: an account closed for deletion may use it too (to see or cancel the deletion)."""
    row = work.store.oauth.grant(digest(token))  # token, user and account in one query
    now = work.now()
    if row is None or row["revoked_at"] is not None:
        raise Unauthorized("The access token is invalid")
    if row["expires_at"] is not None and row["expires_at"] < now:
        raise Unauthorized("The access token expired")
    if row["account_id"] is not None:
        if row["user_account_id"] is None:
            raise Unauthorized("The access token is invalid")
        closed = closing and row["delete_after"] is not None
        if (row["suspended_at"] is not None and not closed) or row["disabled"]:
            raise Forbidden("Your login is currently disabled")
        if not row["approved"] or not row["confirmed"]:
            raise Forbidden("Your login is missing a confirmed e-mail address or approval")
    return TokenInfo(
        token_id=row["id"],
        account_id=row["account_id"],
        app_id=row["app_id"],
        scopes=frozenset(row["scopes"].split()),
    )


def revoke(work: Work, app: App, token: str) -> None:
    """RFC 7009: revoking an unknown token is not an error."""
    work.store.oauth.revoke_token(digest(token or ""), app.id, work.now())
