"""end-to-end encrypted history given to a new device

Table: e2e_history_keys (a message key re-sealed by an old device of the same account to a
new one, on the user's request, so that the new device can read what was sent before it
existed; docs/messaging.md, "History on a new device").

Revision ID: 0019
Revises: 0018
Create Date: 2026-11-24 11:00:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0019"
down_revision = "0018"
branch_labels = None
depends_on = None

ID = sa.BigInteger()


def _fk(column: str, table: str) -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint(
        [column], [f"{table}.id"], name=f"fk_e2e_history_keys_{column}_{table}", ondelete="CASCADE"
    )


def upgrade() -> None:
    op.create_table(
        "e2e_history_keys",
        sa.Column("device_id", ID, nullable=False),
        sa.Column("message_id", ID, nullable=False),
        sa.Column("sealed_key", sa.LargeBinary(80), nullable=False),
        sa.Column("given_by_device_id", ID, nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        _fk("device_id", "e2e_devices"),
        _fk("message_id", "e2e_messages"),
        _fk("given_by_device_id", "e2e_devices"),
        sa.PrimaryKeyConstraint("device_id", "message_id", name="pk_e2e_history_keys"),
    )
    op.create_index("ix_e2e_history_keys_message_id", "e2e_history_keys", ["message_id"])
    op.create_index(
        "ix_e2e_history_keys_given_by_device_id", "e2e_history_keys", ["given_by_device_id"]
    )


def downgrade() -> None:
    op.drop_table("e2e_history_keys")
