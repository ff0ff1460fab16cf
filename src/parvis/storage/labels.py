"""Labels for automation and coordination: the detectors' signals with their evidence and
accounts, the labels in force on accounts, each user's choices, and the recent posts the
detection job reads."""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

from sqlalchemy import delete, func, insert, or_, select, update
from sqlalchemy.engine import Connection, RowMapping

from parvis.domain.ids import new_id
from parvis.storage.tables import (
    account_labels,
    accounts,
    label_preferences,
    label_signal_accounts,
    label_signals,
    oauth_apps,
    statuses,
)


@dataclass(frozen=True)
class SignalRow:
    id: int
    kind: str  # automation | coordination
    fingerprint: str
    score: float
    evidence: dict[str, Any]
    detected_at: datetime
    updated_at: datetime
    state: str  # open | confirmed | dismissed
    decided_by: int | None
    decided_at: datetime | None
    decision_note: str
    accounts: tuple[int, ...] = ()


@dataclass(frozen=True)
class LabelRow:
    account_id: int
    label: str
    signal_id: int | None
    decision_id: int | None
    since: datetime
    until: datetime | None


@dataclass(frozen=True)
class PostRow:
    """A recent post as the detectors read it."""

    id: int
    account_id: int
    created_at: datetime
    text: str  # the source as typed (local posts)
    content: str  # the rendered HTML (remote posts have only this)
    spoiler_text: str
    application: str | None


@dataclass(frozen=True)
class AuthorRow:
    id: int
    created_at: datetime
    bot: bool
    suspended: bool
    local: bool


def _signal(m: RowMapping) -> SignalRow:
    return SignalRow(
        id=m["id"],
        kind=m["kind"],
        fingerprint=m["fingerprint"],
        score=float(m["score"]),
        evidence=json.loads(m["evidence"] or "{}"),
        detected_at=m["detected_at"],
        updated_at=m["updated_at"],
        state=m["state"],
        decided_by=m["decided_by"],
        decided_at=m["decided_at"],
        decision_note=m["decision_note"] or "",
    )


def _label(m: RowMapping) -> LabelRow:
    return LabelRow(
        account_id=m["account_id"],
        label=m["label"],
        signal_id=m["signal_id"],
        decision_id=m["decision_id"],
        since=m["since"],
        until=m["until"],
    )


