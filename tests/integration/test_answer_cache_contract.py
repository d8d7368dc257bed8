"""The answer cache contract, on the in-process and the Redis cache (real Redis, real model vectors).

Every test runs on both (``memory`` / ``redis``; ``-m "not redis"`` keeps the memory side), and random
store/lookup sequences (synthetic vectors) run on both at once must give equal results and counters at
every step. What is specific to one backend (namespace bounds and LRU recency in memory; the key
layout, the vector mirror, failures in Redis): ``test_answer_cache.py``; keys, thresholds and what
may be stored: ``tests/unit/test_answer_cache_rules.py``.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from knowledge.embedder import Embedder
from knowledge.schema import SearchFilters
from knowledge.settings import DEFAULT_MODEL
from service.caching import (
    SEMANTIC_THRESHOLDS,
    AnswerCache,
    CachedAnswer,
    CacheHit,
    CacheSettings,
    MemoryAnswerCache,
    RedisAnswerCache,
)
from tests.contracts import BACKENDS, SEQUENCES, Clock, Tick, fresh_redis, run_on_both

pytestmark = pytest.mark.anyio

# The service's semantic threshold for the test model (CACHE_SEMANTIC_THRESHOLD unset). The
# paraphrases below that must hit are at least 0.003 above it with the test model.
THRESHOLD = SEMANTIC_THRESHOLDS[DEFAULT_MODEL]
START = 1_000_000.0

Factory = Callable[..., AnswerCache]


@pytest.fixture
def clock() -> Clock:
    return Clock(START)


@pytest.fixture(params=BACKENDS)
async def make_cache(request: pytest.FixtureRequest, clock: Clock) -> AsyncIterator[Factory]:
    """Build a cache of the parametrised kind; the Redis one under this test's own key prefix.

    Each cache built gets its own sub-prefix, so two caches in one test never share entries.
    """
    if request.param == "memory":
        yield lambda **overrides: MemoryAnswerCache(
            CacheSettings(**{"semantic_threshold": THRESHOLD, **overrides}), clock=clock
        )
        return
    async with fresh_redis("answer-cache-contract") as (client, prefix):
        built = 0

        def build(**overrides: Any) -> AnswerCache:
            nonlocal built
            built += 1
            settings = CacheSettings(**{"semantic_threshold": THRESHOLD, **overrides})
            return RedisAnswerCache(client, settings, key_prefix=f"{prefix}{built}:", clock=clock)

        yield build


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


# --- the contract, both caches ---------------------------------------------------------------


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


# --- random store/lookup sequences, both caches step by step -------------------------------------

# Synthetic questions in clusters: within a cluster the vectors are close (above the threshold, all
# similarities distinct), across clusters far apart. A cluster holds at most 3 distinct questions, so
# a lookup never has more candidates than it checks (beyond that the two may legitimately differ: the
# Redis mirror keeps dead candidates until a lookup fetches them). Texts that normalise alike share
# their vector. Eviction is out of reach here (the backends' recency differs by design; see
# test_answer_cache.py): no namespace fills up.
CLUSTERS = [
    ["How do I cancel my order?", "how do I cancel my order", "How can I cancel my order?"],
    ["refund for order 123", "Refund for my order 123!", "refund for order 456"],
    ["Where is my parcel?"],
    ["Can I change my address?", "May I change my address?"],
    ["my email is jane@example.com, where is my refund?"],  # never stored: personal data
]
QUESTIONS = [q for cluster in CLUSTERS for q in cluster]
SYNTHETIC_THRESHOLD = 0.95


def _vectors() -> dict[str, np.ndarray]:
    rng = np.random.default_rng(7)
    out: dict[str, np.ndarray] = {}
    for cluster in CLUSTERS:
        centre = rng.normal(size=24)
        for question in cluster:
            key = " ".join(question.lower().rstrip("?!").split())
            if key not in out:
                v = centre / np.linalg.norm(centre) + 0.08 * rng.normal(size=24) / np.sqrt(24)
                out[key] = (v / np.linalg.norm(v)).astype(np.float32)
            out[question] = out[key]
    return out


VECTORS = _vectors()


@dataclass(frozen=True)
class Store:
    question: int
    vector: bool
    language: str
    kb_version: int
    tag: int


@dataclass(frozen=True)
class Lookup:
    question: int
    vector: bool
    language: str
    kb_version: int


@dataclass(frozen=True)
class Exact:
    question: int
    language: str
    kb_version: int


@dataclass(frozen=True)
class Clear:
    pass


questions = st.integers(0, len(QUESTIONS) - 1)
# Mostly one namespace, so stores and lookups meet; mostly with a vector, so semantic hits happen;
# mostly stores and lookups, a clear now and then (the kind is drawn from a weighted list).
languages = st.sampled_from(["en"] * 6 + ["es"])
versions = st.sampled_from([1] * 6 + [2])
vectors = st.sampled_from([True, True, True, False])
KINDS: dict[str, st.SearchStrategy[object]] = {
    "store": st.builds(Store, questions, vectors, languages, versions, st.integers(0, 3)),
    "lookup": st.builds(Lookup, questions, vectors, languages, versions),
    "exact": st.builds(Exact, questions, languages, versions),
    "tick": st.builds(Tick, st.sampled_from([10.0, 150.0])),  # the TTL is 300 s
    "clear": st.just(Clear()),
}
WEIGHTS = ["store"] * 6 + ["lookup"] * 8 + ["exact"] * 2 + ["tick"] * 3 + ["clear"]
operations = st.sampled_from(WEIGHTS).flatmap(KINDS.__getitem__)


def _seen(hit: CacheHit | None) -> object:
    if hit is None:
        return None
    return hit.match, hit.question, hit.answer, hit.stored_at, round(hit.similarity, 5)


async def _step(cache: AnswerCache, op: object) -> object:
    result: object = None
    match op:
        case Store(q, with_vector, language, kb_version, tag):
            text = QUESTIONS[q]
            vector = VECTORS[text] if with_vector else None
            result = await cache.store(
                text,
                answer(f"answer {tag}"),
                language=language,
                filters=None,
                kb_version=kb_version,
                vector=vector,
            )
        case Lookup(q, with_vector, language, kb_version):
            text = QUESTIONS[q]
            vector = VECTORS[text] if with_vector else None
            hit = await cache.lookup(
                text, language=language, filters=None, kb_version=kb_version, vector=vector
            )
            result = _seen(hit)
        case Exact(q, language, kb_version):
            hit = await cache.exact(QUESTIONS[q], language=language, filters=None, kb_version=kb_version)
            result = _seen(hit)
        case Clear():
            await cache.clear()
        case _:
            raise AssertionError(op)
    return result, asdict(cache.stats)


def test_synthetic_vectors_form_the_clusters_described() -> None:
    for cluster in CLUSTERS:
        distinct = {VECTORS[q].tobytes(): VECTORS[q] for q in cluster}
        sims = [float(a @ b) for a in distinct.values() for b in distinct.values() if a is not b]
        assert all(s >= SYNTHETIC_THRESHOLD + 0.005 for s in sims)
        assert len(set(np.round(sims, 4))) == len(sims) // 2  # symmetric pairs only: no ties
    for one in CLUSTERS:
        for other in CLUSTERS:
            if one is not other:
                assert float(VECTORS[one[0]] @ VECTORS[other[0]]) < 0.7


@pytest.mark.redis
@SEQUENCES
@given(ops=st.lists(operations, min_size=10, max_size=40), semantic=st.sampled_from([True, True, False]))
def test_random_sequences_give_the_same_results_on_both_caches(ops: list[object], semantic: bool) -> None:
    settings = CacheSettings(
        semantic=semantic,
        semantic_threshold=SYNTHETIC_THRESHOLD,
        ttl_s=300,
        max_entries=1000,
        max_namespaces=100,
    )

    run_on_both(
        "answer-cache-contract",
        ops,
        start=START,
        memory=lambda clock: MemoryAnswerCache(settings, clock=clock),
        redis=lambda client, prefix, clock: RedisAnswerCache(
            client, settings, key_prefix=prefix, clock=clock
        ),
        step=_step,
    )
