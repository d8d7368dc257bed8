"""Answer cache: one contract, run against the in-process cache and real Redis; real model vectors."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

import numpy as np
import pytest
import redis.asyncio as aioredis

from knowledge.embedder import Embedder
from knowledge.errors import ConfigError
from knowledge.schema import SearchFilters
from knowledge.settings import DEFAULT_MODEL, PACKAGED_E5, PACKAGED_MINILM, EmbeddingSettings
from service.api.runtime import answer_cache_settings
from service.caching import (
    SEMANTIC_THRESHOLDS,
    AnswerCache,
    CachedAnswer,
    CacheKey,
    CacheSettings,
    MemoryAnswerCache,
    RedisAnswerCache,
    build_answer_cache,
    canonical_filters,
    identifiers,
    normalise_question,
    should_store,
)
from service.settings.app import AppSettings

pytestmark = pytest.mark.anyio

REDIS_URL = "redis://127.0.0.1:6379/0"

# The service's semantic threshold for the test model (CACHE_SEMANTIC_THRESHOLD unset). The
# paraphrases below that must hit are at least 0.003 above it with the test model.
THRESHOLD = SEMANTIC_THRESHOLDS[DEFAULT_MODEL]


class Clock:
    def __init__(self, now: float = 1_000_000.0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


async def _redis_keys(redis: aioredis.Redis, prefix: str, part: str = "") -> list[bytes]:
    return [k async for k in redis.scan_iter(match=f"{prefix}*{part}*", count=500)]


Factory = Callable[..., AnswerCache]


@pytest.fixture(params=["memory", "redis"])
def make_cache(request: pytest.FixtureRequest, clock: Clock, redis: aioredis.Redis, prefix: str) -> Factory:
    """Build a cache of the parametrised kind; the Redis one under this test's own key prefix.

    Each cache built gets its own sub-prefix, so two caches in one test never share entries.
    """
    built = 0

    def build(**overrides: Any) -> AnswerCache:
        nonlocal built
        built += 1
        settings = CacheSettings(**{"semantic_threshold": THRESHOLD, **overrides})
        if request.param == "memory":
            return MemoryAnswerCache(settings, clock=clock)
        return RedisAnswerCache(redis, settings, key_prefix=f"{prefix}{built}:", clock=clock)

    return build


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def embed(embedder: Embedder) -> Callable[[str], np.ndarray]:
    return embedder.embed_query


def answer(text: str = "Refunds reach your card within 5-10 business days [1].") -> CachedAnswer:
    return CachedAnswer(
        answer=text,
        citations=[{"index": 1, "doc_id": "en/refunds.md", "title": "Refunds", "score": 0.71, "quote": "…"}],
        language="en",
        mode="generative",
        model="claude-sonnet-4-6",
        usage={"input_tokens": 1200, "output_tokens": 80, "cost_usd": 0.0048},
        stop_reason="end_turn",
    )


async def put(
    cache: AnswerCache,
    question: str,
    vector: np.ndarray | None = None,
    *,
    language: str = "en",
    filters: Any = None,
    kb_version: int = 3,
    entry: CachedAnswer | None = None,
) -> bool:
    return await cache.store(
        question, entry or answer(), language=language, filters=filters, kb_version=kb_version, vector=vector
    )


def get(
    cache: AnswerCache,
    question: str,
    vector: np.ndarray | None = None,
    *,
    language: str = "en",
    filters: Any = None,
    kb_version: int = 3,
) -> Awaitable[Any]:
    return cache.lookup(question, language=language, filters=filters, kb_version=kb_version, vector=vector)


# --- keys -----------------------------------------------------------------------------------


def test_normalisation() -> None:
    assert normalise_question("  How LONG\tdoes a   refund take?? ") == "how long does a refund take"
    assert normalise_question("¿Cuánto tarda el reembolso?") == "cuánto tarda el reembolso"
    assert normalise_question("退款需要多久？") == "退款需要多久"
    assert (
        normalise_question("Ｒｅｆｕｎｄ　ＳＴＲＡＳＳＥ!") == "refund strasse"
    )  # NFKC + casefold (ß→ss too)
    assert normalise_question("Straße") == "strasse"
    assert normalise_question("order #123.") == "order #123"


def test_identifiers_are_tokens_with_digits() -> None:
    assert identifiers(normalise_question("Refund for order 123-45 of $1,299.99?")) == ("1,299.99", "123-45")
    assert identifiers("where is nw-ktl-110 and my 2 parcels") == ("2", "nw-ktl-110")
    assert identifiers("订单１２３４５退款") == ("12345",)  # full-width digits are digits
    assert identifiers("how do i return shoes") == ()


def test_filters_are_canonical() -> None:
    a = canonical_filters(SearchFilters(language=["es", "en"], tags=None))
    b = canonical_filters({"language": ["en", "es"], "tags": [], "doc_id": None})
    assert a == b == '{"language":["en","es"]}'
    assert canonical_filters(None) == canonical_filters({}) == canonical_filters(SearchFilters()) == "{}"
    k1 = CacheKey.build("Refund?", "EN", None, 1)
    assert k1 == CacheKey.build("refund", "en", {}, 1)
    assert k1.namespace != CacheKey.build("refund", "en", {"kind": "faq"}, 1).namespace
    assert k1.namespace != CacheKey.build("refund", "en", None, 2).namespace


# --- contract: both implementations ----------------------------------------------------------


async def test_exact_hit_replays_everything(make_cache: Factory) -> None:
    cache = make_cache()
    assert await get(cache, "How long does a refund take?") is None
    assert await put(cache, "How long does a refund take?")
    hit = await get(cache, "  how long does a REFUND take ")
    assert hit is not None
    assert (hit.match, hit.similarity, hit.question) == ("exact", 1.0, "How long does a refund take?")
    assert hit.answer == answer()
    assert hit.answer.usage["cost_usd"] == 0.0048 and hit.answer.citations[0]["doc_id"] == "en/refunds.md"
    assert (cache.stats.exact_hits, cache.stats.misses, cache.stats.stores) == (1, 1, 1)


async def test_exact_only_probe_before_embedding(make_cache: Factory, clock: Clock) -> None:
    cache = make_cache(ttl_s=60)
    assert await cache.exact("Refund time?", language="en", filters=None, kb_version=3) is None
    assert cache.stats.misses == 0  # not counted: the caller goes on to lookup() with the vector
    await put(cache, "refund time")
    hit = await cache.exact("REFUND time", language="en", filters=None, kb_version=3)
    assert hit is not None and hit.match == "exact" and cache.stats.exact_hits == 1
    assert await cache.exact("refund time", language="de", filters=None, kb_version=3) is None
    clock.now += 61
    assert await cache.exact("refund time", language="en", filters=None, kb_version=3) is None


async def test_namespaces_language_filters_and_kb_version(make_cache: Factory) -> None:
    cache = make_cache()
    await put(cache, "refund time", language="en", filters={"language": ["en", "es"]}, kb_version=3)
    assert await get(cache, "refund time", language="en", filters={"language": ["es", "en"]}) is not None
    assert await get(cache, "refund time", language="en", filters=SearchFilters(language=["en", "es"]))
    assert await get(cache, "refund time", language="es", filters={"language": ["en", "es"]}) is None
    assert await get(cache, "refund time", language="en", filters=None) is None
    # a new ingest bumps the version: the old entry is never served
    assert await get(cache, "refund time", filters={"language": ["en", "es"]}, kb_version=4) is None


async def test_ttl_expires_exact_and_semantic(make_cache: Factory, clock: Clock, embed: Any) -> None:
    cache = make_cache(ttl_s=600)
    q, p = "How do I cancel my order?", "How can I cancel my order?"
    await put(cache, q, embed(q))
    clock.now += 599
    assert await get(cache, q) is not None
    assert await get(cache, p, embed(p)) is not None
    clock.now += 2
    assert await get(cache, q) is None
    assert await get(cache, p, embed(p)) is None


async def test_semantic_hit_on_paraphrase_above_threshold(make_cache: Factory, embed: Any) -> None:
    stored, asked = "How long does a refund take?", "how long does it take to get a refund"
    similarity = float(embed(stored) @ embed(asked))
    assert 0.9 < similarity < 0.999  # the real model: a paraphrase, not the same text
    cache = make_cache(semantic_threshold=round(similarity - 0.01, 3))
    await put(cache, stored, embed(stored))
    await put(cache, "Can I change my delivery address?", embed("Can I change my delivery address?"))
    hit = await get(cache, asked, embed(asked))
    assert hit is not None and hit.match == "semantic" and hit.question == stored
    assert hit.similarity == pytest.approx(similarity, abs=1e-4)
    assert cache.stats.semantic_hits == 1

    strict = make_cache(semantic_threshold=round(similarity + 0.01, 3))
    await put(strict, stored, embed(stored))
    assert await get(strict, asked, embed(asked)) is None
    assert await get(strict, "where is my parcel", embed("where is my parcel")) is None


async def test_semantic_hit_requires_the_same_identifiers(make_cache: Factory, embed: Any) -> None:
    cache = make_cache(semantic_threshold=0.8)
    await put(cache, "I want a refund for order 123", embed("I want a refund for order 123"))
    other = "i want a refund for my order 456"
    assert float(embed(other) @ embed("I want a refund for order 123")) > 0.8
    assert await get(cache, other, embed(other)) is None  # similar, but a different order
    same = await get(cache, "i want a refund for my order 123", embed("i want a refund for my order 123"))
    assert same is not None and same.match == "semantic"
    # one identifier more is not the same question either
    extra = "i want a refund for my order 123 of 50 euros"
    assert await get(cache, extra, embed(extra)) is None


async def test_default_threshold_serves_paraphrases_not_near_misses(make_cache: Factory, embed: Any) -> None:
    """The test model at the service's threshold: close paraphrases are served, questions that ask
    something else (another intent, product or time) are not, though each is within 0.95 (the
    threshold chosen for all-MiniLM-L6-v2) of a cached question."""
    cache = make_cache()
    stored = [
        "How do I cancel my order?",
        "Where can I download my invoice?",
        "Can I return opened earbuds?",
        "i want a refund for order 123",
        "How many people were originally part of Panic! At The Disco?",
    ]
    for q in stored:
        await put(cache, q, embed(q))
    paraphrases = {
        "How can I cancel my order?": stored[0],
        "Where do I download my invoice?": stored[1],
        "Can I return my opened earbuds?": stored[2],
        "i would like a refund for order 123": stored[3],
    }
    for asked, expected in paraphrases.items():
        hit = await get(cache, asked, embed(asked))
        assert hit is not None and hit.match == "semantic" and hit.question == expected, asked
    near_misses = [
        "Where can I see my invoice?",
        "Can I return opened headphones?",
        "i want to track the refund for order 123",
        "How many members are currently in Panic! At The Disco?",
    ]
    for asked in near_misses:
        assert max(float(embed(asked) @ embed(q)) for q in stored) >= 0.95, asked
        assert await get(cache, asked, embed(asked)) is None, asked


def test_semantic_threshold_is_per_model(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("CACHE_SEMANTIC_THRESHOLD", raising=False)
    unset = CacheSettings()
    assert unset.semantic_threshold is None and not unset.semantic_on
    assert unset.for_model(PACKAGED_E5).semantic_threshold == 0.99
    assert unset.for_model(PACKAGED_MINILM).semantic_threshold == 0.96
    assert unset.for_model(DEFAULT_MODEL).semantic_on
    other = unset.for_model("intfloat/multilingual-e5-large")  # not measured: exact hits only
    assert other.semantic_threshold is None and not other.semantic_on
    assert CacheSettings(semantic_threshold=0.97).for_model(PACKAGED_E5).semantic_threshold == 0.97
    assert not CacheSettings(semantic=False).for_model(PACKAGED_E5).semantic_on
    monkeypatch.setenv("CACHE_SEMANTIC_THRESHOLD", "")
    assert CacheSettings().semantic_threshold is None
    monkeypatch.setenv("CACHE_SEMANTIC_THRESHOLD", "0.93")
    assert CacheSettings().for_model(PACKAGED_E5).semantic_threshold == 0.93


def test_service_resolves_the_threshold_for_its_model(caplog: pytest.LogCaptureFixture) -> None:
    default = AppSettings(cache=CacheSettings(), embedding=EmbeddingSettings())
    assert answer_cache_settings(default).semantic_threshold == SEMANTIC_THRESHOLDS[DEFAULT_MODEL]
    other = AppSettings(cache=CacheSettings(), embedding=EmbeddingSettings(model="acme/other-model"))
    with caplog.at_level("WARNING", logger="service.api.runtime"):
        assert answer_cache_settings(other).semantic_threshold is None
    assert "no semantic threshold is known for EMBEDDING_MODEL=acme/other-model" in caplog.text
    chosen = AppSettings(cache=CacheSettings(semantic_threshold=0.9), embedding=EmbeddingSettings())
    assert answer_cache_settings(chosen).semantic_threshold == 0.9


async def test_semantic_off_and_no_vector_mean_exact_only(make_cache: Factory, embed: Any) -> None:
    q, p = "How do I cancel my order?", "How can I cancel my order?"
    assert await get(make_cache(), p, embed(p)) is None
    off = make_cache(semantic=False)
    await put(off, q, embed(q))
    assert await get(off, p, embed(p)) is None and await get(off, q) is not None
    unresolved = make_cache(semantic_threshold=None)  # a model without a measured threshold
    await put(unresolved, q, embed(q))
    assert await get(unresolved, p, embed(p)) is None and await get(unresolved, q) is not None
    control = make_cache()
    await put(control, q, embed(q))
    assert await get(control, p, embed(p)) is not None  # the same paraphrase, semantic on
    on = make_cache()
    await put(on, q)  # stored without a vector: exact only
    assert await get(on, p, embed(p)) is None
    await put(on, "something else entirely", embed("something else entirely"))
    assert await get(on, p, np.ones(7, dtype=np.float32)) is None  # another model's dimension: no match


async def test_entries_per_namespace_are_bounded(make_cache: Factory, clock: Clock, embed: Any) -> None:
    cache = make_cache(max_entries=3)
    questions = [f"question number {n} about refunds" for n in range(5)]
    asked = "question number 0 about the refunds"
    for n, q in enumerate(questions):
        clock.now += 1
        await put(cache, q, embed(q))
        if n == 0:  # a semantic hit while the entry is cached
            hit = await get(cache, asked, embed(asked))
            assert hit is not None and hit.match == "semantic" and hit.question == q
    assert [await get(cache, q) is not None for q in questions] == [False, False, True, True, True]
    # an evicted entry is not found semantically either (its identifiers match, its vector is gone)
    assert await get(cache, asked, embed(asked)) is None
    if isinstance(cache, RedisAnswerCache):
        entries = await _redis_keys(cache.redis, cache.prefix, ":e:")
        assert len(entries) == 3
        ns = CacheKey.build(questions[0], "en", None, 3).namespace
        assert await cache.redis.hlen(cache._key(ns, "v")) == 3
        assert await cache.redis.zcard(cache._key(ns, "q")) == 3


async def test_restore_replaces_entry(make_cache: Factory) -> None:
    cache = make_cache()
    await put(cache, "refund time", entry=answer("first"))
    await put(cache, "Refund time?", entry=answer("second"))
    hit = await get(cache, "refund time")
    assert hit is not None and hit.answer.answer == "second"


async def test_disabled_and_pii_refused(make_cache: Factory) -> None:
    off = make_cache(answers=False)
    assert not await put(off, "refund time")
    assert await get(off, "refund time") is None
    assert off.stats.misses == 0
    cache = make_cache()
    assert not await put(cache, "my email is jane@example.com, where is my refund?")
    assert await get(cache, "my email is jane@example.com, where is my refund?") is None


async def test_clear(make_cache: Factory) -> None:
    cache = make_cache()
    await put(cache, "refund time")
    await cache.clear()
    assert await get(cache, "refund time") is None


# --- implementation specifics ---------------------------------------------------------------


async def test_memory_bounds_namespaces(clock: Clock) -> None:
    cache = MemoryAnswerCache(CacheSettings(max_namespaces=2), clock=clock)
    for version in (1, 2, 3):
        await put(cache, "refund time", kb_version=version)
    assert len(cache) == 2
    assert await get(cache, "refund time", kb_version=1) is None
    assert await get(cache, "refund time", kb_version=3) is not None


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


# --- what may be stored ---------------------------------------------------------------------


def test_should_store() -> None:
    q, a = "How long does a refund take?", "Refunds take 5-10 business days [1]."
    assert should_store(q, a, False, "generative", stop_reason="end_turn")
    assert should_store(q, a, False, "extractive", stop_reason="extractive")
    assert should_store(q, a, False, "generative")
    assert not should_store(q, a, True, "generative")  # handoff
    assert not should_store(q, a, False, "cached")  # a replay
    assert not should_store(q, a, False, "error")
    assert not should_store(q, "  ", False, "generative")
    assert not should_store(q, a, False, "extractive", stop_reason="no_relevant_passages")
    assert not should_store(q, a, False, "generative", stop_reason="max_tokens")
    # personal data in the question, raw or already redacted
    assert not should_store("refund to 4111 1111 1111 1111?", a, False, "generative")
    assert not should_store("my email is [email], where is my refund?", a, False, "generative")
    # personal data in the answer: refused unless it is quoted from the cited sources
    leaked = "We will call you at +44 20 7946 0999 about your refund."
    assert not should_store(q, leaked, False, "generative")
    published = "Write to help@northwind.example or call +44 20 7946 0321."
    sources = ["Contact: help@northwind.example, phone +44 20 7946 0321 (Mon-Fri)."]
    assert should_store(q, published, False, "generative", sources=sources)
    assert not should_store(q, published, False, "generative", sources=["Contact: help@northwind.example"])


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
