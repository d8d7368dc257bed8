"""The Litestar application: routes, error mapping, lifecycle. Built by ``create_app``."""

from __future__ import annotations

import asyncio
import hmac
import logging
import time
from pathlib import Path
from typing import Any

from litestar import Litestar, MediaType, Request, Response, get, post
from litestar.datastructures import State
from litestar.enums import ScopeType
from litestar.exceptions import HTTPException, NotFoundException, ValidationException
from litestar.openapi import OpenAPIConfig
from litestar.response import Stream
from litestar.types import ASGIApp, Message, Receive, Scope, Send
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from pydantic import BaseModel, ConfigDict, Field

from knowledge.errors import FaqstreamError, IngestRefusedError
from knowledge.search import KnowledgeBase
from service.answers.flow import Delta, Done, Failed, Meta
from service.answers.prompts import cache_warning, system_blocks
from service.api.auth import UnauthorizedError
from service.api.runtime import IngestRunner, Runtime
from service.api.schemas import AnswerRequest, AnswerResponse
from service.api.sse import SSE_HEADERS, handoff_payload, route_payload, sse_bytes
from service.llm.admission import OverloadedError
from service.quotas import LimitStoreUnavailableError
from service.quotas.rate_limits import headers as limit_headers
from service.settings.app import AppSettings

log = logging.getLogger(__name__)

SSE_DESCRIPTION = """Answer a customer question from the knowledge base.

Send `"stream": true` or `Accept: text/event-stream` for Server-Sent Events (status 200):

* `meta` — first: `conversation_id`, `message_id`, `language`, `mode` (`generative` | `extractive` |
  `cached` | `smalltalk`), `model`, `kb_version`, `intent` {intent, confidence, language, source, scores},
  `handoff` (null or {reason, reasons, summary, intent, confidence, language, citations}),
  `citations` [{index, doc_id, title, source, section, score, quote}]
* `delta` — `{"text": "..."}`, in order; concatenated they are the answer
* `done` — last: `stop_reason` (`smalltalk` for a greeting, thanks or goodbye answered without
  retrieval), `usage` {input_tokens, output_tokens, cache_read_input_tokens,
  cache_creation_input_tokens, cost_usd}, `handoff`, `cache` (null | `exact` | `semantic`)
* `error` — instead of `done` when the model fails after text was sent: `code`, `message`,
  `retryable` (the text already sent stands)

Comment lines (`: keep-alive`) are sent while waiting upstream. Without streaming the same fields
come as one JSON object. Errors before the answer starts are HTTP statuses with a JSON body
`{"error": {code, message, retryable}}`: 400 invalid request, 401 API key, 413 question too long,
429 rate limit or daily budget (`Retry-After`, `RateLimit-*`), 503 overloaded (`Retry-After`).
Send `conversation_id` to continue a conversation, `user` to apply the per-end-user limit. The reply
language is `language`, else detected; one- or two-word messages and small talk take the
conversation's language first, and `Accept-Language` before the detector's guess.
"""


def error_response(
    status: int,
    code: str,
    message: str,
    *,
    retryable: bool = False,
    details: Any = None,
    headers: dict[str, str] | None = None,
) -> Response[Any]:
    body: dict[str, Any] = {"error": {"code": code, "message": message, "retryable": retryable}}
    if details is not None:
        body["error"]["details"] = details
    return Response(body, status_code=status, media_type=MediaType.JSON, headers=headers)


def _validation(_: Request[Any, Any, Any], exc: ValidationException) -> Response[Any]:
    return error_response(400, "invalid_request", exc.detail or "invalid request", details=exc.extra)


def _http(_: Request[Any, Any, Any], exc: HTTPException) -> Response[Any]:
    code = {
        404: "not_found",
        405: "method_not_allowed",
        401: "unauthorized",
        403: "forbidden",
        413: "too_large",
        415: "unsupported_media_type",
    }.get(exc.status_code, "http_error")
    return error_response(exc.status_code, code, exc.detail, headers=exc.headers)


def _ours(_: Request[Any, Any, Any], exc: FaqstreamError) -> Response[Any]:
    if isinstance(exc, IngestRefusedError):  # nothing was changed; the request must change first
        details = {"reason": exc.reason, "hint": exc.hint, **exc.details}
        return error_response(422, exc.code, exc.message, details=details)
    if isinstance(exc, UnauthorizedError):
        return error_response(401, "unauthorized", exc.message, headers={"WWW-Authenticate": "Bearer"})
    if isinstance(exc, OverloadedError):
        return error_response(
            503, "overloaded", exc.message, retryable=True, headers={"Retry-After": str(exc.retry_after_s)}
        )
    if isinstance(exc, LimitStoreUnavailableError):
        return error_response(
            503, "limits_unavailable", exc.message, retryable=True, headers={"Retry-After": "1"}
        )
    log.warning("request failed: %s", exc)
    return error_response(503, type(exc).__name__, exc.message, retryable=True)


