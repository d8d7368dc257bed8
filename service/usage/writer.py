"""The one writer of the service's database: every row the service stores in the background (usage
rows, conversation records) goes through here, so there is one bounded queue, one database thread
and one retry policy, not one per kind of row.

A kind of row (``RowKind``: the ledger's usage rows, the records' messages…) says how a batch of its
rows is written on a connection and what to log and count when rows are dropped. Producers call
``offer(kind, row)``: it returns at once and never raises. One worker takes up to
``LEDGER_BATCH_SIZE`` queued rows — waiting up to ``LEDGER_LINGER_S`` for more when fewer are
queued, so that under load one transaction carries the rows of many answers — and writes them in one
transaction through a single dedicated thread (the blocking drivers — sqlite3, psycopg — never run
on the event loop), one statement per kind of row, each kind's rows in queue order. A failed write
is retried by tenacity with exponential backoff (up to ``LEDGER_RETRY_MAX_S`` between tries) and the
batch kept; ``aclose`` drains the queue before it returns, so a clean shutdown loses nothing. A
full queue (the database down for long) drops rows: the kind logs and counts them.

Reads run on the same thread (``call``), so the engine is only ever used from it. ``settle`` lets a
reader first wait (boundedly) until what this process queued before it is written: a client that
reads its conversation right after an answer sees it.

Storage (``database.py``): PostgreSQL when ``DATABASE_URL`` is set, else SQLite
(``./var/faqstream.db``), whose migrations Alembic runs at ``start()`` (``migrate.py``).
"""

from __future__ import annotations

import asyncio
import functools
import logging
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any, Generic, Protocol, TypeVar

from alembic.util import CommandError
from prometheus_client import CollectorRegistry, Counter
from pydantic import Field
from pydantic_settings import BaseSettings
from sqlalchemy import Connection
from sqlalchemy.exc import SQLAlchemyError
from tenacity import AsyncRetrying, RetryCallState, retry_if_exception_type, wait_exponential

from knowledge.errors import FaqstreamError
from knowledge.settings import _config
from service.core.background import BackgroundQueue, DropReason
from service.settings.database import DatabaseSettings
from service.usage.database import LedgerDatabase

log = logging.getLogger(__name__)

T = TypeVar("T")
T_contra = TypeVar("T_contra", contravariant=True)

DROP_REASONS: dict[DropReason, str] = {
    "full": "queue full",
    "closed": "writer closed",
    "cancelled": "shutdown while the database was failing",
    "unfinished": "shutdown",
}


class LedgerSettings(BaseSettings):
    """The database writer's queue (``LEDGER_``: the names from when usage rows were its only rows)."""

    model_config = _config("LEDGER_")

    queue_size: int = Field(default=10_000, ge=1, description="rows waiting to be written; more are dropped")
    batch_size: int = Field(default=200, ge=1, le=10_000, description="rows per write")
    linger_s: float = Field(
        default=0.1,
        ge=0,
        le=5,
        description="how long the writer waits for more rows before a write that would not fill a batch",
    )
    drain_s: float = Field(default=15.0, ge=0, description="how long shutdown waits to write what is queued")
    retry_max_s: float = Field(default=30.0, gt=0, description="longest wait between failed writes")


class LedgerUnavailableError(FaqstreamError):
    """The service's database could not be opened or migrated."""

    status = 503
    code = "store_unavailable"
    retryable = True


class RowKind(Protocol[T_contra]):
    """One kind of row: how a batch of them is written, and what a dropped one leaves behind."""

    name: str

    def write(self, connection: Connection, rows: Sequence[T_contra]) -> None:
        """Write ``rows`` (in queue order) inside the writer's transaction."""

    def dropped(self, rows: Sequence[T_contra], reason: DropReason) -> None:
        """Log and count rows that will never be written."""


@dataclass(frozen=True)
class _Queued(Generic[T]):
    kind: RowKind[T]
    row: T


@dataclass(frozen=True)
class _Marker:
    """``settle``'s place in the queue: resolved once everything before it is written."""

    done: asyncio.Future[None]


def _by_kind(rows: Sequence[_Queued[Any]]) -> dict[RowKind[Any], list[Any]]:
    """The rows of each kind, in queue order (kinds are independent of each other: one statement
    per kind and batch, however the producers interleaved them)."""
    grouped: dict[RowKind[Any], list[Any]] = {}
    for queued in rows:
        grouped.setdefault(queued.kind, []).append(queued.row)
    return grouped


