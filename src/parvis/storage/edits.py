"""Status edit history: one snapshot per revision, the original included."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, insert, select
from sqlalchemy.engine import Connection

from parvis.domain.ids import new_id
from parvis.storage.tables import status_edits


@dataclass(frozen=True)
class EditRow:
    id: int
    status_id: int
    account_id: int
    text: str
    content: str
    spoiler_text: str
    sensitive: bool
    media_ids: tuple[int, ...]
    poll_options: tuple[str, ...] | None
    created_at: datetime


class EditStore:
    def __init__(self, conn: Connection) -> None:
        self.conn = conn

    def add(
        self,
        status_id: int,
        account_id: int,
        *,
        text: str,
        content: str,
        spoiler_text: str,
        sensitive: bool,
        media_ids: Sequence[int],
        poll_options: Sequence[str] | None,
        created_at: datetime,
    ) -> None:
        self.conn.execute(
            insert(status_edits).values(
                id=new_id(),
                status_id=status_id,
                account_id=account_id,
                text=text,
                content=content,
                spoiler_text=spoiler_text,
                sensitive=sensitive,
                media_ids=json.dumps([str(m) for m in media_ids]),
                poll_options=None if poll_options is None else json.dumps(list(poll_options)),
                created_at=created_at,
            )
        )

    def count(self, status_id: int) -> int:
        return int(
            self.conn.execute(
                select(func.count()).where(status_edits.c.status_id == status_id)
            ).scalar_one()
        )

    def history(self, status_id: int) -> list[EditRow]:
        """Oldest first."""
        rows = self.conn.execute(
            select(status_edits)
            .where(status_edits.c.status_id == status_id)
            .order_by(status_edits.c.created_at, status_edits.c.id)
        ).mappings()
        return [
            EditRow(
                id=r["id"],
                status_id=r["status_id"],
                account_id=r["account_id"],
                text=r["text"],
                content=r["content"],
                spoiler_text=r["spoiler_text"],
                sensitive=r["sensitive"],
                media_ids=tuple(int(m) for m in json.loads(r["media_ids"])),
                poll_options=(
                    None
                    if r["poll_options"] is None
                    else tuple(str(o) for o in json.loads(r["poll_options"]))
                ),
                created_at=r["created_at"],
            )
            for r in rows
        ]
