"""How safe is a semantic answer-cache hit at a given cosine threshold, and how often does one happen?

Data: the Bitext customer-support requests (/work/shared/eval/faq_queries.jsonl, 4,433 English
requests, 27 intents, many paraphrases and typo variants of each other), embedded with the packaged
model exactly as the service embeds queries. Questions that normalise to the same text are exact
hits, not semantic ones, so they are collapsed first.

For each threshold it reports, over the distinct questions:

* ``nearest``: every question against all the others (the cache holds everything else — an upper
  bound on the hit rate): hit rate, and precision = the fraction of hits whose matched question has
  the same intent (a proxy for "the cached answer is right for this question").
* ``stream``: questions arrive in a random order, each looked up among those seen before and then
  stored — how a cache fills in service.
* both with the cache's identifier guard (every token with a digit must match, so "cancel order
  123" never gets the answer for "cancel order 456") and without it; ``blocked_by_guard`` counts
  the hits the guard refused.

Also the embedding-cache economics: one query embedding (ONNX) vs an in-process cache hit vs a
Redis GET of the same vector, and the answer-cache lookup cost with a full namespace.
Writes bench/results/answer_cache_threshold.json.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import time
from collections import Counter
from typing import Any

import numpy as np

from bench.common import EVAL, MODEL_CACHE, Timer, read_jsonl, summary_ms, write_result
from knowledge.embedder import Embedder, load_embedder
from knowledge.settings import EmbeddingSettings
from service.answer_cache import (
    CachedAnswer,
    CacheSettings,
    MemoryAnswerCache,
    RedisAnswerCache,
    identifiers,
    normalise_question,
)
from service.embedding_cache import EmbeddingCache

THRESHOLDS = (0.80, 0.85, 0.88, 0.90, 0.92, 0.93, 0.94, 0.95, 0.96, 0.97, 0.98, 0.99)
EXAMPLES_AT = (0.90, 0.95)
CANDIDATES = 4  # as the cache: the best few candidates above the threshold are checked in order


def load_questions() -> tuple[list[str], list[str], int]:
    """Distinct normalised questions with their intent, and how many raw rows were exact repeats."""
    rows = read_jsonl(EVAL / "faq_queries.jsonl")
    seen: dict[str, str] = {}
    for row in rows:
        seen.setdefault(normalise_question(row["query"]), row["intent"])
    return list(seen), list(seen.values()), len(rows) - len(seen)


def first_hit(
    sims: np.ndarray,
    candidates: np.ndarray,
    threshold: float,
    ids: list[tuple[str, ...]],
    me: int,
    *,
    guard: bool,
) -> tuple[int | None, bool]:
    """What the cache serves question ``me`` from ``candidates`` (most similar first): the first one
    above the threshold whose identifiers match (with the guard), and whether the guard refused one."""
    blocked = False
    for j in candidates[:CANDIDATES]:
        if sims[j] < threshold:
            break
        if guard and ids[j] != ids[me]:
            blocked = True
            continue
        return int(j), blocked
    return None, blocked


def top_candidates(sims: np.ndarray, allowed: np.ndarray) -> np.ndarray:
    """Indices of the most similar allowed questions, best first."""
    masked = np.where(allowed, sims, -np.inf)
    k = min(CANDIDATES, int(allowed.sum()))
    if k == 0:
        return np.zeros(0, dtype=np.int64)
    part = np.argpartition(-masked, k - 1)[:k]
    return part[np.argsort(-masked[part])]


def evaluate(
    vectors: np.ndarray, questions: list[str], intents: list[str], ids: list[tuple[str, ...]], seed: int
) -> dict[str, Any]:
    n = len(intents)
    sims_all = vectors @ vectors.T
    everyone = np.ones(n, dtype=bool)
    arrival = list(range(n))
    random.Random(seed).shuffle(arrival)
    rank = np.empty(n, dtype=np.int64)
    rank[arrival] = np.arange(n)
    nearest, stream = [], []
    for i in range(n):
        others = everyone.copy()
        others[i] = False
        nearest.append(top_candidates(sims_all[i], others))
        stream.append(top_candidates(sims_all[i], rank < rank[i]))

    def pair(i: int, j: int) -> dict[str, Any]:
        return {
            "question": questions[i],
            "intent": intents[i],
            "matched": questions[j],
            "matched_intent": intents[j],
            "similarity": round(float(sims_all[i, j]), 4),
        }

    out: dict[str, Any] = {}
    for threshold in THRESHOLDS:
        row: dict[str, Any] = {}
        for guard in (True, False):
            figures: dict[str, Any] = {}
            for name, tops in (("nearest", nearest), ("stream", stream)):
                hits = correct = blocked = 0
                wrong: list[dict[str, Any]] = []
                for i in range(n):
                    hit, refused = first_hit(sims_all[i], tops[i], threshold, ids, i, guard=guard)
                    blocked += refused
                    if hit is not None:
                        hits += 1
                        correct += intents[hit] == intents[i]
                        if intents[hit] != intents[i] and len(wrong) < 5:
                            wrong.append(pair(i, hit))
                figures[name] = _rates(hits, correct, n) | ({"blocked_by_guard": blocked} if guard else {})
                if guard and threshold in EXAMPLES_AT:
                    figures[name]["wrong_intent_examples"] = wrong
            row["guarded" if guard else "unguarded"] = figures
        if threshold in EXAMPLES_AT:  # what the identifier guard refused
            refused_pairs = [
                pair(i, int(j))
                for i in range(n)
                for j in nearest[i][:1]
                if sims_all[i, j] >= threshold and ids[j] != ids[i]
            ]
            row["guard_refused_examples"] = refused_pairs[:5]
        out[f"{threshold:.2f}"] = row
        g, u = row["guarded"], row["unguarded"]
        print(
            f"  t={threshold:.2f} nearest: hit {g['nearest']['hit_rate']:.3f} "
            f"precision {g['nearest']['precision']} (blocked {g['nearest']['blocked_by_guard']}) | "
            f"stream: hit {g['stream']['hit_rate']:.3f} precision {g['stream']['precision']} | "
            f"unguarded nearest: hit {u['nearest']['hit_rate']:.3f} precision {u['nearest']['precision']}"
        )
    return out


def _rates(hits: int, correct: int, n: int) -> dict[str, Any]:
    return {
        "hits": hits,
        "hit_rate": round(hits / n, 4),
        "precision": round(correct / hits, 4) if hits else None,
        "wrong_intent_hits": hits - correct,
    }


def embedding_costs(embedder: Embedder, questions: list[str]) -> dict[str, Any]:
    sample = questions[:300]
    for q in sample[:20]:
        embedder.embed_query(q)
    embed_s = []
    for q in sample:
        with Timer() as t:
            embedder.embed_query(q)
        embed_s.append(t.seconds)
    cache = EmbeddingCache(4096)
    for q in sample:
        cache.put(embedder.name, q, embedder.embed_query(q))
    hit_s = []
    for q in sample:
        with Timer() as t:
            cache.get(embedder.name, q)
        hit_s.append(t.seconds)
    figures: dict[str, Any] = {"embed_query_onnx": summary_ms(embed_s), "lru_hit": summary_ms(hit_s)}
    try:
        import redis

        client = redis.Redis.from_url(os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/0"))
        key = f"bench:embcache:{os.getpid()}"
        client.set(key, embedder.embed_query(sample[0]).tobytes())
        get_s = []
        for _ in range(300):
            with Timer() as t:
                np.frombuffer(client.get(key) or b"", dtype=np.float32)  # type: ignore[arg-type]
            get_s.append(t.seconds)
        client.delete(key)
        client.close()
        figures["redis_get_vector"] = summary_ms(get_s)
    except Exception as exc:  # the bench still reports the rest without Redis
        figures["redis_get_vector"] = f"unavailable: {exc}"
    return figures


async def lookup_costs(vectors: np.ndarray, questions: list[str], entries: int) -> dict[str, Any]:
    """Answer-cache lookups (misses: exact probe + full semantic scan) against a namespace of ``entries``."""
    settings = CacheSettings(max_entries=entries)
    answer = CachedAnswer(
        "a" * 600, [{"index": 1, "doc_id": "d"}], "en", "generative", "m", {"cost_usd": 0.01}
    )
    stored, probes = list(range(entries)), list(range(entries, entries + 200))
    figures: dict[str, Any] = {"entries": entries}
    caches: list[tuple[str, Any]] = [("memory", MemoryAnswerCache(settings))]
    client = None
    try:
        from redis.asyncio import Redis

        client = Redis.from_url(os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/0"))
        await client.ping()
        caches.append(("redis", RedisAnswerCache(client, settings, key_prefix=f"bench:ac:{os.getpid()}:")))
    except Exception as exc:
        figures["redis"] = f"unavailable: {exc}"
    for name, cache in caches:
        for i in stored:
            await cache.store(
                f"stored {i} {questions[i]}",
                answer,
                language="en",
                filters=None,
                kb_version=1,
                vector=vectors[i],
            )
        first = time.perf_counter()
        await cache.lookup("warm-up", language="en", filters=None, kb_version=1, vector=vectors[probes[0]])
        first_s = time.perf_counter() - first
        samples = []
        for i in probes:
            with Timer() as t:
                await cache.lookup(
                    f"probe {questions[i]}", language="en", filters=None, kb_version=1, vector=vectors[i]
                )
            samples.append(t.seconds)
        figures[name] = summary_ms(samples) | {"first_lookup_ms": round(first_s * 1000, 3)}
        await cache.clear()
    if client is not None:
        await client.aclose()
    return figures


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()
    questions, intents, exact_repeats = load_questions()
    ids = [identifiers(q) for q in questions]
    print(
        f"{len(questions)} distinct questions ({exact_repeats} exact repeats collapsed), "
        f"{len(set(intents))} intents, {sum(1 for i in ids if i)} with identifiers"
    )
    embedder = load_embedder(EmbeddingSettings(cache_dir=MODEL_CACHE))
    with Timer() as t:
        vectors = embedder.embed_queries(questions)
    print(f"embedded in {t.seconds:.1f}s")
    results: dict[str, Any] = {
        "data": "Bitext customer-support requests (faq_queries.jsonl, both splits)",
        "model": embedder.name,
        "questions_distinct": len(questions),
        "exact_repeats_collapsed": exact_repeats,
        "intents": len(set(intents)),
        "questions_with_identifiers": sum(1 for i in ids if i),
        "identifier_examples": Counter(t for i in ids for t in i).most_common(8),
        "candidates_checked": CANDIDATES,
    }
    results["thresholds"] = evaluate(vectors, questions, intents, ids, args.seed)
    results["embedding_cache"] = embedding_costs(embedder, questions)
    print("embedding cache:", results["embedding_cache"])
    results["answer_cache_lookup"] = asyncio.run(lookup_costs(vectors, questions, 1000))
    print("answer cache lookup:", results["answer_cache_lookup"])
    write_result("answer_cache_threshold", results)


if __name__ == "__main__":
    main()
