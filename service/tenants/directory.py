"""The service's view of the API keys: who a presented ``fqs_`` key belongs to, cached briefly.

A request's key is found by its lookup part (one indexed query, in a worker thread) and checked
against the stored SHA-256 in constant time (``service.tenants.secret``). What the database said
about a lookup — the key, or that there is none — is kept ``AUTH_KEY_CACHE_TTL_S`` seconds
(cachetools ``TTLCache``, bounded), so a busy key costs one query per TTL per process, and so a key
created, rotated or revoked with ``faqstream keys`` takes effect in every running service within
that TTL, without a restart: a revoked or rotated-away key works for at most ``AUTH_KEY_CACHE_TTL_S``
more seconds (0 = no cache: every request asks the database). A cache miss also records the key's
``last_used_at`` (at most one write a minute per key: it is accurate to a minute or the TTL).

The database unreachable: a key still in the cache keeps working; any other ``fqs_`` key is a 503
``store_unavailable`` (retryable), never a 401 that would make a client drop a valid key.
"""

from __future__ import annotations

import asyncio
import logging
import math
import time
from collections.abc import Callable
from datetime import UTC, datetime

from cachetools import TTLCache
from sqlalchemy.exc import SQLAlchemyError

from knowledge.errors import FaqstreamError
from service.core.types import Client
from service.tenants.secret import lookup_of, matches
from service.tenants.store import KeyRecord, KeyStore

log = logging.getLogger(__name__)

_ABSENT = None  # cached: the database has no key with this lookup


class KeyStoreUnavailableError(FaqstreamError):
    """The database holding the API keys could not be asked (HTTP 503, retryable)."""

    status = 503
    code = "store_unavailable"
    retryable = True


class KeyDirectory:
    """``identify(presented)``: the client of a valid ``fqs_`` key, or None for any other key."""

    def __init__(
        self,
        store: KeyStore,
        ttl_s: float,
        *,
        maxsize: int = 10_000,
        timer: Callable[[], float] = time.monotonic,
    ) -> None:
        self.store = store
        self.ttl_s = ttl_s
        self._cache: TTLCache[str, KeyRecord | None] | None = (
            TTLCache(maxsize=maxsize, ttl=ttl_s, timer=timer) if ttl_s > 0 else None
        )
        self._any = False  # once a key exists the service is never open again (keys are never deleted)
        self._any_checked: float = -math.inf
        self._admin: bool | None = None  # last answer of has_admin_keys (None: never asked)
        self._admin_checked: float = -math.inf
        self._timer = timer

    async def identify(self, presented: str) -> Client | None:
        """None: not a valid key (unknown, wrong secret, revoked or rotated away)."""
        lookup = lookup_of(presented)
        if lookup is None:
            return None
        record = await self._record(lookup)
        if record is None or record.revoked(datetime.now(UTC)) or not matches(presented, record.secret_hash):
            return None
        return record.client()

    async def _record(self, lookup: str) -> KeyRecord | None:
        if self._cache is not None and lookup in self._cache:
            return self._cache[lookup]
        try:
            record = await asyncio.to_thread(self.store.find, lookup)
        except (SQLAlchemyError, OSError) as exc:
            log.warning("API keys: database unreachable: %s: %s", type(exc).__name__, exc)
            raise KeyStoreUnavailableError(
                "cannot check the API key now: the key database is unreachable"
            ) from exc
        if self._cache is not None:
            self._cache[lookup] = record if record is not None else _ABSENT
        return record

    async def has_keys(self) -> bool:
        """Whether any key was ever created (asked at most once per TTL until one exists)."""
        if self._any:
            return True
        now = self._timer()
        if now - self._any_checked < self.ttl_s:
            return False
        try:
            self._any = await asyncio.to_thread(self.store.any)
        except (SQLAlchemyError, OSError) as exc:
            if self._any_checked > -math.inf:  # it said "none" before: keep to that until it answers
                log.warning("API keys: database unreachable, still no keys as last seen: %s", exc)
                return False
            raise KeyStoreUnavailableError(
                "cannot check the API keys now: the key database is unreachable"
            ) from exc
        self._any_checked = now
        return self._any

    async def has_admin_keys(self) -> bool:
        """Whether a key with the ``admin`` scope exists and is not revoked — whether ``/admin/*``
        is on when ``SERVICE_ADMIN_KEY`` is unset. Unlike ``has_keys`` it can turn false again (a
        revoked key), so the answer is kept ``AUTH_KEY_CACHE_TTL_S`` seconds either way: a key
        created or revoked takes effect within the TTL, as for the key itself (0: ask every time).
        The database unreachable: the last answer stands; never asked yet, a 503."""
        now = self._timer()
        if self._admin is not None and now - self._admin_checked < self.ttl_s:
            return self._admin
        try:
            self._admin = await asyncio.to_thread(self.store.any_admin)
        except (SQLAlchemyError, OSError) as exc:
            if self._admin is not None:
                log.warning("API keys: database unreachable, admin keys as last seen: %s", exc)
                return self._admin
            raise KeyStoreUnavailableError(
                "cannot check the API keys now: the key database is unreachable"
            ) from exc
        self._admin_checked = now
        return self._admin
