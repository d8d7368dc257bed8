"""How long one analytics report takes on a database of realistic size: the test fixture's mix of
conversations (tests/records_fixture.py: two tenants, three languages, every kind of outcome,
feedback, tags and ledger rows) repeated over ``--days`` days, ``--repeat`` times a cell a day, in
SQLite and in PostgreSQL; then ``report`` over the last 30 days and over the whole range, all
tenants and one tenant (median of ``--runs``).

    python -m bench.analytics_report [--days 90] [--repeat 5] [--runs 5]
        [--postgres postgresql://postgres@127.0.0.1:5432/test]

Writes bench/results/analytics_report.json.
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
import uuid
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import psycopg
from psycopg import sql
from sqlalchemy import Engine, func, select

from bench.common import write_result
from service.records.analytics.figures import DateRange
from service.records.analytics.reader import report, sqlite_reader
from service.usage.database import LedgerDatabase
from service.usage.schema import conversations, feedback, messages, usage_ledger
from tests.records_fixture import seed_volume

FIRST_DAY = date(2026, 1, 1)


def rows(engine: Engine) -> dict[str, int]:
    with engine.connect() as connection:
        return {
            t.name: int(connection.execute(select(func.count()).select_from(t)).scalar_one())
            for t in (conversations, messages, feedback, usage_ledger)
        }


def timed(engine: Engine, span: DateRange, tenant: str | None, runs: int) -> float:
    samples = []
    for _ in range(runs):
        started = time.perf_counter()
        report(engine, span, tenant)
        samples.append(time.perf_counter() - started)
    return round(statistics.median(samples) * 1000, 1)


def measure(database: LedgerDatabase, reader: Engine, days: int, repeat: int, runs: int) -> dict[str, Any]:
    database.migrate()
    started = time.perf_counter()
    with database.engine.begin() as connection:
        seed_volume(connection, FIRST_DAY, days, repeat)
    seeded_s = time.perf_counter() - started
    end = FIRST_DAY + timedelta(days=days)
    month = DateRange.of(end - timedelta(days=30), end)
    whole = DateRange.of(FIRST_DAY, end)
    return {
        "rows": rows(reader),
        "seed_s": round(seeded_s, 1),
        "report_ms_median": {
            "30_days_all_tenants": timed(reader, month, None, runs),
            "30_days_one_tenant": timed(reader, month, "acme", runs),
            f"{days}_days_all_tenants": timed(reader, whole, None, runs),
        },
    }


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.analytics_report")
    parser.add_argument("--days", type=int, default=90)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--postgres", default="postgresql://postgres@127.0.0.1:5432/test")
    args = parser.parse_args()
    figures: dict[str, Any] = {"days": args.days, "repeat": args.repeat, "runs": args.runs}
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "faqstream.db"
        database = LedgerDatabase.sqlite(path)
        reader = sqlite_reader(path)
        figures["sqlite"] = measure(database, reader, args.days, args.repeat, args.runs)
        reader.dispose()
        database.close()
    schema = f"bench_analytics_{uuid.uuid4().hex[:12]}"
    database = LedgerDatabase.postgres(args.postgres, schema=schema)
    try:
        figures["postgres"] = measure(database, database.engine, args.days, args.repeat, args.runs)
    finally:
        database.close()
        with psycopg.connect(args.postgres, autocommit=True) as conn:
            conn.execute(sql.SQL("DROP SCHEMA IF EXISTS {} CASCADE").format(sql.Identifier(schema)))
    write_result("analytics_report", figures)
    print(figures)


if __name__ == "__main__":
    main()
