"""The transactional outbox and each remote host's health (circuit breaker, dead hosts)."""

from __future__ import annotations

from sqlalchemy.engine import Connection


class DeliveryStore:
    def __init__(self, conn: Connection) -> None:
        self.conn = conn
