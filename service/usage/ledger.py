"""Usage ledger: what every answer used and cost, per API key, conversation and UTC day.

``UsageLedger.record(...)`` only puts the row on a bounded queue, so an answer never waits for the
database; one background task writes batches through a single dedicated thread (the blocking
drivers — sqlite3, psycopg — never run on the event loop). A failed write is retried with backoff
and the batch kept; ``aclose`` drains the queue before it returns, so a clean shutdown loses
nothing. A full queue (the database down for long) drops rows with a log line and a counter.

Backends: PostgreSQL (psycopg 3) when ``DATABASE_URL`` is set, else SQLite (``./var/faqstream.db``).
The table is created on first use with ``CREATE ... IF NOT EXISTS`` (under an advisory lock on
PostgreSQL, so replicas starting together do not race).
"""

from __future__ import annotations

import abc
import asyncio
import logging
import re
import sqlite3
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any, TypeVar

import psycopg
from prometheus_client import CollectorRegistry, Counter
from psycopg import sql
from pydantic import Field
from pydantic_settings import BaseSettings

from knowledge.errors import FaqstreamError
from knowledge.settings import _config
from service.core.types import Usage
from service.settings.database import DatabaseSettings

log = logging.getLogger(__name__)

T = TypeVar("T")
_IDENTIFIER = re.compile(r"^[A-Za-z_][A-Za-z0-9_]{0,62}$")
_COLUMNS = (
    "created_at",
    "day",
    "key_id",
    "conversation_id",
    "message_id",
    "model",
    "input_tokens",
    "output_tokens",
    "cache_read_input_tokens",
    "cache_creation_input_tokens",
    "cost_usd",
)


class LedgerSettings(BaseSettings):
    model_config = _config("LEDGER_")

    queue_size: int = Field(default=10_000, ge=1, description="rows waiting to be written; more are dropped")
    batch_size: int = Field(default=200, ge=1, le=10_000, description="rows per write")
    drain_s: float = Field(default=15.0, ge=0, description="how long shutdown waits to write what is queued")
    retry_max_s: float = Field(default=30.0, gt=0, description="longest wait between failed writes")


class LedgerUnavailableError(FaqstreamError):
    """The ledger database could not be opened or migrated."""


def _utc_now() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True)
class UsageRecord:
    key_id: str
    conversation_id: str
    model: str
    input_tokens: int = 0
    output_tokens: int = 0
    cache_read_input_tokens: int = 0
    cache_creation_input_tokens: int = 0
    cost_usd: float = 0.0
    message_id: str | None = None
    created_at: datetime = field(default_factory=_utc_now)

    @property
    def day(self) -> date:
        """The UTC day the answer counts toward."""
        return self.created_at.astimezone(UTC).date()

    @classmethod
    def from_usage(
        cls,
        *,
        key_id: str,
        conversation_id: str,
        model: str,
        usage: Usage,
        message_id: str | None = None,
        created_at: datetime | None = None,
    ) -> UsageRecord:
        return cls(
            key_id=key_id,
            conversation_id=conversation_id,
            model=model,
            input_tokens=usage.input_tokens,
            output_tokens=usage.output_tokens,
            cache_read_input_tokens=usage.cache_read_input_tokens,
            cache_creation_input_tokens=usage.cache_creation_input_tokens,
            cost_usd=usage.cost_usd,
            message_id=message_id,
            created_at=created_at or _utc_now(),
        )

    def row(self) -> tuple[Any, ...]:
        at = self.created_at.astimezone(UTC)
        return (
            at,
            at.date(),
            self.key_id,
            self.conversation_id,
            self.message_id,
            self.model,
            self.input_tokens,
            self.output_tokens,
            self.cache_read_input_tokens,
            self.cache_creation_input_tokens,
            self.cost_usd,
        )


@dataclass(frozen=True)
class UsageTotals:
    key_id: str
    day: date
    answers: int = 0
    input_tokens: int = 0
    output_tokens: int = 0
    cache_read_input_tokens: int = 0
    cache_creation_input_tokens: int = 0
    cost_usd: float = 0.0


def _record(row: Sequence[Any]) -> UsageRecord:
    """A row in ``_COLUMNS`` order (created_at as datetime or ISO text) back into a record."""
    created = row[0] if isinstance(row[0], datetime) else datetime.fromisoformat(row[0])
    return UsageRecord(
        created_at=created.astimezone(UTC),
        key_id=row[2],
        conversation_id=row[3],
        message_id=row[4],
        model=row[5],
        input_tokens=int(row[6]),
        output_tokens=int(row[7]),
        cache_read_input_tokens=int(row[8]),
        cache_creation_input_tokens=int(row[9]),
        cost_usd=float(row[10]),
    )


