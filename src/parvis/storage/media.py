"""Media attachment rows (the files themselves live in a MediaFiles store)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import insert, select, update
from sqlalchemy.engine import Connection

from parvis.domain.models import Media
from parvis.storage.statuses import media_from_row
from parvis.storage.tables import media_attachments


class MediaStore:
    def __init__(self, conn: Connection) -> None:
        self.conn = conn

    def insert(self, values: dict[str, Any]) -> None:
        self.conn.execute(insert(media_attachments).values(**values))

    def get(self, media_id: int) -> Media | None:
        row = self.conn.execute(
            select(media_attachments).where(media_attachments.c.id == media_id)
        ).mappings().first()
        return media_from_row(row) if row else None

    def get_many(self, ids: Sequence[int]) -> list[Media]:
        rows = self.conn.execute(
            select(media_attachments).where(media_attachments.c.id.in_(list(ids)))
        ).mappings()
        return [media_from_row(r) for r in rows]

    def original_key(self, media_id: int) -> str | None:
        return self.conn.execute(
            select(media_attachments.c.original_key).where(media_attachments.c.id == media_id)
        ).scalar()

    def update(self, media_id: int, values: dict[str, Any]) -> None:
        self.conn.execute(
            update(media_attachments).where(media_attachments.c.id == media_id).values(**values)
        )
