"""Tenants: the ledger's ``tenant`` column (and index), and the ``api_keys`` table.

Rows written before tenants had the tenant in ``key_id`` (it was the client's name): they are
backfilled with it.

Revision ID: 0002
Revises: 0001
Create Date: 2026-12-05
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision: str | None = "0001"
branch_labels: str | None = None
depends_on: str | None = None

_TIMESTAMP = sa.DateTime(timezone=True).with_variant(sa.Text(), "sqlite")


def _count() -> sa.types.TypeEngine[int]:
    return sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    with op.batch_alter_table("usage_ledger") as batch:
        batch.add_column(sa.Column("tenant", sa.Text(), nullable=True))
    op.execute("UPDATE usage_ledger SET tenant = key_id WHERE tenant IS NULL")
    op.create_index("usage_ledger_tenant_day", "usage_ledger", ["tenant", "day"])
    op.create_table(
        "api_keys",
        sa.Column("id", sa.Text(), primary_key=True),
        sa.Column("lookup", sa.Text(), nullable=False, unique=True),
        sa.Column("secret_hash", sa.Text(), nullable=False),
        sa.Column("tenant", sa.Text(), nullable=False),
        sa.Column("name", sa.Text(), nullable=False),
        sa.Column("scopes", sa.Text(), nullable=False),
        sa.Column("rpm", sa.REAL()),
        sa.Column("daily_tokens", _count()),
        sa.Column("daily_cost_usd", sa.REAL()),
        sa.Column("created_at", _TIMESTAMP, nullable=False),
        sa.Column("rotated_at", _TIMESTAMP),
        sa.Column("last_used_at", _TIMESTAMP),
        sa.Column("revoked_at", _TIMESTAMP),
    )
    op.create_index("api_keys_tenant", "api_keys", ["tenant"])


def downgrade() -> None:
    op.drop_table("api_keys")
    op.drop_index("usage_ledger_tenant_day", table_name="usage_ledger")
    with op.batch_alter_table("usage_ledger") as batch:
        batch.drop_column("tenant")
