"""Entities as storage hands them to services and edges: plain frozen dataclasses."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime

from parvis.domain.filters import FilterMatch
from parvis.domain.visibility import PostFacts, Visibility


@dataclass(frozen=True)
class ProfileField:
    name: str
    value: str  # source text
    value_html: str = ""
    verified_at: datetime | None = None


@dataclass(frozen=True)
class Account:
    id: int
    username: str
    domain: str | None
    display_name: str
    note: str
    note_html: str
    fields: tuple[ProfileField, ...]
    locked: bool
    bot: bool
    discoverable: bool
    indexable: bool
    hide_collections: bool
    uri: str
    url: str
    avatar_media_id: int | None
    header_media_id: int | None
    statuses_count: int
    followers_count: int
    following_count: int
    last_status_at: datetime | None
    suspended: bool
    created_at: datetime
    updated_at: datetime
    avatar_key: str | None = None
    header_key: str | None = None
    suspended_until: datetime | None = None  # a temporary suspension ends by itself
    notices_suspended_until: datetime | None = None  # DSA art. 23(2)
    moved_to_account_id: int | None = None  # the account moved there (Move, alsoKnownAs)
    moved_to: Account | None = None  # loaded by AccountStore.get / get_many only
    # Labels confirmed by the moderators ("automated", "coordinated"), loaded with the account;
    # the self-declared `bot` is the flag above (parvis.domain.labels.vocabulary).
    labels: tuple[str, ...] = ()

    @property
    def local(self) -> bool:
        return self.domain is None

    @property
    def acct(self) -> str:
        return self.username if self.domain is None else f"{self.username}@{self.domain}"


@dataclass(frozen=True)
class User:
    account_id: int
    email: str
    role: str
    approved: bool
    confirmed: bool
    disabled: bool
    locale: str
    default_visibility: Visibility
    default_sensitive: bool
    default_language: str | None
    created_at: datetime

    @property
    def is_moderator(self) -> bool:
        return self.role in ("moderator", "admin")

    @property
    def is_admin(self) -> bool:
        return self.role == "admin"


@dataclass(frozen=True)
class Media:
    id: int
    account_id: int
    status_id: int | None
    type: str
    state: str
    file_key: str | None
    thumb_key: str | None
    mime: str | None
    remote_url: str | None
    width: int | None
    height: int | None
    thumb_width: int | None
    thumb_height: int | None
    blurhash: str | None
    description: str | None
    focus_x: float
    focus_y: float
    error: str | None
    created_at: datetime


@dataclass(frozen=True)
class Mention:
    account_id: int
    username: str
    domain: str | None
    url: str

    @property
    def acct(self) -> str:
        return self.username if self.domain is None else f"{self.username}@{self.domain}"


@dataclass(frozen=True)
class Status:
    id: int
    account: Account
    uri: str
    url: str | None
    local: bool
    in_reply_to_id: int | None
    in_reply_to_account_id: int | None
    reblog_of_id: int | None
    text: str
    content: str
    spoiler_text: str
    sensitive: bool
    visibility: Visibility
    language: str | None
    application_id: int | None
    replies_count: int
    reblogs_count: int
    favourites_count: int
    created_at: datetime
    edited_at: datetime | None
    media: tuple[Media, ...] = ()
    mentions: tuple[Mention, ...] = ()
    tags: tuple[str, ...] = ()
    reblog: Status | None = None
    application_name: str | None = None
    application_website: str | None = None
    reply_policy: str = "everyone"  # everyone | followers | mentioned (Parvis extension)
    quote_policy: str = "public"  # public | followers | nobody (Mastodon 4.5)
    quotes_count: int = 0
    poll: Poll | None = None
    quote: Quote | None = None
    # A moderation decision in force on the post (parvis.domain.moderation ACTIONS), if any.
    restriction: str | None = None
    restriction_label: str = ""

    @property
    def facts(self) -> PostFacts:
        return PostFacts(
            author_id=self.account.id,
            visibility=self.visibility,
            mentioned_ids=frozenset(m.account_id for m in self.mentions),
            author_suspended=self.account.suspended,
            withheld=self.restriction in ("disable", "remove"),
            adults_only=self.restriction == "age_restrict",
        )

    @property
    def warning_text(self) -> str:
        """The content warning readers see: a moderators' label comes first."""
        if self.restriction == "label" and self.restriction_label:
            if self.spoiler_text:
                return f"{self.restriction_label} — {self.spoiler_text}"
            return self.restriction_label
        return self.spoiler_text

    @property
    def marked_sensitive(self) -> bool:
        return self.sensitive or self.restriction in ("label", "age_restrict")

    @property
    def interactions_restricted(self) -> bool:
        """Moderators restricted replies, boosts, quotes and favourites (the author keeps
        them)."""
        return self.restriction == "restrict_interactions"


@dataclass(frozen=True)
class Poll:
    id: int
    status_id: int
    options: tuple[str, ...]
    votes: tuple[int, ...]  # votes per option, same order
    voters_count: int
    multiple: bool
    hide_totals: bool
    expires_at: datetime
    created_at: datetime

    @property
    def votes_count(self) -> int:
        return sum(self.votes)

    def expired(self, now: datetime) -> bool:
        return self.expires_at <= now


@dataclass(frozen=True)
class Quote:
    """A status quoting another: `state` is accepted, revoked or deleted (quoted status gone)."""

    state: str
    quoted_status_id: int | None
    quoted_status: Status | None = None


@dataclass(frozen=True)
class ViewerFlags:
    """What the viewer has done to a status (for favourited/reblogged/... in the API)."""

    favourited: frozenset[int] = field(default_factory=frozenset)
    reblogged: frozenset[int] = field(default_factory=frozenset)
    bookmarked: frozenset[int] = field(default_factory=frozenset)
    pinned: frozenset[int] = field(default_factory=frozenset)
    muted_threads: frozenset[int] = field(default_factory=frozenset)
    # Filters v2 results by status id (a boost and its boosted status both), for `filtered`.
    filtered: Mapping[int, tuple[FilterMatch, ...]] = field(default_factory=dict)
    poll_votes: Mapping[int, tuple[int, ...]] = field(default_factory=dict)  # poll id -> choices
    # The community note shown on each status (its original's for a boost), for everyone.
    notes: Mapping[int, ShownNote] = field(default_factory=dict)


@dataclass(frozen=True)
class ShownNote:
    """The community note shown on a post: rated helpful by raters who usually disagree
    (parvis.services.notes.shown_on)."""

    id: int
    summary: str
    sources: tuple[str, ...]
    rating_status: str


@dataclass(frozen=True)
class Relationship:
    id: int
    following: bool
    showing_reblogs: bool
    notifying: bool
    languages: tuple[str, ...] | None
    followed_by: bool
    blocking: bool
    blocked_by: bool
    muting: bool
    muting_notifications: bool
    requested: bool
    requested_by: bool
    domain_blocking: bool
    endorsed: bool
    note: str


@dataclass(frozen=True)
class ModerationWarning:
    """What a `moderation_warning` notification tells the author about a decision (Mastodon's
    AccountWarning), with the way to the full statement of reasons."""

    decision_id: int
    action: str  # parvis.domain.moderation ACTIONS key
    explanation: str
    status_ids: tuple[int, ...]
    created_at: datetime
    reversed: bool
    appeal_text: str = ""
    appeal_state: str = ""  # "" | pending | approved | rejected


@dataclass(frozen=True)
class Notification:
    id: int
    type: str
    created_at: datetime
    account: Account
    status: Status | None
    warning: ModerationWarning | None = None
