"""The conversation records in the service's database: ``RecordStore`` is the ``Recorder`` the answer
flow hands its records to, and what the records API reads and writes through.

``add(record)`` puts the record, its conversation named by pseudonym
(``Pseudonyms.conversation(conversation_key)``), on the service database's writer
(``service.usage.writer``: the same bounded queue, thread and retries as the usage ledger); it never
blocks and never raises. Records dropped there (a full queue, shutdown while the database fails)
are logged and counted (``faqstream_records_dropped_total``).

Reads (``conversation``) and feedback (``feedback``, validated and written while the caller waits)
run on the writer's database thread, never on the event loop. Each first waits, for up to
``RECORDS_READ_WAIT_S``, until the records this process queued before it are written, so a client
that reads right after its answer finds it. Conversations are tenant-scoped: the pseudonym is of
``<tenant>/<conversation_id>``, so another tenant's id finds nothing — ``ConversationNotFoundError``,
the same 404 the answer endpoint gives.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any, Literal, TypeVar

from prometheus_client import Counter
from pydantic import Field
from pydantic_settings import BaseSettings
from sqlalchemy import Connection, Engine, RowMapping, select
from sqlalchemy.exc import SQLAlchemyError

from knowledge.errors import FaqstreamError
from knowledge.settings import EmptyIsNone, _config
from service.conversations.store import ConversationNotFoundError, conversation_key
from service.core.identifiers import Pseudonyms
from service.privacy.redaction import Redaction
from service.records.records import FeedbackRecord, Record
from service.records.rows import RecordRows, Stored, row
from service.records.views import ConversationView, FeedbackView, MessageView, citations_of, thumbs_of
from service.usage.schema import conversations, feedback, messages
from service.usage.writer import DatabaseWriter, LedgerUnavailableError

T = TypeVar("T")
Loaded = tuple[RowMapping, list[RowMapping], list[RowMapping]]  # conversation, messages, feedback
MAX_RETENTION_DAYS = 36_500  # a hundred years: a longer retention is none
COMMENT_MAX_CHARS = 2000  # a feedback comment's limit (longer: 400), as sent, before redaction


class RecordSettings(BaseSettings):
    model_config = _config("RECORDS_")

    enabled: bool = Field(
        default=True,
        description="store conversations, handoffs and feedback in the service database (false: off, "
        "and GET /v1/conversations/{id} and POST /v1/feedback answer 404 records_disabled)",
    )
    read_wait_s: float = Field(
        default=2.0, ge=0, description="how long a read waits for this process's queued records"
    )
    retention_days: EmptyIsNone[float] = Field(
        default=None,
        ge=1,
        le=MAX_RETENTION_DAYS,
        description="delete conversations (with their messages, handoffs, feedback and tags) not updated "
        "for this many days; unset: keep them (service/records/retention.py)",
    )
    prune_every_s: float = Field(
        default=3600.0, gt=0, description="how often the service applies RECORDS_RETENTION_DAYS"
    )


class RecordsDisabledError(FaqstreamError):
    status = 404
    code = "records_disabled"

    def __init__(self) -> None:
        super().__init__("conversation records are off on this service (RECORDS_ENABLED=false)")


class MessageNotFoundError(FaqstreamError):
    """Feedback on a message id that this tenant's conversation does not hold."""

    status = 404
    code = "message_not_found"

    def __init__(self) -> None:
        super().__init__("no such message in this conversation (use the message_id the answer returned)")


