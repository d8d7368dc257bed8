"""Faults to script into `FakeAnthropic`, and the records it keeps of what clients did."""

from __future__ import annotations

import random
import threading
from collections import Counter, deque
from collections.abc import Callable, Mapping, Sequence
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


# What RandomFaults can inject, by name.
FAULT_KINDS = ("rate_limit", "overloaded", "server_error", "slow_first_byte", "drop", "error_event")


class RandomFaults:
    """A `FakeAnthropic` fault source: each request gets a fault with probability `rate`, its kind drawn
    uniformly from `kinds` (see `FAULT_KINDS`); seeded, so a run is reproducible in arrival order.

    * ``rate_limit``: 429 ``rate_limit_error`` with ``retry-after-ms: retry_after_ms``
    * ``overloaded``: 529 ``overloaded_error``;  ``server_error``: 500 ``api_error``
    * ``slow_first_byte``: nothing for ``slow_s`` seconds, then a normal answer
    * ``drop`` / ``error_event``: 0..``max_after_deltas`` text deltas, then the connection is cut /
      an SSE ``error`` event ends the stream

    ``counts`` holds how many faults of each kind were handed out.
    """

    def __init__(
        self,
        rate: float,
        *,
        seed: int | None = None,
        kinds: Sequence[str] = FAULT_KINDS,
        retry_after_ms: int = 200,
        slow_s: float = 3.0,
        max_after_deltas: int = 5,
    ) -> None:
        unknown = sorted(set(kinds) - set(FAULT_KINDS))
        if unknown or not kinds:
            raise ValueError(f"fault kinds must be a non-empty subset of {FAULT_KINDS}, got {unknown}")
        if not 0.0 <= rate <= 1.0 or retry_after_ms < 0 or slow_s < 0 or max_after_deltas < 0:
            raise ValueError("rate must be in [0, 1]; delays and counts must not be negative")
        self.rate = rate
        self.kinds = tuple(kinds)
        self.retry_after_ms = retry_after_ms
        self.slow_s = slow_s
        self.max_after_deltas = max_after_deltas
        self.counts: Counter[str] = Counter()
        self._rng = random.Random(seed)
        self._lock = threading.Lock()

    def __call__(self, _body: Any = None) -> Fault | None:
        with self._lock:
            if self._rng.random() >= self.rate:
                return None
            kind = self._rng.choice(self.kinds)
            after = self._rng.randint(0, self.max_after_deltas)
            self.counts[kind] += 1
        if kind == "rate_limit":
            return Status(429, "rate_limit_error", "Rate limited", retry_after_ms=self.retry_after_ms)
        if kind == "overloaded":
            return Status(529, "overloaded_error", "Overloaded")
        if kind == "server_error":
            return Status(500, "api_error", "Internal server error")
        if kind == "slow_first_byte":
            return SlowFirstByte(self.slow_s)
        if kind == "drop":
            return DropMidStream(after_deltas=after)
        return ErrorEvent(after_deltas=after)
