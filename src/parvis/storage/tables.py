"""The schema, as SQLAlchemy Core tables: one definition for SQLite and PostgreSQL. One file on
purpose (over 600 lines): the whole schema read in one place, in sections by migration.

Federation-ready: every account and status has a canonical `uri`; remote ones are ordinary rows
with a `domain` (accounts) or `local = false` (statuses). Ids are time-ordered 64-bit integers
(see parvis.domain.ids), so paging is by primary key.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
    false,
)
from sqlalchemy.engine import Dialect
from sqlalchemy.types import TypeDecorator


class UTCDateTime(TypeDecorator[datetime]):
    """Timestamps are stored in UTC and always come back timezone-aware, on every backend."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: Any, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to the database")
        moment: datetime = value.astimezone(UTC)
        return moment.replace(tzinfo=None) if dialect.name == "sqlite" else moment

    def process_result_value(self, value: Any, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        moment: datetime = value
        return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


metadata = MetaData(
    naming_convention={
        "ix": "ix_%(table_name)s_%(column_0_N_name)s",
        "uq": "uq_%(table_name)s_%(column_0_N_name)s",
        "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
        "pk": "pk_%(table_name)s",
        "ck": "ck_%(table_name)s_%(constraint_name)s",
    }
)

ID = BigInteger
TS = UTCDateTime


def _account_fk(
    name: str = "account_id", *, nullable: bool = False, index: bool = True
) -> Column[int]:
    return Column(
        name, ID, ForeignKey("accounts.id", ondelete="CASCADE"), nullable=nullable, index=index
    )


def _status_fk(
    name: str = "status_id", *, nullable: bool = False, index: bool = True
) -> Column[int]:
    return Column(
        name, ID, ForeignKey("statuses.id", ondelete="CASCADE"), nullable=nullable, index=index
    )


accounts = Table(
    "accounts",
    metadata,
    Column("id", ID, primary_key=True, autoincrement=False),
    Column("username", String(64), nullable=False),
    Column("domain", String(255), nullable=True),  # NULL for local accounts
    Column(
        "acct_key", String(320), nullable=False, unique=True
    ),  # lower(username)@lower(domain|"")
    Column("display_name", String(120), nullable=False, default=""),
    Column("note", Text, nullable=False, default=""),  # source text
    Column("note_html", Text, nullable=False, default=""),
    Column("fields_json", Text, nullable=False, default="[]"),
    Column("avatar_media_id", ID, nullable=True),
    Column("header_media_id", ID, nullable=True),
    Column("locked", Boolean, nullable=False, default=False),
    Column("bot", Boolean, nullable=False, default=False),
    Column("discoverable", Boolean, nullable=False, default=True),
    Column("indexable", Boolean, nullable=False, default=True),
    Column("hide_collections", Boolean, nullable=False, default=False),
    Column("uri", String(2048), nullable=False, unique=True),
    Column("url", String(2048), nullable=False),
    Column("inbox_uri", String(2048), nullable=True),
    Column("shared_inbox_uri", String(2048), nullable=True),
    Column("public_key_pem", Text, nullable=True),
    Column("private_key_pem", Text, nullable=True),
    Column("statuses_count", Integer, nullable=False, default=0),
    Column("followers_count", Integer, nullable=False, default=0),
    Column("following_count", Integer, nullable=False, default=0),
    Column("last_status_at", TS, nullable=True),
    Column("suspended_at", TS, nullable=True),
    Column("moved_to_account_id", ID, nullable=True),
    Column("created_at", TS, nullable=False),
    Column("updated_at", TS, nullable=False),
    # Federation (0011): what a remote actor document said, and when it was last fetched.
    Column("actor_type", String(16), nullable=True),  # Person (NULL) | Service | Group | ...
    Column("key_uri", String(2048), nullable=True, index=True),
    Column("outbox_uri", String(2048), nullable=True),
    Column("followers_uri", String(2048), nullable=True),
    Column("following_uri", String(2048), nullable=True),
    Column("featured_uri", String(2048), nullable=True),
    Column("fetched_at", TS, nullable=True),
)
Index("ix_accounts_domain_username", accounts.c.domain, accounts.c.username)

users = Table(
    "users",
    metadata,
    Column("account_id", ID, ForeignKey("accounts.id", ondelete="CASCADE"), primary_key=True),
    Column("email", String(320), nullable=False, unique=True),  # stored lowercased
    Column("password_hash", String(255), nullable=False),
    Column("role", String(16), nullable=False, default="user"),  # user | moderator | admin
    Column("approved", Boolean, nullable=False, default=True),
    Column("confirmed", Boolean, nullable=False, default=True),
    Column("disabled", Boolean, nullable=False, default=False),
    Column("locale", String(16), nullable=False, default="en"),
    Column("reason", Text, nullable=True),  # why they want to join (approval mode)
    Column("default_visibility", String(16), nullable=False, default="public"),
    Column("default_sensitive", Boolean, nullable=False, default=False),
    Column("default_language", String(8), nullable=True),
    Column("created_at", TS, nullable=False),
    # The user asked to delete their account: it is closed, and erased after this moment unless
    # they cancel (`account_deletion_grace_days`).
    Column("delete_after", TS, nullable=True, index=True),
    # The deletion request is what suspended the account (it was not suspended before):
    # cancelling lifts that suspension, and only that one (services/deletion.py).
    Column("closed_by_deletion", Boolean, nullable=False, default=False, server_default=false()),
)

oauth_apps = Table(
    "oauth_apps",
    metadata,
    Column("id", ID, primary_key=True, autoincrement=False),
    Column("name", String(255), nullable=False),
    Column("website", String(2048), nullable=True),
    Column("redirect_uris", Text, nullable=False),  # newline separated
    Column("scopes", String(1024), nullable=False),
    Column("client_id", String(64), nullable=False, unique=True),
    Column("client_secret_hash", String(64), nullable=False),
    Column("owner_account_id", ID, nullable=True),
    Column("created_at", TS, nullable=False),
)

oauth_codes = Table(
    "oauth_codes",
    metadata,
    Column("code_hash", String(64), primary_key=True),
    Column("app_id", ID, ForeignKey("oauth_apps.id", ondelete="CASCADE"), nullable=False),
    _account_fk(index=False),
    Column("scopes", String(1024), nullable=False),
    Column("redirect_uri", String(2048), nullable=False),
    Column("code_challenge", String(128), nullable=True),
    Column("code_challenge_method", String(8), nullable=True),
    Column("expires_at", TS, nullable=False),
)

oauth_tokens = Table(
    "oauth_tokens",
    metadata,
    Column("id", ID, primary_key=True, autoincrement=False),
    Column("token_hash", String(64), nullable=False, unique=True),
    Column("app_id", ID, ForeignKey("oauth_apps.id", ondelete="CASCADE"), nullable=True),
    _account_fk(nullable=True),  # NULL for client_credentials tokens
    Column("scopes", String(1024), nullable=False),
    Column("created_at", TS, nullable=False),
    Column("expires_at", TS, nullable=True),
    Column("revoked_at", TS, nullable=True),
    Column("last_used_at", TS, nullable=True),
)

media_attachments = Table(
    "media_attachments",
    metadata,
    Column("id", ID, primary_key=True, autoincrement=False),
    _account_fk(),
    Column(
        "status_id", ID, ForeignKey("statuses.id", ondelete="SET NULL"), nullable=True, index=True
    ),
    Column("type", String(16), nullable=False, default="image"),
    Column("state", String(16), nullable=False, default="ready"),  # pending | ready | failed
    Column("file_key", String(255), nullable=True),  # relative path under media_dir
    Column("thumb_key", String(255), nullable=True),
    Column("original_key", String(255), nullable=True),  # raw upload awaiting processing
    Column("mime", String(64), nullable=True),
    Column("remote_url", String(2048), nullable=True),
    Column("width", Integer, nullable=True),
    Column("height", Integer, nullable=True),
    Column("thumb_width", Integer, nullable=True),
    Column("thumb_height", Integer, nullable=True),
    Column("file_size", Integer, nullable=True),
    Column("blurhash", String(64), nullable=True),
    Column("description", Text, nullable=True),
    Column("focus_x", Float, nullable=False, default=0.0),
    Column("focus_y", Float, nullable=False, default=0.0),
    Column("error", Text, nullable=True),
    Column("created_at", TS, nullable=False),
)

statuses = Table(
    "statuses",
    metadata,
    Column("id", ID, primary_key=True, autoincrement=False),
    _account_fk(),
    Column("uri", String(2048), nullable=False, unique=True),
    Column("url", String(2048), nullable=True),
    Column("local", Boolean, nullable=False, default=True),
    Column("in_reply_to_id", ID, nullable=True, index=True),
    Column("in_reply_to_account_id", ID, nullable=True),
    Column(
        "reblog_of_id", ID, ForeignKey("statuses.id", ondelete="CASCADE"), nullable=True, index=True
    ),
    Column("thread_root_id", ID, nullable=True, index=True),
    Column("text", Text, nullable=False, default=""),  # source as typed
    Column("content", Text, nullable=False, default=""),  # rendered, sanitized HTML
    Column("spoiler_text", Text, nullable=False, default=""),
    Column("sensitive", Boolean, nullable=False, default=False),
    Column("visibility", String(16), nullable=False),  # public | unlisted | private | direct
    Column("language", String(8), nullable=True),
    Column("application_id", ID, nullable=True),
    Column("replies_count", Integer, nullable=False, default=0),
    Column("reblogs_count", Integer, nullable=False, default=0),
    Column("favourites_count", Integer, nullable=False, default=0),
    Column("created_at", TS, nullable=False),
    Column("edited_at", TS, nullable=True),
    # Federation (0011): the parent's URI when it is not (yet) known here.
    Column("in_reply_to_uri", String(2048), nullable=True),
)
Index("ix_statuses_account_id_id", statuses.c.account_id, statuses.c.id)
Index("ix_statuses_public_local", statuses.c.visibility, statuses.c.local, statuses.c.id)
Index("uq_statuses_reblog_once", statuses.c.account_id, statuses.c.reblog_of_id, unique=True)

status_mentions = Table(
    "status_mentions",
    metadata,
    _status_fk(index=False),
    _account_fk(),
    UniqueConstraint("status_id", "account_id"),
)

tags = Table(
    "tags",
    metadata,
    Column("id", ID, primary_key=True, autoincrement=False),
    Column("name", String(255), nullable=False, unique=True),  # normalized key
    Column("display_name", String(255), nullable=False),
    Column("created_at", TS, nullable=False),
)

status_tags = Table(
    "status_tags",
    metadata,
    _status_fk(index=False),
    Column("tag_id", ID, ForeignKey("tags.id", ondelete="CASCADE"), nullable=False),
    UniqueConstraint("status_id", "tag_id"),
)
Index("ix_status_tags_tag_status", status_tags.c.tag_id, status_tags.c.status_id)


def _edge(name: str, *extra: Column[Any]) -> Table:
    """An (account -> target account) relationship table."""
    return Table(
        name,
        metadata,
        Column("id", ID, primary_key=True, autoincrement=False),
        _account_fk(index=False),
        _account_fk("target_account_id"),
        Column("created_at", TS, nullable=False),
        *extra,
        UniqueConstraint("account_id", "target_account_id"),
    )


follows = _edge(
    "follows",
    Column("show_reblogs", Boolean, nullable=False, default=True),
    Column("notify", Boolean, nullable=False, default=False),
    Column("languages", String(255), nullable=True),
    Column("uri", String(2048), nullable=True),
)
follow_requests = _edge(
    "follow_requests",
    Column("show_reblogs", Boolean, nullable=False, default=True),
    Column("notify", Boolean, nullable=False, default=False),
    Column("uri", String(2048), nullable=True),
)
blocks = _edge("blocks", Column("uri", String(2048), nullable=True))
mutes = _edge(
    "mutes",
    Column("hide_notifications", Boolean, nullable=False, default=True),
    Column("expires_at", TS, nullable=True),
)


def _status_mark(name: str) -> Table:
    """An (account, status) mark: favourite, bookmark, pin."""
    return Table(
        name,
        metadata,
        Column("id", ID, primary_key=True, autoincrement=False),
        _account_fk(index=False),
        _status_fk(),
        Column("created_at", TS, nullable=False),
        UniqueConstraint("account_id", "status_id"),
    )


favourites = _status_mark("favourites")
bookmarks = _status_mark("bookmarks")
status_pins = _status_mark("status_pins")

notifications = Table(
    "notifications",
    metadata,
    Column("id", ID, primary_key=True, autoincrement=False),
    _account_fk(index=False),  # recipient
    _account_fk("from_account_id"),
    Column("type", String(32), nullable=False),
    _status_fk(nullable=True),
    Column("created_at", TS, nullable=False),
)
Index("ix_notifications_account_id_id", notifications.c.account_id, notifications.c.id)

# Precomputed home feeds (fan-out on write), capped per account. Redis replaces it at scale.
home_feed = Table(
    "home_feed",
    metadata,
    Column("account_id", ID, ForeignKey("accounts.id", ondelete="CASCADE"), primary_key=True),
    Column("status_id", ID, ForeignKey("statuses.id", ondelete="CASCADE"), primary_key=True),
    Column("author_id", ID, nullable=False),  # to drop a followee's entries on unfollow/block
    # On SQLite the rows live in the primary-key B-tree itself: one write per fan-out row
    # instead of a table row plus an index entry.
    sqlite_with_rowid=False,
)
Index("ix_home_feed_status_id", home_feed.c.status_id)  # deleting a status, and its cascade

idempotency_keys = Table(
    "idempotency_keys",
    metadata,
    _account_fk(index=False),
    Column("key", String(255), nullable=False),
    Column("status_id", ID, nullable=False),
    Column("created_at", TS, nullable=False),
    UniqueConstraint("account_id", "key"),
)

instance_rules = Table(
    "instance_rules",
    metadata,
    Column("id", ID, primary_key=True, autoincrement=False),
    Column("text", Text, nullable=False),
    Column("hint", Text, nullable=False, default=""),
    Column("position", Integer, nullable=False, default=0),
)

# --- Statuses extended (migration 0003): polls, edits, quotes, reply policy, scheduled posts ---

# Who may reply (Parvis extension) and who may quote (Mastodon 4.5), per status.
statuses.append_column(
    Column(
        "reply_policy", String(16), nullable=False, default="everyone", server_default="everyone"
    )
)
statuses.append_column(
    Column("quote_policy", String(16), nullable=False, default="public", server_default="public")
)
statuses.append_column(
    Column("quotes_count", Integer, nullable=False, default=0, server_default="0")
)

polls = Table(
    "polls",
    metadata,
    Column("id", ID, primary_key=True, autoincrement=False),
    _status_fk(index=False),
    _account_fk(index=False),
    Column("options", Text, nullable=False),  # JSON list of option titles
    Column("multiple", Boolean, nullable=False, default=False),
    Column("hide_totals", Boolean, nullable=False, default=False),
    Column("expires_at", TS, nullable=False),
    Column("notified_at", TS, nullable=True),  # when the "poll ended" notifications went out
    Column("created_at", TS, nullable=False),
    UniqueConstraint("status_id"),
)
Index("ix_polls_expires_at_notified_at", polls.c.expires_at, polls.c.notified_at)

poll_votes = Table(
    "poll_votes",
    metadata,
    Column("id", ID, primary_key=True, autoincrement=False),
    Column("poll_id", ID, ForeignKey("polls.id", ondelete="CASCADE"), nullable=False),
    _account_fk(),
    Column("choice", Integer, nullable=False),
    Column("created_at", TS, nullable=False),
    UniqueConstraint("poll_id", "account_id", "choice"),
)

status_edits = Table(
    "status_edits",
    metadata,
    Column("id", ID, primary_key=True, autoincrement=False),
    _status_fk(),
    _account_fk(index=False),
    Column("text", Text, nullable=False, default=""),
    Column("content", Text, nullable=False, default=""),
    Column("spoiler_text", Text, nullable=False, default=""),
    Column("sensitive", Boolean, nullable=False, default=False),
    Column("media_ids", Text, nullable=False, default="[]"),  # JSON list of media ids
    Column("poll_options", Text, nullable=True),  # JSON list of titles, or NULL: no poll
    Column("created_at", TS, nullable=False),
)

quotes = Table(
    "quotes",
    metadata,
    Column("id", ID, primary_key=True, autoincrement=False),
    _status_fk(index=False),  # the quoting status
    Column(
        "quoted_status_id",
        ID,
        ForeignKey("statuses.id", ondelete="SET NULL"),
        nullable=True,
        index=True,
    ),
    _account_fk("quoted_account_id"),
    Column("state", String(16), nullable=False),  # accepted | revoked (deleted: no quoted row)
    Column("created_at", TS, nullable=False),
    UniqueConstraint("status_id"),
)

scheduled_statuses = Table(
    "scheduled_statuses",
    metadata,
    Column("id", ID, primary_key=True, autoincrement=False),
    _account_fk(),
    Column("scheduled_at", TS, nullable=False, index=True),
    Column("params", Text, nullable=False),  # JSON: what POST /api/v1/statuses was given
    Column("created_at", TS, nullable=False),
)

# Media reserved by a scheduled status: attached when it is published, unusable until then.
scheduled_status_media = Table(
    "scheduled_status_media",
    metadata,
    Column(
        "scheduled_status_id",
        ID,
        ForeignKey("scheduled_statuses.id", ondelete="CASCADE"),
        primary_key=True,
    ),
    Column(
        "media_id",
        ID,
        ForeignKey("media_attachments.id", ondelete="CASCADE"),
        primary_key=True,
        index=True,
    ),
)

# --- Lists, filters, followed tags, domain blocks, endorsements, markers (migration 0004) ---

lists = Table(
    "lists",
    metadata,
    Column("id", ID, primary_key=True, autoincrement=False),
    _account_fk(),
    Column("title", String(255), nullable=False),
    Column("replies_policy", String(16), nullable=False, default="list"),  # followed|list|none
    Column("exclusive", Boolean, nullable=False, default=False),
    Column("created_at", TS, nullable=False),
)

list_accounts = Table(
    "list_accounts",
    metadata,
    Column("id", ID, primary_key=True, autoincrement=False),
    Column("list_id", ID, ForeignKey("lists.id", ondelete="CASCADE"), nullable=False),
    _account_fk(),
    Column("created_at", TS, nullable=False),
    UniqueConstraint("list_id", "account_id"),
)

custom_filters = Table(
    "custom_filters",
    metadata,
    Column("id", ID, primary_key=True, autoincrement=False),
    _account_fk(),
    Column("title", String(255), nullable=False),
    Column("context", String(128), nullable=False),  # comma separated: home,public,...
    Column("action", String(8), nullable=False, default="warn"),  # warn | hide | blur
    Column("expires_at", TS, nullable=True),
    Column("created_at", TS, nullable=False),
)

filter_keywords = Table(
    "filter_keywords",
    metadata,
    Column("id", ID, primary_key=True, autoincrement=False),
    Column(
        "filter_id",
        ID,
        ForeignKey("custom_filters.id", ondelete="CASCADE"),
        nullable=False,
        index=True,
    ),
    Column("keyword", String(512), nullable=False),
    Column("whole_word", Boolean, nullable=False, default=True),
    Column("created_at", TS, nullable=False),
)

filter_statuses = Table(
    "filter_statuses",
    metadata,
    Column("id", ID, primary_key=True, autoincrement=False),
    Column("filter_id", ID, ForeignKey("custom_filters.id", ondelete="CASCADE"), nullable=False),
    _status_fk(),
    Column("created_at", TS, nullable=False),
    UniqueConstraint("filter_id", "status_id"),
)

tag_follows = Table(
    "tag_follows",
    metadata,
    Column("id", ID, primary_key=True, autoincrement=False),
    _account_fk(index=False),
    Column("tag_id", ID, ForeignKey("tags.id", ondelete="CASCADE"), nullable=False, index=True),
    Column("created_at", TS, nullable=False),
    UniqueConstraint("account_id", "tag_id"),
)

account_domain_blocks = Table(
    "account_domain_blocks",
    metadata,
    Column("id", ID, primary_key=True, autoincrement=False),
    _account_fk(index=False),
    Column("domain", String(255), nullable=False),
    Column("created_at", TS, nullable=False),
    UniqueConstraint("account_id", "domain"),
)

account_pins = _edge("account_pins")  # endorsements: accounts featured on one's profile

markers = Table(
    "markers",
    metadata,
    Column("account_id", ID, ForeignKey("accounts.id", ondelete="CASCADE"), primary_key=True),
    Column("timeline", String(32), primary_key=True),  # home | notifications
    Column("last_read_id", ID, nullable=False),
    Column("version", Integer, nullable=False, default=0),
    Column("updated_at", TS, nullable=False),
)

# --- Conversations, announcements, notification extras (migration 0005) ---

# Direct-message threads: one row per participant and thread (keyed by the thread's root status),
# moved to the newest direct status of the thread. Hidden while `last_status_id` is NULL (the
# status was deleted) until the thread gets a new one.
conversations = Table(
    "conversations",
    metadata,
    Column("id", ID, primary_key=True, autoincrement=False),
    _account_fk(index=False),
    Column("root_status_id", ID, nullable=False),
    Column(
        "last_status_id",
        ID,
        ForeignKey("statuses.id", ondelete="SET NULL"),
        nullable=True,
        index=True,
    ),
    Column("unread", Boolean, nullable=False, default=False),
    Column("updated_at", TS, nullable=False),
    UniqueConstraint("account_id", "root_status_id"),
)
Index(
    "ix_conversations_account_id_last_status_id",
    conversations.c.account_id,
    conversations.c.last_status_id,
)

# Notifications the recipient's policy filtered: kept aside as "requests" until accepted.
filtered_notifications = Table(
    "filtered_notifications",
    metadata,
    Column(
        "notification_id",
        ID,
        ForeignKey("notifications.id", ondelete="CASCADE"),
        primary_key=True,
        autoincrement=False,
    ),
    _account_fk(index=False),
    _account_fk("from_account_id", index=False),
)
Index(
    "ix_filtered_notifications_account_id_from_account_id",
    filtered_notifications.c.account_id,
    filtered_notifications.c.from_account_id,
)

# accept | filter | drop, per kind of sender (Mastodon's NotificationPolicy); no row: accept all.
notification_policies = Table(
    "notification_policies",
    metadata,
    Column("account_id", ID, ForeignKey("accounts.id", ondelete="CASCADE"), primary_key=True),
    Column("for_not_following", String(8), nullable=False, default="accept"),
    Column("for_not_followers", String(8), nullable=False, default="accept"),
    Column("for_new_accounts", String(8), nullable=False, default="accept"),
    Column("for_private_mentions", String(8), nullable=False, default="accept"),
    Column("for_limited_accounts", String(8), nullable=False, default="accept"),
    Column("updated_at", TS, nullable=False),
)

# Server-wide announcements, written by operators (`parvis announce`).
announcements = Table(
    "announcements",
    metadata,
    Column("id", ID, primary_key=True, autoincrement=False),
    Column("text", Text, nullable=False),  # source as typed
    Column("content", Text, nullable=False),  # rendered, sanitized HTML
    Column("starts_at", TS, nullable=True),
    Column("ends_at", TS, nullable=True),
    Column("all_day", Boolean, nullable=False, default=False),
    Column("published_at", TS, nullable=False),
    Column("updated_at", TS, nullable=False),
)


def _announcement_fk() -> Column[int]:
    return Column(
        "announcement_id",
        ID,
        ForeignKey("announcements.id", ondelete="CASCADE"),
        nullable=False,
    )


announcement_reads = Table(
    "announcement_reads",
    metadata,
    _announcement_fk(),
    _account_fk(),
    UniqueConstraint("announcement_id", "account_id"),
)
announcement_reactions = Table(
    "announcement_reactions",
    metadata,
    _announcement_fk(),
    _account_fk(),
    Column("name", String(64), nullable=False),  # a unicode emoji
    Column("created_at", TS, nullable=False),
    UniqueConstraint("announcement_id", "account_id", "name"),
)

# What moderators took out of trends: kind is "status", "account" or "tag". Trends leave out
# every listed status, every status of a listed account and every listed tag.
trend_exclusions = Table(
    "trend_exclusions",
    metadata,
    Column("kind", String(16), primary_key=True),
    Column("target_id", ID, primary_key=True, autoincrement=False),
    Column("created_at", TS, nullable=False),
)

# Accounts a user asked not to be suggested again.
suggestion_dismissals = _edge("suggestion_dismissals")

# --- Featured tags (migration 0006) ---

# Hashtags an account features on its profile (Mastodon's FeaturedTag, at most 10 each); `name`
# is the tag as the user wrote it when featuring it. Counts are read from the statuses.
featured_tags = Table(
    "featured_tags",
    metadata,
    Column("id", ID, primary_key=True, autoincrement=False),
    _account_fk(index=False),
    Column("tag_id", ID, ForeignKey("tags.id", ondelete="CASCADE"), nullable=False, index=True),
    Column("name", String(255), nullable=False),
    Column("created_at", TS, nullable=False),
    UniqueConstraint("account_id", "tag_id"),
)

# --- Thread mutes, account notes (migration 0007) ---

# Threads an account muted (Mastodon's "mute conversation"), by the thread's root status id: no
# notification about a status of the thread reaches the account. No foreign key on the root:
# replies keep their thread when the root is deleted, and so does the mute.
thread_mutes = Table(
    "thread_mutes",
    metadata,
    Column("account_id", ID, ForeignKey("accounts.id", ondelete="CASCADE"), primary_key=True),
    Column("thread_root_id", ID, primary_key=True, autoincrement=False),
    Column("created_at", TS, nullable=False),
)

# A private note an account keeps about another (Mastodon's Relationship.note), at most 2,000
# characters; an empty note is no row.
account_notes = Table(
    "account_notes",
    metadata,
    Column("account_id", ID, ForeignKey("accounts.id", ondelete="CASCADE"), primary_key=True),
    Column(
        "target_account_id",
        ID,
        ForeignKey("accounts.id", ondelete="CASCADE"),
        primary_key=True,
        index=True,
    ),
    Column("comment", Text, nullable=False),
    Column("updated_at", TS, nullable=False),
)

# --- Notices (migration 0008) and accountable moderation (migration 0010) ---


def _set_null_fk(name: str, table: str, *, index: bool = True) -> Column[int]:
    return Column(
        name, ID, ForeignKey(f"{table}.id", ondelete="SET NULL"), nullable=True, index=index
    )


# A notice of illegal or unwanted content (DSA art. 16 "notice and action"), from a signed-in
# account, a visitor, a client app, a trusted flagger or another server. It holds one or more
# items (notice_items); `category` is the plain-language offence chosen (parvis.domain.moderation
# OFFENCES) and `dsa_category` the DSA category it is counted under. `receipt_hash` is the
# SHA-256 of the secret in the notifier's receipt link (their way back without an account).
notices = Table(
    "notices",
    metadata,
    Column("id", ID, primary_key=True, autoincrement=False),
    _set_null_fk("reporter_account_id", "accounts"),
    Column("category", String(48), nullable=False),
    Column(
        "dsa_category",
        String(80),
        nullable=False,
        default="STATEMENT_CATEGORY_NOT_SPECIFIED_NOTICE",
    ),
    Column("legal_ground", Text, nullable=False, default=""),
    Column("rule_ids", String(200), nullable=False, default=""),  # comma-separated rule ids
    Column("explanation", Text, nullable=False),
    Column("reporter_name", String(200), nullable=False, default=""),
    Column("reporter_email", String(320), nullable=False, default=""),
    Column("channel", String(16), nullable=False, default="web"),
    _set_null_fk("trusted_flagger_id", "trusted_flaggers"),
    Column("remote_actor", String(2048), nullable=False, default=""),
    Column("receipt_hash", String(64), nullable=False, default=""),
    Column("language", String(8), nullable=False, default=""),
    Column("priority", Integer, nullable=False, default=2),
    Column("automated", Boolean, nullable=False, default=False),
    Column("created_at", TS, nullable=False, index=True),
    Column("acknowledged_at", TS, nullable=True),
    Column("due_at", TS, nullable=True),
    Column("decided_at", TS, nullable=True),
    Column("outcome", String(16), nullable=False, default=""),  # "" | actioned | no_action
    Column("notified_at", TS, nullable=True),
)

# One reported item of a notice: a post (status_id; no foreign key, the notice outlives a
# removed post) or an account, filed under the moderation case of that subject.
notice_items = Table(
    "notice_items",
    metadata,
    Column("id", ID, primary_key=True, autoincrement=False),
    Column(
        "notice_id", ID, ForeignKey("notices.id", ondelete="CASCADE"), nullable=False, index=True
    ),
    Column(
        "case_id", ID, ForeignKey("mod_cases.id", ondelete="CASCADE"), nullable=False, index=True
    ),
    Column("status_id", ID, nullable=True, index=True),
    _set_null_fk("account_id", "accounts"),
    Column("decision_id", ID, nullable=True),
    Column("decided_at", TS, nullable=True),
)

# A moderation case: everything about one subject (a post or an account), so duplicate notices
# on one item are handled together. The case row is a projection of its events (mod_events),
# kept in the same transaction and rebuildable from them (services/moderation.py rebuild()).
mod_cases = Table(
    "mod_cases",
    metadata,
    Column("id", ID, primary_key=True, autoincrement=False),
    Column("subject_type", String(8), nullable=False),  # status | account
    Column("subject_id", ID, nullable=False),
    _set_null_fk("account_id", "accounts"),  # the author / the account itself
    Column("state", String(16), nullable=False, default="open"),  # open | decided | appealed
    Column("priority", Integer, nullable=False, default=2),
    Column("opened_at", TS, nullable=False),
    Column("due_at", TS, nullable=True),
    _set_null_fk("assignee_id", "accounts"),
    Column("escalated", Boolean, nullable=False, default=False),
    Column("language", String(8), nullable=False, default=""),
    Column("open_notices", Integer, nullable=False, default=0),
    Column("last_decision_id", ID, nullable=True),
    Column("updated_at", TS, nullable=False),
    UniqueConstraint("subject_type", "subject_id"),
)
Index("ix_mod_cases_queue", mod_cases.c.state, mod_cases.c.priority, mod_cases.c.due_at)

# The append-only moderation event log: what happened to a case, by whom, when. Never updated
# or deleted; a case's state is derived from it.
mod_events = Table(
    "mod_events",
    metadata,
    Column("id", ID, primary_key=True, autoincrement=False),
    Column(
        "case_id", ID, ForeignKey("mod_cases.id", ondelete="CASCADE"), nullable=False, index=True
    ),
    Column("kind", String(32), nullable=False),
    _set_null_fk("actor_id", "accounts", index=False),
    Column("data", Text, nullable=False, default="{}"),
    Column("created_at", TS, nullable=False),
)

# A decision on a case: an action (parvis.domain.moderation ACTIONS) on a stated ground, with
# every field of the DSA statement of reasons. `puid` is its public, never reused identifier.
decisions = Table(
    "decisions",
    metadata,
    Column("id", ID, primary_key=True, autoincrement=False),
    Column("puid", String(64), nullable=False, unique=True),
    Column(
        "case_id", ID, ForeignKey("mod_cases.id", ondelete="CASCADE"), nullable=False, index=True
    ),
    Column("subject_type", String(8), nullable=False),
    Column("subject_id", ID, nullable=False),
    _set_null_fk("account_id", "accounts"),
    Column("status_id", ID, nullable=True),
    Column("action", String(32), nullable=False),
    Column("ground", String(8), nullable=False, default=""),  # law | rule | "" (no action)
    Column("rule_id", String(16), nullable=False, default=""),
    Column("rule_version", Integer, nullable=True),
    Column("legal_ground", Text, nullable=False, default=""),
    Column("explanation", Text, nullable=False, default=""),
    Column("facts", Text, nullable=False, default=""),
    Column("dsa_category", String(80), nullable=False),
    Column("keywords", Text, nullable=False, default="[]"),
    Column("territorial_scope", Text, nullable=False, default="[]"),
    Column("content_type", Text, nullable=False, default="[]"),
    Column("content_language", String(8), nullable=False, default=""),
    Column("content_date", TS, nullable=False),
    Column("label", String(200), nullable=False, default=""),
    Column("starts_at", TS, nullable=False),
    Column("ends_at", TS, nullable=True),
    Column("source_type", String(40), nullable=False),
    Column("source_identity", String(500), nullable=False, default=""),
    Column("automated_detection", Boolean, nullable=False, default=False),
    Column(
        "automated_decision", String(40), nullable=False, default="AUTOMATED_DECISION_NOT_AUTOMATED"
    ),
    _set_null_fk("moderator_id", "accounts"),
    Column("misuse", String(32), nullable=False, default=""),
    Column("created_at", TS, nullable=False, index=True),
    Column("notified_at", TS, nullable=True),
    Column("reversed_at", TS, nullable=True),
    Column("reversed_by_appeal_id", ID, nullable=True),
    Column("log_index", BigInteger, nullable=True),
    Column("tdb_submitted_at", TS, nullable=True),
    Column("tdb_uuid", String(64), nullable=False, default=""),
)

# A complaint against a decision (DSA art. 20), by the author or a notifier, within six months;
# decided by a moderator other than the one who took the decision.
appeals = Table(
    "appeals",
    metadata,
    Column("id", ID, primary_key=True, autoincrement=False),
    Column(
        "decision_id",
        ID,
        ForeignKey("decisions.id", ondelete="CASCADE"),
        nullable=False,
        index=True,
    ),
    Column("appellant_role", String(16), nullable=False),  # author | notifier
    _set_null_fk("appellant_account_id", "accounts"),
    Column("notice_id", ID, nullable=True),
    Column("text", Text, nullable=False),
    Column("filed_at", TS, nullable=False, index=True),
    _set_null_fk("reviewer_id", "accounts", index=False),
    Column("outcome", String(16), nullable=False, default=""),  # "" | upheld | reversed
    Column("reply", Text, nullable=False, default=""),
    Column("decided_at", TS, nullable=True),
)

# Trusted flaggers (DSA art. 22): entities awarded the status by a Digital Services Coordinator;
# their notices take the priority lane. `account_id` is the account they report from.
trusted_flaggers = Table(
    "trusted_flaggers",
    metadata,
    Column("id", ID, primary_key=True, autoincrement=False),
    Column("name", String(200), nullable=False),
    _set_null_fk("account_id", "accounts"),
    Column("coordinator", String(200), nullable=False, default=""),
    Column("member_state", String(2), nullable=False, default=""),
    Column("areas", Text, nullable=False, default="[]"),  # offence keys
    Column("created_at", TS, nullable=False),
    Column("revoked_at", TS, nullable=True),
)

# The authority register (DSA arts. 9, 10, 18): orders to act, orders to provide information,
# and Parvis's own escalations of threats to life or safety. `not_held` says what could not be
# provided because the server does not have it.
authority_orders = Table(
    "authority_orders",
    metadata,
    Column("id", ID, primary_key=True, autoincrement=False),
    Column("kind", String(16), nullable=False),  # act | info | escalation
    Column("authority", String(300), nullable=False),
    Column("member_state", String(2), nullable=False),
    Column("legal_basis", Text, nullable=False, default=""),
    Column("dsa_category", String(80), nullable=False),
    Column("reference", String(200), nullable=False, default=""),
    Column("items", Text, nullable=False, default="[]"),  # URLs
    Column("received_at", TS, nullable=False, index=True),
    Column("acknowledged_at", TS, nullable=True),
    Column("carried_out_at", TS, nullable=True),
    Column("effect", Text, nullable=False, default=""),
    Column("provided", Text, nullable=False, default=""),
    Column("not_held", Text, nullable=False, default=""),
    Column("case_id", ID, nullable=True),
    _set_null_fk("created_by", "accounts", index=False),
)

# The moderator roster (published only in aggregate): languages, country-level location,
# training, volunteer or paid.
moderators = Table(
    "moderators",
    metadata,
    Column("account_id", ID, ForeignKey("accounts.id", ondelete="CASCADE"), primary_key=True),
    Column("languages", Text, nullable=False, default="[]"),
    Column("country", String(2), nullable=False, default=""),
    Column("training", Text, nullable=False, default=""),
    Column("paid", Boolean, nullable=False, default=False),
    Column("since", TS, nullable=False),
    Column("until", TS, nullable=True),
)

# The server's rules (DSA art. 14), versioned: a rule keeps its id for life; a change is a new
# version; decisions cite (rule_id, rule_version).
rules = Table(
    "rules",
    metadata,
    Column("id", String(16), primary_key=True),
    Column("version", Integer, primary_key=True),
    Column("text", Text, nullable=False),
    Column("hint", Text, nullable=False, default=""),
    Column("valid_from", TS, nullable=False),
    Column("valid_to", TS, nullable=True),
)

# What a moderation decision does to a post, kept on the post so every read path can apply it
# cheaply: the strongest restriction in force, until when, where (territorial), and the label.
statuses.append_column(Column("restriction", String(24), nullable=True))
statuses.append_column(Column("restriction_until", TS, nullable=True))
statuses.append_column(Column("restriction_scope", String(200), nullable=False, default=""))
statuses.append_column(Column("restriction_label", String(200), nullable=False, default=""))
# Temporary suspensions end by themselves; DSA art. 23 can suspend the handling of an
# account's notices for a while.
# A moderation_warning notification (Mastodon 4.3) points at the decision it announces.
notifications.append_column(Column("decision_id", ID, nullable=True))
accounts.append_column(Column("suspended_until", TS, nullable=True))
accounts.append_column(Column("notices_suspended_until", TS, nullable=True))


# --- Transparency log (migration 0009) -------------------------------------------------------
# The public, append-only Merkle-tree log of moderation decisions (parvis.domain.merkle).
# Hashes are lowercase hex SHA-256. Entries are the canonical JSON the leaves hash; nodes hold
# every complete subtree above the leaves once (level >= 1), so roots and proofs for any tree
# size read O(log n) rows; the one state row holds the tree size and its right edge (frontier),
# locked by each append; every append stores a signed checkpoint (a C2SP signed note).
transparency_log_entries = Table(
    "transparency_log_entries",
    metadata,
    Column("idx", ID, primary_key=True, autoincrement=False),
    Column("data", Text, nullable=False),
    Column("leaf_hash", String(64), nullable=False),
    Column("created_at", TS, nullable=False),
)

transparency_log_nodes = Table(
    "transparency_log_nodes",
    metadata,
    Column("level", Integer, primary_key=True, autoincrement=False),
    Column("idx", ID, primary_key=True, autoincrement=False),
    Column("hash", String(64), nullable=False),
)

transparency_log_checkpoints = Table(
    "transparency_log_checkpoints",
    metadata,
    Column("tree_size", ID, primary_key=True, autoincrement=False),
    Column("root_hash", String(64), nullable=False),
    Column("note", Text, nullable=False),
    Column("created_at", TS, nullable=False),
)

transparency_log_state = Table(
    "transparency_log_state",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=False),
    Column("tree_size", ID, nullable=False),
    Column("frontier", Text, nullable=False, default=""),
)


