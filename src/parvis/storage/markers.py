"""Timeline read markers (last read id per timeline), with a version counter."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import insert, select, update
from sqlalchemy.engine import Connection

from parvis.domain.lists import Marker
from parvis.storage.tables import markers


class MarkerStore:
    def __init__(self, conn: Connection) -> None:
        self.conn = conn

    def get(self, account_id: int, timelines: Sequence[str]) -> dict[str, Marker]:
        if not timelines:
            return {}
        rows = self.conn.execute(
            select(markers).where(
                markers.c.account_id == account_id, markers.c.timeline.in_(list(timelines))
            )
        ).mappings()
        return {
            r["timeline"]: Marker(r["timeline"], r["last_read_id"], r["version"], r["updated_at"])
            for r in rows
        }

    def set(self, account_id: int, timeline: str, last_read_id: int, now: datetime) -> None:
        where = (markers.c.account_id == account_id) & (markers.c.timeline == timeline)
        done = self.conn.execute(
            update(markers)
            .where(where)
            .values(last_read_id=last_read_id, version=markers.c.version + 1, updated_at=now)
        )
        if not done.rowcount:
            self.conn.execute(
                insert(markers).values(
                    account_id=account_id,
                    timeline=timeline,
                    last_read_id=last_read_id,
                    version=0,
                    updated_at=now,
                )
            )
