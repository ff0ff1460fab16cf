"""Favourite, bookmark and pin a status."""

from __future__ import annotations

from parvis.domain.errors import Invalid
from parvis.domain.models import Status
from parvis.domain.visibility import Visibility
from parvis.services import federate
from parvis.services.context import Work
from parvis.services.posting import check_interactions_allowed, visible_status

MAX_PINS = 5


def _target(work: Work, account_id: int, status_id: int) -> Status:
    status = visible_status(work, account_id, status_id)
    return status.reblog or status


def _reload(work: Work, status_id: int) -> Status:
    status = work.store.statuses.get(status_id)
    assert status is not None
    return status


def favourite(work: Work, account_id: int, status_id: int) -> Status:
    status = _target(work, account_id, status_id)
    check_interactions_allowed(account_id, status)
    if work.store.interactions.add("favourites", account_id, status.id, work.now()):
        work.store.statuses.adjust_counts(status.id, favourites_count=1)
        federate.favourited(work, account_id, status)
        if status.account.id != account_id and status.account.local:
            work.later(
                "notify",
                recipient_id=status.account.id,
                from_id=account_id,
                type="favourite",
                status_id=status.id,
            )
    return _reload(work, status.id)


def unfavourite(work: Work, account_id: int, status_id: int) -> Status:
    status = _target(work, account_id, status_id)
    federate.unfavourited(work, account_id, status)
    if work.store.interactions.remove("favourites", account_id, status.id):
        work.store.statuses.adjust_counts(status.id, favourites_count=-1)
        work.store.notifications.remove_about(status.account.id, account_id, "favourite", status.id)
    return _reload(work, status.id)


def bookmark(work: Work, account_id: int, status_id: int) -> Status:
    status = _target(work, account_id, status_id)
    work.store.interactions.add("bookmarks", account_id, status.id, work.now())
    return status


def unbookmark(work: Work, account_id: int, status_id: int) -> Status:
    status = _target(work, account_id, status_id)
    work.store.interactions.remove("bookmarks", account_id, status.id)
    return status


def pin(work: Work, account_id: int, status_id: int) -> Status:
    status = visible_status(work, account_id, status_id)
    if status.account.id != account_id or status.reblog_of_id is not None:
        raise Invalid("Validation failed: you can only pin your own posts")
    if status.visibility in (Visibility.DIRECT, Visibility.PRIVATE):
        raise Invalid("Validation failed: private and direct posts cannot be pinned")
    if work.store.interactions.count("pins", account_id) >= MAX_PINS:
        raise Invalid(f"Validation failed: you can pin at most {MAX_PINS} posts")
    work.store.interactions.add("pins", account_id, status.id, work.now())
    return status


def unpin(work: Work, account_id: int, status_id: int) -> Status:
    status = visible_status(work, account_id, status_id)
    work.store.interactions.remove("pins", account_id, status.id)
    return status