# -- 0011 federation -------------------------------------------------------------------------

# Inbound activities: verified, stored, then processed once (idempotent by activity URI).
federation_inbox = Table(
    "federation_inbox",
    metadata,
    Column("id", ID, primary_key=True, autoincrement=False),
    Column("activity_uri", String(2048), nullable=False, unique=True),
    Column("actor_uri", String(2048), nullable=False),
    Column("type", String(32), nullable=False),
    Column("body", Text, nullable=False),  # the JSON document as received
    Column("state", String(16), nullable=False),  # pending | done | failed
    Column("attempts", Integer, nullable=False, default=0),
    Column("error", Text, nullable=False, default=""),
    Column("received_at", TS, nullable=False),
    Column("processed_at", TS, nullable=True),
)
Index("ix_federation_inbox_state", federation_inbox.c.state, federation_inbox.c.id)

# The transactional outbox: one row per (activity, distinct inbox), written with the change.
federation_deliveries = Table(
    "federation_deliveries",
    metadata,
    Column("id", ID, primary_key=True, autoincrement=False),
    Column("activity_uri", String(2048), nullable=False),
    _account_fk(index=False),  # whose key signs it
    Column("inbox_uri", String(2048), nullable=False),
    Column("host", String(255), nullable=False, index=True),
    Column("body", Text, nullable=False),
    Column("state", String(16), nullable=False),  # pending | delivered | failed
    Column("attempts", Integer, nullable=False, default=0),
    Column("next_attempt_at", TS, nullable=False),
    Column("last_error", Text, nullable=False, default=""),
    Column("created_at", TS, nullable=False),
    Column("delivered_at", TS, nullable=True),
    UniqueConstraint("activity_uri", "inbox_uri"),
)
Index(
    "ix_federation_deliveries_due",
    federation_deliveries.c.state,
    federation_deliveries.c.next_attempt_at,
)

