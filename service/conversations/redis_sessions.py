"""The Redis backend of ``SessionStore`` (``service.conversations.store`` describes its keys and
rules) and ``session_store``, which picks the backend: Redis when a client is given, else in-process."""

from __future__ import annotations

import logging
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import datetime

from pydantic import ValidationError
from redis.asyncio import Redis
from redis.exceptions import RedisError

from service.conversations.store import (
    Clock,
    Conversation,
    ConversationSettings,
    ConversationState,
    InProcessSessionStore,
    SessionStore,
    SessionStoreError,
    Turn,
    now_at,
)
from service.conversations.threads import RedisReplyThreads, ReplyThreads
from service.core.identifiers import Pseudonyms
from service.core.redis_keys import slot_key

__all__ = ["RedisSessionStore", "SessionStore", "session_store"]  # SessionStore: what session_store returns

log = logging.getLogger(__name__)

# KEYS: meta, turns. ARGV: summary, upto_turns, updated_at, ttl_ms, max_stored_turns.
# Returns 1 when written, 0 when not (gone, not newer, or beyond the stored turns).
_SET_SUMMARY_LUA = """
if redis.call('EXISTS', KEYS[1]) == 0 then return 0 end
local first = tonumber(redis.call('HGET', KEYS[1], 'first_turn') or '0')
local current = tonumber(redis.call('HGET', KEYS[1], 'summarized_turns') or '0')
local stored = redis.call('LLEN', KEYS[2])
local upto = tonumber(ARGV[2])
if upto <= current or upto > first + stored then return 0 end
redis.call('HSET', KEYS[1], 'summary', ARGV[1], 'summarized_turns', upto, 'updated_at', ARGV[3])
local drop = math.min(stored - tonumber(ARGV[5]), upto - first)
if drop > 0 then
  redis.call('LTRIM', KEYS[2], drop, -1)
  redis.call('HSET', KEYS[1], 'first_turn', first + drop)
end
redis.call('PEXPIRE', KEYS[1], ARGV[4])
redis.call('PEXPIRE', KEYS[2], ARGV[4])
return 1
"""


# KEYS: meta, turns. ARGV: state, now, ttl_ms, handoff_id ('' = none). 1 when written, 0 when the
# conversation is gone.
_SET_STATE_LUA = """
if redis.call('EXISTS', KEYS[1]) == 0 then return 0 end
local since = tonumber(redis.call('HGET', KEYS[1], 'first_turn') or '0') + redis.call('LLEN', KEYS[2])
redis.call('HSET', KEYS[1], 'state', ARGV[1], 'state_since', since, 'state_at', ARGV[2],
  'updated_at', ARGV[2])
if ARGV[4] == '' then
  redis.call('HDEL', KEYS[1], 'handoff_id')
else
  redis.call('HSET', KEYS[1], 'handoff_id', ARGV[4])
end
redis.call('PEXPIRE', KEYS[1], ARGV[3])
redis.call('PEXPIRE', KEYS[2], ARGV[3])
return 1
"""

# KEYS: meta, turns. ARGV: state ('' = any), now, ttl_ms, the last turn's language, then each turn
# (JSON). As ``append``, only to a conversation that exists (and is in ``state``). 1 when written, else 0.
_APPEND_IF_LUA = """
if redis.call('EXISTS', KEYS[1]) == 0 then return 0 end
if ARGV[1] ~= '' and (redis.call('HGET', KEYS[1], 'state') or 'bot') ~= ARGV[1] then return 0 end
redis.call('RPUSH', KEYS[2], unpack(ARGV, 5))
redis.call('HSET', KEYS[1], 'updated_at', ARGV[2], 'language', ARGV[4])
redis.call('PEXPIRE', KEYS[1], ARGV[3])
redis.call('PEXPIRE', KEYS[2], ARGV[3])
return 1
"""

# KEYS: meta, turns. ARGV: handoff_id, notice (JSON), now, ttl_ms, the notice's language. As
# ``waiting`` then ``set_state(bot)`` and ``append(notice)``, in one step. 1 when written, else 0.
_LAPSE_LUA = """
if redis.call('HGET', KEYS[1], 'state') ~= 'agent' then return 0 end
if redis.call('HGET', KEYS[1], 'handoff_id') ~= ARGV[1] then return 0 end
local first = tonumber(redis.call('HGET', KEYS[1], 'first_turn') or '0')
local since = tonumber(redis.call('HGET', KEYS[1], 'state_since') or '0')
if since < first then return 0 end
for _, raw in ipairs(redis.call('LRANGE', KEYS[2], since - first, -1)) do
  if cjson.decode(raw)['role'] == 'agent' then return 0 end
end
local total = first + redis.call('LLEN', KEYS[2])
redis.call('RPUSH', KEYS[2], ARGV[2])
redis.call('HSET', KEYS[1], 'state', 'bot', 'state_since', total, 'state_at', ARGV[3], 'updated_at', ARGV[3],
  'language', ARGV[5])
redis.call('HDEL', KEYS[1], 'handoff_id')
redis.call('PEXPIRE', KEYS[1], ARGV[4])
redis.call('PEXPIRE', KEYS[2], ARGV[4])
return 1
"""


@contextmanager
def _reachable() -> Iterator[None]:
    """A Redis or network error inside becomes ``SessionStoreError`` (store unavailable)."""
    try:
        yield
    except (RedisError, OSError) as exc:
        raise SessionStoreError(f"conversation store unavailable: {type(exc).__name__}: {exc}") from exc


