"""Conversation state: the turns of each conversation and its running summary, behind one interface.

Two stores implement ``SessionStore``:

* ``RedisSessionStore`` (``REDIS_URL`` set) — shared by every replica. Per conversation, two keys in
  one Cluster hash slot (the ``{id}`` tag: the pseudonym of ``<tenant>/<conversation_id>``, never an id):

  - ``<prefix>conv:{<id>}:turns`` — a LIST of turns as JSON. ``append`` is one ``MULTI`` with
    ``RPUSH`` of all new turns: concurrent appends from any number of processes never lose or
    interleave turns, they queue in arrival order.
  - ``<prefix>conv:{<id>}:meta`` — a HASH: ``created_at``, ``updated_at``, ``language``,
    ``summary``, ``summarized_turns``, ``first_turn``, ``state``, ``state_since``.

  ``set_summary`` (one Lua script) replaces the summary only if it covers more turns (a slow
  summariser never overwrites a newer one) and drops summarised turns beyond ``max_stored_turns``.
  ``load`` reads both keys in one ``MULTI``. Every write refreshes the TTL of both keys.

* ``InProcessSessionStore`` (no Redis) — the same in a ``cachetools.TTLCache``, for one process:
  expired ones never served, at most ``memory_max_conversations`` kept (least recently used go first).

Conversations are tenant-scoped: the store key is ``<tenant>/<conversation_id>`` (``conversation_key``).
An id the tenant does not hold — another tenant's, expired, never issued — is the same 404
``conversation_not_found`` (``ConversationNotFoundError``): no tenant learns which ids exist elsewhere.
``SessionStore.replies``: which conversation a resent transcript continues (``.threads``).

``Conversation.state``: ``bot`` or ``agent`` (a person has it: ``service.agents``), read by ``load``;
``set_state`` writes it, ``state_since`` (the next turn's position: dissatisfaction counts from there),
``state_at`` (when) and ``handoff_id`` (the reply whose takeover handoff gave it to a person, if one
did). ``lapse`` gives a takeover nobody answered back to the assistant with its notice — one atomic
step, so of several processes that find it overdue exactly one does, and never after an agent wrote.

Turn positions are absolute, even after older turns were dropped (``Conversation.first_turn``: how many).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Literal, Protocol

from cachetools import TTLCache
from pydantic import BaseModel, ConfigDict, Field, ValidationError
from pydantic_settings import BaseSettings
from redis.asyncio import Redis
from redis.exceptions import RedisError

from knowledge.errors import FaqstreamError
from knowledge.settings import _config
from service.conversations.marks import TurnMark
from service.conversations.threads import InProcessReplyThreads, RedisReplyThreads, ReplyThreads
from service.core.identifiers import Pseudonyms
from service.core.redis_keys import slot_key

log = logging.getLogger(__name__)

Clock = Callable[[], float]
ConversationState = Literal["bot", "agent"]
STATES: tuple[ConversationState, ...] = ("bot", "agent")


class ConversationSettings(BaseSettings):
    model_config = _config("CONVERSATION_")

    max_turns: int = Field(default=20, ge=2, le=500, description="most prior turns sent to Claude")
    token_budget: int = Field(
        default=4000, ge=100, le=200_000, description="most estimated tokens of prior turns sent to Claude"
    )
    ttl_s: int = Field(
        default=86_400, ge=60, description="a conversation expires this long after its last write"
    )
    summary_model: str = Field(
        default="claude-haiku-4-5", description="model that folds old turns into the summary"
    )
    summary_max_tokens: int = Field(default=400, ge=50, le=4000)
    summary_max_chars: int = Field(
        default=1500, ge=200, le=20_000, description="cap on the stored summary (either kind)"
    )
    summary_timeout_s: float = Field(default=20.0, gt=0)
    max_stored_turns: int = Field(
        default=200, ge=2, description="turns kept per conversation; older, summarised ones are dropped"
    )
    memory_max_conversations: int = Field(
        default=10_000, ge=1, description="in-process store only: most conversations kept"
    )


def conversation_key(tenant: str, conversation_id: str) -> str:
    """Conversations are kept per tenant: one tenant can never read or extend another's."""
    return f"{tenant}/{conversation_id}"


class ConversationNotFoundError(FaqstreamError):
    """A ``conversation_id`` this tenant does not hold: another's, expired or never issued (HTTP 404)."""

    status = 404
    code = "conversation_not_found"

    def __init__(self) -> None:
        super().__init__(
            "no such conversation (it expired, or was never started with this API key's tenant): "
            "send the question without conversation_id to start a new one"
        )


