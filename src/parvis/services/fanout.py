"""Home-feed fan-out on write: put a new status into the precomputed feed of every local reader."""

from __future__ import annotations

from parvis.domain.visibility import feed_recipients
from parvis.services import streaming
from parvis.services.context import Work
from parvis.services.timelines import Paging, account_statuses


def fan_out(work: Work, status_id: int) -> int:
    """Insert the status into its local recipients' home feeds; returns the number of feeds."""
    store = work.store
    status = store.statuses.get(status_id)
    if status is None:
        return 0
    author = status.account.id
    followers = store.social.local_follower_ids(author)
    if status.reblog is not None:
        hiding = store.social.followers_hiding_reblogs(author)
        followers = [f for f in followers if f not in hiding and f != status.reblog.account.id]
    recipients = feed_recipients(status.facts, followers, store.social.blocked_with(author))
    if status.reblog is not None:
        # Boosts exist only of public/unlisted posts or of one's own, so "as a follower of the
        # original author" is exact here; it applies the original author's blocks too.
        original = status.reblog
        recipients &= feed_recipients(
            original.facts, followers, store.social.blocked_with(original.account.id)
        ) | {author}
        # Like Mastodon: a boost of something already in your feed (the post itself or another
        # boost of it) is not added again.
        others = [rid for rid, _ in store.statuses.reblogs_of(original.id) if rid != status.id]
        recipients -= store.feeds.holders([original.id, *others], recipients)
    if status.reblog is None and status.tags and status.visibility.value == "public":
        # Followed hashtags: a public post also reaches those following one of its tags.
        tag_followers = store.tag_follows.local_followers_of_status_tags(status.id)
        if tag_followers:
            recipients |= feed_recipients(
                status.facts, tag_followers, store.social.blocked_with(author)
            )
    if not status.account.local:
        recipients.discard(author)
    streaming.status_created(work, status, recipients)
    return store.feeds.push(status.id, author, recipients)


def backfill(work: Work, account_id: int, author_id: int, limit: int = 40) -> int:
    """After a new follow: the followee's recent posts into the follower's feed."""
    page = account_statuses(work, account_id, author_id, Paging(limit=limit))
    ids = [s.id for s in page.statuses if s.reblog is None or s.reblog.account.id != account_id]
    work.store.feeds.add_author(account_id, author_id, ids)
    return len(ids)