# What we know of each remote host: the circuit breaker and dead-server detection.
federation_hosts = Table(
    "federation_hosts",
    metadata,
    Column("host", String(255), primary_key=True),
    Column("consecutive_failures", Integer, nullable=False, default=0),
    Column("first_failure_at", TS, nullable=True),
    Column("open_until", TS, nullable=True),  # the circuit is open (host skipped) until then
    Column("dead_at", TS, nullable=True),
    Column("last_success_at", TS, nullable=True),
    Column("software", String(64), nullable=False, default=""),
    # When `software` was last read from the host's NodeInfo (asked again after a week).
    Column("software_checked_at", TS, nullable=True),
)

# The operator's domain blocks (Mastodon's severities: suspend, silence as "limit", noop).
instance_domain_blocks = Table(
    "instance_domain_blocks",
    metadata,
    Column("id", ID, primary_key=True, autoincrement=False),
    Column("domain", String(255), nullable=False, unique=True),
    Column("severity", String(16), nullable=False),  # suspend | limit | noop
    Column("reject_media", Boolean, nullable=False, default=False),
    Column("reject_reports", Boolean, nullable=False, default=False),
    Column("public_comment", Text, nullable=False, default=""),
    Column("private_comment", Text, nullable=False, default=""),
    Column("created_at", TS, nullable=False),
)

