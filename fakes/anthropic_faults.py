"""Faults to script into `FakeAnthropic`, and the records it keeps of what clients did."""

from __future__ import annotations

import threading
from collections import deque
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class Status:
    """Answer with this HTTP status and the API's JSON error body (also for streaming requests)."""

    code: int
    error_type: str
    message: str
    retry_after: float | None = None
    retry_after_ms: int | None = None
    headers: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class SlowFirstByte:
    """Wait this long before sending anything (status line included), then answer normally."""

    seconds: float


@dataclass(frozen=True)
class DropMidStream:
    """Send `after_deltas` text deltas, then close the connection without ending the chunked body.

    `reset=True` closes with a TCP RST instead of a FIN. A non-streaming request gets half its body."""

    after_deltas: int
    reset: bool = False


@dataclass(frozen=True)
class ErrorEvent:
    """Send `after_deltas` text deltas, then an SSE `event: error` frame, then end the stream.

    A non-streaming request gets the matching HTTP error status instead."""

    after_deltas: int
    error_type: str = "overloaded_error"
    message: str = "Overloaded"


@dataclass(frozen=True)
class Hang:
    """Accept the request and send nothing for `seconds`, then close the connection without a response."""

    seconds: float


Fault = Status | SlowFirstByte | DropMidStream | ErrorEvent | Hang

STATUS_FOR_ERROR_TYPE = {
    "invalid_request_error": 400,
    "authentication_error": 401,
    "billing_error": 402,
    "permission_error": 403,
    "not_found_error": 404,
    "request_too_large": 413,
    "rate_limit_error": 429,
    "api_error": 500,
    "timeout_error": 504,
    "overloaded_error": 529,
}


@dataclass(frozen=True)
class RecordedRequest:
    method: str
    path: str  # without the query string
    headers: dict[str, str]  # names lowercased
    body: Any  # parsed JSON, or None when the body was empty or not JSON
    time: float  # time.monotonic() at arrival
    query: str = ""
    peer: str = ""  # client "host:port": the same value on two requests means a reused connection

    @property
    def json(self) -> Any:
        return self.body


@dataclass(frozen=True)
class Disconnect:
    """The client went away before the response was complete."""

    request_index: int  # index into FakeAnthropic.requests
    path: str
    stream: bool
    deltas_sent: int
    time: float


def replies(*texts: str) -> Callable[[dict[str, Any]], str]:
    """A `reply` callable returning `texts` in turn (the last one repeats)."""
    queue: deque[str] = deque(texts)
    lock = threading.Lock()

    def next_reply(_body: dict[str, Any]) -> str:
        with lock:
            return queue.popleft() if len(queue) > 1 else queue[0]

    return next_reply
