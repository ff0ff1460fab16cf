"""account deletion with a grace period

Column: users.delete_after (the account is closed and will be erased after this moment unless
its user cancels).

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


def downgrade() -> None:
    with op.batch_alter_table("users") as batch:
        batch.drop_index("ix_users_delete_after")
        batch.drop_column("delete_after")
