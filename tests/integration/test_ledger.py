"""Usage ledger: one contract, run against real PostgreSQL and a real SQLite file.

The table is read back through SQLAlchemy (the ledger itself only writes). Each PostgreSQL test
works in a schema of its own, dropped afterwards, so parallel runs do not collide.
"""

from __future__ import annotations

import asyncio
import sqlite3
import threading
import uuid
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import psycopg
import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from prometheus_client import CollectorRegistry
from psycopg import sql
from pydantic import SecretStr, ValidationError
from sqlalchemy import Connection, func, inspect, select

from service.core.identifiers import Pseudonyms
from service.core.types import Usage
from service.settings.database import DatabaseSettings
from service.usage.database import LedgerDatabase
from service.usage.ledger import LedgerSettings, LedgerUnavailableError, UsageLedger, UsageRecord
from service.usage.migrate import BASELINE, current_revision, head_revision
from service.usage.schema import metadata, usage_ledger
from service.usage.writer import DatabaseWriter, open_writer

POSTGRES_URL = "postgresql://postgres@127.0.0.1:5432/test"
DAY = date(2026, 3, 1)
NOON = datetime(2026, 3, 1, 12, tzinfo=UTC)


# The table exactly as the ledger's hand-written SQL created it before Alembic, with one row.
_LEGACY_ROW = (
    "INSERT INTO {table} (created_at, day, key_id, conversation_id, message_id, model, input_tokens,"
    " output_tokens, cache_read_input_tokens, cache_creation_input_tokens, cost_usd) VALUES"
    " ('2026-03-01T11:00:00+00:00', '2026-03-01', 'k1', 'c1', 'old', 'claude-sonnet-4-6', 7, 3, 0, 0, 0.5)"
)
_LEGACY_SQLITE = [
    """CREATE TABLE usage_ledger (
        id INTEGER PRIMARY KEY AUTOINCREMENT, created_at TEXT NOT NULL, day TEXT NOT NULL,
        key_id TEXT NOT NULL, conversation_id TEXT NOT NULL, message_id TEXT, model TEXT NOT NULL,
        input_tokens INTEGER NOT NULL, output_tokens INTEGER NOT NULL,
        cache_read_input_tokens INTEGER NOT NULL, cache_creation_input_tokens INTEGER NOT NULL,
        cost_usd REAL NOT NULL)""",
    "CREATE INDEX usage_ledger_key_day ON usage_ledger (key_id, day)",
    "CREATE INDEX usage_ledger_conversation ON usage_ledger (conversation_id)",
    _LEGACY_ROW.format(table="usage_ledger"),
]
_LEGACY_POSTGRES = [
    "CREATE SCHEMA {schema}",
    """CREATE TABLE {schema}.usage_ledger (
        id BIGSERIAL PRIMARY KEY, created_at TIMESTAMPTZ NOT NULL, day DATE NOT NULL,
        key_id TEXT NOT NULL, conversation_id TEXT NOT NULL, message_id TEXT, model TEXT NOT NULL,
        input_tokens BIGINT NOT NULL, output_tokens BIGINT NOT NULL,
        cache_read_input_tokens BIGINT NOT NULL, cache_creation_input_tokens BIGINT NOT NULL,
        cost_usd NUMERIC(20, 10) NOT NULL)""",
    "CREATE INDEX usage_ledger_key_day ON {schema}.usage_ledger (key_id, day)",
    "CREATE INDEX usage_ledger_conversation ON {schema}.usage_ledger (conversation_id)",
    _LEGACY_ROW.format(table="{schema}.usage_ledger"),
]


