"""How long conversation records are kept: ``RECORDS_RETENTION_DAYS``.

A conversation not updated for that many days is deleted with everything recorded of it — its
messages, handoffs, feedback and batch tag — in one transaction (``prune``). Whole conversations go,
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
        return ", ".join(f"{count} {table}" for table, count in self.rows.items())


def cutoff_for(days: float, now: datetime | None = None) -> datetime:
    """The moment ``days`` before ``now`` (UTC)."""
    return (now or datetime.now(UTC)) - timedelta(days=days)


def prune(connection: Connection, cutoff: datetime, *, dry_run: bool = False) -> Pruned:
    """Delete (``dry_run``: count) the conversations last updated before ``cutoff`` and their rows,
    inside the caller's transaction."""
    expired = select(conversations.c.id).where(conversations.c.updated_at < cutoff)
    rows: dict[str, int] = {}
    for name, table in _CHILDREN:
        where = table.c.conversation.in_(expired)
        if dry_run:
            rows[name] = connection.execute(select(func.count()).select_from(table).where(where)).scalar_one()
        else:
            rows[name] = connection.execute(delete(table).where(where)).rowcount
    if dry_run:
        rows["conversations"] = connection.execute(
            select(func.count()).select_from(expired.subquery())
        ).scalar_one()
    else:
        rows["conversations"] = connection.execute(
            delete(conversations).where(conversations.c.updated_at < cutoff)
        ).rowcount
    return Pruned(cutoff, rows)


class RetentionJob:
    """``RECORDS_RETENTION_DAYS`` applied by the service: at start, then every ``every_s``."""

    def __init__(
        self, writer: DatabaseWriter, days: float, every_s: float, registry: CollectorRegistry
    ) -> None:
        self.writer = writer
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
        """Prune now (on the database thread), count and log what went."""
        pruned = await self.writer.call(self._transaction, cutoff_for(self.days))
        for table, count in pruned.rows.items():
            self._deleted.labels(table).inc(count)
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
            return prune(connection, cutoff)

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
