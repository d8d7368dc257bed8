"""The answer's events on the wire, for both JSON and SSE, and the metrics of an answer.

``observed`` wraps the events of one answer: it records the in-flight gauge, the time to the first
delta and the duration (for both transports, here only), and turns a crash of the flow into a
``Failed("internal_error")`` so both transports end well-formed. ``event_payload`` is the one
serialisation of an event: SSE sends each payload as an event (``service.api.sse``); JSON joins
them into one ``AnswerResponse`` (``answer_body``), so the two always carry the same fields.
"""

from __future__ import annotations

import logging
import time
from collections.abc import AsyncIterator
from typing import Any

from service.agents.takeover import shown
from service.answers.events import Delta, Done, Event, Failed, Meta
from service.api.errors import AnswerFailedError, error_detail
from service.api.schemas import AnswerResponse
from service.core.metrics import Metrics

log = logging.getLogger(__name__)


def event_payload(event: Event) -> tuple[str, dict[str, Any]]:
    """The event's name and data: ``meta``, ``delta``, ``done`` or ``error``."""
    if isinstance(event, Meta):
        return "meta", {
            "conversation_id": event.conversation_id,
            "message_id": event.message_id,
            "language": event.language,
            "mode": event.mode,
            "model": event.model,
            "kb_version": event.kb_version,
            "intent": event.route.to_dict() if event.route is not None else None,
            "handoff": _handoff(event),
            "citations": [c.model_dump() for c in event.citations],
            "agent_messages": [shown(t) for t in event.agent_messages],
            "notices": [shown(t) for t in event.notices],
        }
    if isinstance(event, Delta):
        return "delta", {"text": event.text}
    if isinstance(event, Done):
        return "done", {
            "stop_reason": event.stop_reason,
            "usage": event.usage.model_dump(),
            "handoff": _handoff(event),
            "cache": event.cache,
            "with_agent": event.with_agent,
        }
    return "error", error_detail(failure(event))


def _handoff(event: Meta | Done) -> dict[str, Any] | None:
    return event.handoff.model_dump(mode="json") if event.handoff is not None else None


def failure(event: Failed) -> AnswerFailedError:
    return AnswerFailedError(event.code, event.message, event.retryable)


async def observed(events: AsyncIterator[Event], metrics: Metrics, started: float) -> AsyncIterator[Event]:
    """The answer's events, measured: in flight while iterated, time to the first delta and
    duration by mode. Closing this closes ``events`` at once (the upstream slot and request)."""
    mode = "unknown"
    first_delta = True
    metrics.in_flight.inc()
    try:
        async for event in events:
            if isinstance(event, Meta):
                mode = event.mode
            elif isinstance(event, Delta) and first_delta:
                first_delta = False
                metrics.ttft.labels(mode).observe(time.perf_counter() - started)
            elif isinstance(event, Done):
                metrics.duration.labels(mode).observe(time.perf_counter() - started)
            yield event
    except Exception as exc:  # a bug below must still end the answer well-formed
        log.exception("answer failed", exc_info=exc)
        metrics.answers.labels(mode, "error").inc()
        yield Failed("internal_error", f"answer failed: {type(exc).__name__}", True)
    finally:
        metrics.in_flight.dec()
        await events.aclose()  # type: ignore[attr-defined]


async def answer_body(events: AsyncIterator[Event]) -> dict[str, Any]:
    """The answer as one JSON object: the ``meta`` and ``done`` fields and the deltas' text.
    A ``Failed`` answer raises ``AnswerFailedError`` (the error map gives its status)."""
    fields: dict[str, Any] = {}
    parts: list[str] = []
    try:
        async for event in events:
            if isinstance(event, Failed):
                raise failure(event)
            name, data = event_payload(event)
            if name == "delta":
                parts.append(data["text"])
            else:
                fields.update(data)  # done's handoff (decided after the answer) replaces meta's
            if name == "done":
                return AnswerResponse(answer="".join(parts), **fields).model_dump()
    finally:
        await events.aclose()  # type: ignore[attr-defined]  # releases the upstream slot now, not at GC
    raise AnswerFailedError("internal_error", "answer ended without a result", True)
