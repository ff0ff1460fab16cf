"""Trusted flaggers (DSA art. 22): entities a Digital Services Coordinator awarded the status.
Their notices within their areas of expertise take the priority lane of the moderator queue;
each flagger's accuracy is kept, and a flagger that sends many unsubstantiated notices is marked
so the operator can tell its coordinator (art. 22(6)).

A notice "led to a restriction" when at least one of its items was decided with an action other
than "none" that was not reversed on appeal (or with "none" reversed on appeal: the notifier was
right after all); it was "rejected" when every item is decided and none led to a restriction.
Notices with items still waiting count as pending."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta

from parvis.domain import moderation as vocab
from parvis.domain.errors import Conflict, Invalid, NotFound
from parvis.domain.ids import new_id
from parvis.services.context import Work
from parvis.storage.registers import FlaggerRow, NoticeOutcome

MAX_NAME = 200


@dataclass(frozen=True)
class NewFlagger:
    name: str
    coordinator: str  # the Digital Services Coordinator that awarded the status
    member_state: str  # of that coordinator (EU_STATES)
    areas: tuple[str, ...] = ()  # offence keys (vocab.OFFENCES); empty: every area
    account_id: int | None = None  # the account it reports from


@dataclass(frozen=True)
class Flagger:
    id: int
    name: str
    account_id: int | None
    coordinator: str
    member_state: str
    areas: tuple[str, ...]
    created_at: datetime
    revoked_at: datetime | None

    def covers(self, offence_key: str) -> bool:
        """Whether a notice about this offence is within the flagger's area of expertise."""
        return not self.areas or offence_key in self.areas

    @property
    def active(self) -> bool:
        return self.revoked_at is None


@dataclass(frozen=True)
class Accuracy:
    """A flagger's record over a period: notices sent, what became of them."""

    flagger_id: int
    notices: int
    restricted: int  # led to a restriction (or another action)
    rejected: int  # every item decided, none acted upon
    pending: int
    review: bool  # many unsubstantiated notices: tell the coordinator (art. 22(6))

    @property
    def decided(self) -> int:
        return self.restricted + self.rejected

    @property
    def precision(self) -> float | None:
        """Share of decided notices that led to an action; None before any decision."""
        return self.restricted / self.decided if self.decided else None


def _flagger(row: FlaggerRow) -> Flagger:
    return Flagger(
        id=row.id,
        name=row.name,
        account_id=row.account_id,
        coordinator=row.coordinator,
        member_state=row.member_state,
        areas=row.areas,
        created_at=row.created_at,
        revoked_at=row.revoked_at,
    )


def _text(value: str, name: str, maximum: int = MAX_NAME) -> str:
    value = " ".join(value.split())
    if not value:
        raise Invalid(f"Validation failed: {name}: cannot be blank")
    if len(value) > maximum:
        raise Invalid(f"Validation failed: {name}: at most {maximum} characters")
    return value


def _areas(areas: Iterable[str]) -> tuple[str, ...]:
    out: list[str] = []
    for area in areas:
        key = area.strip()
        if not key:
            continue
        if key not in vocab.OFFENCES:
            raise Invalid(
                f"Validation failed: areas: {key!r} is not an offence key "
                f"(one of {', '.join(vocab.OFFENCES)})"
            )
        if key not in out:
            out.append(key)
    return tuple(out)


def register(work: Work, new: NewFlagger) -> Flagger:
    """Add a trusted flagger to the register."""
    name = _text(new.name, "name")
    coordinator = _text(new.coordinator, "coordinator")
    state = new.member_state.strip().upper()
    if state not in vocab.EU_STATES:
        raise Invalid(
            "Validation failed: member_state: the EU member state of the coordinator, "
            f"one of {' '.join(vocab.EU_STATES)}"
        )
    areas = _areas(new.areas)
    if new.account_id is not None:
        if work.store.accounts.get(new.account_id) is None:
            raise NotFound("No account with this id")
        held = work.store.flaggers.active_for_account(new.account_id)
        if held is not None:
            raise Conflict(
                f"This account already reports for the trusted flagger {held.name!r}: "
                "revoke it first"
            )
    row = FlaggerRow(
        id=new_id(),
        name=name,
        account_id=new.account_id,
        coordinator=coordinator,
        member_state=state,
        areas=areas,
        created_at=work.now(),
    )
    work.store.flaggers.insert(row)
    return _flagger(row)


