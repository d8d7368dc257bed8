"""Conversation records written straight into the tables (``conversations``, ``messages``), as the
records writer would leave them — for the batch jobs' tests and benchmark, which must not wait for
the answer service to produce them."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta

from sqlalchemy import Engine

from service.core.identifiers import Pseudonyms
from service.usage.schema import conversations, messages

DEFAULT_EXCHANGE = (
    ("customer", "Hello, my parcel [ORDER_ID] has not arrived. Where is it?"),
    (
        "assistant",
        "Parcels arrive within 5 business days [1]. You can track it with the link in your e-mail.",
    ),
    ("customer", "Thanks, found it."),
)


def seed_conversation(
    engine: Engine,
    name: str,
    *,
    updated_at: datetime,
    tenant: str = "acme",
    exchange: Sequence[tuple[str, str]] = DEFAULT_EXCHANGE,
    language: str = "en",
    handoff_reason: str | None = None,
) -> str:
    """One conversation with ``exchange`` as its messages, last updated at ``updated_at``; returns
    its pseudonym (the row's id)."""
    cid = Pseudonyms().conversation(f"{tenant}/{name}")
    start = updated_at - timedelta(minutes=len(exchange))
    with engine.begin() as connection:
        connection.execute(
            conversations.insert().values(
                id=cid,
                tenant=tenant,
                key_id="key_seed",
                started_at=start,
                updated_at=updated_at,
                language=language,
                questions=sum(1 for role, _ in exchange if role == "customer"),
                handoff_reason=handoff_reason,
            )
        )
        connection.execute(
            messages.insert(),
            [
                {
                    "message_id": f"{name}-m{i // 2}",
                    "conversation": cid,
                    "tenant": tenant,
                    "created_at": start + timedelta(minutes=i),
                    "role": role,
                    "text": text,
                    "language": language,
                }
                for i, (role, text) in enumerate(exchange)
            ],
        )
    return cid


def continue_conversation(
    engine: Engine, cid: str, name: str, exchange: Sequence[tuple[str, str]], *, at: datetime
) -> None:
    """More messages in the conversation ``cid`` (seeded as ``name``), the last one at ``at``, which
    becomes its ``updated_at`` — as the records writer leaves a conversation that went on."""
    start = at - timedelta(seconds=len(exchange) - 1)
    with engine.begin() as connection:
        connection.execute(
            messages.insert(),
            [
                {
                    "message_id": f"{name}-more{i}",
                    "conversation": cid,
                    "tenant": "acme",
                    "created_at": start + timedelta(seconds=i),
                    "role": role,
                    "text": text,
                    "language": "en",
                }
                for i, (role, text) in enumerate(exchange)
            ],
        )
        connection.execute(conversations.update().where(conversations.c.id == cid).values(updated_at=at))
