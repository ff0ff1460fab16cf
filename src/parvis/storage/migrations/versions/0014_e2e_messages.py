"""end-to-end encrypted messages

Tables: e2e_devices (each device's public identity and agreement keys, signed), e2e_conversations
and e2e_participants (fixed sets of local accounts), e2e_messages (envelopes: ciphertext, the
key sealed to each device, the sender device's signature), e2e_deliveries (each device's queue).

Revision ID: 0014
Revises: 0013
Create Date: 2026-11-26 10:00:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None

TS = sa.DateTime(timezone=True)
ID = sa.BigInteger()


def _fk(column: str, table: str, source: str, ondelete: str = "CASCADE") -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint(
        [column], [f"{table}.id"], name=f"fk_{source}_{column}_{table}", ondelete=ondelete
    )


def upgrade() -> None:
    op.create_table(
        "e2e_devices",
        sa.Column("id", ID, autoincrement=False, nullable=False),
        sa.Column("account_id", ID, nullable=False),
        sa.Column("identity_key", sa.LargeBinary(32), nullable=False),
        sa.Column("agreement_key", sa.LargeBinary(32), nullable=False),
        sa.Column("signature", sa.LargeBinary(64), nullable=False),
        sa.Column("label", sa.String(64), nullable=False),
        sa.Column("created_at", TS, nullable=False),
        sa.Column("revoked_at", TS, nullable=True),
        _fk("account_id", "accounts", "e2e_devices"),
        sa.PrimaryKeyConstraint("id", name="pk_e2e_devices"),
        sa.UniqueConstraint("identity_key", name="uq_e2e_devices_identity_key"),
    )
    op.create_index("ix_e2e_devices_account_id", "e2e_devices", ["account_id"])

    op.create_table(
        "e2e_conversations",
        sa.Column("id", ID, autoincrement=False, nullable=False),
        sa.Column("created_by", ID, nullable=True),
        sa.Column("pair_key", sa.String(41), nullable=True),
        sa.Column("created_at", TS, nullable=False),
        sa.Column("activity_id", ID, nullable=False),
        _fk("created_by", "accounts", "e2e_conversations", "SET NULL"),
        sa.PrimaryKeyConstraint("id", name="pk_e2e_conversations"),
        sa.UniqueConstraint("pair_key", name="uq_e2e_conversations_pair_key"),
    )
    op.create_index("ix_e2e_conversations_activity_id", "e2e_conversations", ["activity_id"])

    op.create_table(
        "e2e_participants",
        sa.Column("conversation_id", ID, nullable=False),
        sa.Column("account_id", ID, nullable=False),
        _fk("conversation_id", "e2e_conversations", "e2e_participants"),
        _fk("account_id", "accounts", "e2e_participants"),
        sa.PrimaryKeyConstraint("conversation_id", "account_id", name="pk_e2e_participants"),
    )
    op.create_index("ix_e2e_participants_account_id", "e2e_participants", ["account_id"])

    op.create_table(
        "e2e_messages",
        sa.Column("id", ID, autoincrement=False, nullable=False),
        sa.Column("conversation_id", ID, nullable=False),
        sa.Column("sender_account_id", ID, nullable=False),
        sa.Column("sender_device_id", ID, nullable=False),
        sa.Column("created_at", TS, nullable=False),
        sa.Column("envelope", sa.LargeBinary(), nullable=False),
        _fk("conversation_id", "e2e_conversations", "e2e_messages"),
        _fk("sender_account_id", "accounts", "e2e_messages"),
        _fk("sender_device_id", "e2e_devices", "e2e_messages"),
        sa.PrimaryKeyConstraint("id", name="pk_e2e_messages"),
    )
    for column in ("conversation_id", "sender_account_id", "sender_device_id"):
        op.create_index(f"ix_e2e_messages_{column}", "e2e_messages", [column])

    op.create_table(
        "e2e_deliveries",
        sa.Column("device_id", ID, nullable=False),
        sa.Column("message_id", ID, nullable=False),
        sa.Column("fetched_at", TS, nullable=True),
        _fk("device_id", "e2e_devices", "e2e_deliveries"),
        _fk("message_id", "e2e_messages", "e2e_deliveries"),
        sa.PrimaryKeyConstraint("device_id", "message_id", name="pk_e2e_deliveries"),
    )
    op.create_index("ix_e2e_deliveries_message_id", "e2e_deliveries", ["message_id"])


def downgrade() -> None:
    for table in (
        "e2e_deliveries",
        "e2e_messages",
        "e2e_participants",
        "e2e_conversations",
        "e2e_devices",
    ):
        op.drop_table(table)
