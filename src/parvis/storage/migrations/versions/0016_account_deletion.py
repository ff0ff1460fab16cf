"""account deletion with a grace period

Column: users.delete_after (the account is closed and will be erased after this moment unless
its user cancels), users.closed_by_deletion (the request is what suspended it).
Tables: erased_usernames (keyed hashes of the names never to be given again),
account_tombstones (erased accounts kept as bare actors while their Delete is delivered).

Revision ID: 0016
Revises: 0015
Create Date: 2026-11-24 09:10:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0016"
down_revision = "0015"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("users") as batch:
        batch.add_column(sa.Column("delete_after", sa.DateTime(timezone=True), nullable=True))
        batch.create_index("ix_users_delete_after", ["delete_after"])
        batch.add_column(
            sa.Column("closed_by_deletion", sa.Boolean(), nullable=False, server_default=sa.false())
        )
    op.create_table(
        "erased_usernames",
        sa.Column("digest", sa.String(64), nullable=False),
        sa.PrimaryKeyConstraint("digest", name="pk_erased_usernames"),
    )
    op.create_table(
        "account_tombstones",
        sa.Column("account_id", sa.BigInteger(), nullable=False),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("erased_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["account_id"],
            ["accounts.id"],
            name="fk_account_tombstones_account_id_accounts",
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("account_id", name="pk_account_tombstones"),
    )


def downgrade() -> None:
    op.drop_table("account_tombstones")
    op.drop_table("erased_usernames")
    with op.batch_alter_table("users") as batch:
        batch.drop_column("closed_by_deletion")
        batch.drop_index("ix_users_delete_after")
        batch.drop_column("delete_after")
