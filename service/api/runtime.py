"""What one service process holds: knowledge base, retriever, Claude (resilient), router,
conversations, caches, limits, budgets, ledger, records, webhooks and metrics — built in one step by
``build_runtime`` (the composition root of the service) and closed by ``Runtime.close``.

Every external system's adapter is built here (never at import time): Redis when REDIS_URL is set,
else in-process stores; PostgreSQL when DATABASE_URL is set, else SQLite. Each piece's cleanup is
registered as soon as it exists, so a start-up that fails half-way closes what it opened.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol, runtime_checkable

from knowledge.search import KnowledgeBase
from service.agents.takeover import Takeover
from service.answers.aftercare import Aftercare
from service.answers.cacheable import cache_warning, min_cacheable_tokens
from service.answers.digest import DigestCache, PrefixSettings
from service.answers.flow import AnswerDeps, AnswerService, AnswerSettings
from service.api.auth import ApiKeys, Authenticator
from service.api.auth_failures import AuthFailures
from service.api.settings import AppSettings
from service.api.setup_advice import advise
from service.api.storage import Storage, open_storage
from service.caching import AnswerCache, CacheSettings, build_answer_cache
from service.conversations.redis_sessions import SessionStore, session_store
from service.conversations.summarizer import Summarizer
from service.core.identifiers import Pseudonyms
from service.core.metrics import Metrics
from service.handoff.delivery import HandoffRoutes
from service.handoff.policy import HandoffPolicy
from service.llm.claude import ClaudeClient
from service.llm.errors import UpstreamError
from service.llm.pricing import PriceTable
from service.llm.resilient import ResilientClaude
from service.llm.status import UpstreamStatus, UpstreamStatusCollector
from service.notify.webhooks import WebhookSender, require_signing
from service.privacy import logs as log_redaction
from service.privacy.redaction import Redaction
from service.quotas.budgets import BudgetGuard, build_budget_guard
from service.quotas.charges import UsageCharges
from service.quotas.rate_limits import RateLimiter, build_rate_limiter
from service.retrieval.retriever import BatchingRetriever
from service.retrieval.translate import QueryTranslator, needs_translation
from service.retrieval.vector_cache import EmbeddingCache
from service.routing.catalog import IntentsOrigin, intents_origin
from service.routing.factory import build_router
from service.routing.route import Router
from service.settings.redis import redis_client
from service.tenants.directory import KeyDirectory

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


def prefix_settings(settings: AppSettings) -> PrefixSettings:
    """How the cached prompt prefix is built; it must reach the minimum of every model that may
    answer (the configured one and its fallbacks)."""
    service = settings.service
    minimum = max(cache_minimums(settings).values())
    return PrefixSettings(
        service.prefix_max_tokens, service.digest_max_tokens * 4, minimum, service.prompt_cache_ttl
    )


def cache_minimums(settings: AppSettings) -> dict[str, int]:
    """The shortest prefix each model of the chain caches: the configured model first, then the fallbacks."""
    models = dict.fromkeys([settings.anthropic.model, *settings.resilience.fallback_models])
    return {m: min_cacheable_tokens(m, settings.service.prompt_cache_min_tokens) for m in models}


@runtime_checkable
class IngestRunner(Protocol):
    """Runs the ingest pipeline and returns its report as a dict; injected by the composition root
    so that service/ never imports ingest/. Raises ``IngestRefusedError`` (before any change) when
    the ingest safeguard refuses a prune or rebuild. ``paths`` are already confined to ``roots``
    (``service.api.ingest_roots``); the walk inside them skips whatever resolves outside
    ``roots`` (a symlink in a folder)."""

    def __call__(
        self,
        kb: KnowledgeBase,
        paths: list[Path],
        *,
        roots: Sequence[Path],
        prune: bool,
        rebuild: bool,
        dry_run: bool,
        force: bool,
    ) -> dict[str, Any]: ...


@dataclass(kw_only=True)
class Runtime:
    """The fully built service. ``None`` only where a feature is off: ``client``/``claude`` without
    ANTHROPIC_API_KEY, ``translator`` without cross-lingual retrieval, ``cache`` without the answer
    cache, ``handoff_webhook`` without HANDOFF_WEBHOOK_URL, ``ingest_runner`` without admin."""

    settings: AppSettings
    kb: KnowledgeBase
    metrics: Metrics
    auth: Authenticator
    pseudonyms: Pseudonyms
    upstream: UpstreamStatus
    client: ClaudeClient | None
    claude: ResilientClaude | None
    vectors: EmbeddingCache
    retriever: BatchingRetriever
    digest: DigestCache
    router: Router
    translator: QueryTranslator | None
    intents: IntentsOrigin
    handoff: HandoffPolicy
    sessions: SessionStore
    cache: AnswerCache | None
    limiter: RateLimiter
    auth_failures: AuthFailures
    budgets: BudgetGuard
    storage: Storage  # the database: the ledger, the records, the API keys
    charges: UsageCharges
    handoff_webhook: WebhookSender | None
    aftercare: Aftercare
    answers: AnswerService
    ingest_runner: IngestRunner | None
    ingest_lock: asyncio.Lock = field(default_factory=asyncio.Lock)
    _cleanup: contextlib.AsyncExitStack = field(default_factory=contextlib.AsyncExitStack)

    def refresh_gauges(self) -> None:
        prefix = self.digest.prefix()
        model = self.settings.anthropic.model
        self.metrics.observe_prefix(prefix.form, prefix.tokens, cache_minimums(self.settings)[model])
        self.metrics.retrieval_batches.set(self.retriever.batches)
        self.metrics.retrieval_questions.set(self.retriever.questions)
        stats = self.vectors.stats
        self.metrics.embedding_cache_hits.set(stats.hits)
        self.metrics.embedding_cache_misses.set(stats.misses)

    async def close(self) -> None:
        """Drain the after-answer work, then close every connection and the store (reverse order)."""
        await self._cleanup.aclose()


def preflight(settings: AppSettings) -> tuple[ApiKeys, PriceTable]:
    """The checks of settings that need no connection: the API keys, signed webhooks and a price for
    every model of the chain. ``faqstream serve`` runs them before it starts the server, so a
    malformed setting is one clear error line (``ConfigError``), not a failed worker start-up."""
    keys = ApiKeys.from_settings(settings.auth)
    require_signing(
        settings.webhook,
        HANDOFF_WEBHOOK_URL=settings.handoff.webhook_url,
        LIMITS_ALERT_WEBHOOK_URL=settings.limits.alert_webhook_url,
    )
    prices = PriceTable(settings.pricing)
    if settings.anthropic.api_key is not None:
        models = dict.fromkeys([settings.anthropic.model, *settings.resilience.fallback_models])
        prices.require(tuple(models))
    return keys, prices


async def build_runtime(
    settings: AppSettings, kb: KnowledgeBase, ingest_runner: IngestRunner | None = None
) -> Runtime:
    """Everything the service needs, connected and warmed up: the embedding model and the language
    detector have run once, and the Claude key was checked (bounded by ANTHROPIC_CHECK_TIMEOUT_S,
    alongside the warm-ups; never fatal). On failure, what was opened is closed again."""
    async with contextlib.AsyncExitStack() as stack:
        stack.callback(kb.store.close)
        # The company's own contact data stays unredacted (HANDOFF_CONTACT in every language).
        redaction = Redaction.from_settings(settings.privacy, settings.handoff.contact.values())
        log_redaction.install(redaction)  # no personal data in any log line from here on
        metrics = Metrics()
        registry = metrics.registry
        keys, prices = preflight(settings)
        # What the Anthropic API last said about the key (/readyz, faqstream_upstream_status).
        upstream = UpstreamStatus(configured=settings.anthropic.api_key is not None)
        registry.register(UpstreamStatusCollector(upstream))
        redis = await redis_client(settings.redis)
        if redis is not None:
            stack.push_async_callback(redis.aclose)
        prefix = settings.redis.key_prefix
        pseudonyms = Pseudonyms.keyed(settings.auth.identifier_secret)
        sessions = session_store(settings.conversation, redis, prefix=prefix, pseudonyms=pseudonyms)
        stack.push_async_callback(sessions.close)
        storage = await open_storage(settings, stack, registry, pseudonyms, redaction)
        auth = Authenticator(keys, KeyDirectory(storage.keys, settings.auth.key_cache_ttl_s))
        budgets = build_budget_guard(
            settings.limits, redis, prefix=prefix, registry=registry, webhook_settings=settings.webhook
        )
        stack.push_async_callback(budgets.aclose)
        # Every Claude call's usage → the ledger and the caller's budget (closed after the client).
        charges = UsageCharges(storage.ledger, budgets)
        stack.push_async_callback(charges.aclose)
        client = (
            ClaudeClient(settings.anthropic, prices, upstream, charges, settings.service.stream_pace_s)
            if settings.anthropic.api_key
            else None
        )
        claude = ResilientClaude(client, settings.resilience, registry) if client is not None else None
        if claude is not None:
            stack.push_async_callback(claude.close)
        elif client is not None:
            stack.push_async_callback(client.close)
        upstream_check = asyncio.ensure_future(_check_upstream(settings, client))
        stack.callback(upstream_check.cancel)  # start-up failed before the check ended
        handoff_webhook = None
        if settings.handoff.webhook_url:
            handoff_webhook = WebhookSender(
                settings.handoff.webhook_url,
                settings.webhook,
                name="handoff",
                registry=registry,
                redact=redaction.text,
            )
            handoff_webhook.start()
            stack.push_async_callback(handoff_webhook.aclose)
        vectors = EmbeddingCache(settings.cache.embedding_size)
        retriever = BatchingRetriever(
            kb,
            settings.service.max_batch,
            vectors,
            settings.service.retrieval_per_tenant,
            settings.service.retrieval_tenant_chars,
        )
        stack.callback(retriever.close)

        digest = DigestCache(
            kb,
            settings.service.digest_max_tokens * 4,
            floor_override=settings.service.relevance_floor,
            prefix=prefix_settings(settings),
            on_version=redaction.allowed.load,  # the documents' contact data of each version
        )
        await asyncio.to_thread(digest.refresh)
        router = await asyncio.to_thread(
            build_router,
            settings.router,
            kb.embedder,
            claude,
            kb.require_languages(),
            settings.ingest.default_language,
        )
        translate = needs_translation(
            kb.embedder.name, settings.translate.mode, settings.translate.multilingual_models
        )
        translator = (
            QueryTranslator(claude, settings.translate, on_usage=metrics.observe_usage)
            if translate and claude
            else None
        )
        # Whose intents label the questions decides whether low intent confidence may hand off.
        intents = intents_origin(settings.router.intents_file)
        # Where handoffs go decides what the customer is told (service.handoff.delivery).
        routes = HandoffRoutes.from_settings(settings.handoff, settings.agents.takeover_reasons)
        handoff = HandoffPolicy(settings.handoff, custom_intents=intents.custom, routes=routes)
        cache = (
            build_answer_cache(
                answer_cache_settings(settings),
                redis,
                key_prefix=f"{prefix}answers:",
                answerer=f"generative:{settings.anthropic.model}" if claude is not None else "extractive",
            )
            if settings.cache.answers
            else None
        )
        limiter = build_rate_limiter(settings.limits, redis, prefix=prefix, registry=registry)
        auth_failures = AuthFailures.build(settings.limits, redis, prefix=prefix, registry=registry)
        parts = (sessions, redis, prefix, pseudonyms, handoff_webhook, redaction, settings.handoff.contact)
        takeover = await stack.enter_async_context(
            Takeover.build(settings.agents, *parts, recorder=storage.records, metrics=metrics)
        )
        aftercare = Aftercare(
            sessions=sessions,
            conversation=settings.conversation,
            summarizer=Summarizer(claude, settings.conversation, on_usage=metrics.observe_usage),
            metrics=metrics,
            cache=cache,
            handoff_webhook=handoff_webhook,
            redaction=redaction,
            recorder=storage.records,
            takeover=takeover,
        )
        stack.push_async_callback(aftercare.aclose)
        answers = AnswerService(
            AnswerDeps(
                settings=AnswerSettings(
                    conversation=settings.conversation,
                    top_k=settings.service.top_k,
                    languages=settings.ingest.languages,
                    translate_target=settings.translate.target_language,
                    redaction=redaction,
                ),
                retriever=retriever,
                languages=kb.require_languages(),
                prefix=digest.prefix,
                relevance=digest.floor,
                sessions=sessions,
                handoff=handoff,
                aftercare=aftercare,
                metrics=metrics,
                llm=claude,
                slots=claude,
                router=router,
                translator=translator,
                cache=cache,
                takeover=takeover,
            )
        )
        await asyncio.to_thread(kb.embedder.embed_query, "warm-up")
        if (stale := kb.stale_vectors()) is not None:
            log.warning("%s", stale)
        # lingua loads its language models on first use (~7 s, blocking the event loop): load
        # them now, before /readyz says ready, not on the first question.
        await asyncio.to_thread(kb.require_languages().detect, "warm-up")
        await upstream_check
        watch = asyncio.ensure_future(digest.watch())
        stack.push_async_callback(_cancel, watch)

        if claude is not None:
            cached = digest.prefix()
            warning = cache_warning(cached.tokens, cache_minimums(settings), cached.form)
            if warning:
                log.warning(warning)
        secret = settings.auth.identifier_secret is not None
        advise(
            intents,
            routes,
            open_endpoints=await auth.open(),
            identifier_secret=secret,
            shared_conversations=redis is not None,
        )
        runtime = Runtime(
            settings=settings,
            kb=kb,
            metrics=metrics,
            auth=auth,
            pseudonyms=pseudonyms,
            upstream=upstream,
            client=client,
            claude=claude,
            vectors=vectors,
            retriever=retriever,
            digest=digest,
            router=router,
            translator=translator,
            intents=intents,
            handoff=handoff,
            sessions=sessions,
            cache=cache,
            limiter=limiter,
            auth_failures=auth_failures,
            budgets=budgets,
            storage=storage,
            charges=charges,
            handoff_webhook=handoff_webhook,
            aftercare=aftercare,
            answers=answers,
            ingest_runner=ingest_runner,
            _cleanup=stack.pop_all(),
        )
    return runtime


async def _check_upstream(settings: AppSettings, client: ClaudeClient | None) -> None:
    """The start-up check of ANTHROPIC_API_KEY: the verdict (ok, unauthorized, unreachable) goes to
    the client's ``UpstreamStatus`` and the log."""
    timeout = settings.anthropic.check_timeout_s
    if client is None or timeout <= 0:
        return
    with contextlib.suppress(UpstreamError):
        await client.check(timeout)


async def _cancel(task: asyncio.Task[None]) -> None:
    task.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await task
