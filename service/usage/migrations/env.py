"""Runs the revisions on the connection ``service.usage.migrate`` hands over (no URL of its own)."""

from __future__ import annotations

from alembic import context

from service.usage.schema import metadata

connection = context.config.attributes.get("connection")
if connection is None:
    raise RuntimeError("run the ledger migrations through service.usage.migrate, which passes a connection")
context.configure(
    connection=connection,
    target_metadata=metadata,
    render_as_batch=connection.dialect.name == "sqlite",  # SQLite alters tables by copying them
)
with context.begin_transaction():
    context.run_migrations()