# alsoKnownAs: the accounts an account says it also is (a Move is accepted only towards one).
account_aliases = Table(
    "account_aliases",
    metadata,
    Column("id", ID, primary_key=True, autoincrement=False),
    _account_fk(),
    Column("uri", String(2048), nullable=False),
    Column("created_at", TS, nullable=False),
    UniqueConstraint("account_id", "uri"),
)


# -- 0012 ranked feeds (issue 7) ---------------------------------------------------------------

# Every served ranking, with what it was computed from, so that `parvis feeds replay` can
# recompute it and paging can continue through it: the resolved parameters and the context
# (JSON), the candidates (JSON rows, zlib-compressed) and the ranked ids (JSON). Kept for
# PARVIS_FEED_LOG_DAYS.
feed_served = Table(
    "feed_served",
    metadata,
    Column("id", ID, primary_key=True, autoincrement=False),
    _account_fk(index=False),
    Column("feed", String(32), nullable=False),
    Column("version", String(16), nullable=False),
    Column("served_at", TS, nullable=False, index=True),  # pruning
    Column("params", Text, nullable=False),
    Column("context", Text, nullable=False),
    Column("candidates", LargeBinary, nullable=False),
    Column("ranked", Text, nullable=False),  # JSON: positions in `candidates`, in rank order
)
Index(
    "ix_feed_served_account_id_feed_served_at",
    feed_served.c.account_id,
    feed_served.c.feed,
    feed_served.c.served_at,
)

