"""The schema, as SQLAlchemy Core tables: one definition for SQLite and PostgreSQL.

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
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
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

# --- Lists, filters, followed tags, domain blocks, endorsements, markers (migration 0004) ---

# --- Conversations, announcements, notification extras (migration 0005) ---
