"""The app factory: routes, dependencies, the error map, request metrics, the JSON body checks
(``service.api.bodies``: media type and shape, after authentication and before decoding), the body
size limit and the lifespan that builds the ``Runtime`` (the knowledge base is opened at startup,
in the worker process, unless given)."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from litestar import Litestar, Router
from litestar.config.cors import CORSConfig
from litestar.di import Provide
from litestar.enums import ScopeType
from litestar.types import ASGIApp, Message, Receive, Scope, Send

from knowledge.schema import SearchFilters
from knowledge.search import KnowledgeBase
from service.answers.request import AnswerRequest
from service.api import guards
from service.api.admin import IngestRequest, admin
from service.api.admin_kb import SearchRequest, admin_kb
from service.api.agents import AGENT_ROUTES, AgentMessage
from service.api.analytics import admin_analytics
from service.api.answers import answers
from service.api.bodies import check_json_body
from service.api.conversations import FeedbackRequest, conversation, document_feedback, give_feedback
from service.api.errors import EXCEPTION_HANDLERS
from service.api.openai_compat import chat_completions, models
from service.api.openapi import closed_bodies, openapi_config
from service.api.ops import healthz, metrics, readyz
from service.api.records_limits import limit_headers
from service.api.runtime import IngestRunner, Runtime, build_runtime
from service.api.settings import AppSettings
from service.core.languages import use_texts
from service.web.routes import web_routes


def http_metrics(app: ASGIApp) -> ASGIApp:
    """Count every routed request by route template and status, and time it to the response start."""

    async def middleware(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != ScopeType.HTTP:
            await app(scope, receive, send)
            return
        started = time.perf_counter()
        route = str(scope.get("path_template") or "unmatched")

        async def observed(message: Message) -> None:
            if message["type"] == "http.response.start":
                runtime: Runtime | None = getattr(scope["app"].state, "runtime", None)
                if runtime is not None:
                    runtime.metrics.requests.labels(route, str(message["status"])).inc()
                    runtime.metrics.request_seconds.labels(route).observe(time.perf_counter() - started)
            await send(message)

        await app(scope, receive, observed)

    return middleware


def cors(settings: AppSettings) -> CORSConfig | None:
    """CORS for the listed origins only (SERVICE_CORS_ORIGINS); none listed: no CORS headers."""
    origins = list(settings.service.cors_origins)
    if not origins:
        return None
    return CORSConfig(
        allow_origins=origins,
        allow_methods=["GET", "POST", "OPTIONS"],
        # any request header: the origin list is the protection, and browser SDKs add their own
        # (the OpenAI JS SDK sends x-stainless-*); no cookies are used, so credentials stay off
        allow_headers=["*"],
        expose_headers=[
            "Retry-After",
            "RateLimit-Limit",
            "RateLimit-Remaining",
            "RateLimit-Reset",
            "RateLimit-Policy",
        ],
        max_age=600,
    )


def serving(settings: AppSettings) -> AppSettings:
    """The settings the service opens its knowledge base with: ``EMBEDDING_THREADS=0`` (automatic)
    is one ONNX Runtime thread per forward pass here. A question is ~15 tokens; split over two
    threads, each of the model's ~600 small operators wakes the second thread, which costs more
    CPU than it saves time, and the event loop needs that core (1 thread: 1.0 ms less CPU per
    answer at 64 streams, docs/benchmarks.md "Issue 11 CPU, round 3"). Ingest and the CLI keep
    all cores for their long batches."""
    if settings.embedding.threads:
        return settings
    embedding = settings.embedding.model_copy(update={"threads": 1})
    return settings.model_copy(update={"embedding": embedding})


def create_app(
    settings: AppSettings | None = None,
    *,
    kb: KnowledgeBase | None = None,
    ingest_runner: IngestRunner | None = None,
) -> Litestar:
    """The app. ``kb``: an open knowledge base (else opened at startup); ``ingest_runner``: enables
    ``/admin/ingest`` together with SERVICE_ADMIN_KEY."""
    app_settings = settings or AppSettings()
    use_texts(app_settings.texts)  # which Portuguese the built-in texts are (TEXTS_PORTUGUESE)

    @asynccontextmanager
    async def lifespan(app: Litestar) -> AsyncIterator[None]:
        knowledge = kb
        if knowledge is None:
            knowledge = await asyncio.to_thread(KnowledgeBase.open, serving(app_settings))
        runtime = await build_runtime(app_settings, knowledge, ingest_runner)
        app.state.runtime = runtime
        try:
            yield
        finally:
            await runtime.close()

    app = Litestar(
        route_handlers=[
            answers,
            conversation,
            give_feedback,
            chat_completions,
            models,
            healthz,
            readyz,
            metrics,
            admin,
            admin_kb,
            admin_analytics,
            *AGENT_ROUTES,
            *web_routes(app_settings.web_chat),
        ],
        dependencies={"runtime": Provide(guards.runtime, sync_to_thread=False)},
        lifespan=[lifespan],
        exception_handlers=EXCEPTION_HANDLERS,
        middleware=[http_metrics],
        cors_config=cors(app_settings),
        # AUTH_PROTECT_OPS: /schema needs a key with the `metrics` scope, like /metrics
        openapi_config=openapi_config(
            Router("/schema", route_handlers=[], guards=[guards.ops_guard], include_in_schema=False)
        ),
        before_send=[limit_headers],  # the records budget's RateLimit-* headers
        before_request=check_json_body,  # after the guards, before the body is decoded (415, 400)
        request_max_body_size=1_000_000,
        logging_config=None,  # logging is configured once by the entry point (FAQSTREAM_LOG_LEVEL)
    )
    closed_bodies(
        app.openapi_schema,
        (AnswerRequest, FeedbackRequest, IngestRequest, SearchRequest, SearchFilters, AgentMessage),
        app_settings.service.max_question_chars,
    )
    document_feedback(app.openapi_schema)
    return app