# A user's own weights for a feed (JSON: parameter -> number), within the published bounds.
feed_preferences = Table(
    "feed_preferences",
    metadata,
    Column("account_id", ID, ForeignKey("accounts.id", ondelete="CASCADE"), primary_key=True),
    Column("feed", String(32), primary_key=True),
    Column("weights", Text, nullable=False),
    Column("updated_at", TS, nullable=False),
)

# Per-account feed settings: no viewpoint estimated (and no part in anyone's sides), and
# whether Mastodon apps see the ranked feeds as lists.
feed_settings = Table(
    "feed_settings",
    metadata,
    Column("account_id", ID, ForeignKey("accounts.id", ondelete="CASCADE"), primary_key=True),
    Column("viewpoint_opt_out", Boolean, nullable=False, default=False),
    Column("lists_in_apps", Boolean, nullable=False, default=False),
)

# Bridging: each active account's position on the main axis of disagreement (latest only,
# never published except to the account itself), and each recent post's appreciation from
# either side (the most bridging posts only).
feed_viewpoints = Table(
    "feed_viewpoints",
    metadata,
    Column("account_id", ID, ForeignKey("accounts.id", ondelete="CASCADE"), primary_key=True),
    Column("factor", Float, nullable=False),
    Column("engagements", Integer, nullable=False),
    Column("computed_at", TS, nullable=False),
)

