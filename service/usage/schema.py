"""The service's tables, one SQLAlchemy Core definition each for SQLite and PostgreSQL: the usage
ledger and the API keys; the conversation records (``conversations``, ``messages``, ``handoffs``,
``feedback``) and what the batch jobs produce (``conversation_tags``, ``batch_jobs``).

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
    # What the tokens were spent on: answer, translation, summary, routing, handoff_summary,
    # batch_tag, faq_draft, judge. Rows from before 0003 are answers.
    Column("purpose", Text(), nullable=False, server_default="answer"),
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


# Conversation records (service.records). Every text column holds redacted text
# (service.privacy.redaction); ``conversation`` columns hold the conversation's pseudonym
# (``Pseudonyms.conversation(conversation_key(tenant, conversation_id))``), never the caller's id.
conversations = Table(
    "conversations",
    metadata,
    Column("id", Text(), primary_key=True),  # the pseudonym
    Column("tenant", Text(), nullable=False),
    Column("key_id", Text()),
    Column("started_at", UtcTimestamp(), nullable=False),
    Column("updated_at", UtcTimestamp(), nullable=False),
    Column("language", Text()),
    Column("state", Text(), nullable=False, server_default="bot"),  # bot | agent
    Column("questions", counter(), nullable=False, server_default="0"),  # customer messages
    Column("handoff_reason", Text()),  # the latest handoff's reason, None: never handed off
    Index("conversations_tenant_updated", "tenant", "updated_at"),
)

# One row per message, each with its own ``message_id``: the reply's is the id the API returned for
# the answer, and ``reply_to`` names the customer's message it answers (migration 0004; rows
# written before gave a question and its reply the same id, ``reply_to`` NULL); an agent's reply
# and a customer's message during a takeover have their own. Usage is not repeated here:
# ``usage_ledger.message_id`` joins it (the reply's id).
messages = Table(
    "messages",
    metadata,
    Column("id", counter(), primary_key=True, autoincrement=True),
    Column("message_id", Text(), nullable=False),
    Column("conversation", Text(), nullable=False),
    Column("tenant", Text(), nullable=False),
    Column("created_at", UtcTimestamp(), nullable=False),
    Column("role", Text(), nullable=False),  # customer | assistant | agent
    Column("text", Text(), nullable=False),
    Column("language", Text()),
    # assistant: generative | extractive | cached | smalltalk | handoff; agent: agent
    Column("mode", Text()),
    Column("model", Text()),
    Column("intent", Text()),
    # JSON list of Citation (index, doc_id, title, source, section, score, quote) + cited (bool)
    Column("citations", Text()),
    Column("handoff_reason", Text()),
    Column("answer_cache", Text()),  # exact | semantic, None: not served from the answer cache
    Column("status", Text()),  # assistant: complete | broken | abandoned
    Column("author", Text()),  # agent: who replied (the agent's name or id, as the helpdesk sent it)
    Column("reply_to", Text()),  # assistant: the message_id of the customer's message it answers
    Index("messages_conversation", "conversation", "id"),
    Index("messages_message_id", "message_id"),
    Index("messages_reply_to", "reply_to"),
    Index("messages_tenant_created", "tenant", "created_at"),
    sqlite_autoincrement=True,
)

handoffs = Table(
    "handoffs",
    metadata,
    Column("id", counter(), primary_key=True, autoincrement=True),
    Column("conversation", Text(), nullable=False),
    Column("message_id", Text()),
    Column("tenant", Text(), nullable=False),
    Column("created_at", UtcTimestamp(), nullable=False),
    Column("reason", Text(), nullable=False),
    Column("summary", Text()),
    Column("returned_at", UtcTimestamp()),  # the agent handed the conversation back
    Index("handoffs_tenant_created", "tenant", "created_at"),
    Index("handoffs_conversation", "conversation"),
    sqlite_autoincrement=True,
)

feedback = Table(
    "feedback",
    metadata,
    Column("id", counter(), primary_key=True, autoincrement=True),
    Column("message_id", Text(), nullable=False),
    Column("conversation", Text(), nullable=False),
    Column("tenant", Text(), nullable=False),
    Column("created_at", UtcTimestamp(), nullable=False),
    Column("thumbs", Integer()),  # +1 | -1
    Column("rating", Integer()),  # 1–5
    Column("comment", Text()),
    Index("feedback_message", "message_id"),
    Index("feedback_tenant_created", "tenant", "created_at"),
    sqlite_autoincrement=True,
)

# ``faqstream batch tag``: one row per submitted Message Batch, and the tags its results gave.
batch_jobs = Table(
    "batch_jobs",
    metadata,
    Column("id", Text(), primary_key=True),  # our job id, chosen before submission
    Column("kind", Text(), nullable=False),  # tag
    Column("batch_id", Text(), unique=True),  # Anthropic's msgbatch_…, None until submitted
    Column("created_at", UtcTimestamp(), nullable=False),
    Column("submitted_at", UtcTimestamp()),
    Column("ended_at", UtcTimestamp()),
    Column("status", Text(), nullable=False),  # preparing | submitted | ended | collected | failed
    Column("requests", counter(), nullable=False, server_default="0"),
    Column("custom_ids", Text()),  # JSON list: what this job asked for, fixed before submission
    # JSON object custom_id → why its result gave no tag (errored, expired, invalid…); set when the
    # results are collected. Those conversations stay untagged and are asked again by a later run.
    Column("failures", Text()),
)

conversation_tags = Table(
    "conversation_tags",
    metadata,
    Column("conversation", Text(), primary_key=True),
    Column("tenant", Text(), nullable=False),
    Column("job_id", Text(), nullable=False),
    Column("tagged_at", UtcTimestamp(), nullable=False),
    Column("satisfaction", Integer(), nullable=False),  # 1–5
    Column("escalate", Integer(), nullable=False),  # 0 | 1
    Column("resolved", Integer(), nullable=False),  # 0 | 1
    Column("reason", Text()),
    Index("conversation_tags_tenant", "tenant", "tagged_at"),
)
