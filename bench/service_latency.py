"""What the answer service adds to time-to-first-token, under concurrency, on one worker.

Setup (all loopback): the fake Anthropic API in its own process (first token after 300 ms, 40
tokens 10 ms apart); `faqstream serve` (one worker) on the demo knowledge base; a raw asyncio
HTTP client. For each concurrency (1, 16, 64) it measures time to the first SSE `delta`, and the
same client against the fake directly (its own time to first `content_block_delta`) — the service's
added latency is the difference. Also answers/s at 64 streams, the service's RSS, and the CPU per
answer of the service, of the fake API and of the load client (the three share the machine's cores).
Writes bench/results/service_latency.json.

`--profile` also samples the service with py-spy during the 64-stream run (or the last level run)
and writes the raw stacks to bench/results/service_latency_profile.txt (with ``--out NAME``:
bench/results/NAME_profile.txt) and their summary by owner (embedding, Litestar, the SDK…) into the
JSON under "profile". Sampling costs the service a little
CPU, so the headline figures come from runs without it.

For A/B comparisons on a shared machine: `--levels 64 --requests 640 --out issue11b/NAME` runs
only that level with fewer requests and writes its figures to bench/results/issue11b/NAME.json.
Compare the service's CPU per answer of interleaved runs (before, after, before, after): wall-clock
latencies follow whatever else the machine is doing, CPU time much less.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import psutil

from bench import pyspy
from bench.common import EVAL, MODEL_CACHE, REPO, RESULTS, percentile, read_jsonl, write_result
from tests.service_harness import free_port

FIRST_TOKEN_S = 0.300
TOKEN_S = 0.010
TOKENS = 40
LEVELS = ((1, 40), (16, 320), (64, 1280))
# Each level asks questions no earlier level asked, so no cache can serve a repeat.
OFFSETS = {1: 0, 16: 40, 64: 360}


async def _request(  # noqa: PLR0917
    port: int, path: str, body: bytes, headers: str, first_marker: bytes, end_marker: bytes
) -> tuple[float, float]:
    started = time.perf_counter()
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    writer.write(
        f"POST {path} HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n{headers}"
        f"Content-Length: {len(body)}\r\nConnection: close\r\n\r\n".encode()
        + body
    )
    await writer.drain()
    buffer = b""
    first = 0.0
    while True:
        data = await reader.read(65536)
        if not data:
            break
        buffer += data
        if not first and first_marker in buffer:
            first = time.perf_counter() - started
        if end_marker in buffer:
            break
    writer.close()
    if not first or end_marker not in buffer:
        raise RuntimeError(f"incomplete response: {buffer[:300]!r}")
    return first, time.perf_counter() - started


async def _run(concurrency: int, total: int, call: Any) -> dict[str, Any]:
    queue: asyncio.Queue[int] = asyncio.Queue()
    for i in range(total):
        queue.put_nowait(i)
    firsts: list[float] = []
    ends: list[float] = []
    errors = 0

    async def worker() -> None:
        nonlocal errors
        while not queue.empty():
            i = queue.get_nowait()
            try:
                first, end = await asyncio.wait_for(call(i), timeout=60)
                firsts.append(first)
                ends.append(end)
            except Exception:
                errors += 1

    started = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(concurrency)))
    wall = time.perf_counter() - started
    return {"firsts": firsts, "ends": ends, "errors": errors, "wall_s": wall, "per_s": len(ends) / wall}


def _service_prompt(store: Path, question: str) -> dict[str, Any]:
    """The same system prefix and user turn the service sends, so the fake does the same work."""
    from knowledge.search import KnowledgeBase, Query
    from knowledge.settings import EmbeddingSettings, QdrantSettings, Settings
    from service.answers.digest import DigestCache
    from service.answers.prompts import system_blocks, user_turn

    settings = Settings(
        qdrant=QdrantSettings(path=store, url=None), embedding=EmbeddingSettings(cache_dir=MODEL_CACHE)
    )
    kb = KnowledgeBase.open(settings)
    try:
        _, digest = DigestCache(kb, 24_000).refresh()
        hits = kb.run([Query(question, 5, None, "en")])[0]
        return {"system": system_blocks(digest), "messages": [user_turn(question, hits, "en")]}
    finally:
        kb.store.close()


async def _get(port: int, path: str) -> str:
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    writer.write(f"GET {path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n".encode())
    data = await reader.read()
    writer.close()
    return data.decode(errors="replace")


def _metric(text: str, name: str) -> float:
    return next(float(line.split()[-1]) for line in text.splitlines() if line.startswith(name + " "))


def _ms(values: list[float], q: float) -> float:
    return round(percentile(values, q) * 1000, 2)


def bench_env(tmp: Path, service_port: int, fake_port: int) -> dict[str, str]:
    """The service's environment in the latency benches: the demo corpus in ``tmp``, the fake API on
    ``fake_port``, and the generative path itself measured — no answer cache, no rate limit."""
    return {
        **os.environ,
        "QDRANT_PATH": str(tmp / "qdrant"),
        "EMBEDDING_CACHE_DIR": str(MODEL_CACHE),
        "HF_HUB_OFFLINE": "1",
        "ANTHROPIC_API_KEY": "bench",
        "SERVICE_PORT": str(service_port),
        "ANTHROPIC_BASE_URL": f"http://127.0.0.1:{fake_port}",
        "FAQSTREAM_LOG_LEVEL": "WARNING",
        "CACHE_ANSWERS": "false",
        "LIMITS_KEY_RPM": "0",
        "DATABASE_SQLITE_PATH": str(tmp / "faqstream.db"),
    }


def ingest_demo(env: dict[str, str]) -> None:
    subprocess.run(
        [sys.executable, "-m", "faqstream", "ingest", "data/policies"],
        cwd=REPO,
        env=env,
        check=True,
        capture_output=True,
    )


def start_fake(fake_port: int) -> subprocess.Popen[str]:
    """The fake Anthropic API with the benches' timing (first token, then ``TOKENS`` tokens)."""
    upstream = [
        "--first-token-delay",
        str(FIRST_TOKEN_S),
        "--token-delay",
        str(TOKEN_S),
        "--tokens",
        str(TOKENS),
    ]
    return subprocess.Popen(
        [sys.executable, "-m", "fakes", "--port", str(fake_port), *upstream],
        cwd=REPO,
        stdout=subprocess.PIPE,
        text=True,
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--profile", action="store_true", help="py-spy the service at the last level")
    parser.add_argument(
        "--levels", default=os.environ.get("BENCH_LEVELS", "1,16,64"), help="concurrencies to run, e.g. 64"
    )
    parser.add_argument(
        "--requests", type=int, default=0, help="requests per level (default: 40, 320, 1280); an A/B run"
    )
    parser.add_argument(
        "--out", default="", help="write the figures as bench/results/OUT.json (e.g. issue11b/after_64)"
    )
    args = parser.parse_args()
    # An A/B run (``--out``) keeps its raw stacks beside its figures, not over the headline's.
    profile_raw = RESULTS / (f"{args.out}_profile.txt" if args.out else "service_latency_profile.txt")
    profile_raw.parent.mkdir(parents=True, exist_ok=True)
    questions = [r["query"] for r in read_jsonl(EVAL / "faq_queries.jsonl")][:2000]
    wanted = args.levels.split(",")
    levels = [(c, args.requests or total) for c, total in LEVELS if str(c) in wanted]
    fake_port, service_port = free_port(), free_port()
    with tempfile.TemporaryDirectory(prefix="faqstream-latency-") as tmp:
        env = bench_env(Path(tmp), service_port, fake_port)
        ingest_demo(env)
        upstream_prompt = _service_prompt(Path(tmp) / "qdrant", questions[0])
        fake = start_fake(fake_port)
        service = subprocess.Popen(
            [sys.executable, "-m", "faqstream", "serve"], cwd=REPO, env=env, stderr=subprocess.DEVNULL
        )
        try:
            assert fake.stdout is not None
            fake.stdout.readline()
            deadline = time.time() + 120
            while True:
                try:
                    asyncio.run(
                        _request(
                            service_port,
                            "/v1/answers",
                            b'{"question":"refund?","stream":true}',
                            "",
                            b"event: delta",
                            b"event: done",
                        )
                    )
                    break
                except (OSError, RuntimeError):
                    if time.time() > deadline:
                        raise
                    time.sleep(0.5)
            proc = psutil.Process(service.pid)
            rss_start = proc.memory_info().rss / 2**20
            results: dict[str, Any] = {
                "upstream": {
                    "first_token_ms": FIRST_TOKEN_S * 1000,
                    "tokens": TOKENS,
                    "token_ms": TOKEN_S * 1000,
                }
            }
            for concurrency, total in levels:
                offset = OFFSETS[concurrency]

                def via_service(i: int, offset: int = offset) -> Any:
                    question = questions[(offset + i) % len(questions)]
                    body = json.dumps({"question": question, "stream": True}).encode()
                    return _request(service_port, "/v1/answers", body, "", b"event: delta", b"event: done")

                def direct(i: int) -> Any:
                    body = json.dumps(
                        {
                            "model": "claude-sonnet-4-6",
                            "max_tokens": 1024,
                            "stream": True,
                            **upstream_prompt,
                        }
                    )
                    return _request(
                        fake_port,
                        "/v1/messages",
                        body.encode(),
                        "x-api-key: k\r\nanthropic-version: 2023-06-01\r\n",
                        b"content_block_delta",
                        b"message_stop",
                    )

                profiled = args.profile and concurrency == levels[-1][0]
                spy = pyspy.record(service.pid, profile_raw) if profiled else None
                fake_proc = psutil.Process(fake.pid)
                cpu_before = sum(proc.cpu_times()[:2])
                fake_before, client_before = sum(fake_proc.cpu_times()[:2]), time.process_time()
                svc = asyncio.run(_run(concurrency, total, via_service))
                answered = max(len(svc["ends"]), 1)
                cpu_ms = (sum(proc.cpu_times()[:2]) - cpu_before) * 1000 / answered
                fake_ms = (sum(fake_proc.cpu_times()[:2]) - fake_before) * 1000 / answered
                client_ms = (time.process_time() - client_before) * 1000 / answered
                if spy is not None:
                    pyspy.stop(spy)
                    results["profile"] = {"streams": concurrency, **pyspy.summarise(profile_raw)}
                    if not args.out:
                        write_result("service_latency_profile", results["profile"])
                base = asyncio.run(_run(concurrency, max(total // 4, concurrency), direct))
                added = [f - percentile(base["firsts"], 0.5) for f in svc["firsts"]]
                results[f"streams_{concurrency}"] = {
                    "requests": total,
                    "errors": svc["errors"],
                    "ttfd_p50_ms": _ms(svc["firsts"], 0.5),
                    "ttfd_p95_ms": _ms(svc["firsts"], 0.95),
                    "ttfd_p99_ms": _ms(svc["firsts"], 0.99),
                    "upstream_direct_ttft_p50_ms": _ms(base["firsts"], 0.5),
                    "added_p50_ms": _ms(added, 0.5),
                    "added_p95_ms": _ms(added, 0.95),
                    "added_p99_ms": _ms(added, 0.99),
                    "answers_per_s": round(svc["per_s"], 1),
                    "service_cpu_ms_per_answer": round(cpu_ms, 2),
                    # the rest of the two cores: the fake API and this load client, per answer
                    "fake_api_cpu_ms_per_answer": round(fake_ms, 2),
                    "load_client_cpu_ms_per_answer": round(client_ms, 2),
                }
                print(concurrency, results[f"streams_{concurrency}"], flush=True)
            metrics_text = asyncio.run(_get(service_port, "/metrics"))
            batches = _metric(metrics_text, "faqstream_retrieval_batches")
            embedded = _metric(metrics_text, "faqstream_retrieval_questions")
            results["retrieval_batching"] = {
                "model_calls": batches,
                "questions": embedded,
                "mean_batch": round(embedded / max(batches, 1), 2),
            }
            results["service_rss_mb"] = {
                "start": round(rss_start, 1),
                "end": round(proc.memory_info().rss / 2**20, 1),
            }
            if args.out:
                write_result(args.out, {"levels": args.levels, **results})
            if len(levels) < len(LEVELS) or args.requests:
                print(json.dumps(results, indent=1))
                return
            results["targets"] = {
                "added p50 <= 10 ms at 1 stream": results["streams_1"]["added_p50_ms"],
                "added p50 <= 20 ms at 64 streams": results["streams_64"]["added_p50_ms"],
                "added p95 <= 60 ms at 64 streams": results["streams_64"]["added_p95_ms"],
                "answers/s >= 80 at 64 streams": results["streams_64"]["answers_per_s"],
            }
            write_result("service_latency", results)
        finally:
            service.terminate()
            fake.terminate()
            service.wait(timeout=20)
            fake.wait(timeout=20)


if __name__ == "__main__":
    main()
