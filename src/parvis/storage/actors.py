"""Local actors as ActivityPub sees them: key pairs, aliases, the pages of their collections
(outbox, followers, following, replies), and the instance actor's key file.

Collections page on primary keys (time-ordered ids): `max_id` for newer-to-older pages,
`min_id` for older-to-newer ones. Visibility is pre-filtered here (public and unlisted posts,
not withheld by moderators); services still apply `may_see` to what they render.
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import and_, func, or_, select, update
from sqlalchemy.engine import Connection

from parvis.domain.moderation import HIDING
from parvis.domain.visibility import Visibility
from parvis.storage.tables import (
    account_aliases,
    accounts,
    follows,
    statuses,
)

# Posts anyone may fetch: public and unlisted, and not hidden by a moderation decision.
_LISTED = (Visibility.PUBLIC.value, Visibility.UNLISTED.value)
_SHOWN = or_(statuses.c.restriction.is_(None), statuses.c.restriction.not_in(sorted(HIDING)))


@dataclass(frozen=True)
class KeyPair:
    private_pem: str
    public_pem: str


@dataclass(frozen=True)
class KnownKey:
    """A public key we hold for a `keyId` URI, and whose it is."""

    account_id: int
    domain: str | None  # None: a local account
    public_key_pem: str
    suspended: bool


class ActorStore:
    def __init__(self, conn: Connection) -> None:
        self.conn = conn

    # -- keys ------------------------------------------------------------------------------

    def key_pair(self, account_id: int) -> KeyPair | None:
        row = self.conn.execute(
            select(accounts.c.private_key_pem, accounts.c.public_key_pem).where(
                accounts.c.id == account_id
            )
        ).first()
        if row is None or not row[0] or not row[1]:
            return None
        return KeyPair(private_pem=row[0], public_pem=row[1])

    def public_key(self, account_id: int) -> str | None:
        return self.conn.execute(
            select(accounts.c.public_key_pem).where(accounts.c.id == account_id)
        ).scalar()

    def store_key_pair(self, account_id: int, pair: KeyPair, key_uri: str) -> bool:
        """Keep a fresh key pair unless the account already has one (another process may have
        generated it meanwhile): True when this one was stored."""
        done = self.conn.execute(
            update(accounts)
            .where(accounts.c.id == account_id, accounts.c.private_key_pem.is_(None))
            .values(
                private_key_pem=pair.private_pem, public_key_pem=pair.public_pem, key_uri=key_uri
            )
        )
        return bool(done.rowcount)

    def key_by_uri(self, key_uri: str) -> KnownKey | None:
        """The account whose public key has this `keyId` (remote accounts store it in
        `key_uri`; local ones as `{uri}#main-key`)."""
        row = self.conn.execute(
            select(
                accounts.c.id, accounts.c.domain, accounts.c.public_key_pem, accounts.c.suspended_at
            ).where(accounts.c.key_uri == key_uri, accounts.c.public_key_pem.is_not(None))
        ).first()
        if row is None:
            return None
        return KnownKey(
            account_id=row[0], domain=row[1], public_key_pem=row[2], suspended=row[3] is not None
        )

    # -- profile facts ---------------------------------------------------------------------

    def aliases(self, account_id: int) -> list[str]:
        rows = self.conn.execute(
            select(account_aliases.c.uri)
            .where(account_aliases.c.account_id == account_id)
            .order_by(account_aliases.c.id)
        )
        return [r[0] for r in rows]

    def moved_to_uri(self, account_id: int) -> str | None:
        target = accounts.alias("target")
        return self.conn.execute(
            select(target.c.uri)
            .select_from(accounts.join(target, target.c.id == accounts.c.moved_to_account_id))
            .where(accounts.c.id == account_id)
        ).scalar()

    # -- statuses --------------------------------------------------------------------------

    def status_uris(self, status_ids: Iterable[int]) -> dict[int, tuple[str, str | None]]:
        """(uri, url) of these statuses, by id."""
        wanted = sorted(set(status_ids))
        if not wanted:
            return {}
        rows = self.conn.execute(
            select(statuses.c.id, statuses.c.uri, statuses.c.url).where(statuses.c.id.in_(wanted))
        )
        return {r[0]: (r[1], r[2]) for r in rows}

    def parent_uri(self, status_id: int) -> str | None:
        """The URI a status replies to when the parent is not (or no longer) stored here."""
        return self.conn.execute(
            select(statuses.c.in_reply_to_uri).where(statuses.c.id == status_id)
        ).scalar()

    def outbox_ids(
        self, account_id: int, *, max_id: int | None, min_id: int | None, limit: int
    ) -> list[int]:
        """A page of an account's public and unlisted posts and boosts, newest first (with
        `min_id`: the oldest newer than it, still returned newest first)."""
        stmt = select(statuses.c.id).where(
            statuses.c.account_id == account_id, statuses.c.visibility.in_(_LISTED), _SHOWN
        )
        if max_id is not None:
            stmt = stmt.where(statuses.c.id < max_id)
        if min_id is not None:
            stmt = stmt.where(statuses.c.id > min_id).order_by(statuses.c.id.asc())
            ids = [r[0] for r in self.conn.execute(stmt.limit(limit))]
            return ids[::-1]
        return [r[0] for r in self.conn.execute(stmt.order_by(statuses.c.id.desc()).limit(limit))]

    def outbox_count(self, account_id: int) -> int:
        return int(
            self.conn.execute(
                select(func.count())
                .select_from(statuses)
                .where(
                    statuses.c.account_id == account_id,
                    statuses.c.visibility.in_(_LISTED),
                    _SHOWN,
                )
            ).scalar_one()
        )

    def reply_ids(self, status_id: int, *, min_id: int | None, limit: int) -> list[int]:
        """Public and unlisted replies to a status, oldest first."""
        stmt = select(statuses.c.id).where(
            statuses.c.in_reply_to_id == status_id, statuses.c.visibility.in_(_LISTED), _SHOWN
        )
        if min_id is not None:
            stmt = stmt.where(statuses.c.id > min_id)
        return [r[0] for r in self.conn.execute(stmt.order_by(statuses.c.id.asc()).limit(limit))]

    # -- followers and following -------------------------------------------------------------

    def relation_page(
        self, kind: str, account_id: int, *, max_id: int | None, limit: int
    ) -> list[tuple[int, str]]:
        """(follow id, actor URI) of an account's followers (`kind` "followers") or of those it
        follows ("following"), newest follow first; suspended accounts are left out."""
        if kind == "followers":
            mine, other = follows.c.target_account_id, follows.c.account_id
        elif kind == "following":
            mine, other = follows.c.account_id, follows.c.target_account_id
        else:
            raise ValueError(kind)
        stmt = (
            select(follows.c.id, accounts.c.uri)
            .join(accounts, accounts.c.id == other)
            .where(and_(mine == account_id, accounts.c.suspended_at.is_(None)))
        )
        if max_id is not None:
            stmt = stmt.where(follows.c.id < max_id)
        rows = self.conn.execute(stmt.order_by(follows.c.id.desc()).limit(limit))
        return [(r[0], r[1]) for r in rows]


# -- the instance actor's key: a file in the data directory ----------------------------------


def instance_key_pem(path: Path, generate: Callable[[], str]) -> str:
    """The instance actor's private key (PKCS#8 PEM), created once with `generate` and kept
    (mode 0600) at `path`. Written whole under a temporary name, then linked into place, so no
    process ever reads half a key; when two processes race, the first key linked wins."""
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        temp = path.with_name(f".{path.name}.{secrets.token_hex(8)}")
        fd = os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as f:
            f.write(generate())
        try:
            os.link(temp, path)
        except FileExistsError:
            pass
        finally:
            temp.unlink()
    return path.read_text()
