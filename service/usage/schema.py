"""The service's tables: ``usage_ledger`` and ``api_keys``, one SQLAlchemy Core definition each for
SQLite and PostgreSQL.

On PostgreSQL the columns are ``BIGSERIAL``, ``TIMESTAMPTZ``, ``DATE``, ``BIGINT`` and
``NUMERIC(20, 10)``; on SQLite ``INTEGER PRIMARY KEY AUTOINCREMENT``, ``TEXT`` (ISO 8601: the
timestamp with its ``+00:00`` offset, the day as ``YYYY-MM-DD``), ``INTEGER`` and ``REAL`` — the
schema the ledger has always created, so databases from before the migrations keep working.
Changes to it are Alembic revisions in ``migrations/versions``.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import (
    REAL,
    BigInteger,
    Column,
    Date,
    DateTime,
    Dialect,
    Index,
    Integer,
    MetaData,
    Numeric,
    Table,
    Text,
    TypeDecorator,
)
from sqlalchemy.types import TypeEngine

metadata = MetaData()


class UtcTimestamp(TypeDecorator[datetime]):
    """An aware UTC datetime: ``TIMESTAMPTZ`` on PostgreSQL, ISO 8601 text on SQLite."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def load_dialect_impl(self, dialect: Dialect) -> TypeEngine[Any]:
        return dialect.type_descriptor(Text() if dialect.name == "sqlite" else DateTime(timezone=True))

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> Any:
        if value is None:
            return None
        at = value.astimezone(UTC)
        return at.isoformat() if dialect.name == "sqlite" else at

    def process_result_value(self, value: Any, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        at = datetime.fromisoformat(value) if isinstance(value, str) else value
        return at.astimezone(UTC)


class IsoDate(TypeDecorator[date]):
    """A calendar day: ``DATE`` on PostgreSQL, ``YYYY-MM-DD`` text on SQLite."""

    impl = Date
    cache_ok = True

    def load_dialect_impl(self, dialect: Dialect) -> TypeEngine[Any]:
        return dialect.type_descriptor(Text() if dialect.name == "sqlite" else Date())

    def process_bind_param(self, value: date | None, dialect: Dialect) -> Any:
        if value is None or dialect.name != "sqlite":
            return value
        return value.isoformat()

    def process_result_value(self, value: Any, dialect: Dialect) -> date | None:
        return date.fromisoformat(value) if isinstance(value, str) else value


def counter() -> TypeEngine[int]:
    """Token counts: ``BIGINT`` (``INTEGER`` on SQLite, 64-bit there anyway)."""
    return BigInteger().with_variant(Integer(), "sqlite")


usage_ledger = Table(
    "usage_ledger",
    metadata,
    Column("id", counter(), primary_key=True, autoincrement=True),
    Column("created_at", UtcTimestamp(), nullable=False),
    Column("day", IsoDate(), nullable=False),
    Column("key_id", Text(), nullable=False),
    Column("tenant", Text()),  # NULL on rows from before tenants (their key_id was the tenant)
    Column("conversation_id", Text(), nullable=False),  # a pseudonym (service.core.identifiers)
    Column("message_id", Text()),
    Column("model", Text(), nullable=False),
    Column("input_tokens", counter(), nullable=False),
    Column("output_tokens", counter(), nullable=False),
    Column("cache_read_input_tokens", counter(), nullable=False),
    Column("cache_creation_input_tokens", counter(), nullable=False),
    Column("cost_usd", Numeric(20, 10, asdecimal=False).with_variant(REAL(), "sqlite"), nullable=False),
    Index("usage_ledger_key_day", "key_id", "day"),
    Index("usage_ledger_conversation", "conversation_id"),
    Index("usage_ledger_tenant_day", "tenant", "day"),
    sqlite_autoincrement=True,
)

# API keys (service.tenants): only a hash of each key is stored; ``lookup`` is the public part of
# the key that finds its row (unique index), ``secret_hash`` what the presented key must hash to.
api_keys = Table(
    "api_keys",
    metadata,
    Column("id", Text(), primary_key=True),  # key_…: stable across rotations (limits, budgets, ledger)
    Column("lookup", Text(), nullable=False, unique=True),
    Column("secret_hash", Text(), nullable=False),
    Column("tenant", Text(), nullable=False),
    Column("name", Text(), nullable=False),
    Column("scopes", Text(), nullable=False),  # space-separated: answer admin metrics
    Column("rpm", REAL()),
    Column("daily_tokens", counter()),
    Column("daily_cost_usd", REAL()),
    Column("created_at", UtcTimestamp(), nullable=False),
    Column("rotated_at", UtcTimestamp()),
    Column("last_used_at", UtcTimestamp()),
    Column("revoked_at", UtcTimestamp()),
    Index("api_keys_tenant", "tenant"),
)
