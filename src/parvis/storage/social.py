"""The social graph: follows, follow requests, blocks, mutes; endorsements (account pins),
user domain blocks, familiar followers and private notes on accounts."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import (
    BindParameter,
    Table,
    bindparam,
    delete,
    insert,
    literal,
    or_,
    select,
    union_all,
    update,
)
from sqlalchemy.engine import Connection

from parvis.domain.ids import new_id
from parvis.domain.models import Relationship
from parvis.domain.visibility import Viewer
from parvis.storage.statuses import page
from parvis.storage.tables import (
    TS,
    account_domain_blocks,
    account_notes,
    account_pins,
    accounts,
    blocks,
    follow_requests,
    follows,
    mutes,
)

EDGES: dict[str, Table] = {
    "follows": follows,
    "follow_requests": follow_requests,
    "blocks": blocks,
    "mutes": mutes,
    "account_pins": account_pins,
}


_VIEWER_IDS: BindParameter[list[int]] = bindparam("ids", expanding=True)
_VIEWER = union_all(
    select(literal("following"), follows.c.target_account_id).where(
        follows.c.account_id == bindparam("viewer"), follows.c.target_account_id.in_(_VIEWER_IDS)
    ),
    select(literal("blocking"), blocks.c.target_account_id).where(
        blocks.c.account_id == bindparam("viewer"), blocks.c.target_account_id.in_(_VIEWER_IDS)
    ),
    select(literal("blocked_by"), blocks.c.account_id).where(
        blocks.c.target_account_id == bindparam("viewer"), blocks.c.account_id.in_(_VIEWER_IDS)
    ),
)


_MUTED = select(mutes.c.target_account_id).where(
    mutes.c.account_id == bindparam("viewer"),
    or_(mutes.c.expires_at.is_(None), mutes.c.expires_at > bindparam("now", type_=TS)),
)
_MUTED_NOTIFYING = _MUTED.where(mutes.c.hide_notifications.is_(True))


class SocialStore:
    def __init__(self, conn: Connection) -> None:
        self.conn = conn

    def has(self, kind: str, account_id: int, target_id: int) -> bool:
        t = EDGES[kind]
        row = self.conn.execute(
            select(t.c.id).where(t.c.account_id == account_id, t.c.target_account_id == target_id)
        ).first()
        return row is not None

    def get(self, kind: str, account_id: int, target_id: int) -> dict[str, Any] | None:
        t = EDGES[kind]
        row = (
            self.conn.execute(
                select(t).where(t.c.account_id == account_id, t.c.target_account_id == target_id)
            )
            .mappings()
            .first()
        )
        return dict(row) if row else None

    def add(self, kind: str, account_id: int, target_id: int, now: datetime, **extra: Any) -> bool:
        """Insert the edge; False when it was already there (then its options are updated)."""
        t = EDGES[kind]
        if self.has(kind, account_id, target_id):
            if extra:
                self.conn.execute(
                    update(t)
                    .where(t.c.account_id == account_id, t.c.target_account_id == target_id)
                    .values(**extra)
                )
            return False
        self.conn.execute(
            insert(t).values(
                id=new_id(),
                account_id=account_id,
                target_account_id=target_id,
                created_at=now,
                **extra,
            )
        )
        return True

    def remove(self, kind: str, account_id: int, target_id: int) -> bool:
        t = EDGES[kind]
        result = self.conn.execute(
            delete(t).where(t.c.account_id == account_id, t.c.target_account_id == target_id)
        )
        return bool(result.rowcount)

    def follower_ids(self, account_id: int) -> list[int]:
        rows = self.conn.execute(
            select(follows.c.account_id).where(follows.c.target_account_id == account_id)
        )
        return [r[0] for r in rows]

    def local_follower_ids(self, account_id: int) -> list[int]:
        rows = self.conn.execute(
            select(follows.c.account_id)
            .join(accounts, accounts.c.id == follows.c.account_id)
            .where(follows.c.target_account_id == account_id, accounts.c.domain.is_(None))
        )
        return [r[0] for r in rows]

    def followers_hiding_reblogs(self, account_id: int) -> set[int]:
        rows = self.conn.execute(
            select(follows.c.account_id).where(
                follows.c.target_account_id == account_id, follows.c.show_reblogs.is_(False)
            )
        )
        return {r[0] for r in rows}

    def followers_notified(self, account_id: int) -> list[int]:
        rows = self.conn.execute(
            select(follows.c.account_id).where(
                follows.c.target_account_id == account_id, follows.c.notify.is_(True)
            )
        )
        return [r[0] for r in rows]

    def blocked_with(self, account_id: int) -> set[int]:
        """Everyone who blocks this account or whom it blocks."""
        rows = self.conn.execute(
            select(blocks.c.account_id, blocks.c.target_account_id).where(
                or_(blocks.c.account_id == account_id, blocks.c.target_account_id == account_id)
            )
        )
        return {a if t == account_id else t for a, t in rows}

    def edge_page(
        self,
        kind: str,
        *,
        account_id: int | None = None,
        target_id: int | None = None,
        max_id: int | None,
        since_id: int | None,
        min_id: int | None,
        limit: int,
    ) -> list[tuple[int, int]]:
        """(edge id, other account id) pairs, paged by edge id (Mastodon pages these by edge)."""
        t = EDGES[kind]
        if account_id is not None:
            stmt = select(t.c.id, t.c.target_account_id).where(t.c.account_id == account_id)
        else:
            stmt = select(t.c.id, t.c.account_id).where(t.c.target_account_id == target_id)
        stmt = page(stmt, t.c.id, max_id=max_id, since_id=since_id, min_id=min_id, limit=limit)
        return [(r[0], r[1]) for r in self.conn.execute(stmt)]

    def viewer(self, viewer_id: int | None, author_ids: Iterable[int]) -> Viewer:
        """The Viewer for visibility checks against these authors (one round trip)."""
        if viewer_id is None:
            return Viewer(account_id=None)
        ids = list(set(author_ids) - {viewer_id})
        if not ids:
            return Viewer(account_id=viewer_id)
        found: dict[str, set[int]] = {"following": set(), "blocking": set(), "blocked_by": set()}
        for kind, other in self.conn.execute(_VIEWER, {"viewer": viewer_id, "ids": ids}):
            found[kind].add(other)
        return Viewer(
            account_id=viewer_id,
            following=frozenset(found["following"]),
            blocking=frozenset(found["blocking"]),
            blocked_by=frozenset(found["blocked_by"]),
        )

    def muted_ids(self, viewer_id: int, now: datetime, *, notifications: bool = False) -> set[int]:
        stmt = _MUTED_NOTIFYING if notifications else _MUTED
        return {r[0] for r in self.conn.execute(stmt, {"viewer": viewer_id, "now": now})}

    def relationships(
        self, viewer_id: int, target_ids: Sequence[int], now: datetime
    ) -> list[Relationship]:
        ids = list(dict.fromkeys(target_ids))

        def edges(t: Table, outgoing: bool) -> dict[int, dict[str, Any]]:
            if outgoing:
                stmt = select(t).where(t.c.account_id == viewer_id, t.c.target_account_id.in_(ids))
                return {r["target_account_id"]: dict(r) for r in self.conn.execute(stmt).mappings()}
            stmt = select(t).where(t.c.target_account_id == viewer_id, t.c.account_id.in_(ids))
            return {r["account_id"]: dict(r) for r in self.conn.execute(stmt).mappings()}

        following, followed_by = edges(follows, True), edges(follows, False)
        requested, requested_by = edges(follow_requests, True), edges(follow_requests, False)
        blocking, blocked_by = edges(blocks, True), edges(blocks, False)
        muting = {
            k: v
            for k, v in edges(mutes, True).items()
            if v["expires_at"] is None or v["expires_at"] > now
        }
        endorsed = edges(account_pins, True)
        notes = self.notes(viewer_id, ids)
        blocked_domains = self.blocked_domains(viewer_id)
        domains: dict[int, str] = {}
        if blocked_domains:
            domains = {
                r[0]: r[1]
                for r in self.conn.execute(
                    select(accounts.c.id, accounts.c.domain).where(
                        accounts.c.id.in_(ids), accounts.c.domain.is_not(None)
                    )
                )
            }
        out = []
        for target in ids:
            f = following.get(target) or requested.get(target)
            out.append(
                Relationship(
                    id=target,
                    following=target in following,
                    showing_reblogs=bool(f and f["show_reblogs"]),
                    notifying=bool(f and f["notify"]),
                    languages=_languages(following.get(target)),
                    followed_by=target in followed_by,
                    blocking=target in blocking,
                    blocked_by=target in blocked_by,
                    muting=target in muting,
                    muting_notifications=bool(muting.get(target, {}).get("hide_notifications")),
                    requested=target in requested,
                    requested_by=target in requested_by,
                    domain_blocking=domains.get(target) in blocked_domains,
                    endorsed=target in endorsed and target in following,
                    note=notes.get(target, ""),
                )
            )
        return out

    # -- private notes on accounts ---------------------------------------------------------

    def notes(self, account_id: int, target_ids: Sequence[int]) -> dict[int, str]:
        if not target_ids:
            return {}
        rows = self.conn.execute(
            select(account_notes.c.target_account_id, account_notes.c.comment).where(
                account_notes.c.account_id == account_id,
                account_notes.c.target_account_id.in_(list(target_ids)),
            )
        )
        return {r[0]: r[1] for r in rows}

    def set_note(self, account_id: int, target_id: int, comment: str, now: datetime) -> None:
        """Keep `comment` as the account's note on the target; an empty one removes it."""
        self.conn.execute(
            delete(account_notes).where(
                account_notes.c.account_id == account_id,
                account_notes.c.target_account_id == target_id,
            )
        )
        if comment:
            self.conn.execute(
                insert(account_notes).values(
                    account_id=account_id,
                    target_account_id=target_id,
                    comment=comment,
                    updated_at=now,
                )
            )

    # -- user domain blocks ----------------------------------------------------------------

    def block_domain(self, account_id: int, domain: str, now: datetime) -> None:
        if domain not in self.blocked_domains(account_id):
            self.conn.execute(
                insert(account_domain_blocks).values(
                    id=new_id(), account_id=account_id, domain=domain, created_at=now
                )
            )

    def unblock_domain(self, account_id: int, domain: str) -> None:
        self.conn.execute(
            delete(account_domain_blocks).where(
                account_domain_blocks.c.account_id == account_id,
                account_domain_blocks.c.domain == domain,
            )
        )

    def blocked_domains(self, account_id: int) -> set[str]:
        rows = self.conn.execute(
            select(account_domain_blocks.c.domain).where(
                account_domain_blocks.c.account_id == account_id
            )
        )
        return {r[0] for r in rows}

    def domain_block_page(
        self,
        account_id: int,
        *,
        max_id: int | None,
        since_id: int | None,
        min_id: int | None,
        limit: int,
    ) -> list[tuple[int, str]]:
        t = account_domain_blocks
        stmt = select(t.c.id, t.c.domain).where(t.c.account_id == account_id)
        stmt = page(stmt, t.c.id, max_id=max_id, since_id=since_id, min_id=min_id, limit=limit)
        return [(r[0], r[1]) for r in self.conn.execute(stmt)]

    # -- endorsements and familiar followers -----------------------------------------------

    def endorsement_page(
        self,
        account_id: int,
        *,
        max_id: int | None,
        since_id: int | None,
        min_id: int | None,
        limit: int,
    ) -> list[tuple[int, int]]:
        """(pin id, endorsed account id) of accounts still followed, paged by pin id."""
        stmt = (
            select(account_pins.c.id, account_pins.c.target_account_id)
            .join(
                follows,
                (follows.c.account_id == account_pins.c.account_id)
                & (follows.c.target_account_id == account_pins.c.target_account_id),
            )
            .where(account_pins.c.account_id == account_id)
        )
        stmt = page(
            stmt, account_pins.c.id, max_id=max_id, since_id=since_id, min_id=min_id, limit=limit
        )
        return [(r[0], r[1]) for r in self.conn.execute(stmt)]

    def familiar_followers(
        self, viewer_id: int, target_ids: Sequence[int], limit: int = 40
    ) -> dict[int, list[int]]:
        """For each target: accounts the viewer follows that follow the target (those hiding
        their collections left out, as Mastodon does)."""
        mine = follows.alias("mine")
        theirs = follows.alias("theirs")
        stmt = (
            select(theirs.c.target_account_id, theirs.c.account_id)
            .join(mine, mine.c.target_account_id == theirs.c.account_id)
            .join(accounts, accounts.c.id == theirs.c.account_id)
            .where(
                mine.c.account_id == viewer_id,
                theirs.c.target_account_id.in_(list(target_ids)),
                accounts.c.hide_collections.is_(False),
                accounts.c.suspended_at.is_(None),
            )
            .order_by(theirs.c.target_account_id, theirs.c.id.desc())
        )
        out: dict[int, list[int]] = {t: [] for t in target_ids}
        for target, follower in self.conn.execute(stmt):
            if len(out[target]) < limit:
                out[target].append(follower)
        return out


def _languages(row: dict[str, Any] | None) -> tuple[str, ...] | None:
    if not row or not row.get("languages"):
        return None
    return tuple(x for x in row["languages"].split(",") if x)