class RecordStore:
    """``add`` (the ``Recorder``), ``conversation`` and ``feedback`` over a ``DatabaseWriter``."""

    def __init__(
        self,
        writer: DatabaseWriter,
        settings: RecordSettings | None = None,
        *,
        pseudonyms: Pseudonyms | None = None,
        redaction: Redaction | None = None,
    ) -> None:
        self.writer = writer
        self.settings = settings or RecordSettings()
        self.pseudonyms = pseudonyms or Pseudonyms()
        self.redaction = redaction or Redaction()
        dropped = Counter(
            "faqstream_records_dropped_total",
            "Conversation records not stored (queue full or shutdown)",
            registry=writer.registry,
        )
        self.rows = RecordRows(dropped)

    @classmethod
    def enabled(
        cls,
        writer: DatabaseWriter,
        settings: RecordSettings,
        *,
        pseudonyms: Pseudonyms,
        redaction: Redaction,
    ) -> RecordStore | None:
        """The store, or None with ``RECORDS_ENABLED=false``."""
        return cls(writer, settings, pseudonyms=pseudonyms, redaction=redaction) if settings.enabled else None

    def pseudonym(self, tenant: str, conversation_id: str) -> str:
        return self.pseudonyms.conversation(conversation_key(tenant, conversation_id))

    def add(self, record: Record) -> None:
        """Queue ``record``; returns at once, never raises."""
        stored = Stored(self.pseudonyms.conversation(record.conversation_key), record)
        self.writer.offer(self.rows, stored)

    async def _read(self, fn: Callable[..., T], *args: Any) -> T:
        """``fn(engine, *args)`` on the database thread, after this process's queued records."""
        await self.writer.settle(self.settings.read_wait_s)
        try:
            return await self.writer.call(fn, self.writer.database.engine, *args)
        except SQLAlchemyError as exc:
            raise LedgerUnavailableError(f"conversation records unavailable: {type(exc).__name__}") from exc

    async def conversation(self, tenant: str, conversation_id: str) -> ConversationView:
        """The conversation with its messages, oldest first. Raises ``ConversationNotFoundError``."""
        pseudonym = self.pseudonym(tenant, conversation_id)
        found = await self._read(_load, tenant, pseudonym)
        if found is None:
            raise ConversationNotFoundError()
        held, said, rated = found
        latest: dict[str, FeedbackView] = {}
        for given in rated:  # oldest first: the last one per message stays
            latest[given["message_id"]] = _feedback_view(given, conversation_id)
        shown = [
            MessageView.model_validate(
                {
                    **message,
                    "citations": citations_of(message["citations"]),
                    "feedback": latest.get(message["message_id"]) if message["role"] != "customer" else None,
                }
            )
            for message in said
        ]
        return ConversationView.model_validate(
            {**held, "conversation_id": conversation_id, "messages": shown}
        )

    async def feedback(
        self,
        tenant: str,
        conversation_id: str,
        message_id: str,
        *,
        thumbs: Literal["up", "down"] | None = None,
        rating: int | None = None,
        comment: str | None = None,
    ) -> FeedbackView:
        """Store feedback on a message of this tenant's conversation (the comment redacted); an
        unknown conversation is ``ConversationNotFoundError``, a message it does not hold
        ``MessageNotFoundError`` (both 404)."""
        record = FeedbackRecord(
            conversation_key=conversation_key(tenant, conversation_id),
            tenant=tenant,
            message_id=message_id,
            thumbs=None if thumbs is None else 1 if thumbs == "up" else -1,
            rating=rating,
            comment=self.redaction.text(comment) if comment and comment.strip() else None,
        )
        stored = Stored(self.pseudonym(tenant, conversation_id), record)
        return _feedback_view(await self._read(_add_feedback, stored), conversation_id)


def _feedback_view(given: Mapping[Any, Any], conversation_id: str) -> FeedbackView:
    return FeedbackView.model_validate(
        {**given, "conversation_id": conversation_id, "thumbs": thumbs_of(given["thumbs"])}
    )


# ---------------------------------------------------------------- on the database thread


def _conversation(connection: Connection, tenant: str, pseudonym: str) -> RowMapping | None:
    found = connection.execute(
        select(conversations).where(conversations.c.id == pseudonym, conversations.c.tenant == tenant)
    ).first()
    return found._mapping if found is not None else None


def _load(engine: Engine, tenant: str, pseudonym: str) -> Loaded | None:
    with engine.connect() as connection:
        held = _conversation(connection, tenant, pseudonym)
        if held is None:
            return None
        said = connection.execute(
            select(messages).where(messages.c.conversation == pseudonym).order_by(messages.c.id)
        ).all()
        rated = connection.execute(
            select(feedback).where(feedback.c.conversation == pseudonym).order_by(feedback.c.id)
        ).all()
    return held, [m._mapping for m in said], [f._mapping for f in rated]


def _add_feedback(engine: Engine, stored: Stored) -> dict[str, Any]:
    """The stored feedback row. Raises ``ConversationNotFoundError``, ``MessageNotFoundError``."""
    record = stored.record
    assert isinstance(record, FeedbackRecord)
    with engine.begin() as connection:
        if _conversation(connection, record.tenant, stored.conversation) is None:
            raise ConversationNotFoundError()
        held = connection.execute(
            select(messages.c.id)
            .where(
                messages.c.conversation == stored.conversation,
                messages.c.message_id == record.message_id,
                messages.c.role != "customer",  # feedback is on a reply (an agent's too)
            )
            .limit(1)
        ).first()
        if held is None:
            raise MessageNotFoundError()
        values = row(stored, feedback)
        written = connection.execute(feedback.insert().returning(feedback.c.id), values).scalar_one()
    return {**values, "id": written}
