"""Usage ledger: one contract, run against real PostgreSQL and a real SQLite file."""

from __future__ import annotations

import asyncio
import threading
import uuid
from collections.abc import Callable, Iterator
from datetime import UTC, date, datetime, timedelta, timezone
from pathlib import Path

import psycopg
import pytest
from prometheus_client import CollectorRegistry
from psycopg import sql
from pydantic import SecretStr, ValidationError

from service.core.types import Usage
from service.settings.database import DatabaseSettings
from service.usage.ledger import (
    LedgerBackend,
    LedgerSettings,
    LedgerUnavailableError,
    PostgresLedger,
    SQLiteLedger,
    UsageLedger,
    UsageRecord,
    open_ledger,
)

POSTGRES_URL = "postgresql://postgres@127.0.0.1:5432/test"
DAY = date(2026, 3, 1)
NOON = datetime(2026, 3, 1, 12, tzinfo=UTC)

BackendFactory = Callable[[], LedgerBackend]


@pytest.fixture(params=["sqlite", "postgres"])
def make_backend(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[BackendFactory]:
    """Backends on one fresh database: a SQLite file, or a PostgreSQL schema of this test's own."""
    if request.param == "sqlite":
        yield lambda: SQLiteLedger(tmp_path / "var" / "ledger.db")
        return
    schema = f"test_ledger_{uuid.uuid4().hex[:12]}"
    yield lambda: PostgresLedger(POSTGRES_URL, schema=schema)
    with psycopg.connect(POSTGRES_URL, autocommit=True) as conn:
        conn.execute(sql.SQL("DROP SCHEMA IF EXISTS {} CASCADE").format(sql.Identifier(schema)))


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


def test_totals_per_key_and_utc_day(make_backend: BackendFactory) -> None:
    async def run() -> None:
        ledger = UsageLedger(make_backend())
        await ledger.start()
        for n in range(10):
            ledger.record(record(n))
        ledger.record(record(0, key="k2"))  # another key
        ledger.record(record(0, at=datetime(2026, 3, 1, 23, 59, 59, tzinfo=UTC) + timedelta(seconds=1)))
        # 01:00 on the 2nd at UTC+02:00 is 23:00 on the 1st in UTC: it counts toward the 1st
        ledger.record(record(0, at=datetime(2026, 3, 2, 1, tzinfo=timezone(timedelta(hours=2)))))
        await ledger.flush()
        totals = await ledger.totals("k1", DAY)
        assert totals.answers == 11
        assert totals.input_tokens == sum(100 + n for n in range(10)) + 100
        assert totals.output_tokens == sum(10 + n for n in range(10)) + 10
        assert totals.cache_read_input_tokens == 11_000
        assert totals.cache_creation_input_tokens == sum(range(10))
        assert totals.cost_usd == pytest.approx(sum(0.001 * (n + 1) for n in range(10)) + 0.001)
        next_day = await ledger.totals("k1", date(2026, 3, 2))
        assert next_day.answers == 1
        empty = await ledger.totals("nobody", DAY)
        assert (empty.answers, empty.input_tokens, empty.cost_usd) == (0, 0, 0.0)
        await ledger.aclose()

    asyncio.run(run())


def test_by_conversation_round_trips_every_field(make_backend: BackendFactory) -> None:
    async def run() -> list[UsageRecord]:
        ledger = UsageLedger(make_backend())
        await ledger.start()
        for n in (2, 0, 1):
            ledger.record(record(n, conversation="conv-a"))
        ledger.record(record(5, conversation="conv-b"))
        await ledger.flush()
        rows = await ledger.by_conversation("conv-a")
        assert await ledger.by_conversation("missing") == []
        await ledger.aclose()
        return rows

    rows = asyncio.run(run())
    assert [r.message_id for r in rows] == ["m0", "m1", "m2"]  # in time order
    for row, n in zip(rows, (0, 1, 2), strict=True):
        expected = record(n, conversation="conv-a")
        assert row.created_at == expected.created_at and row.day == DAY
        assert row.cost_usd == pytest.approx(expected.cost_usd)
        assert row == UsageRecord(**{**expected.__dict__, "cost_usd": row.cost_usd})


def test_migration_is_idempotent_and_data_survives_reopen(make_backend: BackendFactory) -> None:
    async def write() -> None:
        first, second = UsageLedger(make_backend()), UsageLedger(make_backend())
        await first.start()
        await second.start()  # the table exists: nothing to do, no error
        first.record(record(1))
        second.record(record(2))
        await first.aclose()
        await second.aclose()

    async def read() -> int:
        ledger = UsageLedger(make_backend())
        await ledger.start()
        totals = await ledger.totals("k1", DAY)
        await ledger.aclose()
        return totals.answers

    asyncio.run(write())
    assert asyncio.run(read()) == 2


def test_clean_shutdown_writes_everything_queued(make_backend: BackendFactory) -> None:
    async def write() -> None:
        ledger = UsageLedger(make_backend(), LedgerSettings(batch_size=64))
        await ledger.start()
        for n in range(500):
            ledger.record(record(n, conversation=f"c{n % 7}"))
        await ledger.aclose()  # no flush: shutdown itself drains the queue

    async def count() -> int:
        ledger = UsageLedger(make_backend())
        await ledger.start()
        totals = await ledger.totals("k1", DAY)
        await ledger.aclose()
        return totals.answers

    asyncio.run(write())
    assert asyncio.run(count()) == 500


def test_full_queue_drops_and_counts_instead_of_blocking(make_backend: BackendFactory) -> None:
    registry = CollectorRegistry()

    async def run() -> int:
        ledger = UsageLedger(make_backend(), LedgerSettings(queue_size=5), registry=registry)
        await ledger.start()
        for n in range(12):  # no await in between: the writer cannot run, the queue fills at 5
            ledger.record(record(n))
        await ledger.flush()
        answers = (await ledger.totals("k1", DAY)).answers
        await ledger.aclose()
        ledger.record(record(99))  # after close: dropped, not raised
        return answers

    assert asyncio.run(run()) == 5
    assert registry.get_sample_value("faqstream_ledger_dropped_total") == 8


def test_concurrent_starts_do_not_race(make_backend: BackendFactory) -> None:
    """Replicas starting together each run the migration; all succeed and share one table."""
    errors: list[BaseException] = []

    def replica(n: int) -> None:
        async def run() -> None:
            ledger = UsageLedger(make_backend())
            await ledger.start()
            ledger.record(record(n))
            await ledger.aclose()

        try:
            asyncio.run(run())
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=replica, args=(n,)) for n in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert errors == []

    async def count() -> int:
        ledger = UsageLedger(make_backend())
        await ledger.start()
        answers = (await ledger.totals("k1", DAY)).answers
        await ledger.aclose()
        return answers

    assert asyncio.run(count()) == 4


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
        ledger = UsageLedger(PostgresLedger("postgresql://postgres@127.0.0.1:1/test", connect_timeout_s=2))
        try:
            await ledger.start()
        finally:
            await ledger.aclose()

    with pytest.raises(LedgerUnavailableError, match="DATABASE_URL"):
        asyncio.run(run())