feed_post_sides = Table(
    "feed_post_sides",
    metadata,
    Column("status_id", ID, ForeignKey("statuses.id", ondelete="CASCADE"), primary_key=True),
    Column("side_a", Float, nullable=False),
    Column("side_b", Float, nullable=False),
    Column("computed_at", TS, nullable=False),
)

# Trending posts for For you, ranked as parvis.services.trends ranks them, refreshed every 15
# minutes (ranking every post of 48 hours on each request would cost too much).
feed_trending = Table(
    "feed_trending",
    metadata,
    Column("status_id", ID, ForeignKey("statuses.id", ondelete="CASCADE"), primary_key=True),
    Column("score", Float, nullable=False),
    Column("computed_at", TS, nullable=False),
)


# -- 0013 community notes and labels (issue 8) -------------------------------------------------

# A community note: context an eligible user adds to a post, shown only once raters who usually
# disagree both find it helpful. `uri` identifies it across servers (federation). The scorer's
# latest output is kept on the row (status, intercept, factor) with the public
# noteStatusHistory fields: the first and the latest status other than NEEDS_MORE_RATINGS.
community_notes = Table(
    "community_notes",
    metadata,
    Column("id", ID, primary_key=True, autoincrement=False),
    Column("uri", String(2048), nullable=False, unique=True),
    _status_fk(),
    _account_fk("author_id"),
    Column("classification", String(48), nullable=False),
    Column("reasons", Text, nullable=False, default="[]"),  # JSON: reason keys
    Column("summary", Text, nullable=False),
    Column("sources", Text, nullable=False, default="[]"),  # JSON: URLs
    Column("language", String(16), nullable=False, default=""),
    Column("created_at", TS, nullable=False),
    Column("rating_status", String(32), nullable=False, default="NEEDS_MORE_RATINGS", index=True),
    Column("intercept", Float, nullable=True),
    Column("factor", Float, nullable=True),
    Column("status_changed_at", TS, nullable=True),
    Column("first_status", String(32), nullable=False, default=""),
    Column("first_status_at", TS, nullable=True),
    Column("latest_status", String(32), nullable=False, default=""),
    Column("latest_status_at", TS, nullable=True),
)

