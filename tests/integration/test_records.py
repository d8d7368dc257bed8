"""Conversation records: one contract, run against real PostgreSQL and a real SQLite file.

The records go through the service database's one writer (``service.usage.writer``) — the same
queue, thread and retries as the usage ledger — and are read back with SQLAlchemy and through the
``RecordStore`` the API uses. Each PostgreSQL test works in a schema of its own, dropped afterwards.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from prometheus_client import CollectorRegistry
from sqlalchemy import select

from knowledge.errors import FaqstreamError
from service.conversations.store import ConversationNotFoundError, conversation_key
from service.core.identifiers import Pseudonyms
from service.records.records import FeedbackRecord, HandoffRecord, MessageRecord, Record, StateRecord
from service.records.store import MessageNotFoundError, RecordSettings, RecordStore
from service.usage.ledger import UsageLedger, UsageRecord
from service.usage.schema import conversations, feedback, handoffs, messages, usage_ledger
from service.usage.writer import DatabaseWriter, LedgerSettings
from tests.integration.test_ledger import Backend, fresh_backend

T0 = datetime(2026, 3, 1, 12, tzinfo=UTC)
SECRET = b"records-test-secret"


@pytest.fixture(params=["sqlite", "postgres"])
def backend(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Backend]:
    with fresh_backend(request.param, tmp_path, "records") as fresh:
        yield fresh


def key(conversation: str = "c1", tenant: str = "acme") -> str:
    return conversation_key(tenant, conversation)


def pseudonym(conversation: str = "c1", tenant: str = "acme") -> str:
    return Pseudonyms(SECRET).conversation(key(conversation, tenant))


def exchange(n: int, *, conversation: str = "c1", tenant: str = "acme", language: str = "en") -> list[Record]:
    """The customer's message n and the reply to it (seconds n and n + 0.5 after T0)."""
    asked = MessageRecord(
        key(conversation, tenant),
        tenant,
        f"m{n}",
        "customer",
        f"question {n}",
        language=language,
        intent="refunds",
        key_id="key_1",
        created_at=T0 + timedelta(seconds=n),
    )
    answered = MessageRecord(
        key(conversation, tenant),
        tenant,
        f"m{n}",
        "assistant",
        f"answer {n} [1]",
        language=language,
        mode="generative",
        model="claude-sonnet-4-6",
        citations=(
            {
                "index": 1,
                "doc_id": "d1",
                "title": "Refunds",
                "source": "faq.md",
                "section": "",
                "score": 0.9,
                "quote": "5–10 days",
            },
        ),
        status="complete",
        key_id="key_1",
        created_at=T0 + timedelta(seconds=n, milliseconds=500),
    )
    return [asked, answered]


def open_store(backend: Backend, registry: CollectorRegistry | None = None, **settings: Any) -> RecordStore:
    writer = DatabaseWriter(backend.database(), LedgerSettings(**settings), registry=registry)
    return RecordStore(writer, RecordSettings(), pseudonyms=Pseudonyms(SECRET))


async def store_all(backend: Backend, *batches: list[Record], **settings: Any) -> None:
    """Each batch added, then written (one write per batch), then a clean shutdown."""
    store = open_store(backend, **settings)
    await store.writer.start()
    for batch in batches:
        for record in batch:
            store.add(record)
        await store.writer.flush()
    await store.writer.aclose()


def rows(backend: Backend, table: Any) -> list[dict[str, Any]]:
    order = table.c.id
    with backend.connect() as conn:
        return [dict(r._mapping) for r in conn.execute(select(table).order_by(order))]


# ---------------------------------------------------------------- the contract


def test_messages_and_handoffs_are_stored_in_order_under_the_pseudonym(backend: Backend) -> None:
    handoff = HandoffRecord(
        key(), "acme", "low_confidence", "summary: refund", "m1", T0 + timedelta(seconds=2)
    )
    asyncio.run(store_all(backend, [*exchange(0), *exchange(1), handoff]))
    stored = rows(backend, messages)
    assert [(m["message_id"], m["role"]) for m in stored] == [
        ("m0", "customer"),
        ("m0", "assistant"),
        ("m1", "customer"),
        ("m1", "assistant"),
    ]
    assert {m["conversation"] for m in stored} == {pseudonym()}  # never the caller's id
    reply = stored[1]
    assert (reply["mode"], reply["model"], reply["status"], reply["intent"]) == (
        "generative",
        "claude-sonnet-4-6",
        "complete",
        None,
    )
    assert '"doc_id": "d1"' in reply["citations"] and reply["created_at"] == T0 + timedelta(milliseconds=500)
    (given,) = rows(backend, handoffs)
    assert (given["conversation"], given["reason"], given["summary"], given["message_id"]) == (
        pseudonym(),
        "low_confidence",
        "summary: refund",
        "m1",
    )


