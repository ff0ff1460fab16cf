"""Who may see what: the one rule used by every read path.

Every read path (timelines, a status, its thread, notifications, search, profiles) loads the
candidates, builds a Viewer for the accounts involved, and keeps only what `may_see` allows.
SQL may pre-filter for speed, but this function has the last word.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from enum import StrEnum


class Visibility(StrEnum):
    PUBLIC = "public"
    UNLISTED = "unlisted"
    PRIVATE = "private"  # followers only
    DIRECT = "direct"  # mentioned accounts only

    @classmethod
    def parse(cls, value: str) -> Visibility | None:
        try:
            return cls(value)
        except ValueError:
            return None


@dataclass(frozen=True)
class Viewer:
    """What we know of the reader, relative to the authors at hand.

    `following`, `blocking` and `blocked_by` need only cover the authors being looked at.
    """

    account_id: int | None
    following: frozenset[int] = field(default_factory=frozenset)
    blocking: frozenset[int] = field(default_factory=frozenset)
    blocked_by: frozenset[int] = field(default_factory=frozenset)

    @property
    def anonymous(self) -> bool:
        return self.account_id is None

    def blocked_with(self, account_id: int) -> bool:
        """True when either side blocks the other."""
        return account_id in self.blocking or account_id in self.blocked_by


ANONYMOUS = Viewer(account_id=None)


@dataclass(frozen=True)
class PostFacts:
    """The facts about a post that visibility depends on."""

    author_id: int
    visibility: Visibility
    mentioned_ids: frozenset[int] = field(default_factory=frozenset)
    author_suspended: bool = False
    withheld: bool = False  # disabled or removed by a moderation decision
    adults_only: bool = False  # age-restricted by a moderation decision: signed-in readers only


def may_see(viewer: Viewer, post: PostFacts) -> bool:
    if viewer.account_id == post.author_id:
        return True
    if post.author_suspended or post.withheld:
        return False
    if post.adults_only and viewer.account_id is None:
        return False
    if viewer.account_id is not None and viewer.blocked_with(post.author_id):
        return False
    match post.visibility:
        case Visibility.PUBLIC | Visibility.UNLISTED:
            return True
        case Visibility.PRIVATE:
            return viewer.account_id is not None and (
                post.author_id in viewer.following or viewer.account_id in post.mentioned_ids
            )
        case Visibility.DIRECT:
            return viewer.account_id is not None and viewer.account_id in post.mentioned_ids
    return False


def may_see_boost(viewer: Viewer, boost: PostFacts, original: PostFacts) -> bool:
    """A boost is shown only when both the boost and the boosted post may be seen."""
    return may_see(viewer, boost) and may_see(viewer, original)


def may_boost(author_id: int, original: PostFacts) -> bool:
    """Public and unlisted posts can be boosted; followers-only only by their author."""
    if original.visibility in (Visibility.PUBLIC, Visibility.UNLISTED):
        return True
    return original.visibility is Visibility.PRIVATE and original.author_id == author_id


def feed_recipients(
    post: PostFacts, follower_ids: Iterable[int], blocked_with_author: Iterable[int]
) -> set[int]:
    """Which local home feeds a new post goes into (the author's own included).

    Followers get public, unlisted and followers-only posts; mentioned accounts that follow the
    author get direct posts. Anyone who blocks or is blocked by the author gets nothing.
    """
    excluded = set(blocked_with_author)
    recipients = {post.author_id}
    for follower in follower_ids:
        if follower in excluded:
            continue
        viewer = Viewer(account_id=follower, following=frozenset({post.author_id}))
        if may_see(viewer, post):
            recipients.add(follower)
    return recipients
