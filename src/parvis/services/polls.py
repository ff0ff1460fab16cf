"""Polls: voting, the viewer's own votes, and announcing the end of a poll."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace

from parvis.domain.errors import Invalid, NotFound
from parvis.domain.models import Status, ViewerFlags
from parvis.services.context import Work
from parvis.services.posting import visible_status


def poll_status(work: Work, viewer_id: int | None, poll_id: int) -> Status:
    """The status carrying a poll the viewer may see, or NotFound."""
    status_id = work.store.polls.status_id(poll_id)
    if status_id is None:
        raise NotFound("Record not found")
    status = visible_status(work, viewer_id, status_id)
    if status.poll is None:
        raise NotFound("Record not found")
    return status


def vote(work: Work, account_id: int, poll_id: int, choices: Sequence[int]) -> Status:
    status = poll_status(work, account_id, poll_id)
    poll = status.poll
    assert poll is not None
    # Mastodon's wording (VoteValidator), which clients such as toot match on.
    if poll.expired(work.now()):
        raise Invalid("Validation failed: The poll has already ended")
    if status.account.id == account_id:
        raise Invalid("Validation failed: You cannot vote in your own polls")
    if work.store.polls.own_votes(account_id, [poll.id]):
        raise Invalid("Validation failed: You have already voted on this poll")
    wanted = list(dict.fromkeys(choices))
    if not wanted:
        raise Invalid("Validation failed: choices: choose at least one option")
    if any(c < 0 or c >= len(poll.options) for c in wanted):
        raise Invalid("Validation failed: The chosen vote option does not exist")
    if len(wanted) > 1 and not poll.multiple:
        raise Invalid("Validation failed: choices: this poll allows a single choice")
    work.store.polls.add_votes(poll.id, account_id, wanted, work.now())
    refreshed = work.store.statuses.get(status.id)
    assert refreshed is not None
    return refreshed


def with_votes(
    work: Work, viewer_id: int | None, statuses: Sequence[Status], flags: ViewerFlags
) -> ViewerFlags:
    """`flags` plus the viewer's own votes on the polls of these statuses (boosted and quoted
    ones included)."""
    poll_ids = []
    for s in statuses:
        for st in (s, s.reblog, s.quote.quoted_status if s.quote else None):
            if st is not None and st.poll is not None:
                poll_ids.append(st.poll.id)
        if s.reblog is not None and s.reblog.quote and s.reblog.quote.quoted_status:
            quoted = s.reblog.quote.quoted_status
            if quoted.poll is not None:
                poll_ids.append(quoted.poll.id)
    if viewer_id is None or not poll_ids:
        return flags
    return replace(flags, poll_votes=work.store.polls.own_votes(viewer_id, poll_ids))


def announce_ended(work: Work, limit: int = 200) -> int:
    """Polls that ended: a `poll` notification to each voter and to the author (once)."""
    sent = 0
    now = work.now()
    for poll_id, status_id, author_id in work.store.polls.ended_unnotified(now, limit):
        work.store.polls.mark_notified(poll_id, now)
        for recipient in [author_id, *work.store.polls.voter_ids(poll_id)]:
            work.later(
                "notify",
                recipient_id=recipient,
                from_id=author_id,
                type="poll",
                status_id=status_id,
            )
            sent += 1
    return sent
