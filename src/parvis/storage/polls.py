"""Polls and their votes. Counts are computed from the votes (exact, one grouped query a page)."""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Iterable, Sequence
from datetime import datetime

from sqlalchemy import delete, func, insert, select, update
from sqlalchemy.engine import Connection

from parvis.domain.ids import new_id
from parvis.domain.models import Poll
from parvis.storage.tables import poll_votes, polls


def polls_for(conn: Connection, status_ids: Sequence[int]) -> dict[int, Poll]:
    """Polls by status id, with their counts, in two queries."""
    if not status_ids:
        return {}
    rows = list(
        conn.execute(select(polls).where(polls.c.status_id.in_(list(status_ids)))).mappings()
    )
    if not rows:
        return {}
    poll_ids = [r["id"] for r in rows]
    per_choice: dict[int, dict[int, int]] = defaultdict(dict)
    for poll_id, choice, n in conn.execute(
        select(poll_votes.c.poll_id, poll_votes.c.choice, func.count())
        .where(poll_votes.c.poll_id.in_(poll_ids))
        .group_by(poll_votes.c.poll_id, poll_votes.c.choice)
    ):
        per_choice[poll_id][choice] = n
    voters: dict[int, int] = {
        r[0]: r[1]
        for r in conn.execute(
            select(poll_votes.c.poll_id, func.count(func.distinct(poll_votes.c.account_id)))
            .where(poll_votes.c.poll_id.in_(poll_ids))
            .group_by(poll_votes.c.poll_id)
        )
    }
    out: dict[int, Poll] = {}
    for r in rows:
        options = tuple(str(o) for o in json.loads(r["options"]))
        counts = per_choice.get(r["id"], {})
        out[r["status_id"]] = Poll(
            id=r["id"],
            status_id=r["status_id"],
            options=options,
            votes=tuple(counts.get(i, 0) for i in range(len(options))),
            voters_count=int(voters.get(r["id"], 0)),
            multiple=r["multiple"],
            hide_totals=r["hide_totals"],
            expires_at=r["expires_at"],
            created_at=r["created_at"],
        )
    return out


class PollStore:
    def __init__(self, conn: Connection) -> None:
        self.conn = conn

    def insert(
        self,
        status_id: int,
        account_id: int,
        options: Sequence[str],
        *,
        multiple: bool,
        hide_totals: bool,
        expires_at: datetime,
        now: datetime,
    ) -> int:
        poll_id = new_id()
        self.conn.execute(
            insert(polls).values(
                id=poll_id,
                status_id=status_id,
                account_id=account_id,
                options=json.dumps(list(options)),
                multiple=multiple,
                hide_totals=hide_totals,
                expires_at=expires_at,
                created_at=now,
            )
        )
        return poll_id

    def update(
        self,
        poll_id: int,
        options: Sequence[str],
        *,
        multiple: bool,
        hide_totals: bool,
        expires_at: datetime,
    ) -> None:
        self.conn.execute(
            update(polls)
            .where(polls.c.id == poll_id)
            .values(
                options=json.dumps(list(options)),
                multiple=multiple,
                hide_totals=hide_totals,
                expires_at=expires_at,
                notified_at=None,
            )
        )

    def delete_for_status(self, status_id: int) -> None:
        self.conn.execute(delete(polls).where(polls.c.status_id == status_id))

    def status_id(self, poll_id: int) -> int | None:
        return self.conn.execute(select(polls.c.status_id).where(polls.c.id == poll_id)).scalar()

    def for_status(self, status_id: int) -> Poll | None:
        return polls_for(self.conn, [status_id]).get(status_id)

    def add_votes(
        self, poll_id: int, account_id: int, choices: Iterable[int], now: datetime
    ) -> None:
        rows = [
            {
                "id": new_id(),
                "poll_id": poll_id,
                "account_id": account_id,
                "choice": c,
                "created_at": now,
            }
            for c in dict.fromkeys(choices)
        ]
        if rows:
            self.conn.execute(insert(poll_votes), rows)

    def reset_votes(self, poll_id: int) -> None:
        self.conn.execute(delete(poll_votes).where(poll_votes.c.poll_id == poll_id))

    def own_votes(
        self, account_id: int | None, poll_ids: Sequence[int]
    ) -> dict[int, tuple[int, ...]]:
        """The choices this account made, per poll it voted in (absent: not voted)."""
        if account_id is None or not poll_ids:
            return {}
        found: dict[int, list[int]] = defaultdict(list)
        for poll_id, choice in self.conn.execute(
            select(poll_votes.c.poll_id, poll_votes.c.choice)
            .where(poll_votes.c.account_id == account_id, poll_votes.c.poll_id.in_(list(poll_ids)))
            .order_by(poll_votes.c.choice)
        ):
            found[poll_id].append(choice)
        return {k: tuple(v) for k, v in found.items()}

    def voter_ids(self, poll_id: int) -> list[int]:
        rows = self.conn.execute(
            select(poll_votes.c.account_id).where(poll_votes.c.poll_id == poll_id).distinct()
        )
        return [r[0] for r in rows]

    def ended_unnotified(self, now: datetime, limit: int = 200) -> list[tuple[int, int, int]]:
        """(poll id, status id, author id) of polls that ended and were not announced yet."""
        rows = self.conn.execute(
            select(polls.c.id, polls.c.status_id, polls.c.account_id)
            .where(polls.c.expires_at <= now, polls.c.notified_at.is_(None))
            .order_by(polls.c.expires_at)
            .limit(limit)
        )
        return [(r[0], r[1], r[2]) for r in rows]

    def mark_notified(self, poll_id: int, now: datetime) -> None:
        self.conn.execute(update(polls).where(polls.c.id == poll_id).values(notified_at=now))