# One rating per rater and note: helpful, somewhat helpful or not helpful, with reason tags.
community_note_ratings = Table(
    "community_note_ratings",
    metadata,
    Column("note_id", ID, ForeignKey("community_notes.id", ondelete="CASCADE"), primary_key=True),
    Column("rater_id", ID, ForeignKey("accounts.id", ondelete="CASCADE"), primary_key=True),
    Column("helpfulness", String(24), nullable=False),
    Column("tags", Text, nullable=False, default="[]"),  # JSON: tag keys
    Column("uri", String(2048), nullable=True),  # a remote rating's activity id
    Column("created_at", TS, nullable=False),
    Column("updated_at", TS, nullable=False),
)
Index("ix_community_note_ratings_rater_id", community_note_ratings.c.rater_id)

# Every status a note has had, with the fit that gave it: the note page's history and the
# public noteStatusHistory export.
community_note_status_changes = Table(
    "community_note_status_changes",
    metadata,
    Column("id", ID, primary_key=True, autoincrement=False),
    Column(
        "note_id",
        ID,
        ForeignKey("community_notes.id", ondelete="CASCADE"),
        nullable=False,
        index=True,
    ),
    Column("status", String(32), nullable=False),
    Column("intercept", Float, nullable=True),
    Column("factor", Float, nullable=True),
    Column("run_id", ID, nullable=True),
    Column("changed_at", TS, nullable=False),
)

# The scorer's latest output per rater (the public helpfulness_scores): intercept, factor and
# helpfulness, NULL outside the fit.
community_note_raters = Table(
    "community_note_raters",
    metadata,
    Column("account_id", ID, ForeignKey("accounts.id", ondelete="CASCADE"), primary_key=True),
    Column("intercept", Float, nullable=True),
    Column("factor", Float, nullable=True),
    Column("helpfulness", Float, nullable=True),
    Column("ratings", Integer, nullable=False, default=0),
    Column("scored_at", TS, nullable=False),
)

# Every scoring run, public: what went in, what came out, how long it took. `state` (zlib JSON
# of parvis.domain.notes.scoring.State) is kept on the latest run only: the next run's warm
# start and status inertia.
community_note_runs = Table(
    "community_note_runs",
    metadata,
    Column("id", ID, primary_key=True, autoincrement=False),
    Column("started_at", TS, nullable=False, index=True),
    Column("finished_at", TS, nullable=False),
    Column("trigger", String(16), nullable=False),  # job | command
    Column("ratings", Integer, nullable=False),
    Column("ratings_fitted", Integer, nullable=False),
    Column("notes", Integer, nullable=False),
    Column("raters", Integer, nullable=False),
    Column("helpful", Integer, nullable=False),
    Column("not_helpful", Integer, nullable=False),
    Column("needs_more_ratings", Integer, nullable=False),
    Column("epochs", Integer, nullable=False),
    Column("converged", Boolean, nullable=False),
    Column("warm_started", Boolean, nullable=False),
    Column("loss", Float, nullable=False),
    Column("state", LargeBinary, nullable=True),
)

# Labels for automation and coordination. A detector's finding is a signal, with its evidence,
# about one account (automation) or a cluster of accounts (coordination); it waits for a
# moderator, who confirms it (a label on each account, through a moderation decision) or
# dismisses it. `fingerprint` keeps the same finding from being raised twice.
label_signals = Table(
    "label_signals",
    metadata,
    Column("id", ID, primary_key=True, autoincrement=False),
    Column("kind", String(16), nullable=False),  # automation | coordination
    Column("fingerprint", String(64), nullable=False, index=True),
    Column("score", Float, nullable=False),
    Column("evidence", Text, nullable=False),  # JSON
    Column("detected_at", TS, nullable=False, index=True),
    Column("updated_at", TS, nullable=False),
    Column("state", String(16), nullable=False, default="open"),  # open | confirmed | dismissed
    _set_null_fk("decided_by", "accounts", index=False),
    Column("decided_at", TS, nullable=True),
    Column("decision_note", Text, nullable=False, default=""),
)

label_signal_accounts = Table(
    "label_signal_accounts",
    metadata,
    Column("signal_id", ID, ForeignKey("label_signals.id", ondelete="CASCADE"), primary_key=True),
    Column("account_id", ID, ForeignKey("accounts.id", ondelete="CASCADE"), primary_key=True),
)
Index("ix_label_signal_accounts_account_id", label_signal_accounts.c.account_id)

# A confirmed label on an account, shown to users: `automated` or `coordinated` (self-declared
# bots are `accounts.bot`). `decision_id` is the moderation decision that set it.
account_labels = Table(
    "account_labels",
    metadata,
    Column("account_id", ID, ForeignKey("accounts.id", ondelete="CASCADE"), primary_key=True),
    Column("label", String(16), primary_key=True),
    _set_null_fk("signal_id", "label_signals", index=False),
    Column("decision_id", ID, nullable=True),
    Column("since", TS, nullable=False),
    Column("until", TS, nullable=True),
)