def _totals(key_id: str, day: date, row: Sequence[Any] | None) -> UsageTotals:
    if row is None:
        return UsageTotals(key_id, day)
    answers, input_tokens, output_tokens, cache_read, cache_creation = (int(v or 0) for v in row[:5])
    return UsageTotals(
        key_id,
        day,
        answers=answers,
        input_tokens=input_tokens,
        output_tokens=output_tokens,
        cache_read_input_tokens=cache_read,
        cache_creation_input_tokens=cache_creation,
        cost_usd=float(row[5] or 0),
    )


_TOTALS_SELECT = (
    "count(*), sum(input_tokens), sum(output_tokens), sum(cache_read_input_tokens), "
    "sum(cache_creation_input_tokens), sum(cost_usd)"
)


class LedgerBackend(abc.ABC):
    """Blocking storage; ``UsageLedger`` calls it from one dedicated thread only."""

    @abc.abstractmethod
    def migrate(self) -> None: ...

    @abc.abstractmethod
    def insert(self, records: Sequence[UsageRecord]) -> None: ...

    @abc.abstractmethod
    def totals(self, key_id: str, day: date) -> UsageTotals: ...

    @abc.abstractmethod
    def by_conversation(self, conversation_id: str) -> list[UsageRecord]: ...

    @abc.abstractmethod
    def close(self) -> None: ...


def _identifier(name: str) -> str:
    if not _IDENTIFIER.match(name):
        raise ValueError(f"not a valid SQL identifier: {name!r}")
    return name


class SQLiteLedger(LedgerBackend):
    def __init__(self, path: Path, *, table: str = "usage_ledger") -> None:
        self.path = path
        self.table = _identifier(table)
        self._conn: sqlite3.Connection | None = None

    @property
    def conn(self) -> sqlite3.Connection:
        if self._conn is None:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            conn = sqlite3.connect(self.path, timeout=30)
            conn.execute("PRAGMA journal_mode=WAL")  # readers and other processes' writers coexist
            conn.execute("PRAGMA synchronous=NORMAL")
            self._conn = conn
        return self._conn

    def migrate(self) -> None:
        t = self.table
        with self.conn:
            self.conn.execute(
                f"""CREATE TABLE IF NOT EXISTS {t} (
                    id INTEGER PRIMARY KEY AUTOINCREMENT,
                    created_at TEXT NOT NULL,
                    day TEXT NOT NULL,
                    key_id TEXT NOT NULL,
                    conversation_id TEXT NOT NULL,
                    message_id TEXT,
                    model TEXT NOT NULL,
                    input_tokens INTEGER NOT NULL,
                    output_tokens INTEGER NOT NULL,
                    cache_read_input_tokens INTEGER NOT NULL,
                    cache_creation_input_tokens INTEGER NOT NULL,
                    cost_usd REAL NOT NULL)"""
            )
            self.conn.execute(f"CREATE INDEX IF NOT EXISTS {t}_key_day ON {t} (key_id, day)")
            self.conn.execute(f"CREATE INDEX IF NOT EXISTS {t}_conversation ON {t} (conversation_id)")

    def insert(self, records: Sequence[UsageRecord]) -> None:
        marks = ", ".join("?" * len(_COLUMNS))
        rows = []
        for record in records:
            row = list(record.row())
            row[0], row[1] = row[0].isoformat(), row[1].isoformat()
            rows.append(row)
        with self.conn:
            self.conn.executemany(f"INSERT INTO {self.table} ({', '.join(_COLUMNS)}) VALUES ({marks})", rows)

    def totals(self, key_id: str, day: date) -> UsageTotals:
        row = self.conn.execute(
            f"SELECT {_TOTALS_SELECT} FROM {self.table} WHERE key_id = ? AND day = ?",
            (key_id, day.isoformat()),
        ).fetchone()
        return _totals(key_id, day, row)

    def by_conversation(self, conversation_id: str) -> list[UsageRecord]:
        rows = self.conn.execute(
            f"SELECT {', '.join(_COLUMNS)} FROM {self.table} "
            "WHERE conversation_id = ? ORDER BY created_at, id",
            (conversation_id,),
        ).fetchall()
        return [_record(r) for r in rows]

    def close(self) -> None:
        if self._conn is not None:
            self._conn.close()
            self._conn = None


