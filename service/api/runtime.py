"""What one service process holds, built at startup: knowledge base, retriever, Claude (resilient),
router, conversations, caches, limits, budgets, ledger, webhooks and metrics.

Every external system's adapter is built here (never at import time): Redis when REDIS_URL is set,
else in-process stores; PostgreSQL when DATABASE_URL is set, else SQLite.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from pathlib import Path
from typing import Any, Protocol

from redis.asyncio import Redis

from knowledge.search import KnowledgeBase
from service.answers.aftercare import Aftercare
from service.answers.flow import AnswerDeps, AnswerService
from service.answers.prompts import build_digest, build_outline
from service.api.auth import ApiKeys
from service.caching import AnswerCache, CacheSettings, build_answer_cache
from service.conversations.store import SessionStore, session_store
from service.conversations.summarizer import Summarizer
from service.core.metrics import Metrics
from service.handoff.policy import HandoffPolicy
from service.llm.claude import ClaudeClient, UpstreamError
from service.llm.pricing import PriceTable
from service.llm.resilient import ResilientClaude
from service.llm.status import UpstreamStatus, UpstreamStatusCollector
from service.notify.webhooks import WebhookSender
from service.quotas.budgets import BudgetGuard, build_budget_guard
from service.quotas.rate_limits import RateLimiter, build_rate_limiter
from service.retrieval.relevance import NO_FLOOR, RelevanceFloor, relevance_floor
from service.retrieval.retriever import BatchingRetriever
from service.retrieval.translate import QueryTranslator, needs_translation
from service.retrieval.vector_cache import EmbeddingCache
from service.routing.catalog import intents_origin
from service.routing.factory import build_router
from service.routing.route import Router
from service.settings.app import AppSettings
from service.settings.redis import redis_client
from service.usage.ledger import UsageLedger, open_ledger

log = logging.getLogger(__name__)


def answer_cache_settings(settings: AppSettings) -> CacheSettings:
    """The answer cache's settings for the configured embedding model (its semantic threshold)."""
    cache = settings.cache.for_model(settings.embedding.model)
    if cache.answers and cache.semantic and not cache.semantic_on:
        log.warning(
            "answer cache: no semantic threshold is known for EMBEDDING_MODEL=%s, so only exact repeats "
            "are served; measure one with `python -m bench.answer_cache_threshold --model %s` and set "
            "CACHE_SEMANTIC_THRESHOLD",
            settings.embedding.model,
            settings.embedding.model,
        )
    elif cache.answers and cache.semantic_on:
        log.info("answer cache: semantic threshold %s", cache.semantic_threshold)
    return cache


class IngestRunner(Protocol):
    """Runs the ingest pipeline and returns its report as a dict; injected by the composition root
    so that service/ never imports ingest/. Raises ``IngestRefusedError`` (before any change) when
    the ingest safeguard refuses a prune or rebuild."""

    def __call__(
        self, kb: KnowledgeBase, paths: list[Path], *, prune: bool, rebuild: bool, dry_run: bool, force: bool
    ) -> dict[str, Any]: ...


class DigestCache:
    """What the answer flow needs per knowledge-base version, rebuilt when the version changes: the
    digest for the cached prompt prefix and the relevance floor (``service.retrieval.relevance``).

    ``get`` and ``floor`` never touch the store: a background task (``watch``) checks the version
    every ``ttl_s`` in a thread and rebuilds there, so a large knowledge base never stalls the
    event loop. ``refresh`` is also called right after an in-service ingest, so the next request
    sees the new version.
    """

    def __init__(
        self, kb: KnowledgeBase, max_chars: int, ttl_s: float = 1.0, floor_override: float | None = None
    ) -> None:
        self.kb = kb
        self.max_chars = max_chars
        self.ttl_s = ttl_s
        self.floor_override = floor_override
        self._value: tuple[int, str] = (-1, "")
        self._floor: RelevanceFloor = NO_FLOOR

    def get(self) -> tuple[int, str]:
        return self._value

    def floor(self) -> RelevanceFloor:
        return self._floor

    def refresh(self) -> tuple[int, str]:
        meta = self.kb.meta()
        version = meta.version
        if version != self._value[0]:
            collection = self.kb.store.active()
            rows = (
                collection.payloads(["doc_id", "title", "kind", "language", "headings", "text"])
                if collection
                else []
            )
            floor = relevance_floor(meta, self.floor_override, self.kb.embedder.name)
            digest = build_digest(build_outline(rows), version, self.max_chars)
            self._floor, self._value = floor, (version, digest)
            if floor.source == "none" and collection is not None:
                log.warning("knowledge-base version %d: %s", version, floor.describe())
            else:
                log.info("knowledge-base version %d: %s", version, floor.describe())
        return self._value

    async def watch(self) -> None:
        while True:
            await asyncio.sleep(self.ttl_s)
            try:
                await asyncio.to_thread(self.refresh)
            except Exception as exc:  # the store may be briefly unavailable; keep the last digest
                log.warning("knowledge-base version check failed: %s", exc)


