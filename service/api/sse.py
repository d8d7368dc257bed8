"""Events → Server-Sent Events bytes, with keep-alive comments and upstream cancellation on disconnect.

One producer task drains the answer's events into a queue; a timer task puts a keep-alive marker
in the queue whenever nothing was queued for ``keepalive_s``. The response iterates the queue —
no task per event. When the client goes away, the framework cancels the response iterator; its
``finally`` cancels the producer, whose cancellation closes the request to Claude.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
from collections.abc import AsyncIterator
from typing import Any

import anyio

from service.answers.flow import Delta, Done, Event, Failed, Meta
from service.core.metrics import Metrics
from service.handoff.signals import Handoff
from service.routing.route import Route

SSE_HEADERS = {"Cache-Control": "no-cache", "X-Accel-Buffering": "no"}
KEEPALIVE = b": keep-alive\n\n"
_END = object()


def route_payload(route: Route | None) -> dict[str, Any] | None:
    return route.to_dict() if route is not None else None


def handoff_payload(handoff: Handoff | None) -> dict[str, Any] | None:
    return handoff.model_dump(mode="json") if handoff is not None else None


def event_payload(event: Event) -> tuple[str, dict[str, Any]]:
    if isinstance(event, Meta):
        return "meta", {
            "conversation_id": event.conversation_id,
            "message_id": event.message_id,
            "language": event.language,
            "mode": event.mode,
            "model": event.model,
            "kb_version": event.kb_version,
            "intent": route_payload(event.route),
            "handoff": handoff_payload(event.handoff),
            "citations": [c.model_dump() for c in event.citations],
        }
    if isinstance(event, Delta):
        return "delta", {"text": event.text}
    if isinstance(event, Done):
        return "done", {
            "stop_reason": event.stop_reason,
            "usage": event.usage.model_dump(),
            "handoff": handoff_payload(event.handoff),
            "cache": event.cache,
        }
    return "error", {"code": event.code, "message": event.message, "retryable": event.retryable}


def encode(event: Event) -> bytes:
    name, data = event_payload(event)
    return f"event: {name}\ndata: {json.dumps(data, ensure_ascii=False)}\n\n".encode()


class _Relay:
    def __init__(self, events: AsyncIterator[Event], keepalive_s: float) -> None:
        self.events = events
        self.keepalive_s = keepalive_s
        self.queue: asyncio.Queue[object] = asyncio.Queue()
        self.last_put = time.monotonic()

    def put(self, item: object) -> None:
        self.last_put = time.monotonic()
        self.queue.put_nowait(item)

    async def produce(self) -> None:
        try:
            async for event in self.events:
                self.put(event)
        except Exception as exc:  # a bug below must still end the stream well-formed
            self.put(Failed("internal_error", f"answer failed: {type(exc).__name__}", True))
        finally:
            self.put(_END)

    async def tick(self) -> None:
        while True:
            wait = self.keepalive_s - (time.monotonic() - self.last_put)
            if wait > 0:
                await asyncio.sleep(wait)
                continue
            self.put(KEEPALIVE)


async def sse_bytes(
    events: AsyncIterator[Event], keepalive_s: float, metrics: Metrics, started: float
) -> AsyncIterator[bytes]:
    """The SSE body. Events already queued when the response is ready to write go out as one chunk."""
    relay = _Relay(events, keepalive_s)
    producer = asyncio.ensure_future(relay.produce())
    timer = asyncio.ensure_future(relay.tick())
    state = _StreamState(metrics, started)
    metrics.in_flight.inc()
    try:
        while True:
            items = [await relay.queue.get()]
            while not relay.queue.empty():
                items.append(relay.queue.get_nowait())
            chunk = b"".join(state.render(item) for item in items if item is not _END)
            if chunk:
                yield chunk
            if items[-1] is _END:
                return
    finally:
        metrics.in_flight.dec()
        with anyio.CancelScope(shield=True):
            for task in (timer, producer):
                if not task.done():
                    task.cancel()
                    with contextlib.suppress(BaseException):
                        await task
            with contextlib.suppress(Exception):
                await events.aclose()  # type: ignore[attr-defined]


class _StreamState:
    """Per-stream bookkeeping while rendering: the mode (from ``meta``) and first-delta timing."""

    def __init__(self, metrics: Metrics, started: float) -> None:
        self.metrics = metrics
        self.started = started
        self.mode = "unknown"
        self.first_delta = True

    def render(self, item: object) -> bytes:
        if item is KEEPALIVE:
            return KEEPALIVE
        event: Event = item  # type: ignore[assignment]
        if isinstance(event, Meta):
            self.mode = event.mode
        elif isinstance(event, Delta) and self.first_delta:
            self.first_delta = False
            self.metrics.ttft.labels(self.mode).observe(time.perf_counter() - self.started)
        elif isinstance(event, Done):
            self.metrics.duration.labels(self.mode).observe(time.perf_counter() - self.started)
        elif isinstance(event, Failed) and event.code == "internal_error":
            self.metrics.answers.labels(self.mode, "error").inc()
        return encode(event)
