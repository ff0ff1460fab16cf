"""network addresses kept for a short while

Table: account_ips (the address each account signed up or signed in from, kept
`ip_retention_days`, then pruned).

Revision ID: 0015
Revises: 0014
Create Date: 2026-11-24 09:00:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0015"
down_revision = "0014"
branch_labels = None
depends_on = None

TS = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "account_ips",
        sa.Column("account_id", sa.BigInteger(), nullable=False),
        sa.Column("purpose", sa.String(16), nullable=False),
        sa.Column("ip", sa.String(45), nullable=False),
        sa.Column("first_seen_at", TS, nullable=False),
        sa.Column("last_seen_at", TS, nullable=False),
        sa.ForeignKeyConstraint(
            ["account_id"],
            ["accounts.id"],
            name="fk_account_ips_account_id_accounts",
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("account_id", "purpose", "ip", name="pk_account_ips"),
    )
    op.create_index("ix_account_ips_last_seen_at", "account_ips", ["last_seen_at"])
    op.create_index("ix_account_ips_ip", "account_ips", ["ip"])


def downgrade() -> None:
    op.drop_table("account_ips")
