"""The moderation registers: trusted flaggers (DSA art. 22), the authority register (arts. 9,
10, 18), the moderator roster, the versioned rules (art. 14), and the counts the misuse policy
(art. 23) and flagger accuracy are computed from."""

from __future__ import annotations

import json
from dataclasses import dataclass, fields
from datetime import datetime
from typing import Any

from sqlalchemy import and_, delete, func, insert, or_, select, update
from sqlalchemy.engine import Connection

from parvis.storage.tables import (
    authority_orders,
    decisions,
    moderators,
    notice_items,
    notices,
    rules,
    statuses,
    trusted_flaggers,
)

# -- trusted flaggers ------------------------------------------------------------------------


@dataclass(frozen=True)
class FlaggerRow:
    id: int
    name: str
    account_id: int | None
    coordinator: str
    member_state: str
    areas: tuple[str, ...]  # offence keys; empty: every area
    created_at: datetime
    revoked_at: datetime | None = None


_FLAGGER = [f.name for f in fields(FlaggerRow)]


def _flagger(m: Any) -> FlaggerRow:
    values = {k: m[k] for k in _FLAGGER}
    values["areas"] = tuple(json.loads(values["areas"] or "[]"))
    return FlaggerRow(**values)


@dataclass(frozen=True)
class NoticeOutcome:
    """One notice and how its items were decided: the decisions' actions, whether each was
    reversed on appeal, and how many items are still waiting."""

    notice_id: int
    reporter_account_id: int | None
    trusted_flagger_id: int | None
    created_at: datetime
    decided: tuple[tuple[str, bool, str], ...]  # (action, reversed, misuse) per decided item
    pending: int


class FlaggerStore:
    def __init__(self, conn: Connection) -> None:
        self.conn = conn

    def insert(self, row: FlaggerRow) -> None:
        values: dict[str, object] = {k: getattr(row, k) for k in _FLAGGER}
        values["areas"] = json.dumps(list(row.areas))
        self.conn.execute(insert(trusted_flaggers).values(values))

    def get(self, flagger_id: int) -> FlaggerRow | None:
        found = self.conn.execute(
            select(trusted_flaggers).where(trusted_flaggers.c.id == flagger_id)
        ).mappings()
        row = found.first()
        return _flagger(row) if row is not None else None

    def all(self, *, with_revoked: bool = False) -> list[FlaggerRow]:
        stmt = select(trusted_flaggers).order_by(trusted_flaggers.c.id)
        if not with_revoked:
            stmt = stmt.where(trusted_flaggers.c.revoked_at.is_(None))
        return [_flagger(r) for r in self.conn.execute(stmt).mappings()]

    def active_for_account(self, account_id: int) -> FlaggerRow | None:
        found = self.conn.execute(
            select(trusted_flaggers)
            .where(
                trusted_flaggers.c.account_id == account_id,
                trusted_flaggers.c.revoked_at.is_(None),
            )
            .order_by(trusted_flaggers.c.id)
        ).mappings()
        row = found.first()
        return _flagger(row) if row is not None else None

    def revoke(self, flagger_id: int, at: datetime) -> None:
        self.conn.execute(
            update(trusted_flaggers)
            .where(trusted_flaggers.c.id == flagger_id)
            .values(revoked_at=at)
        )

    def outcomes(
        self,
        *,
        flagger_id: int | None = None,
        reporter_account_id: int | None = None,
        since: datetime | None = None,
        until: datetime | None = None,
    ) -> list[NoticeOutcome]:
        """The notices of one flagger (or of every flagger when `flagger_id` is None and no
        reporter is given), or of one reporting account, with how each item was decided. One
        query: notices joined to their items and the items' decisions."""
        stmt = (
            select(
                notices.c.id,
                notices.c.reporter_account_id,
                notices.c.trusted_flagger_id,
                notices.c.created_at,
                notice_items.c.decided_at,
                decisions.c.action,
                decisions.c.reversed_at,
                decisions.c.misuse,
            )
            .select_from(
                notices.join(notice_items, notice_items.c.notice_id == notices.c.id).outerjoin(
                    decisions, decisions.c.id == notice_items.c.decision_id
                )
            )
            .order_by(notices.c.id, notice_items.c.id)
        )
        if flagger_id is not None:
            stmt = stmt.where(notices.c.trusted_flagger_id == flagger_id)
        elif reporter_account_id is not None:
            stmt = stmt.where(notices.c.reporter_account_id == reporter_account_id)
        else:
            stmt = stmt.where(notices.c.trusted_flagger_id.is_not(None))
        if since is not None:
            stmt = stmt.where(notices.c.created_at >= since)
        if until is not None:
            stmt = stmt.where(notices.c.created_at < until)
        grouped: dict[int, tuple[Any, list[tuple[str, bool, str]], list[int]]] = {}
        for r in self.conn.execute(stmt).mappings():
            entry = grouped.setdefault(int(r["id"]), (r, [], [0]))
            if r["decided_at"] is None or r["action"] is None:
                entry[2][0] += 1
            else:
                entry[1].append(
                    (str(r["action"]), r["reversed_at"] is not None, str(r["misuse"] or ""))
                )
        return [
            NoticeOutcome(
                notice_id=nid,
                reporter_account_id=first["reporter_account_id"],
                trusted_flagger_id=first["trusted_flagger_id"],
                created_at=first["created_at"],
                decided=tuple(decided),
                pending=pending[0],
            )
            for nid, (first, decided, pending) in grouped.items()
        ]


