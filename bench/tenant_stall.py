"""Can one tenant stall another? The real service (``faqstream serve``, a separate process) over
HTTP with two API keys: tenant B asks normal questions one after another, first on a quiet
service, then while tenant A floods it from several connections with 2,000-character questions of
U+FDFA (18 characters each after NFKC) and long normal questions. Reported: B's p50/p95 latency
quiet and flooded, A's time per request and statuses, and the server's RSS (process and children)
before the flood, at its peak and after it.

    python -m bench.tenant_stall                                  # this checkout
    python -m bench.tenant_stall --code /path/to/other/checkout --label before

No Anthropic key: answers are extractive, so the figures are the service's own work (retrieval,
validation, the event loop), not a model's. The embedding and answer caches are off (B repeats its
questions) and rate limits are off (the flood must reach the service). Writes
bench/results/issue12/tenant_stall.json (one entry per ``--label``).
"""

from __future__ import annotations

import argparse
import json
import os
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from pathlib import Path
from typing import Any

import httpx
import psutil

from bench.common import REPO, RESULTS, percentile, write_result

KEYS = {"a": "tenant-a-bench-key-0001", "b": "tenant-b-bench-key-0002"}
ADMIN = "bench-admin-key-000000001"
B_QUESTIONS = [
    "How long do I have to return an item?",
    "How long does a refund take?",
    "Can I change my delivery address?",
    "What happens if my parcel is lost?",
    "Do you ship internationally?",
    "How do I reset my password?",
    "Can I cancel my order?",
    "Do gift cards expire?",
]
FLOOD_DEADLINE_S = 150  # B stops asking after this long under the flood (the old code: ~30 s per answer)
EXPANDING = "\ufdfa" * 2000  # 2,000 characters raw, 36,000 after NFKC
SENTENCE = "I ordered a kettle and a set of mugs last week, one mug arrived broken and the box was open. "


def long_question(n: int) -> str:
    text = f"Order {n}: " + SENTENCE * 30
    return text[:1950] + " What can I do?"


class RssSampler(threading.Thread):
    def __init__(self, pid: int) -> None:
        super().__init__(daemon=True)
        self.process = psutil.Process(pid)
        self.samples: list[tuple[float, int]] = []
        self.stop = threading.Event()

    def rss(self) -> int:
        procs = [self.process, *self.process.children(recursive=True)]
        return sum(p.memory_info().rss for p in procs)

    def run(self) -> None:
        while not self.stop.is_set():
            self.samples.append((time.monotonic(), self.rss()))
            time.sleep(0.2)

    def peak_between(self, start: float, end: float) -> int:
        return max((rss for t, rss in self.samples if start <= t <= end), default=0)


def ask(client: httpx.Client, key: str, question: str) -> tuple[int, float]:
    started = time.perf_counter()
    response = client.post(
        "/v1/answers", json={"question": question}, headers={"Authorization": f"Bearer {KEYS[key]}"}
    )
    return response.status_code, time.perf_counter() - started


def tenant_b(client: httpx.Client, count: int, deadline: float = float("inf")) -> list[float]:
    """B's latencies, one question after another (``count`` of them, or until ``deadline``)."""
    latencies: list[float] = []
    for n in range(count):
        if time.monotonic() > deadline:
            break
        status, seconds = ask(client, "b", B_QUESTIONS[n % len(B_QUESTIONS)])
        assert status == 200, status
        latencies.append(seconds)
    return latencies


def flood(base: str, stop: threading.Event, results: list[tuple[str, int, float]], worker: int) -> None:
    with httpx.Client(base_url=base, timeout=600) as client:
        n = 0
        while not stop.is_set():
            kind, question = (
                ("expanding", EXPANDING) if n % 2 == 0 else ("long", long_question(worker * 1000 + n))
            )
            try:
                status, seconds = ask(client, "a", question)
            except httpx.HTTPError:
                status, seconds = 0, float("nan")
            results.append((kind, status, seconds))
            n += 1


def ms(values: list[float]) -> dict[str, float]:
    return {
        "p50_ms": round(percentile([v * 1000 for v in values], 0.5), 1),
        "p95_ms": round(percentile([v * 1000 for v in values], 0.95), 1),
        "max_ms": round(max(values) * 1000, 1),
        "n": len(values),
    }


