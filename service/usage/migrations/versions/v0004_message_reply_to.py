"""``messages.reply_to``: a reply names the customer's message it answers, which has an id of its
own (before, a question and its reply shared one ``message_id``; those rows keep it, NULL here).

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-06
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision: str | None = "0003"
branch_labels: str | None = None
depends_on: str | None = None


def upgrade() -> None:
    with op.batch_alter_table("messages") as batch:
        batch.add_column(sa.Column("reply_to", sa.Text()))
    op.create_index("messages_reply_to", "messages", ["reply_to"])


def downgrade() -> None:
    op.drop_index("messages_reply_to", table_name="messages")
    with op.batch_alter_table("messages") as batch:
        batch.drop_column("reply_to")