def test_writes_are_retried_until_the_database_accepts_them(tmp_path: Path) -> None:
    """A failed write keeps its batch: here the table is dropped under the ledger, then restored."""
    registry = CollectorRegistry()
    backend = SQLiteLedger(tmp_path / "ledger.db")

    async def run() -> int:
        ledger = UsageLedger(backend, LedgerSettings(retry_max_s=0.05), registry=registry)
        await ledger.start()
        await ledger._call(lambda: backend.conn.execute("DROP TABLE usage_ledger"))
        ledger.record(record(1))
        while not registry.get_sample_value("faqstream_ledger_write_errors_total"):
            await asyncio.sleep(0.01)
        await ledger._call(backend.migrate)  # the database is back
        await ledger.flush()
        answers = (await ledger.totals("k1", DAY)).answers
        await ledger.aclose()
        return answers

    assert asyncio.run(run()) == 1
    assert registry.get_sample_value("faqstream_ledger_dropped_total") == 0


def test_factory_and_settings(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    sqlite = open_ledger(DatabaseSettings(url=None, sqlite_path=tmp_path / "x.db"))
    assert isinstance(sqlite.backend, SQLiteLedger)
    postgres = open_ledger(DatabaseSettings(url=SecretStr(POSTGRES_URL)))
    assert isinstance(postgres.backend, PostgresLedger)
    monkeypatch.setenv("DATABASE_URL", "")
    assert DatabaseSettings().url is None
    monkeypatch.setenv("DATABASE_URL", "mysql://x@y/z")
    with pytest.raises(ValidationError):
        DatabaseSettings()
    with pytest.raises(ValueError, match="identifier"):
        SQLiteLedger(tmp_path / "x.db", table="x; DROP TABLE y")
