"""transparency log

Tables: transparency_log_entries (the leaves: canonical JSON of each moderation decision, no
personal data), transparency_log_nodes (every complete subtree above the leaves, once),
transparency_log_checkpoints (each signed tree head), transparency_log_state (one row: the tree
size and its right edge, locked by each append). See parvis.domain.merkle.

Revision ID: 0009
Revises: 0008
Create Date: 2026-11-23 12:00:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None

TS = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "transparency_log_entries",
        sa.Column("idx", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("data", sa.Text(), nullable=False),
        sa.Column("leaf_hash", sa.String(length=64), nullable=False),
        sa.Column("created_at", TS, nullable=False),
        sa.PrimaryKeyConstraint("idx", name=op.f("pk_transparency_log_entries")),
    )
    op.create_table(
        "transparency_log_nodes",
        sa.Column("level", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("idx", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("hash", sa.String(length=64), nullable=False),
        sa.PrimaryKeyConstraint("level", "idx", name=op.f("pk_transparency_log_nodes")),
    )
    op.create_table(
        "transparency_log_checkpoints",
        sa.Column("tree_size", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("root_hash", sa.String(length=64), nullable=False),
        sa.Column("note", sa.Text(), nullable=False),
        sa.Column("created_at", TS, nullable=False),
        sa.PrimaryKeyConstraint("tree_size", name=op.f("pk_transparency_log_checkpoints")),
    )
    state = op.create_table(
        "transparency_log_state",
        sa.Column("id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("tree_size", sa.BigInteger(), nullable=False),
        sa.Column("frontier", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_transparency_log_state")),
    )
    # The one row every append locks (so concurrent appends on PostgreSQL queue up).
    op.bulk_insert(state, [{"id": 1, "tree_size": 0, "frontier": ""}])


def downgrade() -> None:
    op.drop_table("transparency_log_state")
    op.drop_table("transparency_log_checkpoints")
    op.drop_table("transparency_log_nodes")
    op.drop_table("transparency_log_entries")
