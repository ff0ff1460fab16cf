"""OAuth applications, authorization codes and access tokens (secrets stored as SHA-256 hashes)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import bindparam, delete, insert, select, update
from sqlalchemy.engine import Connection

from parvis.storage.tables import accounts, oauth_apps, oauth_codes, oauth_tokens, users

_GRANT = (
    select(
        oauth_tokens,
        users.c.account_id.label("user_account_id"),
        users.c.disabled,
        users.c.approved,
        users.c.confirmed,
        users.c.delete_after,
        accounts.c.suspended_at,
    )
    .select_from(
        oauth_tokens.outerjoin(users, users.c.account_id == oauth_tokens.c.account_id).outerjoin(
            accounts, accounts.c.id == oauth_tokens.c.account_id
        )
    )
    .where(oauth_tokens.c.token_hash == bindparam("hash"))
)


class OAuthStore:
    def __init__(self, conn: Connection) -> None:
        self.conn = conn

    def add_app(self, values: dict[str, Any]) -> None:
        self.conn.execute(insert(oauth_apps).values(**values))

    def app_by_client_id(self, client_id: str) -> dict[str, Any] | None:
        row = (
            self.conn.execute(select(oauth_apps).where(oauth_apps.c.client_id == client_id))
            .mappings()
            .first()
        )
        return dict(row) if row else None

    def app(self, app_id: int) -> dict[str, Any] | None:
        row = (
            self.conn.execute(select(oauth_apps).where(oauth_apps.c.id == app_id))
            .mappings()
            .first()
        )
        return dict(row) if row else None

    def add_code(self, values: dict[str, Any]) -> None:
        self.conn.execute(insert(oauth_codes).values(**values))

    def take_code(self, code_hash: str) -> dict[str, Any] | None:
        """The code's row, deleted in the same step: a code works once."""
        row = (
            self.conn.execute(select(oauth_codes).where(oauth_codes.c.code_hash == code_hash))
            .mappings()
            .first()
        )
        if row is None:
            return None
        self.conn.execute(delete(oauth_codes).where(oauth_codes.c.code_hash == code_hash))
        return dict(row)

    def add_token(self, values: dict[str, Any]) -> None:
        self.conn.execute(insert(oauth_tokens).values(**values))

    def token(self, token_hash: str) -> dict[str, Any] | None:
        row = (
            self.conn.execute(select(oauth_tokens).where(oauth_tokens.c.token_hash == token_hash))
            .mappings()
            .first()
        )
        return dict(row) if row else None

    def grant(self, token_hash: str) -> dict[str, Any] | None:
        """A token with its user's standing (for authenticating a request in one query)."""
        row = self.conn.execute(_GRANT, {"hash": token_hash}).mappings().first()
        return dict(row) if row else None

    def revoke_token(self, token_hash: str, app_id: int | None, now: datetime) -> bool:
        """Revoke a token of this app (None: a web session, which belongs to no app)."""
        same_app = (
            oauth_tokens.c.app_id.is_(None) if app_id is None else oauth_tokens.c.app_id == app_id
        )
        result = self.conn.execute(
            update(oauth_tokens)
            .where(oauth_tokens.c.token_hash == token_hash, same_app)
            .values(revoked_at=now)
        )
        return bool(result.rowcount)

    def revoke_all_for(self, account_id: int, now: datetime) -> None:
        self.conn.execute(
            update(oauth_tokens)
            .where(oauth_tokens.c.account_id == account_id, oauth_tokens.c.revoked_at.is_(None))
            .values(revoked_at=now)
        )

    # -- an account's sessions and authorized apps (settings pages) ---------------------------

    def live_tokens(self, account_id: int, now: datetime) -> list[dict[str, Any]]:
        """The account's tokens neither revoked nor expired, newest first, with their app's
        name and website (None for web sessions)."""
        stmt = (
            select(
                oauth_tokens.c.id,
                oauth_tokens.c.token_hash,
                oauth_tokens.c.app_id,
                oauth_tokens.c.scopes,
                oauth_tokens.c.created_at,
                oauth_tokens.c.last_used_at,
                oauth_apps.c.name.label("app_name"),
                oauth_apps.c.website.label("app_website"),
            )
            .select_from(
                oauth_tokens.outerjoin(oauth_apps, oauth_apps.c.id == oauth_tokens.c.app_id)
            )
            .where(
                oauth_tokens.c.account_id == account_id,
                oauth_tokens.c.revoked_at.is_(None),
                (oauth_tokens.c.expires_at.is_(None)) | (oauth_tokens.c.expires_at > now),
            )
            .order_by(oauth_tokens.c.id.desc())
        )
        return [dict(r) for r in self.conn.execute(stmt).mappings()]

    def revoke_for(
        self,
        account_id: int,
        now: datetime,
        *,
        token_id: int | None = None,
        app_id: int | None = None,
        sessions_only: bool = False,
        keep_hash: str | None = None,
    ) -> int:
        """Revoke the account's live tokens: one (token_id), one app's (app_id), web sessions
        only (sessions_only), all but one (keep_hash). Returns how many were revoked."""
        stmt = update(oauth_tokens).where(
            oauth_tokens.c.account_id == account_id, oauth_tokens.c.revoked_at.is_(None)
        )
        if token_id is not None:
            stmt = stmt.where(oauth_tokens.c.id == token_id)
        if app_id is not None:
            stmt = stmt.where(oauth_tokens.c.app_id == app_id)
        if sessions_only:
            stmt = stmt.where(oauth_tokens.c.app_id.is_(None))
        if keep_hash is not None:
            stmt = stmt.where(oauth_tokens.c.token_hash != keep_hash)
        return int(self.conn.execute(stmt.values(revoked_at=now)).rowcount)
