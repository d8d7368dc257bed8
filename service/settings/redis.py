"""Redis, shared by every component that keeps state across replicas (conversations, limits, caches).

``REDIS_URL`` unset means no Redis: each component falls back to its in-process store. One client
(one connection pool) is built in the app factory with ``redis_client`` and handed to every
component; each namespaces its keys under ``REDIS_KEY_PREFIX``. The client returns ``bytes``
(``decode_responses=False``) so components can store binary values; text is decoded by whoever reads it.
"""

from __future__ import annotations

from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings
from redis.asyncio import BlockingConnectionPool, Redis
from redis.exceptions import RedisError

from knowledge.errors import FaqstreamError
from knowledge.settings import EmptyIsNone, _config


class RedisUnavailableError(FaqstreamError):
    """Redis failed or could not be reached."""


class RedisSettings(BaseSettings):
    model_config = _config("REDIS_")

    url: EmptyIsNone[SecretStr] = Field(
        default=None,
        description="redis://[:password@]host:port/db (rediss:// for TLS); unset = in-process stores",
    )
    key_prefix: str = Field(default="faqstream:", description="namespace of every key this service writes")
    timeout_s: float = Field(default=2.0, gt=0, description="per-command socket timeout")
    connect_timeout_s: float = Field(default=2.0, gt=0)
    max_connections: int = Field(default=64, ge=1, le=10_000, description="connection pool size per process")


async def redis_client(settings: RedisSettings) -> Redis | None:
    """A connected client, or None when ``REDIS_URL`` is unset. Fails fast when Redis is unreachable."""
    if settings.url is None:
        return None
    # A blocking pool: past max_connections a command waits (up to the socket timeout) for a free
    # connection instead of failing with "Too many connections" under bursts.
    pool = BlockingConnectionPool.from_url(
        settings.url.get_secret_value(),
        socket_timeout=settings.timeout_s,
        socket_connect_timeout=settings.connect_timeout_s,
        max_connections=settings.max_connections,
        timeout=settings.timeout_s,
        health_check_interval=30,
        decode_responses=False,
    )
    client = Redis.from_pool(pool)  # the client owns the pool: aclose() disconnects it
    try:
        await client.ping()
    except (RedisError, OSError) as exc:
        await client.aclose()
        raise RedisUnavailableError(
            f"Redis is unreachable: {type(exc).__name__}: {exc}",
            hint="check REDIS_URL, or unset it to keep conversations, limits and caches in-process",
        ) from exc
    return client
