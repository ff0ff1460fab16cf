"""conversations, announcements, notification extras

Tables: conversations (direct-message threads per participant), filtered_notifications and
notification_policies (Mastodon's notification policy and requests), announcements with their
reads and reactions, trend_exclusions (what moderation keeps out of trends) and
suggestion_dismissals.

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-23 12:00:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None

TS = sa.DateTime(timezone=True)


def _fk(table: str, column: str, target: str, ondelete: str = "CASCADE") -> sa.ForeignKeyConstraint:
    referred = target.split(".")[0]
    return sa.ForeignKeyConstraint(
        [column], [target], name=op.f(f"fk_{table}_{column}_{referred}"), ondelete=ondelete
    )


def upgrade() -> None:
    op.create_table(
        "conversations",
        sa.Column("id", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("account_id", sa.BigInteger(), nullable=False),
        sa.Column("root_status_id", sa.BigInteger(), nullable=False),
        sa.Column("last_status_id", sa.BigInteger(), nullable=True),
        sa.Column("unread", sa.Boolean(), nullable=False),
        sa.Column("updated_at", TS, nullable=False),
        _fk("conversations", "account_id", "accounts.id"),
        _fk("conversations", "last_status_id", "statuses.id", "SET NULL"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_conversations")),
        sa.UniqueConstraint(
            "account_id", "root_status_id", name=op.f("uq_conversations_account_id_root_status_id")
        ),
    )
    op.create_index(
        "ix_conversations_account_id_last_status_id",
        "conversations",
        ["account_id", "last_status_id"],
    )
    op.create_index(op.f("ix_conversations_last_status_id"), "conversations", ["last_status_id"])

    op.create_table(
        "filtered_notifications",
        sa.Column("notification_id", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("account_id", sa.BigInteger(), nullable=False),
        sa.Column("from_account_id", sa.BigInteger(), nullable=False),
        _fk("filtered_notifications", "notification_id", "notifications.id"),
        _fk("filtered_notifications", "account_id", "accounts.id"),
        _fk("filtered_notifications", "from_account_id", "accounts.id"),
        sa.PrimaryKeyConstraint("notification_id", name=op.f("pk_filtered_notifications")),
    )
    op.create_index(
        "ix_filtered_notifications_account_id_from_account_id",
        "filtered_notifications",
        ["account_id", "from_account_id"],
    )

    op.create_table(
        "notification_policies",
        sa.Column("account_id", sa.BigInteger(), nullable=False),
        *(
            sa.Column(name, sa.String(length=8), nullable=False)
            for name in (
                "for_not_following",
                "for_not_followers",
                "for_new_accounts",
                "for_private_mentions",
                "for_limited_accounts",
            )
        ),
        sa.Column("updated_at", TS, nullable=False),
        _fk("notification_policies", "account_id", "accounts.id"),
        sa.PrimaryKeyConstraint("account_id", name=op.f("pk_notification_policies")),
    )

    op.create_table(
        "announcements",
        sa.Column("id", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("content", sa.Text(), nullable=False),
        sa.Column("starts_at", TS, nullable=True),
        sa.Column("ends_at", TS, nullable=True),
        sa.Column("all_day", sa.Boolean(), nullable=False),
        sa.Column("published_at", TS, nullable=False),
        sa.Column("updated_at", TS, nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_announcements")),
    )
    op.create_table(
        "announcement_reads",
        sa.Column("announcement_id", sa.BigInteger(), nullable=False),
        sa.Column("account_id", sa.BigInteger(), nullable=False),
        _fk("announcement_reads", "announcement_id", "announcements.id"),
        _fk("announcement_reads", "account_id", "accounts.id"),
        sa.UniqueConstraint(
            "announcement_id",
            "account_id",
            name=op.f("uq_announcement_reads_announcement_id_account_id"),
        ),
    )
    op.create_index(op.f("ix_announcement_reads_account_id"), "announcement_reads", ["account_id"])
    op.create_table(
        "announcement_reactions",
        sa.Column("announcement_id", sa.BigInteger(), nullable=False),
        sa.Column("account_id", sa.BigInteger(), nullable=False),
        sa.Column("name", sa.String(length=64), nullable=False),
        sa.Column("created_at", TS, nullable=False),
        _fk("announcement_reactions", "announcement_id", "announcements.id"),
        _fk("announcement_reactions", "account_id", "accounts.id"),
        sa.UniqueConstraint(
            "announcement_id",
            "account_id",
            "name",
            name=op.f("uq_announcement_reactions_announcement_id_account_id_name"),
        ),
    )
    op.create_index(
        op.f("ix_announcement_reactions_account_id"), "announcement_reactions", ["account_id"]
    )

    op.create_table(
        "trend_exclusions",
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("target_id", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("created_at", TS, nullable=False),
        sa.PrimaryKeyConstraint("kind", "target_id", name=op.f("pk_trend_exclusions")),
    )

    op.create_table(
        "suggestion_dismissals",
        sa.Column("id", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("account_id", sa.BigInteger(), nullable=False),
        sa.Column("target_account_id", sa.BigInteger(), nullable=False),
        sa.Column("created_at", TS, nullable=False),
        _fk("suggestion_dismissals", "account_id", "accounts.id"),
        _fk("suggestion_dismissals", "target_account_id", "accounts.id"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_suggestion_dismissals")),
        sa.UniqueConstraint(
            "account_id",
            "target_account_id",
            name=op.f("uq_suggestion_dismissals_account_id_target_account_id"),
        ),
    )
    op.create_index(
        op.f("ix_suggestion_dismissals_target_account_id"),
        "suggestion_dismissals",
        ["target_account_id"],
    )


def downgrade() -> None:
    op.drop_table("suggestion_dismissals")
    op.drop_table("trend_exclusions")
    op.drop_table("announcement_reactions")
    op.drop_table("announcement_reads")
    op.drop_table("announcements")
    op.drop_table("notification_policies")
    op.drop_table("filtered_notifications")
    op.drop_table("conversations")
