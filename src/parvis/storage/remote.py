"""Remote accounts and posts: upserted by URI from fetched or delivered documents."""

from __future__ import annotations

from sqlalchemy.engine import Connection


class RemoteStore:
    def __init__(self, conn: Connection) -> None:
        self.conn = conn
