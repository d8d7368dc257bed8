"""A bounded background queue: work handed off by a caller that must not wait for it.

``BackgroundQueue(name, handle, maxsize=..., workers=..., batch_size=..., linger_s=...)`` runs
``workers`` tasks that take up to ``batch_size`` queued items at a time and ``await handle(items)``.
With ``linger_s`` a worker that found fewer than ``batch_size`` items waits that long for more
before handling them (fewer, larger batches under load: one database transaction for many rows);
``hurry()`` cuts the current wait short (a reader waiting for what is queued), and so does
``aclose``. The producer calls ``offer(item)`` (never blocks) or ``await put(item)`` (waits for room
when the overflow policy is ``"block"``). ``aclose(timeout_s)`` stops accepting items, lets the
workers finish what is queued for up to ``timeout_s`` seconds, then cancels them.

Nothing is raised to the producer and nothing is lost silently: every item that is not handled
goes to ``on_drop(items, reason)`` — the owner's log line and metric — with ``reason``:

- ``"full"``: the queue was full (overflow policy ``"drop"``);
- ``"closed"``: offered after ``aclose`` began;
- ``"cancelled"``: being handled when shutdown's drain time ran out;
- ``"unfinished"``: still queued when shutdown's drain time ran out.

An exception from ``handle`` is logged (with the queue's name) and the worker goes on; an owner
that wants to count failures catches them in ``handle``.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable, Sequence
from typing import Generic, Literal, TypeVar

log = logging.getLogger(__name__)

T = TypeVar("T")
Overflow = Literal["drop", "block"]
DropReason = Literal["full", "closed", "cancelled", "unfinished"]


def _log_drop(items: Sequence[object], reason: DropReason) -> None:
    log.warning("background queue: %d item(s) not handled (%s)", len(items), reason)


class BackgroundQueue(Generic[T]):
    """Bounded queue + worker tasks + drain on shutdown. Start it on the running loop."""

    def __init__(
        self,
        name: str,
        handle: Callable[[list[T]], Awaitable[None]],
        *,
        maxsize: int,
        workers: int = 1,
        batch_size: int = 1,
        linger_s: float = 0.0,
        overflow: Overflow = "drop",
        on_drop: Callable[[Sequence[T], DropReason], None] = _log_drop,
    ) -> None:
        if maxsize < 1 or workers < 1 or batch_size < 1:
            raise ValueError("maxsize, workers and batch_size must be at least 1")
        if linger_s < 0:
            raise ValueError("linger_s must not be negative")
        self.name = name
        self.overflow = overflow
        self._handle = handle
        self._on_drop = on_drop
        self._workers_wanted = workers
        self._batch_size = batch_size
        self._linger_s = linger_s
        self._hurry = asyncio.Event()
        self._queue: asyncio.Queue[T] = asyncio.Queue(maxsize=maxsize)
        self._workers: list[asyncio.Task[None]] = []
        self._closed = False

    @property
    def pending(self) -> int:
        """Items queued and not yet taken by a worker."""
        return self._queue.qsize()

    @property
    def closed(self) -> bool:
        return self._closed

    @property
    def started(self) -> bool:
        return bool(self._workers)

    def start(self) -> None:
        """Start the workers on the running loop (idempotent; a closed queue stays stopped).
        Raises ``RuntimeError`` outside a running loop."""
        if self._workers or self._closed:
            return
        asyncio.get_running_loop()
        self._workers = [
            asyncio.create_task(self._work(), name=f"{self.name}-{i}") for i in range(self._workers_wanted)
        ]

    # --- producer side ------------------------------------------------------------------------

    def offer(self, item: T) -> bool:
        """Queue ``item`` without waiting; False (and ``on_drop``) when full or closed."""
        if self._closed:
            self._drop([item], "closed")
            return False
        try:
            self._queue.put_nowait(item)
        except asyncio.QueueFull:
            self._drop([item], "full")
            return False
        return True

    async def put(self, item: T) -> bool:
        """Queue ``item``; with the ``"block"`` policy wait for room, else the same as ``offer``."""
        if self.overflow == "drop" or self._closed:
            return self.offer(item)
        await self._queue.put(item)
        return True

    def hurry(self) -> None:
        """Handle what is queued now: a worker lingering for a fuller batch stops waiting."""
        self._hurry.set()

    async def join(self) -> None:
        """Wait until every item queued so far has been handled."""
        await self._queue.join()

    # --- workers ------------------------------------------------------------------------------

    async def _work(self) -> None:
        while True:
            batch = [await self._queue.get()]
            if self._linger_s and self._queue.qsize() + 1 < self._batch_size and not self._closed:
                await self._linger()
            while len(batch) < self._batch_size and not self._queue.empty():
                batch.append(self._queue.get_nowait())
            try:
                await self._handle(batch)
            except asyncio.CancelledError:
                self._drop(batch, "cancelled")
                raise
            except Exception:
                log.exception("%s: handling %d item(s) failed", self.name, len(batch))
            finally:
                for _ in batch:
                    self._queue.task_done()

    async def _linger(self) -> None:
        """Wait up to ``linger_s`` for more items, or until ``hurry``."""
        if self._hurry.is_set():
            self._hurry.clear()
            return
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._hurry.wait(), self._linger_s)
        self._hurry.clear()

    # --- shutdown -----------------------------------------------------------------------------

    async def aclose(self, timeout_s: float) -> None:
        """Stop accepting items, handle what is queued for up to ``timeout_s``, then stop."""
        self._closed = True
        self._hurry.set()
        if self._workers:
            try:
                await asyncio.wait_for(self._queue.join(), timeout=timeout_s)
            except TimeoutError:
                log.warning(
                    "%s: shutdown after %.1fs with %d item(s) still queued",
                    self.name,
                    timeout_s,
                    self.pending,
                )
            for task in self._workers:
                task.cancel()
            await asyncio.gather(*self._workers, return_exceptions=True)
            self._workers = []
        left: list[T] = []
        while not self._queue.empty():
            left.append(self._queue.get_nowait())
            self._queue.task_done()
        if left:
            self._drop(left, "unfinished")

    def _drop(self, items: Sequence[T], reason: DropReason) -> None:
        try:
            self._on_drop(items, reason)
        except Exception:
            log.exception("%s: on_drop failed for %d item(s) (%s)", self.name, len(items), reason)
