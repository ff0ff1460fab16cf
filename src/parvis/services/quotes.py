"""Quote posts (Mastodon 4.5): who quoted a status, revoking a quote, the quote policy."""

from __future__ import annotations

from parvis.domain.errors import Invalid, NotFound
from parvis.domain.models import Status
from parvis.domain.visibility import Visibility
from parvis.services.context import Work
from parvis.services.posting import QUOTE_POLICIES
from parvis.services.timelines import Paging, StatusPage, flags_for, visible


def own_status(work: Work, account_id: int, status_id: int) -> Status:
    """One of the account's own statuses (not a boost); others' are simply not found."""
    status = work.store.statuses.get(status_id)
    if status is None or status.reblog_of_id is not None or status.account.id != account_id:
        raise NotFound("Record not found")
    return status


def quotes_of(work: Work, account_id: int, status_id: int, paging: Paging) -> StatusPage:
    """Accepted quotes of one of my statuses, newest first, as the viewer may see them."""
    own_status(work, account_id, status_id)
    ids = work.store.quotes.quoting_ids(status_id, **paging.kw())
    if paging.min_id is not None:
        ids = sorted(ids, reverse=True)
    found = visible(work, account_id, ids)
    return StatusPage(
        found, flags_for(work, account_id, found), ids[0] if ids else None, ids[-1] if ids else None
    )


def revoke(work: Work, account_id: int, status_id: int, quoting_status_id: int) -> Status:
    """The quoted author withdraws a quote of their status: the quote shows as revoked."""
    own_status(work, account_id, status_id)
    found = work.store.quotes.of(quoting_status_id)
    if found is None or found[1] != status_id:
        raise NotFound("Record not found")
    if found[0] == "accepted":
        work.store.quotes.set_state(quoting_status_id, "revoked")
        work.store.statuses.adjust_counts(status_id, quotes_count=-1)
    quoting = work.store.statuses.get(quoting_status_id)
    assert quoting is not None
    return quoting


def set_policy(work: Work, account_id: int, status_id: int, policy: str | None) -> Status:
    status = own_status(work, account_id, status_id)
    if policy is None:
        return status
    if policy not in QUOTE_POLICIES:
        raise Invalid(
            "Validation failed: quote_approval_policy: one of " + ", ".join(QUOTE_POLICIES)
        )
    if status.visibility in (Visibility.PRIVATE, Visibility.DIRECT):
        policy = "nobody"  # ignored for private posts, as in Mastodon
    work.store.statuses.update(status.id, {"quote_policy": policy})
    refreshed = work.store.statuses.get(status.id)
    assert refreshed is not None
    return refreshed
