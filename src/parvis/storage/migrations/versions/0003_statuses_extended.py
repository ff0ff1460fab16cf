"""statuses extended: polls, edits, quotes, reply policy, scheduled posts

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-23 12:00:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

TS = sa.DateTime(timezone=True)


def _fk(column: str, target: str, table: str, ondelete: str = "CASCADE") -> sa.ForeignKeyConstraint:
    name = f"fk_{table}_{column}_{target.split('.')[0]}"
    return sa.ForeignKeyConstraint([column], [target], name=op.f(name), ondelete=ondelete)


def upgrade() -> None:
    with op.batch_alter_table("statuses") as batch:
        batch.add_column(
            sa.Column(
                "reply_policy", sa.String(length=16), server_default="everyone", nullable=False
            )
        )
        batch.add_column(
            sa.Column("quote_policy", sa.String(length=16), server_default="public", nullable=False)
        )
        batch.add_column(
            sa.Column("quotes_count", sa.Integer(), server_default="0", nullable=False)
        )
    op.create_table(
        "polls",
        sa.Column("id", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("status_id", sa.BigInteger(), nullable=False),
        sa.Column("account_id", sa.BigInteger(), nullable=False),
        sa.Column("options", sa.Text(), nullable=False),
        sa.Column("multiple", sa.Boolean(), nullable=False),
        sa.Column("hide_totals", sa.Boolean(), nullable=False),
        sa.Column("expires_at", TS, nullable=False),
        sa.Column("notified_at", TS, nullable=True),
        sa.Column("created_at", TS, nullable=False),
        _fk("account_id", "accounts.id", "polls"),
        _fk("status_id", "statuses.id", "polls"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_polls")),
        sa.UniqueConstraint("status_id", name=op.f("uq_polls_status_id")),
    )
    op.create_index(
        "ix_polls_expires_at_notified_at", "polls", ["expires_at", "notified_at"], unique=False
    )
    op.create_table(
        "poll_votes",
        sa.Column("id", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("poll_id", sa.BigInteger(), nullable=False),
        sa.Column("account_id", sa.BigInteger(), nullable=False),
        sa.Column("choice", sa.Integer(), nullable=False),
        sa.Column("created_at", TS, nullable=False),
        _fk("account_id", "accounts.id", "poll_votes"),
        _fk("poll_id", "polls.id", "poll_votes"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_poll_votes")),
        sa.UniqueConstraint(
            "poll_id", "account_id", "choice", name=op.f("uq_poll_votes_poll_id_account_id_choice")
        ),
    )
    op.create_index(op.f("ix_poll_votes_account_id"), "poll_votes", ["account_id"], unique=False)
    op.create_table(
        "status_edits",
        sa.Column("id", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("status_id", sa.BigInteger(), nullable=False),
        sa.Column("account_id", sa.BigInteger(), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("content", sa.Text(), nullable=False),
        sa.Column("spoiler_text", sa.Text(), nullable=False),
        sa.Column("sensitive", sa.Boolean(), nullable=False),
        sa.Column("media_ids", sa.Text(), nullable=False),
        sa.Column("poll_options", sa.Text(), nullable=True),
        sa.Column("created_at", TS, nullable=False),
        _fk("account_id", "accounts.id", "status_edits"),
        _fk("status_id", "statuses.id", "status_edits"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_status_edits")),
    )
    op.create_index(op.f("ix_status_edits_status_id"), "status_edits", ["status_id"], unique=False)
    op.create_table(
        "quotes",
        sa.Column("id", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("status_id", sa.BigInteger(), nullable=False),
        sa.Column("quoted_status_id", sa.BigInteger(), nullable=True),
        sa.Column("quoted_account_id", sa.BigInteger(), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("created_at", TS, nullable=False),
        _fk("quoted_account_id", "accounts.id", "quotes"),
        _fk("quoted_status_id", "statuses.id", "quotes", ondelete="SET NULL"),
        _fk("status_id", "statuses.id", "quotes"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_quotes")),
        sa.UniqueConstraint("status_id", name=op.f("uq_quotes_status_id")),
    )
    op.create_index(
        op.f("ix_quotes_quoted_account_id"), "quotes", ["quoted_account_id"], unique=False
    )
    op.create_index(
        op.f("ix_quotes_quoted_status_id"), "quotes", ["quoted_status_id"], unique=False
    )
    op.create_table(
        "scheduled_statuses",
        sa.Column("id", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("account_id", sa.BigInteger(), nullable=False),
        sa.Column("scheduled_at", TS, nullable=False),
        sa.Column("params", sa.Text(), nullable=False),
        sa.Column("created_at", TS, nullable=False),
        _fk("account_id", "accounts.id", "scheduled_statuses"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_scheduled_statuses")),
    )
    op.create_index(
        op.f("ix_scheduled_statuses_account_id"),
        "scheduled_statuses",
        ["account_id"],
        unique=False,
    )
    op.create_index(
        op.f("ix_scheduled_statuses_scheduled_at"),
        "scheduled_statuses",
        ["scheduled_at"],
        unique=False,
    )
    op.create_table(
        "scheduled_status_media",
        sa.Column("scheduled_status_id", sa.BigInteger(), nullable=False),
        sa.Column("media_id", sa.BigInteger(), nullable=False),
        _fk("media_id", "media_attachments.id", "scheduled_status_media"),
        _fk("scheduled_status_id", "scheduled_statuses.id", "scheduled_status_media"),
        sa.PrimaryKeyConstraint(
            "scheduled_status_id", "media_id", name=op.f("pk_scheduled_status_media")
        ),
    )
    op.create_index(
        op.f("ix_scheduled_status_media_media_id"),
        "scheduled_status_media",
        ["media_id"],
        unique=False,
    )


def downgrade() -> None:
    op.drop_index(op.f("ix_scheduled_status_media_media_id"), table_name="scheduled_status_media")
    op.drop_table("scheduled_status_media")
    op.drop_index(op.f("ix_scheduled_statuses_scheduled_at"), table_name="scheduled_statuses")
    op.drop_index(op.f("ix_scheduled_statuses_account_id"), table_name="scheduled_statuses")
    op.drop_table("scheduled_statuses")
    op.drop_index(op.f("ix_quotes_quoted_status_id"), table_name="quotes")
    op.drop_index(op.f("ix_quotes_quoted_account_id"), table_name="quotes")
    op.drop_table("quotes")
    op.drop_index(op.f("ix_status_edits_status_id"), table_name="status_edits")
    op.drop_table("status_edits")
    op.drop_index(op.f("ix_poll_votes_account_id"), table_name="poll_votes")
    op.drop_table("poll_votes")
    op.drop_index("ix_polls_expires_at_notified_at", table_name="polls")
    op.drop_table("polls")
    with op.batch_alter_table("statuses") as batch:
        batch.drop_column("quotes_count")
        batch.drop_column("quote_policy")
        batch.drop_column("reply_policy")
