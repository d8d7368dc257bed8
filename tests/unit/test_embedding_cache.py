"""Query-embedding cache: LRU bounds, keys, counters, thread safety, and the real model behind it."""

from __future__ import annotations

import threading

import numpy as np
import pytest

from knowledge.embedder import Embedder
from service.retrieval.vector_cache import EmbeddingCache, embed_queries_cached, normalise_text


def vec(*values: float) -> np.ndarray:
    return np.asarray(values, dtype=np.float32)


def test_get_put_and_counters() -> None:
    cache = EmbeddingCache(8)
    assert cache.get("m", "refund time") is None
    cache.put("m", "refund time", vec(1, 0))
    got = cache.get("m", "  refund\n time ")  # same text after whitespace normalisation
    assert got is not None and np.array_equal(got, vec(1, 0))
    assert cache.get("other-model", "refund time") is None  # keyed by model too
    assert cache.get("m", "Refund time") is None  # not casefolded: a cased model would differ
    stats = cache.stats
    assert (stats.hits, stats.misses, stats.size, stats.capacity) == (1, 3, 1, 8)
    assert stats.hit_rate == pytest.approx(0.25)


def test_lru_eviction_keeps_recently_used() -> None:
    cache = EmbeddingCache(2)
    cache.put("m", "a", vec(1))
    cache.put("m", "b", vec(2))
    assert cache.get("m", "a") is not None  # a is now the most recent
    cache.put("m", "c", vec(3))
    assert cache.get("m", "b") is None
    assert cache.get("m", "a") is not None and cache.get("m", "c") is not None
    assert len(cache) == 2


def test_entries_cannot_be_changed_by_callers() -> None:
    cache = EmbeddingCache(2)
    source = vec(1, 2)
    cache.put("m", "a", source)
    source[0] = 99  # the caller's array is not the stored one
    got = cache.get("m", "a")
    assert got is not None and got[0] == 1
    with pytest.raises(ValueError, match="read-only"):
        got[0] = 5


def test_zero_size_is_off() -> None:
    cache = EmbeddingCache(0)
    cache.put("m", "a", vec(1))
    assert cache.get("m", "a") is None and len(cache) == 0
    with pytest.raises(ValueError, match="max_entries"):
        EmbeddingCache(-1)


def test_normalise_text() -> None:
    assert normalise_text("  Ｒｅｆｕｎｄ\t time \n") == "Refund time"


def test_thread_safety_under_concurrent_use() -> None:
    cache = EmbeddingCache(64)
    errors: list[BaseException] = []
    gets_per_thread, threads = 2000, 8

    def work(seed: int) -> None:
        rng = np.random.default_rng(seed)
        try:
            for _ in range(gets_per_thread):
                key = f"q{int(rng.integers(0, 200))}"
                if cache.get("m", key) is None:
                    cache.put("m", key, vec(float(key[1:])))
                else:
                    got = cache.get("m", key)
                    assert got is None or got[0] == float(key[1:])  # never another key's vector
        except BaseException as exc:
            errors.append(exc)

    pool = [threading.Thread(target=work, args=(n,)) for n in range(threads)]
    for t in pool:
        t.start()
    for t in pool:
        t.join()
    assert errors == []
    stats = cache.stats
    assert stats.size <= 64
    assert stats.hits + stats.misses >= gets_per_thread * threads


class CountingEmbed:
    """The real embedder, counting the texts it is asked to embed."""

    def __init__(self, embedder: Embedder) -> None:
        self.embedder = embedder
        self.calls: list[list[str]] = []

    def __call__(self, texts: list[str]) -> np.ndarray:
        self.calls.append(list(texts))
        return self.embedder.embed_queries(texts)


def test_embed_queries_cached_with_the_real_model(embedder: Embedder) -> None:
    cache = EmbeddingCache(16)
    embed = CountingEmbed(embedder)
    texts = ["How long does a refund take?", "where is my parcel", "How long does a  refund take?"]
    first = embed_queries_cached(cache, embedder.name, texts, embed, embedder.dim)
    assert embed.calls == [["How long does a refund take?", "where is my parcel"]]  # duplicate once
    assert first.shape == (3, embedder.dim) and first.dtype == np.float32
    assert np.allclose(first, embedder.embed_queries([normalise_text(t) for t in texts]), atol=1e-5)
    assert np.array_equal(first[0], first[2])

    second = embed_queries_cached(
        cache, embedder.name, ["where is my parcel", "new question"], embed, embedder.dim
    )
    assert embed.calls[1:] == [["new question"]]  # only the miss reaches the model
    assert np.array_equal(second[0], first[1])
    assert cache.stats.hits == 1

    none = embed_queries_cached(cache, embedder.name, [], embed, embedder.dim)
    assert none.shape == (0, embedder.dim) and len(embed.calls) == 2
