"""The idle timeout of one upstream stream (``RESILIENCE_IDLE_TIMEOUT_S``), with one timer per stream.

``service.llm.resilient`` waits for each event after the first inside ``IdleWatch.waiting``; a
wait that lasts ``idle_s`` ends in ``TimeoutError`` (then ``upstream_idle_timeout``), exactly as an
``asyncio.timeout`` around each wait would, without making and cancelling a timer per token.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from contextlib import contextmanager


class IdleWatch:
    """The idle timeout of one stream, with one timer for the whole stream.

    Each wait for the next event notes when it began (``waiting``); the timer, when it fires,
    cancels the waiting task only if that wait has lasted ``idle_s``, else re-arms itself for the
    current wait's deadline; outside a wait it lapses until the next one. The deadline is the same
    as an ``asyncio.timeout`` around each wait, which made and cancelled a timer per token
    (~4 µs of the event loop each, 40+ per answer).
    """

    def __init__(self, idle_s: float) -> None:
        self.idle_s = idle_s
        self._loop = asyncio.get_running_loop()
        self._task: asyncio.Task[object] | None = None
        self._since = 0.0
        self._timer: asyncio.TimerHandle | None = None
        self._expired = False

    def _fire(self) -> None:
        self._timer = None
        if self._task is None:
            return
        due = self._since + self.idle_s
        if self._loop.time() >= due:
            self._expired = True
            self._task.cancel()
        else:
            self._timer = self._loop.call_at(due, self._fire)

    @contextmanager
    def waiting(self) -> Iterator[None]:
        """Around one wait: ``TimeoutError`` when it lasts ``idle_s`` (as ``asyncio.timeout``)."""
        task = asyncio.current_task()
        assert task is not None
        self._task, self._since, self._expired = task, self._loop.time(), False
        cancelling = task.cancelling()
        if self._timer is None:
            self._timer = self._loop.call_at(self._since + self.idle_s, self._fire)
        try:
            yield
        except asyncio.CancelledError:
            if self._expired and task.uncancel() <= cancelling:
                raise TimeoutError from None
            raise
        finally:
            self._task = None

    def close(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
