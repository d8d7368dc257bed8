"""Conversation records and batch jobs: ``conversations``, ``messages``, ``handoffs``, ``feedback``,
``batch_jobs``, ``conversation_tags``; and the ledger's ``purpose`` column (rows before it are
answers).

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-05
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision: str | None = "0002"
branch_labels: str | None = None
depends_on: str | None = None

_TIMESTAMP = sa.DateTime(timezone=True).with_variant(sa.Text(), "sqlite")


def _count() -> sa.types.TypeEngine[int]:
    return sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def _serial() -> sa.Column[int]:
    return sa.Column("id", _count(), primary_key=True, autoincrement=True)


def upgrade() -> None:
    with op.batch_alter_table("usage_ledger") as batch:
        batch.add_column(sa.Column("purpose", sa.Text(), nullable=False, server_default="answer"))
    op.create_table(
        "conversations",
        sa.Column("id", sa.Text(), primary_key=True),
        sa.Column("tenant", sa.Text(), nullable=False),
        sa.Column("key_id", sa.Text()),
        sa.Column("started_at", _TIMESTAMP, nullable=False),
        sa.Column("updated_at", _TIMESTAMP, nullable=False),
        sa.Column("language", sa.Text()),
        sa.Column("state", sa.Text(), nullable=False, server_default="bot"),
        sa.Column("questions", _count(), nullable=False, server_default="0"),
        sa.Column("handoff_reason", sa.Text()),
    )
    op.create_index("conversations_tenant_updated", "conversations", ["tenant", "updated_at"])
    op.create_table(
        "messages",
        _serial(),
        sa.Column("message_id", sa.Text(), nullable=False),
        sa.Column("conversation", sa.Text(), nullable=False),
        sa.Column("tenant", sa.Text(), nullable=False),
        sa.Column("created_at", _TIMESTAMP, nullable=False),
        sa.Column("role", sa.Text(), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("language", sa.Text()),
        sa.Column("mode", sa.Text()),
        sa.Column("model", sa.Text()),
        sa.Column("intent", sa.Text()),
        sa.Column("citations", sa.Text()),
        sa.Column("handoff_reason", sa.Text()),
        sa.Column("answer_cache", sa.Text()),
        sa.Column("status", sa.Text()),
        sa.Column("author", sa.Text()),
        sqlite_autoincrement=True,
    )
    op.create_index("messages_conversation", "messages", ["conversation", "id"])
    op.create_index("messages_message_id", "messages", ["message_id"])
    op.create_index("messages_tenant_created", "messages", ["tenant", "created_at"])
    op.create_table(
        "handoffs",
        _serial(),
        sa.Column("conversation", sa.Text(), nullable=False),
        sa.Column("message_id", sa.Text()),
        sa.Column("tenant", sa.Text(), nullable=False),
        sa.Column("created_at", _TIMESTAMP, nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("summary", sa.Text()),
        sa.Column("returned_at", _TIMESTAMP),
        sqlite_autoincrement=True,
    )
    op.create_index("handoffs_tenant_created", "handoffs", ["tenant", "created_at"])
    op.create_index("handoffs_conversation", "handoffs", ["conversation"])
    op.create_table(
        "feedback",
        _serial(),
        sa.Column("message_id", sa.Text(), nullable=False),
        sa.Column("conversation", sa.Text(), nullable=False),
        sa.Column("tenant", sa.Text(), nullable=False),
        sa.Column("created_at", _TIMESTAMP, nullable=False),
        sa.Column("thumbs", sa.Integer()),
        sa.Column("rating", sa.Integer()),
        sa.Column("comment", sa.Text()),
        sqlite_autoincrement=True,
    )
    op.create_index("feedback_message", "feedback", ["message_id"])
    op.create_index("feedback_tenant_created", "feedback", ["tenant", "created_at"])
    op.create_table(
        "batch_jobs",
        sa.Column("id", sa.Text(), primary_key=True),
        sa.Column("kind", sa.Text(), nullable=False),
        sa.Column("batch_id", sa.Text(), unique=True),
        sa.Column("created_at", _TIMESTAMP, nullable=False),
        sa.Column("submitted_at", _TIMESTAMP),
        sa.Column("ended_at", _TIMESTAMP),
        sa.Column("status", sa.Text(), nullable=False),
        sa.Column("requests", _count(), nullable=False, server_default="0"),
        sa.Column("custom_ids", sa.Text()),
        sa.Column("failures", sa.Text()),
    )
    op.create_table(
        "conversation_tags",
        sa.Column("conversation", sa.Text(), primary_key=True),
        sa.Column("tenant", sa.Text(), nullable=False),
        sa.Column("job_id", sa.Text(), nullable=False),
        sa.Column("tagged_at", _TIMESTAMP, nullable=False),
        sa.Column("satisfaction", sa.Integer(), nullable=False),
        sa.Column("escalate", sa.Integer(), nullable=False),
        sa.Column("resolved", sa.Integer(), nullable=False),
        sa.Column("reason", sa.Text()),
    )
    op.create_index("conversation_tags_tenant", "conversation_tags", ["tenant", "tagged_at"])


def downgrade() -> None:
    for table in ("conversation_tags", "batch_jobs", "feedback", "handoffs", "messages", "conversations"):
        op.drop_table(table)
    with op.batch_alter_table("usage_ledger") as batch:
        batch.drop_column("purpose")
