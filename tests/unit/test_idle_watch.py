"""IdleWatch: the stream idle timeout with one timer per stream (service/llm/idle.py)."""

from __future__ import annotations

import asyncio

import pytest

from service.llm.idle import IdleWatch


def test_a_wait_that_lasts_the_idle_time_times_out() -> None:
    async def main() -> None:
        watch = IdleWatch(0.05)
        never: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        with pytest.raises(TimeoutError), watch.waiting():
            await never
        watch.close()

    asyncio.run(asyncio.wait_for(main(), 5))  # a watch that never fires fails here


def test_each_wait_has_its_own_deadline_not_the_streams_total() -> None:
    async def main() -> int:
        watch = IdleWatch(0.5)
        waits = 0
        for _ in range(12):  # 0.6 s in all, each wait far under the idle time
            with watch.waiting():
                await asyncio.sleep(0.05)
            waits += 1
        watch.close()
        return waits

    assert asyncio.run(main()) == 12


def test_the_timer_does_not_fire_between_waits() -> None:
    async def main() -> None:
        watch = IdleWatch(0.05)
        with watch.waiting():
            await asyncio.sleep(0)
        await asyncio.sleep(0.2)  # the consumer's own work: not a wait for the upstream
        with watch.waiting():
            await asyncio.sleep(0)
        watch.close()

    asyncio.run(main())


def test_a_cancellation_from_outside_stays_a_cancellation() -> None:
    async def main() -> None:
        watch = IdleWatch(10.0)

        async def consumer() -> None:
            with watch.waiting():
                await asyncio.sleep(10)

        task = asyncio.ensure_future(consumer())
        await asyncio.sleep(0.01)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        watch.close()

    asyncio.run(main())
