"""Request rate limits: token buckets per API key and per end user, in Redis or in-process.

Each limit is a bucket holding up to ``burst`` tokens that refills at ``rpm / 60`` tokens per
second; a request takes one token from every bucket that applies (the key's, and the user's when
the request names an end user) — from all of them or from none. User buckets are scoped by tenant
(``tenant``, else the key), so two tenants' user ids never share a bucket; the caller passes the
user's pseudonym (``service.core.identifiers``: normalised, so case or spaces do not make a new
user, and hashed, so no raw ``user`` becomes a key name). A key may carry its own rate
(``KeyLimits.rpm``, from ``faqstream keys create --rpm``): its bucket then holds at most one
minute's worth (the configured burst when smaller).

``RedisRateLimiter`` runs the whole decision in one Lua script (one EVALSHA per check), so every
replica shares one limit. The script reads the Redis server clock (``TIME``): all replicas see
one clock, whatever their own skew. Bucket keys expire once the bucket would be full again, which
is the same as absent. ``InProcessRateLimiter`` (the default without ``REDIS_URL``) does the same
arithmetic on an injectable monotonic clock, and forgets a bucket once it is full again too.

The records routes (a conversation's record, feedback, the agent routes, analytics) take their
token from a third bucket per key, ``records`` (``LIMITS_RECORDS_RPM``/``_BURST``, ``check_records``):
the same arithmetic and store, a budget apart, so reading records never spends answers.

Headers follow draft-ietf-httpapi-ratelimit-headers-06: ``RateLimit-Limit`` is the bucket's
capacity, ``RateLimit-Remaining`` its whole tokens left, ``RateLimit-Reset`` the seconds until it is
full again, ``RateLimit-Policy`` the sustained rate per 60-second window with the ``burst``
extension parameter (``600;w=60;burst=100;comment="key"``), one item per applicable bucket; a
refusal adds ``Retry-After`` (seconds until one token is back).
"""

from __future__ import annotations

import abc
import logging
import math
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal, NamedTuple

from cachetools import TLRUCache
from prometheus_client import CollectorRegistry, Counter
from redis.asyncio import Redis
from redis.exceptions import RedisError

from service.core.redis_keys import slot_key
from service.quotas.outage import StoreOutage
from service.quotas.settings import LimitSettings

log = logging.getLogger(__name__)

LimitName = Literal["key", "user", "records"]


@dataclass(frozen=True)
class Bucket:
    name: LimitName
    rpm: float
    capacity: int

    @property
    def rate(self) -> float:
        """Tokens per second."""
        return self.rpm / 60.0

    def policy(self) -> str:
        """This bucket as a RateLimit-Policy item: quota per window, burst, and which limit it is."""
        if self.rpm.is_integer():
            quota, window = int(self.rpm), 60
        else:  # one request per this many seconds
            quota, window = 1, max(round(60 / self.rpm), 1)
        return f'{quota};w={window};burst={self.capacity};comment="{self.name}"'


def bucket(name: LimitName, rpm: float, burst: int) -> Bucket | None:
    """A bucket of ``rpm`` holding ``burst`` (0: rpm rounded up); None when ``rpm`` is 0 (off)."""
    if rpm <= 0:
        return None
    return Bucket(name, rpm, burst if burst > 0 else max(math.ceil(rpm), 1))


def configured_buckets(settings: LimitSettings) -> tuple[Bucket | None, Bucket | None]:
    return (
        bucket("key", settings.key_rpm, settings.key_burst),
        bucket("user", settings.user_rpm, settings.user_burst),
    )


@dataclass(frozen=True)
class BucketState:
    """One bucket after a check: ``tokens`` left (fractional), and what that means in seconds."""

    bucket: Bucket
    tokens: float

    @property
    def remaining(self) -> int:
        return max(math.floor(self.tokens + 1e-9), 0)

    @property
    def reset_s(self) -> int:
        """Seconds until the bucket is full again."""
        return max(math.ceil((self.bucket.capacity - self.tokens) / self.bucket.rate - 1e-9), 0)

    @property
    def retry_after_s(self) -> int:
        """Seconds until one token is available (at least 1 when there is none now)."""
        if self.tokens >= 1:
            return 0
        return max(math.ceil((1 - self.tokens) / self.bucket.rate - 1e-9), 1)


@dataclass(frozen=True)
class LimitDecision:
    allowed: bool
    tripped: LimitName | None  # the limit that refused the request
    limit: int | None  # the reported bucket's capacity; None when no limit applies
    remaining: int | None
    reset_s: int | None
    retry_after_s: int | None  # set when refused
    buckets: tuple[BucketState, ...] = ()


UNLIMITED = LimitDecision(True, None, None, None, None, None)


