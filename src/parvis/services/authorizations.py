"""An account's credentials as its owner manages them: live web sessions and the apps it
authorized (listed and revoked), and changing the password (which signs every other session
and app out)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from parvis.domain.errors import Invalid, NotFound
from parvis.services import accounts, oauth
from parvis.services.context import Work

MIN_PASSWORD, MAX_PASSWORD = 8, 256


@dataclass(frozen=True)
class WebSession:
    id: int
    created_at: datetime
    last_used_at: datetime | None
    current: bool


@dataclass(frozen=True)
class AppAuthorization:
    """One app with the account's live tokens for it (an app may hold several)."""

    app_id: int
    name: str
    website: str | None
    scopes: tuple[str, ...]
    created_at: datetime  # its first live token
    last_used_at: datetime | None
    tokens: int


@dataclass(frozen=True)
class Authorizations:
    sessions: list[WebSession]
    apps: list[AppAuthorization]


def of_account(work: Work, account_id: int, current_token: str | None) -> Authorizations:
    """The account's live web sessions (newest first) and apps (by name)."""
    current = oauth.digest(current_token) if current_token else None
    sessions: list[WebSession] = []
    by_app: dict[int, list[dict[str, object]]] = {}
    for row in work.store.oauth.live_tokens(account_id, work.now()):
        if row["app_id"] is None:
            sessions.append(
                WebSession(
                    row["id"], row["created_at"], row["last_used_at"], row["token_hash"] == current
                )
            )
        else:
            by_app.setdefault(row["app_id"], []).append(row)
    apps = []
    for app_id, rows in by_app.items():
        scopes = sorted({s for r in rows for s in str(r["scopes"]).split()})
        used = [r["last_used_at"] for r in rows if isinstance(r["last_used_at"], datetime)]
        created = [r["created_at"] for r in rows if isinstance(r["created_at"], datetime)]
        apps.append(
            AppAuthorization(
                app_id=app_id,
                name=str(rows[0]["app_name"] or ""),
                website=str(rows[0]["app_website"]) if rows[0]["app_website"] else None,
                scopes=tuple(scopes),
                created_at=min(created),
                last_used_at=max(used) if used else None,
                tokens=len(rows),
            )
        )
    apps.sort(key=lambda a: (a.name.lower(), a.app_id))
    return Authorizations(sessions, apps)


def revoke_session(work: Work, account_id: int, session_id: int) -> None:
    """End one of the account's web sessions (NotFound when it is not one of them)."""
    if not work.store.oauth.revoke_for(
        account_id, work.now(), token_id=session_id, sessions_only=True
    ):
        raise NotFound("Record not found")


def revoke_app(work: Work, account_id: int, app_id: int) -> None:
    """Withdraw an app's access: every live token of the account for it."""
    if not work.store.oauth.revoke_for(account_id, work.now(), app_id=app_id):
        raise NotFound("Record not found")


def change_password(
    work: Work, account_id: int, current: str, new: str, *, keep_token: str | None
) -> int:
    """Set a new password after checking the current one, then revoke every other session and
    app token (the one in `keep_token`, the browser making the change, stays). Returns how many
    were revoked."""
    user = work.store.accounts.user(account_id)
    if user is None:
        raise NotFound("No local user with this account")
    found = work.store.accounts.user_by_login(user.email)
    if found is None or not accounts.check_password(found[1], current):
        raise Invalid("Validation failed: current password: it is not your password")
    if not MIN_PASSWORD <= len(new) <= MAX_PASSWORD:
        raise Invalid(
            f"Validation failed: password: use {MIN_PASSWORD} to {MAX_PASSWORD} characters"
        )
    if new == current:
        raise Invalid(
            "Validation failed: password: choose a password different from the current one"
        )
    work.store.accounts.set_password_hash(account_id, accounts.hash_password(new))
    keep = oauth.digest(keep_token) if keep_token else None
    return work.store.oauth.revoke_for(account_id, work.now(), keep_hash=keep)
