"""full-text search of statuses

SQLite: an FTS5 virtual table (rowid = status id). PostgreSQL: a tsvector table with a GIN
index, deleted with its status (ON DELETE CASCADE). Neither needs a database extension: accents
are folded in Python (parvis.storage.search.document). Existing statuses are indexed here.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-23 12:00:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

BATCH = 1000


def upgrade() -> None:
    bind = op.get_bind()
    if bind.dialect.name == "sqlite":
        op.execute(
            "CREATE VIRTUAL TABLE status_search USING fts5("
            "body, language UNINDEXED, account_id UNINDEXED, "
            "tokenize = 'unicode61 remove_diacritics 2')"
        )
    else:
        op.create_table(
            "status_search",
            sa.Column("status_id", sa.BigInteger(), autoincrement=False, nullable=False),
            sa.Column("account_id", sa.BigInteger(), nullable=False),
            sa.Column("language", sa.String(length=8), nullable=True),
            sa.Column("document", postgresql.TSVECTOR(), nullable=False),
            sa.ForeignKeyConstraint(
                ["status_id"],
                ["statuses.id"],
                ondelete="CASCADE",
                name="fk_status_search_status_id_statuses",
            ),
            sa.PrimaryKeyConstraint("status_id", name="pk_status_search"),
        )
        op.create_index(
            "ix_status_search_document", "status_search", ["document"], postgresql_using="gin"
        )
    _backfill(bind)


def _backfill(bind: sa.engine.Connection) -> None:
    from parvis.storage.search import SearchStore

    store = SearchStore(bind)
    statuses = sa.table(
        "statuses",
        sa.column("id"),
        sa.column("account_id"),
        sa.column("text"),
        sa.column("spoiler_text"),
        sa.column("language"),
        sa.column("reblog_of_id"),
    )
    last = None
    while True:
        stmt = (
            sa.select(
                statuses.c.id,
                statuses.c.account_id,
                statuses.c.text,
                statuses.c.spoiler_text,
                statuses.c.language,
            )
            .where(statuses.c.reblog_of_id.is_(None))
            .order_by(statuses.c.id)
            .limit(BATCH)
        )
        if last is not None:
            stmt = stmt.where(statuses.c.id > last)
        rows = bind.execute(stmt).all()
        for sid, account_id, text, spoiler, language in rows:
            store.index_status(sid, f"{spoiler or ''}\n{text or ''}", language, account_id)
        if len(rows) < BATCH:
            return
        last = rows[-1][0]


def downgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        op.execute("DROP TABLE IF EXISTS status_search")
    else:
        op.drop_index("ix_status_search_document", table_name="status_search")
        op.drop_table("status_search")
