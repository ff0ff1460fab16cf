"""ranked feeds

Tables: feed_served (every served ranking with its inputs, for paging and replay),
feed_preferences (a user's own weights per feed), feed_settings (viewpoint opt-out, ranked
feeds as lists in Mastodon apps), feed_viewpoints (each active account's position on the
bridging axis), feed_post_sides (recent posts' appreciation from either side), feed_trending
(trending posts for For you, refreshed periodically).

Revision ID: 0012
Revises: 0011
Create Date: 2026-11-25 10:00:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None

TS = sa.DateTime(timezone=True)


def _account_fk(table: str) -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint(
        ["account_id"], ["accounts.id"], name=f"fk_{table}_account_id_accounts", ondelete="CASCADE"
    )


def _status_fk(table: str) -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint(
        ["status_id"], ["statuses.id"], name=f"fk_{table}_status_id_statuses", ondelete="CASCADE"
    )


def upgrade() -> None:
    op.create_table(
        "feed_served",
        sa.Column("id", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("account_id", sa.BigInteger(), nullable=False),
        sa.Column("feed", sa.String(32), nullable=False),
        sa.Column("version", sa.String(16), nullable=False),
        sa.Column("served_at", TS, nullable=False),
        sa.Column("params", sa.Text(), nullable=False),
        sa.Column("context", sa.Text(), nullable=False),
        sa.Column("candidates", sa.LargeBinary(), nullable=False),
        sa.Column("ranked", sa.Text(), nullable=False),
        _account_fk("feed_served"),
        sa.PrimaryKeyConstraint("id", name="pk_feed_served"),
    )
    op.create_index("ix_feed_served_served_at", "feed_served", ["served_at"])
    op.create_index(
        "ix_feed_served_account_id_feed_served_at",
        "feed_served",
        ["account_id", "feed", "served_at"],
    )

    op.create_table(
        "feed_preferences",
        sa.Column("account_id", sa.BigInteger(), nullable=False),
        sa.Column("feed", sa.String(32), nullable=False),
        sa.Column("weights", sa.Text(), nullable=False),
        sa.Column("updated_at", TS, nullable=False),
        _account_fk("feed_preferences"),
        sa.PrimaryKeyConstraint("account_id", "feed", name="pk_feed_preferences"),
    )

    op.create_table(
        "feed_settings",
        sa.Column("account_id", sa.BigInteger(), nullable=False),
        sa.Column("viewpoint_opt_out", sa.Boolean(), nullable=False),
        sa.Column("lists_in_apps", sa.Boolean(), nullable=False),
        _account_fk("feed_settings"),
        sa.PrimaryKeyConstraint("account_id", name="pk_feed_settings"),
    )

    op.create_table(
        "feed_viewpoints",
        sa.Column("account_id", sa.BigInteger(), nullable=False),
        sa.Column("factor", sa.Float(), nullable=False),
        sa.Column("engagements", sa.Integer(), nullable=False),
        sa.Column("computed_at", TS, nullable=False),
        _account_fk("feed_viewpoints"),
        sa.PrimaryKeyConstraint("account_id", name="pk_feed_viewpoints"),
    )

    for table, columns in (
        (
            "feed_post_sides",
            [
                sa.Column("side_a", sa.Float(), nullable=False),
                sa.Column("side_b", sa.Float(), nullable=False),
            ],
        ),
        ("feed_trending", [sa.Column("score", sa.Float(), nullable=False)]),
    ):
        op.create_table(
            table,
            sa.Column("status_id", sa.BigInteger(), nullable=False),
            *columns,
            sa.Column("computed_at", TS, nullable=False),
            _status_fk(table),
            sa.PrimaryKeyConstraint("status_id", name=f"pk_{table}"),
        )


def downgrade() -> None:
    for table in (
        "feed_trending",
        "feed_post_sides",
        "feed_viewpoints",
        "feed_settings",
        "feed_preferences",
        "feed_served",
    ):
        op.drop_table(table)
