"""The decisions that carry a statement of reasons (the restrictions), as the public export
and the Transparency Database submitter read them: by period and id cursor, and those not yet
submitted. Rows are the moderation store's DecisionRow."""

from __future__ import annotations

import json
from dataclasses import fields
from datetime import datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.engine import Connection

from parvis.domain.moderation import ACTIONS
from parvis.storage.moderation import DecisionRow
from parvis.storage.tables import decisions, rules

RESTRICTIONS = tuple(sorted(k for k, a in ACTIONS.items() if a.restriction))
_COLUMNS = [f.name for f in fields(DecisionRow)]
_JSON_LISTS = ("keywords", "territorial_scope", "content_type")


def _row(m: Any) -> DecisionRow:
    values = {k: m[k] for k in _COLUMNS}
    for k in _JSON_LISTS:
        values[k] = tuple(json.loads(values[k] or "[]"))
    return DecisionRow(**values)


class StatementStore:
    def __init__(self, conn: Connection) -> None:
        self.conn = conn

    def restrictions(
        self,
        *,
        since: datetime | None = None,
        until: datetime | None = None,
        after_id: int = 0,
        limit: int = 100,
    ) -> list[DecisionRow]:
        """Restrictions decided in [since, until), reversed ones included, oldest first, after
        the decision `after_id` (the cursor)."""
        stmt = select(decisions).where(
            decisions.c.action.in_(RESTRICTIONS), decisions.c.id > after_id
        )
        if since is not None:
            stmt = stmt.where(decisions.c.created_at >= since)
        if until is not None:
            stmt = stmt.where(decisions.c.created_at < until)
        rows = self.conn.execute(stmt.order_by(decisions.c.id).limit(limit)).mappings()
        return [_row(r) for r in rows]

    def unsubmitted(self, *, after_id: int = 0, limit: int = 100) -> list[DecisionRow]:
        """Restrictions not yet in the Transparency Database, oldest first."""
        rows = self.conn.execute(
            select(decisions)
            .where(
                decisions.c.action.in_(RESTRICTIONS),
                decisions.c.tdb_submitted_at.is_(None),
                decisions.c.id > after_id,
            )
            .order_by(decisions.c.id)
            .limit(limit)
        ).mappings()
        return [_row(r) for r in rows]

    def count_unsubmitted(self) -> int:
        found = self.conn.execute(
            select(func.count())
            .select_from(decisions)
            .where(
                decisions.c.action.in_(RESTRICTIONS),
                decisions.c.tdb_submitted_at.is_(None),
            )
        )
        return int(found.scalar_one())

    def rule_texts(self, keys: set[tuple[str, int | None]]) -> dict[tuple[str, int | None], str]:
        """The text of each (rule id, version) cited; version None: the latest version."""
        if not keys:
            return {}
        ids = {rule_id for rule_id, _ in keys}
        rows = self.conn.execute(
            select(rules.c.id, rules.c.version, rules.c.text)
            .where(rules.c.id.in_(ids))
            .order_by(rules.c.id, rules.c.version)
        ).all()
        found: dict[tuple[str, int | None], str] = {}
        for rule_id, version, text in rows:
            found[(rule_id, version)] = text
            found[(rule_id, None)] = text  # ordered by version: the last one wins
        return {key: found[key] for key in keys if key in found}