def _unexpected(_: Request[Any, Any, Any], exc: Exception) -> Response[Any]:
    log.exception("unhandled error", exc_info=exc)
    return error_response(500, "internal_error", "internal error; it has been logged", retryable=True)


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


def rt(state: State) -> Runtime:
    runtime: Runtime = state.runtime
    return runtime


@post(
    "/v1/answers", description=SSE_DESCRIPTION, summary="Answer a question", status_code=200, responses=None
)
async def answers(data: AnswerRequest, request: Request[Any, Any, Any], state: State) -> Response[Any]:
    runtime = rt(state)
    started = time.perf_counter()
    client = runtime.keys.identify(request.headers.get("authorization"), request.headers.get("x-api-key"))
    limit = runtime.settings.service.max_question_chars
    if len(data.question) > limit:
        return error_response(413, "question_too_long", f"question is longer than {limit} characters")
    assert runtime.limiter is not None and runtime.budgets is not None
    decision = await runtime.limiter.check(client.name, data.user)
    headers = limit_headers(decision)
    if not decision.allowed:
        return error_response(
            429,
            "rate_limited",
            f"too many requests ({decision.tripped} limit)",
            retryable=True,
            headers=headers,
        )
    budget = await runtime.budgets.check(client.name)
    if not budget.allowed:
        return error_response(
            429,
            "budget_exhausted",
            f"the daily {budget.exhausted} budget of this API key is used up",
            retryable=True,
            headers={**headers, "Retry-After": str(int(budget.retry_after_s or 1))},
        )
    prepared = await runtime.answers.prepare(data, client, request.headers.get("accept-language"))
    events = prepared.events()
    if data.stream or "text/event-stream" in request.headers.get("accept", ""):
        keepalive = runtime.settings.service.keepalive_s
        return Stream(
            sse_bytes(events, keepalive, runtime.metrics, started),
            media_type="text/event-stream",
            headers={**SSE_HEADERS, **headers},
        )
    return await _collect(events, runtime, started, headers)


async def _collect(events: Any, runtime: Runtime, started: float, headers: dict[str, str]) -> Response[Any]:
    meta: Meta | None = None
    parts: list[str] = []
    runtime.metrics.in_flight.inc()
    try:
        async for event in events:
            if isinstance(event, Meta):
                meta = event
            elif isinstance(event, Delta):
                if not parts:
                    runtime.metrics.ttft.labels(meta.mode if meta else "unknown").observe(
                        time.perf_counter() - started
                    )
                parts.append(event.text)
            elif isinstance(event, Failed):
                status = 503 if event.retryable else 502
                return error_response(status, event.code, event.message, retryable=event.retryable)
            elif isinstance(event, Done) and meta is not None:
                runtime.metrics.duration.labels(meta.mode).observe(time.perf_counter() - started)
                body = AnswerResponse(
                    conversation_id=meta.conversation_id,
                    message_id=meta.message_id,
                    answer="".join(parts),
                    language=meta.language,
                    mode=meta.mode,
                    model=meta.model,
                    citations=meta.citations,
                    stop_reason=event.stop_reason,
                    usage=event.usage,
                    kb_version=meta.kb_version,
                    intent=route_payload(meta.route),
                    handoff=handoff_payload(event.handoff),
                    cache=event.cache,
                )
                return Response(body.model_dump(), media_type=MediaType.JSON, headers=headers)
    finally:
        runtime.metrics.in_flight.dec()
        await events.aclose()  # releases the upstream slot and request at once, not at GC
    return error_response(500, "internal_error", "answer ended without a result", retryable=True)


@get("/healthz", summary="Liveness")
async def healthz() -> dict[str, str]:
    return {"status": "ok"}


@get("/readyz", summary="Readiness: model loaded, store reachable, knowledge-base version, Claude key")
async def readyz(state: State) -> Response[Any]:
    """Ready (200) once the knowledge base has a version. A key the Anthropic API rejects does not
    make the service unready — it still answers, extractively with a handoff — but /readyz says so:
    ``mode: extractive``, ``upstream: unauthorized``, ``degraded: true`` (docs/observability.md)."""
    runtime = rt(state)
    try:
        meta, active = await asyncio.to_thread(lambda: (runtime.kb.meta(), runtime.kb.store.active()))
    except FaqstreamError as exc:
        return error_response(503, "store_unavailable", exc.message, retryable=True)
    upstream = runtime.upstream
    body: dict[str, Any] = {
        "ready": active is not None,
        "kb_version": meta.version,
        "model": runtime.kb.embedder.name,
        "llm": runtime.settings.anthropic.model if runtime.claude else None,
        "mode": "generative" if runtime.claude and upstream.generative else "extractive",
        "upstream": upstream.state.value,
        "degraded": upstream.degraded,
    }
    if upstream.degraded:
        body["upstream_reason"] = upstream.reason
    if active is None:
        body["reason"] = "the knowledge base is empty: run `faqstream ingest PATH` first"
    return Response(body, status_code=200 if active is not None else 503, media_type=MediaType.JSON)


