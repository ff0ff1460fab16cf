"""The transparency report for any period, computed from the data (DSA arts. 15, 24 and 42, the
harmonised template of Implementing Regulation (EU) 2024/2835, and the list the Paris court
asked Twitter for in 2021): never written by hand.

`report(work, start, end)` covers the days [start, end) in UTC and returns a frozen tree of
figures; `to_json` and `to_csv` are its two machine-readable shapes. What each figure counts
(which rows, which timestamps) is documented in docs/transparency.md; in short:

- notices by the day they were received, with their outcome as it stands now;
- decisions by the day they were taken (including those since reversed on appeal);
- complaints by the day they were filed; orders by the day they were received;
- moderators on the roster at any time during the period.

Medians are `statistics.median` (the mean of the two middle values for an even count); the
95th percentile is the nearest rank (the smallest duration with at least 95 % of the durations
at or below it). Durations are in seconds.
"""

from __future__ import annotations

import csv
import io
import math
import statistics
from collections import Counter
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, fields, is_dataclass
from datetime import UTC, date, datetime, time
from typing import Any

from parvis.domain import moderation as vocab
from parvis.domain.errors import Invalid
from parvis.services.context import Work
from parvis.storage.transparency_report import DecisionGroup, NoticeGroup, OrderFacts

MAX_YEARS = 3
DAY = 24 * 3600.0
VOLUNTARY = "SOURCE_VOLUNTARY"
SUSPENSIONS = ("suspend", "terminate")


# -- the figures ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Durations:
    """How long something took, over `count` cases: median and 95th percentile, in seconds
    (None when there is nothing to measure)."""

    count: int
    median_s: float | None
    p95_s: float | None


@dataclass(frozen=True)
class Period:
    start: date  # first day included
    end: date  # first day not included


@dataclass(frozen=True)
class Notices:
    """Notices (art. 16) received in the period."""

    received: int
    by_offence: Mapping[str, int]  # the plain-language choice of the notifier
    by_category: Mapping[str, int]  # the DSA category it is counted under
    by_channel: Mapping[str, int]
    from_trusted_flaggers: int
    trusted_by_category: Mapping[str, int]
    automated: int  # processed by automated means
    decided: int
    actioned: int  # at least one item restricted or warned
    no_action: int  # rejected
    pending: int
    time_to_decision: Durations
    time_to_action: Durations  # actioned notices only
    within_24h: int  # decided at most 24 h after receipt
    within_48h: int
    share_within_24h: float | None  # of the notices received
    share_within_48h: float | None


@dataclass(frozen=True)
class Actions:
    """Decisions taken in the period that acted (every action but "none")."""

    total: int
    by_action: Mapping[str, int]
    by_ground: Mapping[str, int]  # law | rule
    by_rule: Mapping[str, int]  # the server rule cited (ground "rule")
    by_legal_ground: Mapping[str, int]  # the law cited (ground "law")
    by_category: Mapping[str, int]
    on_notices: int  # pursuant to notices, trusted flaggers, orders or other servers' reports
    on_notices_by_ground: Mapping[str, int]
    on_notices_by_source: Mapping[str, int]
    notices_rejected: int  # decisions "none": the notice was unfounded, nothing was restricted
    reversed: int  # since reversed on appeal


@dataclass(frozen=True)
class OwnInitiative:
    """Actions the moderators took without any notice (source SOURCE_VOLUNTARY)."""

    total: int
    by_action: Mapping[str, int]
    by_category: Mapping[str, int]
    by_ground: Mapping[str, int]  # law (illegal content) | rule (terms)
    by_detection: Mapping[str, int]  # automated | human


@dataclass(frozen=True)
class OrderGroup:
    """Orders of one kind, for one category, from one member state."""

    dsa_category: str
    member_state: str
    count: int
    to_acknowledge: Durations  # received -> acknowledged
    to_carry_out: Durations  # received -> carried out


@dataclass(frozen=True)
class Orders:
    """The authority register (arts. 9, 10 and 18) for the period."""

    to_act: int
    to_act_groups: tuple[OrderGroup, ...]
    to_provide_information: int
    information_groups: tuple[OrderGroup, ...]
    information_provided: int  # orders to provide information answered with something
    escalations: int  # threats to life or safety reported by Parvis (art. 18)
    escalations_by_state: Mapping[str, int]
    passed_to_authorities: int  # information_provided + escalations


@dataclass(frozen=True)
class Complaints:
    """Complaints (art. 20 appeals) filed in the period."""

    filed: int
    by_appellant: Mapping[str, int]  # author | notifier
    by_ground: Mapping[str, int]  # ground of the contested decision: law | rule | none
    upheld: int
    reversed: int
    pending: int
    decision_time: Durations