class SessionStoreError(FaqstreamError):
    """The conversation store failed (Redis unreachable, or a stored record is unreadable)."""

    status = 503
    code = "store_unavailable"
    retryable = True


class Turn(BaseModel):
    """One message of a conversation, stored after the answer completed."""

    model_config = ConfigDict(frozen=True, extra="ignore")

    role: Literal["user", "assistant", "agent"]  # agent: a person's reply (service.agents)
    text: str
    language: str = "und"
    intent: str | None = None
    citations: list[str] = Field(default_factory=list, description="doc ids cited, in [n] order")
    message_id: str | None = Field(default=None, description="the answer's or agent message's id")
    author: str | None = Field(default=None, description="agent turns: who wrote it")
    at: datetime = Field(default_factory=lambda: datetime.now(UTC))
    mark: TurnMark | None = Field(default=None, description="customer turns: dissatisfaction, assessed once")
    notice: bool = Field(
        default=False,
        description="assistant turns: a notice about a handoff that did not go as the customer was told "
        "(service.agents.takeover), not a reply; the customer's next answer carries it (Meta.notices)",
    )


class Conversation(BaseModel):
    id: str
    turns: list[Turn] = Field(default_factory=list, description="stored turns; turns[0] is turn first_turn")
    summary: str = ""
    summarized_turns: int = Field(default=0, ge=0, description="turns [0, summarized_turns) are in summary")
    first_turn: int = Field(default=0, ge=0, description="older (summarised) turns no longer stored")
    language: str = "und"
    state: ConversationState = Field(default="bot", description="who answers: the assistant or a person")
    state_since: int = Field(default=0, ge=0, description="first turn since the last set_state")
    state_at: datetime | None = Field(default=None, description="when the last set_state wrote (None: never)")
    handoff_id: str | None = Field(
        default=None,
        description="state agent after a takeover handoff: the id of the reply that made it (its deadline "
        "runs from state_at, service.agents.lapse); None after an agent's own takeover or any other change",
    )
    created_at: datetime
    updated_at: datetime

    @property
    def total_turns(self) -> int:
        return self.first_turn + len(self.turns)

    def unsummarized(self) -> list[Turn]:
        """The turns the summary does not cover yet, oldest first."""
        return self.turns[max(0, self.summarized_turns - self.first_turn) :]


class SessionStore(Protocol):
    replies: ReplyThreads  # transcript digest → its conversation, on the same backend and TTL

    async def load(self, conversation_id: str) -> Conversation | None:
        """The conversation, or None when it does not exist or has expired."""
        ...

    async def append(self, conversation_id: str, turns: Sequence[Turn]) -> None:
        """Add turns at the end (creating the conversation) and refresh its expiry."""
        ...

    async def set_summary(self, conversation_id: str, summary: str, upto_turns: int) -> bool:
        """Store ``summary`` as covering turns ``[0, upto_turns)``. False (nothing written) when the
        conversation is gone, the stored summary already covers as much, or ``upto_turns`` is
        beyond the stored turns."""
        ...

    async def set_state(
        self, conversation_id: str, state: ConversationState, *, handoff_id: str | None = None
    ) -> bool:
        """Hand the conversation to a person (``agent``) or back to the assistant (``bot``), from
        the next turn on (``state_since``), now (``state_at``); ``handoff_id``: the reply whose
        handoff did it (kept until the next change). False (nothing written) when it does not exist."""
        ...

    async def lapse(self, conversation_id: str, handoff_id: str, notice: Turn) -> bool:
        """In one step: if the conversation is still ``agent`` by the handoff of ``handoff_id`` and no
        ``agent`` turn was added since, set it ``bot`` (as ``set_state``) and append ``notice`` as the
        first turn after the change. False (nothing written) otherwise."""
        ...

    async def delete(self, conversation_id: str) -> None: ...

    async def close(self) -> None: ...


def _now(clock: Clock) -> datetime:
    return datetime.fromtimestamp(clock(), UTC)


def waiting(conv: Conversation, handoff_id: str) -> bool:
    """``conv`` is a person's by the handoff of the reply ``handoff_id``, and no agent has written in
    it since (every turn since the change still kept). ``_LAPSE_LUA`` checks the same in Redis."""
    start = conv.state_since - conv.first_turn
    if conv.state != "agent" or conv.handoff_id != handoff_id or start < 0:
        return False
    return not any(turn.role == "agent" for turn in conv.turns[start:])


