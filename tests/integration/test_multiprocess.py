"""Two real ``faqstream serve`` processes sharing one real Redis behave as one service.

Each process has its own embedded Qdrant folder (the embedded store is single-process). Both start
empty and ingest the same small corpus through their own admin endpoint (``POST /admin/ingest``,
the way to fill an embedded store that a service holds; it reuses the model and language detector
the process already loaded, so no third process loads them), so both answer from the same
knowledge base at the same knowledge-base version, checked before any test runs. Both talk to one
fake Anthropic server (started here, driven by the real SDK inside the processes) and to the Redis
on 127.0.0.1:6379 under a key prefix unique to this run; every key under it is deleted at teardown.

One pair of processes serves every test (starting one takes most of this module's time). The tests
stay independent through the API keys: rate limits, budgets and conversations are per key, and each
test asks questions no other test asks.
"""

from __future__ import annotations

import asyncio
import itertools
import os
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
import redis
from prometheus_client.parser import text_string_to_metric_families

from fakes import FakeAnthropic
from knowledge.embedder import Embedder
from knowledge.settings import DEFAULT_MODEL
from service.caching import SEMANTIC_THRESHOLDS
from tests.conftest import MODEL_CACHE, REPO
from tests.corpus import write_corpus
from tests.service_harness import ADMIN_KEY, free_port

pytestmark = pytest.mark.slow

REDIS_URL = "redis://127.0.0.1:6379/0"
BURST = 4  # LIMITS_KEY_BURST: requests each API key may make before the (near-zero) refill
KEYS = {
    "conversations": "mp-conversations-0123456789",
    "limits": "mp-limits-0123456789abcdef",
    "cache": "mp-cache-0123456789abcdefgh",
}
# Settings prefixes of the service: the parent's values must not leak into the children.
SETTING_PREFIXES = (
    "QDRANT_",
    "EMBEDDING_",
    "CHUNK_",
    "INGEST_",
    "SERVICE_",
    "ANTHROPIC_",
    "AUTH_",
    "RESILIENCE_",
    "REDIS_",
    "CONVERSATION_",
    "ROUTER",
    "HANDOFF_",
    "TRANSLATE_",
    "CACHE_",
    "LIMITS_",
    "WEBHOOK_",
    "PRICING_",
    "DATABASE_",
    "LEDGER_",
    "FAQSTREAM_",
)
STARTUP_S = 180.0  # generous: two processes load the model and the router on a busy 2-core machine


def wait_until(condition: Callable[[], bool], timeout_s: float, what: str) -> None:
    deadline = time.monotonic() + timeout_s
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.05)


def metric_value(text: str, sample: str, **labels: str) -> float:
    """Sum of the samples named ``sample`` whose labels include ``labels``."""
    return sum(
        s.value
        for family in text_string_to_metric_families(text)
        for s in family.samples
        if s.name == sample and all(s.labels.get(k) == v for k, v in labels.items())
    )


def message_texts(body: dict[str, Any]) -> list[tuple[str, str]]:
    """(role, all text of the message) for each message of an upstream request."""
    return [
        (m["role"], "\n".join(b.get("text", "") for b in m["content"] if isinstance(b, dict)))
        for m in body["messages"]
    ]


