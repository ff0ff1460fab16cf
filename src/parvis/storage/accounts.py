"""Accounts and local users."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import replace
from datetime import datetime
from typing import Any

import orjson
from sqlalchemy import bindparam, exists, func, or_, select, update
from sqlalchemy.engine import Connection, RowMapping

from parvis.domain.labels.vocabulary import CONFIRMED
from parvis.domain.models import Account, ProfileField, User
from parvis.domain.visibility import Visibility
from parvis.storage.sql import clamped_add
from parvis.storage.tables import account_labels, accounts, media_attachments, users


def acct_key(username: str, domain: str | None) -> str:
    return f"{username.lower()}@{(domain or '').lower()}"


_avatar = media_attachments.alias("avatar")
_header = media_attachments.alias("header")
# The labels in force on the account (rows exist only while a decision keeps them: see
# services/restrictions.py), one indexed lookup each, so every read path has them at no cost.
_LABELS = [
    exists()
    .where(account_labels.c.account_id == accounts.c.id, account_labels.c.label == name)
    .label(f"label_{name}")
    for name in CONFIRMED
]
_ACCOUNT_SELECT = select(
    accounts,
    _avatar.c.file_key.label("avatar_key"),
    _header.c.file_key.label("header_key"),
    *_LABELS,
).select_from(
    accounts.outerjoin(_avatar, _avatar.c.id == accounts.c.avatar_media_id).outerjoin(
        _header, _header.c.id == accounts.c.header_media_id
    )
)
_ACCOUNTS_BY_IDS = _ACCOUNT_SELECT.where(accounts.c.id.in_(bindparam("ids", expanding=True)))


def account_from_row(r: RowMapping) -> Account:
    fields = tuple(
        ProfileField(name=f["name"], value=f["value"], value_html=f.get("value_html", ""))
        for f in orjson.loads(r["fields_json"] or "[]")
    )
    return Account(
        id=r["id"],
        username=r["username"],
        domain=r["domain"],
        display_name=r["display_name"],
        note=r["note"],
        note_html=r["note_html"],
        fields=fields,
        locked=r["locked"],
        bot=r["bot"],
        discoverable=r["discoverable"],
        indexable=r["indexable"],
        hide_collections=r["hide_collections"],
        uri=r["uri"],
        url=r["url"],
        avatar_media_id=r["avatar_media_id"],
        header_media_id=r["header_media_id"],
        statuses_count=r["statuses_count"],
        followers_count=r["followers_count"],
        following_count=r["following_count"],
        last_status_at=r["last_status_at"],
        suspended=r["suspended_at"] is not None,
        created_at=r["created_at"],
        updated_at=r["updated_at"],
        avatar_key=r.get("avatar_key"),
        header_key=r.get("header_key"),
        suspended_until=r.get("suspended_until"),
        notices_suspended_until=r.get("notices_suspended_until"),
        moved_to_account_id=r.get("moved_to_account_id"),
        labels=tuple(name for name in CONFIRMED if r.get(f"label_{name}")),
    )


def _user_from_row(r: RowMapping) -> User:
    return User(
        account_id=r["account_id"],
        email=r["email"],
        role=r["role"],
        approved=r["approved"],
        confirmed=r["confirmed"],
        disabled=r["disabled"],
        locale=r["locale"],
        default_visibility=Visibility(r["default_visibility"]),
        default_sensitive=r["default_sensitive"],
        default_language=r["default_language"],
        created_at=r["created_at"],
    )


class AccountStore:
    def __init__(self, conn: Connection) -> None:
        self.conn = conn

    def get(self, account_id: int) -> Account | None:
        row = (
            self.conn.execute(_ACCOUNT_SELECT.where(accounts.c.id == account_id)).mappings().first()
        )
        return self._with_moves({row["id"]: account_from_row(row)})[row["id"]] if row else None

    def get_many(self, ids: Iterable[int]) -> dict[int, Account]:
        wanted = list(set(ids))
        if not wanted:
            return {}
        rows = self.conn.execute(_ACCOUNTS_BY_IDS, {"ids": wanted}).mappings()
        return self._with_moves({r["id"]: account_from_row(r) for r in rows})

    def _with_moves(self, found: dict[int, Account]) -> dict[int, Account]:
        """Attach the account each moved one went to (one more query, only when any moved)."""
        targets = {a.moved_to_account_id for a in found.values() if a.moved_to_account_id}
        if not targets:
            return found
        rows = self.conn.execute(_ACCOUNTS_BY_IDS, {"ids": list(targets)}).mappings()
        moved = {r["id"]: account_from_row(r) for r in rows}
        return {
            i: replace(a, moved_to=moved.get(a.moved_to_account_id)) if a.moved_to_account_id else a
            for i, a in found.items()
        }

    def by_acct(self, username: str, domain: str | None) -> Account | None:
        row = (
            self.conn.execute(
                _ACCOUNT_SELECT.where(accounts.c.acct_key == acct_key(username, domain))
            )
            .mappings()
            .first()
        )
        return account_from_row(row) if row else None

    def username_taken(self, username: str) -> bool:
        found = self.conn.execute(
            select(accounts.c.id).where(accounts.c.acct_key == acct_key(username, None))
        ).first()
        return found is not None

    def email_taken(self, email: str) -> bool:
        found = self.conn.execute(select(users.c.account_id).where(users.c.email == email.lower()))
        return found.first() is not None

    def insert(self, values: dict[str, Any]) -> None:
        values = dict(values)
        values["acct_key"] = acct_key(values["username"], values.get("domain"))
        self.conn.execute(accounts.insert().values(**values))

    def insert_user(self, values: dict[str, Any]) -> None:
        values = dict(values)
        values["email"] = values["email"].lower()
        self.conn.execute(users.insert().values(**values))

    def suspensions_ended(self, now: datetime) -> list[int]:
        """Accounts whose temporary suspension has reached its end."""
        rows = self.conn.execute(
            select(accounts.c.id).where(
                accounts.c.suspended_at.is_not(None), accounts.c.suspended_until <= now
            )
        )
        return [int(r[0]) for r in rows]

    def update(self, account_id: int, values: dict[str, Any]) -> None:
        self.conn.execute(update(accounts).where(accounts.c.id == account_id).values(**values))

    def update_user(self, account_id: int, values: dict[str, Any]) -> None:
        self.conn.execute(update(users).where(users.c.account_id == account_id).values(**values))

    def adjust_counts(self, account_id: int, **deltas: int) -> None:
        values = {n: clamped_add(getattr(accounts.c, n), d) for n, d in deltas.items() if d}
        if values:
            self.conn.execute(update(accounts).where(accounts.c.id == account_id).values(**values))

    def touch_last_status(self, account_id: int, at: datetime) -> None:
        self.conn.execute(
            update(accounts).where(accounts.c.id == account_id).values(last_status_at=at)
        )

    def user(self, account_id: int) -> User | None:
        row = (
            self.conn.execute(select(users).where(users.c.account_id == account_id))
            .mappings()
            .first()
        )
        return _user_from_row(row) if row else None

    def user_by_login(self, login: str) -> tuple[User, str] | None:
        """A user by e-mail or local username, with the password hash."""
        login = login.strip().lower()
        query = (
            select(users)
            .join(accounts, accounts.c.id == users.c.account_id)
            .where(or_(users.c.email == login, accounts.c.acct_key == acct_key(login, None)))
        )
        row = self.conn.execute(query).mappings().first()
        return (_user_from_row(row), row["password_hash"]) if row else None

    def set_password_hash(self, account_id: int, password_hash: str) -> None:
        self.update_user(account_id, {"password_hash": password_hash})

    def search(
        self, query: str, *, limit: int, offset: int, local_only: bool = False
    ) -> list[Account]:
        """Accounts whose username or display name starts with (or contains) the query."""
        q = query.strip().lstrip("@").lower()
        username, _, domain = q.partition("@")
        like = username.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
        cond = or_(
            func.lower(accounts.c.username).like(f"{like}%", escape="\\"),
            func.lower(accounts.c.display_name).like(f"%{like}%", escape="\\"),
        )
        stmt = _ACCOUNT_SELECT.where(cond, accounts.c.suspended_at.is_(None))
        if domain:
            stmt = stmt.where(func.lower(accounts.c.domain) == domain)
        if local_only:
            stmt = stmt.where(accounts.c.domain.is_(None))
        stmt = stmt.order_by(
            (func.lower(accounts.c.username) == username).desc(),
            accounts.c.followers_count.desc(),
            accounts.c.id,
        )
        rows = self.conn.execute(stmt.limit(limit).offset(offset)).mappings()
        return [account_from_row(r) for r in rows]

    def count_local(self) -> int:
        return int(
            self.conn.execute(
                select(func.count()).select_from(accounts).where(accounts.c.domain.is_(None))
            ).scalar_one()
        )
