"""How long conversation records are kept: ``RECORDS_RETENTION_DAYS``.

A conversation not updated for that many days is deleted with everything recorded of it — its
messages, handoffs, feedback and batch tag — in the same transaction (``prune``; ``pruning``
repeats it ``CHUNK`` conversations per transaction, so that a first prune of years of records does
not hold the database thread for long). Whole conversations go, never part of one: a conversation
still going on keeps its first messages however old they are, and an analytics period either has a
conversation or has none of it. The usage ledger is not touched: it is billing data, holds no
message text, and names conversations only by pseudonym.

Who prunes: the service, once at start and then every ``RECORDS_PRUNE_EVERY_S``
(``RetentionJob``, on the database writer's thread; replicas pruning at once delete the same rows,
which is harmless), and ``faqstream records prune`` for a one-off or a cron job (``--dry-run``
counts without deleting). Unset (the default), nothing is deleted.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from prometheus_client import CollectorRegistry, Counter
from sqlalchemy import Connection, Engine, Table, delete, func, select

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


def expired_counts(connection: Connection, cutoff: datetime) -> Pruned:
    """What pruning at ``cutoff`` would delete, counted (a dry run)."""
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


def prune(connection: Connection, cutoff: datetime, *, chunk: int = CHUNK) -> Pruned:
    """Delete up to ``chunk`` conversations last updated before ``cutoff`` and their rows, inside the
    caller's transaction (``pruning`` repeats it until none is left)."""
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


def pruning(engine: Engine, cutoff: datetime, *, chunk: int = CHUNK) -> Iterator[Pruned]:
    """``prune`` one transaction at a time, each chunk's counts once committed, until nothing last
    updated before ``cutoff`` is left. The service advances it on its database thread, one chunk per
    call, so that the writer's other work goes on in between."""
    while True:
        with engine.begin() as connection:
            done = prune(connection, cutoff, chunk=chunk)
        yield done
        if done.conversations < chunk:
            return


def total(cutoff: datetime, chunks: Iterable[Pruned]) -> Pruned:
    """The counts of ``chunks`` together."""
    rows: dict[str, int] = {}
    for done in chunks:
        for name, count in done.rows.items():
            rows[name] = rows.get(name, 0) + count
    return Pruned(cutoff, rows)


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
        steps = pruning(self.writer.database.engine, cutoff, chunk=self.chunk)
        chunks: list[Pruned] = []
        while (done := await self.writer.call(next, steps, None)) is not None:
            for table, count in done.rows.items():
                self._deleted.labels(table).inc(count)
            chunks.append(done)
        pruned = total(cutoff, chunks)
        if pruned.conversations:
            log.info(
                "records retention (%g days): deleted %s last updated before %s",
                self.days,
                pruned.describe(),
                pruned.cutoff.isoformat(timespec="seconds"),
            )
        return pruned

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
