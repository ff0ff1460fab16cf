"""The raw figures behind trends (see docs/trends.md): recent uses of hashtags in public posts,
and who interacted with recent public posts. Ranking happens in parvis.services.trends."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import distinct, func, insert, or_, select
from sqlalchemy.engine import Connection

from parvis.storage.tables import (
    accounts,
    favourites,
    status_tags,
    statuses,
    tags,
    trend_exclusions,
)

PUBLIC = "public"


def _excluded(kind: str) -> Any:
    return select(trend_exclusions.c.target_id).where(trend_exclusions.c.kind == kind)


def _eligible_statuses(since: datetime) -> Any:
    """Public, original, local posts since `since` by discoverable, unsuspended authors,
    neither they nor the post taken out of trends nor demoted by the moderators."""
    return (
        select(statuses.c.id, statuses.c.account_id, statuses.c.created_at)
        .join(accounts, accounts.c.id == statuses.c.account_id)
        .where(
            statuses.c.created_at >= since,
            statuses.c.visibility == PUBLIC,
            statuses.c.local.is_(True),
            statuses.c.reblog_of_id.is_(None),
            # A moderation decision demoting the post (or stronger) keeps it out of trends;
            # a label alone does not.
            or_(statuses.c.restriction.is_(None), statuses.c.restriction == "label"),
            accounts.c.discoverable.is_(True),
            accounts.c.suspended_at.is_(None),
            statuses.c.id.not_in(_excluded("status")),
            statuses.c.account_id.not_in(_excluded("account")),
        )
    )


class TrendStore:
    def __init__(self, conn: Connection) -> None:
        self.conn = conn

    def tag_uses(self, since: datetime, tag_ids: Sequence[int] | None = None) -> list[Any]:
        """(tag id, account id, created_at) of every eligible use of a hashtag since `since`
        (a tag taken out of trends is left out unless asked for by id)."""
        eligible = _eligible_statuses(since).subquery()
        stmt = select(status_tags.c.tag_id, eligible.c.account_id, eligible.c.created_at).join(
            eligible, eligible.c.id == status_tags.c.status_id
        )
        if tag_ids is not None:
            stmt = stmt.where(status_tags.c.tag_id.in_(list(tag_ids)))
        else:
            stmt = stmt.where(status_tags.c.tag_id.not_in(_excluded("tag")))
        return list(self.conn.execute(stmt))

    def tags(self, ids: Sequence[int]) -> dict[int, tuple[str, str]]:
        """id -> (name key, display name)."""
        if not ids:
            return {}
        rows = self.conn.execute(
            select(tags.c.id, tags.c.name, tags.c.display_name).where(tags.c.id.in_(list(ids)))
        )
        return {int(r[0]): (str(r[1]), str(r[2])) for r in rows}

    def status_candidates(
        self, since: datetime, *, include_sensitive: bool = False
    ) -> list[tuple[int, int, datetime]]:
        """(id, author id, created_at) of posts that may trend: eligible, not replies, and
        without a content warning unless `include_sensitive`."""
        stmt = _eligible_statuses(since).where(statuses.c.in_reply_to_id.is_(None))
        if not include_sensitive:
            stmt = stmt.where(statuses.c.sensitive.is_(False), statuses.c.spoiler_text == "")
        return [(int(r[0]), int(r[1]), r[2]) for r in self.conn.execute(stmt)]

    def interacting_accounts(self, status_ids: Sequence[int]) -> dict[int, dict[str, int]]:
        """Per status: how many distinct accounts (other than its author) favourited, boosted
        and replied to it."""
        out: dict[int, dict[str, int]] = {}
        if not status_ids:
            return out
        ids = list(status_ids)
        target = statuses.alias("target")

        def count(kind: str, table: Any, status_col: Any, account_col: Any) -> None:
            stmt = (
                select(status_col, func.count(distinct(account_col)))
                .select_from(table.join(target, target.c.id == status_col))
                .where(status_col.in_(ids), account_col != target.c.account_id)
                .group_by(status_col)
            )
            for sid, n in self.conn.execute(stmt):
                out.setdefault(int(sid), {})[kind] = int(n)

        count("favourites", favourites, favourites.c.status_id, favourites.c.account_id)
        count("reblogs", statuses, statuses.c.reblog_of_id, statuses.c.account_id)
        count("replies", statuses, statuses.c.in_reply_to_id, statuses.c.account_id)
        return out

    # -- what moderation takes out (set by moderators; read here) ------------------------------

    def exclude(self, kind: str, target_id: int, now: datetime) -> None:
        if self.is_excluded(kind, target_id):
            return
        self.conn.execute(
            insert(trend_exclusions).values(kind=kind, target_id=target_id, created_at=now)
        )

    def is_excluded(self, kind: str, target_id: int) -> bool:
        row = self.conn.execute(
            select(trend_exclusions.c.target_id).where(
                trend_exclusions.c.kind == kind, trend_exclusions.c.target_id == target_id
            )
        ).first()
        return row is not None
