"""The service database for tests, on both engines it runs on: SQLite in a temporary folder, or a
PostgreSQL schema of its own on the local server (dropped afterwards)."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import psycopg
from psycopg import sql

from service.usage.database import LedgerDatabase

POSTGRES_URL = "postgresql://postgres@127.0.0.1:5432/test"


@contextmanager
def migrated_database(kind: str, folder: Path, label: str) -> Iterator[LedgerDatabase]:
    """A fresh database at the newest schema: ``kind`` "sqlite" (a file in ``folder``) or
    "postgres" (schema ``test_<label>_<random>``)."""
    if kind == "sqlite":
        database = LedgerDatabase.sqlite(folder / "faqstream.db")
        try:
            database.migrate()
            yield database
        finally:
            database.close()
        return
    schema = f"test_{label}_{uuid.uuid4().hex[:12]}"
    database = LedgerDatabase.postgres(POSTGRES_URL, schema=schema)
    try:
        database.migrate()
        yield database
    finally:
        database.close()
        with psycopg.connect(POSTGRES_URL, autocommit=True) as conn:
            conn.execute(sql.SQL("DROP SCHEMA IF EXISTS {} CASCADE").format(sql.Identifier(schema)))