def test_the_conversation_row_is_kept_current_across_batches(backend: Backend) -> None:
    first = [*exchange(0, language="de"), *exchange(1, language="de")]
    later = [
        *exchange(5, language="fr"),
        HandoffRecord(key(), "acme", "customer_request", created_at=T0 + timedelta(seconds=6)),
        StateRecord(key(), "acme", "agent", created_at=T0 + timedelta(seconds=7)),
    ]
    other = exchange(3, conversation="c2")
    asyncio.run(store_all(backend, first, other))
    (row, _) = sorted(rows_of_conversations(backend), key=lambda r: r["id"] != pseudonym())
    assert (row["questions"], row["language"], row["state"], row["handoff_reason"]) == (2, "de", "bot", None)
    assert (row["started_at"], row["updated_at"]) == (T0, T0 + timedelta(seconds=1, milliseconds=500))
    assert (row["tenant"], row["key_id"]) == ("acme", "key_1")

    asyncio.run(store_all(backend, later))
    by_id = {r["id"]: r for r in rows_of_conversations(backend)}
    row = by_id[pseudonym()]
    assert (row["questions"], row["language"], row["state"], row["handoff_reason"]) == (
        3,
        "fr",
        "agent",
        "customer_request",
    )
    assert (row["started_at"], row["updated_at"]) == (T0, T0 + timedelta(seconds=7))
    assert by_id[pseudonym("c2")]["questions"] == 1  # the other conversation is untouched

    back = StateRecord(key(), "acme", "bot", created_at=T0 + timedelta(seconds=8))
    asyncio.run(store_all(backend, [back]))  # the agent hands back; the reason of the handoff stays
    row = {r["id"]: r for r in rows_of_conversations(backend)}[pseudonym()]
    assert (row["state"], row["handoff_reason"], row["questions"]) == ("bot", "customer_request", 3)


def rows_of_conversations(backend: Backend) -> list[dict[str, Any]]:
    with backend.connect() as conn:
        return [dict(r._mapping) for r in conn.execute(select(conversations))]


