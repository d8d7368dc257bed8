"""What the answer flow needs per knowledge-base version: the digest of the cached prompt prefix
and the relevance floor, rebuilt in a thread when the version changes (``DigestCache``)."""

from __future__ import annotations

import asyncio
import logging

from knowledge.search import KnowledgeBase
from service.answers.prompts import build_digest, build_outline
from service.retrieval.relevance import NO_FLOOR, RelevanceFloor, relevance_floor

log = logging.getLogger(__name__)


class DigestCache:
    """What the answer flow needs per knowledge-base version, rebuilt when the version changes: the
    digest for the cached prompt prefix and the relevance floor (``service.retrieval.relevance``).

    ``get`` and ``floor`` never touch the store: a background task (``watch``) checks the version
    every ``ttl_s`` in a thread and rebuilds there, so a large knowledge base never stalls the
    event loop. ``refresh`` is also called right after an in-service ingest, so the next request
    sees the new version.
    """

    def __init__(
        self, kb: KnowledgeBase, max_chars: int, ttl_s: float = 1.0, floor_override: float | None = None
    ) -> None:
        self.kb = kb
        self.max_chars = max_chars
        self.ttl_s = ttl_s
        self.floor_override = floor_override
        self._value: tuple[int, str] = (-1, "")
        self._floor: RelevanceFloor = NO_FLOOR

    def get(self) -> tuple[int, str]:
        return self._value

    def floor(self) -> RelevanceFloor:
        return self._floor

    def refresh(self) -> tuple[int, str]:
        meta = self.kb.meta()
        version = meta.version
        if version != self._value[0]:
            collection = self.kb.store.active()
            rows = (
                collection.payloads(["doc_id", "title", "kind", "language", "headings", "text"])
                if collection
                else []
            )
            floor = relevance_floor(meta, self.floor_override, self.kb.embedder.name)
            digest = build_digest(build_outline(rows), version, self.max_chars)
            self._floor, self._value = floor, (version, digest)
            if floor.source == "none" and collection is not None:
                log.warning("knowledge-base version %d: %s", version, floor.describe())
            else:
                log.info("knowledge-base version %d: %s", version, floor.describe())
        return self._value

    async def watch(self) -> None:
        while True:
            await asyncio.sleep(self.ttl_s)
            try:
                await asyncio.to_thread(self.refresh)
            except Exception as exc:  # the store may be briefly unavailable; keep the last digest
                log.warning("knowledge-base version check failed: %s", exc)