@dataclass(frozen=True)
class Backend:
    """One fresh database: a SQLite file, or a PostgreSQL schema of one test's own."""

    kind: str
    where: str  # the SQLite file, or the PostgreSQL schema

    def database(self) -> LedgerDatabase:
        if self.kind == "postgres":
            return LedgerDatabase.postgres(POSTGRES_URL, schema=self.where)
        return LedgerDatabase.sqlite(Path(self.where))

    @contextmanager
    def connect(self) -> Iterator[Connection]:
        """A connection of a database object of its own (closed afterwards), for reading back."""
        database = self.database()
        try:
            with database.engine.connect() as conn:
                yield conn
        finally:
            database.close()

    def create_legacy_table(self) -> None:
        """The legacy table (``_LEGACY_*``) in this database."""
        if self.kind == "postgres":
            with psycopg.connect(POSTGRES_URL, autocommit=True) as pg:
                for statement in _LEGACY_POSTGRES:
                    pg.execute(statement.format(schema=self.where).encode())
            return
        Path(self.where).parent.mkdir(parents=True, exist_ok=True)
        lite = sqlite3.connect(self.where)
        with lite:
            for statement in _LEGACY_SQLITE:
                lite.execute(statement)
        lite.close()


@contextmanager
def fresh_backend(kind: str, tmp_path: Path, label: str) -> Iterator[Backend]:
    """A fresh database: a SQLite file, or a PostgreSQL schema of its own, dropped afterwards."""
    if kind == "sqlite":
        yield Backend("sqlite", str(tmp_path / "var" / f"{label}.db"))
        return
    schema = f"test_{label}_{uuid.uuid4().hex[:12]}"
    yield Backend("postgres", schema)
    with psycopg.connect(POSTGRES_URL, autocommit=True) as conn:
        conn.execute(sql.SQL("DROP SCHEMA IF EXISTS {} CASCADE").format(sql.Identifier(schema)))


@pytest.fixture(params=["sqlite", "postgres"])
def backend(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Backend]:
    with fresh_backend(request.param, tmp_path, "ledger") as fresh:
        yield fresh


def record(n: int, *, key: str = "k1", conversation: str = "c1", at: datetime = NOON) -> UsageRecord:
    return UsageRecord(
        key_id=key,
        conversation_id=conversation,
        model="claude-sonnet-4-6",
        input_tokens=100 + n,
        output_tokens=10 + n,
        cache_read_input_tokens=1000,
        cache_creation_input_tokens=n,
        cost_usd=0.001 * (n + 1),
        message_id=f"m{n}",
        created_at=at + timedelta(seconds=n),
    )


# --- reading the table back (what a report or the dashboard would do) -------------------------


def totals(backend: Backend, key_id: str, day: date) -> dict[str, Any]:
    t = usage_ledger.c
    query = select(
        func.count().label("answers"),
        func.coalesce(func.sum(t.input_tokens), 0).label("input_tokens"),
        func.coalesce(func.sum(t.output_tokens), 0).label("output_tokens"),
        func.coalesce(func.sum(t.cache_read_input_tokens), 0).label("cache_read_input_tokens"),
        func.coalesce(func.sum(t.cache_creation_input_tokens), 0).label("cache_creation_input_tokens"),
        func.coalesce(func.sum(t.cost_usd), 0).label("cost_usd"),
    ).where(t.key_id == key_id, t.day == day)
    with backend.connect() as conn:
        row = conn.execute(query).one()
    return {name: float(value) if name == "cost_usd" else int(value) for name, value in row._mapping.items()}


def answers(backend: Backend, key_id: str = "k1", day: date = DAY) -> int:
    return int(totals(backend, key_id, day)["answers"])


def pseudonym(conversation_id: str, key: str = "k1") -> str:
    """What the ledger writes for a conversation id (no secret: plain SHA-256 of the store key,
    ``<tenant>/<conversation_id>``), the same name the records give the conversation."""
    return Pseudonyms().conversation(f"{key}/{conversation_id}")


def by_conversation(backend: Backend, conversation_id: str) -> list[UsageRecord]:
    t = usage_ledger.c
    query = select(usage_ledger).where(t.conversation_id == conversation_id).order_by(t.created_at, t.id)
    with backend.connect() as conn:
        rows = conn.execute(query).all()
    fields = set(UsageRecord.__dataclass_fields__)
    return [UsageRecord(**{k: v for k, v in row._mapping.items() if k in fields}) for row in rows]