@dataclass(frozen=True)
class Suspensions:
    """Art. 23 measures taken in the period, split by misuse as art. 24(1)(b) asks."""

    by_misuse: Mapping[str, int]  # suspensions and terminations
    warnings_by_misuse: Mapping[str, int]


@dataclass(frozen=True)
class Automation:
    notices_automated: int
    decisions_automated_detection: int
    decisions_by_automation: Mapping[str, int]  # the TDB automated_decision value


@dataclass(frozen=True)
class Moderators:
    """The roster in aggregate: never who. `total` also counts the people who took decisions
    in the period without being on the roster (`not_on_roster`: nothing else is known of them,
    so they count in no language, country, paid or volunteer figure)."""

    total: int
    by_language: Mapping[str, int]
    by_country: Mapping[str, int]
    paid: int
    volunteer: int
    trained: int
    not_on_roster: int = 0


@dataclass(frozen=True)
class Report:
    period: Period
    generated_at: datetime
    notices: Notices
    actions: Actions
    own_initiative: OwnInitiative
    orders: Orders
    complaints: Complaints
    suspensions: Suspensions
    automation: Automation
    moderators: Moderators


# -- small pure helpers (the recount in the tests does not use them) -----------------------


def durations(seconds: Iterable[float]) -> Durations:
    ordered = sorted(seconds)
    if not ordered:
        return Durations(0, None, None)
    rank = math.ceil(0.95 * len(ordered))  # nearest rank, 1-based
    return Durations(len(ordered), statistics.median(ordered), ordered[rank - 1])


def _ranked(counts: Mapping[str, int], zeros: Iterable[str] = ()) -> dict[str, int]:
    """Largest first (ties by key); `zeros` are listed even when nothing was counted."""
    merged = {key: 0 for key in zeros}
    merged.update((k, v) for k, v in counts.items() if v)
    return dict(sorted(merged.items(), key=lambda kv: (-kv[1], kv[0])))


def _share(part: int, whole: int) -> float | None:
    return part / whole if whole else None


def _seconds(later: datetime, earlier: datetime) -> float:
    return (later - earlier).total_seconds()


def period_bounds(start: date, end: date) -> tuple[datetime, datetime]:
    return (
        datetime.combine(start, time(), tzinfo=UTC),
        datetime.combine(end, time(), tzinfo=UTC),
    )


def check_period(start: date, end: date) -> None:
    if end <= start:
        raise Invalid("Validation failed: to: must be after from (the period is [from, to))")
    year = start.year + MAX_YEARS
    if year > date.max.year:
        longest = date.max
    elif (start.month, start.day) == (2, 29):
        longest = date(year, 3, 1)
    else:
        longest = start.replace(year=year)
    if end > longest:
        raise Invalid(f"Validation failed: to: a period of at most {MAX_YEARS} years")


# -- the sections --------------------------------------------------------------------------


def _notices(groups: list[NoticeGroup], timings: list[tuple[str, datetime, datetime]]) -> Notices:
    by_offence: Counter[str] = Counter()
    by_category: Counter[str] = Counter()
    by_channel: Counter[str] = Counter()
    trusted_by_category: Counter[str] = Counter()
    outcomes: Counter[str] = Counter()
    trusted = automated = 0
    for g in groups:
        by_offence[g.category] += g.count
        by_category[g.dsa_category] += g.count
        by_channel[g.channel] += g.count
        outcomes[g.outcome] += g.count
        if g.trusted:
            trusted += g.count
            trusted_by_category[g.dsa_category] += g.count
        if g.automated:
            automated += g.count
    received = sum(by_offence.values())
    waits = [_seconds(decided, created) for _outcome, created, decided in timings]
    acted = [_seconds(d, c) for outcome, c, d in timings if outcome == "actioned"]
    within_24h = sum(1 for s in waits if s <= DAY)
    within_48h = sum(1 for s in waits if s <= 2 * DAY)
    return Notices(
        received=received,
        by_offence=_ranked(by_offence, vocab.OFFENCES),
        by_category=_ranked(by_category, vocab.DSA_CATEGORIES),
        by_channel=_ranked(by_channel, vocab.CHANNELS),
        from_trusted_flaggers=trusted,
        trusted_by_category=_ranked(trusted_by_category),
        automated=automated,
        decided=len(waits),
        actioned=outcomes["actioned"],
        no_action=outcomes["no_action"],
        pending=received - len(waits),
        time_to_decision=durations(waits),
        time_to_action=durations(acted),
        within_24h=within_24h,
        within_48h=within_48h,
        share_within_24h=_share(within_24h, received),
        share_within_48h=_share(within_48h, received),
    )


