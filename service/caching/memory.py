"""The in-process answer cache: one process, bounded, nothing shared.

Per namespace a ``cachetools.TTLCache`` of at most ``CACHE_MAX_ENTRIES`` entries (LRU: an exact hit
refreshes an entry; an entry expires ``CACHE_TTL_S`` after it was stored) with their vectors stacked
into one matrix, rebuilt only after a change; at most ``CACHE_MAX_NAMESPACES`` namespaces (LRU).
"""

from __future__ import annotations

import time
from collections.abc import Sequence

from cachetools import LRUCache, TTLCache

from service.caching.cache import AnswerCache, Clock, Probe
from service.caching.entries import Record
from service.caching.keys import CacheKey
from service.caching.semantic import Matrix, Vector, rank, stack
from service.caching.settings import CacheSettings

_Value = tuple[Record, Vector | None]


class _Namespace(TTLCache[str, _Value]):
    """One namespace's entries and vectors; the matrix is rebuilt after any change (also eviction
    and expiry, which cachetools does through ``popitem`` and ``expire``)."""

    def __init__(self, settings: CacheSettings, clock: Clock) -> None:
        super().__init__(maxsize=settings.max_entries, ttl=settings.ttl_s, timer=clock)
        self._matrix: Matrix | None = None

    def __setitem__(self, key: str, value: _Value) -> None:
        super().__setitem__(key, value)
        self._matrix = None

    def __delitem__(self, key: str) -> None:
        self._matrix = None
        super().__delitem__(key)

    def expire(self, time: float | None = None) -> list[tuple[str, _Value]]:
        expired = super().expire(time)
        if expired:
            self._matrix = None
        return expired

    def record(self, entry_id: str) -> Record | None:
        value = self.get(entry_id)
        return value[0] if value is not None else None

    def matrix(self) -> Matrix:
        if self._matrix is None:
            self._matrix = stack((i, v) for i, (_, v) in self.items() if v is not None)
        return self._matrix


class MemoryAnswerCache(AnswerCache):
    """One process; bounded LRU of namespaces, each a bounded LRU of entries."""

    def __init__(self, settings: CacheSettings, clock: Clock = time.time, answerer: str = "") -> None:
        super().__init__(settings, clock, answerer)
        self._spaces: LRUCache[str, _Namespace] = LRUCache(maxsize=settings.max_namespaces)

    async def _probe(self, key: CacheKey, query: Vector | None) -> Probe:
        space = self._spaces.get(key.namespace)
        if space is None:
            return None, []
        record = space.record(key.id)  # an exact hit refreshes the entry (LRU)
        if record is not None:
            return record, []
        return None, rank(space.matrix(), query, self.settings.semantic_threshold)

    async def _fetch(self, namespace: str, ids: Sequence[str]) -> list[Record | None]:
        space = self._spaces.get(namespace)
        return [space.record(i) if space is not None else None for i in ids]

    def _forget(self, namespace: str, entry_id: str) -> None:
        if (space := self._spaces.get(namespace)) is not None:
            space.pop(entry_id, None)

    async def _store(self, key: CacheKey, record: Record, vector: Vector | None) -> None:
        space = self._spaces.get(key.namespace)
        if space is None:
            space = self._spaces[key.namespace] = _Namespace(self.settings, self.clock)
        space[key.id] = (record, vector)

    async def clear(self) -> None:
        self._spaces.clear()

    def __len__(self) -> int:
        return sum(len(s) for s in self._spaces.values())
