"""accountable moderation

Tables: mod_cases, mod_events (append-only), notice_items, decisions, appeals, trusted_flaggers,
authority_orders, moderators, rules; notices gain the DSA art. 16 fields and lose their single
reported item (moved to notice_items, each filed under the case of its subject); statuses and
accounts gain the restriction columns a decision sets.

Revision ID: 0010
Revises: 0009
Create Date: 2026-11-23 12:10:00.000000
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from alembic import op

from parvis.domain.ids import new_id

TS = sa.DateTime(timezone=True)

# What the report form's old categories became (parvis.domain.moderation OFFENCES).
_OLD_CATEGORIES = {
    "illegal": ("other", "STATEMENT_CATEGORY_NOT_SPECIFIED_NOTICE"),
    "harassment": ("harassment", "STATEMENT_CATEGORY_CYBER_VIOLENCE"),
    "hate": ("racial_hatred", "STATEMENT_CATEGORY_ILLEGAL_OR_HARMFUL_SPEECH"),
    "violence": ("incitement_to_violence", "STATEMENT_CATEGORY_VIOLENCE"),
    "terrorism": ("terrorism", "STATEMENT_CATEGORY_RISK_FOR_PUBLIC_SECURITY"),
    "child_abuse": ("child_abuse", "STATEMENT_CATEGORY_PROTECTION_OF_MINORS"),
    "spam": ("spam", "STATEMENT_CATEGORY_OTHER_VIOLATION_TC"),
    "other": ("other", "STATEMENT_CATEGORY_NOT_SPECIFIED_NOTICE"),
}


def _old_notices() -> list[Any]:
    """The notices as 0008 kept them: one reported item each."""
    return list(
        op.get_bind()
        .execute(sa.text("SELECT id, status_id, account_id, category, created_at FROM notices"))
        .all()
    )


def _file_old_notices(rows: list[Any]) -> None:
    """Each old notice's single item becomes a notice_items row under its subject's case (one
    case per subject), and its category takes the new offence name. Run once the notices
    table has its final shape: on SQLite, rebuilding a table deletes the rows that cascade
    from it."""
    conn = op.get_bind()
    cases: dict[tuple[str, int], int] = {}
    for notice_id, status_id, account_id, category, created_at in sorted(rows):
        subject = ("status", status_id) if status_id is not None else ("account", account_id)
        case_id = cases.get(subject)
        if case_id is None:
            case_id = cases[subject] = new_id()
            conn.execute(
                sa.text(
                    "INSERT INTO mod_cases (id, subject_type, subject_id, account_id, state,"
                    " priority, opened_at, due_at, escalated, language, open_notices,"
                    " updated_at) VALUES (:id, :type, :subject, :account, 'open', 2, :at,"
                    " :at, :no, '', 0, :at)"
                ),
                {
                    "id": case_id,
                    "type": subject[0],
                    "subject": subject[1],
                    "account": account_id,
                    "at": created_at,
                    "no": False,
                },
            )
        conn.execute(
            sa.text("UPDATE mod_cases SET open_notices = open_notices + 1 WHERE id = :id"),
            {"id": case_id},
        )
        conn.execute(
            sa.text(
                "INSERT INTO notice_items (id, notice_id, case_id, status_id, account_id)"
                " VALUES (:id, :notice, :case, :status, :account)"
            ),
            {
                "id": new_id(),
                "notice": notice_id,
                "case": case_id,
                "status": status_id,
                "account": account_id,
            },
        )
        offence, dsa = _OLD_CATEGORIES.get(category, _OLD_CATEGORIES["other"])
        conn.execute(
            sa.text("UPDATE notices SET category = :c, dsa_category = :d WHERE id = :id"),
            {"c": offence, "d": dsa, "id": notice_id},
        )


def _drop_column(table: str, column: str) -> None:
    """A plain ALTER TABLE … DROP COLUMN (SQLite 3.35+ and PostgreSQL). Batch mode would
    rebuild the table, and on SQLite dropping a table like `accounts` deletes every row that
    cascades from it."""
    op.execute(f"ALTER TABLE {table} DROP COLUMN {column}")


revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    old = _old_notices()
    op.create_table(
        "rules",
        sa.Column("id", sa.String(length=16), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("hint", sa.Text(), nullable=False),
        sa.Column("valid_from", TS, nullable=False),
        sa.Column("valid_to", TS, nullable=True),
        sa.PrimaryKeyConstraint("id", "version", name=op.f("pk_rules")),
    )
    op.create_table(
        "authority_orders",
        sa.Column("id", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("authority", sa.String(length=300), nullable=False),
        sa.Column("member_state", sa.String(length=2), nullable=False),
        sa.Column("legal_basis", sa.Text(), nullable=False),
        sa.Column("dsa_category", sa.String(length=80), nullable=False),
        sa.Column("reference", sa.String(length=200), nullable=False),
        sa.Column("items", sa.Text(), nullable=False),
        sa.Column("received_at", TS, nullable=False),
        sa.Column("acknowledged_at", TS, nullable=True),
        sa.Column("carried_out_at", TS, nullable=True),
        sa.Column("effect", sa.Text(), nullable=False),
        sa.Column("provided", sa.Text(), nullable=False),
        sa.Column("not_held", sa.Text(), nullable=False),
        sa.Column("case_id", sa.BigInteger(), nullable=True),
        sa.Column("created_by", sa.BigInteger(), nullable=True),
        sa.ForeignKeyConstraint(
            ["created_by"],
            ["accounts.id"],
            name=op.f("fk_authority_orders_created_by_accounts"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_authority_orders")),
    )
    with op.batch_alter_table("authority_orders", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_authority_orders_received_at"), ["received_at"], unique=False
        )

    op.create_table(
        "mod_cases",
        sa.Column("id", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("subject_type", sa.String(length=8), nullable=False),
        sa.Column("subject_id", sa.BigInteger(), nullable=False),
        sa.Column("account_id", sa.BigInteger(), nullable=True),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("priority", sa.Integer(), nullable=False),
        sa.Column("opened_at", TS, nullable=False),
        sa.Column("due_at", TS, nullable=True),
        sa.Column("assignee_id", sa.BigInteger(), nullable=True),
        sa.Column("escalated", sa.Boolean(), nullable=False),
        sa.Column("language", sa.String(length=8), nullable=False),
        sa.Column("open_notices", sa.Integer(), nullable=False),
        sa.Column("last_decision_id", sa.BigInteger(), nullable=True),
        sa.Column("updated_at", TS, nullable=False),
        sa.ForeignKeyConstraint(
            ["account_id"],
            ["accounts.id"],
            name=op.f("fk_mod_cases_account_id_accounts"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["assignee_id"],
            ["accounts.id"],
            name=op.f("fk_mod_cases_assignee_id_accounts"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_mod_cases")),
        sa.UniqueConstraint(
            "subject_type", "subject_id", name=op.f("uq_mod_cases_subject_type_subject_id")
        ),
    )
    with op.batch_alter_table("mod_cases", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_mod_cases_account_id"), ["account_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_mod_cases_assignee_id"), ["assignee_id"], unique=False)
        batch_op.create_index("ix_mod_cases_queue", ["state", "priority", "due_at"], unique=False)

    op.create_table(
        "moderators",
        sa.Column("account_id", sa.BigInteger(), nullable=False),
        sa.Column("languages", sa.Text(), nullable=False),
        sa.Column("country", sa.String(length=2), nullable=False),
        sa.Column("training", sa.Text(), nullable=False),
        sa.Column("paid", sa.Boolean(), nullable=False),
        sa.Column("since", TS, nullable=False),
        sa.Column("until", TS, nullable=True),
        sa.ForeignKeyConstraint(
            ["account_id"],
            ["accounts.id"],
            name=op.f("fk_moderators_account_id_accounts"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("account_id", name=op.f("pk_moderators")),
    )
    op.create_table(
        "trusted_flaggers",
        sa.Column("id", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("account_id", sa.BigInteger(), nullable=True),
        sa.Column("coordinator", sa.String(length=200), nullable=False),
        sa.Column("member_state", sa.String(length=2), nullable=False),
        sa.Column("areas", sa.Text(), nullable=False),
        sa.Column("created_at", TS, nullable=False),
        sa.Column("revoked_at", TS, nullable=True),
        sa.ForeignKeyConstraint(
            ["account_id"],
            ["accounts.id"],
            name=op.f("fk_trusted_flaggers_account_id_accounts"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_trusted_flaggers")),
    )
    with op.batch_alter_table("trusted_flaggers", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_trusted_flaggers_account_id"), ["account_id"], unique=False
        )

    op.create_table(
        "decisions",
        sa.Column("id", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("puid", sa.String(length=64), nullable=False),
        sa.Column("case_id", sa.BigInteger(), nullable=False),
        sa.Column("subject_type", sa.String(length=8), nullable=False),
        sa.Column("subject_id", sa.BigInteger(), nullable=False),
        sa.Column("account_id", sa.BigInteger(), nullable=True),
        sa.Column("status_id", sa.BigInteger(), nullable=True),
        sa.Column("action", sa.String(length=32), nullable=False),
        sa.Column("ground", sa.String(length=8), nullable=False),
        sa.Column("rule_id", sa.String(length=16), nullable=False),
        sa.Column("rule_version", sa.Integer(), nullable=True),
        sa.Column("legal_ground", sa.Text(), nullable=False),
        sa.Column("explanation", sa.Text(), nullable=False),
        sa.Column("facts", sa.Text(), nullable=False),
        sa.Column("dsa_category", sa.String(length=80), nullable=False),
        sa.Column("keywords", sa.Text(), nullable=False),
        sa.Column("territorial_scope", sa.Text(), nullable=False),
        sa.Column("content_type", sa.Text(), nullable=False),
        sa.Column("content_language", sa.String(length=8), nullable=False),
        sa.Column("content_date", TS, nullable=False),
        sa.Column("label", sa.String(length=200), nullable=False),
        sa.Column("starts_at", TS, nullable=False),
        sa.Column("ends_at", TS, nullable=True),
        sa.Column("source_type", sa.String(length=40), nullable=False),
        sa.Column("source_identity", sa.String(length=500), nullable=False),
        sa.Column("automated_detection", sa.Boolean(), nullable=False),
        sa.Column("automated_decision", sa.String(length=40), nullable=False),
        sa.Column("moderator_id", sa.BigInteger(), nullable=True),
        sa.Column("misuse", sa.String(length=32), nullable=False),
        sa.Column("created_at", TS, nullable=False),
        sa.Column("notified_at", TS, nullable=True),
        sa.Column("reversed_at", TS, nullable=True),
        sa.Column("reversed_by_appeal_id", sa.BigInteger(), nullable=True),
        sa.Column("log_index", sa.BigInteger(), nullable=True),
        sa.Column("tdb_submitted_at", TS, nullable=True),
        sa.Column("tdb_uuid", sa.String(length=64), nullable=False),
        sa.ForeignKeyConstraint(
            ["account_id"],
            ["accounts.id"],
            name=op.f("fk_decisions_account_id_accounts"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["case_id"],
            ["mod_cases.id"],
            name=op.f("fk_decisions_case_id_mod_cases"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["moderator_id"],
            ["accounts.id"],
            name=op.f("fk_decisions_moderator_id_accounts"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_decisions")),
        sa.UniqueConstraint("puid", name=op.f("uq_decisions_puid")),
    )
    with op.batch_alter_table("decisions", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_decisions_account_id"), ["account_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_decisions_case_id"), ["case_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_decisions_created_at"), ["created_at"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_decisions_moderator_id"), ["moderator_id"], unique=False
        )

    op.create_table(
        "mod_events",
        sa.Column("id", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("case_id", sa.BigInteger(), nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("actor_id", sa.BigInteger(), nullable=True),
        sa.Column("data", sa.Text(), nullable=False),
        sa.Column("created_at", TS, nullable=False),
        sa.ForeignKeyConstraint(
            ["actor_id"],
            ["accounts.id"],
            name=op.f("fk_mod_events_actor_id_accounts"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["case_id"],
            ["mod_cases.id"],
            name=op.f("fk_mod_events_case_id_mod_cases"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_mod_events")),
    )
    with op.batch_alter_table("mod_events", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_mod_events_case_id"), ["case_id"], unique=False)

    op.create_table(
        "appeals",
        sa.Column("id", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("decision_id", sa.BigInteger(), nullable=False),
        sa.Column("appellant_role", sa.String(length=16), nullable=False),
        sa.Column("appellant_account_id", sa.BigInteger(), nullable=True),
        sa.Column("notice_id", sa.BigInteger(), nullable=True),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("filed_at", TS, nullable=False),
        sa.Column("reviewer_id", sa.BigInteger(), nullable=True),
        sa.Column("outcome", sa.String(length=16), nullable=False),
        sa.Column("reply", sa.Text(), nullable=False),
        sa.Column("decided_at", TS, nullable=True),
        sa.ForeignKeyConstraint(
            ["appellant_account_id"],
            ["accounts.id"],
            name=op.f("fk_appeals_appellant_account_id_accounts"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["decision_id"],
            ["decisions.id"],
            name=op.f("fk_appeals_decision_id_decisions"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["reviewer_id"],
            ["accounts.id"],
            name=op.f("fk_appeals_reviewer_id_accounts"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_appeals")),
    )
    with op.batch_alter_table("appeals", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_appeals_appellant_account_id"), ["appellant_account_id"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_appeals_decision_id"), ["decision_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_appeals_filed_at"), ["filed_at"], unique=False)

    op.create_table(
        "notice_items",
        sa.Column("id", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("notice_id", sa.BigInteger(), nullable=False),
        sa.Column("case_id", sa.BigInteger(), nullable=False),
        sa.Column("status_id", sa.BigInteger(), nullable=True),
        sa.Column("account_id", sa.BigInteger(), nullable=True),
        sa.Column("decision_id", sa.BigInteger(), nullable=True),
        sa.Column("decided_at", TS, nullable=True),
        sa.ForeignKeyConstraint(
            ["account_id"],
            ["accounts.id"],
            name=op.f("fk_notice_items_account_id_accounts"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["case_id"],
            ["mod_cases.id"],
            name=op.f("fk_notice_items_case_id_mod_cases"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["notice_id"],
            ["notices.id"],
            name=op.f("fk_notice_items_notice_id_notices"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_notice_items")),
    )
    with op.batch_alter_table("notice_items", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_notice_items_account_id"), ["account_id"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_notice_items_case_id"), ["case_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_notice_items_notice_id"), ["notice_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_notice_items_status_id"), ["status_id"], unique=False)

    with op.batch_alter_table("notifications", schema=None) as batch_op:
        batch_op.add_column(sa.Column("decision_id", sa.BigInteger(), nullable=True))

    with op.batch_alter_table("accounts", schema=None) as batch_op:
        batch_op.add_column(sa.Column("suspended_until", TS, nullable=True))
        batch_op.add_column(sa.Column("notices_suspended_until", TS, nullable=True))

    with op.batch_alter_table("notices", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column(
                "dsa_category",
                sa.String(length=80),
                nullable=False,
                server_default="STATEMENT_CATEGORY_NOT_SPECIFIED_NOTICE",
            )
        )
        batch_op.add_column(sa.Column("legal_ground", sa.Text(), nullable=False, server_default=""))
        batch_op.add_column(
            sa.Column("rule_ids", sa.String(length=200), nullable=False, server_default="")
        )
        batch_op.add_column(
            sa.Column("channel", sa.String(length=16), nullable=False, server_default="web")
        )
        batch_op.add_column(sa.Column("trusted_flagger_id", sa.BigInteger(), nullable=True))
        batch_op.add_column(
            sa.Column("remote_actor", sa.String(length=2048), nullable=False, server_default="")
        )
        batch_op.add_column(
            sa.Column("receipt_hash", sa.String(length=64), nullable=False, server_default="")
        )
        batch_op.add_column(
            sa.Column("language", sa.String(length=8), nullable=False, server_default="")
        )
        batch_op.add_column(sa.Column("priority", sa.Integer(), nullable=False, server_default="2"))
        batch_op.add_column(
            sa.Column("automated", sa.Boolean(), nullable=False, server_default=sa.false())
        )
        batch_op.add_column(sa.Column("acknowledged_at", TS, nullable=True))
        batch_op.add_column(sa.Column("due_at", TS, nullable=True))
        batch_op.add_column(sa.Column("decided_at", TS, nullable=True))
        batch_op.add_column(
            sa.Column("outcome", sa.String(length=16), nullable=False, server_default="")
        )
        batch_op.add_column(sa.Column("notified_at", TS, nullable=True))

    with op.batch_alter_table("notices", schema=None) as batch_op:
        batch_op.alter_column(
            "category",
            existing_type=sa.VARCHAR(length=32),
            type_=sa.String(length=48),
            existing_nullable=False,
        )
        batch_op.drop_index(batch_op.f("ix_notices_account_id"))
        batch_op.drop_index(batch_op.f("ix_notices_status_id"))
        batch_op.create_index(batch_op.f("ix_notices_created_at"), ["created_at"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_notices_trusted_flagger_id"), ["trusted_flagger_id"], unique=False
        )
        batch_op.drop_constraint(batch_op.f("fk_notices_account_id_accounts"), type_="foreignkey")
        batch_op.create_foreign_key(
            batch_op.f("fk_notices_trusted_flagger_id_trusted_flaggers"),
            "trusted_flaggers",
            ["trusted_flagger_id"],
            ["id"],
            ondelete="SET NULL",
        )
        batch_op.drop_column("account_id")
        batch_op.drop_column("status_id")

    _file_old_notices(old)

    with op.batch_alter_table("statuses", schema=None) as batch_op:
        batch_op.add_column(sa.Column("restriction", sa.String(length=24), nullable=True))
        batch_op.add_column(sa.Column("restriction_until", TS, nullable=True))
        batch_op.add_column(
            sa.Column("restriction_scope", sa.String(length=200), nullable=False, server_default="")
        )
        batch_op.add_column(
            sa.Column("restriction_label", sa.String(length=200), nullable=False, server_default="")
        )


def downgrade() -> None:
    _drop_column("statuses", "restriction_label")
    _drop_column("statuses", "restriction_scope")
    _drop_column("statuses", "restriction_until")
    _drop_column("statuses", "restriction")

    with op.batch_alter_table("notices", schema=None) as batch_op:
        batch_op.add_column(sa.Column("status_id", sa.BIGINT(), nullable=True))
        batch_op.add_column(sa.Column("account_id", sa.BIGINT(), nullable=True))
    # Back to one item per notice: the first item; notices about no surviving account go.
    conn = op.get_bind()
    conn.execute(
        sa.text(
            "UPDATE notices SET"
            " status_id = (SELECT i.status_id FROM notice_items i WHERE i.notice_id = notices.id"
            " ORDER BY i.id LIMIT 1),"
            " account_id = (SELECT i.account_id FROM notice_items i"
            " WHERE i.notice_id = notices.id ORDER BY i.id LIMIT 1)"
        )
    )
    conn.execute(sa.text("DELETE FROM notices WHERE account_id IS NULL"))
    with op.batch_alter_table("notices", schema=None) as batch_op:
        batch_op.alter_column("account_id", existing_type=sa.BIGINT(), nullable=False)
        batch_op.drop_constraint(
            batch_op.f("fk_notices_trusted_flagger_id_trusted_flaggers"), type_="foreignkey"
        )
        batch_op.create_foreign_key(
            batch_op.f("fk_notices_account_id_accounts"),
            "accounts",
            ["account_id"],
            ["id"],
            ondelete="CASCADE",
        )
        batch_op.drop_index(batch_op.f("ix_notices_trusted_flagger_id"))
        batch_op.drop_index(batch_op.f("ix_notices_created_at"))
        batch_op.create_index(batch_op.f("ix_notices_status_id"), ["status_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_notices_account_id"), ["account_id"], unique=False)
        batch_op.alter_column(
            "category",
            existing_type=sa.String(length=48),
            type_=sa.VARCHAR(length=32),
            existing_nullable=False,
        )
        batch_op.drop_column("notified_at")
        batch_op.drop_column("outcome")
        batch_op.drop_column("decided_at")
        batch_op.drop_column("due_at")
        batch_op.drop_column("acknowledged_at")
        batch_op.drop_column("automated")
        batch_op.drop_column("priority")
        batch_op.drop_column("language")
        batch_op.drop_column("receipt_hash")
        batch_op.drop_column("remote_actor")
        batch_op.drop_column("trusted_flagger_id")
        batch_op.drop_column("channel")
        batch_op.drop_column("rule_ids")
        batch_op.drop_column("legal_ground")
        batch_op.drop_column("dsa_category")

    _drop_column("notifications", "decision_id")

    _drop_column("accounts", "notices_suspended_until")
    _drop_column("accounts", "suspended_until")

    with op.batch_alter_table("notice_items", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_notice_items_status_id"))
        batch_op.drop_index(batch_op.f("ix_notice_items_notice_id"))
        batch_op.drop_index(batch_op.f("ix_notice_items_case_id"))
        batch_op.drop_index(batch_op.f("ix_notice_items_account_id"))

    op.drop_table("notice_items")
    with op.batch_alter_table("appeals", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_appeals_filed_at"))
        batch_op.drop_index(batch_op.f("ix_appeals_decision_id"))
        batch_op.drop_index(batch_op.f("ix_appeals_appellant_account_id"))

    op.drop_table("appeals")
    with op.batch_alter_table("mod_events", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_mod_events_case_id"))

    op.drop_table("mod_events")
    with op.batch_alter_table("decisions", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_decisions_moderator_id"))
        batch_op.drop_index(batch_op.f("ix_decisions_created_at"))
        batch_op.drop_index(batch_op.f("ix_decisions_case_id"))
        batch_op.drop_index(batch_op.f("ix_decisions_account_id"))

    op.drop_table("decisions")
    with op.batch_alter_table("trusted_flaggers", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_trusted_flaggers_account_id"))

    op.drop_table("trusted_flaggers")
    op.drop_table("moderators")
    with op.batch_alter_table("mod_cases", schema=None) as batch_op:
        batch_op.drop_index("ix_mod_cases_queue")
        batch_op.drop_index(batch_op.f("ix_mod_cases_assignee_id"))
        batch_op.drop_index(batch_op.f("ix_mod_cases_account_id"))

    op.drop_table("mod_cases")
    with op.batch_alter_table("authority_orders", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_authority_orders_received_at"))

    op.drop_table("authority_orders")
    op.drop_table("rules")
