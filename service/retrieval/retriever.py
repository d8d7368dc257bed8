"""Query-side retrieval off the event loop, with natural batching and a query-vector cache.

Embedding a question is CPU work (a few ms); done on the event loop it would stall every stream.
One worker thread runs searches. While it is busy, new questions queue; when it is free, it takes
*all* queued questions as one batch (one model call for all their vectors). At the same time, on a
second thread, the English companion embeds the English ones among them, also in one call
(``KnowledgeBase.english_vectors`` says why one pass per question was given up): the two models
run side by side on two cores instead of one after the other, so an English question waits for the
slower model, not for both (the same CPU; at one stream ~2.5 ms sooner). An idle service therefore
adds no waiting, and a busy one embeds concurrent questions together instead of one by one.
Vectors of questions seen before come from the cache (both models' vectors) and skip the model
entirely.

Each result carries the question's vector, so routing and the semantic answer cache reuse it
instead of embedding again.

**Fair between tenants.** Questions wait in one queue per tenant (the calling client's name); a
batch is filled round-robin over the tenants with questions waiting, at most ``per_tenant``
questions (``SERVICE_RETRIEVAL_PER_TENANT``) and ``per_tenant_chars`` characters of question text
(``SERVICE_RETRIEVAL_TENANT_CHARS``; a tenant's first question always fits) of each, and the
tenant served first moves to the back for the next batch. The work of a batch grows with its text
(tokens), so a tenant that floods the service with long questions adds about one long question's
work to any batch, many short ones still batch together, and another tenant's question waits for
at most the batch in flight and the one it joins, never for the flood's whole queue (a FIFO made
it wait behind all of it).
"""

from __future__ import annotations

import asyncio
from collections import deque
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from knowledge.schema import SearchHit
from knowledge.search import KnowledgeBase, Query
from service.retrieval.vector_cache import EmbeddingCache, Matrix, embed_queries_cached

Vector = npt.NDArray[np.float32]
SENTENCE_CACHE = 4096  # passage sentences' vectors kept (~6 MB at 384 dimensions)


@dataclass(frozen=True)
class Retrieved:
    hits: list[SearchHit]
    vector: Vector | None  # L2-normalised query vector (None only for sparse-only searches)


Pending = tuple[Query, "asyncio.Future[Retrieved]"]


class TenantQueues:
    """Questions waiting, one FIFO per tenant, taken round-robin (see the module docstring)."""

    def __init__(self) -> None:
        self._queues: dict[str, deque[Pending]] = {}  # insertion order = the round-robin order

    def __len__(self) -> int:
        return sum(len(q) for q in self._queues.values())

    def put(self, tenant: str, item: Pending) -> None:
        self._queues.setdefault(tenant, deque()).append(item)

    def take(self, max_batch: int, per_tenant: int, per_tenant_chars: int | None = None) -> list[Pending]:
        """Up to ``max_batch`` live questions, one per tenant in turn, each tenant's at most
        ``per_tenant`` questions and ``per_tenant_chars`` characters (its first always fits)."""
        batch: list[Pending] = []
        taken = dict.fromkeys(self._queues, 0)
        chars = dict.fromkeys(self._queues, 0)
        progress = True
        while progress and len(batch) < max_batch:
            progress = False
            for tenant, queue in self._queues.items():
                while queue and queue[0][1].cancelled():
                    queue.popleft()
                if not queue or taken[tenant] >= per_tenant or len(batch) >= max_batch:
                    continue
                size = len(queue[0][0].text)
                if taken[tenant] and per_tenant_chars is not None and chars[tenant] + size > per_tenant_chars:
                    continue
                batch.append(queue.popleft())
                taken[tenant] += 1
                chars[tenant] += size
                progress = True
        served = [tenant for tenant, n in taken.items() if n]
        for tenant in list(self._queues):
            if not self._queues[tenant]:
                del self._queues[tenant]
        if served and served[0] in self._queues:  # the first served goes to the back
            self._queues[served[0]] = self._queues.pop(served[0])
        return batch

    def drain(self) -> list[Pending]:
        items = [item for queue in self._queues.values() for item in queue]
        self._queues.clear()
        return items