def ledger_on(
    database: LedgerDatabase, settings: LedgerSettings | None = None, **options: Any
) -> UsageLedger:
    """A usage ledger over a database writer of its own (the service shares one with the records)."""
    return UsageLedger(DatabaseWriter(database, settings, **options))


async def write(backend: Backend, records: list[UsageRecord], **settings: Any) -> None:
    ledger = ledger_on(backend.database(), LedgerSettings(**settings))
    await ledger.writer.start()
    for rec in records:
        ledger.record(rec)
    await ledger.writer.aclose()


# --- the contract -----------------------------------------------------------------------------


def test_totals_per_key_and_utc_day(backend: Backend) -> None:
    records = [record(n) for n in range(10)]
    records.append(record(0, key="k2"))  # another key
    records.append(record(0, at=datetime(2026, 3, 1, 23, 59, 59, tzinfo=UTC) + timedelta(seconds=1)))
    # 01:00 on the 2nd at UTC+02:00 is 23:00 on the 1st in UTC: it counts toward the 1st
    records.append(record(0, at=datetime(2026, 3, 2, 1, tzinfo=timezone(timedelta(hours=2)))))
    asyncio.run(write(backend, records))
    day = totals(backend, "k1", DAY)
    assert day["answers"] == 11
    assert day["input_tokens"] == sum(100 + n for n in range(10)) + 100
    assert day["output_tokens"] == sum(10 + n for n in range(10)) + 10
    assert day["cache_read_input_tokens"] == 11_000
    assert day["cache_creation_input_tokens"] == sum(range(10))
    assert day["cost_usd"] == pytest.approx(sum(0.001 * (n + 1) for n in range(10)) + 0.001)
    assert answers(backend, "k1", date(2026, 3, 2)) == 1
    empty = totals(backend, "nobody", DAY)
    assert (empty["answers"], empty["input_tokens"], empty["cost_usd"]) == (0, 0, 0.0)


def test_rows_round_trip_every_field(backend: Backend) -> None:
    records = [record(n, conversation="conv-a") for n in (2, 0, 1)] + [record(5, conversation="conv-b")]
    asyncio.run(write(backend, records))
    assert by_conversation(backend, "conv-a") == []  # no raw conversation id is written
    rows = by_conversation(backend, pseudonym("conv-a"))
    assert by_conversation(backend, "missing") == []
    assert [r.message_id for r in rows] == ["m0", "m1", "m2"]  # in time order
    for row, n in zip(rows, (0, 1, 2), strict=True):
        expected = replace(record(n, conversation=pseudonym("conv-a")), tenant="k1")
        assert row.created_at == expected.created_at and row.created_at.tzinfo is not None
        assert row.day == DAY
        assert row.cost_usd == pytest.approx(expected.cost_usd)
        assert row == UsageRecord(**{**expected.__dict__, "cost_usd": row.cost_usd})


def test_migration_is_idempotent_and_data_survives_reopen(backend: Backend) -> None:
    async def run() -> None:
        first, second = ledger_on(backend.database()), ledger_on(backend.database())
        await first.writer.start()
        await second.writer.start()  # already at head: nothing to do, no error
        first.record(record(1))
        second.record(record(2))
        await first.writer.aclose()
        await second.writer.aclose()

    asyncio.run(run())
    asyncio.run(write(backend, []))  # a third start on the same database
    assert answers(backend) == 2
    with backend.connect() as conn:
        assert current_revision(conn) == head_revision()


def test_the_migrations_build_exactly_the_table_schema_py_defines(backend: Backend) -> None:
    asyncio.run(write(backend, []))
    with backend.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn), metadata)
    assert diff == []


def test_clean_shutdown_writes_everything_queued(backend: Backend) -> None:
    # no flush: shutdown itself drains the queue
    asyncio.run(write(backend, [record(n, conversation=f"c{n % 7}") for n in range(500)], batch_size=64))
    assert answers(backend) == 500


