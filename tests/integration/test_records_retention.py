"""Retention of the conversation records (service/records/retention.py, ``faqstream records prune``)
on the real databases: whole conversations not updated for N days go with everything recorded of
them; newer ones stay whole; the usage ledger is kept."""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from prometheus_client import CollectorRegistry
from sqlalchemy import Engine, func, select

from service.records.retention import Pruned, RetentionJob, cutoff_for, expired_counts, prune
from service.usage.database import LedgerDatabase
from service.usage.ledger import LedgerSettings
from service.usage.schema import (
    conversation_tags,
    conversations,
    feedback,
    handoffs,
    messages,
    usage_ledger,
)
from service.usage.writer import DatabaseWriter
from tests.conversation_seed import seed_conversation
from tests.databases import migrated_database

NOW = datetime.now(UTC)
TABLES = {
    "conversations": conversations,
    "messages": messages,
    "handoffs": handoffs,
    "feedback": feedback,
    "conversation_tags": conversation_tags,
}


@pytest.fixture(params=["sqlite", "postgres"])
def database(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[LedgerDatabase]:
    with migrated_database(request.param, tmp_path, "retention") as database:
        yield database


def _everything_of(engine: Engine, cid: str, *, at: datetime) -> None:
    """A handoff, feedback, a batch tag and a usage row for conversation ``cid``."""
    with engine.begin() as connection:
        connection.execute(
            handoffs.insert().values(
                conversation=cid, message_id="m", tenant="acme", created_at=at, reason="customer_request"
            )
        )
        connection.execute(
            feedback.insert().values(
                message_id="m", conversation=cid, tenant="acme", created_at=at, thumbs=-1
            )
        )
        connection.execute(
            conversation_tags.insert().values(
                conversation=cid,
                tenant="acme",
                job_id="job",
                tagged_at=at,
                satisfaction=2,
                escalate=1,
                resolved=0,
            )
        )
        connection.execute(
            usage_ledger.insert().values(
                created_at=at,
                day=at.date(),
                key_id="key_seed",
                conversation_id=cid,
                model="claude-haiku-4-5",
                input_tokens=10,
                output_tokens=5,
                cache_read_input_tokens=0,
                cache_creation_input_tokens=0,
                cost_usd=0.001,
            )
        )


def _seed(engine: Engine) -> tuple[str, str]:
    """An old conversation (last updated 200 days ago) and one still going on (updated yesterday)
    whose first message is 200 days old; each with a handoff, feedback, a tag and usage."""
    old = seed_conversation(engine, "old", updated_at=NOW - timedelta(days=200))
    _everything_of(engine, old, at=NOW - timedelta(days=200))
    ongoing = seed_conversation(engine, "ongoing", updated_at=NOW - timedelta(days=1))
    with engine.begin() as connection:
        connection.execute(
            messages.insert().values(
                message_id="ongoing-first",
                conversation=ongoing,
                tenant="acme",
                created_at=NOW - timedelta(days=200),
                role="customer",
                text="the first question, long ago",
                language="en",
            )
        )
    _everything_of(engine, ongoing, at=NOW - timedelta(days=1))
    return old, ongoing


def _rows_of(engine: Engine, cid: str) -> dict[str, int]:
    with engine.connect() as connection:
        found = {
            name: connection.execute(
                select(func.count())
                .select_from(table)
                .where((table.c.id if name == "conversations" else table.c.conversation) == cid)
            ).scalar_one()
            for name, table in TABLES.items()
        }
        found["usage_ledger"] = connection.execute(
            select(func.count()).select_from(usage_ledger).where(usage_ledger.c.conversation_id == cid)
        ).scalar_one()
    return found


def test_prune_deletes_whole_old_conversations_and_keeps_newer_ones_whole(database: LedgerDatabase) -> None:
    old, ongoing = _seed(database.engine)
    before_old, before_ongoing = _rows_of(database.engine, old), _rows_of(database.engine, ongoing)
    assert before_old == {**dict.fromkeys(TABLES, 1), "messages": 3, "usage_ledger": 1}

    with database.engine.begin() as connection:  # a dry run counts and deletes nothing
        counted = expired_counts(connection, cutoff_for(180))
    assert counted.rows == {
        "feedback": 1,
        "handoffs": 1,
        "messages": 3,
        "conversation_tags": 1,
        "conversations": 1,
    }
    assert _rows_of(database.engine, old) == before_old

    with database.engine.begin() as connection:
        pruned = prune(connection, cutoff_for(180))
    assert pruned.rows == counted.rows
    assert _rows_of(database.engine, old) == {**dict.fromkeys(TABLES, 0), "usage_ledger": 1}  # billing kept
    assert _rows_of(database.engine, ongoing) == before_ongoing  # its 200-day-old message too

    with database.engine.begin() as connection:  # nothing left to do
        assert prune(connection, cutoff_for(180)).conversations == 0


def test_the_service_job_prunes_at_start_and_counts_what_it_deleted(database: LedgerDatabase) -> None:
    old, ongoing = _seed(database.engine)
    registry = CollectorRegistry()

    async def run() -> None:
        writer = DatabaseWriter(database, LedgerSettings())
        await writer.start()
        job = RetentionJob(writer, days=30, every_s=3600, registry=registry)
        job.start()
        for _ in range(1000):  # the first round runs at start, on the database thread
            if registry.get_sample_value("faqstream_records_pruned_total", {"table": "conversations"}):
                break
            await asyncio.sleep(0.01)
        await job.aclose()
        await writer.aclose()

    asyncio.run(run())
    assert registry.get_sample_value("faqstream_records_pruned_total", {"table": "conversations"}) == 1
    assert registry.get_sample_value("faqstream_records_pruned_total", {"table": "messages"}) == 3
    assert _rows_of(database.engine, old)["conversations"] == 0
    assert _rows_of(database.engine, ongoing)["conversations"] == 1


def test_cli_prune_dry_run_then_for_real(tmp_path: Path, child_env: dict[str, str]) -> None:
    db = LedgerDatabase.sqlite(tmp_path / "faqstream.db")
    db.migrate()
    old, ongoing = _seed(db.engine)
    db.close()
    env = {**child_env, "DATABASE_SQLITE_PATH": str(tmp_path / "faqstream.db")}
    env.pop("DATABASE_URL", None)

    def records(*args: str, **more_env: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "faqstream", "records", "prune", *args],
            env={**env, **more_env},
            capture_output=True,
            text=True,
            timeout=600,
            check=False,
        )

    missing = records()
    assert missing.returncode == 2  # bad usage
    assert "--older-than" in missing.stderr and "RECORDS_RETENTION_DAYS" in missing.stderr

    dry = records("--older-than", "90", "--dry-run", "--json")
    assert dry.returncode == 0, dry.stderr
    assert json.loads(dry.stdout)["rows"]["conversations"] == 1
    assert json.loads(dry.stdout)["dry_run"] is True

    done = records(RECORDS_RETENTION_DAYS="90")  # the service's setting is the default
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("deleted 1 conversation (3 messages, 1 handoff, 1 feedback, 1 tag)")

    db = LedgerDatabase.sqlite(tmp_path / "faqstream.db")
    try:
        assert _rows_of(db.engine, old)["messages"] == 0
        assert _rows_of(db.engine, ongoing)["messages"] == 4
    finally:
        db.close()

    for days in ("0", "0.5", "inf", "nan", "1e9", "99999999999999999999"):  # not a retention
        refused = records("--older-than", days)
        assert refused.returncode == 2, (days, refused.stderr)
        assert "from 1 to 36500 days" in refused.stderr and "Traceback" not in refused.stderr
    too_long = records(RECORDS_RETENTION_DAYS="1e9")
    assert too_long.returncode == 3 and "RECORDS_RETENTION_DAYS" in too_long.stderr

    typo = records("--older-than", "30", DATABASE_SQLITE_PATH=str(tmp_path / "nowhere" / "faqstream.db"))
    assert typo.returncode == 3 and "no service database at" in typo.stderr
    assert not (tmp_path / "nowhere").exists()  # nothing created


def test_the_job_prunes_in_chunks_until_nothing_old_is_left(database: LedgerDatabase) -> None:
    for n in range(7):
        seed_conversation(database.engine, f"old-{n}", updated_at=NOW - timedelta(days=400 + n))
    recent = seed_conversation(database.engine, "recent", updated_at=NOW - timedelta(days=2))
    registry = CollectorRegistry()

    async def run() -> Pruned:
        writer = DatabaseWriter(database, LedgerSettings())
        await writer.start()
        try:
            return await RetentionJob(writer, days=30, every_s=3600, registry=registry, chunk=3).run_once()
        finally:
            await writer.aclose()

    pruned = asyncio.run(run())  # chunks of 3, 3, 1: three transactions
    assert pruned.conversations == 7
    assert pruned.rows["messages"] == 21
    assert registry.get_sample_value("faqstream_records_pruned_total", {"table": "conversations"}) == 7
    with database.engine.connect() as connection:
        left = connection.execute(select(conversations.c.id)).scalars().all()
    assert left == [recent]
