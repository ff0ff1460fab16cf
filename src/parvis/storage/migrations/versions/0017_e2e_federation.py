"""end-to-end encrypted messages between servers

Columns: e2e_devices.uri and .fetched_at (a remote device, stored under its home server's id),
e2e_conversations.uri (a conversation with people on other servers, under the id its starter's
server gave it), e2e_messages.uri (a message received from another server). Table:
e2e_remote_accounts (where a remote account lists its devices, when they were last read, the
device ids refused from that list).

Revision ID: 0017
Revises: 0016
Create Date: 2026-11-24 09:20:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0017"
down_revision = "0016"
branch_labels = None
depends_on = None

TS = sa.DateTime(timezone=True)
URI = sa.String(2048)


def upgrade() -> None:
    with op.batch_alter_table("e2e_devices") as batch:
        batch.add_column(sa.Column("uri", URI, nullable=True))
        batch.add_column(sa.Column("fetched_at", TS, nullable=True))
        batch.create_index("ix_e2e_devices_uri", ["uri"], unique=True)
    with op.batch_alter_table("e2e_conversations") as batch:
        batch.add_column(sa.Column("uri", URI, nullable=True))
        batch.create_index("ix_e2e_conversations_uri", ["uri"], unique=True)
    with op.batch_alter_table("e2e_messages") as batch:
        batch.add_column(sa.Column("uri", URI, nullable=True))
        batch.create_index("ix_e2e_messages_uri", ["uri"], unique=True)
    op.create_table(
        "e2e_remote_accounts",
        sa.Column("account_id", sa.BigInteger(), nullable=False),
        sa.Column("devices_uri", URI, nullable=True),
        sa.Column("fetched_at", TS, nullable=True),
        sa.Column("refused", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(
            ["account_id"],
            ["accounts.id"],
            name="fk_e2e_remote_accounts_account_id_accounts",
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("account_id", name="pk_e2e_remote_accounts"),
    )


def downgrade() -> None:
    op.drop_table("e2e_remote_accounts")
    for table in ("e2e_messages", "e2e_conversations", "e2e_devices"):
        with op.batch_alter_table(table) as batch:
            batch.drop_index(f"ix_{table}_uri")
            batch.drop_column("uri")
    with op.batch_alter_table("e2e_devices") as batch:
        batch.drop_column("fetched_at")
