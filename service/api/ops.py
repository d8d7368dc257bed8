"""Operations endpoints: liveness, readiness and Prometheus metrics."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from typing import Any

from litestar import MediaType, Response, get
from litestar.openapi.datastructures import ResponseSpec
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from knowledge.errors import FaqstreamError, StoreError
from service.api import guards
from service.api.errors import documented
from service.api.runtime import Runtime
from service.api.schemas import Circuit, ErrorBody, Readiness
from service.llm.resilient import ResilientClaude

EMPTY = "the knowledge base is empty: run `faqstream ingest PATH` first"


@get("/healthz", summary="Liveness")
async def healthz() -> dict[str, str]:
    return {"status": "ok"}


def circuits(claude: ResilientClaude | None) -> list[Circuit]:
    """Every Claude model's circuit breaker: its state, since when it is open, when it may be probed."""
    if claude is None:
        return []
    shown = []
    for model, breaker in claude.breakers.breakers().items():
        opened = breaker.opened_wall
        since = datetime.fromtimestamp(opened, UTC) if opened is not None else None
        retry_in = round(breaker.retry_in(), 3) if opened is not None else None
        shown.append(Circuit(model=model, state=breaker.state.value, since=since, retry_in_s=retry_in))
    return shown


def breaker_reason(tripped: list[Circuit], callable_: bool) -> str | None:
    """``upstream_reason`` for circuits that are not closed (None when all are)."""
    if not tripped:
        return None
    listed = ", ".join(f"{c.model} ({c.state})" for c in tripped)
    outcome = "answers use the next model of the chain" if callable_ else "answers are extractive"
    return f"circuit breaker not closed for {listed}: {outcome} until a probe succeeds"


@get(
    "/readyz",
    summary="Readiness: model loaded, store reachable, knowledge-base version, Claude key, circuit breakers",
    responses={
        200: ResponseSpec(data_container=Readiness, description="ready", generate_examples=False),
        503: ResponseSpec(
            data_container=Readiness | ErrorBody,  # type: ignore[arg-type]  # documented as oneOf
            description="not ready: the knowledge base is empty (`ready: false`, `reason`), or the store "
            "is unreachable (the error body, `store_unavailable`, retryable)",
            generate_examples=False,
        ),
        **documented(500),
    },
)
async def readyz(runtime: Runtime) -> Response[Any]:
    """Ready (200) once the knowledge base has a version. A key the Anthropic API rejects does not
    make the service unready — it still answers, extractively with a handoff — but /readyz says so:
    ``mode: extractive``, ``upstream: unauthorized``, ``degraded: true`` (docs/observability.md).
    Open circuit breakers likewise: ``circuits`` lists every model's breaker; one not closed is
    ``degraded: true``, every model of the chain open is ``mode: extractive`` — still ready."""
    try:
        meta, active = await asyncio.to_thread(lambda: (runtime.kb.meta(), runtime.kb.store.active()))
    except StoreError:
        raise
    except FaqstreamError as exc:  # whatever kept us from reading the store: it is unavailable
        raise StoreError(exc.message) from exc
    upstream = runtime.upstream
    shown = circuits(runtime.claude)
    tripped = [c for c in shown if c.state != "closed"]
    callable_ = runtime.claude is not None and any(
        runtime.claude.breakers[m].available() for m in runtime.claude.models
    )
    body = Readiness(
        ready=active is not None,
        kb_version=meta.version,
        model=runtime.kb.embedder.name,
        llm=runtime.settings.anthropic.model if runtime.claude else None,
        mode="generative" if callable_ and upstream.generative else "extractive",
        upstream=upstream.state.value,
        degraded=upstream.degraded or bool(tripped),
        upstream_reason=upstream.reason if upstream.degraded else breaker_reason(tripped, callable_),
        circuits=shown,
        reason=None if active is not None else EMPTY,
    )
    unset = {name for name in ("upstream_reason", "reason") if getattr(body, name) is None}
    return Response(
        body.model_dump(exclude=unset),
        status_code=200 if active is not None else 503,
        media_type=MediaType.JSON,
    )


@get(
    "/metrics",
    summary="Prometheus metrics",
    media_type=CONTENT_TYPE_LATEST,
    guards=[guards.ops_guard],  # AUTH_PROTECT_OPS: a key with the `metrics` scope
    responses=documented(
        401,
        403,
        described={
            401: "AUTH_PROTECT_OPS is on and no valid key was sent (`unauthorized`)",
            403: "AUTH_PROTECT_OPS is on and the key lacks the `metrics` scope (`insufficient_scope`)",
        },
    ),
)
async def metrics(runtime: Runtime) -> Response[bytes]:
    runtime.refresh_gauges()
    return Response(generate_latest(runtime.metrics.registry), media_type=CONTENT_TYPE_LATEST)