def get(work: Work, flagger_id: int) -> Flagger:
    row = work.store.flaggers.get(flagger_id)
    if row is None:
        raise NotFound("No trusted flagger with this id")
    return _flagger(row)


def revoke(work: Work, flagger_id: int) -> Flagger:
    """End the status (the coordinator withdrew it, or the entity left): its later notices go
    through the ordinary lanes. Past notices keep their flagger."""
    found = get(work, flagger_id)
    if found.revoked_at is not None:
        raise Conflict("This trusted flagger was already revoked")
    now = work.now()
    work.store.flaggers.revoke(flagger_id, now)
    return get(work, flagger_id)


def every(work: Work, *, with_revoked: bool = False) -> list[Flagger]:
    return [_flagger(r) for r in work.store.flaggers.all(with_revoked=with_revoked)]


def for_account(work: Work, account_id: int | None) -> Flagger | None:
    """The active trusted flagger an account reports for, if any (notice intake: priority lane
    when `Flagger.covers` the offence)."""
    if account_id is None:
        return None
    row = work.store.flaggers.active_for_account(account_id)
    return _flagger(row) if row is not None else None


def outcome(notice: NoticeOutcome) -> str:
    """ "restricted", "rejected" or "pending" (see the module's docstring)."""
    acted = any((action != "none") != reversed_ for action, reversed_, _ in notice.decided)
    if acted:
        return "restricted"
    if notice.pending or not notice.decided:
        return "pending"
    return "rejected"


def tally(
    flagger_id: int,
    notices: Iterable[NoticeOutcome],
    *,
    min_rejected: int,
    ratio: float,
) -> Accuracy:
    counts = {"restricted": 0, "rejected": 0, "pending": 0}
    total = 0
    for notice in notices:
        total += 1
        counts[outcome(notice)] += 1
    decided = counts["restricted"] + counts["rejected"]
    review = (
        counts["rejected"] >= min_rejected and decided > 0 and counts["rejected"] / decided >= ratio
    )
    return Accuracy(
        flagger_id, total, counts["restricted"], counts["rejected"], counts["pending"], review
    )


def _window(work: Work, since: datetime | None) -> datetime:
    if since is not None:
        return since
    return work.now() - timedelta(days=work.settings.misuse_window_days)


def accuracy(work: Work, flagger_id: int, *, since: datetime | None = None) -> Accuracy:
    """The flagger's accuracy over the window (default: the misuse window, 180 days)."""
    get(work, flagger_id)
    found = work.store.flaggers.outcomes(flagger_id=flagger_id, since=_window(work, since))
    return tally(
        flagger_id,
        found,
        min_rejected=work.settings.flagger_review_min_rejected,
        ratio=work.settings.flagger_review_ratio,
    )


def accuracies(work: Work, *, since: datetime | None = None) -> dict[int, Accuracy]:
    """Every flagger's accuracy over the window, in one query."""
    by_flagger: dict[int, list[NoticeOutcome]] = {f.id: [] for f in every(work, with_revoked=True)}
    for notice in work.store.flaggers.outcomes(since=_window(work, since)):
        if notice.trusted_flagger_id is not None:
            by_flagger.setdefault(notice.trusted_flagger_id, []).append(notice)
    settings = work.settings
    return {
        fid: tally(
            fid,
            found,
            min_rejected=settings.flagger_review_min_rejected,
            ratio=settings.flagger_review_ratio,
        )
        for fid, found in by_flagger.items()
    }
