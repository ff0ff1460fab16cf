"""Inbound activities: stored once by activity URI (a re-delivery finds the first row), then
processed by a job that marks each row done, failed (for good) or retry (a remote server could
not be reached; the periodic sweep tries again)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import delete, func, select, update
from sqlalchemy.engine import Connection, RowMapping

from parvis.domain.ids import new_id
from parvis.storage.sql import insert_ignoring_duplicates
from parvis.storage.tables import federation_inbox

STATES = ("pending", "done", "failed", "retry")


@dataclass(frozen=True)
class InboxRow:
    id: int
    activity_uri: str
    actor_uri: str
    type: str
    body: str
    state: str
    attempts: int
    error: str
    received_at: datetime
    processed_at: datetime | None


def _row(r: RowMapping) -> InboxRow:
    return InboxRow(
        id=r["id"],
        activity_uri=r["activity_uri"],
        actor_uri=r["actor_uri"],
        type=r["type"],
        body=r["body"],
        state=r["state"],
        attempts=r["attempts"],
        error=r["error"],
        received_at=r["received_at"],
        processed_at=r["processed_at"],
    )


class InboxStore:
    def __init__(self, conn: Connection) -> None:
        self.conn = conn

    def add(
        self, activity_uri: str, actor_uri: str, type_: str, body: str, now: datetime
    ) -> tuple[int, bool]:
        """Store an activity (pending); (its row id, whether it is new). A second delivery of
        the same activity URI finds the first row and stores nothing."""
        insert_ignoring_duplicates(
            self.conn,
            federation_inbox,
            [
                {
                    "id": (candidate := new_id()),
                    "activity_uri": activity_uri,
                    "actor_uri": actor_uri,
                    "type": type_[:32],
                    "body": body,
                    "state": "pending",
                    "attempts": 0,
                    "error": "",
                    "received_at": now,
                }
            ],
        )
        found = self.conn.execute(
            select(federation_inbox.c.id).where(federation_inbox.c.activity_uri == activity_uri)
        ).scalar_one()
        return int(found), found == candidate

    def get(self, inbox_id: int) -> InboxRow | None:
        row = (
            self.conn.execute(select(federation_inbox).where(federation_inbox.c.id == inbox_id))
            .mappings()
            .first()
        )
        return _row(row) if row else None

    def by_activity(self, activity_uri: str) -> InboxRow | None:
        row = (
            self.conn.execute(
                select(federation_inbox).where(federation_inbox.c.activity_uri == activity_uri)
            )
            .mappings()
            .first()
        )
        return _row(row) if row else None

    def mark(self, inbox_id: int, state: str, now: datetime, error: str = "") -> None:
        """Record an attempt's outcome (attempts + 1)."""
        assert state in STATES
        self.conn.execute(
            update(federation_inbox)
            .where(federation_inbox.c.id == inbox_id)
            .values(
                state=state,
                error=error[:4000],
                attempts=federation_inbox.c.attempts + 1,
                processed_at=now,
            )
        )

    def to_retry(self, max_attempts: int, before: datetime, limit: int = 500) -> list[int]:
        """Rows waiting for another attempt, last tried before `before`, oldest first."""
        rows = self.conn.execute(
            select(federation_inbox.c.id)
            .where(
                federation_inbox.c.state == "retry",
                federation_inbox.c.attempts < max_attempts,
                federation_inbox.c.processed_at < before,
            )
            .order_by(federation_inbox.c.id)
            .limit(limit)
        )
        return [int(r[0]) for r in rows]

    def give_up(self, max_attempts: int) -> int:
        """Retry rows past the last attempt become failed; how many."""
        result = self.conn.execute(
            update(federation_inbox)
            .where(
                federation_inbox.c.state == "retry",
                federation_inbox.c.attempts >= max_attempts,
            )
            .values(state="failed")
        )
        return int(result.rowcount or 0)

    def prune(self, processed_before: datetime) -> int:
        """Forget processed activities older than this (the row only guards re-delivery)."""
        result = self.conn.execute(
            delete(federation_inbox).where(
                federation_inbox.c.state.in_(("done", "failed")),
                federation_inbox.c.processed_at < processed_before,
            )
        )
        return int(result.rowcount or 0)

    def count(self, state: str | None = None) -> int:
        stmt = select(func.count()).select_from(federation_inbox)
        if state is not None:
            stmt = stmt.where(federation_inbox.c.state == state)
        return int(self.conn.execute(stmt).scalar_one())