def decide(allowed: bool, states: tuple[BucketState, ...]) -> LimitDecision:
    """Report the bucket that refused, or else the one closest to running out."""
    if not states:
        return UNLIMITED
    if allowed:
        shown = min(states, key=lambda s: (s.remaining, -s.reset_s))
        return LimitDecision(True, None, shown.bucket.capacity, shown.remaining, shown.reset_s, None, states)
    # (rounding in the Redis reply can show 0.9999… as 1.0: then every bucket is a candidate)
    empty = [s for s in states if s.tokens < 1] or list(states)
    shown = max(empty, key=lambda s: s.retry_after_s)
    return LimitDecision(
        False,
        shown.bucket.name,
        shown.bucket.capacity,
        min(shown.remaining, 0),
        shown.reset_s,
        max(shown.retry_after_s, 1),
        states,
    )


def headers(decision: LimitDecision) -> dict[str, str]:
    """RateLimit-* response headers (draft-06 fields), plus Retry-After on a refusal."""
    if decision.limit is None:
        return {}
    out = {
        "RateLimit-Limit": str(decision.limit),
        "RateLimit-Remaining": str(decision.remaining),
        "RateLimit-Reset": str(decision.reset_s),
        "RateLimit-Policy": ", ".join(state.bucket.policy() for state in decision.buckets),
    }
    if not decision.allowed and decision.retry_after_s is not None:
        out["Retry-After"] = str(decision.retry_after_s)
    return out


class RateLimiter(abc.ABC):
    """``check`` once per request, before any work; ``headers`` for the response."""

    def __init__(self, settings: LimitSettings, registry: CollectorRegistry | None) -> None:
        self.settings = settings
        self.key_bucket, self.user_bucket = configured_buckets(settings)
        self.records_bucket = bucket("records", settings.records_rpm, settings.records_burst)
        registry = registry if registry is not None else CollectorRegistry()
        self._refused = Counter(
            "faqstream_rate_limited_total", "Requests refused by a rate limit", ["limit"], registry=registry
        )

    def applicable(self, user_id: str | None, rpm: float | None = None) -> list[Bucket]:
        key_bucket = self.key_bucket
        if rpm is not None and rpm > 0:  # the key's own rate
            burst = self.settings.key_burst or math.ceil(rpm)
            key_bucket = Bucket("key", rpm, max(min(burst, math.ceil(rpm)), 1))
        buckets = [key_bucket] if key_bucket is not None else []
        if user_id is not None and self.user_bucket is not None:
            buckets.append(self.user_bucket)
        return buckets

    async def check(
        self, key_id: str, user_id: str | None = None, *, tenant: str | None = None, rpm: float | None = None
    ) -> LimitDecision:
        """Take one token from each applicable bucket, or refuse and take none. ``tenant`` scopes
        the user bucket (default: the key); ``rpm`` is the key's own rate (default: LIMITS_KEY_RPM)."""
        buckets = self.applicable(user_id, rpm)
        if not buckets:
            return UNLIMITED
        ids = [
            (tenant or key_id, "key", key_id)
            if b.name == "key"
            else (tenant or key_id, "user", user_id or "")
            for b in buckets
        ]
        decision = await self._check(ids, buckets)
        if not decision.allowed:
            self._refused.labels(decision.tripped or "unknown").inc()
        return decision

    async def check_records(self, key_id: str, *, tenant: str | None = None) -> LimitDecision:
        """Take one token of the key's records budget (``LIMITS_RECORDS_*``): reads of records and
        feedback have a bucket of their own, so they never spend what the key may answer."""
        if self.records_bucket is None:
            return UNLIMITED
        decision = await self._check([(tenant or key_id, "records", key_id)], [self.records_bucket])
        if not decision.allowed:
            self._refused.labels("records").inc()
        return decision

    @abc.abstractmethod
    async def _check(self, ids: list[tuple[str, str, str]], buckets: list[Bucket]) -> LimitDecision:
        """``ids``: per bucket (tenant, kind, id); one tenant's buckets share a Cluster slot."""

    def headers(self, decision: LimitDecision) -> dict[str, str]:
        return headers(decision)


class _Level(NamedTuple):
    tokens: float
    at: float
    full_at: float  # when the bucket is full again: from then on it is forgotten (same as absent)


