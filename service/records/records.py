"""What the service hands to the conversation records, and the one interface it hands them through.

Every record names its conversation by ``conversation_key`` (``<tenant>/<conversation_id>``,
``service.conversations.store.conversation_key``); the writer stores the key's pseudonym
(``Pseudonyms.conversation``), never the caller's id. Texts arrive redacted
(``service.privacy.redaction``) — the writer does not redact again.

``Recorder.add`` never blocks and never raises: it queues the record; one writer stores queued
records in order, in batches, after the reply (see the implementation's module). A conversation's
row (``conversations``) is kept up to date from the records: started and updated times, language,
number of customer messages, state, latest handoff reason.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Literal, Protocol

Role = Literal["customer", "assistant", "agent"]
Status = Literal["complete", "broken", "abandoned"]
State = Literal["bot", "agent"]


def _now() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True)
class MessageRecord:
    """One message: a customer's question, the reply to it (``reply_to`` names the question's
    ``message_id``; the reply's is the id the answer returned), an agent's reply, or a customer's
    message while an agent has the conversation. (Records written before replies had
    ``reply_to`` gave a question and its reply the same ``message_id``.)"""

    conversation_key: str
    tenant: str
    message_id: str
    role: Role
    text: str
    language: str | None = None
    mode: str | None = None  # as the API reported: generative | extractive | cached | smalltalk | agent
    model: str | None = None
    intent: str | None = None
    citations: tuple[dict[str, Any], ...] = ()  # Citation.model_dump() each
    handoff_reason: str | None = None
    answer_cache: str | None = None  # exact | semantic
    status: Status | None = None  # assistant only
    author: str | None = None  # agent only
    reply_to: str | None = None  # assistant: the message_id of the customer's message it answers
    key_id: str | None = None
    created_at: datetime = field(default_factory=_now)


@dataclass(frozen=True)
class HandoffRecord:
    conversation_key: str
    tenant: str
    reason: str
    summary: str | None = None
    message_id: str | None = None
    created_at: datetime = field(default_factory=_now)


@dataclass(frozen=True)
class FeedbackRecord:
    conversation_key: str
    tenant: str
    message_id: str
    thumbs: int | None = None  # +1 | -1
    rating: int | None = None  # 1–5
    comment: str | None = None
    created_at: datetime = field(default_factory=_now)


@dataclass(frozen=True)
class StateRecord:
    """The conversation moved to a person (``agent``) or back to the assistant (``bot``)."""

    conversation_key: str
    tenant: str
    state: State
    created_at: datetime = field(default_factory=_now)


Record = MessageRecord | HandoffRecord | FeedbackRecord | StateRecord


class Recorder(Protocol):
    def add(self, record: Record) -> None:
        """Queue ``record``; returns at once, never raises."""
