"""Events → Server-Sent Events, with keep-alive comments and upstream cancellation on disconnect."""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
from collections.abc import AsyncIterator
from typing import Any

import anyio
from litestar.response import ServerSentEventMessage

from service.answering import Delta, Done, Event, Failed, Meta
from service.runtime import Metrics

SSE_HEADERS = {"Cache-Control": "no-cache", "X-Accel-Buffering": "no"}


def event_payload(event: Event) -> tuple[str, dict[str, Any]]:
    if isinstance(event, Meta):
        return "meta", {
            "conversation_id": event.conversation_id,
            "message_id": event.message_id,
            "language": event.language,
            "mode": event.mode,
            "kb_version": event.kb_version,
            "citations": [c.model_dump() for c in event.citations],
        }
    if isinstance(event, Delta):
        return "delta", {"text": event.text}
    if isinstance(event, Done):
        return "done", {"stop_reason": event.stop_reason, "usage": event.usage.model_dump()}
    return "error", {"code": event.code, "message": event.message, "retryable": event.retryable}


async def sse_messages(
    events: AsyncIterator[Event], keepalive_s: float, metrics: Metrics, started: float
) -> AsyncIterator[ServerSentEventMessage]:
    """Relay events; while nothing arrives for ``keepalive_s`` send a comment so proxies keep the line.

    When the client goes away, the framework cancels this generator; the ``finally`` block then
    cancels the pending upstream read and closes the event source (shielded from the cancellation),
    which closes the HTTP request to Claude.
    """
    pending: asyncio.Future[Event] | None = None
    mode = "unknown"
    first_delta = True
    try:
        while True:
            if pending is None:
                pending = asyncio.ensure_future(anext(events))
            done, _ = await asyncio.wait({pending}, timeout=keepalive_s)
            if not done:
                yield ServerSentEventMessage(comment="keep-alive")
                continue
            try:
                event = pending.result()
            except StopAsyncIteration:
                return
            finally:
                pending = None
            if isinstance(event, Meta):
                mode = event.mode
            elif isinstance(event, Delta) and first_delta:
                first_delta = False
                metrics.ttft.labels(mode).observe(time.perf_counter() - started)
            elif isinstance(event, Done):
                record_done(metrics, mode, event, started)
            elif isinstance(event, Failed):
                metrics.answers.labels(mode, "error").inc()
            name, data = event_payload(event)
            yield ServerSentEventMessage(event=name, data=json.dumps(data, ensure_ascii=False))
    finally:
        with anyio.CancelScope(shield=True):
            if pending is not None and not pending.done():
                pending.cancel()
                with contextlib.suppress(BaseException):
                    await pending
            await events.aclose()  # type: ignore[attr-defined]


def record_done(metrics: Metrics, mode: str, event: Done, started: float) -> None:
    metrics.answers.labels(mode, "ok").inc()
    metrics.duration.labels(mode).observe(time.perf_counter() - started)
    usage = event.usage
    for kind in ("input_tokens", "output_tokens", "cache_read_input_tokens", "cache_creation_input_tokens"):
        value = getattr(usage, kind)
        if value:
            metrics.tokens.labels(kind).inc(value)
    if usage.cost_usd:
        metrics.cost.inc(usage.cost_usd)