class InProcessRateLimiter(RateLimiter):
    """Buckets in a ``cachetools.TLRUCache``: one process's view. The default when no Redis is
    configured. A bucket is forgotten once it has refilled (a full bucket and no bucket are the same)."""

    def __init__(
        self,
        settings: LimitSettings,
        *,
        clock: Callable[[], float] = time.monotonic,
        registry: CollectorRegistry | None = None,
    ) -> None:
        super().__init__(settings, registry)
        self._clock = clock
        self._levels: TLRUCache[tuple[str, ...], _Level] = TLRUCache(
            maxsize=math.inf, ttu=lambda _id, level, _now: level.full_at, timer=clock
        )

    async def _check(self, ids: list[tuple[str, str, str]], buckets: list[Bucket]) -> LimitDecision:
        now = self._clock()
        tokens = [self._refilled(b, i, now) for b, i in zip(buckets, ids, strict=True)]
        allowed = all(t >= 1 for t in tokens)
        if allowed:
            tokens = [t - 1 for t in tokens]
            for b, i, t in zip(buckets, ids, tokens, strict=True):
                self._levels[i] = _Level(t, now, now + (b.capacity - t) / b.rate)
        return decide(allowed, tuple(BucketState(b, t) for b, t in zip(buckets, tokens, strict=True)))

    def _refilled(self, bucket: Bucket, ident: tuple[str, ...], now: float) -> float:
        level = self._levels.get(ident)
        if level is None:
            return float(bucket.capacity)
        return min(float(bucket.capacity), level.tokens + max(now - level.at, 0.0) * bucket.rate)

    @property
    def tracked(self) -> int:
        """Buckets not yet full again."""
        return len(self._levels)


# KEYS: one hash per bucket. ARGV: now in seconds ('' = the Redis server clock), then capacity and
# tokens per second for each bucket, in KEYS order.
# Returns {allowed, tokens after bucket 1, tokens after bucket 2, ...} (tokens as strings: Lua
# numbers come back from Redis truncated to integers).
_TOKEN_BUCKETS_LUA = """
local now = tonumber(ARGV[1])
if now == nil then
  local t = redis.call('TIME')
  now = tonumber(t[1]) + tonumber(t[2]) / 1000000
end
local tokens = {}
local allowed = 1
for i = 1, #KEYS do
  local capacity = tonumber(ARGV[2 * i])
  local rate = tonumber(ARGV[2 * i + 1])
  local state = redis.call('HMGET', KEYS[i], 'tokens', 'at')
  local have = tonumber(state[1])
  local at = tonumber(state[2])
  if have == nil or at == nil then
    have = capacity
  else
    have = math.min(capacity, have + math.max(now - at, 0) * rate)
  end
  tokens[i] = have
  if have < 1 then allowed = 0 end
end
local out = {allowed}
for i = 1, #KEYS do
  if allowed == 1 then
    local capacity = tonumber(ARGV[2 * i])
    local rate = tonumber(ARGV[2 * i + 1])
    tokens[i] = tokens[i] - 1
    redis.call('HSET', KEYS[i], 'tokens', string.format('%.12f', tokens[i]), 'at', string.format('%.6f', now))
    local ttl = math.ceil((capacity - tokens[i]) / rate) + 1
    redis.call('EXPIRE', KEYS[i], math.min(ttl, 2147483647))
  end
  out[i + 1] = string.format('%.12f', tokens[i])
end
return out
"""


class RedisRateLimiter(RateLimiter):
    """Buckets in Redis, shared by every replica; one EVALSHA per check.

    Time is the Redis server's clock (one clock for all replicas) unless ``clock`` is given (tests
    that compare the backends step by step on one logical clock).
    """

    def __init__(
        self,
        redis: Redis,
        settings: LimitSettings,
        *,
        prefix: str = "faqstream:",
        registry: CollectorRegistry | None = None,
        clock: Callable[[], float] | None = None,
    ) -> None:
        super().__init__(settings, registry)
        self.redis = redis
        self.prefix = prefix
        self._clock = clock
        self._script = redis.register_script(_TOKEN_BUCKETS_LUA)
        self._outage = StoreOutage("rate limit", fail_open=settings.fail_open)

    def key(self, ident: tuple[str, str, str]) -> str:
        """``<prefix>rl:{<tenant>}:<kind>:<id>``: the tenant hash tag keeps one check's buckets in one
        slot (Redis Cluster runs the script)."""
        tenant, kind, id_ = ident
        return slot_key(f"{self.prefix}rl:", tenant, kind, id_)

    async def _check(self, ids: list[tuple[str, str, str]], buckets: list[Bucket]) -> LimitDecision:
        keys = [self.key(i) for i in ids]
        args: list[str] = [repr(self._clock()) if self._clock is not None else ""]
        for b in buckets:
            args += [str(b.capacity), repr(b.rate)]
        try:
            reply = await self._script(keys=keys, args=args)
        except (RedisError, OSError) as exc:
            self._outage.unreachable(exc, "check")
            return UNLIMITED
        allowed = int(reply[0]) == 1
        states = tuple(BucketState(b, float(t)) for b, t in zip(buckets, reply[1:], strict=True))
        return decide(allowed, states)


def build_rate_limiter(
    settings: LimitSettings,
    redis: Redis | None,
    *,
    prefix: str = "faqstream:",
    registry: CollectorRegistry | None = None,
) -> RateLimiter:
    """Redis-backed when a client is given (``REDIS_URL`` set), in-process otherwise."""
    if redis is None:
        return InProcessRateLimiter(settings, registry=registry)
    return RedisRateLimiter(redis, settings, prefix=prefix, registry=registry)
