"""Revisions of the ``usage_ledger`` schema, oldest first (Alembic reads the ``revision`` ids)."""
