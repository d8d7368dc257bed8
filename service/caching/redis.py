"""The Redis answer cache: shared by every replica, no Redis modules needed.

Per namespace (one Redis Cluster hash slot via the ``{ns}`` hash tag): ``e:<id>`` the entry (JSON,
expires with the TTL), ``v`` a hash id → float32 vector bytes, ``q`` a zset id → store sequence
number, ``t`` a zset id → store time, ``n`` the sequence counter. One Lua script stores an entry and
trims the namespace to the newest ``CACHE_MAX_ENTRIES`` live entries (deleting the trimmed entries).
Similarity is computed client-side: each process keeps a mirror of the namespace's vectors and a
lookup fetches only the vectors stored since its last look (same script call as the exact ``GET``),
so a lookup moves a few hundred bytes, not the whole namespace.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
from cachetools import LRUCache
from redis.asyncio import Redis

from knowledge.errors import ConfigError
from service.caching.cache import AnswerCache, Clock, Probe
from service.caching.entries import Record
from service.caching.keys import CacheKey
from service.caching.semantic import Matrix, Vector, rank, stack
from service.caching.settings import CacheSettings
from service.core.redis_keys import delete_prefixed, slot_key

log = logging.getLogger(__name__)

# KEYS: entry, vectors hash, seq zset, time zset, counter.
# ARGV: id, record json, vector bytes ('' = none), ttl ms, max entries, now ms, entry key prefix.
_STORE_LUA = """
local id, ttl, cap, now = ARGV[1], tonumber(ARGV[4]), tonumber(ARGV[5]), tonumber(ARGV[6])
redis.call('SET', KEYS[1], ARGV[2], 'PX', ttl)
local seq = redis.call('INCR', KEYS[5])
redis.call('ZADD', KEYS[3], seq, id)
redis.call('ZADD', KEYS[4], now, id)
if ARGV[3] ~= '' then redis.call('HSET', KEYS[2], id, ARGV[3]) else redis.call('HDEL', KEYS[2], id) end
local drop = redis.call('ZRANGEBYSCORE', KEYS[4], '-inf', '(' .. (now - ttl))
local extra = redis.call('ZCARD', KEYS[3]) - cap
if extra > 0 then
  for _, x in ipairs(redis.call('ZRANGE', KEYS[3], 0, extra - 1)) do table.insert(drop, x) end
end
for _, x in ipairs(drop) do
  redis.call('ZREM', KEYS[3], x)
  redis.call('ZREM', KEYS[4], x)
  redis.call('HDEL', KEYS[2], x)
  redis.call('DEL', ARGV[7] .. x)
end
for i = 2, 5 do redis.call('PEXPIRE', KEYS[i], ttl) end
return seq
"""

# KEYS: entry, vectors hash, seq zset, counter.  ARGV: last seen seq, sync (0/1).
# Returns {entry or false, current seq, {id, seq, id, seq...}, {vector...}}.
_PROBE_LUA = """
local entry = redis.call('GET', KEYS[1])
local current = tonumber(redis.call('GET', KEYS[4]) or '0')
local since = tonumber(ARGV[1])
if current < since then since = 0 end
local members, vectors = {}, {}
if ARGV[2] == '1' and current > since then
  members = redis.call('ZRANGEBYSCORE', KEYS[3], '(' .. since, '+inf', 'WITHSCORES')
  local ids = {}
  for i = 1, #members, 2 do
    table.insert(ids, members[i])
    if #ids == 500 or i + 1 == #members then
      for _, v in ipairs(redis.call('HMGET', KEYS[2], unpack(ids))) do table.insert(vectors, v) end
      ids = {}
    end
  end
