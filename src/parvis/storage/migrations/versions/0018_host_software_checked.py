"""when a host's software was last read

Column: federation_hosts.software_checked_at (NodeInfo is asked again after a week: a server
may change software, or move to Parvis).

Revision ID: 0018
Revises: 0017
Create Date: 2026-11-24 10:00:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0018"
down_revision = "0017"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("federation_hosts") as batch:
        batch.add_column(
            sa.Column("software_checked_at", sa.DateTime(timezone=True), nullable=True)
        )


def downgrade() -> None:
    with op.batch_alter_table("federation_hosts") as batch:
        batch.drop_column("software_checked_at")