def _actions(groups: list[DecisionGroup]) -> tuple[Actions, OwnInitiative, Suspensions]:
    by_action: Counter[str] = Counter()
    by_ground: Counter[str] = Counter()
    by_rule: Counter[str] = Counter()
    by_law: Counter[str] = Counter()
    by_category: Counter[str] = Counter()
    notice_ground: Counter[str] = Counter()
    notice_source: Counter[str] = Counter()
    own_action: Counter[str] = Counter()
    own_category: Counter[str] = Counter()
    own_ground: Counter[str] = Counter()
    own_detection: Counter[str] = Counter()
    suspended: Counter[str] = Counter()
    warned: Counter[str] = Counter()
    rejected = reversed_ = 0
    for g in groups:
        if g.action == "none":
            rejected += g.count
            continue
        by_action[g.action] += g.count
        by_ground[g.ground] += g.count
        by_category[g.dsa_category] += g.count
        if g.ground == "rule":
            by_rule[g.rule_id] += g.count
        elif g.ground == "law":
            by_law[g.legal_ground] += g.count
        if g.reversed:
            reversed_ += g.count
        if g.source_type == VOLUNTARY:
            own_action[g.action] += g.count
            own_category[g.dsa_category] += g.count
            own_ground[g.ground] += g.count
            own_detection["automated" if g.automated_detection else "human"] += g.count
        else:
            notice_ground[g.ground] += g.count
            notice_source[g.source_type] += g.count
        if g.misuse and g.action in SUSPENSIONS:
            suspended[g.misuse] += g.count
        elif g.misuse and g.action == "warn":
            warned[g.misuse] += g.count
    acted = [a for a in vocab.ACTIONS if a != "none"]
    actions = Actions(
        total=sum(by_action.values()),
        by_action=_ranked(by_action, acted),
        by_ground=_ranked(by_ground, vocab.GROUNDS),
        by_rule=_ranked(by_rule),
        by_legal_ground=_ranked(by_law),
        by_category=_ranked(by_category),
        on_notices=sum(notice_source.values()),
        on_notices_by_ground=_ranked(notice_ground, vocab.GROUNDS),
        on_notices_by_source=_ranked(notice_source),
        notices_rejected=rejected,
        reversed=reversed_,
    )
    own = OwnInitiative(
        total=sum(own_action.values()),
        by_action=_ranked(own_action),
        by_category=_ranked(own_category),
        by_ground=_ranked(own_ground, vocab.GROUNDS),
        by_detection=_ranked(own_detection, ("automated", "human")),
    )
    misuse = Suspensions(
        by_misuse=_ranked(suspended, vocab.MISUSE),
        warnings_by_misuse=_ranked(warned, vocab.MISUSE),
    )
    return actions, own, misuse


def _automation(notices: Notices, groups: list[DecisionGroup]) -> Automation:
    detected = sum(g.count for g in groups if g.automated_detection)
    by_kind: Counter[str] = Counter()
    for g in groups:
        by_kind[g.automated_decision] += g.count
    return Automation(
        notices_automated=notices.automated,
        decisions_automated_detection=detected,
        decisions_by_automation=_ranked(by_kind),
    )


def _order_groups(facts: list[OrderFacts]) -> tuple[OrderGroup, ...]:
    keyed: dict[tuple[str, str], list[OrderFacts]] = {}
    for f in facts:
        keyed.setdefault((f.dsa_category, f.member_state), []).append(f)
    out = []
    for (category, state), found in sorted(keyed.items()):
        out.append(
            OrderGroup(
                dsa_category=category,
                member_state=state,
                count=len(found),
                to_acknowledge=durations(
                    _seconds(f.acknowledged_at, f.received_at)
                    for f in found
                    if f.acknowledged_at is not None
                ),
                to_carry_out=durations(
                    _seconds(f.carried_out_at, f.received_at)
                    for f in found
                    if f.carried_out_at is not None
                ),
            )
        )
    return tuple(out)


def _orders(work: Work, start: datetime, end: datetime) -> Orders:
    facts = work.store.transparency_report.orders(start, end)
    acts = [f for f in facts if f.kind == "act"]
    infos = [f for f in facts if f.kind == "info"]
    escalations = [f for f in facts if f.kind == "escalation"]
    provided = sum(1 for f in infos if f.provided and f.carried_out_at is not None)
    return Orders(
        to_act=len(acts),
        to_act_groups=_order_groups(acts),
        to_provide_information=len(infos),
        information_groups=_order_groups(infos),
        information_provided=provided,
        escalations=len(escalations),
        escalations_by_state=_ranked(Counter(f.member_state for f in escalations)),
        passed_to_authorities=provided + len(escalations),
    )


