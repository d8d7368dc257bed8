"""The service's retrieval (``BatchingRetriever``): the knowledge base's search off the event loop,
concurrent questions embedded in one batch, repeated ones served from the query-vector cache."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

from knowledge.search import KnowledgeBase, Query
from service.retrieval.retriever import BatchingRetriever, Retrieved, TenantQueues
from service.retrieval.vector_cache import EmbeddingCache
from tests.conftest import make_settings
from tests.corpus import corpus_kb

QUESTIONS = ["How long do I have to return an item?", "How fast is delivery?", "Lost parcel, what now?"]


@pytest.fixture(scope="module")
def kb(tmp_path_factory: pytest.TempPathFactory) -> Iterator[KnowledgeBase]:
    tmp = tmp_path_factory.mktemp("retriever")
    with corpus_kb(make_settings(tmp), tmp) as base:
        yield base


def ids(result: Retrieved) -> list[str]:
    return [h.id for h in result.hits]


def test_results_are_the_knowledge_bases_own_with_the_question_vector(kb: KnowledgeBase) -> None:
    async def main() -> list[Retrieved]:
        retriever = BatchingRetriever(kb)
        try:
            return [await retriever.search(Query(q, limit=3, language="en")) for q in QUESTIONS]
        finally:
            retriever.close()

    results = asyncio.run(main())
    # each question was embedded alone (one batch each), as here: a batch's int8 vectors move a
    # little with their batch mates (knowledge.search.KnowledgeBase.english_vectors)
    expected = [kb.run([Query(q, limit=3, language="en")])[0] for q in QUESTIONS]
    assert [ids(r) for r in results] == [[h.id for h in hits] for hits in expected]
    for question, result in zip(QUESTIONS, results, strict=True):
        assert result.vector is not None
        assert np.allclose(result.vector, kb.embedder.embed_query(question), atol=1e-5)


def test_concurrent_questions_share_a_batch_and_repeats_come_from_the_cache(kb: KnowledgeBase) -> None:
    cache = EmbeddingCache(16)

    async def main() -> tuple[list[Retrieved], Retrieved, BatchingRetriever]:
        retriever = BatchingRetriever(kb, cache=cache)
        try:
            together = await asyncio.gather(*(retriever.search(Query(q, limit=3)) for q in QUESTIONS * 2))
            again = await retriever.search(Query("  How fast is   delivery? ", limit=3))
            return list(together), again, retriever
        finally:
            retriever.close()

    together, again, retriever = asyncio.run(main())
    # the first search runs alone; the five queued behind it are one batch with three distinct texts
    assert retriever.batches == 2 and retriever.questions == 1 + 2
    assert [ids(r) for r in together[:3]] == [ids(r) for r in together[3:]]
    assert ids(again) == ids(together[1])  # normalised whitespace: the cached vector
    assert retriever.batches == 2 and cache.stats.hits >= 1


def test_a_sparse_only_query_needs_no_vector(kb: KnowledgeBase) -> None:
    async def main() -> Retrieved:
        retriever = BatchingRetriever(kb)
        try:
            return await retriever.search(Query("parcel carrier investigation", limit=2, mode="sparse"))
        finally:
            retriever.close()

    result = asyncio.run(main())
    assert result.vector is None and result.hits


def test_the_english_companion_embeds_a_batch_in_one_call_and_its_vectors_are_cached(
    kb: KnowledgeBase,
) -> None:
    assert kb.embedder.english is not None  # the default multilingual model comes with its companion
    cache = EmbeddingCache(32)
    queued = [Query(q, limit=3, language="en") for q in QUESTIONS]
    queued.append(Query("¿Cuánto tarda el envío?", limit=3, language="es"))

    async def main() -> tuple[list[Retrieved], list[Retrieved], BatchingRetriever]:
        retriever = BatchingRetriever(kb, cache=cache)
        try:
            first = Query("Can I change my delivery address?", limit=3, language="en")
            together = await asyncio.gather(*(retriever.search(q) for q in [first, *queued]))
            again = await asyncio.gather(*(retriever.search(q) for q in queued))
            return list(together[1:]), list(again), retriever
        finally:
            retriever.close()

    together, again, retriever = asyncio.run(main())
    # the first runs alone; the three English questions queued behind it share one companion call
    # (the Spanish one does not use the companion); the repeats are all served from the cache
    assert (retriever.english_batches, retriever.english_questions) == (2, 1 + 3)
    assert (retriever.batches, retriever.questions) == (2, 1 + 4)
    assert [ids(r) for r in together] == [ids(r) for r in again]
    expected = kb.run(queued)
    assert [ids(r) for r in together] == [[h.id for h in hits] for hits in expected]


def test_a_flooding_tenant_fills_only_its_share_of_a_batch_and_the_other_is_served_next(
    kb: KnowledgeBase,
) -> None:
    flood = [Query(f"{QUESTIONS[n % 3]} ({n})", limit=2, language="en") for n in range(20)]

    async def main() -> tuple[int, int, BatchingRetriever]:
        retriever = BatchingRetriever(kb, max_batch=4, per_tenant=2)
        try:
            flooding = [asyncio.ensure_future(retriever.search(q, "a")) for q in flood]
            await asyncio.sleep(0)  # the first of the flood is in the worker; the rest wait
            await retriever.search(Query("Lost parcel, what now?", limit=2, language="en"), "b")
            batches_when_b_was_served = retriever.batches
            await asyncio.gather(*flooding)
            return batches_when_b_was_served, retriever.batches, retriever
        finally:
            retriever.close()

    served_at, total, retriever = asyncio.run(main())
    # batch 1: a's first (alone, or with a second one when the worker thread started late); then
    # round-robin a, b, a (a's share is 2): b is served in batch 2, or 3 when a's batch 2 was taken
    # before b arrived. A FIFO would have served b in the sixth batch, behind the whole flood.
    assert served_at <= 3
    assert total in (10, 11)  # a's 20 questions at most 2 per batch (+1 when the first ran alone)
    assert retriever.questions == 21


def test_tenant_queues_take_round_robin_within_each_share_and_rotate_the_first() -> None:
    async def main() -> list[list[str]]:
        loop = asyncio.get_running_loop()
        queues = TenantQueues()
        for tenant, n in [("a", 5), ("b", 2), ("c", 1)]:
            for k in range(n):
                queues.put(tenant, (Query(f"{tenant}{k}"), loop.create_future()))
        cancelled: asyncio.Future[Retrieved] = loop.create_future()
        cancelled.cancel()
        queues.put("c", (Query("c-gone"), cancelled))
        batches = []
        while len(queues):
            batches.append([q.text for q, _ in queues.take(max_batch=4, per_tenant=2)])
        return batches

    assert asyncio.run(main()) == [["a0", "b0", "c0", "a1"], ["b1", "a2", "a3"], ["a4"]]


def test_a_tenants_share_of_a_batch_is_also_bounded_in_characters() -> None:
    async def main() -> list[list[str]]:
        loop = asyncio.get_running_loop()
        queues = TenantQueues()
        for text in ["L" * 1500, "L" * 1500, "s1", "s2", "L" * 10]:
            queues.put("a", (Query(text), loop.create_future()))
        queues.put("b", (Query("b" * 5000), loop.create_future()))
        batches = []
        while len(queues):
            batch = queues.take(max_batch=8, per_tenant=8, per_tenant_chars=2000)
            batches.append([f"{q.text[0]}{len(q.text)}" for q, _ in batch])
        return batches

    # a's second long question waits for the next batch; b's first always fits, whatever its size
    assert asyncio.run(main()) == [["L1500", "b5000"], ["L1500", "s2", "s2", "L10"]]


def test_an_index_of_another_export_recipe_is_reported(tmp_path: Path) -> None:
    """Question vectors of this version against document vectors of an earlier export: the service
    says so at start-up (``stale_vectors``; the next ingest re-embeds such an index, as the
    fingerprint is part of every document's hash)."""
    with corpus_kb(make_settings(tmp_path), tmp_path) as base:
        assert base.stale_vectors() is None
        meta = base.meta()
        base.store.write_meta(replace(meta, fingerprint={**meta.fingerprint, "int8_recipe": 1}))
        stale = base.stale_vectors()
        assert stale is not None and "int8_recipe 1 → 2" in stale and "faqstream ingest" in stale


def test_an_index_of_the_previous_lexical_recipe_is_reported(tmp_path: Path) -> None:
    """Before codes were whole terms (``knowledge.sparse``, v2) an order number was no term: the
    service says the next ingest rebuilds such an index."""
    with corpus_kb(make_settings(tmp_path), tmp_path) as base:
        meta = base.meta()
        old = {**meta.fingerprint, "sparse": "bm25-qdrant-edge-multilingual-v1"}
        base.store.write_meta(replace(meta, fingerprint=old))
        stale = base.stale_vectors()
        assert stale is not None and "sparse 'bm25-qdrant-edge-multilingual-v1' → " in stale
