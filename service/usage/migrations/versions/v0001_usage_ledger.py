"""The usage_ledger table and its two indexes, as the ledger created them before Alembic.

Revision ID: 0001
Revises:
Create Date: 2026-03-01
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision: str | None = None
branch_labels: str | None = None
depends_on: str | None = None

_TIMESTAMP = sa.DateTime(timezone=True).with_variant(sa.Text(), "sqlite")
_DAY = sa.Date().with_variant(sa.Text(), "sqlite")
_COST = sa.Numeric(20, 10).with_variant(sa.REAL(), "sqlite")
_TEXT = ("key_id", "conversation_id", "message_id", "model")
_TOKENS = ("input_tokens", "output_tokens", "cache_read_input_tokens", "cache_creation_input_tokens")


def _count() -> sa.types.TypeEngine[int]:
    return sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "usage_ledger",
        sa.Column("id", _count(), primary_key=True, autoincrement=True),
        sa.Column("created_at", _TIMESTAMP, nullable=False),
        sa.Column("day", _DAY, nullable=False),
        *(sa.Column(name, sa.Text(), nullable=name == "message_id") for name in _TEXT),
        *(sa.Column(name, _count(), nullable=False) for name in _TOKENS),
        sa.Column("cost_usd", _COST, nullable=False),
        sqlite_autoincrement=True,
    )
    op.create_index("usage_ledger_key_day", "usage_ledger", ["key_id", "day"])
    op.create_index("usage_ledger_conversation", "usage_ledger", ["conversation_id"])


def downgrade() -> None:
    op.drop_table("usage_ledger")
