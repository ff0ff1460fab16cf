"""What moving in and out of a server reads and writes beyond the other stores: account
aliases (alsoKnownAs), the `moved_to_account_id` of a moved account, look-ups by ActivityPub
URI (import of bookmarks, alias targets) and the marks left on posts re-created from an
archive (so that importing the same archive twice adds nothing)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import NamedTuple

from sqlalchemy import delete, insert, select, update
from sqlalchemy.engine import Connection

from parvis.domain.ids import new_id
from parvis.storage.tables import (
    account_aliases,
    accounts,
    blocks,
    bookmarks,
    follows,
    idempotency_keys,
    mutes,
    statuses,
)


@dataclass(frozen=True)
class Alias:
    id: int
    account_id: int
    uri: str
    created_at: datetime


class FollowEdge(NamedTuple):
    account_id: int
    show_reblogs: bool
    notify: bool
    languages: str | None


class MuteEdge(NamedTuple):
    account_id: int
    hide_notifications: bool
    expires_at: datetime | None


class PortabilityStore:
    def __init__(self, conn: Connection) -> None:
        self.conn = conn

    # -- aliases ---------------------------------------------------------------------------

    def aliases(self, account_id: int) -> list[Alias]:
        rows = self.conn.execute(
            select(account_aliases)
            .where(account_aliases.c.account_id == account_id)
            .order_by(account_aliases.c.id)
        ).mappings()
        return [Alias(r["id"], r["account_id"], r["uri"], r["created_at"]) for r in rows]

    def alias_uris(self, account_id: int) -> set[str]:
        return {a.uri for a in self.aliases(account_id)}

    def add_alias(self, account_id: int, uri: str, now: datetime) -> bool:
        """False when the alias was already there."""
        if uri in self.alias_uris(account_id):
            return False
        self.conn.execute(
            insert(account_aliases).values(
                id=new_id(), account_id=account_id, uri=uri, created_at=now
            )
        )
        return True

    def remove_alias(self, account_id: int, uri: str) -> bool:
        result = self.conn.execute(
            delete(account_aliases).where(
                account_aliases.c.account_id == account_id, account_aliases.c.uri == uri
            )
        )
        return bool(result.rowcount)

    # -- moves -----------------------------------------------------------------------------

    def moved_to(self, account_id: int) -> int | None:
        found = self.conn.execute(
            select(accounts.c.moved_to_account_id).where(accounts.c.id == account_id)
        ).scalar()
        return int(found) if found is not None else None

    def set_moved_to(self, account_id: int, target_id: int | None, now: datetime) -> None:
        self.conn.execute(
            update(accounts)
            .where(accounts.c.id == account_id)
            .values(moved_to_account_id=target_id, updated_at=now)
        )

    def local_follows_of(self, target_id: int) -> list[FollowEdge]:
        """The follows of local accounts to `target_id`, with their options."""
        rows = self.conn.execute(
            select(
                follows.c.account_id, follows.c.show_reblogs, follows.c.notify, follows.c.languages
            )
            .join(accounts, accounts.c.id == follows.c.account_id)
            .where(follows.c.target_account_id == target_id, accounts.c.domain.is_(None))
            .order_by(follows.c.id)
        )
        return [FollowEdge(int(r[0]), bool(r[1]), bool(r[2]), r[3]) for r in rows]

    def local_blockers_of(self, target_id: int) -> list[int]:
        rows = self.conn.execute(
            select(blocks.c.account_id)
            .join(accounts, accounts.c.id == blocks.c.account_id)
            .where(blocks.c.target_account_id == target_id, accounts.c.domain.is_(None))
        )
        return [int(r[0]) for r in rows]

    def local_mutes_of(self, target_id: int) -> list[MuteEdge]:
        rows = self.conn.execute(
            select(mutes.c.account_id, mutes.c.hide_notifications, mutes.c.expires_at)
            .join(accounts, accounts.c.id == mutes.c.account_id)
            .where(mutes.c.target_account_id == target_id, accounts.c.domain.is_(None))
        )
        return [MuteEdge(int(r[0]), bool(r[1]), r[2]) for r in rows]

    # -- what an account has now (overwriting imports) -----------------------------------

    def targets(self, kind: str, account_id: int) -> list[int]:
        """The accounts this one follows, blocks or mutes (kind: follows | blocks | mutes)."""
        table = {"follows": follows, "blocks": blocks, "mutes": mutes}[kind]
        rows = self.conn.execute(
            select(table.c.target_account_id)
            .where(table.c.account_id == account_id)
            .order_by(table.c.id)
        )
        return [int(r[0]) for r in rows]

    def bookmarked(self, account_id: int) -> list[int]:
        rows = self.conn.execute(
            select(bookmarks.c.status_id)
            .where(bookmarks.c.account_id == account_id)
            .order_by(bookmarks.c.id)
        )
        return [int(r[0]) for r in rows]

    # -- look-ups by URI -------------------------------------------------------------------

    def account_id_by_uri(self, uri: str) -> int | None:
        found = self.conn.execute(select(accounts.c.id).where(accounts.c.uri == uri)).scalar()
        return int(found) if found is not None else None

    def status_ids_by_uri(self, uris: Iterable[str]) -> dict[str, int]:
        wanted = list(set(uris))
        out: dict[str, int] = {}
        for start in range(0, len(wanted), 500):
            chunk = wanted[start : start + 500]
            rows = self.conn.execute(
                select(statuses.c.uri, statuses.c.id).where(statuses.c.uri.in_(chunk))
            )
            out.update({r[0]: int(r[1]) for r in rows})
        return out

    def status_id_free(self, status_id: int) -> bool:
        found = self.conn.execute(select(statuses.c.id).where(statuses.c.id == status_id))
        return found.first() is None

    # -- posts re-created from an archive ----------------------------------------------------

    def imported(self, account_id: int, key: str) -> int | None:
        """The post already re-created from the archived post with this key, if any."""
        found = self.conn.execute(
            select(idempotency_keys.c.status_id).where(
                idempotency_keys.c.account_id == account_id, idempotency_keys.c.key == key
            )
        ).scalar()
        return int(found) if found is not None else None

    def mark_imported(self, account_id: int, key: str, status_id: int, now: datetime) -> None:
        self.conn.execute(
            insert(idempotency_keys).values(
                account_id=account_id, key=key, status_id=status_id, created_at=now
            )
        )
