"""Admission toward Claude: at most ``pool_size`` answers in flight, a short bounded queue, then shed.

A request takes a ``Lease`` before anything is sent to the customer. When all slots are busy it
waits in a FIFO queue of at most ``queue_size`` for at most ``queue_wait_s``; a full queue or a wait
that runs out raises ``OverloadedError`` (HTTP 503 with Retry-After) — failing fast beats queueing
the customer behind work the upstream cannot absorb. A released slot goes straight to the oldest waiter.

A lease is released exactly once (``release()`` is idempotent). If one is dropped without being
released — a response body that was never iterated — it frees its slot when garbage-collected and
logs a warning, so a bug elsewhere cannot leak the pool dry.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import math
from collections import deque
from types import TracebackType

from knowledge.errors import FaqstreamError

log = logging.getLogger(__name__)


class OverloadedError(FaqstreamError):
    """Too many answers in flight: try again after ``retry_after_s`` seconds (HTTP 503)."""

    status = 503
    code = "overloaded"
    retryable = True

    def __init__(
        self, retry_after_s: int, message: str = "The assistant is busy; please retry shortly."
    ) -> None:
        super().__init__(message)
        self.retry_after_s = retry_after_s

    def headers(self) -> dict[str, str]:
        return {"Retry-After": str(self.retry_after_s)}


class Lease:
    """One slot of the gate, held until ``release()`` (or the end of an ``async with`` block)."""

    __slots__ = ("_gate", "_loop", "_released")

    def __init__(self, gate: AdmissionGate, loop: asyncio.AbstractEventLoop) -> None:
        self._gate = gate
        self._loop = loop
        self._released = False

    @property
    def released(self) -> bool:
        return self._released

    def release(self) -> None:
        if not self._released:
            self._released = True
            self._gate._release()

    async def __aenter__(self) -> Lease:
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.release()

    def __del__(self) -> None:
        if self._released:
            return
        self._released = True
        log.warning("an upstream slot was dropped without release; freeing it")
        try:
            self._loop.call_soon_threadsafe(self._gate._release)
        except RuntimeError:  # the loop is closed, and with it every waiter
            self._gate._in_use = max(self._gate._in_use - 1, 0)


class AdmissionGate:
    def __init__(self, pool_size: int, queue_size: int, queue_wait_s: float) -> None:
        if pool_size < 1 or queue_size < 0 or queue_wait_s < 0:
            raise ValueError("pool_size >= 1, queue_size >= 0 and queue_wait_s >= 0 are required")
        self.pool_size = pool_size
        self.queue_size = queue_size
        self.queue_wait_s = queue_wait_s
        self.retry_after_s = max(1, math.ceil(queue_wait_s))
        self.shed = 0  # requests refused since start
        self._in_use = 0
        self._waiters: deque[asyncio.Future[None]] = deque()

    @property
    def in_use(self) -> int:
        return self._in_use

    @property
    def queued(self) -> int:
        return sum(1 for w in self._waiters if not w.done())

    async def acquire(self) -> Lease:
        """A slot now, or after waiting in the queue; ``OverloadedError`` when neither is possible."""
        loop = asyncio.get_running_loop()
        if self._in_use < self.pool_size and not self.queued:
            self._in_use += 1
            return Lease(self, loop)
        if self.queued >= self.queue_size:
            raise self._refuse("queue full")
        waiter: asyncio.Future[None] = loop.create_future()
        self._waiters.append(waiter)
        try:
            async with asyncio.timeout(self.queue_wait_s):
                await waiter
        except TimeoutError:
            if not (waiter.done() and not waiter.cancelled()):
                raise self._refuse(f"no slot within {self.queue_wait_s:.2f}s") from None
            # The slot was handed over just as the wait ran out: it is ours.
        except BaseException:
            if waiter.done() and not waiter.cancelled():
                self._release()  # handed over, but our caller is gone: pass it on
            raise
        finally:
            with contextlib.suppress(ValueError):
                self._waiters.remove(waiter)
        return Lease(self, loop)

    def _refuse(self, why: str) -> OverloadedError:
        self.shed += 1
        log.warning("shedding an answer (%s): %d in flight, %d queued", why, self._in_use, self.queued)
        return OverloadedError(self.retry_after_s)

    def _release(self) -> None:
        while self._waiters:
            waiter = self._waiters.popleft()
            if not waiter.done():
                waiter.set_result(None)  # the slot moves to the waiter: in_use is unchanged
                return
        self._in_use = max(self._in_use - 1, 0)
