"""Muting a conversation: no more notifications about a thread one takes part in."""

from __future__ import annotations

from parvis.domain.errors import Invalid
from parvis.domain.models import Status
from parvis.services.context import Work
from parvis.services.posting import visible_status


def _thread(work: Work, account_id: int, status_id: int) -> tuple[Status, int]:
    """The status (a boost stands for the boosted status) and its thread's root id."""
    found = visible_status(work, account_id, status_id)
    status = found.reblog or found
    return status, work.store.statuses.thread_root_of(status.id) or status.id


def mute(work: Work, account_id: int, status_id: int) -> Status:
    """Mute the thread of a status; the viewer must have written or been mentioned in it."""
    status, root = _thread(work, account_id, status_id)
    if not work.store.interactions.takes_part(account_id, root):
        raise Invalid(
            "Validation failed: you can only mute a conversation you take part in "
            "(you wrote or were mentioned in one of its posts)"
        )
    work.store.interactions.mute_thread(account_id, root, work.now())
    return status


def unmute(work: Work, account_id: int, status_id: int) -> Status:
    status, root = _thread(work, account_id, status_id)
    work.store.interactions.unmute_thread(account_id, root)
    return status