def _dumps(evidence: Mapping[str, Any]) -> str:
    return json.dumps(evidence, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


class LabelStore:
    def __init__(self, conn: Connection) -> None:
        self.conn = conn

    # -- signals -------------------------------------------------------------------------------

    def insert_signal(
        self,
        kind: str,
        fingerprint: str,
        score: float,
        evidence: Mapping[str, Any],
        account_ids: Sequence[int],
        now: datetime,
    ) -> int:
        signal_id = new_id()
        self.conn.execute(
            insert(label_signals).values(
                id=signal_id,
                kind=kind,
                fingerprint=fingerprint,
                score=score,
                evidence=_dumps(evidence),
                detected_at=now,
                updated_at=now,
                state="open",
                decision_note="",
            )
        )
        self._set_accounts(signal_id, account_ids)
        return signal_id

    def refresh_signal(
        self,
        signal_id: int,
        score: float,
        evidence: Mapping[str, Any],
        account_ids: Sequence[int],
        now: datetime,
    ) -> None:
        """An open signal seen again: fresh evidence, score and accounts."""
        self.conn.execute(
            update(label_signals)
            .where(label_signals.c.id == signal_id)
            .values(score=score, evidence=_dumps(evidence), updated_at=now)
        )
        self.conn.execute(
            delete(label_signal_accounts).where(label_signal_accounts.c.signal_id == signal_id)
        )
        self._set_accounts(signal_id, account_ids)

    def _set_accounts(self, signal_id: int, account_ids: Sequence[int]) -> None:
        rows = [{"signal_id": signal_id, "account_id": a} for a in dict.fromkeys(account_ids)]
        if rows:
            self.conn.execute(insert(label_signal_accounts), rows)

    def _with_accounts(self, found: list[SignalRow]) -> list[SignalRow]:
        """The signals with their accounts, in one more query whatever their number."""
        if not found:
            return found
        members: dict[int, list[int]] = defaultdict(list)
        rows = self.conn.execute(
            select(label_signal_accounts.c.signal_id, label_signal_accounts.c.account_id)
            .where(label_signal_accounts.c.signal_id.in_([s.id for s in found]))
            .order_by(label_signal_accounts.c.account_id)
        )
        for signal_id, account_id in rows:
            members[signal_id].append(account_id)
        return [replace(s, accounts=tuple(members[s.id])) for s in found]

    def get(self, signal_id: int) -> SignalRow | None:
        row = (
            self.conn.execute(select(label_signals).where(label_signals.c.id == signal_id))
            .mappings()
            .first()
        )
        return self._with_accounts([_signal(row)])[0] if row else None

    def comparable(self, kind: str, decided_since: datetime) -> list[SignalRow]:
        """Signals of this kind a new finding may be the same as: the open ones, and those
        decided since `decided_since` (a dismissed finding is not raised again for a while)."""
        rows = self.conn.execute(
            select(label_signals)
            .where(
                label_signals.c.kind == kind,
                or_(
                    label_signals.c.state == "open",
                    label_signals.c.decided_at >= decided_since,
                ),
            )
            .order_by(label_signals.c.id)
        ).mappings()
        return self._with_accounts([_signal(r) for r in rows])

    def open_signals(
        self, *, kind: str | None = None, order: str = "score", limit: int = 50, offset: int = 0
    ) -> list[SignalRow]:
        """Open signals for the moderators: strongest first (`order` "score") or newest first
        ("newest"), paged."""
        stmt = select(label_signals).where(label_signals.c.state == "open")
        if kind is not None:
            stmt = stmt.where(label_signals.c.kind == kind)
        if order == "newest":
            stmt = stmt.order_by(label_signals.c.detected_at.desc(), label_signals.c.id.desc())
        else:
            stmt = stmt.order_by(
                label_signals.c.score.desc(),
                label_signals.c.detected_at.desc(),
                label_signals.c.id.desc(),
            )
        rows = self.conn.execute(stmt.limit(limit).offset(offset)).mappings()
        return self._with_accounts([_signal(r) for r in rows])

    def count_open(self) -> int:
        stmt = select(func.count()).select_from(label_signals)
        return int(self.conn.execute(stmt.where(label_signals.c.state == "open")).scalar_one())

    def decide(self, signal_id: int, state: str, decided_by: int, at: datetime, note: str) -> bool:
        """Confirms or dismisses an open signal; False when it was no longer open."""
        done = self.conn.execute(
            update(label_signals)
            .where(label_signals.c.id == signal_id, label_signals.c.state == "open")
            .values(state=state, decided_by=decided_by, decided_at=at, decision_note=note)
        )
        return bool(done.rowcount)

    def signals_of(self, account_id: int, limit: int = 20) -> list[SignalRow]:
        """The signals an account was part of, newest first."""
        rows = self.conn.execute(
            select(label_signals)
            .join(label_signal_accounts, label_signal_accounts.c.signal_id == label_signals.c.id)
            .where(label_signal_accounts.c.account_id == account_id)
            .order_by(label_signals.c.id.desc())
            .limit(limit)
        ).mappings()
        return self._with_accounts([_signal(r) for r in rows])

    # -- labels in force -------------------------------------------------------------------------

    def put_label(
        self,
        account_id: int,
        label: str,
        *,
        decision_id: int,
        since: datetime,
        until: datetime | None,
        signal_id: int | None = None,
    ) -> None:
        """Sets the label from the decision that keeps it; the signal it came from is kept
        unless a new one is given."""
        key = (account_labels.c.account_id == account_id, account_labels.c.label == label)
        values: dict[str, Any] = {"decision_id": decision_id, "since": since, "until": until}
        if signal_id is not None:
            values["signal_id"] = signal_id
        found = self.conn.execute(select(account_labels.c.account_id).where(*key)).first()
        if found is None:
            values.setdefault("signal_id", None)
            self.conn.execute(
                insert(account_labels).values(account_id=account_id, label=label, **values)
            )
        else:
            self.conn.execute(update(account_labels).where(*key).values(**values))

    def attach_signal(self, account_id: int, label: str, signal_id: int) -> None:
        self.conn.execute(
            update(account_labels)
            .where(account_labels.c.account_id == account_id, account_labels.c.label == label)
            .values(signal_id=signal_id)
        )

    def remove_label(self, account_id: int, label: str) -> None:
        self.conn.execute(
            delete(account_labels).where(
                account_labels.c.account_id == account_id, account_labels.c.label == label
            )
        )

    def labels_of(self, account_ids: Iterable[int]) -> dict[int, list[LabelRow]]:
        """The labels in force on these accounts, in one query."""
        wanted = list(set(account_ids))
        out: dict[int, list[LabelRow]] = {a: [] for a in wanted}
        if not wanted:
            return out
        rows = self.conn.execute(
            select(account_labels)
            .where(account_labels.c.account_id.in_(wanted))
            .order_by(account_labels.c.account_id, account_labels.c.label)
        ).mappings()
        for r in rows:
            out[r["account_id"]].append(_label(r))
        return out

    def labelled(self, label: str, account_ids: Iterable[int]) -> set[int]:
        """Which of these accounts carry the label."""
        wanted = list(set(account_ids))
        if not wanted:
            return set()
        rows = self.conn.execute(
            select(account_labels.c.account_id).where(
                account_labels.c.label == label, account_labels.c.account_id.in_(wanted)
            )
        )
        return {int(r[0]) for r in rows}

    def ended(self, now: datetime) -> list[int]:
        """Accounts with a label whose time is up."""
        rows = self.conn.execute(
            select(account_labels.c.account_id)
            .where(account_labels.c.until.is_not(None), account_labels.c.until <= now)
            .distinct()
        )
        return [int(r[0]) for r in rows]

    # -- preferences -----------------------------------------------------------------------------

    def preferences(self, account_id: int) -> dict[str, str]:
        """The choices the user saved (label -> action); the defaults fill the rest."""
        rows = self.conn.execute(
            select(label_preferences.c.label, label_preferences.c.action).where(
                label_preferences.c.account_id == account_id
            )
        )
        return {str(label): str(action) for label, action in rows}

    def set_preferences(self, account_id: int, choices: Mapping[str, str]) -> None:
        if not choices:
            return
        self.conn.execute(
            delete(label_preferences).where(
                label_preferences.c.account_id == account_id,
                label_preferences.c.label.in_(list(choices)),
            )
        )
        self.conn.execute(
            insert(label_preferences),
            [{"account_id": account_id, "label": k, "action": v} for k, v in choices.items()],
        )

    # -- what the detectors read -------------------------------------------------------------------

    def recent_posts(self, since: datetime, limit: int) -> list[PostRow]:
        """Public and unlisted original posts (no boosts) written since `since`, the newest
        `limit` of them, local and remote alike."""
        rows = self.conn.execute(
            select(
                statuses.c.id,
                statuses.c.account_id,
                statuses.c.created_at,
                statuses.c.text,
                statuses.c.content,
                statuses.c.spoiler_text,
                oauth_apps.c.name.label("application"),
            )
            .select_from(
                statuses.outerjoin(oauth_apps, oauth_apps.c.id == statuses.c.application_id)
            )
            .where(
                statuses.c.created_at >= since,
                statuses.c.reblog_of_id.is_(None),
                statuses.c.visibility.in_(("public", "unlisted")),
            )
            .order_by(statuses.c.id.desc())
            .limit(limit)
        ).mappings()
        return [
            PostRow(
                id=r["id"],
                account_id=r["account_id"],
                created_at=r["created_at"],
                text=r["text"] or "",
                content=r["content"] or "",
                spoiler_text=r["spoiler_text"] or "",
                application=r["application"],
            )
            for r in rows
        ]

    def authors(self, account_ids: Iterable[int]) -> dict[int, AuthorRow]:
        wanted = list(set(account_ids))
        if not wanted:
            return {}
        out: dict[int, AuthorRow] = {}
        for chunk in range(0, len(wanted), 5000):
            rows = self.conn.execute(
                select(
                    accounts.c.id,
                    accounts.c.created_at,
                    accounts.c.bot,
                    accounts.c.suspended_at,
                    accounts.c.domain,
                ).where(accounts.c.id.in_(wanted[chunk : chunk + 5000]))
            ).mappings()
            for r in rows:
                out[r["id"]] = AuthorRow(
                    id=r["id"],
                    created_at=r["created_at"],
                    bot=bool(r["bot"]),
                    suspended=r["suspended_at"] is not None,
                    local=r["domain"] is None,
                )
        return out
