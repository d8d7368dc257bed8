"""Helpers for the backend contract tests: one interface, a memory and a Redis implementation.

Each contract module parametrises its fixture with ``BACKENDS``: the ``redis`` case carries the
``redis`` marker, so ``-m "not redis"`` runs the memory side alone (the fast lane). ``compare_steps``
runs one random operation sequence (hypothesis) on both backends and checks every result is equal;
``fresh_redis`` gives each example its own key prefix and deletes it afterwards.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from contextlib import asynccontextmanager
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
Op = TypeVar("Op")


async def compare_steps(
    ops: Sequence[Op], memory: B, redis: B, step: Callable[[B, Op], Awaitable[Any]]
) -> None:
    """Apply each operation to both backends in turn; their results must be equal at every step."""
    for n, op in enumerate(ops):
        expected = await step(memory, op)
        got = await step(redis, op)
        assert got == expected, f"step {n} {op!r}: memory gave {expected!r}, redis gave {got!r}"