def _complaints(work: Work, start: datetime, end: datetime) -> Complaints:
    facts = work.store.transparency_report.appeals(start, end)
    outcomes = Counter(f.outcome for f in facts)
    return Complaints(
        filed=len(facts),
        by_appellant=_ranked(Counter(f.appellant_role for f in facts), ("author", "notifier")),
        by_ground=_ranked(Counter(f.ground or "none" for f in facts), (*vocab.GROUNDS, "none")),
        upheld=outcomes["upheld"],
        reversed=outcomes["reversed"],
        pending=outcomes[""],
        decision_time=durations(
            _seconds(f.decided_at, f.filed_at) for f in facts if f.decided_at is not None
        ),
    )


def _moderators(work: Work, start: datetime, end: datetime) -> Moderators:
    facts = work.store.transparency_report.moderators(start, end)
    languages: Counter[str] = Counter()
    for f in facts:
        languages.update(set(f.languages))
    paid = sum(1 for f in facts if f.paid)
    unlisted = work.store.transparency_report.deciders_not_on_roster(start, end)
    return Moderators(
        total=len(facts) + unlisted,
        not_on_roster=unlisted,
        by_language=_ranked(languages),
        by_country=_ranked(Counter(f.country or "unknown" for f in facts)),
        paid=paid,
        volunteer=len(facts) - paid,
        trained=sum(1 for f in facts if f.trained),
    )


def report(work: Work, start: date, end: date) -> Report:
    """The report for the days [start, end), UTC. Invalid when the period is empty, reversed
    or longer than MAX_YEARS."""
    check_period(start, end)
    since, until = period_bounds(start, end)
    store = work.store.transparency_report
    notices = _notices(store.notice_groups(since, until), store.notice_timings(since, until))
    decisions = store.decision_groups(since, until)
    actions, own, misuse = _actions(decisions)
    return Report(
        period=Period(start, end),
        generated_at=work.now(),
        notices=notices,
        actions=actions,
        own_initiative=own,
        orders=_orders(work, since, until),
        complaints=_complaints(work, since, until),
        suspensions=misuse,
        automation=_automation(notices, decisions),
        moderators=_moderators(work, since, until),
    )


# -- the formats ---------------------------------------------------------------------------


def _plain(value: Any) -> Any:
    if is_dataclass(value) and not isinstance(value, type):
        return {f.name: _plain(getattr(value, f.name)) for f in fields(value)}
    if isinstance(value, Mapping):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, tuple | list):
        return [_plain(v) for v in value]
    if isinstance(value, datetime | date):
        return value.isoformat()
    return value


def to_json(report: Report) -> dict[str, Any]:
    """The report as plain JSON values (dates in ISO 8601, durations in seconds)."""
    out: dict[str, Any] = _plain(report)
    return out


@dataclass(frozen=True)
class Figure:
    """One number of the report: its section, its name, what it is broken down by."""

    section: str
    metric: str
    dimension: str
    dimension2: str
    value: int | float | None


def _durations(section: str, metric: str, d: Durations, *dims: str) -> Iterator[Figure]:
    a, b = (*dims, "", "")[:2]
    yield Figure(section, f"{metric}.count", a, b, d.count)
    yield Figure(section, f"{metric}.median_s", a, b, d.median_s)
    yield Figure(section, f"{metric}.p95_s", a, b, d.p95_s)


def figures(report: Report) -> Iterator[Figure]:
    """Every figure of the report, one per line (the CSV rows, in order)."""
    yield Figure("period", "start", report.period.start.isoformat(), "", None)
    yield Figure("period", "end", report.period.end.isoformat(), "", None)
    for section_field in fields(report):
        name = section_field.name
        section = getattr(report, name)
        if name in ("period", "generated_at"):
            continue
        for f in fields(section):
            value = getattr(section, f.name)
            if isinstance(value, Durations):
                yield from _durations(name, f.name, value)
            elif isinstance(value, Mapping):
                for key, count in value.items():
                    yield Figure(name, f.name, str(key), "", count)
            elif isinstance(value, tuple):
                for group in value:
                    dims = (group.dsa_category, group.member_state)
                    yield Figure(name, f"{f.name}.count", *dims, group.count)
                    for what in ("to_acknowledge", "to_carry_out"):
                        timing = getattr(group, what)
                        yield from _durations(name, f"{f.name}.{what}", timing, *dims)
            else:
                yield Figure(name, f.name, "", "", value)


def _cell(text: str) -> str:
    """A text cell a spreadsheet will not run as a formula (the law cited is typed by a
    moderator): a leading =, +, -, @ or control character is quoted with an apostrophe."""
    return f"'{text}" if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text


def to_csv(report: Report) -> str:
    """One row per figure: section, metric, dimension, dimension2, value (RFC 4180, with a
    header row; an empty value means "nothing to measure")."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(("section", "metric", "dimension", "dimension2", "value"))
    for fig in figures(report):
        value = "" if fig.value is None else fig.value
        writer.writerow(
            (fig.section, fig.metric, _cell(fig.dimension), _cell(fig.dimension2), value)
        )
    return buffer.getvalue()