@get("/metrics", summary="Prometheus metrics", media_type=CONTENT_TYPE_LATEST)
async def metrics(state: State) -> Response[bytes]:
    runtime = rt(state)
    runtime.refresh_gauges()
    return Response(generate_latest(runtime.metrics.registry), media_type=CONTENT_TYPE_LATEST)


class IngestRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    paths: list[str] = Field(min_length=1, description="files or folders on the service's machine")
    prune: bool = False
    rebuild: bool = False
    dry_run: bool = False
    force: bool = Field(
        default=False,
        description="allow prune or rebuild to delete more than half of the knowledge base's documents",
    )


@post(
    "/admin/ingest",
    summary="Run the ingest pipeline inside the service (admin key)",
    description="A prune or rebuild that would lose documents by mistake is refused before any "
    "change with 422 `ingest_refused` (`details.reason`: `missing_path`, `nothing_read` or "
    "`too_many_deletions`, plus `details.hint`); deleting more than half of the documents needs "
    '`"force": true`. A dry run reports the refusal in the report\'s `refused` field instead.',
    status_code=200,
)
async def admin_ingest(data: IngestRequest, request: Request[Any, Any, Any], state: State) -> Response[Any]:
    runtime = rt(state)
    key = runtime.settings.service.admin_key
    if key is None or runtime.ingest_runner is None:
        raise NotFoundException("admin endpoints are disabled (set SERVICE_ADMIN_KEY)")
    presented = request.headers.get("authorization", "").encode()
    if not hmac.compare_digest(presented, f"Bearer {key.get_secret_value()}".encode()):
        return error_response(401, "unauthorized", "admin key required (Authorization: Bearer …)")
    if runtime.ingest_lock.locked():
        return error_response(409, "ingest_running", "an ingest is already running", retryable=True)
    async with runtime.ingest_lock:
        runner = runtime.ingest_runner
        report = await asyncio.to_thread(
            runner,
            runtime.kb,
            [Path(p) for p in data.paths],
            prune=data.prune,
            rebuild=data.rebuild,
            dry_run=data.dry_run,
            force=data.force,
        )
    await asyncio.to_thread(runtime.digest.refresh)  # the next request sees the new version
    return Response(report, media_type=MediaType.JSON)


def create_app(
    settings: AppSettings | None = None,
    *,
    kb: KnowledgeBase | None = None,
    ingest_runner: IngestRunner | None = None,
) -> Litestar:
    """The app; the knowledge base is opened at startup (in the worker process) unless given."""
    app_settings = settings or AppSettings()

    async def startup(app: Litestar) -> None:
        knowledge: KnowledgeBase = (
            kb if kb is not None else await asyncio.to_thread(KnowledgeBase.open, app_settings)
        )
        runtime = Runtime(app_settings, knowledge, ingest_runner)
        # The key is checked alongside the warm-ups below, so it adds nothing to start-up unless the
        # API is slower than they are (bounded by ANTHROPIC_CHECK_TIMEOUT_S).
        upstream_check = asyncio.ensure_future(runtime.check_upstream())
        try:
            await runtime.start()
            await asyncio.to_thread(knowledge.embedder.embed_query, "warm-up")
            # lingua loads its language models on first use (~7 s, blocking the event loop): load
            # them now, before /readyz says ready, not on the first question.
            await asyncio.to_thread(knowledge.require_languages().detect, "warm-up")
            await upstream_check
        finally:
            upstream_check.cancel()  # start-up failed before the check ended
        _, digest = runtime.digest.get()
        if runtime.claude is not None:
            warning = cache_warning(app_settings.anthropic.model, system_blocks(digest))
            if warning:
                log.warning(warning)
        app.state.runtime = runtime

    async def shutdown(app: Litestar) -> None:
        runtime: Runtime | None = getattr(app.state, "runtime", None)
        if runtime is not None:
            await runtime.close()

    return Litestar(
        route_handlers=[answers, healthz, readyz, metrics, admin_ingest],
        on_startup=[startup],
        on_shutdown=[shutdown],
        exception_handlers={
            ValidationException: _validation,
            HTTPException: _http,
            FaqstreamError: _ours,
            Exception: _unexpected,
        },
        middleware=[http_metrics],
        openapi_config=OpenAPIConfig(title="faqstream", version="0.1.0", path="/schema"),
        request_max_body_size=1_000_000,
        logging_config=None,  # logging is configured once by the entry point (FAQSTREAM_LOG_LEVEL)
    )