# -- the authority register ------------------------------------------------------------------


@dataclass(frozen=True)
class AuthorityRow:
    id: int
    kind: str  # act | info | escalation
    authority: str
    member_state: str
    legal_basis: str
    dsa_category: str
    reference: str
    items: tuple[str, ...]
    received_at: datetime
    acknowledged_at: datetime | None
    carried_out_at: datetime | None
    effect: str
    provided: str
    not_held: str
    case_id: int | None
    created_by: int | None


_AUTHORITY = [f.name for f in fields(AuthorityRow)]


def _authority(m: Any) -> AuthorityRow:
    values = {k: m[k] for k in _AUTHORITY}
    values["items"] = tuple(json.loads(values["items"] or "[]"))
    return AuthorityRow(**values)


class AuthorityStore:
    def __init__(self, conn: Connection) -> None:
        self.conn = conn

    def insert(self, row: AuthorityRow) -> None:
        values: dict[str, object] = {k: getattr(row, k) for k in _AUTHORITY}
        values["items"] = json.dumps(list(row.items))
        self.conn.execute(insert(authority_orders).values(values))

    def get(self, order_id: int) -> AuthorityRow | None:
        found = self.conn.execute(
            select(authority_orders).where(authority_orders.c.id == order_id)
        ).mappings()
        row = found.first()
        return _authority(row) if row is not None else None

    def update(self, order_id: int, values: dict[str, object]) -> None:
        self.conn.execute(
            update(authority_orders).where(authority_orders.c.id == order_id).values(values)
        )

    def newest(
        self, *, kind: str | None = None, open_only: bool = False, limit: int = 100
    ) -> list[AuthorityRow]:
        stmt = select(authority_orders)
        if kind is not None:
            stmt = stmt.where(authority_orders.c.kind == kind)
        if open_only:
            stmt = stmt.where(authority_orders.c.carried_out_at.is_(None))
        stmt = stmt.order_by(authority_orders.c.received_at.desc(), authority_orders.c.id.desc())
        return [_authority(r) for r in self.conn.execute(stmt.limit(limit)).mappings()]


# -- the moderator roster --------------------------------------------------------------------


@dataclass(frozen=True)
class ModeratorRow:
    account_id: int
    languages: tuple[str, ...]
    country: str
    training: str
    paid: bool
    since: datetime
    until: datetime | None = None


_MODERATOR = [f.name for f in fields(ModeratorRow)]


def _moderator(m: Any) -> ModeratorRow:
    values = {k: m[k] for k in _MODERATOR}
    values["languages"] = tuple(json.loads(values["languages"] or "[]"))
    return ModeratorRow(**values)


class RosterStore:
    def __init__(self, conn: Connection) -> None:
        self.conn = conn

    def get(self, account_id: int) -> ModeratorRow | None:
        found = self.conn.execute(
            select(moderators).where(moderators.c.account_id == account_id)
        ).mappings()
        row = found.first()
        return _moderator(row) if row is not None else None

    def put(self, row: ModeratorRow) -> None:
        """Insert or replace the entry of `row.account_id`."""
        values: dict[str, object] = {k: getattr(row, k) for k in _MODERATOR}
        values["languages"] = json.dumps(list(row.languages))
        self.conn.execute(delete(moderators).where(moderators.c.account_id == row.account_id))
        self.conn.execute(insert(moderators).values(values))

    def end(self, account_id: int, at: datetime) -> None:
        self.conn.execute(
            update(moderators).where(moderators.c.account_id == account_id).values(until=at)
        )

    def all(self) -> list[ModeratorRow]:
        rows = self.conn.execute(select(moderators).order_by(moderators.c.since)).mappings()
        return [_moderator(r) for r in rows]

    def serving(self, at: datetime) -> list[ModeratorRow]:
        """Those on the roster at `at`: started, and not ended by then."""
        stmt = select(moderators).where(
            moderators.c.since <= at, or_(moderators.c.until.is_(None), moderators.c.until > at)
        )
        return [_moderator(r) for r in self.conn.execute(stmt).mappings()]