def test_full_queue_drops_and_counts_instead_of_blocking(backend: Backend) -> None:
    registry = CollectorRegistry()

    async def run() -> None:
        ledger = ledger_on(backend.database(), LedgerSettings(queue_size=5), registry=registry)
        await ledger.writer.start()
        for n in range(12):  # no await in between: the writer cannot run, the queue fills at 5
            ledger.record(record(n))
        await ledger.writer.flush()
        await ledger.writer.aclose()
        ledger.record(record(99))  # after close: dropped, not raised

    asyncio.run(run())
    assert answers(backend) == 5
    assert registry.get_sample_value("faqstream_ledger_dropped_total") == 8


def test_concurrent_starts_do_not_race(backend: Backend) -> None:
    """Replicas starting together each run the migration; all succeed and share one table."""
    errors: list[BaseException] = []

    def replica(n: int) -> None:
        try:
            asyncio.run(write(backend, [record(n)]))
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=replica, args=(n,)) for n in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert errors == []
    assert answers(backend) == 4


def set_table(database: LedgerDatabase, *, present: bool) -> None:
    """Drop the table under a running ledger (its writes fail) or put it back (they succeed)."""
    with database.engine.begin() as conn:
        (usage_ledger.create if present else usage_ledger.drop)(conn)


async def failing_ledger(backend: Backend, registry: CollectorRegistry) -> UsageLedger:
    """A started ledger whose table has just been dropped: every write fails until it is back."""
    ledger = ledger_on(backend.database(), LedgerSettings(retry_max_s=0.05), registry=registry)
    await ledger.writer.start()
    await asyncio.to_thread(set_table, ledger.writer.database, present=False)
    return ledger


def test_writes_are_retried_until_the_database_accepts_them(backend: Backend) -> None:
    """A failed write keeps its batch: here the table is dropped under the ledger, then restored."""
    registry = CollectorRegistry()

    async def run() -> None:
        ledger = await failing_ledger(backend, registry)
        ledger.record(record(1))
        while not registry.get_sample_value("faqstream_ledger_write_errors_total"):
            await asyncio.sleep(0.01)
        await asyncio.to_thread(set_table, ledger.writer.database, present=True)  # the database is back
        await ledger.writer.flush()
        await ledger.writer.aclose()

    asyncio.run(run())
    assert answers(backend) == 1
    assert registry.get_sample_value("faqstream_ledger_dropped_total") == 0


def test_shutdown_while_the_database_fails_drops_and_counts(backend: Backend) -> None:
    registry = CollectorRegistry()

    async def run() -> None:
        ledger = await failing_ledger(backend, registry)
        for n in range(3):
            ledger.record(record(n))
        await asyncio.wait_for(ledger.writer.aclose(drain_s=0.2), timeout=30)

    asyncio.run(run())
    assert registry.get_sample_value("faqstream_ledger_dropped_total") == 3
    assert (registry.get_sample_value("faqstream_ledger_write_errors_total") or 0) >= 1


# --- a database the ledger created before it had migrations ----------------------------------


def test_a_database_from_before_migrations_is_stamped_and_keeps_working(
    backend: Backend,
) -> None:
    backend.create_legacy_table()
    with backend.connect() as conn:
        assert current_revision(conn) is None and inspect(conn).has_table("usage_ledger")

    asyncio.run(write(backend, [record(1, conversation="c1")]))

    with backend.connect() as conn:
        assert current_revision(conn) == head_revision() != BASELINE  # stamped, then upgraded
        diff = compare_metadata(MigrationContext.configure(conn), metadata)
    # SQLite reports the legacy ``id INTEGER PRIMARY KEY`` (a rowid, never NULL) as nullable
    assert [
        d
        for d in diff
        if not (isinstance(d, list) and d[0][:4] == ("modify_nullable", None, "usage_ledger", "id"))
    ] == []
    (old,) = by_conversation(backend, "c1")  # rows from before keep their raw ids
    (new,) = by_conversation(backend, pseudonym("c1"))
    assert old.tenant == "k1"  # backfilled from key_id (it was the tenant)
    assert old.message_id == "old" and old.created_at == datetime(2026, 3, 1, 11, tzinfo=UTC)
    assert (old.input_tokens, old.output_tokens, old.cost_usd, old.day) == (7, 3, 0.5, DAY)
    assert new == UsageRecord(
        **{**record(1).__dict__, "cost_usd": new.cost_usd, "conversation_id": pseudonym("c1"), "tenant": "k1"}
    )
    assert answers(backend) == 2


