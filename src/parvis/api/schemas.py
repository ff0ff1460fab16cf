"""Response shapes for the OpenAPI document (what clients and schemathesis check against).

Handlers build plain dicts for speed; these models document them. Extra keys are allowed,
as in Mastodon's own document, so additions never break clients.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict


class _Open(BaseModel):
    model_config = ConfigDict(extra="allow")


class Error(_Open):
    error: str
    error_description: str | None = None


class Field(_Open):
    name: str
    value: str
    verified_at: str | None


class Account(_Open):
    id: str
    username: str
    acct: str
    display_name: str
    locked: bool
    bot: bool
    discoverable: bool | None
    indexable: bool
    group: bool
    created_at: str
    note: str
    url: str
    uri: str
    avatar: str
    avatar_static: str
    header: str
    header_static: str
    followers_count: int
    following_count: int
    statuses_count: int
    last_status_at: str | None
    hide_collections: bool | None
    emojis: list[dict[str, Any]]
    fields: list[Field]


class CredentialAccount(Account):
    source: dict[str, Any]


class MediaAttachment(_Open):
    id: str
    type: str
    url: str | None
    preview_url: str | None
    remote_url: str | None
    meta: dict[str, Any] | None
    description: str | None
    blurhash: str | None


class StatusMention(_Open):
    id: str
    username: str
    url: str
    acct: str


class Tag(_Open):
    name: str
    url: str


class Status(_Open):
    id: str
    created_at: str
    in_reply_to_id: str | None
    in_reply_to_account_id: str | None
    sensitive: bool
    spoiler_text: str
    visibility: str
    language: str | None
    uri: str
    url: str | None
    replies_count: int
    reblogs_count: int
    favourites_count: int
    edited_at: str | None
    content: str
    reblog: Status | None
    application: dict[str, Any] | None
    account: Account
    media_attachments: list[MediaAttachment]
    mentions: list[StatusMention]
    tags: list[Tag]
    emojis: list[dict[str, Any]]
    card: dict[str, Any] | None
    poll: dict[str, Any] | None


class Context(_Open):
    ancestors: list[Status]
    descendants: list[Status]


class Relationship(_Open):
    id: str
    following: bool
    showing_reblogs: bool
    notifying: bool
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


class Notification(_Open):
    id: str
    type: str
    created_at: str
    account: Account
    status: Status | None


class Application(_Open):
    id: str | None = None
    name: str
    website: str | None
    redirect_uri: str | None = None
    redirect_uris: list[str] | None = None
    scopes: list[str] | None = None
    client_id: str | None = None
    client_secret: str | None = None


class Token(_Open):
    access_token: str
    token_type: str
    scope: str
    created_at: int


class SearchResults(_Open):
    accounts: list[Account]
    statuses: list[Status]
    hashtags: list[Tag]


class Empty(_Open):
    pass


# --- polls, edits, scheduled posts (statuses extended, engineer A) ---


class PollOption(_Open):
    title: str
    votes_count: int | None


class Poll(_Open):
    id: str
    expires_at: str | None
    expired: bool
    multiple: bool
    votes_count: int
    voters_count: int | None
    options: list[PollOption]
    emojis: list[dict[str, Any]]
    voted: bool | None = None
    own_votes: list[int] | None = None


class StatusEdit(_Open):
    content: str
    spoiler_text: str
    sensitive: bool
    created_at: str
    account: Account
    poll: dict[str, Any] | None
    media_attachments: list[MediaAttachment]
    emojis: list[dict[str, Any]]


class StatusSource(_Open):
    id: str
    text: str
    spoiler_text: str


class ScheduledStatus(_Open):
    id: str
    scheduled_at: str
    params: dict[str, Any]
    media_attachments: list[MediaAttachment]


# --- conversations, grouped notifications, announcements, trends, suggestions (engineer D) ---


class Conversation(_Open):
    id: str
    unread: bool
    accounts: list[Account]
    last_status: Status | None


class NotificationGroup(_Open):
    group_key: str
    notifications_count: int
    type: str
    most_recent_notification_id: int
    page_min_id: str | None
    page_max_id: str | None
    latest_page_notification_at: str | None
    sample_account_ids: list[str]
    status_id: str | None


class GroupedNotificationsResults(_Open):
    accounts: list[Account]
    statuses: list[Status]
    notification_groups: list[NotificationGroup]
    partial_accounts: list[dict[str, Any]] | None = None


class NotificationPolicySummary(_Open):
    pending_requests_count: int
    pending_notifications_count: int


class NotificationPolicy(_Open):
    for_not_following: str
    for_not_followers: str
    for_new_accounts: str
    for_private_mentions: str
    for_limited_accounts: str
    summary: NotificationPolicySummary


class NotificationRequest(_Open):
    id: str
    created_at: str
    updated_at: str
    notifications_count: str
    account: Account
    last_status: Status | None


class Reaction(_Open):
    name: str
    count: int
    me: bool | None


class Announcement(_Open):
    id: str
    content: str
    starts_at: str | None
    ends_at: str | None
    all_day: bool
    published_at: str
    updated_at: str
    read: bool | None
    mentions: list[StatusMention]
    statuses: list[dict[str, Any]]
    tags: list[Tag]
    emojis: list[dict[str, Any]]
    reactions: list[Reaction]


class TagHistory(_Open):
    day: str
    uses: str
    accounts: str


class TrendingTag(Tag):
    id: str
    history: list[TagHistory]


class Suggestion(_Open):
    source: str
    sources: list[str]
    account: Account
    parvis_reason: dict[str, Any]


# --- Lists, filters, markers, familiar followers (engineer B) ---


class List(_Open):
    id: str
    title: str
    replies_policy: str
    exclusive: bool


class FilterKeyword(_Open):
    id: str
    keyword: str
    whole_word: bool


class FilterStatus(_Open):
    id: str
    status_id: str


class Filter(_Open):
    id: str
    title: str
    context: list[str]
    expires_at: str | None
    filter_action: str
    keywords: list[FilterKeyword] | None = None
    statuses: list[FilterStatus] | None = None


class V1Filter(_Open):
    id: str
    phrase: str
    context: list[str]
    whole_word: bool
    expires_at: str | None
    irreversible: bool


class Marker(_Open):
    last_read_id: str
    version: int
    updated_at: str


class FamiliarFollowers(_Open):
    id: str
    accounts: list[Account]


# --- Ranked feeds: the open algorithm (issue 7) ---


class FeedSummary(_Open):
    name: str
    title: str
    version: str
    summary: str
    url: str


class FeedInput(_Open):
    name: str
    description: str


class FeedParameter(_Open):
    name: str
    default: float
    min: float
    max: float
    description: str


class FeedAlgorithm(_Open):
    name: str
    title: str
    version: str
    summary: str
    candidates: str
    inputs: list[FeedInput]
    parameters: list[FeedParameter]


class ExplanationPart(_Open):
    signal: str
    value: float
    weight: float
    contribution: float
    text: str


class Explanation(_Open):
    feed: str
    version: str
    rank: int
    score: float
    parts: list[ExplanationPart]
    source: str
    summary: str


class RankedStatus(Status):
    explanation: Explanation


class FeedWeights(_Open):
    feed: str
    weights: dict[str, float]
    custom: dict[str, float]