class DatabaseWriter:
    """The async face of a ``LedgerDatabase``: ``start``, ``offer``, ``call``, ``settle``, ``flush``,
    ``aclose`` (or ``async with``: started and closed)."""

    def __init__(
        self,
        database: LedgerDatabase,
        settings: LedgerSettings | None = None,
        *,
        registry: CollectorRegistry | None = None,
    ) -> None:
        self.database = database
        self.settings = settings or LedgerSettings()
        self._thread = ThreadPoolExecutor(max_workers=1, thread_name_prefix="database")
        self._queue: BackgroundQueue[_Queued[Any] | _Marker] = BackgroundQueue(
            "database-writer",
            self._write,
            maxsize=self.settings.queue_size,
            batch_size=self.settings.batch_size,
            linger_s=self.settings.linger_s,
            on_drop=self._drop,
        )
        self.registry = registry if registry is not None else CollectorRegistry()
        self._write_errors = Counter(
            "faqstream_ledger_write_errors_total",
            "Failed writes to the service database (usage rows, records; retried)",
            registry=self.registry,
        )

    async def call(self, fn: Callable[..., T], *args: Any) -> T:
        """Run ``fn(*args)`` on the database thread (reads, and writes whose caller waits)."""
        return await asyncio.get_running_loop().run_in_executor(self._thread, fn, *args)

    async def start(self) -> None:
        """Migrate the schema to the newest revision and start the writer.
        Raises ``LedgerUnavailableError``."""
        if self._queue.started:
            return
        try:
            await self.call(self.database.migrate)
        except (SQLAlchemyError, CommandError, OSError) as exc:
            raise LedgerUnavailableError(
                f"service database unavailable: {type(exc).__name__}: {exc}",
                hint="check DATABASE_URL (or DATABASE_SQLITE_PATH when it is unset)",
            ) from exc
        self._queue.start()

    def offer(self, kind: RowKind[T], row: T) -> bool:
        """Queue one row; returns at once (False: dropped, and counted by its kind)."""
        return self._queue.offer(_Queued(kind, row))

    async def settle(self, timeout_s: float) -> bool:
        """Wait (up to ``timeout_s``) until every row queued before this call is written.
        False: not settled in time (the database is slow or failing, or the queue is full)."""
        marker = _Marker(asyncio.get_running_loop().create_future())
        if not self._queue.started or not self._queue.offer(marker):
            return False
        self._queue.hurry()
        try:
            await asyncio.wait_for(asyncio.shield(marker.done), timeout_s)
        except TimeoutError:
            return False
        return not marker.done.cancelled()

    async def flush(self) -> None:
        """Wait until everything queued so far is written (without the linger for a fuller batch)."""
        self._queue.hurry()
        await self._queue.join()

    async def _write(self, batch: list[_Queued[Any] | _Marker]) -> None:
        """Write one batch, retrying until the database takes it (or shutdown cancels it)."""
        rows = [item for item in batch if isinstance(item, _Queued)]
        if rows:
            retrying = AsyncRetrying(
                wait=wait_exponential(multiplier=0.5, max=self.settings.retry_max_s),
                retry=retry_if_exception_type(Exception),
                before_sleep=functools.partial(self._retrying, len(rows)),
            )
            async for attempt in retrying:
                with attempt:
                    await self.call(self._transaction, rows)
        for item in batch:
            if isinstance(item, _Marker) and not item.done.done():
                item.done.set_result(None)

    def _transaction(self, rows: list[_Queued[Any]]) -> None:
        with self.database.engine.begin() as connection:
            for kind, kind_rows in _by_kind(rows).items():
                kind.write(connection, kind_rows)

    def _retrying(self, rows: int, state: RetryCallState) -> None:
        self._write_errors.inc()
        exc = state.outcome.exception() if state.outcome is not None else None
        log.warning(
            "database writer: write of %d rows failed (%s); retrying in %.1fs",
            rows,
            exc,
            state.upcoming_sleep,
        )

    def _drop(self, items: Sequence[_Queued[Any] | _Marker], reason: DropReason) -> None:
        for item in items:
            if isinstance(item, _Marker) and not item.done.done():
                item.done.cancel()
        rows = [item for item in items if isinstance(item, _Queued)]
        for kind, kind_rows in _by_kind(rows).items():
            kind.dropped(kind_rows, reason)

    async def aclose(self, drain_s: float | None = None) -> None:
        """Write what is queued (for up to ``drain_s``), then close the database."""
        await self._queue.aclose(self.settings.drain_s if drain_s is None else drain_s)
        await self.call(self.database.close)
        self._thread.shutdown(wait=True)

    async def __aenter__(self) -> DatabaseWriter:
        await self.start()
        return self

    async def __aexit__(self, *_: object) -> None:
        await self.aclose()


def open_writer(
    database: DatabaseSettings,
    settings: LedgerSettings | None = None,
    *,
    registry: CollectorRegistry | None = None,
) -> DatabaseWriter:
    """PostgreSQL when ``DATABASE_URL`` is set, else SQLite at ``DATABASE_SQLITE_PATH``. Call ``start()``."""
    return DatabaseWriter(LedgerDatabase.from_settings(database), settings, registry=registry)
