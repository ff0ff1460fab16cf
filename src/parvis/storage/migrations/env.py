"""Alembic environment: runs on the engine Parvis hands over (SQLite in batch mode)."""

from __future__ import annotations

from alembic import context
from sqlalchemy import Engine, create_engine
from sqlalchemy.exc import ArgumentError

from parvis.storage.tables import metadata

config = context.config


def _engine() -> Engine:
    handed: Engine | None = config.attributes.get("engine")
    if handed is not None:
        return handed
    url = config.get_main_option("sqlalchemy.url")
    if url is None:
        raise ArgumentError("Alembic: no engine handed over and no sqlalchemy.url configured")
    return create_engine(url)


engine = _engine()

with engine.connect() as connection:
    context.configure(
        connection=connection,
        target_metadata=metadata,
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()
    connection.commit()
