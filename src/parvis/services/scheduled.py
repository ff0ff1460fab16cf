"""Scheduled posts: kept as the parameters of a post, published by the `publish_due` job
through the very same path as a post made now (every check applies again then)."""

from __future__ import annotations

import logging
from dataclasses import asdict
from datetime import datetime, timedelta
from typing import Any

from parvis.domain.errors import DomainError, Invalid, NotFound
from parvis.services import polls
from parvis.services.context import Work
from parvis.services.posting import NewStatus, PollSpec, check_status, create_status
from parvis.storage.scheduled import ScheduledRow

log = logging.getLogger("parvis.scheduled")

MAX_SCHEDULED = 300  # per account, as Mastodon
MAX_PER_DAY = 25


def params_of(new: NewStatus) -> dict[str, Any]:
    params = asdict(new)
    params["media_ids"] = [str(m) for m in new.media_ids]
    params["poll"] = asdict(new.poll) if new.poll else None
    return params


def new_status_of(params: dict[str, Any]) -> NewStatus:
    poll = params.get("poll")
    return NewStatus(
        text=params.get("text") or "",
        spoiler_text=params.get("spoiler_text") or "",
        sensitive=params.get("sensitive"),
        visibility=params.get("visibility"),
        language=params.get("language"),
        in_reply_to_id=params.get("in_reply_to_id"),
        media_ids=tuple(int(m) for m in params.get("media_ids") or ()),
        application_id=params.get("application_id"),
        idempotency_key=params.get("idempotency_key"),
        poll=(
            PollSpec(
                options=tuple(poll["options"]),
                expires_in=int(poll["expires_in"]),
                multiple=bool(poll.get("multiple")),
                hide_totals=bool(poll.get("hide_totals")),
            )
            if poll
            else None
        ),
        quoted_status_id=params.get("quoted_status_id"),
        quote_approval_policy=params.get("quote_approval_policy"),
        reply_policy=params.get("reply_policy"),
    )


def _check_time(work: Work, scheduled_at: datetime) -> None:
    lead = work.settings.scheduled_min_lead
    if scheduled_at < work.now() + timedelta(seconds=lead):
        raise Invalid(
            f"Validation failed: scheduled_at: must be at least {lead // 60} minutes in the future"
        )


def schedule(work: Work, author_id: int, new: NewStatus, scheduled_at: datetime) -> ScheduledRow:
    _check_time(work, scheduled_at)
    store = work.store
    if store.scheduled.count(author_id) >= MAX_SCHEDULED:
        raise Invalid(f"Validation failed: at most {MAX_SCHEDULED} scheduled posts")
    day = scheduled_at.date()
    same_day = [
        r
        for r in store.scheduled.page(
            author_id, max_id=None, since_id=None, min_id=None, limit=MAX_SCHEDULED
        )
        if r.scheduled_at.date() == day
    ]
    if len(same_day) >= MAX_PER_DAY:
        raise Invalid(f"Validation failed: at most {MAX_PER_DAY} posts scheduled on one day")
    check_status(work, author_id, new)  # the same checks as posting now; again at publication
    sid = store.scheduled.insert(author_id, scheduled_at, params_of(new), new.media_ids, work.now())
    row = store.scheduled.get(author_id, sid)
    assert row is not None
    return row


def get(work: Work, account_id: int, scheduled_id: int) -> ScheduledRow:
    row = work.store.scheduled.get(account_id, scheduled_id)
    if row is None:
        raise NotFound("Record not found")
    return row


def reschedule(
    work: Work, account_id: int, scheduled_id: int, scheduled_at: datetime
) -> ScheduledRow:
    get(work, account_id, scheduled_id)
    _check_time(work, scheduled_at)
    work.store.scheduled.reschedule(scheduled_id, scheduled_at)
    return get(work, account_id, scheduled_id)


def cancel(work: Work, account_id: int, scheduled_id: int) -> None:
    get(work, account_id, scheduled_id)
    work.store.scheduled.delete(scheduled_id)  # its media reservations go with it


def publish_due(work: Work, limit: int = 100) -> int:
    """The periodic job: publish scheduled posts whose time has come, then announce ended polls.

    A scheduled post that no longer passes the checks (the replied-to post is gone, replies are
    now limited…) is dropped, as Mastodon does; every check runs before anything is written."""
    published = 0
    for row in work.store.scheduled.due(work.now(), limit):
        work.store.scheduled.delete(row.id)  # releases its media for the post itself
        try:
            create_status(work, row.account_id, new_status_of(row.params))
            published += 1
        except DomainError as exc:
            log.info("scheduled status %s dropped: %s", row.id, exc.message)
    polls.announce_ended(work)
    return published
