"""Failed authentication, rate-limited per client address.

Every 401 a guard raises takes a token from the client address's bucket
(``LIMITS_AUTH_FAILURE_RPM``/``_BURST``, the token-bucket limiter of ``service.quotas.rate_limits``:
in Redis when REDIS_URL is set, shared by every replica, else in-process). Once the bucket is
empty the failure is answered 429 ``auth_rate_limited`` with ``Retry-After`` instead of 401.
Successful calls never touch the bucket, so a client with a valid key is never slowed by it; what
the limit bounds is the cost (and log volume) of a key-guessing flood — guessing itself is hopeless
against keys of 16 characters or more.

The address is the connection's peer (uvicorn's ``--forwarded-allow-ips`` decides whether a proxy's
``X-Forwarded-For`` replaces it); it is kept hashed, never as the key name.
"""

from __future__ import annotations

import hashlib
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from litestar.connection import ASGIConnection
from prometheus_client import CollectorRegistry, Counter
from redis.asyncio import Redis

from service.api.auth import UnauthorizedError
from service.api.errors import AuthRateLimitedError
from service.quotas.rate_limits import RateLimiter, build_rate_limiter
from service.quotas.settings import LimitSettings


class AuthFailures:
    def __init__(self, limiter: RateLimiter | None, registry: CollectorRegistry) -> None:
        self.limiter = limiter  # None: the limit is off
        self._failures = Counter(
            "faqstream_auth_failures_total",
            "Failed authentication attempts, by what they were answered",
            ["outcome"],
            registry=registry,
        )

    @classmethod
    def build(
        cls, settings: LimitSettings, redis: Redis | None, *, prefix: str, registry: CollectorRegistry
    ) -> AuthFailures:
        if settings.auth_failure_rpm <= 0:
            return cls(None, registry)
        rpm, burst = settings.auth_failure_rpm, settings.auth_failure_burst
        bucket = settings.model_copy(update={"key_rpm": rpm, "key_burst": burst, "user_rpm": 0})
        # its own registry: the limiter's refusal counter would collide with the request limiter's
        return cls(build_rate_limiter(bucket, redis, prefix=f"{prefix}authfail:"), registry)

    @asynccontextmanager
    async def counted(self, connection: ASGIConnection[Any, Any, Any, Any]) -> AsyncIterator[None]:
        """Wrap a guard's key check: a 401 inside counts against the caller's address."""
        try:
            yield
        except UnauthorizedError:
            if self.limiter is not None:
                decision = await self.limiter.check(address_id(connection))
                if not decision.allowed:
                    self._failures.labels("limited").inc()
                    raise AuthRateLimitedError({"Retry-After": str(decision.retry_after_s or 1)}) from None
            self._failures.labels("unauthorized").inc()
            raise


def address_id(connection: ASGIConnection[Any, Any, Any, Any]) -> str:
    """The caller's address, hashed (a bucket name that does not spell out an IP address)."""
    host = connection.client.host if connection.client is not None else "unknown"
    return hashlib.sha256(f"faqstream-auth:{host}".encode()).hexdigest()[:24]
