"""What checking an API key costs a request: a bootstrap key, a database key found in the process's
key cache (the common case), and a database key looked up in SQLite or PostgreSQL (a cache miss:
one indexed query plus the ``last_used_at`` update, in a worker thread).

    python -m bench.api_keys [--requests 2000] [--postgres postgresql://postgres@127.0.0.1:5432/test]

Writes bench/results/api_keys.json (per-call p50/p95 in ms, on the event loop as the guard runs it).
"""

from __future__ import annotations

import argparse
import asyncio
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

from bench.common import summary_ms, write_result
from service.api.auth import ApiKeys, Authenticator
from service.tenants.directory import KeyDirectory
from service.tenants.store import KeyStore
from service.usage.database import LedgerDatabase

BOOTSTRAP = "bootstrap-key-0123456789"


async def timed(auth: Authenticator, key: str, requests: int) -> dict[str, float]:
    samples = []
    for _ in range(requests):
        started = time.perf_counter()
        await auth.identify(f"Bearer {key}", None, "answer")
        samples.append(time.perf_counter() - started)
    return summary_ms(samples)


def measure(store: KeyStore, requests: int) -> dict[str, Any]:
    store.migrate()
    for n in range(200):  # a table with some keys in it
        store.create(f"tenant-{n % 20}", f"key {n}")
    _, key = store.create("acme", "bench")
    bootstrap = ApiKeys({"boot": BOOTSTRAP})
    cached = Authenticator(bootstrap, KeyDirectory(store, ttl_s=300))
    uncached = Authenticator(bootstrap, KeyDirectory(store, ttl_s=0))
    return {
        "bootstrap_key": asyncio.run(timed(cached, BOOTSTRAP, requests)),
        "database_key_cached": asyncio.run(timed(cached, key, requests)),
        "database_key_uncached": asyncio.run(timed(uncached, key, max(requests // 10, 50))),
    }


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.api_keys")
    parser.add_argument("--requests", type=int, default=2000)
    parser.add_argument("--postgres", default="postgresql://postgres@127.0.0.1:5432/test")
    args = parser.parse_args()
    figures: dict[str, Any] = {"requests": args.requests}
    with tempfile.TemporaryDirectory() as tmp:
        sqlite = KeyStore(LedgerDatabase.sqlite(Path(tmp) / "keys.db"))
        figures["sqlite"] = measure(sqlite, args.requests)
        sqlite.close()
    schema = f"bench_keys_{uuid.uuid4().hex[:8]}"
    postgres = KeyStore(LedgerDatabase.postgres(args.postgres, schema=schema))
    try:
        figures["postgres"] = measure(postgres, args.requests)
    finally:
        with postgres.database.engine.begin() as connection:
            connection.exec_driver_sql(f"DROP SCHEMA {schema} CASCADE")
        postgres.close()
    for backend in ("sqlite", "postgres"):
        for case, stats in figures[backend].items():
            print(f"{backend:8} {case:22} p50 {stats['p50_ms']:.3f} ms  p95 {stats['p95_ms']:.3f} ms")
    write_result("api_keys", figures)


if __name__ == "__main__":
    main()
