"""Usage ledger: what every answer used and cost, per API key, conversation and UTC day.

``UsageLedger.record(...)`` only puts the row on a bounded ``BackgroundQueue``, so an answer never
waits for the database; one writer takes batches and inserts them through a single dedicated
thread (the blocking drivers — sqlite3, psycopg — never run on the event loop). A failed write is
retried by tenacity with exponential backoff (up to ``LEDGER_RETRY_MAX_S`` between tries) and the
batch kept; ``aclose`` drains the queue before it returns, so a clean shutdown loses nothing. A
full queue (the database down for long) drops rows with a log line and a counter.

Storage (``database.py``): PostgreSQL when ``DATABASE_URL`` is set, else SQLite
(``./var/faqstream.db``), one SQLAlchemy table (``schema.py``) whose migrations Alembic runs at
``start()`` (``migrate.py``).
"""

from __future__ import annotations

import asyncio
import dataclasses
import functools
import logging
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any, TypeVar

from alembic.util import CommandError
from prometheus_client import CollectorRegistry, Counter
from pydantic import Field
from pydantic_settings import BaseSettings
from sqlalchemy.exc import SQLAlchemyError
from tenacity import AsyncRetrying, RetryCallState, retry_if_exception_type, wait_exponential

from knowledge.errors import FaqstreamError
from knowledge.settings import _config
from service.core.background import BackgroundQueue, DropReason
from service.core.identifiers import Pseudonyms
from service.settings.database import DatabaseSettings
from service.usage.database import LedgerDatabase
from service.usage.records import UsageRecord

__all__ = ["LedgerSettings", "LedgerUnavailableError", "UsageLedger", "UsageRecord", "open_ledger"]

log = logging.getLogger(__name__)

T = TypeVar("T")

_DROP_REASONS: dict[DropReason, str] = {
    "full": "queue full",
    "closed": "ledger closed",
    "cancelled": "shutdown while the database was failing",
    "unfinished": "shutdown",
}


class LedgerSettings(BaseSettings):
    model_config = _config("LEDGER_")

    queue_size: int = Field(default=10_000, ge=1, description="rows waiting to be written; more are dropped")
    batch_size: int = Field(default=200, ge=1, le=10_000, description="rows per write")
    drain_s: float = Field(default=15.0, ge=0, description="how long shutdown waits to write what is queued")
    retry_max_s: float = Field(default=30.0, gt=0, description="longest wait between failed writes")


class LedgerUnavailableError(FaqstreamError):
    """The ledger database could not be opened or migrated."""

    status = 503
    code = "store_unavailable"
    retryable = True


class UsageLedger:
    """The async face of a ``LedgerDatabase``: ``start``, ``record``, ``flush``, ``aclose``."""

    def __init__(
        self,
        database: LedgerDatabase,
        settings: LedgerSettings | None = None,
        *,
        registry: CollectorRegistry | None = None,
        pseudonyms: Pseudonyms | None = None,
    ) -> None:
        self.database = database
        self.settings = settings or LedgerSettings()
        self.pseudonyms = pseudonyms or Pseudonyms()
        self._thread = ThreadPoolExecutor(max_workers=1, thread_name_prefix="ledger")
        self._queue: BackgroundQueue[UsageRecord] = BackgroundQueue(
            "ledger-writer",
            self._write,
            maxsize=self.settings.queue_size,
            batch_size=self.settings.batch_size,
            on_drop=self._drop,
        )
        registry = registry if registry is not None else CollectorRegistry()
        self._dropped = Counter(
            "faqstream_ledger_dropped_total",
            "Usage rows not recorded (queue full or shutdown)",
            registry=registry,
        )
        self._write_errors = Counter(
            "faqstream_ledger_write_errors_total", "Failed ledger writes (retried)", registry=registry
        )

    async def _call(self, fn: Callable[..., T], *args: Any) -> T:
        return await asyncio.get_running_loop().run_in_executor(self._thread, fn, *args)

    async def start(self) -> None:
        """Migrate the schema to the newest revision and start the writer.
        Raises ``LedgerUnavailableError``."""
        if self._queue.started:
            return
        try:
            await self._call(self.database.migrate)
        except (SQLAlchemyError, CommandError, OSError) as exc:
            raise LedgerUnavailableError(
                f"usage ledger database unavailable: {type(exc).__name__}: {exc}",
                hint="check DATABASE_URL (or DATABASE_SQLITE_PATH when it is unset)",
            ) from exc
        self._queue.start()

    def record(self, record: UsageRecord) -> None:
        """Queue one answer's usage; returns at once, never raises for database trouble. The
        conversation id is written as its pseudonym (``service.core.identifiers``)."""
        tenant = record.tenant or record.key_id
        pseudonym = self.pseudonyms.of("conversation", tenant, record.conversation_id)
        self._queue.offer(dataclasses.replace(record, conversation_id=pseudonym))

    def _drop(self, records: Sequence[UsageRecord], reason: DropReason) -> None:
        for record in records:
            self._dropped.inc()
            log.error(
                "usage ledger: dropped %s tokens / $%.6f for key %s conversation %s (%s)",
                record.tokens,
                record.cost_usd,
                record.key_id,
                record.conversation_id,
                _DROP_REASONS[reason],
            )

    async def flush(self) -> None:
        """Wait until everything recorded so far is written."""
        await self._queue.join()

    async def _write(self, batch: list[UsageRecord]) -> None:
        """Insert one batch, retrying until the database takes it (or shutdown cancels it)."""
        retrying = AsyncRetrying(
            wait=wait_exponential(multiplier=0.5, max=self.settings.retry_max_s),
            retry=retry_if_exception_type(Exception),
            before_sleep=functools.partial(self._retrying, len(batch)),
        )
        async for attempt in retrying:
            with attempt:
                await self._call(self.database.insert, batch)

    def _retrying(self, rows: int, state: RetryCallState) -> None:
        self._write_errors.inc()
        exc = state.outcome.exception() if state.outcome is not None else None
        log.warning(
            "usage ledger: write of %d rows failed (%s); retrying in %.1fs", rows, exc, state.upcoming_sleep
        )

    async def aclose(self, drain_s: float | None = None) -> None:
        """Write what is queued (for up to ``drain_s``), then close the database."""
        await self._queue.aclose(self.settings.drain_s if drain_s is None else drain_s)
        await self._call(self.database.close)
        self._thread.shutdown(wait=True)


def open_ledger(
    database: DatabaseSettings,
    settings: LedgerSettings | None = None,
    *,
    registry: CollectorRegistry | None = None,
    pseudonyms: Pseudonyms | None = None,
) -> UsageLedger:
    """PostgreSQL when ``DATABASE_URL`` is set, else SQLite at ``DATABASE_SQLITE_PATH``. Call ``start()``."""
    return UsageLedger(
        LedgerDatabase.from_settings(database), settings, registry=registry, pseudonyms=pseudonyms
    )
