"""Redis key building shared by every Redis backend (sessions, answer cache, rate limits, budgets).

Keys a ``MULTI`` or a Lua script uses together must live in one Redis Cluster hash slot: they share
a ``{...}`` hash tag (``slot_key``). ``delete_prefixed`` removes every key under a prefix in batches.
"""

from __future__ import annotations

import re

from redis.asyncio import Redis


def slot_key(prefix: str, tag: str, *parts: str) -> str:
    """``<prefix>{<tag>}:<part>:<part>…``: keys built with the same ``tag`` share one Cluster slot."""
    return prefix + "{" + tag + "}" + "".join(":" + part for part in parts)


def glob_escape(text: str) -> str:
    """``text`` as a literal in a ``SCAN MATCH`` pattern."""
    return re.sub(r"([*?\[\]\\])", r"\\\1", text)


async def delete_prefixed(redis: Redis, prefix: str, *, batch: int = 500) -> int:
    """Delete every key that starts with ``prefix``; returns how many were found."""
    found = 0
    names: list[bytes | str] = []
    async for name in redis.scan_iter(match=f"{glob_escape(prefix)}*", count=batch):
        names.append(name)
        if len(names) >= batch:
            found += len(names)
            await redis.delete(*names)
            names = []
    if names:
        found += len(names)
        await redis.delete(*names)
    return found
