"""Events → Server-Sent Events bytes, with keep-alive comments and upstream cancellation on disconnect.

One producer task drains the answer's events into a queue; a timer task puts a keep-alive marker
in the queue whenever nothing was queued for ``keepalive_s``. The response iterates the queue —
no task per event — and writes what is queued as one chunk (Claude's tokens arrive already
gathered: the Claude client reads its stream at most once per ``SERVICE_STREAM_PACE_S``, see
``service.llm.claude``). When the client goes away, the framework cancels the response iterator;
its ``finally`` cancels the producer, whose cancellation closes the request to Claude.

The events come measured and crash-safe from ``service.api.events.observed``; their data is
``service.api.events.event_payload`` (the same serialisation JSON answers use).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
from collections.abc import AsyncIterator, Callable

import anyio

from service.answers.events import Event
from service.api.events import event_payload

SSE_HEADERS = {"Cache-Control": "no-cache", "X-Accel-Buffering": "no"}
KEEPALIVE = b": keep-alive\n\n"
_END = object()


def encode(event: Event) -> bytes:
    name, data = event_payload(event)
    return f"event: {name}\ndata: {json.dumps(data, ensure_ascii=False)}\n\n".encode()


class _Relay:
    def __init__(
        self, events: AsyncIterator[Event], keepalive_s: float, encoder: Callable[[Event], bytes]
    ) -> None:
        self.events = events
        self.encoder = encoder
        self.keepalive_s = keepalive_s
        self.queue: asyncio.Queue[object] = asyncio.Queue()
        self.last_put = time.monotonic()

    def put(self, item: object) -> None:
        self.last_put = time.monotonic()
        self.queue.put_nowait(item)

    async def produce(self) -> None:
        try:
            async for event in self.events:
                self.put(self.encoder(event))
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
    events: AsyncIterator[Event],
    keepalive_s: float,
    encoder: Callable[[Event], bytes] = encode,
) -> AsyncIterator[bytes]:
    """The SSE body. Events already queued when the response is ready to write go out as one chunk.
    ``encoder``: an event's frames (the native ``encode``, or the OpenAI-compatible chunks)."""
    relay = _Relay(events, keepalive_s, encoder)
    producer = asyncio.ensure_future(relay.produce())
    timer = asyncio.ensure_future(relay.tick())
    try:
        while True:
            items = [await relay.queue.get()]
            while not relay.queue.empty():
                items.append(relay.queue.get_nowait())
            ended = _END in items
            if ended:  # what the timer queued after the end (a slow reader) is not sent
                items = items[: items.index(_END)]
            chunk = b"".join(item for item in items if isinstance(item, bytes))
            if chunk:
                yield chunk
            if ended:
                return
    finally:
        with anyio.CancelScope(shield=True):
            for task in (timer, producer):
                if not task.done():
                    task.cancel()
                    with contextlib.suppress(BaseException):
                        await task
            with contextlib.suppress(Exception):
                await events.aclose()  # type: ignore[attr-defined]
