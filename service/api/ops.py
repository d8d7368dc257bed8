"""Operations endpoints: liveness, readiness and Prometheus metrics."""

from __future__ import annotations

import asyncio
from typing import Any

from litestar import MediaType, Response, get
from litestar.openapi.datastructures import ResponseSpec
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from knowledge.errors import FaqstreamError, StoreError
from service.api import guards
from service.api.errors import documented
from service.api.runtime import Runtime
from service.api.schemas import ErrorBody, Readiness

EMPTY = "the knowledge base is empty: run `faqstream ingest PATH` first"


@get("/healthz", summary="Liveness")
async def healthz() -> dict[str, str]:
    return {"status": "ok"}


@get(
    "/readyz",
    summary="Readiness: model loaded, store reachable, knowledge-base version, Claude key",
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
    ``mode: extractive``, ``upstream: unauthorized``, ``degraded: true`` (docs/observability.md)."""
    try:
        meta, active = await asyncio.to_thread(lambda: (runtime.kb.meta(), runtime.kb.store.active()))
    except StoreError:
        raise
    except FaqstreamError as exc:  # whatever kept us from reading the store: it is unavailable
        raise StoreError(exc.message) from exc
    upstream = runtime.upstream
    body = Readiness(
        ready=active is not None,
        kb_version=meta.version,
        model=runtime.kb.embedder.name,
        llm=runtime.settings.anthropic.model if runtime.claude else None,
        mode="generative" if runtime.claude and upstream.generative else "extractive",
        upstream=upstream.state.value,
        degraded=upstream.degraded,
        upstream_reason=upstream.reason if upstream.degraded else None,
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
