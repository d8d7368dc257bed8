"""Answer cache, what is specific to each backend: namespace bounds and LRU recency in memory; in
Redis the key layout and trim, replicas sharing entries through the vector mirror, unreadable
entries, failures and the client it needs. The contract both share: ``test_answer_cache_contract.py``.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
import redis.asyncio as aioredis

from knowledge.errors import ConfigError
from service.caching import CacheKey, CacheSettings, MemoryAnswerCache, RedisAnswerCache, build_answer_cache
from tests.contracts import REDIS_URL, Clock
from tests.integration.test_answer_cache_contract import THRESHOLD, answer, clock, embed, get, put

__all__ = ["clock", "embed"]  # fixtures shared with the contract module

pytestmark = pytest.mark.anyio


async def _redis_keys(redis: aioredis.Redis, prefix: str, part: str = "") -> list[bytes]:
    return [k async for k in redis.scan_iter(match=f"{prefix}*{part}*", count=500)]


async def test_memory_bounds_namespaces(clock: Clock) -> None:
    cache = MemoryAnswerCache(CacheSettings(max_namespaces=2), clock=clock)
    for version in (1, 2, 3):
        await put(cache, "refund time", kb_version=version)
    assert len(cache) == 2
    assert await get(cache, "refund time", kb_version=1) is None
    assert await get(cache, "refund time", kb_version=3) is not None


async def test_memory_lru_an_exact_hit_refreshes_an_entry(clock: Clock) -> None:
    """In memory an exact hit keeps an entry (LRU); Redis keeps the newest *stored* (no write on a hit)."""
    cache = MemoryAnswerCache(CacheSettings(max_entries=2), clock=clock)
    await put(cache, "first question")
    await put(cache, "second question")
    assert await get(cache, "first question") is not None  # used again: "second" is now the oldest
    await put(cache, "third question")
    assert [await get(cache, q) is not None for q in ("first question", "second question")] == [True, False]


async def test_redis_trim_deletes_entries_vectors_and_members(
    redis: aioredis.Redis, prefix: str, clock: Clock, embed: Any
) -> None:
    cache = RedisAnswerCache(
        redis, CacheSettings(max_entries=3, semantic_threshold=THRESHOLD), key_prefix=prefix, clock=clock
    )
    questions = [f"question number {n} about refunds" for n in range(5)]
    for q in questions:
        clock.now += 1
        await put(cache, q, embed(q))
    assert len(await _redis_keys(redis, prefix, ":e:")) == 3
    ns = CacheKey.build(questions[0], "en", None, 3).namespace
    assert await redis.hlen(cache._key(ns, "v")) == 3
    assert await redis.zcard(cache._key(ns, "q")) == 3
    assert await redis.zcard(cache._key(ns, "t")) == 3


async def test_redis_replicas_share_entries_and_sync_vectors(
    redis: aioredis.Redis, prefix: str, clock: Clock, embed: Any
) -> None:
    settings = CacheSettings(semantic_threshold=THRESHOLD)
    a = RedisAnswerCache(redis, settings, key_prefix=prefix, clock=clock)
    b = RedisAnswerCache(redis, settings, key_prefix=prefix, clock=clock)
    q1, p1 = "How do I cancel my order?", "How can I cancel my order?"
    q2, p2 = "i want a refund for order 123", "i would like a refund for order 123"
    await a.store(q1, answer("cancel"), language="en", filters=None, kb_version=1, vector=embed(q1))
    hit = await b.lookup(p1, language="en", filters=None, kb_version=1, vector=embed(p1))
    assert hit is not None and hit.answer.answer == "cancel"
    # b's mirror is current; a later store on a reaches b through the incremental sync
    await a.store(q2, answer("refund"), language="en", filters=None, kb_version=1, vector=embed(q2))
    hit = await b.lookup(p2, language="en", filters=None, kb_version=1, vector=embed(p2))
    assert hit is not None and hit.answer.answer == "refund" and hit.match == "semantic"
    # the namespace disappears (expiry or flush) and starts again: b notices and resyncs
    await a.clear()
    await a.store(q1, answer("cancel v2"), language="en", filters=None, kb_version=1, vector=embed(q1))
    await b.lookup("unrelated", language="en", filters=None, kb_version=1, vector=embed("unrelated"))
    hit = await b.lookup(p1, language="en", filters=None, kb_version=1, vector=embed(p1))
    assert hit is not None and hit.answer.answer == "cancel v2"
    assert await b.lookup(p2, language="en", filters=None, kb_version=1, vector=embed(p2)) is None
    # ...and keeps following the new sequence from where it restarted
    await a.store(q2, answer("refund v2"), language="en", filters=None, kb_version=1, vector=embed(q2))
    hit = await b.lookup(p2, language="en", filters=None, kb_version=1, vector=embed(p2))
    assert hit is not None and hit.answer.answer == "refund v2"


async def test_redis_mirror_follows_the_trim(
    redis: aioredis.Redis, prefix: str, clock: Clock, embed: Any
) -> None:
    settings = CacheSettings(max_entries=2, semantic_threshold=THRESHOLD)
    writer = RedisAnswerCache(redis, settings, key_prefix=prefix, clock=clock)
    reader = RedisAnswerCache(redis, settings, key_prefix=prefix, clock=clock)
    for n in range(5):
        q = f"question {n} about refunds"
        await writer.store(q, answer(), language="en", filters=None, kb_version=1, vector=embed(q))
        await reader.lookup("probe", language="en", filters=None, kb_version=1, vector=embed("probe"))
    (mirror,) = reader._mirrors.values()
    assert len(mirror.rows) == 2 and mirror.seq == 5


async def test_redis_vectors_are_float32_bytes(redis: aioredis.Redis, prefix: str, embed: Any) -> None:
    cache = RedisAnswerCache(redis, CacheSettings(), key_prefix=prefix)
    vector = embed("refund time")
    await put(cache, "refund time", vector)
    key = CacheKey.build("refund time", "en", None, 3)
    raw = await redis.hget(cache._key(key.namespace, "v"), key.id)
    assert isinstance(raw, bytes) and len(raw) == 4 * vector.shape[0]
    assert np.allclose(np.frombuffer(raw, dtype="<f4"), vector, atol=1e-6)
    ttl = await redis.pttl(cache._key(key.namespace, "e:") + key.id)
    assert 0 < ttl <= 86_400_000


async def test_redis_unreadable_entry_is_a_miss(redis: aioredis.Redis, prefix: str) -> None:
    cache = RedisAnswerCache(redis, CacheSettings(), key_prefix=prefix)
    await put(cache, "refund time")
    key = CacheKey.build("refund time", "en", None, 3)
    await redis.set(cache._key(key.namespace, "e:") + key.id, b'{"question": "refund time"}')
    assert await get(cache, "refund time") is None
    assert cache.stats.misses == 1 and cache.stats.errors == 0


async def test_redis_failure_is_a_miss_not_an_error() -> None:
    dead = aioredis.from_url("redis://127.0.0.1:1/0", socket_connect_timeout=0.5)
    try:
        cache = RedisAnswerCache(dead, CacheSettings(), key_prefix="test-answer-cache:dead:")
        assert await get(cache, "refund time", np.ones(4, dtype=np.float32)) is None
        assert await cache.exact("refund time", language="en", filters=None, kb_version=1) is None
        assert not await put(cache, "refund time", np.ones(4, dtype=np.float32))
        assert cache.stats.errors == 3 and cache.stats.misses == 1
    finally:
        await dead.aclose()


async def test_redis_client_must_return_bytes() -> None:
    client = aioredis.from_url(REDIS_URL, decode_responses=True)
    try:
        with pytest.raises(ConfigError):
            RedisAnswerCache(client, CacheSettings())
    finally:
        await client.aclose()


async def test_factory_picks_the_backend(redis: aioredis.Redis, prefix: str) -> None:
    assert isinstance(build_answer_cache(CacheSettings()), MemoryAnswerCache)
    cache = build_answer_cache(CacheSettings(), redis, key_prefix=prefix)
    assert isinstance(cache, RedisAnswerCache) and cache.prefix == prefix


async def test_redis_mirror_survives_probe_replies_read_out_of_order(
    redis: aioredis.Redis, prefix: str, clock: Clock, embed: Any
) -> None:
    """Two lookups in flight in one process: the later one's reply is read first. The earlier reply
    (an older sequence number) must not look like a namespace restart and wipe the mirror."""
    settings = CacheSettings(semantic_threshold=THRESHOLD)
    writer = RedisAnswerCache(redis, settings, key_prefix=prefix, clock=clock)
    reader = RedisAnswerCache(redis, settings, key_prefix=prefix, clock=clock)
    questions = [f"question {n} about a refund" for n in range(1, 6)]

    async def store(question: str) -> None:
        await writer.store(
            question, answer(question), language="en", filters=None, kb_version=1, vector=embed(question)
        )

    async def lookup(question: str) -> Any:
        return await reader.lookup(
            question, language="en", filters=None, kb_version=1, vector=embed(question)
        )

    for q in questions[:3]:
        await store(q)
    await lookup("probe")  # the reader's mirror holds entries 1-3
    await store(questions[3])
    script = reader._probe_script
    interleaved = False

    async def probe_then_let_a_later_probe_finish_first(*, keys: list[str], args: list[Any]) -> Any:
        nonlocal interleaved
        reply = await script(keys=keys, args=args)  # this probe sees entries up to 4
        if not interleaved:
            interleaved = True
            await store(questions[4])
            await lookup("another probe")  # a later probe sees entry 5 and is read first
        return reply

    reader._probe_script = probe_then_let_a_later_probe_finish_first  # type: ignore[assignment]
    await lookup("yet another probe")
    (mirror,) = reader._mirrors.values()
    assert interleaved and mirror.seq == 5 and len(mirror.rows) == 5
    hit = await lookup("question 1 about the refund")
    assert hit is not None and hit.match == "semantic" and hit.answer.answer == questions[0]