# --- one backend is enough ----------------------------------------------------------------------


def test_record_from_answer_usage() -> None:
    usage = Usage(
        input_tokens=5,
        output_tokens=6,
        cache_read_input_tokens=7,
        cache_creation_input_tokens=8,
        cost_usd=0.5,
    )
    rec = UsageRecord.from_usage(key_id="k", conversation_id="c", model="m", usage=usage, created_at=NOON)
    assert (rec.input_tokens, rec.output_tokens, rec.cache_read_input_tokens) == (5, 6, 7)
    assert (rec.cache_creation_input_tokens, rec.cost_usd, rec.day) == (8, 0.5, DAY)


def test_unreachable_postgres_fails_at_start() -> None:
    async def run() -> None:
        database = LedgerDatabase.postgres("postgresql://postgres@127.0.0.1:1/test", connect_timeout_s=2)
        writer = DatabaseWriter(database)
        try:
            await writer.start()
        finally:
            await writer.aclose()

    with pytest.raises(LedgerUnavailableError, match="DATABASE_URL"):
        asyncio.run(run())


def test_factory_and_settings(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    sqlite = open_writer(DatabaseSettings(url=None, sqlite_path=tmp_path / "x.db"))
    assert sqlite.database.engine.dialect.name == "sqlite"
    postgres = open_writer(DatabaseSettings(url=SecretStr(POSTGRES_URL)))
    assert postgres.database.engine.dialect.name == "postgresql"
    assert postgres.database.engine.dialect.driver == "psycopg"
    monkeypatch.setenv("DATABASE_URL", "")
    assert DatabaseSettings().url is None
    monkeypatch.setenv("DATABASE_URL", "mysql://x@y/z")
    with pytest.raises(ValidationError):
        DatabaseSettings()
    with pytest.raises(ValueError, match="identifier"):
        LedgerDatabase.postgres(POSTGRES_URL, schema="x; DROP TABLE y")


class Tally:
    """A kind of row that notes each write it is given (the rows, and the transaction they were in)."""

    def __init__(self, name: str) -> None:
        self.name = name
        self.writes: list[tuple[int, list[int]]] = []

    def write(self, connection: Connection, rows: Sequence[int]) -> None:
        self.writes.append((id(connection), list(rows)))

    def dropped(self, rows: Sequence[int], reason: str) -> None:
        raise AssertionError(f"{self.name}: {list(rows)} dropped ({reason})")


def test_interleaved_kinds_are_written_once_per_kind_in_one_transaction(backend: Backend) -> None:
    usage, records = Tally("usage"), Tally("records")

    async def run() -> None:
        writer = DatabaseWriter(backend.database(), LedgerSettings(batch_size=100, linger_s=5))
        await writer.start()
        for n in range(10):  # producers interleave their kinds, as answers do
            writer.offer(usage if n % 2 else records, n)
        assert await writer.settle(timeout_s=30)  # cuts the linger short
        await writer.aclose()

    asyncio.run(run())
    assert [rows for _, rows in records.writes] == [[0, 2, 4, 6, 8]]
    assert [rows for _, rows in usage.writes] == [[1, 3, 5, 7, 9]]
    assert records.writes[0][0] == usage.writes[0][0]  # the same connection: one transaction
