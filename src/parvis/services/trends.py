"""Trends, computed on request from plain counts; the formulas are published in docs/trends.md.

Hashtags: uses in eligible public posts over the last 7 UTC days; ranked by
score = sum over days d (0 = today) of accounts(d) / 2**d, i.e. the distinct accounts that used
the tag each day, halved for every day of age. Posts: public original posts of the last 48 hours,
ranked by score = interactions * 2 ** (-age_hours / 6), interactions being the distinct accounts
(other than the author) that favourited, boosted or replied, each counted once per kind.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from parvis.domain.models import Status
from parvis.services.context import Work
from parvis.services.timelines import visible

HISTORY_DAYS = 7
STATUS_WINDOW_HOURS = 48
HALF_LIFE_HOURS = 6.0
MIN_TAG_ACCOUNTS = 1
MIN_STATUS_INTERACTIONS = 1


@dataclass(frozen=True)
class DayUse:
    day: datetime  # UTC midnight
    uses: int
    accounts: int


@dataclass(frozen=True)
class TrendingTag:
    id: int
    name: str
    history: list[DayUse]  # newest day first
    score: float


def _midnight(moment: datetime) -> datetime:
    return moment.astimezone(UTC).replace(hour=0, minute=0, second=0, microsecond=0)


def tag_histories(work: Work, tag_ids: list[int] | None = None) -> dict[int, list[DayUse]]:
    """Seven days of {day, uses, accounts} per tag (every eligible tag, or those asked for)."""
    today = _midnight(work.now())
    start = today - timedelta(days=HISTORY_DAYS - 1)
    uses: dict[int, list[int]] = {}
    accounts: dict[int, list[set[int]]] = {}
    for tag_id, account_id, created_at in work.store.trends.tag_uses(start, tag_ids):
        d = (today - _midnight(created_at)).days
        if not 0 <= d < HISTORY_DAYS:
            continue
        uses.setdefault(tag_id, [0] * HISTORY_DAYS)[d] += 1
        accounts.setdefault(tag_id, [set() for _ in range(HISTORY_DAYS)])[d].add(account_id)
    out: dict[int, list[DayUse]] = {}
    for tag_id in set(uses) | set(tag_ids or ()):
        counts = uses.get(tag_id, [0] * HISTORY_DAYS)
        people = accounts.get(tag_id, [set() for _ in range(HISTORY_DAYS)])
        out[tag_id] = [
            DayUse(today - timedelta(days=d), counts[d], len(people[d]))
            for d in range(HISTORY_DAYS)
        ]
    return out


def tag_score(history: list[DayUse]) -> float:
    return float(sum(day.accounts / 2**d for d, day in enumerate(history)))


def trending_tags(work: Work, offset: int, limit: int) -> list[TrendingTag]:
    histories = tag_histories(work)
    names = work.store.trends.tags(list(histories))
    ranked = []
    for tag_id, history in histories.items():
        if tag_id not in names or sum(d.accounts for d in history) < MIN_TAG_ACCOUNTS:
            continue
        ranked.append(TrendingTag(tag_id, names[tag_id][1], history, tag_score(history)))
    ranked.sort(key=lambda t: (-t.score, -sum(d.uses for d in t.history), t.name.lower()))
    return ranked[offset : offset + limit]


def status_score(interactions: int, created_at: datetime, now: datetime) -> float:
    age_hours = max(0.0, (now - created_at).total_seconds() / 3600)
    return float(interactions * 2 ** (-age_hours / HALF_LIFE_HOURS))


def trending_statuses(work: Work, viewer_id: int | None, offset: int, limit: int) -> list[Status]:
    now = work.now()
    candidates = work.store.trends.status_candidates(now - timedelta(hours=STATUS_WINDOW_HOURS))
    counts = work.store.trends.interacting_accounts([c[0] for c in candidates])
    scored = []
    for status_id, _, created_at in candidates:
        interactions = sum(counts.get(status_id, {}).values())
        if interactions >= MIN_STATUS_INTERACTIONS:
            scored.append((status_score(interactions, created_at, now), status_id))
    scored.sort(key=lambda p: (-p[0], -p[1]))
    ids = [sid for _, sid in scored[offset : offset + limit]]
    return visible(work, viewer_id, ids, hide_muted=True)
