"""Inbound activities: stored once by activity URI, then processed."""

from __future__ import annotations

from sqlalchemy.engine import Connection


class InboxStore:
    def __init__(self, conn: Connection) -> None:
        self.conn = conn
