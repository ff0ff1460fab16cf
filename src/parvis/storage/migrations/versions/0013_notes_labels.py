"""community notes and labels

Tables: community_notes (notes on posts with the scorer's latest output), community_note_ratings
(one per rater and note), community_note_status_changes (each note's status history),
community_note_raters (the scorer's latest output per rater), community_note_runs (every scoring
run, the latest with its warm-start state); label_signals and label_signal_accounts (what the
automation and coordination detectors found, for moderators), account_labels (confirmed
labels), label_preferences (show, warn or hide, per user and label).

Revision ID: 0013
Revises: 0012
Create Date: 2026-11-23 23:50:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0013"
down_revision = "0012"
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
        "community_notes",
        sa.Column("id", ID, autoincrement=False, nullable=False),
        sa.Column("uri", sa.String(2048), nullable=False),
        sa.Column("status_id", ID, nullable=False),
        sa.Column("author_id", ID, nullable=False),
        sa.Column("classification", sa.String(48), nullable=False),
        sa.Column("reasons", sa.Text(), nullable=False),
        sa.Column("summary", sa.Text(), nullable=False),
        sa.Column("sources", sa.Text(), nullable=False),
        sa.Column("language", sa.String(16), nullable=False),
        sa.Column("created_at", TS, nullable=False),
        sa.Column("rating_status", sa.String(32), nullable=False),
        sa.Column("intercept", sa.Float(), nullable=True),
        sa.Column("factor", sa.Float(), nullable=True),
        sa.Column("status_changed_at", TS, nullable=True),
        sa.Column("first_status", sa.String(32), nullable=False),
        sa.Column("first_status_at", TS, nullable=True),
        sa.Column("latest_status", sa.String(32), nullable=False),
        sa.Column("latest_status_at", TS, nullable=True),
        _fk("status_id", "statuses", "community_notes"),
        _fk("author_id", "accounts", "community_notes"),
        sa.PrimaryKeyConstraint("id", name="pk_community_notes"),
        sa.UniqueConstraint("uri", name="uq_community_notes_uri"),
    )
    for column in ("status_id", "author_id", "rating_status"):
        op.create_index(f"ix_community_notes_{column}", "community_notes", [column])

    op.create_table(
        "community_note_ratings",
        sa.Column("note_id", ID, nullable=False),
        sa.Column("rater_id", ID, nullable=False),
        sa.Column("helpfulness", sa.String(24), nullable=False),
        sa.Column("tags", sa.Text(), nullable=False),
        sa.Column("uri", sa.String(2048), nullable=True),
        sa.Column("created_at", TS, nullable=False),
        sa.Column("updated_at", TS, nullable=False),
        _fk("note_id", "community_notes", "community_note_ratings"),
        _fk("rater_id", "accounts", "community_note_ratings"),
        sa.PrimaryKeyConstraint("note_id", "rater_id", name="pk_community_note_ratings"),
    )
    op.create_index("ix_community_note_ratings_rater_id", "community_note_ratings", ["rater_id"])

    op.create_table(
        "community_note_status_changes",
        sa.Column("id", ID, autoincrement=False, nullable=False),
        sa.Column("note_id", ID, nullable=False),
        sa.Column("status", sa.String(32), nullable=False),
        sa.Column("intercept", sa.Float(), nullable=True),
        sa.Column("factor", sa.Float(), nullable=True),
        sa.Column("run_id", ID, nullable=True),
        sa.Column("changed_at", TS, nullable=False),
        _fk("note_id", "community_notes", "community_note_status_changes"),
        sa.PrimaryKeyConstraint("id", name="pk_community_note_status_changes"),
    )
    op.create_index(
        "ix_community_note_status_changes_note_id", "community_note_status_changes", ["note_id"]
    )

    op.create_table(
        "community_note_raters",
        sa.Column("account_id", ID, nullable=False),
        sa.Column("intercept", sa.Float(), nullable=True),
        sa.Column("factor", sa.Float(), nullable=True),
        sa.Column("helpfulness", sa.Float(), nullable=True),
        sa.Column("ratings", sa.Integer(), nullable=False),
        sa.Column("scored_at", TS, nullable=False),
        _fk("account_id", "accounts", "community_note_raters"),
        sa.PrimaryKeyConstraint("account_id", name="pk_community_note_raters"),
    )

    op.create_table(
        "community_note_runs",
        sa.Column("id", ID, autoincrement=False, nullable=False),
        sa.Column("started_at", TS, nullable=False),
        sa.Column("finished_at", TS, nullable=False),
        sa.Column("trigger", sa.String(16), nullable=False),
        *(
            sa.Column(name, sa.Integer(), nullable=False)
            for name in (
                "ratings",
                "ratings_fitted",
                "notes",
                "raters",
                "helpful",
                "not_helpful",
                "needs_more_ratings",
                "epochs",
            )
        ),
        sa.Column("converged", sa.Boolean(), nullable=False),
        sa.Column("warm_started", sa.Boolean(), nullable=False),
        sa.Column("loss", sa.Float(), nullable=False),
        sa.Column("state", sa.LargeBinary(), nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_community_note_runs"),
    )
    op.create_index("ix_community_note_runs_started_at", "community_note_runs", ["started_at"])

    op.create_table(
        "label_signals",
        sa.Column("id", ID, autoincrement=False, nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("fingerprint", sa.String(64), nullable=False),
        sa.Column("score", sa.Float(), nullable=False),
        sa.Column("evidence", sa.Text(), nullable=False),
        sa.Column("detected_at", TS, nullable=False),
        sa.Column("updated_at", TS, nullable=False),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("decided_by", ID, nullable=True),
        sa.Column("decided_at", TS, nullable=True),
        sa.Column("decision_note", sa.Text(), nullable=False),
        _fk("decided_by", "accounts", "label_signals", "SET NULL"),
        sa.PrimaryKeyConstraint("id", name="pk_label_signals"),
    )
    op.create_index("ix_label_signals_fingerprint", "label_signals", ["fingerprint"])
    op.create_index("ix_label_signals_detected_at", "label_signals", ["detected_at"])

    op.create_table(
        "label_signal_accounts",
        sa.Column("signal_id", ID, nullable=False),
        sa.Column("account_id", ID, nullable=False),
        _fk("signal_id", "label_signals", "label_signal_accounts"),
        _fk("account_id", "accounts", "label_signal_accounts"),
        sa.PrimaryKeyConstraint("signal_id", "account_id", name="pk_label_signal_accounts"),
    )
    op.create_index("ix_label_signal_accounts_account_id", "label_signal_accounts", ["account_id"])

    op.create_table(
        "account_labels",
        sa.Column("account_id", ID, nullable=False),
        sa.Column("label", sa.String(16), nullable=False),
        sa.Column("signal_id", ID, nullable=True),
        sa.Column("decision_id", ID, nullable=True),
        sa.Column("since", TS, nullable=False),
        sa.Column("until", TS, nullable=True),
        _fk("account_id", "accounts", "account_labels"),
        _fk("signal_id", "label_signals", "account_labels", "SET NULL"),
        sa.PrimaryKeyConstraint("account_id", "label", name="pk_account_labels"),
    )

    op.create_table(
        "label_preferences",
        sa.Column("account_id", ID, nullable=False),
        sa.Column("label", sa.String(16), nullable=False),
        sa.Column("action", sa.String(8), nullable=False),
        _fk("account_id", "accounts", "label_preferences"),
        sa.PrimaryKeyConstraint("account_id", "label", name="pk_label_preferences"),
    )


def downgrade() -> None:
    for table in (
        "label_preferences",
        "account_labels",
        "label_signal_accounts",
        "label_signals",
        "community_note_runs",
        "community_note_raters",
        "community_note_status_changes",
        "community_note_ratings",
        "community_notes",
    ):
        op.drop_table(table)
