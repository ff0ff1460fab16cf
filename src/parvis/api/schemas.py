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
