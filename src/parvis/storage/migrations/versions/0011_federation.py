"""federation

Tables: federation_inbox (inbound activities, stored before they are processed),
federation_deliveries (the transactional outbox: one row per activity and inbox),
federation_hosts (circuit breaker, dead servers), instance_domain_blocks (the operator's),
account_aliases (alsoKnownAs). Accounts gain what a remote actor document says (type, key id,
collections, when fetched); statuses gain the parent's URI for replies to unknown posts.

Revision ID: 0011
Revises: 0010
Create Date: 2026-11-23 17:00:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None

TS = sa.DateTime(timezone=True)
_ACCOUNT_COLUMNS = ("outbox_uri", "followers_uri", "following_uri", "featured_uri")


def upgrade() -> None:
    with op.batch_alter_table("accounts") as batch_op:
        batch_op.add_column(sa.Column("actor_type", sa.String(16), nullable=True))
        batch_op.add_column(sa.Column("key_uri", sa.String(2048), nullable=True))
        for name in _ACCOUNT_COLUMNS:
            batch_op.add_column(sa.Column(name, sa.String(2048), nullable=True))
        batch_op.add_column(sa.Column("fetched_at", TS, nullable=True))
    op.create_index("ix_accounts_key_uri", "accounts", ["key_uri"])
    with op.batch_alter_table("statuses") as batch_op:
        batch_op.add_column(sa.Column("in_reply_to_uri", sa.String(2048), nullable=True))

    op.create_table(
        "federation_inbox",
        sa.Column("id", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("activity_uri", sa.String(2048), nullable=False),
        sa.Column("actor_uri", sa.String(2048), nullable=False),
        sa.Column("type", sa.String(32), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("error", sa.Text(), nullable=False),
        sa.Column("received_at", TS, nullable=False),
        sa.Column("processed_at", TS, nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_federation_inbox"),
        sa.UniqueConstraint("activity_uri", name="uq_federation_inbox_activity_uri"),
    )
    op.create_index("ix_federation_inbox_state", "federation_inbox", ["state", "id"])

    op.create_table(
        "federation_deliveries",
        sa.Column("id", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("activity_uri", sa.String(2048), nullable=False),
        sa.Column("account_id", sa.BigInteger(), nullable=False),
        sa.Column("inbox_uri", sa.String(2048), nullable=False),
        sa.Column("host", sa.String(255), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("next_attempt_at", TS, nullable=False),
        sa.Column("last_error", sa.Text(), nullable=False),
        sa.Column("created_at", TS, nullable=False),
        sa.Column("delivered_at", TS, nullable=True),
        sa.ForeignKeyConstraint(
            ["account_id"],
            ["accounts.id"],
            name="fk_federation_deliveries_account_id_accounts",
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name="pk_federation_deliveries"),
        sa.UniqueConstraint(
            "activity_uri", "inbox_uri", name="uq_federation_deliveries_activity_uri_inbox_uri"
        ),
    )
    op.create_index("ix_federation_deliveries_host", "federation_deliveries", ["host"])
    op.create_index(
        "ix_federation_deliveries_due", "federation_deliveries", ["state", "next_attempt_at"]
    )

    op.create_table(
        "federation_hosts",
        sa.Column("host", sa.String(255), nullable=False),
        sa.Column("consecutive_failures", sa.Integer(), nullable=False),
        sa.Column("first_failure_at", TS, nullable=True),
        sa.Column("open_until", TS, nullable=True),
        sa.Column("dead_at", TS, nullable=True),
        sa.Column("last_success_at", TS, nullable=True),
        sa.Column("software", sa.String(64), nullable=False),
        sa.PrimaryKeyConstraint("host", name="pk_federation_hosts"),
    )

    op.create_table(
        "instance_domain_blocks",
        sa.Column("id", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("domain", sa.String(255), nullable=False),
        sa.Column("severity", sa.String(16), nullable=False),
        sa.Column("reject_media", sa.Boolean(), nullable=False),
        sa.Column("reject_reports", sa.Boolean(), nullable=False),
        sa.Column("public_comment", sa.Text(), nullable=False),
        sa.Column("private_comment", sa.Text(), nullable=False),
        sa.Column("created_at", TS, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_instance_domain_blocks"),
        sa.UniqueConstraint("domain", name="uq_instance_domain_blocks_domain"),
    )

    op.create_table(
        "account_aliases",
        sa.Column("id", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("account_id", sa.BigInteger(), nullable=False),
        sa.Column("uri", sa.String(2048), nullable=False),
        sa.Column("created_at", TS, nullable=False),
        sa.ForeignKeyConstraint(
            ["account_id"],
            ["accounts.id"],
            name="fk_account_aliases_account_id_accounts",
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name="pk_account_aliases"),
        sa.UniqueConstraint("account_id", "uri", name="uq_account_aliases_account_id_uri"),
    )
    op.create_index("ix_account_aliases_account_id", "account_aliases", ["account_id"])


def _drop_column(table: str, column: str) -> None:
    """A plain ALTER TABLE … DROP COLUMN: batch mode would rebuild `accounts`, and on SQLite
    dropping that table deletes every row that cascades from it (see 0010)."""
    op.execute(f"ALTER TABLE {table} DROP COLUMN {column}")


def downgrade() -> None:
    for table in (
        "account_aliases",
        "instance_domain_blocks",
        "federation_hosts",
        "federation_deliveries",
        "federation_inbox",
    ):
        op.drop_table(table)
    _drop_column("statuses", "in_reply_to_uri")
    op.drop_index("ix_accounts_key_uri", table_name="accounts")
    for name in ("actor_type", "key_uri", *_ACCOUNT_COLUMNS, "fetched_at"):
        _drop_column("accounts", name)
