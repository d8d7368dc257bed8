"""The answer service under load with injected upstream faults, with and without the answer cache.

Setup (all loopback): the fake Anthropic API in its own process (first token after 300 ms, 40 tokens
10 ms apart) injecting a seeded random fault into 10% of its message requests — 429 with
retry-after-ms, 529, 500, a first byte slower than the service's first-token timeout, a connection
dropped after 0–5 deltas, an SSE ``error`` event after 0–5 deltas; `faqstream serve` (one worker) on
the 81 Bitext FAQ articles (what the workload asks about); a raw asyncio HTTP client.

Workload: first-turn Bitext customer requests drawn with Zipf (s = 1.1) over the 4,433 requests in
a seeded random rank order, 3,000 streamed requests at 64 concurrency. Runs, each with a fresh fake
and service: the answer cache in-process (``REDIS_URL`` unset), the answer cache off (the baseline
for calls and cost saved), and — when Redis answers on 127.0.0.1:6379 — the cache in Redis under a
unique key prefix (deleted afterwards). Rate limits are off (one client sends everything).

Per run: client-visible outcomes (HTTP statuses, SSE ``error`` events, streams that ended without
``done``/``error``, hangs = no end within ``HANG_S``), modes, handoffs, time to first ``delta``,
answers/s, cache hits, upstream requests (counted by the fake), cost (client ``usage.cost_usd`` and
the service's counters), retries/fallbacks/circuit events from /metrics and the service log, and the
service's RSS at start, end and peak. Writes bench/results/load_faults.json.

    python -m bench.load_faults [--requests 3000] [--concurrency 64] [--fault-rate 0.1] [--no-redis]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import re
import subprocess
import sys
import tempfile
import time
import uuid
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TextIO

import numpy as np
import psutil
import redis
from prometheus_client.parser import text_string_to_metric_families

from bench.common import EVAL, MODEL_CACHE, REPO, percentile, read_jsonl, write_bitext_faq, write_result
from tests.service_harness import free_port

FIRST_TOKEN_S = 0.300
TOKEN_S = 0.010
TOKENS = 40
ZIPF_S = 1.1
SEED = 1
FIRST_TOKEN_TIMEOUT_S = 1.5  # the service's; the slow-first-byte fault waits FAULT_SLOW_S > this
FAULT_SLOW_S = 3.0
HANG_S = 60.0  # a request not ended by then is a hang (the service's worst case is ~2 × 15 s)
REDIS_URL = "redis://127.0.0.1:6379/0"
CIRCUIT_OPEN = re.compile(r"circuit (\S+) open for")


# ------------------------------------------------------------------ workload


def zipf_workload(questions: list[str], n: int, s: float, seed: int) -> list[str]:
    """``n`` draws, P(rank k) ∝ k^-s, ranks assigned to the questions in a seeded random order."""
    rng = np.random.default_rng(seed)
    order = rng.permutation(len(questions))
    weights = 1.0 / np.arange(1, len(questions) + 1) ** s
    ranks = rng.choice(len(questions), size=n, p=weights / weights.sum())
    return [questions[order[r]] for r in ranks]


# ------------------------------------------------------------------ the client


@dataclass
class Result:
    status: int = 0
    outcome: str = "ok"  # ok | sse_error | http_<status> | incomplete | hang | client_error
    ttfd: float | None = None  # seconds to the first SSE delta
    total: float = 0.0
    mode: str | None = None
    cache: str | None = None
    handoff: str | None = None
    error_code: str | None = None
    cost_usd: float = 0.0
    start: float = 0.0  # since the run started


def dechunk(body: bytes) -> bytes:
    """An HTTP/1.1 chunked body (possibly cut short) → its payload."""
    out, pos = bytearray(), 0
    while True:
        end = body.find(b"\r\n", pos)
        if end < 0:
            return bytes(out)
        size = int(body[pos:end].split(b";")[0] or b"0", 16)
        if size == 0:
            return bytes(out)
        out += body[end + 2 : end + 2 + size]
        pos = end + 2 + size + 2


def sse_events(payload: bytes) -> list[tuple[str, Any]]:
    events: list[tuple[str, Any]] = []
    for frame in payload.decode(errors="replace").split("\n\n"):
        name, data = "", ""
        for line in frame.split("\n"):
            if line.startswith("event: "):
                name = line[7:]
            elif line.startswith("data: "):
                data += line[6:]
        if name and data:
            events.append((name, json.loads(data)))
    return events


def classify(raw: bytes, result: Result) -> None:
    head, _, body = raw.partition(b"\r\n\r\n")
    lines = head.decode(errors="replace").split("\r\n")
    result.status = int(lines[0].split()[1])
    if result.status != 200:
        result.outcome = f"http_{result.status}"
        return
    chunked = any(h.lower().startswith("transfer-encoding:") and "chunked" in h.lower() for h in lines)
    events = sse_events(dechunk(body) if chunked else body)
    result.outcome = "incomplete"
    for name, data in events:
        if name == "meta":
            result.mode = data["mode"]
            result.handoff = (data.get("handoff") or {}).get("reason")
        elif name == "done":
            result.outcome = "ok"
            result.cache = data.get("cache")
            result.cost_usd = float(data["usage"].get("cost_usd") or 0.0)
            result.handoff = (data.get("handoff") or {}).get("reason") or result.handoff
        elif name == "error":
            result.outcome = "sse_error"
            result.error_code = data.get("code")


async def ask(port: int, question: str, origin: float) -> Result:
    body = json.dumps({"question": question, "stream": True}).encode()
    started = time.perf_counter()
    result = Result(start=started - origin)
    writer: asyncio.StreamWriter | None = None
    raw = b""
    try:
        async with asyncio.timeout(HANG_S):
            reader, writer = await asyncio.open_connection("127.0.0.1", port)
            writer.write(
                b"POST /v1/answers HTTP/1.1\r\nHost: bench\r\nContent-Type: application/json\r\n"
                b"Connection: close\r\nContent-Length: %d\r\n\r\n%s" % (len(body), body)
            )
            await writer.drain()
            while data := await reader.read(65536):
                raw += data
                if result.ttfd is None and b"event: delta" in raw:
                    result.ttfd = time.perf_counter() - started
        classify(raw, result)
    except TimeoutError:
        result.outcome = "hang"
    except (OSError, ValueError, IndexError) as exc:
        result.outcome = "client_error"
        result.error_code = type(exc).__name__
    finally:
        if writer is not None:
            writer.close()
    result.total = time.perf_counter() - started
    return result


async def drive(port: int, workload: list[str], concurrency: int, pid: int) -> dict[str, Any]:
    """Run the workload at ``concurrency``; the service's RSS is sampled each second meanwhile.

    Results come back in workload order (``None`` never remains: every request ends one way or another).
    """
    proc = psutil.Process(pid)
    results: list[Result | None] = [None] * len(workload)
    rss: list[float] = []
    next_index = iter(range(len(workload)))
    origin = time.perf_counter()

    async def worker() -> None:
        for i in next_index:
            results[i] = await ask(port, workload[i], origin)

    async def sample() -> None:
        while True:
            rss.append(proc.memory_info().rss / 2**20)
            await asyncio.sleep(1.0)

    sampler = asyncio.ensure_future(sample())
    await asyncio.gather(*(worker() for _ in range(concurrency)))
    wall = time.perf_counter() - origin
    sampler.cancel()
    return {"results": [r for r in results if r is not None], "wall_s": wall, "rss": rss}


async def http_get(port: int, path: str) -> str:
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    writer.write(f"GET {path} HTTP/1.1\r\nHost: bench\r\nConnection: close\r\n\r\n".encode())
    data = await reader.read(-1)
    writer.close()
    head, _, body = data.partition(b"\r\n\r\n")
    if b"chunked" in head.lower():
        body = dechunk(body)
    return f"{head.split(b' ')[1].decode()} {body.decode(errors='replace')}"


# ------------------------------------------------------------------ /metrics


class Scrape:
    def __init__(self, text: str) -> None:
        self.samples: list[tuple[str, dict[str, str], float]] = [
            (s.name, dict(s.labels), float(s.value))
            for family in text_string_to_metric_families(text)
            for s in family.samples
        ]

    def total(self, name: str, **labels: str) -> float:
        return sum(
            v for n, lab, v in self.samples if n == name and all(lab.get(k) == x for k, x in labels.items())
        )

    def by(self, name: str, label: str) -> dict[str, float]:
        out: dict[str, float] = {}
        for n, lab, v in self.samples:
            if n == name and v:
                key = lab.get(label, "")
                out[key] = out.get(key, 0.0) + v
        return {k: round(v, 6) for k, v in sorted(out.items())}


# ------------------------------------------------------------------ processes


@dataclass
class Run:
    name: str
    cache: bool
    redis_prefix: str | None = None
    figures: dict[str, Any] = field(default_factory=dict)


def start_fake(port: int, fault_rate: float) -> subprocess.Popen[str]:
    fake = subprocess.Popen(
        [
            *(sys.executable, "-m", "fakes", "--port", str(port)),
            *("--first-token-delay", str(FIRST_TOKEN_S), "--token-delay", str(TOKEN_S)),
            *("--tokens", str(TOKENS), "--fault-rate", str(fault_rate), "--fault-seed", str(SEED)),
            *("--fault-slow-s", str(FAULT_SLOW_S)),
        ],
        cwd=REPO,
        stdout=subprocess.PIPE,
        text=True,
    )
    assert fake.stdout is not None
    fake.stdout.readline()  # "fake Anthropic API on …": listening
    return fake


def stop_fake(fake: subprocess.Popen[str]) -> dict[str, Any]:
    fake.terminate()
    out, _ = fake.communicate(timeout=60)
    for line in out.splitlines():
        if line.startswith('{"stats"'):
            stats: dict[str, Any] = json.loads(line)["stats"]
            return stats
    raise RuntimeError(f"the fake printed no stats: {out[-500:]!r}")


def service_env(tmp: Path, run: Run, port: int, fake_port: int) -> dict[str, str]:
    return {
        **os.environ,
        "QDRANT_PATH": str(tmp / "qdrant"),
        "EMBEDDING_CACHE_DIR": str(MODEL_CACHE),
        "HF_HUB_OFFLINE": "1",
        "FAQSTREAM_LOG_LEVEL": "WARNING",
        "SERVICE_PORT": str(port),
        "ANTHROPIC_API_KEY": "bench",
        "ANTHROPIC_BASE_URL": f"http://127.0.0.1:{fake_port}",
        "RESILIENCE_FIRST_TOKEN_TIMEOUT_S": str(FIRST_TOKEN_TIMEOUT_S),
        "CACHE_ANSWERS": "true" if run.cache else "false",
        "REDIS_URL": REDIS_URL if run.redis_prefix else "",
        "REDIS_KEY_PREFIX": run.redis_prefix or "faqstream:",
        "LIMITS_KEY_RPM": "0",
        "LIMITS_KEY_BURST": "0",
        "DATABASE_URL": "",
        "DATABASE_SQLITE_PATH": str(tmp / f"{run.name}.db"),
        "PYTHONFAULTHANDLER": "1",  # a native crash leaves its traceback in the service log
    }


def wait_ready(port: int, service: subprocess.Popen[bytes], timeout_s: float = 180.0) -> None:
    deadline = time.monotonic() + timeout_s
    while True:
        if service.poll() is not None:
            raise RuntimeError(f"the service exited with {service.returncode} at startup")
        try:
            if asyncio.run(http_get(port, "/readyz")).startswith("200 "):
                return
        except (OSError, IndexError):
            pass
        if time.monotonic() > deadline:
            raise RuntimeError("the service did not become ready")
        time.sleep(0.5)


def redis_available() -> bool:
    try:
        return bool(redis.Redis.from_url(REDIS_URL, socket_connect_timeout=1).ping())
    except (redis.RedisError, OSError):
        return False


def redis_cleanup(prefix: str) -> int:
    client = redis.Redis.from_url(REDIS_URL)
    keys = list(client.scan_iter(match=f"{prefix}*", count=1000))
    if keys:
        client.delete(*keys)
    client.close()
    return len(keys)


# ------------------------------------------------------------------ one run


def ms(values: list[float], q: float) -> float | None:
    return round(percentile(values, q) * 1000, 1) if values else None


def unexpected_misses(workload: list[str], results: list[Result]) -> int:
    """Requests not served from the cache although the same question had already got a cacheable
    answer (generative, complete, no handoff) that ended more than a second before they started."""
    cacheable_at: dict[str, float] = {}
    for question, r in zip(workload, results, strict=True):
        if r.mode == "generative" and r.outcome == "ok" and r.handoff is None:
            end = r.start + r.total
            cacheable_at[question] = min(end, cacheable_at.get(question, end))
    return sum(
        1
        for question, r in zip(workload, results, strict=True)
        if r.cache is None and r.start > cacheable_at.get(question, float("inf")) + 1.0
    )


def repeat_misses(workload: list[str], results: list[Result]) -> dict[str, int]:
    """Why requests repeating an earlier question (by start time) were not served from the cache.

    ``handoff``: the answer carries a handoff (low confidence, no passages) and is never cached;
    ``takeover``: a person takes over (the cache is not consulted); ``in_flight``: a cacheable answer
    to the same question was still streaming when this request started (coalescing would save it);
    ``earlier_failed``: no earlier request for it ended with a cacheable answer; ``other``.
    """
    by_question: dict[str, list[Result]] = {}
    for question, r in zip(workload, results, strict=True):
        by_question.setdefault(question, []).append(r)
    reasons: Counter[str] = Counter()
    for same in by_question.values():
        same.sort(key=lambda r: r.start)
        for n, r in enumerate(same[1:], 1):
            if r.cache is not None:
                continue
            earlier = same[:n]
            cacheable = [e for e in earlier if e.mode == "generative" and e.outcome == "ok" and not e.handoff]
            if r.handoff == "customer_request":
                reasons["takeover"] += 1
            elif r.handoff is not None:
                reasons["handoff"] += 1
            elif any(e.start + e.total > r.start for e in cacheable):
                reasons["in_flight"] += 1
            elif not cacheable:
                reasons["earlier_failed"] += 1
            else:
                reasons["other"] += 1
    return dict(reasons)


def timeline(results: list[Result], rss: list[float], parts: int = 10) -> dict[str, Any]:
    """TTFD p50/p95 per tenth of the requests (in start order), and RSS at evenly spaced samples."""
    ordered = sorted(results, key=lambda r: r.start)
    size = max(len(ordered) // parts, 1)
    slices = [ordered[i : i + size] for i in range(0, len(ordered), size)][:parts]
    firsts = [[r.ttfd for r in part if r.ttfd is not None] for part in slices]
    step = max((len(rss) - 1) / parts, 1)
    return {
        "ttfd_p50_ms": [ms(f, 0.5) for f in firsts],
        "ttfd_p95_ms": [ms(f, 0.95) for f in firsts],
        "rss_mb": [round(rss[min(round(i * step), len(rss) - 1)], 1) for i in range(parts + 1)]
        if rss
        else [],
    }


def summarise(results: list[Result], wall_s: float) -> dict[str, Any]:
    firsts = [r.ttfd for r in results if r.ttfd is not None]
    by_mode: dict[str, list[float]] = {}
    for r in results:
        if r.ttfd is not None and r.mode:
            by_mode.setdefault(r.mode, []).append(r.ttfd)
    outcomes = Counter(r.outcome for r in results)
    answered = sum(1 for r in results if r.outcome in ("ok", "sse_error"))
    return {
        "requests": len(results),
        "wall_s": round(wall_s, 1),
        "outcomes": dict(outcomes),
        "http_status": dict(Counter(str(r.status or "none") for r in results)),
        "http_5xx": sum(1 for r in results if r.status >= 500),
        "hangs": outcomes.get("hang", 0),
        "incomplete_streams": outcomes.get("incomplete", 0),
        "sse_error_codes": dict(Counter(r.error_code for r in results if r.outcome == "sse_error")),
        "not_done_ratio": round(1 - outcomes.get("ok", 0) / max(len(results), 1), 4),
        "http_5xx_ratio": round(sum(1 for r in results if r.status >= 500) / max(len(results), 1), 4),
        "modes": dict(Counter(r.mode or "none" for r in results)),
        "answer_cache_hits": dict(Counter(r.cache for r in results if r.cache)),
        "served_from_cache_ratio": round(sum(1 for r in results if r.cache) / max(len(results), 1), 4),
        "handoffs": dict(Counter(r.handoff for r in results if r.handoff)),
        "ttfd_ms": {"p50": ms(firsts, 0.5), "p95": ms(firsts, 0.95), "p99": ms(firsts, 0.99)},
        "ttfd_ms_by_mode": {
            mode: {"n": len(v), "p50": ms(v, 0.5), "p95": ms(v, 0.95), "p99": ms(v, 0.99)}
            for mode, v in sorted(by_mode.items())
        },
        "answers_per_s": round(answered / wall_s, 1),
        "client_cost_usd": round(sum(r.cost_usd for r in results), 6),
    }


def from_metrics(text: str) -> dict[str, Any]:
    m = Scrape(text)
    lookups = m.by("faqstream_answer_cache_total", "result")
    hits = lookups.get("exact", 0) + lookups.get("semantic", 0)
    return {
        "answers": {
            f"{lab['mode']}/{lab['outcome']}": v
            for n, lab, v in m.samples
            if n == "faqstream_answers_total" and v
        },
        "answer_cache_lookups": lookups,
        "answer_cache_hit_ratio": round(hits / max(sum(lookups.values()), 1), 4),
        "answer_cache_saved_usd": round(m.total("faqstream_answer_cache_saved_usd_total"), 6),
        "cost_usd": round(m.total("faqstream_cost_usd_total"), 6),
        "tokens": m.by("faqstream_tokens_total", "kind"),
        "upstream_retries": m.by("faqstream_upstream_retries_total", "reason"),
        "upstream_errors": m.by("faqstream_upstream_errors_total", "code"),
        "upstream_errors_by_model": m.by("faqstream_upstream_errors_total", "model"),
        "fallbacks": m.total("faqstream_upstream_fallbacks_total"),
        "llm_unavailable": m.total("faqstream_upstream_unavailable_total"),
        "circuit_skips": m.by("faqstream_upstream_circuit_skips_total", "model"),
        "circuit_state_at_end": m.by("faqstream_upstream_circuit_state", "model"),
        "shed_503": m.total("faqstream_upstream_shed_total"),
        "handoffs": m.by("faqstream_handoffs_total", "reason"),
    }


def from_log(log: Path) -> dict[str, Any]:
    text = log.read_text(encoding="utf-8", errors="replace")
    opens = Counter(m.group(1) for m in CIRCUIT_OPEN.finditer(text))
    return {
        "circuit_opens": dict(opens),
        "tracebacks": text.count("Traceback (most recent call last)"),
        "unhandled_errors": text.count("unhandled error"),
        "fatal_errors": text.count("Fatal Python error"),
        "error_lines": text.count(" ERROR "),
        "log_lines": text.count("\n"),
    }


def execute(tmp: Path, run: Run, workload: list[str], concurrency: int, fault_rate: float) -> None:
    fake_port, port = free_port(), free_port()
    fake = start_fake(fake_port, fault_rate)
    log_path = tmp / f"{run.name}.log"
    log: TextIO = open(log_path, "w", encoding="utf-8")  # noqa: SIM115 - closed in finally
    service = subprocess.Popen(
        [sys.executable, "-m", "faqstream", "serve"],
        cwd=REPO,
        env=service_env(tmp, run, port, fake_port),
        stderr=log,
        stdout=subprocess.DEVNULL,
    )
    stats: dict[str, Any] = {}
    metrics: str | None = None
    try:
        started = time.perf_counter()
        wait_ready(port, service)
        startup_s = time.perf_counter() - started
        rss_start = psutil.Process(service.pid).memory_info().rss / 2**20
        load = asyncio.run(drive(port, workload, concurrency, service.pid))
        exit_code = service.poll()  # None: still serving
        if exit_code is None:
            rss_end = psutil.Process(service.pid).memory_info().rss / 2**20
            metrics = asyncio.run(http_get(port, "/metrics")).partition(" ")[2]
        else:
            rss_end = float("nan")
            print(f"{run.name}: the service died during the run (exit code {exit_code})", flush=True)
    finally:
        service.terminate()
        try:
            service.wait(timeout=30)
        except subprocess.TimeoutExpired:
            service.kill()
            service.wait()
        log.close()
        stats = stop_fake(fake)
    run.figures = {
        **summarise(load["results"], load["wall_s"]),
        "cache_misses_after_a_cacheable_answer": (
            unexpected_misses(workload, load["results"]) if run.cache else None
        ),
        "repeat_misses": repeat_misses(workload, load["results"]) if run.cache else None,
        "service_exit_code_during_run": exit_code,
        "timeline": timeline(load["results"], load["rss"]),
        "service_startup_s": round(startup_s, 1),
        "service_rss_mb": {
            "start": round(rss_start, 1),
            "end": round(rss_end, 1),
            "peak": round(max(load["rss"], default=rss_end), 1),
            "samples": len(load["rss"]),
        },
        "upstream": stats,
        "metrics": from_metrics(metrics) if metrics is not None else None,
        "service_log": from_log(log_path),
    }
    if exit_code is not None:
        run.figures["service_log_tail"] = log_path.read_text(errors="replace").splitlines()[-30:]


# ------------------------------------------------------------------ main


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--requests", type=int, default=3000)
    parser.add_argument("--baseline-requests", type=int, default=None, help="no-cache run; default: all")
    parser.add_argument("--concurrency", type=int, default=64)
    parser.add_argument("--fault-rate", type=float, default=0.1)
    parser.add_argument("--no-redis", action="store_true", help="skip the run with the cache in Redis")
    return parser.parse_args(argv)


def comparison(cached: dict[str, Any], baseline: dict[str, Any]) -> dict[str, Any] | None:
    """Upstream calls and cost of a cached run vs the no-cache run (scaled to the cached run's size).

    The measured cost depends on which model answered: a run whose primary model's circuit opened
    sent part of its traffic to the cheaper fallback. ``cost_usd_without_cache_same_model_mix`` is
    the cached run's own cost plus what its cache hits originally cost (the service's counter).
    """
    if cached["metrics"] is None or baseline["metrics"] is None:
        return None
    n_c, n_b = cached["requests"], baseline["requests"]
    calls_c = cached["upstream"]["message_requests"]
    calls_b = baseline["upstream"]["message_requests"] * n_c / n_b
    cost_c = cached["metrics"]["cost_usd"]
    cost_b = baseline["metrics"]["cost_usd"] * n_c / n_b
    saved = cached["metrics"]["answer_cache_saved_usd"]
    return {
        "requests": n_c,
        "upstream_requests_with_cache": calls_c,
        "upstream_requests_without_cache": round(calls_b, 1),
        "upstream_requests_saved": round(calls_b - calls_c, 1),
        "upstream_requests_saved_ratio": round(1 - calls_c / calls_b, 4) if calls_b else None,
        "upstream_requests_by_model": {
            "with_cache": cached["upstream"]["by_model"],
            "without_cache": baseline["upstream"]["by_model"],
        },
        "cost_usd_with_cache": round(cost_c, 6),
        "cost_usd_without_cache_measured": round(cost_b, 6),
        "cost_usd_saved_measured": round(cost_b - cost_c, 6),
        "cost_usd_saved_by_cache_hits": saved,
        "cost_usd_without_cache_same_model_mix": round(cost_c + saved, 6),
        "cost_saved_ratio_same_model_mix": round(saved / (cost_c + saved), 4) if cost_c + saved else None,
    }


def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv)
    questions = [r["query"] for r in read_jsonl(EVAL / "faq_queries.jsonl")]
    workload = zipf_workload(questions, args.requests, ZIPF_S, SEED)
    seen: set[str] = set()
    repeats = 0
    for q in workload:
        repeats += q in seen
        seen.add(q)
    runs = [Run("cache_memory", cache=True), Run("no_cache", cache=False)]
    if not args.no_redis and redis_available():
        runs.append(Run("cache_redis", cache=True, redis_prefix=f"faqstream-bench-{uuid.uuid4().hex[:8]}:"))
    bench_started = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="faqstream-load-") as tmp_name:
        tmp = Path(tmp_name)
        faq = write_bitext_faq(tmp / "bitext")
        subprocess.run(
            [sys.executable, "-m", "faqstream", "ingest", str(faq.parent)],
            cwd=REPO,
            env=service_env(tmp, runs[0], 0, 0),
            check=True,
            capture_output=True,
        )
        for run in runs:
            size = args.baseline_requests if not run.cache and args.baseline_requests else len(workload)
            try:
                execute(tmp, run, workload[:size], args.concurrency, args.fault_rate)
            finally:
                if run.redis_prefix:
                    run.figures["redis_keys_deleted"] = redis_cleanup(run.redis_prefix)
            brief = {k: run.figures[k] for k in ("outcomes", "http_5xx", "hangs", "ttfd_ms", "answers_per_s")}
            print(run.name, json.dumps(brief), flush=True)
    by_name = {run.name: run.figures for run in runs}
    results: dict[str, Any] = {
        "setup": {
            "upstream": {
                "first_token_ms": FIRST_TOKEN_S * 1000,
                "token_ms": TOKEN_S * 1000,
                "tokens": TOKENS,
            },
            "fault_rate": args.fault_rate,
            "fault_kinds": "429 (retry-after-ms 200), 529, 500, slow first byte (3 s), drop, error event",
            "service_first_token_timeout_s": FIRST_TOKEN_TIMEOUT_S,
            "concurrency": args.concurrency,
            "hang_bound_s": HANG_S,
            "workload": {
                "source": "Bitext faq_queries.jsonl (first turn)",
                "distribution": f"zipf s={ZIPF_S}, seed {SEED}",
                "requests": len(workload),
                "distinct_questions": len(seen),
                "repeat_ratio": round(repeats / len(workload), 4),
            },
            "knowledge_base": "the 81 Bitext FAQ articles",
        },
        "runs": by_name,
        "cache_vs_no_cache": comparison(by_name["cache_memory"], by_name["no_cache"]),
        "wall_s": round(time.perf_counter() - bench_started, 1),
    }
    if "cache_redis" in by_name:
        results["cache_redis_vs_no_cache"] = comparison(by_name["cache_redis"], by_name["no_cache"])
    results["targets"] = {
        name: {
            "http_5xx (target 0)": fig["http_5xx"],
            "hangs (target 0)": fig["hangs"],
            "service alive at the end": fig["service_exit_code_during_run"] is None,
            "rss_mb start -> end": [fig["service_rss_mb"]["start"], fig["service_rss_mb"]["end"]],
        }
        for name, fig in by_name.items()
    }
    write_result("load_faults", results)


if __name__ == "__main__":
    main()
