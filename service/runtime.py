"""What one service process holds: the knowledge base, retriever, Claude client, caches, metrics."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram

from knowledge.search import KnowledgeBase
from service.answering import AnswerService
from service.claude import ClaudeClient
from service.config import AppSettings
from service.prompts import build_digest, build_outline
from service.retriever import BatchingRetriever

# (kb, paths, prune, rebuild, dry_run) -> report dict; injected by the composition root so that
# service/ never imports ingest/.
IngestRunner = Callable[[KnowledgeBase, list[Path], bool, bool, bool], dict[str, Any]]


class DigestCache:
    """The knowledge-base digest for the cached prompt prefix, rebuilt when the KB version changes."""

    def __init__(self, kb: KnowledgeBase, max_chars: int, ttl_s: float = 1.0) -> None:
        self.kb = kb
        self.max_chars = max_chars
        self.ttl_s = ttl_s
        self._checked = 0.0
        self._value: tuple[int, str] = (-1, "")

    def invalidate(self) -> None:
        self._checked = 0.0

    def get(self) -> tuple[int, str]:
        now = time.monotonic()
        if now - self._checked < self.ttl_s and self._value[0] >= 0:
            return self._value
        self._checked = now
        version = self.kb.version()
        if version != self._value[0]:
            collection = self.kb.store.active()
            rows = (
                collection.payloads(["doc_id", "title", "kind", "language", "headings", "text"])
                if collection
                else []
            )
            self._value = (version, build_digest(build_outline(rows), version, self.max_chars))
        return self._value


@dataclass
class Metrics:
    registry: CollectorRegistry = field(default_factory=CollectorRegistry)

    def __post_init__(self) -> None:
        self.answers = Counter(
            "faqstream_answers_total",
            "Answers by mode and outcome",
            ["mode", "outcome"],
            registry=self.registry,
        )
        self.ttft = Histogram(
            "faqstream_time_to_first_delta_seconds",
            "Request to first delta",
            ["mode"],
            registry=self.registry,
            buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10),
        )
        self.duration = Histogram(
            "faqstream_answer_seconds",
            "Request to end of answer",
            ["mode"],
            registry=self.registry,
            buckets=(0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60),
        )
        self.tokens = Counter(
            "faqstream_tokens_total", "Claude tokens by kind", ["kind"], registry=self.registry
        )
        self.cost = Counter("faqstream_cost_usd_total", "Claude cost in USD", registry=self.registry)
        self.retrieval_batches = Gauge(
            "faqstream_retrieval_batches", "Model calls made for question embedding", registry=self.registry
        )
        self.retrieval_questions = Gauge(
            "faqstream_retrieval_questions", "Questions embedded in those calls", registry=self.registry
        )


class Runtime:
    def __init__(self, settings: AppSettings, kb: KnowledgeBase, ingest_runner: IngestRunner | None) -> None:
        self.settings = settings
        self.kb = kb
        self.retriever = BatchingRetriever(kb, settings.service.max_batch)
        self.claude = ClaudeClient(settings.anthropic) if settings.anthropic.api_key else None
        chars = settings.service.digest_max_tokens * 4
        self.digest = DigestCache(kb, chars)
        self.answers = AnswerService(
            self.retriever, kb.require_languages(), settings.service, self.claude, self.digest.get
        )
        self.ingest_runner = ingest_runner
        self.ingest_lock = asyncio.Lock()
        self.metrics = Metrics()

    async def close(self) -> None:
        self.retriever.close()
        if self.claude is not None:
            await self.claude.close()
        self.kb.store.close()
