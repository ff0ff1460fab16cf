"""The aggregate queries behind the transparency report (services/transparency_report.py).

Every method reads one period [start, end) through an index on the table's own timestamp
(notices.created_at, decisions.created_at, appeals.filed_at, authority_orders.received_at) and
answers in one statement: GROUP BY counts, or the raw timestamp pairs a median or a percentile
needs (SQL has no portable percentile; the service computes them from the sorted durations).
Rows come back as plain tuples: a year of notices is a few hundred thousand of them.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import String, func, or_, select, type_coerce
from sqlalchemy.engine import Connection

from parvis.storage.tables import appeals, authority_orders, decisions, moderators, notices


@dataclass(frozen=True)
class NoticeGroup:
    """How many notices received in the period share these values."""

    category: str  # the offence key
    dsa_category: str
    channel: str
    trusted: bool  # from a trusted flagger
    automated: bool  # processed by automated means
    outcome: str  # "" (pending) | actioned | no_action
    count: int


@dataclass(frozen=True)
class DecisionGroup:
    """How many decisions taken in the period share these values."""

    source_type: str
    action: str
    ground: str
    rule_id: str
    legal_ground: str
    dsa_category: str
    automated_detection: bool
    automated_decision: str
    misuse: str
    reversed: bool
    count: int


@dataclass(frozen=True)
class AppealFacts:
    appellant_role: str
    ground: str  # of the contested decision: law | rule | "" (a rejected notice)
    outcome: str  # "" | upheld | reversed
    filed_at: datetime
    decided_at: datetime | None


@dataclass(frozen=True)
class OrderFacts:
    kind: str  # act | info | escalation
    dsa_category: str
    member_state: str
    received_at: datetime
    acknowledged_at: datetime | None
    carried_out_at: datetime | None
    provided: bool  # something was handed over


@dataclass(frozen=True)
class ModeratorFacts:
    languages: tuple[str, ...]
    country: str
    paid: bool
    trained: bool


def _bool(value: object) -> bool:
    return bool(value)


class TransparencyReportStore:
    def __init__(self, conn: Connection) -> None:
        self.conn = conn

    def notice_groups(self, start: datetime, end: datetime) -> list[NoticeGroup]:
        trusted = notices.c.trusted_flagger_id.is_not(None).label("trusted")
        keys = (
            notices.c.category,
            notices.c.dsa_category,
            notices.c.channel,
            trusted,
            notices.c.automated,
            notices.c.outcome,
        )
        stmt = (
            select(*keys, func.count())
            .where(notices.c.created_at >= start, notices.c.created_at < end)
            .group_by(*keys)
        )
        return [
            NoticeGroup(str(c), str(d), str(ch), _bool(t), _bool(a), str(o or ""), int(n))
            for c, d, ch, t, a, o, n in self.conn.execute(stmt)
        ]

    def notice_timings(
        self, start: datetime, end: datetime
    ) -> list[tuple[str, datetime, datetime]]:
        """(outcome, received, decided) of every notice received in the period and decided.

        Only their difference is used, so the two times come back as the database holds them
        (UTC; naive on SQLite, where they are read with `fromisoformat` rather than through
        the column type, several times faster on a year of notices)."""
        stmt = select(
            notices.c.outcome,
            type_coerce(notices.c.created_at, String),
            type_coerce(notices.c.decided_at, String),
        ).where(
            notices.c.created_at >= start,
            notices.c.created_at < end,
            notices.c.decided_at.is_not(None),
        )
        return [(str(o or ""), _moment(c), _moment(d)) for o, c, d in self.conn.execute(stmt)]

    def decision_groups(self, start: datetime, end: datetime) -> list[DecisionGroup]:
        reversed_ = decisions.c.reversed_at.is_not(None).label("reversed")
        keys = (
            decisions.c.source_type,
            decisions.c.action,
            decisions.c.ground,
            decisions.c.rule_id,
            decisions.c.legal_ground,
            decisions.c.dsa_category,
            decisions.c.automated_detection,
            decisions.c.automated_decision,
            decisions.c.misuse,
            reversed_,
        )
        stmt = (
            select(*keys, func.count())
            .where(decisions.c.created_at >= start, decisions.c.created_at < end)
            .group_by(*keys)
        )
        return [
            DecisionGroup(
                source_type=str(s),
                action=str(a),
                ground=str(g or ""),
                rule_id=str(r or ""),
                legal_ground=str(lg or ""),
                dsa_category=str(c),
                automated_detection=_bool(ad),
                automated_decision=str(am),
                misuse=str(m or ""),
                reversed=_bool(rv),
                count=int(n),
            )
            for s, a, g, r, lg, c, ad, am, m, rv, n in self.conn.execute(stmt)
        ]

    def appeals(self, start: datetime, end: datetime) -> list[AppealFacts]:
        """Every complaint filed in the period, with the ground of the decision it contests."""
        stmt = (
            select(
                appeals.c.appellant_role,
                decisions.c.ground,
                appeals.c.outcome,
                appeals.c.filed_at,
                appeals.c.decided_at,
            )
            .select_from(appeals.join(decisions, decisions.c.id == appeals.c.decision_id))
            .where(appeals.c.filed_at >= start, appeals.c.filed_at < end)
        )
        return [
            AppealFacts(str(role), str(ground or ""), str(outcome or ""), filed, decided)
            for role, ground, outcome, filed, decided in self.conn.execute(stmt)
        ]

    def orders(self, start: datetime, end: datetime) -> list[OrderFacts]:
        """Every order and escalation of the authority register received in the period."""
        stmt = select(
            authority_orders.c.kind,
            authority_orders.c.dsa_category,
            authority_orders.c.member_state,
            authority_orders.c.received_at,
            authority_orders.c.acknowledged_at,
            authority_orders.c.carried_out_at,
            authority_orders.c.provided != "",
        ).where(authority_orders.c.received_at >= start, authority_orders.c.received_at < end)
        return [
            OrderFacts(str(k), str(c), str(s), r, a, d, _bool(p))
            for k, c, s, r, a, d, p in self.conn.execute(stmt)
        ]

    def moderators(self, start: datetime, end: datetime) -> list[ModeratorFacts]:
        """The moderators on the roster at any time during the period (never who they are)."""
        stmt = select(
            moderators.c.languages,
            moderators.c.country,
            moderators.c.paid,
            moderators.c.training != "",
        ).where(
            moderators.c.since < end,
            or_(moderators.c.until.is_(None), moderators.c.until > start),
        )
        out = []
        for languages, country, paid, trained in self.conn.execute(stmt):
            parsed = json.loads(languages or "[]")
            langs = tuple(str(x) for x in parsed) if isinstance(parsed, list) else ()
            out.append(ModeratorFacts(langs, str(country or ""), _bool(paid), _bool(trained)))
        return out

    def deciders_not_on_roster(self, start: datetime, end: datetime) -> int:
        """How many people took a decision in the period without being on the roster then."""
        on_roster = select(moderators.c.account_id).where(
            moderators.c.since < end,
            or_(moderators.c.until.is_(None), moderators.c.until > start),
        )
        stmt = select(func.count(decisions.c.moderator_id.distinct())).where(
            decisions.c.created_at >= start,
            decisions.c.created_at < end,
            decisions.c.moderator_id.is_not(None),
            decisions.c.moderator_id.not_in(on_roster),
        )
        return int(self.conn.execute(stmt).scalar_one())

    def notices_by_category(self, start: datetime, end: datetime) -> dict[str, int]:
        """The plain GROUP BY the benchmark measures the report against."""
        stmt = (
            select(notices.c.category, func.count())
            .where(notices.c.created_at >= start, notices.c.created_at < end)
            .group_by(notices.c.category)
        )
        return {str(c): int(n) for c, n in self.conn.execute(stmt)}


def _moment(raw: object) -> datetime:
    """A timestamp as the driver gives it: a datetime (PostgreSQL) or ISO text (SQLite)."""
    return raw if isinstance(raw, datetime) else datetime.fromisoformat(str(raw))
