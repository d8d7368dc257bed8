"""How long conversation records are kept: ``RECORDS_RETENTION_DAYS``.

A conversation not updated for that many days is deleted with everything recorded of it — its
messages, handoffs, feedback and batch tag — in the same transaction (``prune``, ``CHUNK``
conversations per transaction, so that a first prune of years of records does not hold the
database thread for long). Whole conversations go,
never part of one: a conversation still going on keeps its first messages however old they are,
and an analytics period either has a conversation or has none of it. The usage ledger is not
touched: it is billing data, holds no message text, and names conversations only by pseudonym.

Who prunes: the service, once at start and then every ``RECORDS_PRUNE_EVERY_S``
(``RetentionJob``, on the database writer's thread; replicas pruning at once delete the same rows,
which is harmless), and ``faqstream records prune`` for a one-off or a cron job (``--dry-run``
counts without deleting). Unset (the default), nothing is deleted.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from prometheus_client import CollectorRegistry, Counter
from sqlalchemy import Connection, Table, delete, func, select

from service.usage.schema import conversation_tags, conversations, feedback, handoffs, messages
from service.usage.writer import DatabaseWriter

log = logging.getLogger(__name__)

# What is deleted with a conversation, children first (all keyed by its pseudonym).
_CHILDREN: tuple[tuple[str, Table], ...] = (
    ("feedback", feedback),
    ("handoffs", handoffs),
    ("messages", messages),
    ("conversation_tags", conversation_tags),
)


@dataclass(frozen=True)
class Pruned:
    """Rows deleted (or, in a dry run, that would be) per table; ``cutoff``: conversations last
    updated before it."""

    cutoff: datetime
    rows: dict[str, int]

    @property
    def conversations(self) -> int:
        return self.rows.get("conversations", 0)

    def describe(self) -> str:
        """``2 conversations (5 messages, 1 handoff, 0 feedback, 1 tag)``."""
        rows = self.rows
        parts = (
            _count(rows.get("messages", 0), "message"),
            _count(rows.get("handoffs", 0), "handoff"),
            f"{rows.get('feedback', 0)} feedback",
            _count(rows.get("conversation_tags", 0), "tag"),
        )
        return f"{_count(self.conversations, 'conversation')} ({', '.join(parts)})"


def _count(n: int, noun: str) -> str:
    return f"{n} {noun}" if n == 1 else f"{n} {noun}s"


def cutoff_for(days: float, now: datetime | None = None) -> datetime:
    """The moment ``days`` before ``now`` (UTC)."""
    return (now or datetime.now(UTC)) - timedelta(days=days)


CHUNK = 500  # conversations per transaction: other writes to the database go on between chunks


def prune(connection: Connection, cutoff: datetime, *, dry_run: bool = False, chunk: int = CHUNK) -> Pruned:
    """Delete (``dry_run``: count) up to ``chunk`` conversations last updated before ``cutoff`` and
    their rows, inside the caller's transaction. Call again until ``conversations`` is 0 (``dry_run``
    counts them all at once)."""
    if dry_run:
        expired = select(conversations.c.id).where(conversations.c.updated_at < cutoff)
        counts = {
            name: connection.execute(
                select(func.count()).select_from(table).where(table.c.conversation.in_(expired))
            ).scalar_one()
            for name, table in _CHILDREN
        }
        counts["conversations"] = connection.execute(
            select(func.count()).select_from(expired.subquery())
        ).scalar_one()
        return Pruned(cutoff, counts)
    ids = list(
        connection.execute(
            select(conversations.c.id).where(conversations.c.updated_at < cutoff).limit(chunk)
        ).scalars()
    )
    rows = {name: 0 for name, _ in _CHILDREN} | {"conversations": 0}
    if ids:
        for name, table in _CHILDREN:
            rows[name] = connection.execute(delete(table).where(table.c.conversation.in_(ids))).rowcount
        rows["conversations"] = connection.execute(
            delete(conversations).where(conversations.c.id.in_(ids))
        ).rowcount
    return Pruned(cutoff, rows)


def added(total: Pruned, more: Pruned) -> Pruned:
    """Two chunks' counts together."""
    return Pruned(total.cutoff, {name: total.rows.get(name, 0) + n for name, n in more.rows.items()})


class RetentionJob:
    """``RECORDS_RETENTION_DAYS`` applied by the service: at start, then every ``every_s``."""

    def __init__(
        self,
        writer: DatabaseWriter,
        days: float,
        every_s: float,
        registry: CollectorRegistry,
        *,
        chunk: int = CHUNK,
    ) -> None:
        self.writer = writer
        self.chunk = chunk
        self.days = days
        self.every_s = every_s
        self._deleted = Counter(
            "faqstream_records_pruned_total",
            "Rows of conversation records deleted by RECORDS_RETENTION_DAYS, by table",
            ["table"],
            registry=registry,
        )
        self._task: asyncio.Task[None] | None = None

    async def run_once(self) -> Pruned:
        """Prune now (on the database thread, a chunk per transaction), count and log what went."""
        cutoff = cutoff_for(self.days)
        pruned = Pruned(cutoff, {})
        while True:
            chunk = await self.writer.call(self._transaction, cutoff)
            for table, count in chunk.rows.items():
                self._deleted.labels(table).inc(count)
            pruned = added(pruned, chunk)
            if chunk.conversations < self.chunk:
                break
        if pruned.conversations:
            log.info(
                "records retention (%g days): deleted %s last updated before %s",
                self.days,
                pruned.describe(),
                pruned.cutoff.isoformat(timespec="seconds"),
            )
        return pruned

    def _transaction(self, cutoff: datetime) -> Pruned:
        with self.writer.database.engine.begin() as connection:
            return prune(connection, cutoff, chunk=self.chunk)

    async def _loop(self) -> None:
        while True:
            try:
                await self.run_once()
            except asyncio.CancelledError:
                raise
            except Exception:  # the database is down: the next round tries again
                log.exception("records retention: pruning failed; next try in %gs", self.every_s)
            await asyncio.sleep(self.every_s)

    def start(self) -> None:
        if self._task is None:
            self._task = asyncio.create_task(self._loop(), name="records-retention")

    async def aclose(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None
