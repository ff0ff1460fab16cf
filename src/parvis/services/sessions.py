"""Web sessions: signing in through the web app issues an access token that belongs to no
OAuth app (so it is listed and revoked among the account's sessions); the browser keeps it in
an HttpOnly cookie."""

from __future__ import annotations

import hashlib
import hmac
import secrets

from parvis.domain.errors import DomainError
from parvis.services import accounts, network_addresses, oauth
from parvis.services.context import Work

WEB_SCOPES = frozenset({"read", "write", "follow", "push"})
# The cookie that carries a session's token (read by the web app, the OAuth consent page and
# the streaming API for pages of this server).
COOKIE = "parvis_session"
# The browser's CSRF secret (web/security.py): here, not in the web package, because the API
# checks the same token when a page of this server calls it with the session cookie.
CSRF_COOKIE = "parvis_csrf"


def start(work: Work, login: str, password: str, *, address: str | None = None) -> str:
    """A new session token; Unauthorized or Forbidden with a message fit for the form. The
    sign-in `address` is kept a few days (services/network_addresses.py)."""
    user = accounts.authenticate(work, login, password)
    if address is not None:
        network_addresses.record(work, user.account_id, "sign_in", address)
    return oauth.issue_token(work, None, user.account_id, WEB_SCOPES).access_token


def current(work: Work, token: str | None) -> oauth.TokenInfo | None:
    """The session behind a cookie; None when there is none or it is no longer valid."""
    if not token or len(token) > 512:
        return None
    try:
        info = oauth.verify_token(work, token)
    except DomainError:  # unknown, revoked, or its user can no longer sign in
        return None
    if info.account_id is None or info.app_id is not None:
        return None  # an app's token is not a browser session
    return info


def end(work: Work, token: str) -> None:
    work.store.oauth.revoke_token(oauth.digest(token), None, work.now())


# -- CSRF tokens (what a page embeds; web/security.py and the API's session auth check them) --


def _browser_token(key: bytes, browser: str) -> bytes:
    return hmac.new(key, b"csrf:" + browser.encode(), hashlib.sha256).digest()


def csrf_token(key: bytes, browser: str) -> str:
    """The token for this browser's forms, masked with a fresh random pad on every page, so
    that compressed pages never repeat the same secret bytes (BREACH)."""
    pad = secrets.token_bytes(32)
    masked = bytes(a ^ b for a, b in zip(pad, _browser_token(key, browser), strict=True))
    return (pad + masked).hex()


def csrf_matches(key: bytes, browser: str | None, submitted: str | None) -> bool:
    """Whether `submitted` is a token made by csrf_token() for this browser's secret."""
    if not browser or not submitted or len(submitted) != 128:
        return False
    try:
        raw = bytes.fromhex(submitted)
    except ValueError:
        return False
    unmasked = bytes(a ^ b for a, b in zip(raw[:32], raw[32:], strict=True))
    return hmac.compare_digest(_browser_token(key, browser), unmasked)
