"""Local actors as ActivityPub sees them: key pairs, aliases, collection pages."""

from __future__ import annotations

from sqlalchemy.engine import Connection


class ActorStore:
    def __init__(self, conn: Connection) -> None:
        self.conn = conn