end
return {entry or false, current, members, vectors}
"""


@dataclass
class _Mirror:
    """This process's copy of a namespace's vectors, kept current by sequence number."""

    seq: int = 0
    rows: dict[str, tuple[int, Vector]] = field(default_factory=dict)
    _matrix: Matrix | None = None

    def apply(self, members: list[tuple[str, int, Vector | None]], cap: int) -> None:
        changed = False
        for entry_id, seq, vector in members:
            known = self.rows.get(entry_id)
            if known is not None and known[0] >= seq:
                continue
            changed = True
            if vector is None:
                self.rows.pop(entry_id, None)
            else:
                self.rows[entry_id] = (seq, vector)
        if len(self.rows) > cap:  # the store script keeps the newest `cap` by sequence: do the same
            keep = sorted(self.rows.items(), key=lambda kv: kv[1][0])[-cap:]
            self.rows = dict(keep)
        if changed:
            self._matrix = None

    def matrix(self) -> Matrix:
        if self._matrix is None:
            self._matrix = stack((i, v) for i, (_, v) in self.rows.items())
        return self._matrix

    def drop(self, entry_id: str) -> None:
        if self.rows.pop(entry_id, None) is not None:
            self._matrix = None


class RedisAnswerCache(AnswerCache):
    """Shared by every replica; see the module docstring for the key layout."""

    def __init__(
        self,
        redis: Redis,
        settings: CacheSettings,
        *,
        key_prefix: str = "faqstream:answers:",
        clock: Clock = time.time,
        answerer: str = "",
    ) -> None:
        super().__init__(settings, clock, answerer)
        if redis.connection_pool.connection_kwargs.get("decode_responses"):
            raise ConfigError(
                "the answer cache stores vectors as bytes: its Redis client needs decode_responses=False"
            )
        self.redis = redis
        self.prefix = key_prefix
        self._store_script = redis.register_script(_STORE_LUA)
        self._probe_script = redis.register_script(_PROBE_LUA)
        self._mirrors: LRUCache[str, _Mirror] = LRUCache(maxsize=settings.max_namespaces)

    def _key(self, namespace: str, part: str) -> str:
        return slot_key(self.prefix, namespace, part)

    def _entry_prefix(self, namespace: str) -> str:
        return self._key(namespace, "e:")

    def _mirror(self, namespace: str) -> _Mirror:
        mirror = self._mirrors.get(namespace)
        if mirror is None:
            mirror = self._mirrors[namespace] = _Mirror()
        return mirror

    async def _probe(self, key: CacheKey, query: Vector | None) -> Probe:
        ns = key.namespace
        mirror = self._mirror(ns)
        since = mirror.seq  # concurrent probes may advance mirror.seq before this reply is read
        keys = [self._entry_prefix(ns) + key.id, self._key(ns, "v"), self._key(ns, "q"), self._key(ns, "n")]
        raw, current, members, vectors = await self._probe_script(
            keys=keys, args=[since, 1 if query is not None else 0]
        )
        record = _decode(raw)
        if query is None:
            return record, []
        current = int(current)
        if current < since:  # the namespace expired and started again (the script sent all of it)
            mirror = self._mirrors[ns] = _Mirror()
        pairs = [
            (members[i].decode(), int(float(members[i + 1])), vectors[i // 2])
            for i in range(0, len(members), 2)
        ]
        mirror.apply(
            [(i, s, np.frombuffer(v, dtype="<f4").astype(np.float32) if v else None) for i, s, v in pairs],
            self.settings.max_entries,
        )
        mirror.seq = max(mirror.seq, current)
        if record is not None and record.alive(self.clock()):
            return record, []
        return record, rank(mirror.matrix(), query, self.settings.semantic_threshold)

    async def _fetch(self, namespace: str, ids: Sequence[str]) -> list[Record | None]:
        raws = await self.redis.mget([self._entry_prefix(namespace) + i for i in ids])
        return [_decode(r) for r in raws]

    def _forget(self, namespace: str, entry_id: str) -> None:
        if (mirror := self._mirrors.get(namespace)) is not None:
            mirror.drop(entry_id)

    async def _store(self, key: CacheKey, record: Record, vector: Vector | None) -> None:
        ns = key.namespace
        ttl_ms = max(1, round(self.settings.ttl_s * 1000))
        await self._store_script(
            keys=[
                self._entry_prefix(ns) + key.id,
                self._key(ns, "v"),
                self._key(ns, "q"),
                self._key(ns, "t"),
                self._key(ns, "n"),
            ],
            args=[
                key.id,
                record.to_json(),
                vector.astype("<f4").tobytes() if vector is not None else b"",
                ttl_ms,
                self.settings.max_entries,
                round(record.stored_at * 1000),
                self._entry_prefix(ns),
            ],
        )

    async def clear(self) -> None:
        await delete_prefixed(self.redis, self.prefix)
        self._mirrors.clear()


def _decode(raw: bytes | str | None) -> Record | None:
    """A stored entry, or None when absent or unreadable (written by an incompatible version)."""
    if not raw:
        return None
    try:
        return Record.from_json(raw)
    except (ValueError, KeyError, TypeError) as exc:
        log.warning("answer cache: unreadable entry ignored: %s", type(exc).__name__)
        return None