# -- rules -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class RuleRow:
    id: str
    version: int
    text: str
    hint: str
    valid_from: datetime
    valid_to: datetime | None = None


_RULE = [f.name for f in fields(RuleRow)]


def _rule(m: Any) -> RuleRow:
    return RuleRow(**{k: m[k] for k in _RULE})


class RuleStore:
    def __init__(self, conn: Connection) -> None:
        self.conn = conn

    def any(self) -> bool:
        return self.conn.execute(select(rules.c.id).limit(1)).first() is not None

    def insert(self, row: RuleRow) -> None:
        self.conn.execute(insert(rules).values({k: getattr(row, k) for k in _RULE}))

    def close(self, rule_id: str, version: int, at: datetime) -> None:
        self.conn.execute(
            update(rules)
            .where(rules.c.id == rule_id, rules.c.version == version)
            .values(valid_to=at)
        )

    def get(self, rule_id: str, version: int) -> RuleRow | None:
        found = self.conn.execute(
            select(rules).where(rules.c.id == rule_id, rules.c.version == version)
        ).mappings()
        row = found.first()
        return _rule(row) if row is not None else None

    def latest(self, rule_id: str) -> RuleRow | None:
        found = self.conn.execute(
            select(rules).where(rules.c.id == rule_id).order_by(rules.c.version.desc()).limit(1)
        ).mappings()
        row = found.first()
        return _rule(row) if row is not None else None

    def current(self) -> list[RuleRow]:
        stmt = select(rules).where(rules.c.valid_to.is_(None))
        return [_rule(r) for r in self.conn.execute(stmt).mappings()]

    def at(self, moment: datetime) -> list[RuleRow]:
        stmt = select(rules).where(
            rules.c.valid_from <= moment, or_(rules.c.valid_to.is_(None), rules.c.valid_to > moment)
        )
        return [_rule(r) for r in self.conn.execute(stmt).mappings()]

    def all(self) -> list[RuleRow]:
        return [_rule(r) for r in self.conn.execute(select(rules)).mappings()]

    def ids(self) -> list[str]:
        return [str(i) for (i,) in self.conn.execute(select(rules.c.id).distinct())]


# -- what the misuse policy counts (DSA art. 23) --------------------------------------------


@dataclass(frozen=True)
class DecisionBrief:
    id: int
    puid: str
    action: str
    ground: str
    misuse: str
    created_at: datetime


class MisuseStore:
    def __init__(self, conn: Connection) -> None:
        self.conn = conn

    def decisions_about(
        self, account_id: int, since: datetime, *, misuse: str | None = None
    ) -> list[DecisionBrief]:
        """Decisions about the account (its posts or itself) since `since`, not reversed,
        oldest first; with `misuse`, only those that record that kind of misuse."""
        stmt = select(
            decisions.c.id,
            decisions.c.puid,
            decisions.c.action,
            decisions.c.ground,
            decisions.c.misuse,
            decisions.c.created_at,
        ).where(
            decisions.c.account_id == account_id,
            decisions.c.created_at >= since,
            decisions.c.reversed_at.is_(None),
        )
        if misuse is not None:
            stmt = stmt.where(decisions.c.misuse == misuse)
        rows = self.conn.execute(stmt.order_by(decisions.c.id)).mappings()
        return [DecisionBrief(**dict(r)) for r in rows]

    def warnings(self, account_id: int, misuse: str) -> list[DecisionBrief]:
        """Warnings given to the account for this kind of misuse, not reversed, at any time."""
        rows = self.conn.execute(
            select(
                decisions.c.id,
                decisions.c.puid,
                decisions.c.action,
                decisions.c.ground,
                decisions.c.misuse,
                decisions.c.created_at,
            )
            .where(
                decisions.c.account_id == account_id,
                decisions.c.action == "warn",
                decisions.c.misuse == misuse,
                decisions.c.reversed_at.is_(None),
            )
            .order_by(decisions.c.id)
        ).mappings()
        return [DecisionBrief(**dict(r)) for r in rows]

    def posts_since(self, account_id: int, since: datetime) -> int:
        """Posts (boosts excluded) the account wrote since `since` and that still exist."""
        return int(
            self.conn.execute(
                select(func.count())
                .select_from(statuses)
                .where(
                    and_(
                        statuses.c.account_id == account_id,
                        statuses.c.created_at >= since,
                        statuses.c.reblog_of_id.is_(None),
                    )
                )
            ).scalar_one()
        )
