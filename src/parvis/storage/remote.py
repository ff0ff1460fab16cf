"""Remote accounts and posts: upserted by URI from fetched or delivered documents, and what the
federation needs to know of any account beyond the `Account` entity (inbox, key, collections,
when it was fetched)."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import and_, delete, insert, or_, select, update
from sqlalchemy.engine import Connection, RowMapping
from sqlalchemy.sql.elements import ColumnElement

from parvis.domain.ids import new_id
from parvis.storage.accounts import acct_key
from parvis.storage.tables import (
    account_aliases,
    accounts,
    follow_requests,
    follows,
    media_attachments,
    statuses,
)


@dataclass(frozen=True)
class RemoteAccount:
    """An account as federation sees it (local ones too: their key and collections)."""

    account_id: int
    uri: str
    username: str
    domain: str | None
    inbox_uri: str | None
    shared_inbox_uri: str | None
    key_uri: str | None
    public_key_pem: str | None
    outbox_uri: str | None
    followers_uri: str | None
    following_uri: str | None
    featured_uri: str | None
    actor_type: str | None
    fetched_at: datetime | None
    suspended: bool
    locked: bool
    moved_to_account_id: int | None

    @property
    def local(self) -> bool:
        return self.domain is None

    @property
    def delivery_inbox(self) -> str | None:
        return self.shared_inbox_uri or self.inbox_uri


_ACTOR_COLUMNS = (
    accounts.c.id,
    accounts.c.uri,
    accounts.c.username,
    accounts.c.domain,
    accounts.c.inbox_uri,
    accounts.c.shared_inbox_uri,
    accounts.c.key_uri,
    accounts.c.public_key_pem,
    accounts.c.outbox_uri,
    accounts.c.followers_uri,
    accounts.c.following_uri,
    accounts.c.featured_uri,
    accounts.c.actor_type,
    accounts.c.fetched_at,
    accounts.c.suspended_at,
    accounts.c.locked,
    accounts.c.moved_to_account_id,
)


def _actor(r: RowMapping) -> RemoteAccount:
    return RemoteAccount(
        account_id=r["id"],
        uri=r["uri"],
        username=r["username"],
        domain=r["domain"],
        inbox_uri=r["inbox_uri"],
        shared_inbox_uri=r["shared_inbox_uri"],
        key_uri=r["key_uri"],
        public_key_pem=r["public_key_pem"],
        outbox_uri=r["outbox_uri"],
        followers_uri=r["followers_uri"],
        following_uri=r["following_uri"],
        featured_uri=r["featured_uri"],
        actor_type=r["actor_type"],
        fetched_at=r["fetched_at"],
        suspended=r["suspended_at"] is not None,
        locked=r["locked"],
        moved_to_account_id=r["moved_to_account_id"],
    )


def _like_escape(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def in_domain(domain: str) -> ColumnElement[bool]:
    """Accounts on `domain` or any of its subdomains, whatever their port."""
    d = _like_escape(domain.lower())
    return or_(
        accounts.c.domain == domain.lower(),
        accounts.c.domain.like(f"%.{d}", escape="\\"),
        accounts.c.domain.like(f"{d}:%", escape="\\"),
        accounts.c.domain.like(f"%.{d}:%", escape="\\"),
    )


class RemoteStore:
    def __init__(self, conn: Connection) -> None:
        self.conn = conn

    # -- accounts ------------------------------------------------------------------------

    def account_id(self, uri: str) -> int | None:
        found = self.conn.execute(select(accounts.c.id).where(accounts.c.uri == uri)).scalar()
        return int(found) if found is not None else None

    def actor(self, account_id: int) -> RemoteAccount | None:
        row = (
            self.conn.execute(select(*_ACTOR_COLUMNS).where(accounts.c.id == account_id))
            .mappings()
            .first()
        )
        return _actor(row) if row else None

    def actor_by_uri(self, uri: str) -> RemoteAccount | None:
        row = (
            self.conn.execute(select(*_ACTOR_COLUMNS).where(accounts.c.uri == uri))
            .mappings()
            .first()
        )
        return _actor(row) if row else None

    def actor_by_key(self, key_uri: str) -> RemoteAccount | None:
        row = (
            self.conn.execute(select(*_ACTOR_COLUMNS).where(accounts.c.key_uri == key_uri))
            .mappings()
            .first()
        )
        return _actor(row) if row else None

    def actors(self, account_ids: Iterable[int]) -> dict[int, RemoteAccount]:
        wanted = list(set(account_ids))
        if not wanted:
            return {}
        rows = self.conn.execute(select(*_ACTOR_COLUMNS).where(accounts.c.id.in_(wanted)))
        return {r["id"]: _actor(r) for r in rows.mappings()}

    def upsert_account(self, values: dict[str, Any], now: datetime) -> tuple[int, bool]:
        """Insert or update the account whose `uri` is values["uri"]; (id, whether new).

        When another row already holds the same user@domain (the remote server re-created an
        account under a new URI), that older row gives the name up: its key is suffixed with
        its id, so mentions and WebFinger find the live account."""
        uri = values["uri"]
        key = acct_key(values["username"], values["domain"])
        existing = self.account_id(uri)
        holder = self.conn.execute(select(accounts.c.id).where(accounts.c.acct_key == key)).scalar()
        if holder is not None and holder != existing:
            self.conn.execute(
                update(accounts)
                .where(accounts.c.id == holder)
                .values(acct_key=f"{key}#{holder}"[:320])
            )
        if existing is not None:
            self.conn.execute(
                update(accounts)
                .where(accounts.c.id == existing)
                .values(acct_key=key, updated_at=now, **values)
            )
            return existing, False
        account_id = new_id()
        self.conn.execute(
            insert(accounts).values(
                id=account_id,
                acct_key=key,
                created_at=values.get("created_at") or now,
                updated_at=now,
                **{k: v for k, v in values.items() if k != "created_at"},
            )
        )
        return account_id, True

    def set_aliases(self, account_id: int, uris: Sequence[str], now: datetime) -> None:
        """Replace the account's alsoKnownAs."""
        self.conn.execute(delete(account_aliases).where(account_aliases.c.account_id == account_id))
        rows = [
            {"id": new_id(), "account_id": account_id, "uri": u, "created_at": now}
            for u in dict.fromkeys(uris)
        ]
        if rows:
            self.conn.execute(insert(account_aliases), rows)

    def aliases(self, account_id: int) -> list[str]:
        rows = self.conn.execute(
            select(account_aliases.c.uri)
            .where(account_aliases.c.account_id == account_id)
            .order_by(account_aliases.c.id)
        )
        return [r[0] for r in rows]

    def set_moved(self, account_id: int, target_id: int | None) -> None:
        self.conn.execute(
            update(accounts)
            .where(accounts.c.id == account_id)
            .values(moved_to_account_id=target_id)
        )

    def set_suspended(self, account_id: int, at: datetime | None) -> None:
        self.conn.execute(
            update(accounts).where(accounts.c.id == account_id).values(suspended_at=at)
        )

    def suspend_domain(self, domain: str, at: datetime) -> list[int]:
        """Suspend every not yet suspended account of the domain (and subdomains), stamped
        `at`; their ids."""
        ids = [
            int(r[0])
            for r in self.conn.execute(
                select(accounts.c.id).where(in_domain(domain), accounts.c.suspended_at.is_(None))
            )
        ]
        if ids:
            self.conn.execute(
                update(accounts).where(accounts.c.id.in_(ids)).values(suspended_at=at)
            )
        return ids

    def unsuspend_domain(self, domain: str, at: datetime) -> int:
        """Lift the suspensions stamped `at` (those a domain block made, not others)."""
        result = self.conn.execute(
            update(accounts)
            .where(in_domain(domain), accounts.c.suspended_at == at)
            .values(suspended_at=None)
        )
        return int(result.rowcount or 0)

    def domain_account_ids(self, domain: str) -> list[int]:
        rows = self.conn.execute(select(accounts.c.id).where(in_domain(domain)))
        return [int(r[0]) for r in rows]

    # -- the follow graph, by activity URI ------------------------------------------------

    def follow_by_uri(self, kind: str, uri: str) -> tuple[int, int] | None:
        """(follower, followed) of the follow (or follow request) made by activity `uri`."""
        table = follows if kind == "follows" else follow_requests
        row = self.conn.execute(
            select(table.c.account_id, table.c.target_account_id).where(table.c.uri == uri)
        ).first()
        return (int(row[0]), int(row[1])) if row else None

    def set_follow_uri(self, kind: str, account_id: int, target_id: int, uri: str) -> None:
        table = follows if kind == "follows" else follow_requests
        self.conn.execute(
            update(table)
            .where(and_(table.c.account_id == account_id, table.c.target_account_id == target_id))
            .values(uri=uri[:2048])
        )

    # -- statuses ------------------------------------------------------------------------

    def status_id(self, uri: str) -> int | None:
        found = self.conn.execute(select(statuses.c.id).where(statuses.c.uri == uri)).scalar()
        return int(found) if found is not None else None

    def status_ids(self, uris: Iterable[str]) -> dict[str, int]:
        wanted = list(set(uris))
        if not wanted:
            return {}
        rows = self.conn.execute(
            select(statuses.c.uri, statuses.c.id).where(statuses.c.uri.in_(wanted))
        )
        return {r[0]: int(r[1]) for r in rows}

    def status_by_url(self, url: str) -> int | None:
        """A status by its web URL (Misskey and others quote and link by it)."""
        found = self.conn.execute(
            select(statuses.c.id).where(statuses.c.url == url).limit(1)
        ).scalar()
        return int(found) if found is not None else None

    def replies_waiting_for(self, parent_uri: str) -> list[int]:
        """Statuses that arrived before the post they reply to."""
        rows = self.conn.execute(
            select(statuses.c.id).where(
                statuses.c.in_reply_to_uri == parent_uri, statuses.c.in_reply_to_id.is_(None)
            )
        )
        return [int(r[0]) for r in rows]

    def replace_media(
        self, status_id: int, account_id: int, rows: Sequence[dict[str, Any]], now: datetime
    ) -> None:
        """The remote post's attachments, as given now (remote URLs; nothing downloaded)."""
        self.conn.execute(
            delete(media_attachments).where(media_attachments.c.status_id == status_id)
        )
        values = [
            {
                "id": new_id(),
                "account_id": account_id,
                "status_id": status_id,
                "state": "ready",
                "created_at": now,
                **row,
            }
            for row in rows
        ]
        if values:
            self.conn.execute(insert(media_attachments), values)

    def follow_edges(self, account_ids: Sequence[int]) -> list[tuple[int, int]]:
        """Every (follower, followed) pair with one of these accounts on either side."""
        ids = list(account_ids)
        if not ids:
            return []
        rows = self.conn.execute(
            select(follows.c.account_id, follows.c.target_account_id).where(
                or_(follows.c.account_id.in_(ids), follows.c.target_account_id.in_(ids))
            )
        )
        return [(int(r[0]), int(r[1])) for r in rows]

    def drop_follow_requests(self, account_ids: Sequence[int]) -> int:
        ids = list(account_ids)
        if not ids:
            return 0
        result = self.conn.execute(
            delete(follow_requests).where(
                or_(
                    follow_requests.c.account_id.in_(ids),
                    follow_requests.c.target_account_id.in_(ids),
                )
            )
        )
        return int(result.rowcount or 0)