class PostgresLedger(LedgerBackend):
    def __init__(
        self,
        url: str,
        *,
        schema: str | None = None,
        table: str = "usage_ledger",
        connect_timeout_s: float = 5.0,
    ) -> None:
        self.url = url
        self.schema = _identifier(schema) if schema is not None else None
        self.table_name = _identifier(table)
        self.connect_timeout_s = connect_timeout_s
        self._conn: psycopg.Connection[tuple[Any, ...]] | None = None

    @property
    def table(self) -> sql.Composable:
        if self.schema is None:
            return sql.Identifier(self.table_name)
        return sql.Identifier(self.schema, self.table_name)

    @property
    def conn(self) -> psycopg.Connection[tuple[Any, ...]]:
        """The open connection; a broken one (server restart, network) is replaced."""
        if self._conn is not None and (self._conn.closed or self._conn.broken):
            self._conn = None
        if self._conn is None:
            self._conn = psycopg.connect(
                self.url, connect_timeout=max(int(self.connect_timeout_s), 1), options="-c TimeZone=UTC"
            )
        return self._conn

    def _run(self, action: Callable[[psycopg.Connection[tuple[Any, ...]]], T]) -> T:
        conn = self.conn
        try:
            with conn.transaction():
                return action(conn)
        except psycopg.OperationalError:
            conn.close()  # reconnect next time
            raise

    def migrate(self) -> None:
        t = self.table
        name = f"{self.schema or 'public'}.{self.table_name}"

        def action(conn: psycopg.Connection[tuple[Any, ...]]) -> None:
            conn.execute("SELECT pg_advisory_xact_lock(hashtext(%s))", (f"faqstream-migrate:{name}",))
            if self.schema is not None:
                conn.execute(sql.SQL("CREATE SCHEMA IF NOT EXISTS {}").format(sql.Identifier(self.schema)))
            conn.execute(
                sql.SQL(
                    """CREATE TABLE IF NOT EXISTS {} (
                    id BIGSERIAL PRIMARY KEY,
                    created_at TIMESTAMPTZ NOT NULL,
                    day DATE NOT NULL,
                    key_id TEXT NOT NULL,
                    conversation_id TEXT NOT NULL,
                    message_id TEXT,
                    model TEXT NOT NULL,
                    input_tokens BIGINT NOT NULL,
                    output_tokens BIGINT NOT NULL,
                    cache_read_input_tokens BIGINT NOT NULL,
                    cache_creation_input_tokens BIGINT NOT NULL,
                    cost_usd NUMERIC(20, 10) NOT NULL)"""
                ).format(t)
            )
            for suffix, columns in (("key_day", ("key_id", "day")), ("conversation", ("conversation_id",))):
                conn.execute(
                    sql.SQL("CREATE INDEX IF NOT EXISTS {} ON {} ({})").format(
                        sql.Identifier(f"{self.table_name}_{suffix}"),
                        t,
                        sql.SQL(", ").join(map(sql.Identifier, columns)),
                    )
                )

        self._run(action)

    def insert(self, records: Sequence[UsageRecord]) -> None:
        query = sql.SQL("INSERT INTO {} ({}) VALUES ({})").format(
            self.table,
            sql.SQL(", ").join(map(sql.Identifier, _COLUMNS)),
            sql.SQL(", ").join(sql.Placeholder() * len(_COLUMNS)),
        )

        def action(conn: psycopg.Connection[tuple[Any, ...]]) -> None:
            with conn.cursor() as cur:
                cur.executemany(query, [r.row() for r in records])

        self._run(action)

    def totals(self, key_id: str, day: date) -> UsageTotals:
        query = sql.SQL("SELECT " + _TOTALS_SELECT + " FROM {} WHERE key_id = %s AND day = %s").format(
            self.table
        )
        row = self._run(lambda conn: conn.execute(query, (key_id, day)).fetchone())
        return _totals(key_id, day, row)

    def by_conversation(self, conversation_id: str) -> list[UsageRecord]:
        query = sql.SQL("SELECT {} FROM {} WHERE conversation_id = %s ORDER BY created_at, id").format(
            sql.SQL(", ").join(map(sql.Identifier, _COLUMNS)), self.table
        )
        rows = self._run(lambda conn: conn.execute(query, (conversation_id,)).fetchall())
        return [_record(r) for r in rows]

    def close(self) -> None:
        if self._conn is not None:
            self._conn.close()
            self._conn = None