# What a user wants done with posts from labelled accounts, per label: show, warn or hide.
label_preferences = Table(
    "label_preferences",
    metadata,
    Column("account_id", ID, ForeignKey("accounts.id", ondelete="CASCADE"), primary_key=True),
    Column("label", String(16), primary_key=True),
    Column("action", String(8), nullable=False),
)


# -- 0014 end-to-end encrypted messages (issue 9) ----------------------------------------------

# A device of an account: the public halves of its Ed25519 identity key and X25519 agreement
# key, with its signature over them (docs/messaging.md). `created_at` is the time the device
# signed (whole seconds); `label` is shown to the owner only. Revoked devices stay, so that
# what they sent can still be verified.
e2e_devices = Table(
    "e2e_devices",
    metadata,
    Column("id", ID, primary_key=True, autoincrement=False),
    _account_fk(),
    Column("identity_key", LargeBinary(32), nullable=False, unique=True),
    Column("agreement_key", LargeBinary(32), nullable=False),
    Column("signature", LargeBinary(64), nullable=False),
    Column("label", String(64), nullable=False, default=""),
    Column("created_at", TS, nullable=False),
    Column("revoked_at", TS, nullable=True),
    # (0017) a remote device: the URI of its record, when its home server last listed it. Its
    # `id` is the one its home server gave it (the same on every server of a conversation).
    Column("uri", String(2048), nullable=True),
    Column("fetched_at", TS, nullable=True),
)
Index("ix_e2e_devices_uri", e2e_devices.c.uri, unique=True)

# A conversation: a fixed set of local accounts. `pair_key` ("low:high" account ids) makes a
# one-to-one conversation unique; `activity_id` (its id, then its latest message's) orders the
# list.
e2e_conversations = Table(
    "e2e_conversations",
    metadata,
    Column("id", ID, primary_key=True, autoincrement=False),
    _set_null_fk("created_by", "accounts", index=False),
    Column("pair_key", String(41), nullable=True, unique=True),
    Column("created_at", TS, nullable=False),
    Column("activity_id", ID, nullable=False, index=True),
    # (0017) a conversation with people on other servers: its URI, on the server of the person
    # who started it (whose id it keeps everywhere).
    Column("uri", String(2048), nullable=True),
)
Index("ix_e2e_conversations_uri", e2e_conversations.c.uri, unique=True)

e2e_participants = Table(
    "e2e_participants",
    metadata,
    Column(
        "conversation_id",
        ID,
        ForeignKey("e2e_conversations.id", ondelete="CASCADE"),
        primary_key=True,
    ),
    Column("account_id", ID, ForeignKey("accounts.id", ondelete="CASCADE"), primary_key=True),
)
Index("ix_e2e_participants_account_id", e2e_participants.c.account_id)

# A message: its envelope (nonce, signature, the key sealed to each device, ciphertext; see
# parvis.domain.messaging.Envelope.pack), never any plaintext.
e2e_messages = Table(
    "e2e_messages",
    metadata,
    Column("id", ID, primary_key=True, autoincrement=False),
    Column(
        "conversation_id",
        ID,
        ForeignKey("e2e_conversations.id", ondelete="CASCADE"),
        nullable=False,
        index=True,
    ),
    _account_fk("sender_account_id"),
    Column(
        "sender_device_id",
        ID,
        ForeignKey("e2e_devices.id", ondelete="CASCADE"),
        nullable=False,
        index=True,
    ),
    Column("created_at", TS, nullable=False),
    Column("envelope", LargeBinary, nullable=False),
    Column("uri", String(2048), nullable=True),  # (0017) a message sent from another server
)
Index("ix_e2e_messages_uri", e2e_messages.c.uri, unique=True)

# Each device's queue: a row per message sealed to it (the sender's own device excepted),
# `fetched_at` set when the device acknowledges it.
e2e_deliveries = Table(
    "e2e_deliveries",
    metadata,
    Column("device_id", ID, ForeignKey("e2e_devices.id", ondelete="CASCADE"), primary_key=True),
    Column("message_id", ID, ForeignKey("e2e_messages.id", ondelete="CASCADE"), primary_key=True),
    Column("fetched_at", TS, nullable=True),
)
Index("ix_e2e_deliveries_message_id", e2e_deliveries.c.message_id)

# (0019) A message key re-sealed by an old device of the account to a newer one, on the user's
# request ("Give my history to this device"), so that the new device can open messages sent
# before it existed; the envelope and its signature are untouched (docs/messaging.md).
e2e_history_keys = Table(
    "e2e_history_keys",
    metadata,
    Column("device_id", ID, ForeignKey("e2e_devices.id", ondelete="CASCADE"), primary_key=True),
    Column("message_id", ID, ForeignKey("e2e_messages.id", ondelete="CASCADE"), primary_key=True),
    Column("sealed_key", LargeBinary(80), nullable=False),
    Column(
        "given_by_device_id",
        ID,
        ForeignKey("e2e_devices.id", ondelete="CASCADE"),
        nullable=False,
        index=True,
    ),
    Column("created_at", TS, nullable=False),
)
Index("ix_e2e_history_keys_message_id", e2e_history_keys.c.message_id)


# -- 0017 end-to-end encrypted messages between servers ----------------------------------------

# A remote account's published devices (FEDERATION.md, "Encrypted messages"): where its server
# lists them, when this server last read the list, and the device ids it refused from it (an id
# or identity key already taken here by another device: "ask them to re-create their device").
e2e_remote_accounts = Table(
    "e2e_remote_accounts",
    metadata,
    Column("account_id", ID, ForeignKey("accounts.id", ondelete="CASCADE"), primary_key=True),
    Column("devices_uri", String(2048), nullable=True),
    Column("fetched_at", TS, nullable=True),
    Column("refused", Text, nullable=False, default=""),
)

# The network address an account signed up or signed in from (`purpose`: sign_up | sign_in),
# kept `ip_retention_days` (0: never stored) for the moderators' fight against abuse, then
# deleted by the `prune_ips` job.
account_ips = Table(
    "account_ips",
    metadata,
    Column("account_id", ID, ForeignKey("accounts.id", ondelete="CASCADE"), primary_key=True),
    Column("purpose", String(16), primary_key=True),
    Column("ip", String(45), primary_key=True),
    Column("first_seen_at", TS, nullable=False),
    Column("last_seen_at", TS, nullable=False, index=True),
)
# Ban evasion: the other accounts seen at an address.
Index("ix_account_ips_ip", account_ips.c.ip)


# -- 0016 account deletion ---------------------------------------------------------------------

# The usernames of erased local accounts, as keyed hashes and nothing else: HMAC-SHA-256 with
# the server secret of the lowercased name. A name is never given again (other servers cache
# the old actor), and its actor URI answers 410 Gone (services/deletion.py).
erased_usernames = Table(
    "erased_usernames",
    metadata,
    Column("digest", String(64), primary_key=True),
)

# A local account being erased: its Delete is queued when the row is written (`started_at`);
# its posts go in batches, then everything else (`erased_at`). What is left of it, its bare
# actor (URI and key pair, to sign the Delete), is removed with its deliveries once none is
# pending.
account_tombstones = Table(
    "account_tombstones",
    metadata,
    Column("account_id", ID, ForeignKey("accounts.id", ondelete="CASCADE"), primary_key=True),
    Column("started_at", TS, nullable=False),
    Column("erased_at", TS, nullable=True),
)