# --------------------------------------------------------------------------- in-process


class InProcessSessionStore:
    """One process's conversations in a ``cachetools.TTLCache`` (expiry as above; a read does not
    extend it); no await inside an operation, so each is atomic."""

    def __init__(self, settings: ConversationSettings, *, clock: Clock = time.time) -> None:
        self.settings = settings
        self.clock = clock
        self._entries: TTLCache[str, Conversation] = TTLCache(
            maxsize=settings.memory_max_conversations, ttl=settings.ttl_s, timer=clock
        )
        self.replies: ReplyThreads = InProcessReplyThreads(settings.ttl_s, 4 * self._entries.maxsize, clock)

    async def load(self, conversation_id: str) -> Conversation | None:
        conv = self._entries.get(conversation_id)
        if conv is None:
            return None
        return conv.model_copy(update={"turns": list(conv.turns)})

    async def append(self, conversation_id: str, turns: Sequence[Turn]) -> None:
        if not turns:
            return
        now = _now(self.clock)
        conv = self._entries.get(conversation_id)
        if conv is None:
            conv = Conversation(id=conversation_id, created_at=now, updated_at=now)
        conv.turns.extend(turns)
        conv.updated_at = now
        conv.language = turns[-1].language
        self._entries[conversation_id] = conv  # (re)starts its time to live

    async def set_summary(self, conversation_id: str, summary: str, upto_turns: int) -> bool:
        conv = self._entries.get(conversation_id)
        if conv is None:
            return False
        if upto_turns <= conv.summarized_turns or upto_turns > conv.total_turns:
            return False
        conv.summary = summary
        conv.summarized_turns = upto_turns
        conv.updated_at = _now(self.clock)
        drop = min(len(conv.turns) - self.settings.max_stored_turns, upto_turns - conv.first_turn)
        if drop > 0:
            del conv.turns[:drop]
            conv.first_turn += drop
        self._entries[conversation_id] = conv
        return True

    async def set_state(
        self, conversation_id: str, state: ConversationState, *, handoff_id: str | None = None
    ) -> bool:
        conv = self._entries.get(conversation_id)
        if conv is None:
            return False
        self._changed(conv, state, handoff_id)
        self._entries[conversation_id] = conv
        return True

    async def lapse(self, conversation_id: str, handoff_id: str, notice: Turn) -> bool:
        conv = self._entries.get(conversation_id)
        if conv is None or not waiting(conv, handoff_id):
            return False
        self._changed(conv, "bot", None)
        conv.turns.append(notice)
        conv.language = notice.language
        self._entries[conversation_id] = conv
        return True

    def _changed(self, conv: Conversation, state: ConversationState, handoff_id: str | None) -> None:
        now = _now(self.clock)
        conv.state, conv.state_since, conv.state_at = state, conv.total_turns, now
        conv.handoff_id = handoff_id
        conv.updated_at = now

    async def delete(self, conversation_id: str) -> None:
        self._entries.pop(conversation_id, None)

    async def close(self) -> None:
        self._entries.clear()


# --------------------------------------------------------------------------- Redis

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
        now = _now(self.clock).isoformat()
        with _reachable():
            async with self.redis.pipeline(transaction=True) as pipe:
                pipe.rpush(turns_key, *[t.model_dump_json() for t in turns])
                pipe.hsetnx(meta_key, "created_at", now)
                pipe.hset(meta_key, mapping={"updated_at": now, "language": turns[-1].language})
                pipe.pexpire(meta_key, self._ttl_ms)
                pipe.pexpire(turns_key, self._ttl_ms)
                await pipe.execute()

    async def set_summary(self, conversation_id: str, summary: str, upto_turns: int) -> bool:
        meta_key, turns_key = self.keys(conversation_id)
        args: list[str | int] = [
            summary,
            upto_turns,
            _now(self.clock).isoformat(),
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
        args: list[str | int] = [state, _now(self.clock).isoformat(), self._ttl_ms, handoff_id or ""]
        with _reachable():
            written = await self._set_state(keys=[meta_key, turns_key], args=args)
        return bool(written)

    async def lapse(self, conversation_id: str, handoff_id: str, notice: Turn) -> bool:
        meta_key, turns_key = self.keys(conversation_id)
        now = _now(self.clock).isoformat()
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
