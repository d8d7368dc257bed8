"""Conversation records as rows: how a batch of records is written (``RecordRows``, a kind of row of
the service database's writer, ``service.usage.writer``) and the row each record becomes.

A batch is one transaction: the messages, handoffs and feedback as multi-row inserts, then one upsert
per conversation the batch touched (``conversations``: started and updated times, language, number
of customer messages, state, latest handoff reason), computed from the batch's records in order.
The upsert is the dialect's ``INSERT … ON CONFLICT (id) DO UPDATE`` (PostgreSQL and SQLite alike):
concurrent writers (replicas) add to ``questions``, never overwrite it.
"""

from __future__ import annotations

import functools
import json
import logging
from collections.abc import Sequence
from dataclasses import dataclass, fields
from datetime import UTC, datetime
from typing import Any

from prometheus_client import Counter
from sqlalchemy import Connection, Table, case, func
from sqlalchemy.dialects import postgresql, sqlite

from service.core.background import DropReason
from service.records.records import FeedbackRecord, HandoffRecord, MessageRecord, Record, StateRecord
from service.usage.schema import conversations, feedback, handoffs, messages
from service.usage.writer import DROP_REASONS

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Stored:
    """A record as it is queued: ``conversation`` is the pseudonym of its ``conversation_key``."""

    conversation: str
    record: Record


def row(stored: Stored, table: Table) -> dict[str, Any]:
    """The values of ``table``'s row for ``stored`` (``id`` is the database's): the record's fields
    of the same names, the conversation's pseudonym, the time in UTC, citations as JSON."""
    record = stored.record
    values = {f.name: getattr(record, f.name) for f in fields(record)}
    values["conversation"] = stored.conversation
    values["created_at"] = record.created_at.astimezone(UTC)
    if isinstance(record, MessageRecord):
        values["citations"] = (
            json.dumps(list(record.citations), ensure_ascii=False) if record.citations else None
        )
    return {column.name: values[column.name] for column in table.columns if column.name in values}


@dataclass
class _Change:
    """What one batch does to one conversation's row."""

    id: str
    tenant: str
    started_at: datetime
    updated_at: datetime
    key_id: str | None = None
    language: str | None = None
    questions: int = 0
    state: str | None = None  # None: unchanged
    handoff_reason: str | None = None  # None: unchanged

    def values(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "tenant": self.tenant,
            "key_id": self.key_id,
            "started_at": self.started_at,
            "updated_at": self.updated_at,
            "language": self.language,
            "state": self.state or "bot",
            "questions": self.questions,
            "handoff_reason": self.handoff_reason,
        }


def changes(batch: Sequence[Stored]) -> list[_Change]:
    """The conversations a batch touches, each with the batch's effect on its row (feedback touches none)."""
    touched: dict[str, _Change] = {}
    for stored in batch:
        record = stored.record
        if isinstance(record, FeedbackRecord):
            continue
        at = record.created_at.astimezone(UTC)
        change = touched.get(stored.conversation)
        if change is None:
            change = touched[stored.conversation] = _Change(stored.conversation, record.tenant, at, at)
        change.started_at, change.updated_at = min(change.started_at, at), max(change.updated_at, at)
        if isinstance(record, MessageRecord):
            change.key_id = record.key_id or change.key_id
            change.language = record.language or change.language
            change.questions += record.role == "customer"
        elif isinstance(record, HandoffRecord):
            change.handoff_reason = record.reason
        elif isinstance(record, StateRecord):
            change.state = record.state
    return list(touched.values())


@functools.cache
def upsert(dialect: str, *, with_state: bool) -> Any:
    """``INSERT … ON CONFLICT (id) DO UPDATE`` of ``conversations`` for ``dialect`` (built once:
    SQLAlchemy then finds its compiled form in its cache)."""
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    statement = insert(conversations)
    new, old = statement.excluded, conversations.c
    updates: dict[str, Any] = {
        "updated_at": case((new.updated_at > old.updated_at, new.updated_at), else_=old.updated_at),
        "key_id": func.coalesce(new.key_id, old.key_id),
        "language": func.coalesce(new.language, old.language),
        "questions": old.questions + new.questions,
        "handoff_reason": func.coalesce(new.handoff_reason, old.handoff_reason),
    }
    if with_state:
        updates["state"] = new.state
    return statement.on_conflict_do_update(index_elements=[old.id], set_=updates)


class RecordRows:
    """Conversation records as a kind of row of the service database's writer."""

    name = "records"

    def __init__(self, dropped: Counter) -> None:
        self._dropped = dropped

    def write(self, connection: Connection, rows: Sequence[Stored]) -> None:
        for table, kind in ((messages, MessageRecord), (handoffs, HandoffRecord), (feedback, FeedbackRecord)):
            values = [row(stored, table) for stored in rows if isinstance(stored.record, kind)]
            if values:
                connection.execute(table.insert(), values)
        touched = changes(rows)
        dialect = connection.dialect.name
        for with_state in (False, True):
            values = [change.values() for change in touched if (change.state is not None) == with_state]
            if values:
                connection.execute(upsert(dialect, with_state=with_state), values)

    def dropped(self, rows: Sequence[Stored], reason: DropReason) -> None:
        self._dropped.inc(len(rows))
        kinds = sorted({type(stored.record).__name__ for stored in rows})
        log.error(
            "conversation records: dropped %d record(s) (%s): %s",
            len(rows),
            DROP_REASONS[reason],
            ", ".join(kinds),
        )
