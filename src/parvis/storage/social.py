"""The social graph: follows, follow requests, blocks, mutes."""

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
from parvis.storage.tables import TS, accounts, blocks, follow_requests, follows, mutes

EDGES: dict[str, Table] = {
    "follows": follows,
    "follow_requests": follow_requests,
    "blocks": blocks,
    "mutes": mutes,
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
                    domain_blocking=False,
                    endorsed=False,
                    note="",
                )
            )
        return out


def _languages(row: dict[str, Any] | None) -> tuple[str, ...] | None:
    if not row or not row.get("languages"):
        return None
    return tuple(x for x in row["languages"].split(",") if x)