def server_env(folder: Path, port: int, code: Path, corpus: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k.split("_", 1)[0] not in {"SERVICE", "AUTH", "CACHE"}}
    env.update(
        {
            "PYTHONPATH": str(code),
            "HF_HUB_OFFLINE": "1",
            "QDRANT_PATH": str(folder / "qdrant"),
            "EMBEDDING_CACHE_DIR": str(REPO / "var" / "models"),
            "DATABASE_SQLITE_PATH": str(folder / "faqstream.db"),
            "SERVICE_HOST": "127.0.0.1",
            "SERVICE_PORT": str(port),
            "SERVICE_ADMIN_KEY": ADMIN,
            "SERVICE_INGEST_ROOTS": json.dumps([str(corpus)]),
            "AUTH_API_KEYS": ",".join(f"{name}={key}" for name, key in KEYS.items()),
            "ANTHROPIC_API_KEY": "",
            "LIMITS_KEY_RPM": "0",
            "LIMITS_USER_RPM": "0",
            "CACHE_ANSWERS": "false",
            "CACHE_EMBEDDING_SIZE": "0",
            "TRANSLATE_MODE": "never",
        }
    )
    return env


def run(code: Path, b_count: int, workers: int) -> dict[str, Any]:
    corpus = REPO / "data" / "policies"
    with tempfile.TemporaryDirectory(prefix="tenant-stall-") as tmp:
        folder = Path(tmp)
        port = free_port()
        log = open(folder / "serve.log", "wb")  # noqa: SIM115 - closed below, after the server
        server = subprocess.Popen(
            [sys.executable, "-m", "faqstream", "serve"],
            cwd=folder,
            env=server_env(folder, port, code, corpus),
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        base = f"http://127.0.0.1:{port}"
        try:
            wait_up(base, server, folder)
            with httpx.Client(base_url=base, timeout=600) as client:
                ingested = client.post(
                    "/admin/ingest",
                    json={"paths": [str(corpus)]},
                    headers={"Authorization": f"Bearer {ADMIN}"},
                )
                ingested.raise_for_status()
                tenant_b(client, len(B_QUESTIONS))  # warm-up
                sampler = RssSampler(server.pid)
                sampler.start()
                time.sleep(1)
                rss_before = sampler.rss()
                quiet = tenant_b(client, b_count)
                stop = threading.Event()
                results: list[tuple[str, int, float]] = []
                threads = [
                    threading.Thread(target=flood, args=(base, stop, results, w), daemon=True)
                    for w in range(workers)
                ]
                flood_start = time.monotonic()
                for thread in threads:
                    thread.start()
                time.sleep(2)  # the flood is under way
                flooded = tenant_b(client, b_count, time.monotonic() + FLOOD_DEADLINE_S)
                stop.set()
                for thread in threads:
                    thread.join(timeout=600)
                flood_end = time.monotonic()
                time.sleep(10)
                rss_after = sampler.rss()
                sampler.stop.set()
        finally:
            server.terminate()
            server.wait(timeout=30)
            log.close()
    a_times = [s for _, status, s in results if status]
    by_kind = {
        kind: {
            "statuses": dict(Counter(str(status) for k, status, _ in results if k == kind)),
            **ms([s for k, status, s in results if k == kind and status]),
        }
        for kind in ("expanding", "long")
    }
    return {
        "code": str(code),
        "flood_workers": workers,
        "b_quiet": ms(quiet),
        "b_flooded": ms(flooded),
        "a_requests": len(results),
        "a_all": ms(a_times),
        "a_by_kind": by_kind,
        "flood_seconds": round(flood_end - flood_start, 1),
        "rss_mb": {
            "before": round(rss_before / 2**20),
            "peak": round(sampler.peak_between(flood_start, flood_end) / 2**20),
            "after_10s": round(rss_after / 2**20),
        },
    }


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_up(base: str, server: subprocess.Popen[bytes], folder: Path) -> None:
    deadline = time.monotonic() + 300
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise RuntimeError((folder / "serve.log").read_text(errors="replace")[-3000:])
        try:
            if httpx.get(f"{base}/healthz", timeout=2).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.5)
    raise RuntimeError("the service did not start")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("--code", type=Path, default=REPO, help="checkout whose service to run")
    parser.add_argument("--label", default="after")
    parser.add_argument("--b-questions", type=int, default=30)
    parser.add_argument("--workers", type=int, default=4, help="tenant A's concurrent connections")
    args = parser.parse_args()
    figures = run(args.code.resolve(), args.b_questions, args.workers)
    print(json.dumps(figures, indent=2))
    path = RESULTS / "issue12" / "tenant_stall.json"
    runs = json.loads(path.read_text())["runs"] if path.exists() else {}
    runs[args.label] = figures
    write_result("issue12/tenant_stall", {"runs": runs})


if __name__ == "__main__":
    main()