class BatchingRetriever:
    def __init__(
        self,
        kb: KnowledgeBase,
        max_batch: int = 32,
        cache: EmbeddingCache | None = None,
        per_tenant: int | None = None,
        per_tenant_chars: int | None = None,
    ) -> None:
        self.kb = kb
        self.max_batch = max_batch
        self.per_tenant = max_batch if per_tenant is None else max(1, min(per_tenant, max_batch))
        self.per_tenant_chars = per_tenant_chars
        self.cache = cache
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="retrieval")
        # The English companion's own thread: it embeds while the main model does (see above).
        self._companion = (
            ThreadPoolExecutor(max_workers=1, thread_name_prefix="retrieval_en")
            if kb.embedder.english is not None
            else None
        )
        # Sentence vectors of quoted passages (extractive replies: ``embed_passages``).
        self.sentences = EmbeddingCache(SENTENCE_CACHE)
        self._pending = TenantQueues()
        self._busy = False
        self.batches = 0  # observability: how many model calls served how many questions
        self.questions = 0
        self.english_batches = 0  # the same for the English companion
        self.english_questions = 0

    async def search(self, query: Query, tenant: str = "") -> Retrieved:
        """The hits and vector of ``query``, searched in a batch shared fairly between tenants."""
        loop = asyncio.get_running_loop()
        future: asyncio.Future[Retrieved] = loop.create_future()
        self._pending.put(tenant, (query, future))
        if not self._busy:
            self._start(loop)
        return await future

    async def search_many(self, queries: list[Query], tenant: str = "") -> list[Retrieved]:
        """The hits and vectors of ``queries``, queued together so that they share one batch (one
        model call) unless the tenant's share of a batch is smaller."""
        loop = asyncio.get_running_loop()
        futures: list[asyncio.Future[Retrieved]] = []
        for query in queries:
            futures.append(loop.create_future())
            self._pending.put(tenant, (query, futures[-1]))
        if not self._busy:
            self._start(loop)
        return list(await asyncio.gather(*futures))

    async def embed_passages(self, texts: list[str]) -> Matrix:
        """Passage vectors (the model's document prompt) of ``texts``, on the retrieval thread so
        that the event loop never runs the model (one model call for all; sentences seen before
        come from an LRU of ``SENTENCE_CACHE`` entries). Used by extractive replies to choose
        where a quote starts (``service.answers.quote_start``)."""
        embedder = self.kb.embedder
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(
            self._executor,
            embed_queries_cached,
            self.sentences,
            embedder.name,
            texts,
            embedder.embed_documents,
            embedder.dim,
        )

    def _embed(self, texts: list[str]) -> Matrix:
        """Vectors for ``texts`` (in the worker thread): cached ones, the rest in one model call."""
        if self.cache is None:
            return self._model(texts)
        embedder = self.kb.embedder
        return embed_queries_cached(self.cache, embedder.name, texts, self._model, embedder.dim)

    def _model(self, texts: list[str]) -> Matrix:
        self.batches += 1
        self.questions += len(texts)
        return self.kb.embedder.embed_queries(texts)

    def _english(self, texts: list[str]) -> Matrix:
        """The English companion's vectors for ``texts``: cached ones, the rest in one model call."""
        companion = self.kb.embedder.english
        assert companion is not None  # only asked for when there is one
        if self.cache is None:
            return self._english_model(texts)
        return embed_queries_cached(self.cache, companion.name, texts, self._english_model, companion.dim)

    def _english_model(self, texts: list[str]) -> Matrix:
        companion = self.kb.embedder.english
        assert companion is not None
        self.english_batches += 1
        self.english_questions += len(texts)
        return companion.embed_queries(texts)

    def _run(self, queries: list[Query]) -> list[Retrieved]:
        queries = [self.kb.with_language(query) for query in queries]
        collection = self.kb.store.active()
        companion: Future[list[Vector | None]] | None = None
        if collection is not None and self._companion is not None:
            companion = self._companion.submit(self.kb.english_vectors, queries, self._english)
        vectors = self.kb.query_vectors(queries, self._embed)
        if collection is None:
            return [Retrieved([], vector) for vector in vectors]
        english = companion.result() if companion is not None else [None] * len(queries)
        return [
            Retrieved(self.kb.search_prepared(query, vector, collection, en), vector)
            for query, vector, en in zip(queries, vectors, english, strict=True)
        ]

    def _start(self, loop: asyncio.AbstractEventLoop) -> None:
        batch = self._pending.take(self.max_batch, self.per_tenant, self.per_tenant_chars)
        if not batch:
            self._busy = False
            return
        self._busy = True
        try:
            task = loop.run_in_executor(self._executor, self._run, [q for q, _ in batch])
        except RuntimeError as exc:  # closed (shutting down): fail the waiting questions at once
            self._busy = False
            for _, future in batch + self._pending.drain():
                if not future.done():
                    future.set_exception(exc)
            return
        task.add_done_callback(lambda t: self._finish(loop, batch, t))

    def _finish(
        self,
        loop: asyncio.AbstractEventLoop,
        batch: list[Pending],
        task: asyncio.Future[list[Retrieved]],
    ) -> None:
        error = task.exception()
        for n, (_, future) in enumerate(batch):
            if future.done():
                continue
            if error is not None:
                future.set_exception(error)
            else:
                future.set_result(task.result()[n])
        self._busy = False
        if self._pending:
            self._start(loop)

    def close(self) -> None:
        self._executor.shutdown(wait=False, cancel_futures=True)
        if self._companion is not None:
            self._companion.shutdown(wait=False, cancel_futures=True)