@dataclass
class Replica:
    name: str
    base: str
    process: subprocess.Popen[bytes]
    log: Path

    def answer(self, client: str, body: dict[str, Any]) -> httpx.Response:
        return httpx.post(
            f"{self.base}/v1/answers",
            json=body,
            headers={"Authorization": f"Bearer {KEYS[client]}"},
            timeout=60,
        )

    def metrics(self) -> str:
        response = httpx.get(f"{self.base}/metrics", timeout=10)
        response.raise_for_status()
        return response.text

    def up(self) -> bool:
        """Serving (startup finished: model, language detector and router loaded)."""
        if self.process.poll() is not None:
            tail = self.log.read_text(errors="replace")[-3000:]
            raise RuntimeError(f"replica {self.name} exited with {self.process.returncode}:\n{tail}")
        try:
            return httpx.get(f"{self.base}/healthz", timeout=2).status_code == 200
        except httpx.HTTPError:
            return False

    def ingest(self, corpus: Path) -> dict[str, Any]:
        response = httpx.post(
            f"{self.base}/admin/ingest",
            json={"paths": [str(corpus)]},
            headers={"Authorization": f"Bearer {ADMIN_KEY}"},
            timeout=120,
        )
        assert response.status_code == 200, response.text
        report: dict[str, Any] = response.json()
        return report

    def readiness(self) -> dict[str, Any]:
        response = httpx.get(f"{self.base}/readyz", timeout=10)
        assert response.status_code == 200, response.text
        body: dict[str, Any] = response.json()
        return body

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=10)


class CountingReply:
    """The fake's reply: a different text for every upstream request, so turns are told apart."""

    def __init__(self) -> None:
        self._count = itertools.count(1)
        self._lock = threading.Lock()

    def __call__(self, _body: dict[str, Any]) -> str:
        with self._lock:
            n = next(self._count)
        return f"Reply {n}: this is what our policy says [1]. Anything else I can help with?"


@pytest.fixture(scope="module")
def key_prefix() -> Iterator[str]:
    """A Redis namespace for this run; every key under it is deleted afterwards."""
    prefix = f"faqstream-test-mp-{uuid.uuid4().hex}:"
    yield prefix
    client = redis.Redis.from_url(REDIS_URL)
    try:
        keys = list(client.scan_iter(match=f"{prefix}*", count=500))
        if keys:
            client.delete(*keys)
        assert not list(client.scan_iter(match=f"{prefix}*", count=500))
    finally:
        client.close()


@pytest.fixture(scope="module")
def fake() -> Iterator[FakeAnthropic]:
    with FakeAnthropic(reply=CountingReply()) as server:
        yield server


