"""Web sessions: signing in through the web app issues an access token that belongs to no
OAuth app (so it is listed and revoked among the account's sessions); the browser keeps it in
an HttpOnly cookie."""

from __future__ import annotations

from parvis.domain.errors import DomainError
from parvis.services import accounts, oauth
from parvis.services.context import Work

WEB_SCOPES = frozenset({"read", "write", "follow", "push"})
# The cookie that carries a session's token (read by the web app, the OAuth consent page and
# the streaming API for pages of this server).
COOKIE = "parvis_session"


def start(work: Work, login: str, password: str) -> str:
    """A new session token; Unauthorized or Forbidden with a message fit for the form."""
    user = accounts.authenticate(work, login, password)
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
