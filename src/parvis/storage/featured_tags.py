"""Featured hashtags: the tags an account shows on its profile, with its own use of each."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import delete, func, insert, select
from sqlalchemy.engine import Connection

from parvis.domain.ids import new_id
from parvis.domain.visibility import Visibility
from parvis.storage.tables import featured_tags, status_tags, statuses, tags

# Statuses that count towards a featured tag, as in Mastodon: the public and unlisted ones.
_COUNTED = (Visibility.PUBLIC.value, Visibility.UNLISTED.value)


@dataclass(frozen=True)
class FeaturedTagRow:
    id: int
    tag_id: int
    key: str  # the tag's normalized name
    name: str  # as the account wrote it when featuring it
    statuses_count: int
    last_status_at: datetime | None


class FeaturedTagStore:
    def __init__(self, conn: Connection) -> None:
        self.conn = conn

    def add(self, account_id: int, tag_id: int, name: str, now: datetime) -> int:
        featured_id = new_id()
        self.conn.execute(
            insert(featured_tags).values(
                id=featured_id, account_id=account_id, tag_id=tag_id, name=name, created_at=now
            )
        )
        return featured_id

    def remove(self, account_id: int, featured_id: int) -> bool:
        done = self.conn.execute(
            delete(featured_tags).where(
                featured_tags.c.account_id == account_id, featured_tags.c.id == featured_id
            )
        )
        return bool(done.rowcount)

    def remove_tag(self, account_id: int, tag_id: int) -> None:
        self.conn.execute(
            delete(featured_tags).where(
                featured_tags.c.account_id == account_id, featured_tags.c.tag_id == tag_id
            )
        )

    def count(self, account_id: int) -> int:
        n = self.conn.execute(
            select(func.count())
            .select_from(featured_tags)
            .where(featured_tags.c.account_id == account_id)
        ).scalar()
        return int(n or 0)

    def featuring(self, account_id: int, tag_ids: Iterable[int]) -> set[int]:
        """Which of these tags the account features."""
        ids = list(tag_ids)
        if not ids:
            return set()
        rows = self.conn.execute(
            select(featured_tags.c.tag_id).where(
                featured_tags.c.account_id == account_id, featured_tags.c.tag_id.in_(ids)
            )
        )
        return {r[0] for r in rows}

    def of_account(self, account_id: int) -> list[FeaturedTagRow]:
        """The account's featured tags, most used first (then oldest featured first)."""
        rows = self.conn.execute(
            select(featured_tags.c.id, featured_tags.c.tag_id, tags.c.name, featured_tags.c.name)
            .join(tags, tags.c.id == featured_tags.c.tag_id)
            .where(featured_tags.c.account_id == account_id)
            .order_by(featured_tags.c.id)
        ).all()
        if not rows:
            return []
        usage = self._usage(account_id, [r[1] for r in rows])
        found = [FeaturedTagRow(r[0], r[1], r[2], r[3], *usage.get(r[1], (0, None))) for r in rows]
        return sorted(found, key=lambda f: -f.statuses_count)  # stable: ties stay by id

    def _usage(self, account_id: int, tag_ids: list[int]) -> dict[int, tuple[int, datetime | None]]:
        """{tag id: (statuses count, last status time)} over the account's counted statuses."""
        rows = self.conn.execute(
            select(status_tags.c.tag_id, func.count(), func.max(statuses.c.created_at))
            .join(statuses, statuses.c.id == status_tags.c.status_id)
            .where(
                statuses.c.account_id == account_id,
                statuses.c.visibility.in_(_COUNTED),
                status_tags.c.tag_id.in_(tag_ids),
            )
            .group_by(status_tags.c.tag_id)
        )
        return {r[0]: (int(r[1]), r[2]) for r in rows}

    def recently_used(
        self, account_id: int, *, limit: int, recent: int = 1000
    ) -> list[tuple[int, str, str]]:
        """(tag id, name, display name) of the tags the account used most in its last `recent`
        statuses, leaving out those it features already; most used first."""
        latest = (
            select(statuses.c.id)
            .where(statuses.c.account_id == account_id)
            .order_by(statuses.c.id.desc())
            .limit(recent)
            .subquery()
        )
        already = select(featured_tags.c.tag_id).where(featured_tags.c.account_id == account_id)
        uses = func.count().label("uses")
        rows = self.conn.execute(
            select(tags.c.id, tags.c.name, tags.c.display_name, uses)
            .join(status_tags, status_tags.c.tag_id == tags.c.id)
            .join(latest, latest.c.id == status_tags.c.status_id)
            .where(tags.c.id.not_in(already))
            .group_by(tags.c.id, tags.c.name, tags.c.display_name)
            .order_by(uses.desc(), tags.c.id.desc())
            .limit(limit)
        )
        return [(r[0], r[1], r[2]) for r in rows]
