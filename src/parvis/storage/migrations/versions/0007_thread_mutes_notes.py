"""thread mutes, account notes

Tables: thread_mutes (threads an account muted, by root status id) and account_notes (the
private note an account keeps about another).

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-23 12:00:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None

TS = sa.DateTime(timezone=True)


def _account_fk(table: str, column: str) -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint(
        [column], ["accounts.id"], name=op.f(f"fk_{table}_{column}_accounts"), ondelete="CASCADE"
    )


def upgrade() -> None:
    op.create_table(
        "thread_mutes",
        sa.Column("account_id", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("thread_root_id", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("created_at", TS, nullable=False),
        _account_fk("thread_mutes", "account_id"),
        sa.PrimaryKeyConstraint("account_id", "thread_root_id", name=op.f("pk_thread_mutes")),
    )
    op.create_table(
        "account_notes",
        sa.Column("account_id", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("target_account_id", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("comment", sa.Text(), nullable=False),
        sa.Column("updated_at", TS, nullable=False),
        _account_fk("account_notes", "account_id"),
        _account_fk("account_notes", "target_account_id"),
        sa.PrimaryKeyConstraint("account_id", "target_account_id", name=op.f("pk_account_notes")),
    )
    op.create_index(
        op.f("ix_account_notes_target_account_id"), "account_notes", ["target_account_id"]
    )


def downgrade() -> None:
    op.drop_table("account_notes")
    op.drop_table("thread_mutes")