class Runtime:
    """Built in two steps: ``__init__`` (cheap) and ``start`` (the router's examples, connections)."""

    def __init__(self, settings: AppSettings, kb: KnowledgeBase, ingest_runner: IngestRunner | None) -> None:
        self.settings = settings
        self.kb = kb
        self.ingest_runner = ingest_runner
        self.ingest_lock = asyncio.Lock()
        self.metrics = Metrics()
        registry = self.metrics.registry
        self.keys = ApiKeys.from_settings(settings.auth)
        self.prices = PriceTable(settings.pricing)
        self.vectors = EmbeddingCache(settings.cache.embedding_size)
        self.retriever = BatchingRetriever(kb, settings.service.max_batch, self.vectors)
        key = settings.anthropic.api_key
        # What the Anthropic API last said about the key (/readyz, faqstream_upstream_status).
        self.upstream = UpstreamStatus(configured=key is not None)
        registry.register(UpstreamStatusCollector(self.upstream))
        self.client = ClaudeClient(settings.anthropic, self.prices, self.upstream) if key else None
        self.claude = (
            ResilientClaude(self.client, settings.resilience, registry) if self.client is not None else None
        )
        if self.claude is not None:
            self.prices.require(self.claude.models)
        self.digest = DigestCache(
            kb, settings.service.digest_max_tokens * 4, floor_override=settings.service.relevance_floor
        )
        self.router: Router | None = None  # start(): embedding the labelled examples takes seconds
        translate = needs_translation(
            kb.embedder.name, settings.translate.mode, settings.translate.multilingual_models
        )
        self.translator = (
            QueryTranslator(self.client, settings.translate, on_usage=self.metrics.observe_usage)
            if translate and self.client
            else None
        )
        # Whose intents label the questions decides whether low intent confidence may hand off.
        self.intents = intents_origin(settings.router.intents_file)
        (log.info if self.intents.custom else log.warning)("%s", self.intents.reason)
        self.handoff = HandoffPolicy(settings.handoff, custom_intents=self.intents.custom)
        self.summarizer = Summarizer(self.client, settings.conversation, on_usage=self.metrics.observe_usage)
        # Built by start(): they need Redis / the database.
        self.redis: Redis | None = None
        self.sessions: SessionStore | None = None
        self.cache: AnswerCache | None = None
        self.limiter: RateLimiter | None = None
        self.budgets: BudgetGuard | None = None
        self.ledger: UsageLedger | None = None
        self.handoff_webhook: WebhookSender | None = None
        self.aftercare: Aftercare | None = None
        self._answers: AnswerService | None = None
        self._watch: asyncio.Task[None] | None = None

    async def start(self) -> None:
        s = self.settings
        registry = self.metrics.registry
        await asyncio.to_thread(self.digest.refresh)
        self._watch = asyncio.ensure_future(self.digest.watch())
        self.router = await asyncio.to_thread(
            build_router,
            s.router,
            self.kb.embedder,
            self.client,
            self.kb.require_languages(),
            s.ingest.default_language,
        )
        prefix = s.redis.key_prefix
        self.redis = await redis_client(s.redis)
        self.sessions = session_store(s.conversation, self.redis, prefix=prefix)
        self.cache = (
            build_answer_cache(answer_cache_settings(s), self.redis, key_prefix=f"{prefix}answers:")
            if s.cache.answers
            else None
        )
        self.limiter = build_rate_limiter(s.limits, self.redis, prefix=prefix, registry=registry)
        self.budgets = build_budget_guard(
            s.limits, self.redis, prefix=prefix, registry=registry, webhook_settings=s.webhook
        )
        self.ledger = open_ledger(s.database, s.ledger, registry=registry)
        await self.ledger.start()
        if s.handoff.webhook_url:
            self.handoff_webhook = WebhookSender(
                s.handoff.webhook_url, s.webhook, name="handoff", registry=registry
            )
            self.handoff_webhook.start()
        self.aftercare = Aftercare(
            sessions=self.sessions,
            conversation=s.conversation,
            summarizer=self.summarizer,
            metrics=self.metrics,
            ledger=self.ledger,
            budgets=self.budgets,
            cache=self.cache,
            handoff_webhook=self.handoff_webhook,
        )
        self._answers = AnswerService(
            AnswerDeps(
                settings=s,
                retriever=self.retriever,
                languages=self.kb.require_languages(),
                digest=self.digest.get,
                relevance=self.digest.floor,
                sessions=self.sessions,
                handoff=self.handoff,
                aftercare=self.aftercare,
                metrics=self.metrics,
                claude=self.claude,
                router=self.router,
                translator=self.translator,
                cache=self.cache,
            )
        )
        if self.keys.open:
            log.warning("AUTH_API_KEYS is unset: the answer endpoints are open to anyone who can reach them")

    async def check_upstream(self) -> None:
        """The start-up check of ANTHROPIC_API_KEY, bounded by ANTHROPIC_CHECK_TIMEOUT_S. Never
        fatal: the verdict (ok, unauthorized, unreachable) goes to ``upstream`` and the log."""
        timeout = self.settings.anthropic.check_timeout_s
        if self.client is None or timeout <= 0:
            return
        with contextlib.suppress(UpstreamError):
            await self.client.check(timeout)

    @property
    def answers(self) -> AnswerService:
        if self._answers is None:
            raise RuntimeError("Runtime.start() has not run")
        return self._answers

    def refresh_gauges(self) -> None:
        self.metrics.retrieval_batches.set(self.retriever.batches)
        self.metrics.retrieval_questions.set(self.retriever.questions)
        stats = self.vectors.stats
        self.metrics.embedding_cache_hits.set(stats.hits)
        self.metrics.embedding_cache_misses.set(stats.misses)

    async def close(self) -> None:
        if self._watch is not None:
            self._watch.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._watch
        if self.aftercare is not None:
            await self.aftercare.drain()
        self.retriever.close()
        if self.handoff_webhook is not None:
            await self.handoff_webhook.aclose()
        if self.budgets is not None:
            await self.budgets.aclose()
        if self.ledger is not None:
            await self.ledger.aclose()
        if self.claude is not None:
            await self.claude.close()
        elif self.client is not None:
            await self.client.close()
        if self.sessions is not None:
            await self.sessions.close()
        if self.redis is not None:
            await self.redis.aclose()
        self.kb.store.close()
