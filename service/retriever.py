"""Query-side retrieval off the event loop, with natural batching.

Embedding a question is CPU work (a few ms); done on the event loop it would stall every stream.
One worker thread runs searches. While it is busy, new questions queue; when it is free, it takes
*all* queued questions as one batch (one model call for all their vectors). An idle service
therefore adds no waiting, and a busy one embeds concurrent questions together instead of one
by one.
"""

from __future__ import annotations

import asyncio
from concurrent.futures import ThreadPoolExecutor

from knowledge.schema import SearchHit
from knowledge.search import KnowledgeBase, Query


class BatchingRetriever:
    def __init__(self, kb: KnowledgeBase, max_batch: int = 32) -> None:
        self.kb = kb
        self.max_batch = max_batch
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="retrieval")
        self._pending: list[tuple[Query, asyncio.Future[list[SearchHit]]]] = []
        self._busy = False
        self.batches = 0  # observability: how many model calls served how many questions
        self.questions = 0

    async def search(self, query: Query) -> list[SearchHit]:
        loop = asyncio.get_running_loop()
        future: asyncio.Future[list[SearchHit]] = loop.create_future()
        self._pending.append((query, future))
        if not self._busy:
            self._start(loop)
        return await future

    def _start(self, loop: asyncio.AbstractEventLoop) -> None:
        batch, self._pending = self._pending[: self.max_batch], self._pending[self.max_batch :]
        batch = [(q, f) for q, f in batch if not f.cancelled()]
        if not batch:
            self._busy = False
            if self._pending:
                self._start(loop)
            return
        self._busy = True
        self.batches += 1
        self.questions += len(batch)
        task = loop.run_in_executor(self._executor, self.kb.run, [q for q, _ in batch])
        task.add_done_callback(lambda t: self._finish(loop, batch, t))

    def _finish(
        self,
        loop: asyncio.AbstractEventLoop,
        batch: list[tuple[Query, asyncio.Future[list[SearchHit]]]],
        task: asyncio.Future[list[list[SearchHit]]],
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
