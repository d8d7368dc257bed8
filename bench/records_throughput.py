"""Conversation records under load: the rows per second the service database's writer stores into
PostgreSQL while the answer service streams, and whether writing them moves the p95 time to first
token.

Setup as bench/service_latency.py (all loopback): the fake Anthropic API in its own process (first
token after 300 ms, 40 tokens 10 ms apart) and `faqstream serve` (one worker) on the demo knowledge
base, with `DATABASE_URL` set to a PostgreSQL database of the run's own (created and dropped here).
The service is started four times, alternating `RECORDS_ENABLED=false` and `true` (off, on, off,
on), and each time answers 128 warm-up questions (not measured), then `--answers` new questions
with 64 concurrent streams; the added time to
the first `delta` is measured against the fake's own time to first token, measured once.

With records on, each answer stores two `messages` rows, a `usage_ledger` row and the upsert of its
`conversations` row; the rows counted are those in PostgreSQL after the run, over the run's wall
time, and how long after the last answer the writer had stored them all (its lag). Then the
writer's own capacity: records pushed straight into a `DatabaseWriter` (no service) as fast as it
takes them.

Writes bench/results/records_throughput.json. `python -m bench.records_throughput [--answers N]`.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import psycopg
from psycopg import sql

from bench.common import EVAL, REPO, percentile, read_jsonl, write_result
from bench.service_latency import (
    FIRST_TOKEN_S,
    TOKEN_S,
    TOKENS,
    _get,
    _ms,
    _request,
    _run,
    _service_prompt,
    bench_env,
    ingest_demo,
    start_fake,
)
from service.core.identifiers import Pseudonyms
from service.records.records import MessageRecord
from service.records.store import RecordStore
from service.usage.database import LedgerDatabase
from service.usage.writer import DatabaseWriter, LedgerSettings
from tests.service_harness import free_port

POSTGRES = "postgresql://postgres@127.0.0.1:5432"
STREAMS = 64
WARM_UP = 2 * STREAMS  # answers per service start before measuring
TABLES = ("messages", "conversations", "usage_ledger", "handoffs")
REPLY = "Card refunds take 5–10 business days [1]. Check your statement after that."
CITATION = {
    "index": 1,
    "doc_id": "refunds",
    "title": "Refunds",
    "source": "faq.md",
    "section": "",
    "score": 0.9,
}
ANSWERED: dict[str, Any] = {
    "mode": "generative",
    "model": "claude-sonnet-4-6",
    "status": "complete",
    "citations": ({**CITATION, "quote": "Card refunds take 5–10 business days."},),
}


@contextmanager
def database(name: str) -> Iterator[str]:
    """A PostgreSQL database of its own (dropped afterwards); its URL."""
    with psycopg.connect(f"{POSTGRES}/test", autocommit=True) as admin:
        admin.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    try:
        yield f"{POSTGRES}/{name}"
    finally:
        with psycopg.connect(f"{POSTGRES}/test", autocommit=True) as admin:
            admin.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))


def counts(url: str) -> dict[str, int]:
    found: dict[str, int] = {}
    with psycopg.connect(url) as conn:
        for table in TABLES:
            row = conn.execute(sql.SQL("SELECT count(*) FROM {}").format(sql.Identifier(table))).fetchone()
            found[table] = int(row[0]) if row is not None else 0
    return found


def wait_ready(port: int, deadline_s: float = 180) -> None:
    deadline = time.time() + deadline_s
    while True:
        try:
            body = b'{"question":"refund?","stream":true}'
            asyncio.run(_request(port, "/v1/answers", body, "", b"event: delta", b"event: done"))
            return
        except (OSError, RuntimeError):
            if time.time() > deadline:
                raise
            time.sleep(0.5)


def _metric(text: str, name: str) -> float:
    found = [float(line.split()[-1]) for line in text.splitlines() if line.startswith(name + " ")]
    return found[0] if found else 0.0


def loaded_run(
    env: dict[str, str], port: int, url: str, questions: list[str], *, records: bool, base_ttft_s: float
) -> dict[str, Any]:
    """One service start: ``WARM_UP`` answers not measured (a cold process is slower), then the rest
    of ``questions`` at ``STREAMS`` concurrent streams."""
    run_env = {**env, "DATABASE_URL": url, "RECORDS_ENABLED": str(records).lower(), "SERVICE_PORT": str(port)}
    service = subprocess.Popen(
        [sys.executable, "-m", "faqstream", "serve"], cwd=REPO, env=run_env, stderr=subprocess.DEVNULL
    )
    try:
        wait_ready(port)

        def ask(i: int) -> Any:
            body = json.dumps({"question": questions[i], "stream": True}).encode()
            return _request(port, "/v1/answers", body, "", b"event: delta", b"event: done")

        asyncio.run(_run(STREAMS, WARM_UP, ask))
        time.sleep(2)  # the warm-up's rows written
        before = counts(url)
        svc = asyncio.run(_run(STREAMS, len(questions) - WARM_UP, lambda i: ask(WARM_UP + i)))
        ended = time.perf_counter()
        answered = len(svc["ends"])
        wanted = before["messages"] + 2 * answered if records else before["messages"]
        after = counts(url)
        while records and after["messages"] < wanted and time.perf_counter() - ended < 60:
            time.sleep(0.05)
            after = counts(url)
        lag = time.perf_counter() - ended
        metrics = asyncio.run(_get(port, "/metrics"))
    finally:
        service.terminate()
        service.wait(timeout=30)
    stored = {t: after[t] - before[t] for t in TABLES}
    rows = stored["messages"] + stored["usage_ledger"] + stored["handoffs"]
    added = [f - base_ttft_s for f in svc["firsts"]]
    return {
        "records": records,
        "answers": answered,
        "errors": svc["errors"],
        "wall_s": round(svc["wall_s"], 2),
        "answers_per_s": round(svc["per_s"], 1),
        "ttfd_p50_ms": _ms(svc["firsts"], 0.5),
        "ttfd_p95_ms": _ms(svc["firsts"], 0.95),
        "added_p50_ms": _ms(added, 0.5),
        "added_p95_ms": _ms(added, 0.95),
        "rows_stored": stored,
        "rows_inserted_per_s": round(rows / svc["wall_s"], 1),
        "conversation_upserts_per_s": round(stored["conversations"] / svc["wall_s"], 1),
        "writer_lag_after_last_answer_s": round(lag, 3) if records else None,
        "records_dropped": _metric(metrics, "faqstream_records_dropped_total"),
        "ledger_write_errors": _metric(metrics, "faqstream_ledger_write_errors_total"),
    }


async def writer_capacity(url: str, exchanges: int, conversations: int) -> dict[str, Any]:
    """Records straight into a ``DatabaseWriter`` on PostgreSQL: how many rows/s it stores."""
    # a queue that holds them all: this measures the writer, not drops
    writer = DatabaseWriter(LedgerDatabase.postgres(url), LedgerSettings(queue_size=2 * exchanges + 1))
    store = RecordStore(writer, pseudonyms=Pseudonyms(b"bench"))
    await writer.start()
    now = datetime.now(UTC)
    records: list[MessageRecord] = []
    for n in range(exchanges):
        key = f"bench/c{n % conversations}"
        asked = MessageRecord(
            key, "bench", f"m{n}", "customer", "How long does a refund take?", "en", created_at=now
        )
        records += [asked, replace(asked, role="assistant", text=REPLY, **ANSWERED)]
    started = time.perf_counter()
    for record in records:
        store.add(record)
    await writer.flush()
    elapsed = time.perf_counter() - started
    await writer.aclose()
    return {
        "records": len(records),
        "conversations": conversations,
        "batch_size": writer.settings.batch_size,
        "seconds": round(elapsed, 2),
        "message_rows_per_s": round(len(records) / elapsed, 1),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--answers", type=int, default=640, help="answers per service run")
    args = parser.parse_args()
    questions = [r["query"] for r in read_jsonl(EVAL / "faq_queries.jsonl")]
    fake_port, service_port = free_port(), free_port()
    tag = uuid.uuid4().hex[:8]
    with tempfile.TemporaryDirectory(prefix="faqstream-records-") as tmp:
        env = bench_env(Path(tmp), service_port, fake_port)
        ingest_demo(env)
        prompt = _service_prompt(Path(tmp) / "qdrant", questions[0])
        fake = start_fake(fake_port)
        try:
            assert fake.stdout is not None
            fake.stdout.readline()

            def direct(_: int) -> Any:
                body = json.dumps(
                    {"model": "claude-sonnet-4-6", "max_tokens": 1024, "stream": True, **prompt}
                )
                headers = "x-api-key: k\r\nanthropic-version: 2023-06-01\r\n"
                return _request(
                    fake_port, "/v1/messages", body.encode(), headers, b"content_block_delta", b"message_stop"
                )

            base = asyncio.run(_run(STREAMS, STREAMS * 4, direct))
            base_ttft = percentile(base["firsts"], 0.5)
            runs: list[dict[str, Any]] = []
            for n, records in enumerate((False, True, False, True)):
                # every run asks questions no earlier run asked (no cache can serve a repeat)
                per_run = WARM_UP + args.answers
                asked = questions[n * per_run : (n + 1) * per_run]
                with database(f"bench_records_{tag}_{n}") as url:
                    runs.append(
                        loaded_run(env, service_port, url, asked, records=records, base_ttft_s=base_ttft)
                    )
                print(json.dumps(runs[-1]), flush=True)
            with database(f"bench_records_{tag}_writer") as url:
                capacity = asyncio.run(writer_capacity(url, exchanges=10_000, conversations=2_000))
            print(json.dumps(capacity), flush=True)
        finally:
            fake.terminate()
            fake.wait(timeout=20)
    on = [r for r in runs if r["records"]]
    off = [r for r in runs if not r["records"]]

    def mean(values: list[float]) -> float:
        return round(sum(values) / len(values), 2)

    write_result(
        "records_throughput",
        {
            "upstream": {
                "first_token_ms": FIRST_TOKEN_S * 1000,
                "tokens": TOKENS,
                "token_ms": TOKEN_S * 1000,
            },
            "streams": STREAMS,
            "upstream_direct_ttft_p50_ms": round(base_ttft * 1000, 2),
            "runs": runs,
            "summary": {
                "rows_per_s_under_load": mean([r["rows_inserted_per_s"] for r in on]),
                "conversation_upserts_per_s_under_load": mean([r["conversation_upserts_per_s"] for r in on]),
                "added_p95_ms_records_on": mean([r["added_p95_ms"] for r in on]),
                "added_p95_ms_records_off": mean([r["added_p95_ms"] for r in off]),
                "added_p50_ms_records_on": mean([r["added_p50_ms"] for r in on]),
                "added_p50_ms_records_off": mean([r["added_p50_ms"] for r in off]),
                "records_dropped": sum(r["records_dropped"] for r in on),
            },
            "writer_capacity": capacity,
            "note": "2 shared cores, other helpers' tests and benches running at the same time",
        },
    )


if __name__ == "__main__":
    main()
