"""Helpers for the backend contract tests: one interface, a memory and a Redis implementation.

Each contract module parametrises its fixture with ``BACKENDS``: the ``redis`` case carries the
``redis`` marker, so ``-m "not redis"`` runs the memory side alone (the fast lane). ``compare_steps``
runs one random operation sequence (hypothesis) on both backends and checks every result is equal;
``fresh_redis`` gives each example its own key prefix and deletes it afterwards.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any, TypeVar

import pytest
import redis.asyncio as aioredis
from hypothesis import HealthCheck, settings

from service.core.redis_keys import delete_prefixed

REDIS_URL = "redis://127.0.0.1:6379/0"

BACKENDS = ["memory", pytest.param("redis", marks=pytest.mark.redis)]

# Random sequences: reproducible (derandomized, no example database in the tree), no deadline (Redis
# round trips on a shared machine), few enough examples that a module stays within seconds.
SEQUENCES = settings(
    max_examples=60,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[HealthCheck.too_slow],
)


class Clock:
    """A clock that moves only when a test moves it."""

    def __init__(self, now: float) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


@asynccontextmanager
async def fresh_redis(name: str) -> AsyncIterator[tuple[aioredis.Redis, str]]:
    """A client and a key prefix of this example's own; every key under it is deleted afterwards."""
    client = aioredis.from_url(REDIS_URL)
    prefix = f"test-{name}:{uuid.uuid4().hex}:"
    try:
        yield client, prefix
    finally:
        await delete_prefixed(client, prefix)
        await client.aclose()


B = TypeVar("B")


@dataclass(frozen=True)
class Tick:
    """An operation of every random sequence: each side's clock moves on by ``seconds``."""

    seconds: float


async def compare_steps(
    ops: Sequence[object],
    memory: tuple[B, Clock],
    redis: tuple[B, Clock],
    step: Callable[[B, Any], Awaitable[Any]],
) -> None:
    """Apply each operation to both backends in turn; their results must be equal at every step.
    A ``Tick`` moves both sides' clocks instead."""
    for n, op in enumerate(ops):
        if isinstance(op, Tick):
            memory[1].now += op.seconds
            redis[1].now += op.seconds
            continue
        expected = await step(memory[0], op)
        got = await step(redis[0], op)
        assert got == expected, f"step {n} {op!r}: memory gave {expected!r}, redis gave {got!r}"


def run_on_both(
    name: str,
    ops: Sequence[object],
    *,
    start: float,
    memory: Callable[[Clock], B],
    redis: Callable[[aioredis.Redis, str, Clock], B],
    step: Callable[[B, Any], Awaitable[Any]],
) -> None:
    """One random sequence (a hypothesis example) on a fresh memory backend and a fresh Redis one
    (its own key prefix), each on its own logical clock starting at ``start``, compared step by step."""

    async def run() -> None:
        async with fresh_redis(name) as (client, prefix):
            mclock, rclock = Clock(start), Clock(start)
            await compare_steps(ops, (memory(mclock), mclock), (redis(client, prefix, rclock), rclock), step)

    asyncio.run(run())