@pytest.fixture(scope="module")
def corpus(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_corpus(tmp_path_factory.mktemp("mp-docs"))


def replica_env(folder: Path, port: int, fake: FakeAnthropic, prefix: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(SETTING_PREFIXES)}
    env.update(
        {
            "PYTHONPATH": str(REPO),
            "HF_HUB_OFFLINE": "1",
            "TRANSFORMERS_OFFLINE": "1",
            "FAQSTREAM_LOG_LEVEL": "WARNING",
            "QDRANT_PATH": str(folder / "qdrant"),
            "EMBEDDING_CACHE_DIR": str(MODEL_CACHE),
            # The corpus and questions are English and Spanish: a detector over three languages
            # loads in about a second instead of ten for the default thirteen and their neighbours.
            "INGEST_LANGUAGES": '["en","es","de"]',
            "INGEST_DETECT_ALSO": "none",
            "DATABASE_SQLITE_PATH": str(folder / "faqstream.db"),
            "SERVICE_HOST": "127.0.0.1",
            "SERVICE_PORT": str(port),
            "SERVICE_ADMIN_KEY": ADMIN_KEY,
            "SERVICE_INGEST_ROOTS": f'["{folder.parent}"]',  # the corpus is a sibling folder
            "ANTHROPIC_API_KEY": "test-key",
            "ANTHROPIC_BASE_URL": fake.base_url,
            "REDIS_URL": REDIS_URL,
            "REDIS_KEY_PREFIX": prefix,
            "AUTH_API_KEYS": ",".join(f"{name}={key}" for name, key in KEYS.items()),
            "LIMITS_KEY_RPM": "0.001",  # one token back every 1000 minutes: the burst is all there is
            "LIMITS_KEY_BURST": str(BURST),
            "TRANSLATE_MODE": "never",
            # On, for test_answer_cache_is_shared; the other tests ask questions it never sees.
            "CACHE_ANSWERS": "true",
        }
    )
    return env


@pytest.fixture(scope="module")
def replicas(
    corpus: Path, fake: FakeAnthropic, key_prefix: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[Replica, Replica]]:
    started: list[Replica] = []
    try:
        for name in "ab":
            folder = tmp_path_factory.mktemp(f"replica-{name}")
            port = free_port()
            log = folder / "serve.log"
            with open(log, "wb") as out:
                # cwd is the replica's folder: no stray ./.env is read, relative defaults land there.
                process = subprocess.Popen(
                    [sys.executable, "-m", "faqstream", "serve"],
                    cwd=folder,
                    env=replica_env(folder, port, fake, key_prefix),
                    stdout=out,
                    stderr=subprocess.STDOUT,
                )
            started.append(Replica(name, f"http://127.0.0.1:{port}", process, log))
        wait_until(lambda: all(r.up() for r in started), STARTUP_S, "both replicas to start")
        reports = [replica.ingest(corpus) for replica in started]
        assert all(not r["skipped"] for r in reports)
        assert reports[0]["added"] and sorted(reports[0]["added"]) == sorted(reports[1]["added"])
        assert reports[0]["total_chunks"] == reports[1]["total_chunks"]
        versions = {replica.readiness()["kb_version"] for replica in started}
        assert len(versions) == 1, f"the replicas answer from different KB versions: {versions}"
        a, b = started
        yield a, b
    finally:
        for replica in started:
            replica.stop()


def test_two_processes_continue_each_others_conversations(
    replicas: tuple[Replica, Replica], fake: FakeAnthropic
) -> None:
    a, b = replicas
    fake.reset()
    questions = [
        "Can I change my delivery address?",
        "How long does standard delivery in Germany take?",
        "Can I return earbuds once they are opened?",
    ]

    first = a.answer("conversations", {"question": questions[0]})
    assert first.status_code == 200, first.text
    conversation = first.json()["conversation_id"]
    second = b.answer("conversations", {"question": questions[1], "conversation_id": conversation})
    assert second.status_code == 200, second.text
    third = a.answer("conversations", {"question": questions[2], "conversation_id": conversation})
    assert third.status_code == 200, third.text
    replies = [r.json() for r in (first, second, third)]
    assert [r["mode"] for r in replies] == ["generative"] * 3
    assert {r["conversation_id"] for r in replies} == {conversation}

    requests = [r.body for r in fake.message_requests()]
    assert len(requests) == 3
    turn2, turn3 = message_texts(requests[1]), message_texts(requests[2])
    # Turn 2, on the other process, carries turn 1 (question and the reply it got) before itself.
    assert [role for role, _ in turn2] == ["user", "assistant", "user"]
    assert questions[0] in turn2[0][1] and turn2[1][1] == replies[0]["answer"]
    assert questions[1] in turn2[2][1]
    # Turn 3, back on the first process, carries turns 1 and 2 in order.
    assert [role for role, _ in turn3] == ["user", "assistant", "user", "assistant", "user"]
    assert questions[0] in turn3[0][1] and turn3[1][1] == replies[0]["answer"]
    assert questions[1] in turn3[2][1] and turn3[3][1] == replies[1]["answer"]
    assert questions[2] in turn3[4][1]
    assert questions[1] not in turn2[0][1] + turn2[1][1]  # the history is not the current turn


async def _hammer(replicas: tuple[Replica, Replica], per_replica: int) -> list[tuple[str, httpx.Response]]:
    question = {"question": "Is the NW-KTL-110 kettle recalled?"}
    headers = {"Authorization": f"Bearer {KEYS['limits']}"}
    async with httpx.AsyncClient(timeout=60) as client:

        async def one(replica: Replica) -> tuple[str, httpx.Response]:
            response = await client.post(f"{replica.base}/v1/answers", json=question, headers=headers)
            return replica.name, response

        # Interleaved A, B, A, B, … all in flight at once.
        calls = [one(replicas[i % 2]) for i in range(2 * per_replica)]
        return list(await asyncio.gather(*calls))


def test_rate_limit_is_global_across_processes(
    replicas: tuple[Replica, Replica], fake: FakeAnthropic
) -> None:
    a, b = replicas
    fake.reset()
    before = {
        r.name: metric_value(r.metrics(), "faqstream_rate_limited_total", limit="key") for r in replicas
    }
    per_replica = BURST + 2  # each process alone would allow BURST of these: 2 * BURST in total
    results = asyncio.run(_hammer(replicas, per_replica))

    statuses = [response.status_code for _, response in results]
    assert set(statuses) <= {200, 429}, statuses
    assert statuses.count(200) == BURST  # one bucket for both processes, not one each
    assert statuses.count(429) == 2 * per_replica - BURST
    assert len(fake.message_requests()) <= BURST  # refused requests never reach Claude
    for _, response in results:
        if response.status_code == 429:
            body = response.json()["error"]
            assert body["code"] == "rate_limited" and body["retryable"] is True
            assert int(response.headers["Retry-After"]) >= 1
            assert response.headers["RateLimit-Remaining"] == "0"
            assert response.headers["RateLimit-Limit"] == str(BURST)

    # Each process counted exactly the refusals it sent.
    for replica in (a, b):
        refused_here = sum(1 for name, r in results if name == replica.name and r.status_code == 429)
        counted = metric_value(replica.metrics(), "faqstream_rate_limited_total", limit="key")
        assert counted - before[replica.name] == refused_here


def test_answer_cache_is_shared_across_processes(
    replicas: tuple[Replica, Replica], fake: FakeAnthropic, key_prefix: str, embedder: Embedder
) -> None:
    a, b = replicas
    fake.reset()
    question = "How long does a refund to my card take?"
    paraphrase = "How long does it take for a refund to my card?"
    # a semantic hit at the replicas' threshold (CACHE_SEMANTIC_THRESHOLD unset: the model's own)
    similarity = float(embedder.embed_query(question) @ embedder.embed_query(paraphrase))
    assert similarity >= SEMANTIC_THRESHOLDS[DEFAULT_MODEL] + 0.002

    first = a.answer("cache", {"question": question})
    assert first.status_code == 200, first.text
    original = first.json()
    assert original["mode"] == "generative" and original["cache"] is None
    assert len(fake.message_requests()) == 1

    # The entry is written after the answer, in the background: wait for it to reach Redis.
    client = redis.Redis.from_url(REDIS_URL)
    try:
        wait_until(
            lambda: any(client.scan_iter(match=f"{key_prefix}answers:*:e:*", count=500)),
            30,
            "the answer-cache entry in Redis",
        )
    finally:
        client.close()

    # Deltas, not totals: earlier tests in this module may already have hit B's cache.
    before = b.metrics()
    exact = b.answer("cache", {"question": question})
    assert exact.status_code == 200, exact.text
    served = exact.json()
    assert served["mode"] == "cached" and served["cache"] == "exact"
    assert served["answer"] == original["answer"]
    assert [c["doc_id"] for c in served["citations"]] == [c["doc_id"] for c in original["citations"]]
    assert served["usage"]["input_tokens"] == 0 and served["usage"]["cost_usd"] == 0

    semantic = b.answer("cache", {"question": paraphrase})
    assert semantic.status_code == 200, semantic.text
    assert semantic.json()["mode"] == "cached" and semantic.json()["cache"] == "semantic"
    assert semantic.json()["answer"] == original["answer"]

    assert len(fake.message_requests()) == 1  # B never called Claude
    metrics_b = b.metrics()

    def moved(name: str, **labels: str) -> float:
        return metric_value(metrics_b, name, **labels) - metric_value(before, name, **labels)

    assert moved("faqstream_answer_cache_total", result="exact") == 1
    assert moved("faqstream_answer_cache_total", result="semantic") == 1
    assert moved("faqstream_answer_cache_saved_usd_total") == pytest.approx(2 * original["usage"]["cost_usd"])