def test_replicas_writing_one_conversation_add_up(backend: Backend) -> None:
    """Two writers (two replicas) upsert the same conversation at once: no question is lost."""
    errors: list[BaseException] = []

    def replica(n: int) -> None:
        batches = [exchange(10 * n + i) for i in range(10)]
        try:
            asyncio.run(store_all(backend, *batches))
        except BaseException as exc:
            errors.append(exc)

    asyncio.run(store_all(backend, []))  # migrated once, so the replicas race on rows, not on DDL
    threads = [threading.Thread(target=replica, args=(n,)) for n in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert errors == []
    (row,) = rows_of_conversations(backend)
    assert row["questions"] == 20 and len(rows(backend, messages)) == 40


def test_clean_shutdown_writes_every_record_and_usage_row_queued(backend: Backend) -> None:
    """Records and usage rows share the writer; shutdown drains both (no flush before it)."""

    async def run() -> None:
        writer = DatabaseWriter(backend.database(), LedgerSettings(batch_size=64))
        store = RecordStore(writer, pseudonyms=Pseudonyms(SECRET))
        ledger = UsageLedger(writer, pseudonyms=Pseudonyms(SECRET))
        await writer.start()
        for n in range(250):
            for record in exchange(n, conversation=f"c{n % 7}"):
                store.add(record)
            ledger.record(
                UsageRecord(key_id="key_1", conversation_id=f"c{n % 7}", model="m", message_id=f"m{n}")
            )
        await writer.aclose()

    asyncio.run(run())
    assert len(rows(backend, messages)) == 500 and len(rows(backend, usage_ledger)) == 250
    assert sum(r["questions"] for r in rows_of_conversations(backend)) == 250


def test_a_full_queue_drops_and_counts_instead_of_blocking(backend: Backend) -> None:
    registry = CollectorRegistry()

    async def run() -> None:
        store = open_store(backend, registry, queue_size=5)
        await store.writer.start()
        for n in range(6):  # no await in between: the writer cannot run, the queue fills at 5
            for record in exchange(n):
                store.add(record)
        await store.writer.aclose()
        store.add(exchange(99)[0])  # after close: dropped, not raised

    asyncio.run(run())
    assert len(rows(backend, messages)) == 5
    assert registry.get_sample_value("faqstream_records_dropped_total") == 8


# ---------------------------------------------------------------- reading and feedback


def test_a_read_sees_what_was_just_added_and_only_its_tenants(backend: Backend) -> None:
    async def run() -> None:
        store = open_store(backend)
        await store.writer.start()
        try:
            for record in [*exchange(0), *exchange(1)]:
                store.add(record)  # no flush: the read waits for them itself
            view = await store.conversation("acme", "c1")
            assert [(m.role, m.message_id) for m in view.messages] == [
                ("customer", "m0"),
                ("assistant", "m0"),
                ("customer", "m1"),
                ("assistant", "m1"),
            ]
            assert view.questions == 2 and view.state == "bot" and view.started_at == T0
            assert view.messages[1].citations[0].doc_id == "d1" and view.messages[1].feedback is None
            for tenant, conversation in (("other", "c1"), ("acme", "unknown")):
                with pytest.raises(ConversationNotFoundError):
                    await store.conversation(tenant, conversation)

            given = await store.feedback(
                "acme", "c1", "m1", thumbs="down", comment="wrong, mail ann@example.com"
            )
            assert (given.thumbs, given.rating, given.conversation_id) == ("down", None, "c1")
            assert "ann@example.com" not in (given.comment or "") and given.comment
            rated = await store.feedback("acme", "c1", "m1", rating=4)
            view = await store.conversation("acme", "c1")
            assert view.messages[3].feedback == rated and view.messages[2].feedback is None

            refused: list[tuple[str, str, str, type[FaqstreamError]]] = [
                ("acme", "c1", "m9", MessageNotFoundError),
                ("other", "c1", "m1", ConversationNotFoundError),
                ("acme", "c2", "m1", ConversationNotFoundError),
            ]
            for tenant, conversation, message, error in refused:
                with pytest.raises(error):
                    await store.feedback(tenant, conversation, message, thumbs="up")
        finally:
            await store.writer.aclose()

    asyncio.run(run())
    stored = rows(backend, feedback)
    assert [(f["thumbs"], f["rating"]) for f in stored] == [(-1, None), (None, 4)]
    assert {f["conversation"] for f in stored} == {pseudonym()}


def test_feedback_records_from_the_recorder_are_stored_too(backend: Backend) -> None:
    given = FeedbackRecord(
        key(), "acme", "m0", rating=5, comment="great", created_at=T0 + timedelta(seconds=3)
    )
    asyncio.run(store_all(backend, [*exchange(0), given]))
    (row,) = rows(backend, feedback)
    assert (row["conversation"], row["rating"], row["comment"], row["created_at"]) == (
        pseudonym(),
        5,
        "great",
        T0 + timedelta(seconds=3),
    )
    (conversation,) = rows_of_conversations(backend)
    assert conversation["updated_at"] == T0 + timedelta(milliseconds=500)  # feedback is no activity


def test_a_reply_names_the_customer_message_it_answers(backend: Backend) -> None:
    """Each message its own id (``reply_to`` links them) next to rows of the older, shared-id shape."""
    asked, answered = exchange(0)
    assert isinstance(asked, MessageRecord) and isinstance(answered, MessageRecord)
    own = [replace(asked, message_id="q0"), replace(answered, message_id="r0", reply_to="q0")]

    async def run() -> None:
        store = open_store(backend)
        await store.writer.start()
        try:
            for record in [*own, *exchange(1)]:
                store.add(record)
            view = await store.conversation("acme", "c1")
            assert [(m.role, m.message_id, m.reply_to) for m in view.messages] == [
                ("customer", "q0", None),
                ("assistant", "r0", "q0"),
                ("customer", "m1", None),
                ("assistant", "m1", None),
            ]
            with pytest.raises(MessageNotFoundError):  # feedback is on a reply
                await store.feedback("acme", "c1", "q0", thumbs="down")
            rated = await store.feedback("acme", "c1", "r0", thumbs="down")
            shared = await store.feedback("acme", "c1", "m1", thumbs="up")  # the older shape still works
            view = await store.conversation("acme", "c1")
            assert (view.messages[1].feedback, view.messages[3].feedback) == (rated, shared)
        finally:
            await store.writer.aclose()

    asyncio.run(run())
    assert [(m["message_id"], m["reply_to"]) for m in rows(backend, messages)][:2] == [
        ("q0", None),
        ("r0", "q0"),
    ]
