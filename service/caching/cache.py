"""The answer cache's one interface: exact and semantic lookups and stores, the same on every backend.

Every call names the ``tenant`` whose entries it reads or writes (part of the key's namespace,
``service.caching.keys``): one tenant's answers are never served to another.

``exact()`` checks the exact match alone, before anything is embedded; ``lookup()`` does both (the
exact match first, then up to ``CANDIDATES`` semantic candidates, most similar first, the first alive
one with the same identifiers served). Caches degrade, never fail: a Redis error makes a lookup a
miss and a store a no-op (logged, counted in ``stats.errors``). A backend implements the storage
steps (``_probe``, ``_fetch``, ``_forget``, ``_store``, ``clear``); the decisions live here.
"""

from __future__ import annotations

import logging
import time
from abc import ABC, abstractmethod
from collections.abc import Callable, Sequence

import numpy.typing as npt
from redis.exceptions import RedisError

from service.caching.entries import CachedAnswer, CacheHit, CacheStats, Record
from service.caching.keys import CacheKey, Filters
from service.caching.semantic import Vector, candidates, unit
from service.caching.settings import CacheSettings
from service.privacy.pii import find_pii

log = logging.getLogger(__name__)

Clock = Callable[[], float]
Probe = tuple[Record | None, list[tuple[str, float]]]  # the exact record, the ranked candidates

_FAILURES = (RedisError, OSError)


class AnswerCache(ABC):
    """Lookup and store of first-turn answers; lookups never raise, they miss."""

    def __init__(self, settings: CacheSettings, clock: Clock = time.time, answerer: str = "") -> None:
        self.settings = settings
        self.clock = clock
        self.answerer = answerer  # who fills this cache: part of every key's namespace
        self.stats = CacheStats()

    @property
    def enabled(self) -> bool:
        return self.settings.answers

    async def lookup(
        self,
        question: str,
        *,
        language: str,
        filters: Filters,
        kb_version: int,
        vector: npt.ArrayLike | None = None,
        tenant: str = "",
    ) -> CacheHit | None:
        """The cached answer for this question, or None. ``vector``: the L2-normalised query vector."""
        if not self.enabled:
            return None
        key = CacheKey.build(question, language, filters, kb_version, tenant, answerer=self.answerer)
        query = unit(vector) if vector is not None and self.settings.semantic_on else None
        try:
            hit = await self._lookup(key, query)
        except _FAILURES as exc:
            self._failed("lookup", exc)
            hit = None
        if hit is None:
            self.stats.misses += 1
        elif hit.match == "exact":
            self.stats.exact_hits += 1
        else:
            self.stats.semantic_hits += 1
        return hit

    async def exact(
        self, question: str, *, language: str, filters: Filters, kb_version: int, tenant: str = ""
    ) -> CacheHit | None:
        """Exact match only, before any embedding: a hit is counted, a miss is not (the caller
        goes on to ``lookup`` with the query vector, which counts it)."""
        if not self.enabled:
            return None
        key = CacheKey.build(question, language, filters, kb_version, tenant, answerer=self.answerer)
        try:
            record, _ = await self._probe(key, None)
        except _FAILURES as exc:
            self._failed("lookup", exc)
            return None
        if record is None or not record.alive(self.clock()):
            return None
        self.stats.exact_hits += 1
        return record.hit()

    async def store(
        self,
        question: str,
        answer: CachedAnswer,
        *,
        language: str,
        filters: Filters,
        kb_version: int,
        vector: npt.ArrayLike | None = None,
        tenant: str = "",
    ) -> bool:
        """Store an answer (the caller checked ``should_store``); False if off, refused or failed.

        As a last guard, a question with personal data is refused even if the caller did not check.
        """
        if not self.enabled or find_pii(question):
            return False
        key = CacheKey.build(question, language, filters, kb_version, tenant, answerer=self.answerer)
        now = self.clock()
        record = Record(question, key.identifiers, answer, now, now + self.settings.ttl_s)
        try:
            await self._store(key, record, unit(vector) if vector is not None else None)
        except _FAILURES as exc:
            self._failed("store", exc)
            return False
        self.stats.stores += 1
        return True

    def _failed(self, action: str, exc: BaseException) -> None:
        self.stats.errors += 1
        log.warning("answer cache %s failed: %s: %s", action, type(exc).__name__, exc)

    async def _lookup(self, key: CacheKey, query: Vector | None) -> CacheHit | None:
        now = self.clock()
        exact, ranked = await self._probe(key, query)
        if exact is not None and exact.alive(now):
            return exact.hit()
        ranked = candidates(ranked, key.id)
        if not ranked:
            return None
        records = await self._fetch(key.namespace, [i for i, _ in ranked])
        for (entry_id, similarity), record in zip(ranked, records, strict=True):
            if record is None or not record.alive(now):
                self._forget(key.namespace, entry_id)
            elif record.identifiers == key.identifiers:
                return record.hit("semantic", similarity)
        return None

    @abstractmethod
    async def _probe(self, key: CacheKey, query: Vector | None) -> Probe:
        """The exact record (if stored) and the semantic candidates above the threshold
        (``semantic.rank``; none when ``query`` is None or the exact record is alive)."""

    @abstractmethod
    async def _fetch(self, namespace: str, ids: Sequence[str]) -> list[Record | None]: ...

    @abstractmethod
    def _forget(self, namespace: str, entry_id: str) -> None:
        """Drop a dead candidate from the local view of the namespace."""

    @abstractmethod
    async def _store(self, key: CacheKey, record: Record, vector: Vector | None) -> None: ...

    @abstractmethod
    async def clear(self) -> None:
        """Remove every entry of this cache."""
