"""Measures against misuse (DSA art. 23): accounts that frequently post manifestly illegal
content, and notifiers that frequently send manifestly unfounded notices.

Over a rolling window (`misuse_window_days`, 180 by default) the server counts, per account:

* manifestly illegal items: decisions on its posts (or profile), not reversed, that the
  moderator recorded with misuse = "manifestly_illegal_content"; the ratio is to the posts it
  wrote in the window;
* manifestly unfounded notices: notices it sent whose items were all decided with no action and
  recorded with misuse = "unfounded_notices" (none reversed on appeal); the ratio is to every
  notice it sent in the window.

Both the absolute number and the ratio must reach their thresholds (art. 23(3)(a), (b)). The
policy then recommends a warning first; a suspension (of the account, or of the handling of its
notices) only once a warning for the same misuse was given and new misuse happened after it
(art. 23(1), (2): "after having issued a prior warning"). The gravity and the intention (art.
23(3)(c), (d)) are for the moderator to weigh: this is a recommendation, never automatic."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from parvis.domain.errors import NotFound
from parvis.services.context import Work
from parvis.services.trusted_flaggers import outcome

CONTENT = "manifestly_illegal_content"
NOTICES = "unfounded_notices"
_ACCOUNT_ACTIONS = frozenset({"none", "warn", "suspend", "terminate"})


@dataclass(frozen=True)
class Evidence:
    misuse: str  # CONTENT | NOTICES
    count: int  # manifestly illegal items / manifestly unfounded notices in the window
    total: int  # posts written / notices sent in the window
    items: tuple[str, ...]  # decision PUIDs (content) or notice ids (notices)
    warned_at: datetime | None  # the latest warning for this misuse (never reversed)
    since_warning: int  # how many of `count` came after that warning
    suspended: bool  # already suspended (account, or handling of its notices)

    @property
    def ratio(self) -> float:
        return self.count / self.total if self.total else 0.0

    @property
    def warned(self) -> bool:
        return self.warned_at is not None


@dataclass(frozen=True)
class Thresholds:
    count: int
    ratio: float
    suspension_days: int


@dataclass(frozen=True)
class Recommendation:
    misuse: str
    action: str  # none | warn | suspend
    reason: str
    days: int | None = None  # the suspension's length


@dataclass(frozen=True)
class Assessment:
    account_id: int
    at: datetime
    since: datetime
    content: Evidence
    notices: Evidence
    recommendations: tuple[Recommendation, Recommendation]


def recommend(evidence: Evidence, limits: Thresholds) -> Recommendation:
    """The policy, as a pure function of the evidence."""
    kind = evidence.misuse
    figures = f"{evidence.count} of {evidence.total} ({evidence.ratio:.0%})"
    if evidence.suspended:
        return Recommendation(kind, "none", "already suspended")
    if evidence.count < limits.count or evidence.ratio < limits.ratio:
        return Recommendation(
            kind,
            "none",
            f"{figures}: below the thresholds ({limits.count} and {limits.ratio:.0%})",
        )
    if not evidence.warned:
        return Recommendation(kind, "warn", f"{figures}: a warning comes first")
    if evidence.since_warning == 0:
        return Recommendation(kind, "none", f"{figures}: warned, nothing new since the warning")
    return Recommendation(
        kind,
        "suspend",
        f"{figures}, {evidence.since_warning} after the warning",
        limits.suspension_days,
    )


def _since(work: Work) -> datetime:
    return work.now() - timedelta(days=work.settings.misuse_window_days)


def _content(work: Work, account_id: int, since: datetime, suspended: bool) -> Evidence:
    store = work.store.misuse
    found = [
        d
        for d in store.decisions_about(account_id, since, misuse=CONTENT)
        if d.action not in _ACCOUNT_ACTIONS
    ]
    warnings = store.warnings(account_id, CONTENT)
    warned_at = warnings[-1].created_at if warnings else None
    posts = store.posts_since(account_id, since)
    return Evidence(
        misuse=CONTENT,
        count=len(found),
        total=max(posts, len(found)),  # a removed post may be gone from the table
        items=tuple(d.puid for d in found),
        warned_at=warned_at,
        since_warning=sum(1 for d in found if warned_at is None or d.created_at > warned_at),
        suspended=suspended,
    )


def _notices(work: Work, account_id: int, since: datetime, suspended: bool) -> Evidence:
    sent = work.store.flaggers.outcomes(reporter_account_id=account_id, since=since)
    unfounded = [
        n
        for n in sent
        if outcome(n) == "rejected" and any(misuse == NOTICES for _, _, misuse in n.decided)
    ]
    warnings = work.store.misuse.warnings(account_id, NOTICES)
    warned_at = warnings[-1].created_at if warnings else None
    return Evidence(
        misuse=NOTICES,
        count=len(unfounded),
        total=len(sent),
        items=tuple(str(n.notice_id) for n in unfounded),
        warned_at=warned_at,
        since_warning=sum(1 for n in unfounded if warned_at is None or n.created_at > warned_at),
        suspended=suspended,
    )


def assess(work: Work, account_id: int) -> Assessment:
    """The evidence about an account and what the policy recommends, for the moderator."""
    account = work.store.accounts.get(account_id)
    if account is None:
        raise NotFound("Record not found")
    now = work.now()
    since = _since(work)
    settings = work.settings
    suspended = account.suspended or (
        account.suspended_until is not None and account.suspended_until > now
    )
    content = _content(work, account_id, since, suspended)
    notices = _notices(work, account_id, since, notices_suspended(work, account_id))
    return Assessment(
        account_id=account_id,
        at=now,
        since=since,
        content=content,
        notices=notices,
        recommendations=(
            recommend(
                content,
                Thresholds(
                    settings.misuse_content_items,
                    settings.misuse_content_ratio,
                    settings.misuse_suspension_days,
                ),
            ),
            recommend(
                notices,
                Thresholds(
                    settings.misuse_notices,
                    settings.misuse_notices_ratio,
                    settings.misuse_notices_suspension_days,
                ),
            ),
        ),
    )


def warned(work: Work, account_id: int, misuse: str) -> bool:
    """Whether the account was warned for this misuse (a warning not reversed): a suspension
    under art. 23 needs one."""
    return bool(work.store.misuse.warnings(account_id, misuse))


def notices_suspended(work: Work, account_id: int | None) -> bool:
    """Whether the handling of this account's notices is suspended now (art. 23(2))."""
    if account_id is None:
        return False
    account = work.store.accounts.get(account_id)
    until = account.notices_suspended_until if account is not None else None
    return until is not None and until > work.now()
