"""The answer cache for first-turn questions: exact and semantic, per language, filters and KB version.

A cached answer is served again (mode ``cached``, no upstream tokens) when a new first-turn question
normalises to the same text (``keys``), or has a query vector at least ``CACHE_SEMANTIC_THRESHOLD``
similar to a cached question's and exactly the same identifiers (``semantic``), in the same namespace.
What may be stored at all is decided by ``should_store`` (``eligibility``). One interface
(``AnswerCache``, ``cache``) with two implementations, chosen by whether Redis is configured:
``MemoryAnswerCache`` (``memory``, one process) and ``RedisAnswerCache`` (``redis``, shared by every
replica); ``build_answer_cache`` picks one. Settings and the per-model thresholds are in ``settings``.
"""

from __future__ import annotations

import time

from redis.asyncio import Redis

from service.caching.cache import AnswerCache, Clock
from service.caching.eligibility import should_store
from service.caching.entries import CachedAnswer, CacheHit, CacheStats, MatchKind
from service.caching.keys import CacheKey, Filters, canonical_filters, identifiers, normalise_question
from service.caching.memory import MemoryAnswerCache
from service.caching.redis import RedisAnswerCache
from service.caching.settings import SEMANTIC_THRESHOLDS, CacheSettings

__all__ = [
    "SEMANTIC_THRESHOLDS",
    "AnswerCache",
    "CacheHit",
    "CacheKey",
    "CacheSettings",
    "CacheStats",
    "CachedAnswer",
    "Filters",
    "MatchKind",
    "MemoryAnswerCache",
    "RedisAnswerCache",
    "build_answer_cache",
    "canonical_filters",
    "identifiers",
    "normalise_question",
    "should_store",
]


def build_answer_cache(
    settings: CacheSettings,
    redis: Redis | None = None,
    *,
    key_prefix: str = "faqstream:answers:",
    clock: Clock = time.time,
    answerer: str = "",
) -> AnswerCache:
    """Redis-backed when a client is given (``REDIS_URL`` set), in-process otherwise. ``answerer``
    (``generative:<model>`` or ``extractive``) separates the entries of differently answering
    deployments sharing one Redis, and of one deployment before and after a key was set."""
    if redis is not None:
        return RedisAnswerCache(redis, settings, key_prefix=key_prefix, clock=clock, answerer=answerer)
    return MemoryAnswerCache(settings, clock, answerer)
