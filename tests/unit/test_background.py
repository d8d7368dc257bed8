"""The shared bounded background queue (service/core/background.py): batches, overflow policies,
drain on shutdown, and that nothing is raised to the producer."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Sequence

import pytest

from service.core.background import BackgroundQueue, DropReason


class Handler:
    """Records the batches it is given; ``gate`` (when set) holds every batch until it opens."""

    def __init__(self, *, gate: asyncio.Event | None = None, fail_on: int | None = None) -> None:
        self.batches: list[list[int]] = []
        self.gate = gate
        self.fail_on = fail_on
        self.started = asyncio.Event()

    async def __call__(self, items: list[int]) -> None:
        self.started.set()
        if self.gate is not None:
            await self.gate.wait()
        if self.fail_on in items:
            raise ValueError(f"bad item {self.fail_on}")
        self.batches.append(list(items))

    @property
    def handled(self) -> list[int]:
        return [item for batch in self.batches for item in batch]


class Drops:
    def __init__(self) -> None:
        self.by_reason: dict[DropReason, list[int]] = {}

    def __call__(self, items: Sequence[int], reason: DropReason) -> None:
        self.by_reason.setdefault(reason, []).extend(items)


def test_items_are_handled_in_order_in_batches() -> None:
    handler = Handler()

    async def run() -> None:
        queue = BackgroundQueue("t", handler, maxsize=100, batch_size=4)
        for n in range(10):  # queued before the worker runs: it takes them 4 at a time
            assert queue.offer(n)
        queue.start()
        await queue.join()
        assert queue.pending == 0
        await queue.aclose(timeout_s=5)

    asyncio.run(run())
    assert handler.batches == [[0, 1, 2, 3], [4, 5, 6, 7], [8, 9]]


def test_drop_policy_drops_when_full_and_after_close() -> None:
    drops = Drops()
    handler = Handler()

    async def run() -> None:
        queue = BackgroundQueue("t", handler, maxsize=3, on_drop=drops)
        queue.start()
        results = [queue.offer(n) for n in range(5)]  # no await: the worker cannot take any yet
        assert results == [True, True, True, False, False]
        assert await queue.put(5) is False  # "drop": put does not wait either
        await queue.aclose(timeout_s=5)
        assert queue.offer(6) is False

    asyncio.run(run())
    assert handler.handled == [0, 1, 2]
    assert drops.by_reason == {"full": [3, 4, 5], "closed": [6]}


def test_block_policy_waits_for_room() -> None:
    gate = asyncio.Event()
    handler = Handler(gate=gate)
    drops = Drops()

    async def run() -> None:
        queue = BackgroundQueue("t", handler, maxsize=1, overflow="block", on_drop=drops)
        queue.start()
        await queue.put(0)
        await handler.started.wait()  # 0 is in flight, the queue is empty
        await queue.put(1)  # fills the queue
        blocked = asyncio.create_task(queue.put(2))
        await asyncio.sleep(0)
        assert not blocked.done() and queue.pending == 1
        gate.set()  # the worker moves on: room for 2
        assert await asyncio.wait_for(blocked, timeout=5) is True
        await queue.aclose(timeout_s=5)

    asyncio.run(run())
    assert handler.handled == [0, 1, 2]
    assert drops.by_reason == {}


def test_shutdown_drains_what_is_queued() -> None:
    handler = Handler()
    drops = Drops()

    async def run() -> None:
        queue = BackgroundQueue("t", handler, maxsize=100, workers=3, on_drop=drops)
        queue.start()
        for n in range(50):
            queue.offer(n)
        await queue.aclose(timeout_s=5)  # no join first: aclose itself waits for the queue

    asyncio.run(run())
    assert sorted(handler.handled) == list(range(50))
    assert drops.by_reason == {}


def test_shutdown_after_the_drain_time_reports_in_flight_and_queued_items() -> None:
    handler = Handler(gate=asyncio.Event())  # never opens
    drops = Drops()

    async def run() -> None:
        queue = BackgroundQueue("t", handler, maxsize=10, on_drop=drops)
        queue.start()
        for n in range(3):
            queue.offer(n)
        await handler.started.wait()
        await asyncio.wait_for(queue.aclose(timeout_s=0.01), timeout=5)
        assert not queue.started and queue.closed

    asyncio.run(run())
    assert drops.by_reason == {"cancelled": [0], "unfinished": [1, 2]}


def test_items_queued_but_never_started_are_reported_at_close() -> None:
    drops = Drops()

    async def run() -> None:
        queue = BackgroundQueue("t", Handler(), maxsize=10, on_drop=drops)
        queue.offer(1)
        await queue.aclose(timeout_s=5)
        queue.start()  # closed: stays stopped
        assert not queue.started

    asyncio.run(run())
    assert drops.by_reason == {"unfinished": [1]}


def test_a_failing_handler_is_logged_and_the_worker_goes_on(caplog: pytest.LogCaptureFixture) -> None:
    handler = Handler(fail_on=1)

    async def run() -> None:
        queue = BackgroundQueue("t", handler, maxsize=10)
        queue.start()
        for n in range(3):
            queue.offer(n)
            await queue.join()
        await queue.aclose(timeout_s=5)

    with caplog.at_level(logging.ERROR, logger="service.core.background"):
        asyncio.run(run())
    assert handler.handled == [0, 2]  # 1 failed, the worker went on
    messages = [r.getMessage() for r in caplog.records]
    assert any("t: handling 1 item(s) failed" in m for m in messages)


def test_a_failing_on_drop_is_logged(caplog: pytest.LogCaptureFixture) -> None:
    def broken_on_drop(items: Sequence[int], reason: DropReason) -> None:
        raise RuntimeError("metrics down")

    async def run() -> None:
        queue = BackgroundQueue("t", Handler(), maxsize=1, on_drop=broken_on_drop)
        queue.offer(0)
        assert queue.offer(1) is False

    with caplog.at_level(logging.ERROR, logger="service.core.background"):
        asyncio.run(run())
    assert any("on_drop failed for 1 item(s) (full)" in r.getMessage() for r in caplog.records)


def test_start_needs_a_running_loop_and_sizes_are_checked() -> None:
    queue = BackgroundQueue("t", Handler(), maxsize=1)
    with pytest.raises(RuntimeError):
        queue.start()
    with pytest.raises(ValueError, match="at least 1"):
        BackgroundQueue("t", Handler(), maxsize=0)


def test_a_lingering_worker_gathers_what_arrives_meanwhile_into_one_batch() -> None:
    handler = Handler()

    async def run() -> None:
        queue = BackgroundQueue("t", handler, maxsize=100, batch_size=50, linger_s=60)
        queue.start()
        queue.offer(0)
        await asyncio.sleep(0)  # the worker takes item 0 and lingers
        for n in range(1, 5):  # arrive while it waits
            queue.offer(n)
        queue.hurry()  # without this it would wait its full 60 s
        await asyncio.wait_for(queue.join(), timeout=10)
        await queue.aclose(timeout_s=5)

    asyncio.run(run())
    assert handler.batches == [[0, 1, 2, 3, 4]]


def test_a_full_batch_does_not_linger_and_close_cuts_the_wait_short() -> None:
    handler = Handler()

    async def run() -> None:
        queue = BackgroundQueue("t", handler, maxsize=100, batch_size=3, linger_s=60)
        for n in range(4):  # a full batch of 3 is written at once; item 3 waits for more
            queue.offer(n)
        queue.start()
        while len(handler.batches) < 1:
            await asyncio.sleep(0)
        assert handler.batches == [[0, 1, 2]]
        await asyncio.wait_for(queue.aclose(timeout_s=30), timeout=10)  # drains item 3 at once

    asyncio.run(run())
    assert handler.batches == [[0, 1, 2], [3]]
    with pytest.raises(ValueError, match="linger_s"):
        BackgroundQueue("t", handler, maxsize=1, linger_s=-1)