class UsageLedger:
    """The async face of a backend: ``start``, ``record``, queries, ``aclose``."""

    def __init__(
        self,
        backend: LedgerBackend,
        settings: LedgerSettings | None = None,
        *,
        registry: CollectorRegistry | None = None,
    ) -> None:
        self.backend = backend
        self.settings = settings or LedgerSettings()
        self._queue: asyncio.Queue[UsageRecord] = asyncio.Queue(maxsize=self.settings.queue_size)
        self._thread = ThreadPoolExecutor(max_workers=1, thread_name_prefix="ledger")
        self._writer: asyncio.Task[None] | None = None
        self._closing = False
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
        """Create the table if needed and start the writer. Raises ``LedgerUnavailableError``."""
        if self._writer is not None:
            return
        try:
            await self._call(self.backend.migrate)
        except (psycopg.Error, sqlite3.Error, OSError) as exc:
            raise LedgerUnavailableError(
                f"usage ledger database unavailable: {type(exc).__name__}: {exc}",
                hint="check DATABASE_URL (or DATABASE_SQLITE_PATH when it is unset)",
            ) from exc
        self._writer = asyncio.create_task(self._write_loop(), name="ledger-writer")

    def record(self, record: UsageRecord) -> None:
        """Queue one answer's usage; returns at once, never raises for database trouble."""
        if self._closing:
            self._drop(record, "ledger closed")
            return
        try:
            self._queue.put_nowait(record)
        except asyncio.QueueFull:
            self._drop(record, "queue full")

    def _drop(self, record: UsageRecord, reason: str) -> None:
        self._dropped.inc()
        log.error(
            "usage ledger: dropped %s tokens / $%.6f for key %s conversation %s (%s)",
            record.input_tokens + record.output_tokens,
            record.cost_usd,
            record.key_id,
            record.conversation_id,
            reason,
        )

    async def flush(self) -> None:
        """Wait until everything recorded so far is written."""
        await self._queue.join()

    async def totals(self, key_id: str, day: date) -> UsageTotals:
        """Sums for ``key_id`` on the UTC ``day`` (rows written so far; ``flush`` first to include all)."""
        return await self._call(self.backend.totals, key_id, day)

    async def by_conversation(self, conversation_id: str) -> list[UsageRecord]:
        return await self._call(self.backend.by_conversation, conversation_id)

    async def _write_loop(self) -> None:
        while True:
            batch = [await self._queue.get()]
            while len(batch) < self.settings.batch_size and not self._queue.empty():
                batch.append(self._queue.get_nowait())
            try:
                await self._write(batch)
            finally:
                for _ in batch:
                    self._queue.task_done()

    async def _write(self, batch: list[UsageRecord]) -> None:
        delay = 0.5
        while True:
            try:
                await self._call(self.backend.insert, batch)
                return
            except asyncio.CancelledError:
                for record in batch:
                    self._drop(record, "shutdown while the database was failing")
                raise
            except Exception as exc:
                self._write_errors.inc()
                log.warning(
                    "usage ledger: write of %d rows failed (%s); retrying in %.1fs", len(batch), exc, delay
                )
            await asyncio.sleep(delay)
            delay = min(delay * 2, self.settings.retry_max_s)

    async def aclose(self, drain_s: float | None = None) -> None:
        """Write what is queued (for up to ``drain_s``), then close the database."""
        self._closing = True
        wait = self.settings.drain_s if drain_s is None else drain_s
        if self._writer is not None:
            try:
                await asyncio.wait_for(self._queue.join(), timeout=wait)
            except TimeoutError:
                log.error("usage ledger: shutdown after %.1fs with rows unwritten", wait)
            self._writer.cancel()
            await asyncio.gather(self._writer, return_exceptions=True)
            self._writer = None
        while not self._queue.empty():
            self._drop(self._queue.get_nowait(), "shutdown")
            self._queue.task_done()
        await self._call(self.backend.close)
        self._thread.shutdown(wait=True)


def open_ledger(
    database: DatabaseSettings,
    settings: LedgerSettings | None = None,
    *,
    registry: CollectorRegistry | None = None,
) -> UsageLedger:
    """PostgreSQL when ``DATABASE_URL`` is set, else SQLite at ``DATABASE_SQLITE_PATH``. Call ``start()``."""
    backend: LedgerBackend
    if database.url is not None:
        backend = PostgresLedger(
            database.url.get_secret_value(), connect_timeout_s=database.connect_timeout_s
        )
    else:
        backend = SQLiteLedger(database.sqlite_path)
    return UsageLedger(backend, settings, registry=registry)