class RedisSessionStore:
    def __init__(
        self,
        redis: Redis,
        settings: ConversationSettings,
        *,
        prefix: str = "faqstream:",
        clock: Clock = time.time,
        owns_client: bool = False,
        pseudonyms: Pseudonyms | None = None,
    ) -> None:
        self.redis = redis
        self.settings = settings
        self.prefix = prefix
        self.clock = clock
        self.pseudonyms = pseudonyms or Pseudonyms()
        self._owns_client = owns_client
        self._set_summary = redis.register_script(_SET_SUMMARY_LUA)
        self._set_state = redis.register_script(_SET_STATE_LUA)
        self._lapse = redis.register_script(_LAPSE_LUA)
        self._append_if = redis.register_script(_APPEND_IF_LUA)
        self.replies: ReplyThreads = RedisReplyThreads(redis, settings.ttl_s, prefix=prefix)

    def keys(self, conversation_id: str) -> tuple[str, str]:
        """(meta, turns): one hash tag, so both live in one Cluster slot (MULTI and Lua need that);
        the tag is the id's pseudonym, never the id."""
        tag, hashed = f"{self.prefix}conv:", self.pseudonyms.conversation(conversation_id)
        return slot_key(tag, hashed, "meta"), slot_key(tag, hashed, "turns")

    @property
    def _ttl_ms(self) -> int:
        return self.settings.ttl_s * 1000

    async def load(self, conversation_id: str) -> Conversation | None:
        meta_key, turns_key = self.keys(conversation_id)
        with _reachable():
            async with self.redis.pipeline(transaction=True) as pipe:
                pipe.hgetall(meta_key)
                pipe.lrange(turns_key, 0, -1)
                raw_meta, raw_turns = await pipe.execute()
        if not raw_meta:
            return None
        meta = {k.decode(): v.decode() for k, v in raw_meta.items()}
        try:
            return Conversation(
                id=conversation_id,
                turns=[Turn.model_validate_json(raw) for raw in raw_turns],
                summary=meta.get("summary", ""),
                summarized_turns=int(meta.get("summarized_turns", 0)),
                first_turn=int(meta.get("first_turn", 0)),
                language=meta.get("language", "und"),
                state=meta.get("state", "bot"),
                state_since=int(meta.get("state_since", 0)),
                state_at=datetime.fromisoformat(meta["state_at"]) if "state_at" in meta else None,
                handoff_id=meta.get("handoff_id"),
                created_at=datetime.fromisoformat(meta["created_at"]),
                updated_at=datetime.fromisoformat(meta["updated_at"]),
            )
        except (ValidationError, ValueError, KeyError) as exc:
            raise SessionStoreError(f"conversation {conversation_id!r} is unreadable: {exc}") from exc

    async def append(self, conversation_id: str, turns: Sequence[Turn]) -> None:
        if not turns:
            return
        meta_key, turns_key = self.keys(conversation_id)
        now = now_at(self.clock).isoformat()
        with _reachable():
            async with self.redis.pipeline(transaction=True) as pipe:
                pipe.rpush(turns_key, *[t.model_dump_json() for t in turns])
                pipe.hsetnx(meta_key, "created_at", now)
                pipe.hset(meta_key, mapping={"updated_at": now, "language": turns[-1].language})
                pipe.pexpire(meta_key, self._ttl_ms)
                pipe.pexpire(turns_key, self._ttl_ms)
                await pipe.execute()

    async def append_if(
        self, conversation_id: str, turns: Sequence[Turn], *, state: ConversationState | None = None
    ) -> bool:
        if not turns:
            return False
        meta_key, turns_key = self.keys(conversation_id)
        now = now_at(self.clock).isoformat()
        args: list[str | int] = [state or "", now, self._ttl_ms, turns[-1].language]
        args += [t.model_dump_json() for t in turns]
        with _reachable():
            written = await self._append_if(keys=[meta_key, turns_key], args=args)
        return bool(written)

    async def set_summary(self, conversation_id: str, summary: str, upto_turns: int) -> bool:
        meta_key, turns_key = self.keys(conversation_id)
        args: list[str | int] = [
            summary,
            upto_turns,
            now_at(self.clock).isoformat(),
            self._ttl_ms,
            self.settings.max_stored_turns,
        ]
        with _reachable():
            written = await self._set_summary(keys=[meta_key, turns_key], args=args)
        return bool(written)

    async def set_state(
        self, conversation_id: str, state: ConversationState, *, handoff_id: str | None = None
    ) -> bool:
        meta_key, turns_key = self.keys(conversation_id)
        args: list[str | int] = [state, now_at(self.clock).isoformat(), self._ttl_ms, handoff_id or ""]
        with _reachable():
            written = await self._set_state(keys=[meta_key, turns_key], args=args)
        return bool(written)

    async def lapse(self, conversation_id: str, handoff_id: str, notice: Turn) -> bool:
        meta_key, turns_key = self.keys(conversation_id)
        now = now_at(self.clock).isoformat()
        args: list[str | int] = [handoff_id, notice.model_dump_json(), now, self._ttl_ms, notice.language]
        with _reachable():
            written = await self._lapse(keys=[meta_key, turns_key], args=args)
        return bool(written)

    async def delete(self, conversation_id: str) -> None:
        with _reachable():
            await self.redis.delete(*self.keys(conversation_id))

    async def close(self) -> None:
        if self._owns_client:
            await self.redis.aclose()


def session_store(
    settings: ConversationSettings,
    redis: Redis | None,
    *,
    prefix: str = "faqstream:",
    pseudonyms: Pseudonyms | None = None,
) -> SessionStore:
    """Redis-backed when a client is given (shared, not closed by the store), in-process otherwise."""
    if redis is None:
        return InProcessSessionStore(settings)
    return RedisSessionStore(redis, settings, prefix=prefix, pseudonyms=pseudonyms)
