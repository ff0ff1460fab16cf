"""The operator's domain blocks (suspend, limit, reject media, reject reports)."""

from __future__ import annotations

from sqlalchemy.engine import Connection


class DomainPolicyStore:
    def __init__(self, conn: Connection) -> None:
        self.conn = conn
