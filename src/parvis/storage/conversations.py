"""Direct-message conversations: one row per participant and thread."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import delete, insert, select, update
from sqlalchemy.engine import Connection

from parvis.domain.ids import new_id
from parvis.storage.statuses import page
from parvis.storage.tables import conversations


class ConversationStore:
    def __init__(self, conn: Connection) -> None:
        self.conn = conn

    def touch(
        self, account_id: int, root_status_id: int, last_status_id: int, unread: bool, now: datetime
    ) -> int:
        """Move the participant's conversation of this thread to `last_status_id` (creating
        it), marked unread or read; an older status never moves it back."""
        row = self.conn.execute(
            select(conversations.c.id, conversations.c.last_status_id).where(
                conversations.c.account_id == account_id,
                conversations.c.root_status_id == root_status_id,
            )
        ).first()
        if row is None:
            cid = new_id()
            self.conn.execute(
                insert(conversations).values(
                    id=cid,
                    account_id=account_id,
                    root_status_id=root_status_id,
                    last_status_id=last_status_id,
                    unread=unread,
                    updated_at=now,
                )
            )
            return cid
        cid, current = int(row[0]), row[1]
        if current is None or current < last_status_id:
            self.conn.execute(
                update(conversations)
                .where(conversations.c.id == cid)
                .values(last_status_id=last_status_id, unread=unread, updated_at=now)
            )
        return cid

    def page(
        self,
        account_id: int,
        *,
        max_id: int | None,
        since_id: int | None,
        min_id: int | None,
        limit: int,
    ) -> list[dict[str, Any]]:
        """Conversations with a last status, by last status id (newest first, or oldest first
        with min_id); the cursors are last status ids, as in Mastodon."""
        stmt = select(conversations).where(
            conversations.c.account_id == account_id, conversations.c.last_status_id.is_not(None)
        )
        stmt = page(
            stmt,
            conversations.c.last_status_id,
            max_id=max_id,
            since_id=since_id,
            min_id=min_id,
            limit=limit,
        )
        return [dict(r) for r in self.conn.execute(stmt).mappings()]

    def get(self, account_id: int, conversation_id: int) -> dict[str, Any] | None:
        row = (
            self.conn.execute(
                select(conversations).where(
                    conversations.c.account_id == account_id,
                    conversations.c.id == conversation_id,
                )
            )
            .mappings()
            .first()
        )
        return dict(row) if row else None

    def mark_read(self, account_id: int, conversation_id: int) -> bool:
        result = self.conn.execute(
            update(conversations)
            .where(conversations.c.account_id == account_id, conversations.c.id == conversation_id)
            .values(unread=False)
        )
        return bool(result.rowcount)

    def remove(self, account_id: int, conversation_id: int) -> bool:
        result = self.conn.execute(
            delete(conversations).where(
                conversations.c.account_id == account_id, conversations.c.id == conversation_id
            )
        )
        return bool(result.rowcount)
